//! The contact-center platforms a workstream may relay to: `kind = "messaging-api"`
//! (Dynamics 365 Omnichannel) and `kind = "salesforce"` (the Interaction Service) channel
//! entries, their validation, and the adapter configurations built from them.
//!
//! Every check names the field under `channels.{name}`; the adapter configurations are built
//! once here to validate them and again when the gateway starts
//! ([`MessagingApiSettings::api_config`], [`SalesforceSettings::adapter_config`]).

use std::collections::BTreeMap;
use std::time::Duration;

use byoc_core::Secret;
use byoc_messaging_api::{DataverseConfig, EntraApp, MessagingApiConfig};
use byoc_salesforce::{ChannelDefinition, Credentials, SalesforceConfig};
use url::Url;

#[cfg(test)]
mod tests;

use super::raw::{RawMessagingApi, RawSalesforce};
use super::validate::Validator;
use super::{ChannelKind, ConfigError};

/// Where a Pub/Sub subscription starts when no replay id is stored yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayFrom {
    /// New events only (the default: a first start does not replay the retained events).
    Latest,
    /// Every event the bus still retains (those of unknown conversations are dropped).
    Earliest,
}

/// `kind = "messaging-api"`: Dynamics 365 Omnichannel through the Messaging API, byoc being
/// the custom messaging channel. Its webhook is `POST /webhooks/{name}/v3/conversations/{id}/activities`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MessagingApiSettings {
    /// The Entra app (tenant, client id, client secret).
    pub app: EntraApp,
    /// The Dynamics organization id.
    pub org_id: String,
    /// The custom channel record id (`msdyn_occustommessagingchannelid`); `byoc channel
    /// register` creates the record and prints it. Required to relay.
    pub channel_id: Option<String>,
    /// `{geo}` of the API host. Default `unq` (any label; ignored with `base_url`).
    pub geo: String,
    /// `{zone}` of the token scope (`crm4`, ...).
    pub zone: String,
    /// The Messaging API base URL, when not the documented host (a simulator, a proxy).
    pub base_url: Option<Url>,
    /// The Entra authority, when not Microsoft's (a sovereign cloud, a simulator).
    pub authority: Option<Url>,
    /// The Dataverse organization URL, for `byoc channel register`.
    pub dataverse_url: Option<Url>,
    /// The public URL of this channel's webhook (`https://.../webhooks/{name}`), written in
    /// the channel record by `byoc channel register`.
    pub webhook_url: Option<String>,
    /// The channel record's display name. Default `byoc {name}`.
    pub record_name: String,
    /// Accepted `aud` values of webhook tokens; the adapter's default when empty.
    pub webhook_audiences: Vec<String>,
}

impl MessagingApiSettings {
    /// The Messaging API adapter configuration.
    ///
    /// # Errors
    /// `(field, reason)` when the channel record id is missing or a value is refused.
    pub fn api_config(&self) -> Result<MessagingApiConfig, (&'static str, String)> {
        let channel_id = self.channel_id.as_deref().ok_or((
            "channel_id",
            "missing: the custom channel record id (`byoc channel register` creates the record)"
                .to_owned(),
        ))?;
        let mut config = MessagingApiConfig::new(
            self.app.clone(),
            &self.org_id,
            channel_id,
            &self.geo,
            &self.zone,
        )
        .map_err(|e| ("channel_id", e.to_string()))?;
        if let Some(url) = &self.base_url {
            config = config
                .with_base_url(url.clone())
                .map_err(|e| ("base_url", e.to_string()))?;
        }
        if let Some(url) = &self.authority {
            config = config
                .with_authority(url.clone())
                .map_err(|e| ("authority", e.to_string()))?;
        }
        if !self.webhook_audiences.is_empty() {
            config = config
                .with_webhook_audiences(self.webhook_audiences.clone())
                .map_err(|e| ("webhook_audiences", e.to_string()))?;
        }
        Ok(config)
    }

    /// The Dataverse client configuration (channel registration).
    ///
    /// # Errors
    /// `(field, reason)` when `dataverse_url` is missing or refused.
    pub fn dataverse_config(&self) -> Result<DataverseConfig, (&'static str, String)> {
        let url = self.dataverse_url.clone().ok_or((
            "dataverse_url",
            "missing: the Dataverse organization URL (https://<org>.crm.dynamics.com)".to_owned(),
        ))?;
        let mut config = DataverseConfig::new(self.app.clone(), url)
            .map_err(|e| ("dataverse_url", e.to_string()))?;
        if let Some(a) = &self.authority {
            config = config
                .with_authority(a.clone())
                .map_err(|e| ("authority", e.to_string()))?;
        }
        Ok(config)
    }
}

