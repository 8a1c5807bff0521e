//! The Pub/Sub API gRPC server: `GetTopic`, `GetSchema`, `Subscribe` with flow control,
//! replay and keep-alives, and `Publish` (events a client publishes join the bus, so
//! subscribers receive them).

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status, Streaming};

use super::proto::pub_sub_server::{PubSub, PubSubServer};
use super::proto::{
    ConsumerEvent, Error as PublishError, ErrorCode, FetchRequest, FetchResponse, ProducerEvent,
    PublishRequest, PublishResponse, PublishResult, ReplayPreset, SchemaInfo, SchemaRequest,
    TopicInfo, TopicRequest,
};
use super::{Shared, lock};

pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    tls: Option<Arc<crate::tls::LocalCa>>,
) {
    let svc = PubSubServer::new(Service { shared });
    let mut builder = tonic::transport::Server::builder();
    if let Some(ca) = tls {
        builder = match builder.tls_config(ca.tonic_config()) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "salesforce sim gRPC TLS configuration refused");
                return;
            }
        };
    }
    let r = builder
        .add_service(svc)
        .serve_with_incoming(TcpListenerStream::new(listener))
        .await;
    if let Err(e) = r {
        tracing::error!(error = %e, "salesforce sim gRPC server stopped");
    }
}

struct Service {
    shared: Arc<Shared>,
}

fn replay_id(n: usize) -> Vec<u8> {
    (n as u64).to_be_bytes().to_vec()
}

impl Service {
    fn authenticate<T>(&self, req: &Request<T>) -> Result<(), Status> {
        let m = req.metadata();
        let get = |k: &str| m.get(k).and_then(|v| v.to_str().ok());
        match get("accesstoken") {
            Some(t) if lock(&self.shared.tokens).contains_key(t) => {}
            _ => return Err(Status::unauthenticated("Invalid access token")),
        }
        if get("tenantid") != Some(self.shared.cfg.org_id.as_str()) {
            return Err(Status::unauthenticated("tenantid does not match the token"));
        }
        if get("instanceurl").is_none_or(str::is_empty) {
            return Err(Status::unauthenticated("instanceurl is required"));
        }
        Ok(())
    }

    fn topic(&self) -> String {
        format!("/event/{}", self.shared.cfg.platform_event)
    }
}

type FetchStream = Pin<Box<dyn futures_util::Stream<Item = Result<FetchResponse, Status>> + Send>>;

#[tonic::async_trait]
impl PubSub for Service {
    type SubscribeStream = FetchStream;

    async fn get_topic(&self, req: Request<TopicRequest>) -> Result<Response<TopicInfo>, Status> {
        self.authenticate(&req)?;
        if req.get_ref().topic_name != self.topic() {
            return Err(Status::not_found("topic not found"));
        }
        Ok(Response::new(TopicInfo {
            topic_name: self.topic(),
            tenant_guid: self.shared.cfg.org_id.clone(),
            can_publish: true,
            can_subscribe: true,
            schema_id: self.shared.schema_id.clone(),
            rpc_id: uuid::Uuid::new_v4().to_string(),
        }))
    }

    async fn get_schema(
        &self,
        req: Request<SchemaRequest>,
    ) -> Result<Response<SchemaInfo>, Status> {
        self.authenticate(&req)?;
        if req.get_ref().schema_id != self.shared.schema_id {
            return Err(Status::not_found("schema not found"));
        }
        Ok(Response::new(SchemaInfo {
            schema_json: self.shared.schema_json.clone(),
            schema_id: self.shared.schema_id.clone(),
            rpc_id: uuid::Uuid::new_v4().to_string(),
        }))
    }

    async fn publish(
        &self,
        req: Request<PublishRequest>,
    ) -> Result<Response<PublishResponse>, Status> {
        self.authenticate(&req)?;
        let req = req.into_inner();
        if req.topic_name != self.topic() {
            return Err(Status::invalid_argument("topic not found"));
        }
        if req.events.is_empty() {
            return Err(Status::invalid_argument("no events to publish"));
        }
        let results = req
            .events
            .into_iter()
            .map(|event| {
                let correlation_key = if event.id.is_empty() {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    event.id.clone()
                };
                let error = |msg: &str| PublishResult {
                    replay_id: Vec::new(),
                    error: Some(PublishError {
                        code: ErrorCode::Publish as i32,
                        msg: msg.to_owned(),
                    }),
                    correlation_key: correlation_key.clone(),
                };
                if event.schema_id != self.shared.schema_id {
                    return error("the event's schema id is not the topic's schema");
                }
                let mut reader = event.payload.as_slice();
                if apache_avro::from_avro_datum(&self.shared.schema, &mut reader, None).is_err()
                    || !reader.is_empty()
                {
                    return error("the payload is not an Avro record of the topic's schema");
                }
                let n = self.shared.store(correlation_key.clone(), event.payload);
                PublishResult {
                    replay_id: replay_id(usize::try_from(n).unwrap_or(usize::MAX)),
                    error: None,
                    correlation_key,
                }
            })
            .collect();
        Ok(Response::new(PublishResponse {
            results,
            schema_id: self.shared.schema_id.clone(),
            rpc_id: uuid::Uuid::new_v4().to_string(),
        }))
    }

