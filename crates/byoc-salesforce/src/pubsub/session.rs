//! The subscription task: connect (TLS with the configured roots), `GetTopic`, `Subscribe`
//! with `FetchRequest` flow control, decode, normalize, filter, reconnect.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use byoc_core::{AdapterError, Secret};
use byoc_http::RootCa;
use byoc_pubsub_proto::pub_sub_client::PubSubClient;
use byoc_pubsub_proto::{ConsumerEvent, FetchRequest, ReplayPreset, SchemaRequest, TopicRequest};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use url::Url;

use super::{MAX_RECONNECT_DELAY, ReceivedEvent, ReplayId, ReplayStart, Skipped, SubscriptionItem};
use crate::client::SalesforceClient;
use crate::error::PubSubError;
use crate::normalize::{EventFilter, normalize_record, record_field_string};

pub(super) type Tx = mpsc::Sender<Result<SubscriptionItem, AdapterError>>;

struct State {
    last: Option<ReplayId>,
    start: ReplayStart,
    schemas: HashMap<String, Arc<apache_avro::Schema>>,
    /// The token of the current connection, to forget if the service rejects it.
    token: Option<Secret>,
}

pub(super) async fn run(
    client: Arc<SalesforceClient>,
    filter: EventFilter,
    start: ReplayStart,
    tx: Tx,
) {
    let initial = client.config().reconnect_delay();
    let mut delay = initial;
    let mut state = State {
        last: match &start {
            ReplayStart::After(id) => Some(id.clone()),
            _ => None,
        },
        start,
        schemas: HashMap::new(),
        token: None,
    };
    loop {
        let mut delivered = false;
        let result = session(&client, &filter, &mut state, &tx, &mut delivered).await;
        let error = match result {
            Ok(()) => return, // the receiver is gone
            Err(e) => e,
        };
        if matches!(error, AdapterError::Configuration { .. }) {
            let _ = tx.send(Err(error)).await;
            return;
        }
        if error.is_unauthorized()
            && let Some(token) = state.token.take()
        {
            client.invalidate_token(&token).await;
        }
        if delivered {
            delay = initial;
        }
        tracing::warn!(error = %error, "pub/sub subscription failed; reconnecting");
        if tx
            .send(Ok(SubscriptionItem::Reconnecting {
                error,
                after: delay,
            }))
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RECONNECT_DELAY);
    }
}

fn meta(v: &str, what: &'static str) -> Result<AsciiMetadataValue, AdapterError> {
    AsciiMetadataValue::try_from(v).map_err(|_| PubSubError::Config(what).into())
}

/// The TLS settings of an `https://` endpoint: the web PKI roots and `root_cas`.
fn tls_config(url: &Url, root_cas: &[RootCa]) -> ClientTlsConfig {
    let mut tls = ClientTlsConfig::new()
        .with_webpki_roots()
        .ca_certificates(root_cas.iter().map(|ca| Certificate::from_pem(ca.pem())));
    if let Some(host) = url.host_str() {
        tls = tls.domain_name(host.trim_start_matches('[').trim_end_matches(']'));
    }
    tls
}

/// Why the TLS settings were refused: the first root CA the gRPC stack cannot read, named
/// as byoc-http names one it refuses for REST ([`PubSubError::RootCa`]); otherwise the
/// endpoint's host, the one other input (its name for SNI).
fn tls_refused(root_cas: &[RootCa]) -> PubSubError {
    let probe = Endpoint::from_static("https://localhost");
    root_cas
        .iter()
        .find(|ca| {
            let one = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca.pem()));
            probe.clone().tls_config(one).is_err()
        })
        .map_or(PubSubError::Config("pubsub_url"), |ca| {
            PubSubError::RootCa {
                name: ca.name().to_owned(),
            }
        })
}

