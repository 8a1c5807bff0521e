//! The outbound side: a Pub/Sub API subscription to the channel's platform event.
//!
//! [`Subscription::start`] spawns one task that connects (`GetTopic`, then the bidirectional
//! `Subscribe` with `FetchRequest` flow control), decodes each event with its writer schema
//! (`GetSchema`, cached by schema id), normalizes it, filters it by channel address and
//! recipient, and yields a [`SubscriptionItem`] on a bounded channel. Every event, ours or
//! not, is yielded with its replay id, so the host can store the last one and restart with
//! [`ReplayStart::After`]: nothing is lost or repeated. The task reconnects by itself after
//! a dropped stream (from the last replay id, with backoff) and mints a new token when the
//! service answers `UNAUTHENTICATED`.

pub mod avro;
/// The generated Pub/Sub messages and client (the `byoc-pubsub-proto` crate).
pub use byoc_pubsub_proto as proto;

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use byoc_core::{Activity, AdapterError};
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use crate::client::InteractionClient;
use crate::error::PubSubError;
use crate::verify::{EventFilter, FilterError};
use proto::pub_sub_client::PubSubClient;
use proto::{FetchRequest, ReplayPreset, SchemaRequest, TopicRequest};

/// Longest reconnect delay.
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(30);

/// An opaque replay id (bytes); store it to resume.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ReplayId(pub Vec<u8>);

impl fmt::Debug for ReplayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayId(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// Where a subscription starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayStart {
    /// New events only.
    Latest,
    /// Every retained event.
    Earliest,
    /// The events after this replay id (a restart).
    After(ReplayId),
}

/// Why an event produced no activities.
#[derive(Debug)]
#[non_exhaustive]
pub enum Skipped {
    /// The event is for another channel or recipient.
    NotOurs(FilterError),
    /// The event could not be decoded or normalized.
    Invalid(AdapterError),
}

/// One delivered event.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReceivedEvent {
    /// Its replay id: store it once the activities are persisted.
    pub replay_id: ReplayId,
    /// The event id.
    pub event_id: String,
    /// The event-type field's value (`Interaction`, `RoutingRequested`).
    pub event_type: Option<String>,
    /// The entry `identifier` (for `/acknowledgement`).
    pub entry_identifier: Option<String>,
    /// The conversation.
    pub conversation_id: Option<String>,
    /// The end user.
    pub recipient: Option<String>,
    /// The activities (empty when skipped).
    pub activities: Vec<Activity>,
    /// Why there are none, if so.
    pub skipped: Option<Skipped>,
}

/// What the subscription yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum SubscriptionItem {
    /// An event.
    Event(ReceivedEvent),
    /// An empty batch (keep-alive) with the latest replay id.
    KeepAlive {
        /// The latest replay id.
        latest_replay_id: ReplayId,
    },
    /// The stream failed; the subscription reconnects after a delay, from the last replay id.
    Reconnecting {
        /// What failed.
        error: AdapterError,
        /// The delay before the next attempt.
        after: Duration,
    },
}

/// A running subscription: a [`Stream`] of [`SubscriptionItem`]s. Dropping it stops the task.
#[derive(Debug)]
pub struct Subscription {
    rx: ReceiverStream<Result<SubscriptionItem, AdapterError>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stream for Subscription {
    type Item = Result<SubscriptionItem, AdapterError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}

impl Subscription {
    /// Starts subscribing to the channel's topic from `start`, keeping the events `filter`
    /// accepts. Must be called inside a tokio runtime.
    #[must_use]
    pub fn start(client: Arc<InteractionClient>, filter: EventFilter, start: ReplayStart) -> Self {
        let cap = usize::try_from(client.config().fetch_batch.max(1)).unwrap_or(100);
        let (tx, rx) = mpsc::channel(cap);
        let task = tokio::spawn(run(client, filter, start, tx));
        Self {
            rx: ReceiverStream::new(rx),
            task,
        }
    }

    /// Only the activities of the events that are ours, in order.
    pub fn activities(self) -> impl Stream<Item = Activity> + Send {
        use futures_util::StreamExt as _;
        self.filter_map(|item| async move {
            match item {
                Ok(SubscriptionItem::Event(e)) => Some(futures_util::stream::iter(e.activities)),
                _ => None,
            }
        })
        .flatten()
    }
}

type Tx = mpsc::Sender<Result<SubscriptionItem, AdapterError>>;

struct State {
    last: Option<ReplayId>,
    start: ReplayStart,
    schemas: HashMap<String, Arc<apache_avro::Schema>>,
}

async fn run(client: Arc<InteractionClient>, filter: EventFilter, start: ReplayStart, tx: Tx) {
    let initial = client.config().reconnect_delay;
    let mut delay = initial;
    let mut state = State {
        last: match &start {
            ReplayStart::After(id) => Some(id.clone()),
            _ => None,
        },
        start,
        schemas: HashMap::new(),
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
        if error.is_unauthorized() {
            client.invalidate_token().await;
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

async fn connect(url: &str) -> Result<Channel, AdapterError> {
    let mut ep = Endpoint::from_shared(url.to_owned())
        .map_err(|_| AdapterError::from(PubSubError::Config("pubsub_url")))?
        .connect_timeout(Duration::from_secs(10))
        .http2_keep_alive_interval(Duration::from_secs(60))
        .keep_alive_while_idle(true);
    if url.starts_with("https://") {
        ep = ep
            .tls_config(ClientTlsConfig::new().with_webpki_roots())
            .map_err(|_| AdapterError::from(PubSubError::Config("tls")))?;
    }
    ep.connect()
        .await
        .map_err(|e| PubSubError::Connect(e.to_string()).into())
}

/// One connection: returns `Ok(())` only when the receiver is gone.
async fn session(
    client: &InteractionClient,
    filter: &EventFilter,
    state: &mut State,
    tx: &Tx,
    delivered: &mut bool,
) -> Result<(), AdapterError> {
    let config = client.config();
    let token = client.access_token().await?;
    let instance = if config.instance_url.is_empty() {
        token.instance_url.clone()
    } else {
        config.instance_url.clone()
    };
    let mut access = meta(token.token.secret(), "access token")?;
    access.set_sensitive(true);
    let instance = meta(&instance, "instance_url")?;
    let tenant = meta(&config.org_id, "org_id")?;
    let channel = connect(&config.pubsub_url).await?;
    let mut grpc = PubSubClient::with_interceptor(channel, move |mut req: tonic::Request<()>| {
        let m = req.metadata_mut();
        m.insert("accesstoken", access.clone());
        m.insert("instanceurl", instance.clone());
        m.insert("tenantid", tenant.clone());
        Ok(req)
    });
    let topic = config.channel.topic();
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
    let batch = config.fetch_batch;
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
            let item = decode_event(&mut grpc, state, filter, config, ev).await?;
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
    config: &crate::Config,
    ev: proto::ConsumerEvent,
) -> Result<ReceivedEvent, AdapterError>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
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
    let record = match avro::decode_record(&schema, &event.payload) {
        Ok(r) => r,
        Err(e) => {
            out.skipped = Some(Skipped::Invalid(e.into()));
            return Ok(out);
        }
    };
    out.event_type = record
        .get(&config.channel.event_type_field)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    match crate::normalize::normalize_record(
        &record,
        &config.channel.event_type_field,
        &config.channel.payload_field,
    ) {
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
