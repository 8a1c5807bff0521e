//! Every adapter the gateway builds, from its config section: the one place that knows each
//! adapter crate's constructor.

use std::collections::HashMap;
use std::sync::Arc;

use byoc_core::{Activity, AdapterError, ChannelAdapter, RawJson};
use byoc_directline::{ConnectorAdapter, ConnectorConfig};
use byoc_telesign::{TelesignAdapter, TelesignConfig};

use crate::config::{ChannelConfig, ChannelKind};

/// A channel's adapter and how outbound activities are marked for it.
#[derive(Clone)]
pub(crate) struct Channel {
    pub(crate) adapter: Arc<dyn ChannelAdapter>,
    /// The largest webhook body the adapter was configured to take: the bridge reads no
    /// more (`413` past it).
    pub(crate) body_limit: usize,
    provider: &'static str,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("provider", &self.provider)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// Stamps the gateway's idempotency key on an outbound activity where the provider
    /// carries one (TeleSign `external_id`), so a delivery can be traced to its outbox row.
    pub(crate) fn mark(&self, activity: &mut Activity, outbox_id: i64) {
        if self.provider == "telesign" && activity.channel_data.is_none() {
            activity.channel_data = RawJson::from_serialize(
                &serde_json::json!({ "external_id": format!("byoc-{outbox_id}") }),
            )
            .ok();
        }
    }
}

/// Builds the adapters of every configured channel, by channel name, each taking webhook
/// bodies up to `body_limit` bytes.
///
/// # Errors
/// The adapter's configuration error, naming the channel.
pub(crate) fn build(
    channels: &[ChannelConfig],
    body_limit: usize,
) -> Result<HashMap<String, Channel>, AdapterError> {
    let mut out = HashMap::new();
    for c in channels {
        let (adapter, provider, body_limit): (Arc<dyn ChannelAdapter>, _, _) = match &c.kind {
            ChannelKind::Telesign {
                customer_id,
                api_key,
                base_url,
                sender_id,
                previous_api_keys,
            } => {
                let named = |e: byoc_telesign::ConfigError| {
                    AdapterError::configuration(format!("channel {}: {e}", c.name))
                };
                let mut config = TelesignConfig::new(customer_id.clone(), api_key.clone())
                    .map_err(named)?
                    .with_body_limit(body_limit)
                    .map_err(named)?;
                if let Some(url) = base_url {
                    config = config
                        .with_base_url(parse_url(&c.name, "base_url", url)?)
                        .map_err(named)?;
                }
                if let Some(sender) = sender_id {
                    config = config.with_sender_id(sender.clone()).map_err(named)?;
                }
                for k in previous_api_keys {
                    config = config.with_previous_key(k.clone()).map_err(named)?;
                }
                let limit = config.body_limit();
                (
                    Arc::new(TelesignAdapter::new(config).map_err(named)?),
                    "telesign",
                    limit,
                )
            }
            ChannelKind::Connector {
                app_id,
                app_password,
                authority,
                tenant,
                trusted_service_urls,
            } => {
                let named = |e: byoc_directline::ConfigError| {
                    AdapterError::configuration(format!("channel {}: {e}", c.name))
                };
                let mut config = ConnectorConfig::new(app_id.clone(), app_password.clone())
                    .map_err(named)?
                    .with_body_limit(body_limit)
                    .map_err(named)?;
                if let Some((login, openid, issuer)) = authority {
                    config = config
                        .with_authority(
                            parse_url(&c.name, "authority.login_url", login)?,
                            parse_url(&c.name, "authority.openid_metadata_url", openid)?,
                            issuer.clone(),
                        )
                        .map_err(named)?;
                }
                if let Some(t) = tenant {
                    config = config.with_tenant(t.clone()).map_err(named)?;
                }
                for p in trusted_service_urls {
                    config = config.with_trusted_service_url(p.clone());
                }
                let limit = config.body_limit();
                (
                    Arc::new(ConnectorAdapter::new(config).map_err(named)?),
                    "connector",
                    limit,
                )
            }
            // Contact-center platforms are built by the relay, not as customer channels.
            ChannelKind::MessagingApi(_) | ChannelKind::Salesforce(_) => continue,
        };
        out.insert(
            c.name.clone(),
            Channel {
                adapter,
                body_limit,
                provider,
            },
        );
    }
    Ok(out)
}

/// Parses a URL setting of channel `channel`, naming the field when it is not a URL.
pub(crate) fn parse_url(channel: &str, field: &str, value: &str) -> Result<url::Url, AdapterError> {
    url::Url::parse(value).map_err(|e| {
        AdapterError::configuration(format!("channel {channel}: `{field}` is not a URL: {e}"))
    })
}
