//! Channel registration: the `msdyn_occustommessagingchannel` Dataverse record as a typed,
//! validated value, and a Dataverse Web API client that creates, updates, deletes and lists
//! these records (`{org_url}/api/data/v9.2/msdyn_occustommessagingchannels`), so no one has
//! to paste JavaScript into a browser console to register a channel (see
//! `docs/protocols/messaging-api.md#channel-registration`).

use std::fmt;
use std::sync::Arc;

use byoc_http::{Authorized, ClientCredentials, HttpTransport};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::call;
use crate::config::{DataverseConfig, Guid};
use crate::error::{ClientError, ConfigError};

/// `msdyn_occustomchannelid` of a Messaging API channel ("MessagingAPI" in the docs).
pub const MESSAGING_API_CHANNEL_TYPE: i64 = 192_350_005;
/// The entity set.
const ENTITY_SET: &str = "msdyn_occustommessagingchannels";
/// The Web API path prefix.
const WEB_API_PATH: &str = "/api/data/v9.2";

/// A custom messaging channel as registered in Dataverse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomChannel {
    /// The record id (`msdyn_occustommessagingchannelid`), the `channel-id` of API calls.
    /// `None` before creation.
    pub id: Option<Guid>,
    /// Display name (`msdyn_name`, ≤ 256 characters).
    pub name: String,
    /// The Entra app id (`msdyn_appid`).
    pub app_id: Guid,
    /// The Entra tenant id (`msdyn_tenantid`).
    pub tenant_id: Guid,
    /// The webhook base URL (`msdyn_webhookurl`): HTTPS.
    pub webhook_url: Url,
}

impl CustomChannel {
    /// A channel to register; the webhook must be HTTPS.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field at fault.
    pub fn new(
        name: &str,
        app_id: &str,
        tenant_id: &str,
        webhook_url: &str,
    ) -> Result<Self, ConfigError> {
        Self::build(name, app_id, tenant_id, webhook_url, false)
    }

    /// As [`CustomChannel::new`], also accepting `http://` for loopback hosts
    /// (`127.0.0.1`, `[::1]`, `localhost`), for development against the simulator.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field at fault.
    pub fn new_for_loopback(
        name: &str,
        app_id: &str,
        tenant_id: &str,
        webhook_url: &str,
    ) -> Result<Self, ConfigError> {
        Self::build(name, app_id, tenant_id, webhook_url, true)
    }

    fn build(
        name: &str,
        app_id: &str,
        tenant_id: &str,
        webhook_url: &str,
        loopback_http: bool,
    ) -> Result<Self, ConfigError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ConfigError::Empty {
                field: "msdyn_name",
            });
        }
        if name.chars().count() > crate::render::MAX_NAME_CHARS {
            return Err(ConfigError::TooLong {
                field: "msdyn_name",
            });
        }
        Ok(Self {
            id: None,
            name: name.to_owned(),
            app_id: Guid::parse("msdyn_appid", app_id)?,
            tenant_id: Guid::parse("msdyn_tenantid", tenant_id)?,
            webhook_url: webhook(webhook_url, loopback_http)?,
        })
    }

    /// The full URL Omnichannel posts a conversation's activities to.
    #[must_use]
    pub fn activities_url(&self, conversation_id: &str) -> String {
        format!(
            "{}/v3/conversations/{conversation_id}/activities",
            self.webhook_url.as_str().trim_end_matches('/')
        )
    }

    /// The record body for create/update.
    #[must_use]
    pub fn to_record(&self) -> ChannelRecord {
        ChannelRecord {
            id: None,
            channel_type: Some(MESSAGING_API_CHANNEL_TYPE),
            name: Some(self.name.clone()),
            app_id: Some(self.app_id.to_string()),
            tenant_id: Some(self.tenant_id.to_string()),
            webhook_url: Some(self.webhook_url.as_str().trim_end_matches('/').to_owned()),
        }
    }

    /// Reads a record back (loopback `http://` webhooks are accepted when reading).
    ///
    /// # Errors
    /// [`ConfigError`] naming the field at fault.
    pub fn from_record(r: &ChannelRecord) -> Result<Self, ConfigError> {
        let mut c = Self::build(
            r.name.as_deref().unwrap_or_default(),
            r.app_id.as_deref().unwrap_or_default(),
            r.tenant_id.as_deref().unwrap_or_default(),
            r.webhook_url.as_deref().unwrap_or_default(),
            true,
        )?;
        c.id =
            r.id.as_deref()
                .map(|i| Guid::parse("msdyn_occustommessagingchannelid", i))
                .transpose()?;
        Ok(c)
    }
}