/// `kind = "salesforce"`: the Salesforce Interaction Service (BYOC for Messaging, or BYOC for
/// CCaaS with byoc as the routing owner). Customer activities go in over REST; the agents'
/// activities come back over one Pub/Sub subscription per channel entry.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SalesforceSettings {
    /// The adapter configuration (credentials, hosts, channel definition).
    pub config: SalesforceConfig,
    /// Where the subscription starts the first time. Default [`ReplayFrom::Latest`].
    pub replay_from: ReplayFrom,
    /// How long byoc has to answer a routing request (CCaaS). Default 60 s, Salesforce's.
    pub routing_deadline: Duration,
    /// byoc queue name → Salesforce queue id (`00G...`), sent as the `/route` queue.
    pub queues: BTreeMap<String, String>,
}

impl SalesforceSettings {
    /// The adapter configuration.
    #[must_use]
    pub fn adapter_config(&self) -> SalesforceConfig {
        self.config.clone()
    }
}

impl Validator<'_> {
    fn url_of(&self, field: &str, text: &str) -> Result<Url, ConfigError> {
        let checked = self.url(field, text)?;
        Url::parse(&checked).map_err(|e| self.err(field, format!("is not a URL: {e}")))
    }

    fn non_empty(&self, field: &str, value: &str) -> Result<String, ConfigError> {
        if value.trim().is_empty() {
            return Err(self.err(field, "is empty"));
        }
        Ok(value.trim().to_owned())
    }

    pub(super) fn messaging_api(
        &self,
        name: &str,
        raw: &RawMessagingApi,
    ) -> Result<ChannelKind, ConfigError> {
        let at = |f: &str| format!("channels.{name}.{f}");
        let secret = self.secret(&at("client_secret"), &raw.client_secret)?;
        let app = EntraApp::new(&raw.tenant_id, &raw.client_id, Secret::new(secret.secret()))
            .map_err(|e| {
                let field = if e.to_string().contains("tenant") {
                    "tenant_id"
                } else {
                    "client_id"
                };
                self.err(at(field), e.to_string())
            })?;
        let opt_url = |f: &str, v: &Option<String>| -> Result<Option<Url>, ConfigError> {
            v.as_deref().map(|u| self.url_of(&at(f), u)).transpose()
        };
        let settings = MessagingApiSettings {
            app,
            org_id: self.non_empty(&at("org_id"), &raw.org_id)?,
            channel_id: raw.channel_id.clone().filter(|c| !c.trim().is_empty()),
            geo: raw.geo.clone().unwrap_or_else(|| "unq".to_owned()),
            zone: self.non_empty(&at("zone"), &raw.zone)?,
            base_url: opt_url("base_url", &raw.base_url)?,
            authority: opt_url("authority", &raw.authority)?,
            dataverse_url: opt_url("dataverse_url", &raw.dataverse_url)?,
            webhook_url: raw
                .webhook_url
                .as_deref()
                .map(|u| self.url(&at("webhook_url"), u))
                .transpose()?,
            record_name: raw
                .record_name
                .clone()
                .unwrap_or_else(|| format!("byoc {name}")),
            webhook_audiences: raw.webhook_audiences.clone(),
        };
        // The record id may still be missing (registration comes first); anything else
        // that the adapter refuses is refused now.
        if settings.channel_id.is_some() {
            settings
                .api_config()
                .map_err(|(f, reason)| self.err(at(f), reason))?;
        }
        if settings.dataverse_url.is_some() {
            settings
                .dataverse_config()
                .map_err(|(f, reason)| self.err(at(f), reason))?;
        }
        Ok(ChannelKind::MessagingApi(Box::new(settings)))
    }

    pub(super) fn salesforce(
        &self,
        name: &str,
        raw: &RawSalesforce,
    ) -> Result<ChannelKind, ConfigError> {
        let at = |f: &str| format!("channels.{name}.{f}");
        let key = self.secret(&at("private_key"), &raw.private_key)?;
        let mut credentials = Credentials::new(
            self.non_empty(&at("consumer_key"), &raw.consumer_key)?,
            self.non_empty(&at("username"), &raw.username)?,
            key,
        )
        .map_err(|e| self.err(at("private_key"), e.to_string()))?;
        if let Some(login) = &raw.login_url {
            let url = self.url_of(&at("login_url"), login)?;
            credentials = credentials
                .with_login_url(&url)
                .map_err(|e| self.err(at("login_url"), e.to_string()))?;
        }
        let definition = ChannelDefinition::new(
            self.non_empty(&at("channel_definition"), &raw.channel_definition)?,
            self.non_empty(&at("platform_event"), &raw.platform_event)?,
            raw.event_type_field.trim(),
            self.non_empty(&at("payload_field"), &raw.payload_field)?,
        )
        .map_err(|e| self.err(at("channel_definition"), e.to_string()))?;
        let mut config = SalesforceConfig::new(
            credentials,
            self.non_empty(&at("org_id"), &raw.org_id)?,
            self.url_of(&at("scrt_url"), &raw.scrt_url)?,
            self.non_empty(&at("channel_address"), &raw.channel_address)?,
            definition,
        )
        .map_err(|e| self.err(at("channel_address"), e.to_string()))?;
        if let Some(u) = &raw.instance_url {
            config = config
                .with_instance_url(self.url_of(&at("instance_url"), u)?)
                .map_err(|e| self.err(at("instance_url"), e.to_string()))?;
        }
        if let Some(u) = &raw.pubsub_url {
            config = config
                .with_pubsub_url(self.url_of(&at("pubsub_url"), u)?)
                .map_err(|e| self.err(at("pubsub_url"), e.to_string()))?;
        }
        if let Some(d) = &raw.reconnect_delay {
            let delay = self.duration(&at("reconnect_delay"), Some(d), Duration::from_secs(1))?;
            config = config
                .with_reconnect_delay(delay)
                .map_err(|e| self.err(at("reconnect_delay"), e.to_string()))?;
        }
        let replay_from = match raw.replay_start.as_deref().unwrap_or("latest") {
            "latest" => ReplayFrom::Latest,
            "earliest" => ReplayFrom::Earliest,
            other => {
                return Err(self.err(
                    at("replay_start"),
                    format!("`{other}` is neither \"latest\" nor \"earliest\""),
                ));
            }
        };
        let routing_deadline = self.duration(
            &at("routing_deadline"),
            raw.routing_deadline.as_deref(),
            Duration::from_secs(60),
        )?;
        if routing_deadline.is_zero() || routing_deadline > Duration::from_secs(60) {
            return Err(self.err(
                at("routing_deadline"),
                "must be more than 0 and at most 60s (Salesforce's deadline)",
            ));
        }
        for (queue, id) in &raw.queues {
            if id.trim().is_empty() {
                return Err(self.err(at(&format!("queues.{queue}")), "is empty"));
            }
        }
        Ok(ChannelKind::Salesforce(Box::new(SalesforceSettings {
            config,
            replay_from,
            routing_deadline,
            queues: raw.queues.clone(),
        })))
    }
}

