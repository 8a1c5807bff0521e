//! [`Config`]: credentials, hosts and the channel definition of one Salesforce channel.

use std::fmt;
use std::time::Duration;

use byoc_core::{AdapterError, Secret};

/// Production login host, the JWT `aud` and token endpoint host for production orgs.
pub const LOGIN_PRODUCTION: &str = "https://login.salesforce.com";
/// Sandbox login host.
pub const LOGIN_SANDBOX: &str = "https://test.salesforce.com";
/// The Pub/Sub API endpoint.
pub const PUBSUB_ENDPOINT: &str = "https://api.pubsub.salesforce.com:7443";

/// The connected app (or External Client App) credentials for the OAuth 2.0 JWT bearer flow.
#[derive(Clone)]
#[non_exhaustive]
pub struct Credentials {
    /// The consumer key (JWT `iss`).
    pub consumer_key: String,
    /// The Salesforce username the token is issued for (JWT `sub`).
    pub username: String,
    /// The RSA private key (PKCS#8 or PKCS#1 PEM) whose certificate is uploaded to the app.
    pub private_key_pem: Secret,
    /// The JWT `aud`: the login host. Default [`LOGIN_PRODUCTION`].
    pub audience: String,
    /// Where the assertion is exchanged: `{token_url}` (default
    /// `https://login.salesforce.com/services/oauth2/token`).
    pub token_url: String,
}

impl Credentials {
    /// Credentials against production login.
    #[must_use]
    pub fn new(
        consumer_key: impl Into<String>,
        username: impl Into<String>,
        private_key_pem: Secret,
    ) -> Self {
        Self {
            consumer_key: consumer_key.into(),
            username: username.into(),
            private_key_pem,
            audience: LOGIN_PRODUCTION.to_owned(),
            token_url: format!("{LOGIN_PRODUCTION}/services/oauth2/token"),
        }
    }

    /// Sets the login host: the JWT `aud` and the token endpoint (`{host}/services/oauth2/token`).
    #[must_use]
    pub fn with_login_host(mut self, host: &str) -> Self {
        let host = host.trim_end_matches('/');
        self.audience = host.to_owned();
        self.token_url = format!("{host}/services/oauth2/token");
        self
    }

    /// Sets the JWT `aud` alone (when the token endpoint is not the login host).
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("username", &self.username)
            .field("private_key_pem", &self.private_key_pem)
            .field("audience", &self.audience)
            .field("token_url", &self.token_url)
            .finish()
    }
}

/// The org's ConversationChannelDefinition: where outbound events come from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelDefinition {
    /// The CCD `DeveloperName`: the `AuthorizationContext` header.
    pub developer_name: String,
    /// The CCD `CustomPlatformEvent` API name (`ns__MyEvent__e`); the topic is
    /// `/event/{custom_platform_event}`.
    pub custom_platform_event: String,
    /// The CCD `CustomEventTypeField` (`ns__EventType__c`).
    pub event_type_field: String,
    /// The CCD `CustomEventPayloadField` (`ns__Payload__c`).
    pub payload_field: String,
}

impl ChannelDefinition {
    /// A channel definition.
    #[must_use]
    pub fn new(
        developer_name: impl Into<String>,
        custom_platform_event: impl Into<String>,
        event_type_field: impl Into<String>,
        payload_field: impl Into<String>,
    ) -> Self {
        Self {
            developer_name: developer_name.into(),
            custom_platform_event: custom_platform_event.into(),
            event_type_field: event_type_field.into(),
            payload_field: payload_field.into(),
        }
    }

    /// The Pub/Sub topic: `/event/{custom_platform_event}`.
    #[must_use]
    pub fn topic(&self) -> String {
        format!("/event/{}", self.custom_platform_event)
    }
}

/// Everything one Salesforce channel needs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// OAuth credentials.
    pub credentials: Credentials,
    /// The org id (`00D...`): the `OrgId` header and the gRPC `tenantid`.
    pub org_id: String,
    /// The SCRT2 host, `https://<MyDomain>.my.salesforce-scrt.com`; requests go to
    /// `{scrt_url}/api/v1/...`.
    pub scrt_url: String,
    /// The instance URL, `https://<MyDomain>.my.salesforce.com` (gRPC `instanceurl`). The token
    /// response's `instance_url` is used when this is empty.
    pub instance_url: String,
    /// The Pub/Sub endpoint. Default [`PUBSUB_ENDPOINT`].
    pub pubsub_url: String,
    /// The MessagingChannel's `ChannelAddressIdentifier` (`to`).
    pub channel_address: String,
    /// The channel definition.
    pub channel: ChannelDefinition,
    /// How long a minted access token is used before it is minted again. Default 30 minutes
    /// (Salesforce's shortest session timeout is 15 minutes and the default 2 hours; the
    /// JWT bearer flow returns no expiry). A 401 or error 10004 re-mints at once anyway.
    pub token_refresh_after: Duration,
    /// Events requested per `FetchRequest`. Default 100 (as Salesforce's samples).
    pub fetch_batch: i32,
    /// First reconnect delay of the subscriber, doubled up to 30 s. Default 1 s.
    pub reconnect_delay: Duration,
}