fn webhook(text: &str, loopback_http: bool) -> Result<Url, ConfigError> {
    let field = "msdyn_webhookurl";
    let url = crate::config::parse_url(field, text)?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError::InvalidUrl { field });
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback_http && is_loopback(&url) => Ok(url),
        _ => Err(ConfigError::NotHttps { field }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The wire form of the record (Dataverse logical names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChannelRecord {
    /// `msdyn_occustommessagingchannelid`.
    #[serde(
        rename = "msdyn_occustommessagingchannelid",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// `msdyn_occustomchannelid` (192350005).
    #[serde(
        rename = "msdyn_occustomchannelid",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel_type: Option<i64>,
    /// `msdyn_name`.
    #[serde(rename = "msdyn_name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `msdyn_appid`.
    #[serde(rename = "msdyn_appid", skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// `msdyn_tenantid`.
    #[serde(rename = "msdyn_tenantid", skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `msdyn_webhookurl`.
    #[serde(rename = "msdyn_webhookurl", skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

#[derive(Deserialize)]
struct Collection {
    #[serde(default)]
    value: Vec<ChannelRecord>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

fn set_url(cfg: &DataverseConfig, id: Option<&Guid>) -> String {
    let base = cfg.org_url().as_str().trim_end_matches('/');
    match id {
        Some(id) => format!("{base}{WEB_API_PATH}/{ENTITY_SET}({id})"),
        None => format!("{base}{WEB_API_PATH}/{ENTITY_SET}"),
    }
}

fn dv_request(
    endpoint: &'static str,
    token: &byoc_core::Secret,
    method: http::Method,
    url: &str,
    body: Option<&ChannelRecord>,
) -> Result<http::Request<Bytes>, ClientError> {
    let authorization = byoc_http::bearer(token).map_err(|_| ClientError::Build {
        endpoint,
        what: "token is not a header value",
    })?;
    let mut b = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::AUTHORIZATION, authorization)
        .header(http::header::ACCEPT, "application/json")
        .header("OData-MaxVersion", "4.0")
        .header("OData-Version", "4.0");
    let body = match body {
        Some(r) => {
            b = b
                .header(http::header::CONTENT_TYPE, "application/json")
                .header("Prefer", "return=representation");
            serde_json::to_vec(r).map_err(|_| ClientError::Build {
                endpoint,
                what: "JSON body",
            })?
        }
        None => Vec::new(),
    };
    b.body(Bytes::from(body)).map_err(|_| ClientError::Build {
        endpoint,
        what: "URL or header",
    })
}

/// `POST {org}/api/data/v9.2/msdyn_occustommessagingchannels`.
fn prepare_create_channel(
    cfg: &DataverseConfig,
    token: &byoc_core::Secret,
    channel: &CustomChannel,
) -> Result<http::Request<Bytes>, ClientError> {
    dv_request(
        "dataverse create",
        token,
        http::Method::POST,
        &set_url(cfg, None),
        Some(&channel.to_record()),
    )
}

/// The id of a created record: from the `OData-EntityId` header (`...(guid)`) or from a
/// `return=representation` body.
fn parse_created_channel(resp: &http::Response<Bytes>) -> Result<Guid, ClientError> {
    if !resp.status().is_success() {
        return Err(ClientError::status_of("dataverse create", resp));
    }
    let decode = || ClientError::Decode {
        endpoint: "dataverse create",
        field: "msdyn_occustommessagingchannelid",
    };
    if let Some(h) = resp
        .headers()
        .get("OData-EntityId")
        .and_then(|v| v.to_str().ok())
        && let Some(inner) = h
            .rsplit_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(')'))
    {
        return Guid::parse("msdyn_occustommessagingchannelid", inner).map_err(|_| decode());
    }
    let r: ChannelRecord = serde_json::from_slice(resp.body()).map_err(|_| decode())?;
    Guid::parse(
        "msdyn_occustommessagingchannelid",
        r.id.as_deref().unwrap_or_default(),
    )
    .map_err(|_| decode())
}

/// The Dataverse client for channel records. Cheap to clone.
#[derive(Clone)]
pub struct DataverseClient {
    config: Arc<DataverseConfig>,
    auth: Arc<Authorized<ClientCredentials>>,
}

impl fmt::Debug for DataverseClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataverseClient")
            .field("org_url", &self.config.org_url().as_str())
            .field("auth", &self.auth)
            .finish()
    }
}