impl Validator<'_> {
    /// `contact_center` (and `platform`, which names the entry it relays through).
    pub(super) fn contact_center(
        &self,
        field: &str,
        raw: &super::raw::RawWorkstream,
    ) -> Result<super::ContactCenterKind, ConfigError> {
        use super::ContactCenterKind as K;
        let kind = raw.contact_center.as_deref().unwrap_or("byoc");
        let platform = || {
            raw.platform.clone().ok_or_else(|| {
                self.err(
                    format!("{field}.platform"),
                    format!("missing: the [channels] or [bots] entry the `{kind}` contact center relays through"),
                )
            })
        };
        let cc = match kind {
            "byoc" => {
                if raw.platform.is_some() {
                    return Err(self.err(
                        format!("{field}.platform"),
                        "only a relayed contact center (omnichannel, omnichannel-bot, salesforce, salesforce-ccaas) names a platform",
                    ));
                }
                K::Byoc
            }
            "omnichannel" => K::Omnichannel {
                channel: platform()?,
            },
            "omnichannel-bot" => K::OmnichannelBot { bot: platform()? },
            "salesforce" => K::Salesforce {
                channel: platform()?,
            },
            "salesforce-ccaas" => K::SalesforceCcaas {
                channel: platform()?,
            },
            other => {
                return Err(self.err(
                    format!("{field}.contact_center"),
                    format!(
                        "unknown contact center `{other}` (expected \"byoc\", \"omnichannel\", \"omnichannel-bot\", \"salesforce\" or \"salesforce-ccaas\")"
                    ),
                ));
            }
        };
        Ok(cc)
    }

    /// The platform a workstream names exists and is of the kind its mode needs.
    pub(super) fn check_platform(
        &self,
        i: usize,
        wc: &super::WorkstreamConfig,
        config: &super::Config,
    ) -> Result<(), ConfigError> {
        use super::ContactCenterKind as K;
        let at = format!("workstreams[{i}].platform");
        let channel_of = |name: &str, want: &str| -> Result<&ChannelKind, ConfigError> {
            let c = config
                .channels
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| {
                    self.err(&at, format!("no channel named `{name}` under [channels]"))
                })?;
            if c.kind.provider() != want {
                return Err(self.err(
                    &at,
                    format!("channel `{name}` is {}, not {want}", c.kind.provider()),
                ));
            }
            Ok(&c.kind)
        };
        match &wc.contact_center {
            K::Byoc => {}
            K::Omnichannel { channel } => {
                if let ChannelKind::MessagingApi(s) = channel_of(channel, "messaging-api")?
                    && s.channel_id.is_none()
                {
                    return Err(self.err(
                        format!("channels.{channel}.channel_id"),
                        "missing: the custom channel record id (`byoc channel register` creates the record and prints it)",
                    ));
                }
            }
            K::OmnichannelBot { bot } => {
                if !config.bots.iter().any(|b| &b.id == bot) {
                    return Err(self.err(&at, format!("no bot `{bot}` under [bots]")));
                }
            }
            K::Salesforce { channel } | K::SalesforceCcaas { channel } => {
                channel_of(channel, "salesforce")?;
            }
        }
        if let K::SalesforceCcaas { channel } = &wc.contact_center
            && let Some(ChannelKind::Salesforce(s)) = config
                .channels
                .iter()
                .find(|c| &c.name == channel)
                .map(|c| &c.kind)
        {
            for queue in s.queues.keys() {
                if !config
                    .workstreams
                    .iter()
                    .any(|w| w.workstream.queue(queue).is_some())
                {
                    return Err(self.err(
                        format!("channels.{channel}.queues.{queue}"),
                        format!("no workstream has a queue `{queue}`"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A workstream relayed to a platform that routes by itself (`omnichannel`,
/// `omnichannel-bot`, `salesforce`) needs no queues of its own: when its definition has
/// none, one queue named after the platform stands for it (its one member the platform),
/// with no rules. `salesforce-ccaas` routes with byoc's queues, which stay required.
pub(super) fn relayed_defaults(def: &mut toml::Value, cc: &super::ContactCenterKind) {
    use super::ContactCenterKind as K;
    let platform = match cc {
        K::Omnichannel { channel } | K::Salesforce { channel } => channel,
        K::OmnichannelBot { bot } => bot,
        _ => return,
    };
    let Some(table) = def.as_table_mut() else {
        return;
    };
    if table.contains_key("queues") {
        return;
    }
    let mut member = toml::Table::new();
    member.insert("id".into(), platform.clone().into());
    member.insert("kind".into(), "bot".into());
    let mut queue = toml::Table::new();
    queue.insert("name".into(), platform.clone().into());
    queue.insert("members".into(), vec![toml::Value::Table(member)].into());
    table.insert("queues".into(), vec![toml::Value::Table(queue)].into());
    table
        .entry("routing_rules")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    table
        .entry("default_queue")
        .or_insert_with(|| platform.clone().into());
}

/// [`relayed_defaults`] for a workstream file's TOML text; `None` when nothing changes.
pub(super) fn relayed_toml_defaults(text: &str, cc: &super::ContactCenterKind) -> Option<String> {
    if !cc.is_relayed() {
        return None;
    }
    let mut value: toml::Value = toml::from_str(text).ok()?;
    if value.get("queues").is_some() {
        return None;
    }
    relayed_defaults(&mut value, cc);
    toml::to_string(&value).ok()
}