impl Config {
    /// A configuration; the defaults are written on each field.
    #[must_use]
    pub fn new(
        credentials: Credentials,
        org_id: impl Into<String>,
        scrt_url: impl Into<String>,
        channel_address: impl Into<String>,
        channel: ChannelDefinition,
    ) -> Self {
        Self {
            credentials,
            org_id: org_id.into(),
            scrt_url: scrt_url.into().trim_end_matches('/').to_owned(),
            instance_url: String::new(),
            pubsub_url: PUBSUB_ENDPOINT.to_owned(),
            channel_address: channel_address.into(),
            channel,
            token_refresh_after: Duration::from_secs(30 * 60),
            fetch_batch: 100,
            reconnect_delay: Duration::from_secs(1),
        }
    }

    /// Sets the instance URL.
    #[must_use]
    pub fn with_instance_url(mut self, url: impl Into<String>) -> Self {
        self.instance_url = url.into();
        self
    }

    /// Sets the Pub/Sub endpoint (`http://` for a plaintext test server).
    #[must_use]
    pub fn with_pubsub_url(mut self, url: impl Into<String>) -> Self {
        self.pubsub_url = url.into();
        self
    }

    /// Sets the token refresh interval.
    #[must_use]
    pub fn with_token_refresh_after(mut self, after: Duration) -> Self {
        self.token_refresh_after = after;
        self
    }

    /// Sets the events requested per `FetchRequest`.
    #[must_use]
    pub fn with_fetch_batch(mut self, n: i32) -> Self {
        self.fetch_batch = n;
        self
    }

    /// Sets the first reconnect delay.
    #[must_use]
    pub fn with_reconnect_delay(mut self, delay: Duration) -> Self {
        self.reconnect_delay = delay;
        self
    }

    /// Checks that every required value is present.
    ///
    /// # Errors
    /// [`AdapterError::Configuration`] naming the empty value.
    pub fn validate(&self) -> Result<(), AdapterError> {
        let required = [
            ("consumer_key", self.credentials.consumer_key.as_str()),
            ("username", self.credentials.username.as_str()),
            ("org_id", self.org_id.as_str()),
            ("scrt_url", self.scrt_url.as_str()),
            ("channel_address", self.channel_address.as_str()),
            (
                "channel.developer_name",
                self.channel.developer_name.as_str(),
            ),
            ("channel.payload_field", self.channel.payload_field.as_str()),
        ];
        for (name, value) in required {
            if value.trim().is_empty() {
                return Err(AdapterError::configuration(format!("`{name}` is empty")));
            }
        }
        if self.credentials.private_key_pem.is_empty() {
            return Err(AdapterError::configuration("`private_key_pem` is empty"));
        }
        if self.channel_address.len() > 240 {
            return Err(AdapterError::configuration(
                "`channel_address` is longer than 240 characters",
            ));
        }
        if self.fetch_batch <= 0 {
            return Err(AdapterError::configuration(
                "`fetch_batch` must be positive",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new(
            Credentials::new(
                "key",
                "user@example.com",
                Secret::new("-----BEGIN PRIVATE KEY-----"),
            ),
            "00D000000000001",
            "https://x.my.salesforce-scrt.com/",
            "chan",
            ChannelDefinition::new("Def", "ns__Ev__e", "ns__EventType__c", "ns__Payload__c"),
        )
    }

    #[test]
    fn defaults_and_topic() {
        let c = config();
        assert_eq!(c.scrt_url, "https://x.my.salesforce-scrt.com");
        assert_eq!(c.channel.topic(), "/event/ns__Ev__e");
        assert_eq!(c.credentials.audience, LOGIN_PRODUCTION);
        assert_eq!(c.fetch_batch, 100);
        c.validate().unwrap();
        let s = Credentials::new("k", "u", Secret::new("p")).with_login_host(LOGIN_SANDBOX);
        assert_eq!(
            s.token_url,
            "https://test.salesforce.com/services/oauth2/token"
        );
    }

    #[test]
    fn debug_redacts_the_private_key() {
        let text = format!("{:?}", config());
        assert!(!text.contains("BEGIN PRIVATE KEY"), "{text}");
        assert!(text.contains("redacted"));
    }

    #[test]
    fn validate_names_the_empty_value() {
        let mut c = config();
        c.org_id = String::new();
        let e = c.validate().unwrap_err();
        assert!(e.to_string().contains("org_id"));
        let mut c = config();
        c.credentials.private_key_pem = Secret::new("");
        assert!(c.validate().is_err());
        let mut c = config();
        c.fetch_batch = 0;
        assert!(c.validate().is_err());
    }
}
