//! [`SalesforceConfig`]: credentials, hosts and the channel definition of one Salesforce
//! channel, validated once when it is built.

use std::fmt;
use std::time::Duration;

use byoc_core::Secret;
use byoc_http::RootCa;
use byoc_http::jsonwebtoken::EncodingKey;
use url::Url;

use crate::error::ConfigError;

/// Production login host: the JWT `aud` and token endpoint host for production orgs.
pub const LOGIN_PRODUCTION: &str = "https://login.salesforce.com";
/// Sandbox login host.
pub const LOGIN_SANDBOX: &str = "https://test.salesforce.com";
/// The Pub/Sub API endpoint.
pub const PUBSUB_ENDPOINT: &str = "https://api.pubsub.salesforce.com:7443";

/// Longest channel address identifier the Interaction Service accepts.
const MAX_CHANNEL_ADDRESS: usize = 240;
/// Most events one Pub/Sub subscription may have requested at once.
const MAX_FETCH_BATCH: u16 = 100;

/// The connected app (or External Client App) credentials for the OAuth 2.0 JWT bearer
/// flow. The private key is parsed and tried once, here.
#[derive(Clone)]
pub struct Credentials {
    consumer_key: String,
    username: String,
    signing_key: EncodingKey,
    audience: String,
    token_url: Url,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("username", &self.username)
            .field("private_key", &"[redacted]")
            .field("audience", &self.audience)
            .field("token_url", &self.token_url.as_str())
            .finish()
    }
}

impl Credentials {
    /// Credentials against production login ([`LOGIN_PRODUCTION`]: the JWT `aud`, and the
    /// token endpoint `{host}/services/oauth2/token`).
    ///
    /// `private_key_pem` is the RSA key (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA
    /// PRIVATE KEY`) whose certificate is uploaded to the app.
    ///
    /// # Errors
    /// [`ConfigError::Empty`] for an empty value, [`ConfigError::PrivateKey`] when the key is
    /// not an RSA PEM key that can sign.
    pub fn new(
        consumer_key: impl Into<String>,
        username: impl Into<String>,
        private_key_pem: Secret,
    ) -> Result<Self, ConfigError> {
        let consumer_key = required("consumer_key", consumer_key.into())?;
        let username = required("username", username.into())?;
        if private_key_pem.is_empty() {
            return Err(ConfigError::Empty {
                field: "private_key_pem",
            });
        }
        let signing_key = crate::client::JwtBearer::signing_key(&private_key_pem)?;
        let login = Url::parse(LOGIN_PRODUCTION).map_err(|_| ConfigError::Invalid {
            field: "login_url",
            reason: "is not a URL",
        })?;
        let mut credentials = Self {
            consumer_key,
            username,
            signing_key,
            audience: String::new(),
            token_url: login.clone(),
        };
        credentials.set_login_url(&login)?;
        Ok(credentials)
    }

    /// Sets the login host: the JWT `aud` (its origin) and the token endpoint
    /// (`{origin}/services/oauth2/token`). [`LOGIN_SANDBOX`] for a sandbox, the My Domain
    /// login URL, or a simulator.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a URL that is not `http(s)`.
    pub fn with_login_url(mut self, login: &Url) -> Result<Self, ConfigError> {
        self.set_login_url(login)?;
        Ok(self)
    }

    fn set_login_url(&mut self, login: &Url) -> Result<(), ConfigError> {
        let invalid = ConfigError::Invalid {
            field: "login_url",
            reason: "must be an http(s) URL with a host",
        };
        if !matches!(login.scheme(), "http" | "https") || login.host().is_none() {
            return Err(invalid);
        }
        let origin = login.origin().ascii_serialization();
        self.token_url = Url::parse(&format!("{origin}/services/oauth2/token")).map_err(|_| {
            ConfigError::Invalid {
                field: "login_url",
                reason: "must be an http(s) URL with a host",
            }
        })?;
        self.audience = origin;
        Ok(())
    }