    async fn subscribe(
        &self,
        req: Request<Streaming<FetchRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        self.authenticate(&req)?;
        let mut inbound = req.into_inner();
        let first = inbound
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("no FetchRequest"))?;
        if first.topic_name != self.topic() {
            return Err(Status::invalid_argument("unknown topic"));
        }
        let len = lock(&self.shared.events).len();
        let mut pos = match ReplayPreset::try_from(first.replay_preset) {
            Ok(ReplayPreset::Latest) => len,
            Ok(ReplayPreset::Earliest) => 0,
            Ok(ReplayPreset::Custom) => {
                let bytes: [u8; 8] = first
                    .replay_id
                    .as_slice()
                    .try_into()
                    .map_err(|_| Status::invalid_argument("invalid replay id"))?;
                let n = usize::try_from(u64::from_be_bytes(bytes))
                    .map_err(|_| Status::invalid_argument("invalid replay id"))?;
                if n > len {
                    return Err(Status::invalid_argument("replay id not found"));
                }
                n
            }
            Err(_) => return Err(Status::invalid_argument("invalid replay preset")),
        };
        let mut credit = i64::from(first.num_requested.max(0));
        let drop_after = lock(&self.shared.drop_after).take();
        let shared = self.shared.clone();
        let (tx, rx) = mpsc::channel::<Result<FetchResponse, Status>>(16);
        tokio::spawn(async move {
            let mut published = shared.published.subscribe();
            let mut keepalive = tokio::time::interval(shared.cfg.keepalive);
            keepalive.tick().await;
            let mut sent = 0usize;
            let mut inbound_open = true;
            loop {
                // Deliver what is available within the credit.
                let batch: Vec<ConsumerEvent> = {
                    let events = lock(&shared.events);
                    let mut out = Vec::new();
                    while credit > 0 && pos < events.len() {
                        if drop_after.is_some_and(|n| sent + out.len() >= n) {
                            break;
                        }
                        let e = &events[pos];
                        pos += 1;
                        credit -= 1;
                        out.push(ConsumerEvent {
                            event: Some(ProducerEvent {
                                id: e.id.clone(),
                                schema_id: shared.schema_id.clone(),
                                payload: e.payload.clone(),
                                headers: Vec::new(),
                            }),
                            replay_id: replay_id(pos),
                        });
                    }
                    out
                };
                if !batch.is_empty() {
                    sent += batch.len();
                    let resp = FetchResponse {
                        events: batch,
                        latest_replay_id: replay_id(pos),
                        rpc_id: uuid::Uuid::new_v4().to_string(),
                        pending_num_requested: i32::try_from(credit).unwrap_or(i32::MAX),
                    };
                    if tx.send(Ok(resp)).await.is_err() {
                        return;
                    }
                    keepalive.reset();
                }
                if drop_after.is_some_and(|n| sent >= n) {
                    let _ = tx
                        .send(Err(Status::unavailable("stream dropped (fault)")))
                        .await;
                    return;
                }
                tokio::select! {
                    m = inbound.message(), if inbound_open => match m {
                        Ok(Some(more)) => credit += i64::from(more.num_requested.max(0)),
                        Ok(None) | Err(_) => inbound_open = false,
                    },
                    changed = published.changed() => {
                        if changed.is_err() { return; }
                    }
                    _ = keepalive.tick() => {
                        let latest = lock(&shared.events).len();
                        let resp = FetchResponse {
                            events: Vec::new(),
                            latest_replay_id: replay_id(latest.min(pos)),
                            rpc_id: uuid::Uuid::new_v4().to_string(),
                            pending_num_requested: i32::try_from(credit).unwrap_or(i32::MAX),
                        };
                        if tx.send(Ok(resp)).await.is_err() { return; }
                    }
                }
                if !inbound_open && tx.is_closed() {
                    return;
                }
            }
        });
        Ok(Response::new(
            Box::pin(ReceiverStream::new(rx)) as FetchStream
        ))
    }
}