impl DataverseClient {
    /// A client over reqwest, built from the config's HTTP settings.
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`] when the HTTP client cannot be built.
    #[cfg(feature = "reqwest")]
    pub fn new(config: DataverseConfig) -> Result<Self, ConfigError> {
        let transport = config.http().transport()?;
        Self::with_transport(config, transport)
    }

    /// A client over any transport.
    ///
    /// # Errors
    /// None today; the signature matches the other constructors of the family.
    pub fn with_transport(
        config: DataverseConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        let grant = config.app().grant(config.token_url(), config.scope());
        let auth = Authorized::new(transport, grant, config.token_refresh_margin());
        Ok(Self {
            config: Arc::new(config),
            auth: Arc::new(auth),
        })
    }

    /// Creates the record; returns its id (the `channel-id` for the Messaging API).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn create(&self, channel: &CustomChannel) -> Result<Guid, ClientError> {
        let cfg = &self.config;
        let resp = call(&self.auth, "dataverse create", |t| {
            prepare_create_channel(cfg, t, channel)
        })
        .await?;
        parse_created_channel(&resp)
    }

    /// Updates the record `id` with `channel`'s values.
    ///
    /// # Errors
    /// [`ClientError`] (`404` when no such record).
    pub async fn update(&self, id: &Guid, channel: &CustomChannel) -> Result<(), ClientError> {
        let url = set_url(&self.config, Some(id));
        let record = channel.to_record();
        let resp = call(&self.auth, "dataverse update", |t| {
            let mut req = dv_request(
                "dataverse update",
                t,
                http::Method::PATCH,
                &url,
                Some(&record),
            )?;
            // Update only: never create a record through PATCH.
            req.headers_mut()
                .insert("If-Match", http::HeaderValue::from_static("*"));
            Ok(req)
        })
        .await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::status_of("dataverse update", &resp))
        }
    }

    /// Deletes the record `id`.
    ///
    /// # Errors
    /// [`ClientError`] (`404` when no such record).
    pub async fn delete(&self, id: &Guid) -> Result<(), ClientError> {
        let url = set_url(&self.config, Some(id));
        let resp = call(&self.auth, "dataverse delete", |t| {
            dv_request("dataverse delete", t, http::Method::DELETE, &url, None)
        })
        .await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::status_of("dataverse delete", &resp))
        }
    }

    /// Every Messaging API channel record, following `@odata.nextLink` (records of other
    /// channel types and records that do not validate are skipped with a log line).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn list(&self) -> Result<Vec<CustomChannel>, ClientError> {
        let mut url = format!(
            "{}?$filter=msdyn_occustomchannelid%20eq%20{MESSAGING_API_CHANNEL_TYPE}",
            set_url(&self.config, None)
        );
        let mut out = Vec::new();
        for _ in 0..100 {
            let u = url.clone();
            let resp = call(&self.auth, "dataverse list", |t| {
                dv_request("dataverse list", t, http::Method::GET, &u, None)
            })
            .await?;
            if !resp.status().is_success() {
                return Err(ClientError::status_of("dataverse list", &resp));
            }
            let page: Collection =
                serde_json::from_slice(resp.body()).map_err(|_| ClientError::Decode {
                    endpoint: "dataverse list",
                    field: "value",
                })?;
            for r in &page.value {
                if r.channel_type
                    .is_some_and(|t| t != MESSAGING_API_CHANNEL_TYPE)
                {
                    continue;
                }
                match CustomChannel::from_record(r) {
                    Ok(c) => out.push(c),
                    Err(e) => tracing::warn!(error = %e, "skipping channel record"),
                }
            }
            match page.next_link {
                // Follow only links on the same organization (the token is sent along).
                Some(next) if next.starts_with(self.config.org_url().as_str()) => url = next,
                _ => break,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