    /// Sets the JWT `aud` alone (when the token endpoint is not the login host).
    ///
    /// # Errors
    /// [`ConfigError::Empty`] for an empty audience.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Result<Self, ConfigError> {
        self.audience = required("audience", audience.into())?;
        Ok(self)
    }

    /// The consumer key (JWT `iss`).
    #[must_use]
    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    /// The Salesforce username the token is issued for (JWT `sub`).
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The JWT `aud`: the login host.
    #[must_use]
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Where the assertion is exchanged for an access token.
    #[must_use]
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    pub(crate) fn signing_key(&self) -> &EncodingKey {
        &self.signing_key
    }
}

/// The org's ConversationChannelDefinition: where outbound events come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelDefinition {
    developer_name: String,
    custom_platform_event: String,
    event_type_field: String,
    payload_field: String,
}

impl ChannelDefinition {
    /// A channel definition: its `DeveloperName` (the `AuthorizationContext` header), its
    /// `CustomPlatformEvent` (`ns__MyEvent__e`; the topic is `/event/{it}`), its
    /// `CustomEventTypeField` (`ns__EventType__c`) and `CustomEventPayloadField`
    /// (`ns__Payload__c`).
    ///
    /// # Errors
    /// [`ConfigError::Empty`] naming the empty value (only the event type field may be
    /// empty: old channel definitions have none).
    pub fn new(
        developer_name: impl Into<String>,
        custom_platform_event: impl Into<String>,
        event_type_field: impl Into<String>,
        payload_field: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            developer_name: required("channel.developer_name", developer_name.into())?,
            custom_platform_event: required(
                "channel.custom_platform_event",
                custom_platform_event.into(),
            )?,
            event_type_field: event_type_field.into(),
            payload_field: required("channel.payload_field", payload_field.into())?,
        })
    }

    /// The CCD `DeveloperName`: the `AuthorizationContext` header.
    #[must_use]
    pub fn developer_name(&self) -> &str {
        &self.developer_name
    }

    /// The CCD `CustomPlatformEvent` API name.
    #[must_use]
    pub fn custom_platform_event(&self) -> &str {
        &self.custom_platform_event
    }

    /// The CCD `CustomEventTypeField`.
    #[must_use]
    pub fn event_type_field(&self) -> &str {
        &self.event_type_field
    }

    /// The CCD `CustomEventPayloadField`.
    #[must_use]
    pub fn payload_field(&self) -> &str {
        &self.payload_field
    }

    /// The Pub/Sub topic: `/event/{custom_platform_event}`.
    #[must_use]
    pub fn topic(&self) -> String {
        format!("/event/{}", self.custom_platform_event)
    }
}

/// Everything one Salesforce channel needs. Required values go to [`SalesforceConfig::new`];
/// every other setting has the default written on its setter.
#[derive(Clone)]
pub struct SalesforceConfig {
    credentials: Credentials,
    org_id: String,
    scrt_url: Url,
    channel_address: String,
    channel: ChannelDefinition,
    instance_url: Option<Url>,
    pubsub_url: Url,
    token_lifetime: Duration,
    token_refresh_margin: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    body_limit: usize,
    root_cas: Vec<RootCa>,
    relay_secret: Option<Secret>,
    fetch_batch: u16,
    reconnect_delay: Duration,
}

impl fmt::Debug for SalesforceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceConfig")
            .field("credentials", &self.credentials)
            .field("org_id", &self.org_id)
            .field("scrt_url", &self.scrt_url.as_str())
            .field("channel_address", &self.channel_address)
            .field("channel", &self.channel)
            .field("instance_url", &self.instance_url.as_ref().map(Url::as_str))
            .field("pubsub_url", &self.pubsub_url.as_str())
            .field("token_lifetime", &self.token_lifetime)
            .field("token_refresh_margin", &self.token_refresh_margin)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("body_limit", &self.body_limit)
            .field("root_cas", &self.root_cas)
            .field("relay_secret", &self.relay_secret)
            .field("fetch_batch", &self.fetch_batch)
            .field("reconnect_delay", &self.reconnect_delay)
            .finish()
    }
}