/// The transport's description of a connection failure and its first cause (refused, DNS,
/// TLS: `invalid peer certificate: UnknownIssuer`).
fn connect_reason(e: &tonic::transport::Error) -> String {
    use std::error::Error as _;
    match e.source() {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

async fn connect(url: &Url, root_cas: &[RootCa]) -> Result<Channel, AdapterError> {
    let mut ep = Endpoint::from_shared(url.as_str().trim_end_matches('/').to_owned())
        .map_err(|_| AdapterError::from(PubSubError::Config("pubsub_url")))?
        .connect_timeout(Duration::from_secs(10))
        .http2_keep_alive_interval(Duration::from_secs(60))
        .keep_alive_while_idle(true);
    if url.scheme() == "https" {
        ep = ep
            .tls_config(tls_config(url, root_cas))
            .map_err(|_| AdapterError::from(tls_refused(root_cas)))?;
    }
    ep.connect().await.map_err(|e| {
        PubSubError::Connect {
            reason: connect_reason(&e),
        }
        .into()
    })
}

/// One connection: returns `Ok(())` only when the receiver is gone.
async fn session(
    client: &SalesforceClient,
    filter: &EventFilter,
    state: &mut State,
    tx: &Tx,
    delivered: &mut bool,
) -> Result<(), AdapterError> {
    let config = client.config();
    let token = client.access_token().await?;
    state.token = Some(token.clone());
    let instance = client
        .instance_url()
        .ok_or(PubSubError::Config("instance_url"))?;
    let mut access = meta(token.secret(), "access token")?;
    access.set_sensitive(true);
    let instance = meta(&instance, "instance_url")?;
    let tenant = meta(config.org_id(), "org_id")?;
    let channel = connect(config.pubsub_url(), config.root_cas()).await?;
    let mut grpc = PubSubClient::with_interceptor(channel, move |mut req: tonic::Request<()>| {
        let m = req.metadata_mut();
        m.insert("accesstoken", access.clone());
        m.insert("instanceurl", instance.clone());
        m.insert("tenantid", tenant.clone());
        Ok(req)
    });
    let topic = config.channel().topic();
    let info = grpc
        .get_topic(TopicRequest {
            topic_name: topic.clone(),
        })
        .await
        .map_err(|s| PubSubError::status("GetTopic", &s))?
        .into_inner();
    if !info.can_subscribe {
        return Err(PubSubError::NotSubscribable(topic).into());
    }
    let batch = i32::from(config.fetch_batch());
    let (req_tx, req_rx) = mpsc::channel::<FetchRequest>(4);
    let first = match (&state.last, &state.start) {
        (Some(id), _) => FetchRequest {
            topic_name: topic.clone(),
            replay_preset: ReplayPreset::Custom as i32,
            replay_id: id.0.clone(),
            num_requested: batch,
            ..FetchRequest::default()
        },
        (None, start) => FetchRequest {
            topic_name: topic.clone(),
            replay_preset: if *start == ReplayStart::Earliest {
                ReplayPreset::Earliest as i32
            } else {
                ReplayPreset::Latest as i32
            },
            num_requested: batch,
            ..FetchRequest::default()
        },
    };
    req_tx
        .send(first)
        .await
        .map_err(|_| AdapterError::transient("subscribe request stream closed"))?;
    let mut stream = grpc
        .subscribe(ReceiverStream::new(req_rx))
        .await
        .map_err(|s| PubSubError::status("Subscribe", &s))?
        .into_inner();
    let mut credit = batch;
    loop {
        let resp = match stream.message().await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(AdapterError::transient("the subscribe stream ended")),
            Err(s) => return Err(PubSubError::status("Subscribe", &s).into()),
        };
        if resp.events.is_empty() {
            let latest = ReplayId(resp.latest_replay_id);
            if !latest.0.is_empty() {
                state.last = Some(latest.clone());
            }
            if tx
                .send(Ok(SubscriptionItem::KeepAlive {
                    latest_replay_id: latest,
                }))
                .await
                .is_err()
            {
                return Ok(());
            }
        }
        for ev in resp.events {
            credit -= 1;
            let item = decode_event(&mut grpc, state, filter, client, ev).await?;
            state.last = Some(item.replay_id.clone());
            *delivered = true;
            if tx.send(Ok(SubscriptionItem::Event(item))).await.is_err() {
                return Ok(());
            }
        }
        if credit <= batch / 2 {
            let more = batch - credit;
            credit = batch;
            req_tx
                .send(FetchRequest {
                    num_requested: more,
                    ..FetchRequest::default()
                })
                .await
                .map_err(|_| AdapterError::transient("subscribe request stream closed"))?;
        }
    }
}

async fn decode_event<T>(
    grpc: &mut PubSubClient<T>,
    state: &mut State,
    filter: &EventFilter,
    client: &SalesforceClient,
    ev: ConsumerEvent,
) -> Result<ReceivedEvent, AdapterError>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let channel = client.config().channel();
    let replay_id = ReplayId(ev.replay_id);
    let event = ev.event.unwrap_or_default();
    let schema = match state.schemas.get(&event.schema_id) {
        Some(s) => s.clone(),
        None => {
            let info = grpc
                .get_schema(SchemaRequest {
                    schema_id: event.schema_id.clone(),
                })
                .await
                .map_err(|s| PubSubError::status("GetSchema", &s))?
                .into_inner();
            let schema = apache_avro::Schema::parse_str(&info.schema_json)
                .map_err(|_| PubSubError::BadSchema(event.schema_id.clone()))?;
            let schema = Arc::new(schema);
            state
                .schemas
                .insert(event.schema_id.clone(), schema.clone());
            schema
        }
    };
    let mut out = ReceivedEvent {
        replay_id,
        event_id: event.id.clone(),
        event_type: None,
        entry_identifier: None,
        conversation_id: None,
        recipient: None,
        activities: Vec::new(),
        skipped: None,
    };
    let record = match super::avro::decode_record(&schema, &event.payload) {
        Ok(r) => r,
        Err(e) => {
            out.skipped = Some(Skipped::Invalid(e.into()));
            return Ok(out);
        }
    };
    out.event_type = record
        .get(channel.event_type_field())
        .and_then(|v| record_field_string(v, false))
        .map(std::borrow::Cow::into_owned);
    match normalize_record(&record, channel.event_type_field(), channel.payload_field()) {
        Ok(n) => {
            out.entry_identifier.clone_from(&n.entry_identifier);
            out.conversation_id.clone_from(&n.conversation_id);
            out.recipient.clone_from(&n.recipient);
            match filter.check(&n) {
                Ok(()) => out.activities = n.activities,
                Err(f) => out.skipped = Some(Skipped::NotOurs(f)),
            }
        }
        Err(e) => out.skipped = Some(Skipped::Invalid(e.into())),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_ca_grpc_cannot_read_is_named() {
        let good = RootCa::from_pem("empty", Vec::new());
        let bad = RootCa::from_pem(
            "corporate-proxy-ca",
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_vec(),
        );
        let url = Url::parse("https://api.pubsub.salesforce.com:7443").unwrap();
        let roots = [good, bad];
        assert!(
            Endpoint::from_static("https://localhost")
                .tls_config(tls_config(&url, &roots))
                .is_err()
        );
        let e = tls_refused(&roots);
        assert_eq!(
            e,
            PubSubError::RootCa {
                name: "corporate-proxy-ca".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "root CA `corporate-proxy-ca` is not a usable PEM certificate"
        );
        assert!(matches!(
            AdapterError::from(e),
            AdapterError::Configuration { .. }
        ));
        assert_eq!(tls_refused(&roots[..1]), PubSubError::Config("pubsub_url"));
    }
}
