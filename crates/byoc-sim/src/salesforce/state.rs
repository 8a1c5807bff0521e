//! The simulated org's state shared by the REST and gRPC sides: tokens, conversations,
//! the event bus.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::cert;
use super::config::{Recorded, SimConfig, SimConversation};

/// A published event.
#[derive(Clone, Debug)]
pub(crate) struct StoredEvent {
    pub(crate) id: String,
    pub(crate) payload: Vec<u8>,
}

pub(crate) struct Shared {
    pub(crate) cfg: SimConfig,
    pub(crate) key: jsonwebtoken::DecodingKey,
    pub(crate) audience: String,
    pub(crate) instance_url: String,
    pub(crate) tokens: Mutex<HashMap<String, ()>>,
    pub(crate) recorded: Mutex<Vec<Recorded>>,
    pub(crate) conversations: Mutex<HashMap<String, SimConversation>>,
    pub(crate) events: Mutex<Vec<StoredEvent>>,
    pub(crate) published: tokio::sync::watch::Sender<usize>,
    pub(crate) schema: apache_avro::Schema,
    pub(crate) schema_json: String,
    pub(crate) schema_id: String,
    pub(crate) drop_after: Mutex<Option<usize>>,
    pub(crate) tokens_issued: std::sync::atomic::AtomicUsize,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// The simulated org for `cfg`, served at `url`.
    pub(crate) fn new(cfg: SimConfig, url: &str) -> anyhow::Result<Arc<Self>> {
        let schema_json = serde_json::json!({
            "type": "record", "name": cfg.platform_event, "namespace": "com.sforce.eventbus",
            "fields": [
                {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
                {"name": "CreatedById", "type": "string"},
                {"name": cfg.event_type_field, "type": ["null", "string"], "default": null},
                {"name": cfg.payload_field, "type": ["null", "string"], "default": null},
            ]
        })
        .to_string();
        let schema = apache_avro::Schema::parse_str(&schema_json)?;
        let key = cert::decoding_key(&cfg)?;
        if cfg.keepalive.is_zero() {
            anyhow::bail!("the keep-alive interval must be positive");
        }
        Ok(Arc::new(Shared {
            key,
            audience: cfg.audience.clone().unwrap_or_else(|| url.to_owned()),
            instance_url: url.to_owned(),
            cfg,
            tokens: Mutex::new(HashMap::new()),
            recorded: Mutex::new(Vec::new()),
            conversations: Mutex::new(HashMap::new()),
            events: Mutex::new(Vec::new()),
            published: tokio::sync::watch::channel(0).0,
            schema,
            schema_json,
            schema_id: "bYoCsImScHeMa01".into(),
            drop_after: Mutex::new(None),
            tokens_issued: std::sync::atomic::AtomicUsize::new(0),
        }))
    }

    /// A new access token of this org (the token endpoint's, or a SOAP `sessionId`).
    pub(crate) fn issue_token(&self) -> String {
        let token = format!("{}!{}", self.cfg.org_id, uuid::Uuid::new_v4().simple());
        lock(&self.tokens).insert(token.clone(), ());
        token
    }

    pub(crate) fn conversation(&self, end_user: &str) -> SimConversation {
        lock(&self.conversations)
            .entry(end_user.to_owned())
            .or_insert_with(|| SimConversation {
                conversation_identifier: uuid::Uuid::new_v4().to_string(),
                work_item_id: format!("0Mw{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            })
            .clone()
    }

    /// Encodes and stores one event; returns its replay id.
    pub(crate) fn publish(&self, event_type: &str, payload: &str) -> anyhow::Result<u64> {
        use apache_avro::types::{Record, Value};
        let mut rec = Record::new(&self.schema)
            .ok_or_else(|| anyhow::anyhow!("the event schema is not a record"))?;
        rec.put("CreatedDate", chrono::Utc::now().timestamp_millis());
        rec.put("CreatedById", "0055g00000Ab1CdEAF");
        rec.put(
            &self.cfg.event_type_field,
            Value::Union(1, Box::new(Value::String(event_type.into()))),
        );
        rec.put(
            &self.cfg.payload_field,
            Value::Union(1, Box::new(Value::String(payload.into()))),
        );
        let bytes = apache_avro::to_avro_datum(&self.schema, rec)?;
        Ok(self.store(uuid::Uuid::new_v4().to_string(), bytes))
    }

    /// Appends an encoded event to the bus (subscribers receive it); returns its replay id.
    pub(crate) fn store(&self, id: String, payload: Vec<u8>) -> u64 {
        let mut events = lock(&self.events);
        events.push(StoredEvent { id, payload });
        let n = events.len();
        drop(events);
        self.published.send_replace(n);
        n as u64
    }

    pub(crate) fn envelope(
        &self,
        end_user: &str,
        conv: &SimConversation,
        entry: serde_json::Value,
    ) -> String {
        serde_json::json!({
            "conversationIdentifier": conv.conversation_identifier,
            "channelAddressIdentifier": self.cfg.channel_address,
            "recipient": {"appType": "custom", "subject": end_user, "role": "EndUser"},
            "payload": entry,
        })
        .to_string()
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}