impl SalesforceConfig {
    /// A configuration for one channel: the app `credentials`, the org id (`00D...`: the
    /// `OrgId` header and gRPC `tenantid`), the SCRT2 host
    /// (`https://<MyDomain>.my.salesforce-scrt.com`; calls go to `{scrt_url}/api/v1/...`),
    /// the MessagingChannel's `ChannelAddressIdentifier` (`to`) and the channel definition.
    ///
    /// # Errors
    /// [`ConfigError`] naming an empty or malformed value.
    pub fn new(
        credentials: Credentials,
        org_id: impl Into<String>,
        scrt_url: Url,
        channel_address: impl Into<String>,
        channel: ChannelDefinition,
    ) -> Result<Self, ConfigError> {
        let org_id = required("org_id", org_id.into())?;
        let channel_address = required("channel_address", channel_address.into())?;
        if channel_address.chars().count() > MAX_CHANNEL_ADDRESS {
            return Err(ConfigError::Invalid {
                field: "channel_address",
                reason: "is longer than 240 characters",
            });
        }
        Ok(Self {
            credentials,
            org_id,
            scrt_url: http_url("scrt_url", scrt_url)?,
            channel_address,
            channel,
            instance_url: None,
            pubsub_url: Url::parse(PUBSUB_ENDPOINT).map_err(|_| ConfigError::Invalid {
                field: "pubsub_url",
                reason: "is not a URL",
            })?,
            token_lifetime: Duration::from_secs(30 * 60),
            token_refresh_margin: byoc_http::DEFAULT_REFRESH_MARGIN,
            timeout: Duration::from_secs(30),
            max_response_bytes: 1024 * 1024,
            body_limit: 1024 * 1024,
            root_cas: Vec::new(),
            relay_secret: None,
            fetch_batch: MAX_FETCH_BATCH,
            reconnect_delay: Duration::from_secs(1),
        })
    }

    /// Sets the instance URL, `https://<MyDomain>.my.salesforce.com` (the gRPC
    /// `instanceurl`). Default: the token response's `instance_url`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a URL that is not `http(s)`.
    pub fn with_instance_url(mut self, url: Url) -> Result<Self, ConfigError> {
        self.instance_url = Some(http_url("instance_url", url)?);
        Ok(self)
    }

    /// Sets the Pub/Sub endpoint. Default [`PUBSUB_ENDPOINT`]; `http://` for a plaintext test
    /// server.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a URL that is not `http(s)`.
    pub fn with_pubsub_url(mut self, url: Url) -> Result<Self, ConfigError> {
        self.pubsub_url = http_url("pubsub_url", url)?;
        Ok(self)
    }

