//! `byoc channel register [create|update|list|delete] --config byoc.toml --channel NAME`:
//! the Dataverse record of a Messaging API custom channel (`msdyn_occustommessagingchannel`),
//! managed with the channel entry's own credentials (its Entra app needs a Dataverse
//! application user). The record's webhook is the entry's `webhook_url`, the public URL of
//! `/webhooks/{NAME}`; `create` prints the record id to put in `channel_id`.

use byoc_messaging_api::{CustomChannel, DataverseClient, Guid};

use crate::config::{ChannelKind, Config, MessagingApiSettings};

/// What to do with the channel record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Action {
    /// Create the record (prints its id).
    Create,
    /// Update the record (`--id`, else the entry's `channel_id`) from the entry.
    Update,
    /// List the Messaging API channel records.
    List,
    /// Delete the record (`--id`, else the entry's `channel_id`).
    Delete,
}

/// Why registration failed, naming what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct RegisterError(String);

fn settings<'c>(
    config: &'c Config,
    channel: &str,
) -> Result<&'c MessagingApiSettings, RegisterError> {
    let entry = config
        .channels
        .iter()
        .find(|c| c.name == channel)
        .ok_or_else(|| {
            RegisterError(format!(
                "no channel `{channel}` in {}",
                config.file.display()
            ))
        })?;
    match &entry.kind {
        ChannelKind::MessagingApi(s) => Ok(s),
        other => Err(RegisterError(format!(
            "channel `{channel}` is {}, not messaging-api",
            other.provider()
        ))),
    }
}

fn is_loopback_http(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.scheme() == "http"
            && match u.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            }
    })
}

/// The channel record the entry describes.
pub(crate) fn channel_record(
    s: &MessagingApiSettings,
    channel: &str,
) -> Result<CustomChannel, RegisterError> {
    let webhook = s.webhook_url.as_deref().ok_or_else(|| {
        RegisterError(format!(
            "`channels.{channel}.webhook_url` is missing: the public URL of /webhooks/{channel}"
        ))
    })?;
    let app = &s.app;
    let built = if is_loopback_http(webhook) {
        CustomChannel::new_for_loopback(
            &s.record_name,
            app.client_id().as_str(),
            app.tenant_id().as_str(),
            webhook,
        )
    } else {
        CustomChannel::new(
            &s.record_name,
            app.client_id().as_str(),
            app.tenant_id().as_str(),
            webhook,
        )
    };
    built.map_err(|e| RegisterError(format!("channels.{channel}: {e}")))
}

fn client(s: &MessagingApiSettings, channel: &str) -> Result<DataverseClient, RegisterError> {
    let config = s.dataverse_config().map_err(|(field, reason)| {
        RegisterError(format!("`channels.{channel}.{field}`: {reason}"))
    })?;
    DataverseClient::new(config).map_err(|e| RegisterError(format!("channels.{channel}: {e}")))
}

fn record_id(
    s: &MessagingApiSettings,
    channel: &str,
    id: Option<&str>,
) -> Result<Guid, RegisterError> {
    let text = id.or(s.channel_id.as_deref()).ok_or_else(|| {
        RegisterError(format!(
            "no record id: give --id or set `channels.{channel}.channel_id`"
        ))
    })?;
    Guid::parse("channel_id", text).map_err(|e| RegisterError(e.to_string()))
}

/// Creates the channel record of the entry `channel`; its id.
///
/// # Errors
/// [`RegisterError`] naming the setting at fault or Dataverse's answer.
pub(crate) async fn create(config: &Config, channel: &str) -> Result<Guid, RegisterError> {
    let s = settings(config, channel)?;
    let record = channel_record(s, channel)?;
    client(s, channel)?
        .create(&record)
        .await
        .map_err(|e| RegisterError(format!("create failed: {e}")))
}

/// Carries out `action` for the channel entry `channel`; the lines to print.
///
/// # Errors
/// [`RegisterError`] naming the setting at fault or Dataverse's answer.
pub(crate) async fn run(
    config: &Config,
    channel: &str,
    action: Action,
    id: Option<&str>,
) -> Result<Vec<String>, RegisterError> {
    let s = settings(config, channel)?;
    let dataverse = client(s, channel)?;
    let failed = |what: &str, e: byoc_messaging_api::ClientError| {
        RegisterError(format!("{what} failed: {e}"))
    };
    match action {
        Action::Create => {
            let record = channel_record(s, channel)?;
            let id = create(config, channel).await?;
            Ok(vec![
                format!(
                    "created channel record {id} ({}, webhook {})",
                    record.name, record.webhook_url
                ),
                format!(
                    "set `channel_id = \"{id}\"` under [channels.{channel}] and add the channel to an Omnichannel messaging workstream"
                ),
            ])
        }
        Action::Update => {
            let record = channel_record(s, channel)?;
            let id = record_id(s, channel, id)?;
            dataverse
                .update(&id, &record)
                .await
                .map_err(|e| failed("update", e))?;
            Ok(vec![format!("updated channel record {id}")])
        }
        Action::List => {
            let records = dataverse.list().await.map_err(|e| failed("list", e))?;
            if records.is_empty() {
                return Ok(vec!["no Messaging API channel records".to_owned()]);
            }
            Ok(records
                .iter()
                .map(|r| {
                    format!(
                        "{}  {}  {}",
                        r.id.as_ref()
                            .map_or_else(|| "-".to_owned(), ToString::to_string),
                        r.name,
                        r.webhook_url
                    )
                })
                .collect())
        }
        Action::Delete => {
            let id = record_id(s, channel, id)?;
            dataverse
                .delete(&id)
                .await
                .map_err(|e| failed("delete", e))?;
            Ok(vec![format!("deleted channel record {id}")])
        }
    }
}