    /// Sets how long a minted access token is taken to be valid. Default 30 minutes: the JWT
    /// bearer answer carries no expiry, and the org's session timeout (15 minutes to 24
    /// hours, 2 hours by default) decides. A token the service rejects is replaced at once
    /// whatever this says.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Result<Self, ConfigError> {
        self.token_lifetime = non_zero("token_lifetime", lifetime)?;
        Ok(self)
    }

    /// Sets how long before the end of its lifetime a token is replaced. Default 5 minutes
    /// ([`byoc_http::DEFAULT_REFRESH_MARGIN`]), so with the default lifetime a token is
    /// minted again after 25 minutes; a lifetime no longer than the margin is used for half
    /// its length.
    #[must_use]
    pub fn with_token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Sets the time allowed for each REST call, connection to last byte. Default 30 seconds.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, ConfigError> {
        self.timeout = non_zero("timeout", timeout)?;
        Ok(self)
    }

    /// Sets the largest REST answer read, in bytes. Default 1 MiB.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Result<Self, ConfigError> {
        if bytes == 0 {
            return Err(ConfigError::Invalid {
                field: "max_response_bytes",
                reason: "must be positive",
            });
        }
        self.max_response_bytes = bytes;
        Ok(self)
    }

    /// Sets the largest relayed event accepted by the adapter's `receive`, in bytes. Default
    /// 1 MiB (the platform event field limit is far below).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_body_limit(mut self, bytes: usize) -> Result<Self, ConfigError> {
        if bytes == 0 {
            return Err(ConfigError::Invalid {
                field: "body_limit",
                reason: "must be positive",
            });
        }
        self.body_limit = bytes;
        Ok(self)
    }

    /// Trusts `ca` besides the web PKI roots, on every connection the adapter makes: the REST
    /// calls, the token endpoint and the Pub/Sub gRPC stream. For a private deployment or a
    /// simulator's TLS endpoints. Default: none.
    #[must_use]
    pub fn with_root_ca(mut self, ca: RootCa) -> Self {
        self.root_cas.push(ca);
        self
    }

    /// Requires relayed events posted to the adapter's `receive` to carry
    /// `Authorization: Bearer <secret>` (see [`RelayVerifier`](crate::RelayVerifier)).
    /// Default: none, and any relayed event for this channel is accepted.
    ///
    /// # Errors
    /// [`ConfigError::Empty`] for an empty secret.
    pub fn with_relay_secret(mut self, secret: Secret) -> Result<Self, ConfigError> {
        if secret.is_empty() {
            return Err(ConfigError::Empty {
                field: "relay_secret",
            });
        }
        self.relay_secret = Some(secret);
        Ok(self)
    }

    /// Sets how many events the subscriber requests at a time (`FetchRequest.num_requested`).
    /// Default 100, the most the Pub/Sub API grants.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] outside 1..=100.
    pub fn with_fetch_batch(mut self, events: u16) -> Result<Self, ConfigError> {
        if events == 0 || events > MAX_FETCH_BATCH {
            return Err(ConfigError::Invalid {
                field: "fetch_batch",
                reason: "must be between 1 and 100",
            });
        }
        self.fetch_batch = events;
        Ok(self)
    }

    /// Sets the subscriber's first reconnect delay, doubled up to 30 s. Default 1 second.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_reconnect_delay(mut self, delay: Duration) -> Result<Self, ConfigError> {
        self.reconnect_delay = non_zero("reconnect_delay", delay)?;
        Ok(self)
    }

    /// The app credentials.
    #[must_use]
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The org id.
    #[must_use]
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    /// The SCRT2 host.
    #[must_use]
    pub fn scrt_url(&self) -> &Url {
        &self.scrt_url
    }

    /// The channel address identifier.
    #[must_use]
    pub fn channel_address(&self) -> &str {
        &self.channel_address
    }

    /// The channel definition.
    #[must_use]
    pub fn channel(&self) -> &ChannelDefinition {
        &self.channel
    }

    /// The instance URL, when set.
    #[must_use]
    pub fn instance_url(&self) -> Option<&Url> {
        self.instance_url.as_ref()
    }

    /// The Pub/Sub endpoint.
    #[must_use]
    pub fn pubsub_url(&self) -> &Url {
        &self.pubsub_url
    }

    /// How long a minted token is taken to be valid.
    #[must_use]
    pub fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }

    /// How long before the end of its lifetime a token is replaced.
    #[must_use]
    pub fn token_refresh_margin(&self) -> Duration {
        self.token_refresh_margin
    }

    /// The time allowed for each REST call.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The largest REST answer read.
    #[must_use]
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The largest relayed event accepted.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The extra CAs trusted.
    #[must_use]
    pub fn root_cas(&self) -> &[RootCa] {
        &self.root_cas
    }

    /// The relay secret, when set.
    #[must_use]
    pub fn relay_secret(&self) -> Option<&Secret> {
        self.relay_secret.as_ref()
    }

    /// Events requested per `FetchRequest`.
    #[must_use]
    pub fn fetch_batch(&self) -> u16 {
        self.fetch_batch
    }

    /// The subscriber's first reconnect delay.
    #[must_use]
    pub fn reconnect_delay(&self) -> Duration {
        self.reconnect_delay
    }
}

fn required(field: &'static str, value: String) -> Result<String, ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::Empty { field });
    }
    Ok(value)
}

fn non_zero(field: &'static str, value: Duration) -> Result<Duration, ConfigError> {
    if value.is_zero() {
        return Err(ConfigError::Invalid {
            field,
            reason: "must be longer than zero",
        });
    }
    Ok(value)
}

fn http_url(field: &'static str, url: Url) -> Result<Url, ConfigError> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::Invalid {
            field,
            reason: "must be an http(s) URL with a host",
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::Invalid {
            field,
            reason: "must have no query or fragment",
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests;
