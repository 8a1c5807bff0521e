//! Configuration: [`ConnectorConfig`] for the bot side (inbound JWTs, outbound Connector
//! calls) and [`DirectLineConfig`] for the Direct Line 3.0 client.

use std::fmt;
use std::time::Duration;

use byoc_core::Secret;

/// OpenID metadata of the Bot Framework channel token issuer (B.3).
pub const BOTFRAMEWORK_OPENID_METADATA_URL: &str =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// Issuer of tokens the Bot Framework channels send to bots (B.3).
pub const BOTFRAMEWORK_ISSUER: &str = "https://api.botframework.com";
/// Microsoft Entra login base; the token endpoint is `{base}/{tenant}/oauth2/v2.0/token`.
pub const LOGIN_BASE_URL: &str = "https://login.microsoftonline.com";
/// Tenant of multi-tenant bots (B.2).
pub const DEFAULT_TENANT: &str = "botframework.com";
/// Scope of Connector tokens (B.2).
pub const CONNECTOR_SCOPE: &str = "https://api.botframework.com/.default";
/// The global Direct Line 3.0 base URL (C.1).
pub const DIRECTLINE_BASE_URL: &str = "https://directline.botframework.com/v3/directline";
/// Largest serialized activity Direct Line and the connector accept (B.1, C.6).
pub const MAX_ACTIVITY_BYTES: usize = 262_144;
/// Clock skew allowed on `exp` / `nbf` (B.3, botbuilder-js `clockTolerance`).
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// The bot side: our host is the messaging endpoint of a Bot Framework bot.
#[derive(Clone)]
#[non_exhaustive]
pub struct ConnectorConfig {
    /// The bot's Microsoft App ID: the `aud` inbound tokens must carry, and the
    /// client-credentials `client_id`.
    pub app_id: String,
    /// The bot's app password (client secret).
    pub app_password: Secret,
    /// Entra tenant of the token endpoint. Default [`DEFAULT_TENANT`] (multi-tenant bots);
    /// single-tenant bots set their tenant id.
    pub tenant: String,
    /// Login base URL. Default [`LOGIN_BASE_URL`].
    pub login_base_url: String,
    /// Scope of Connector tokens. Default [`CONNECTOR_SCOPE`].
    pub scope: String,
    /// OpenID metadata URL of the channel token issuer. Default
    /// [`BOTFRAMEWORK_OPENID_METADATA_URL`].
    pub openid_metadata_url: String,
    /// Accepted `iss` values. Default `[`[`BOTFRAMEWORK_ISSUER`]`]`.
    pub issuers: Vec<String>,
    /// Clock skew on `exp` / `nbf`. Default [`CLOCK_SKEW`] (5 minutes).
    pub clock_skew: Duration,
    /// Service URL patterns trusted in addition to those seen in validated activities
    /// (`*` matches any run of characters, e.g. `https://*.botframework.com/*`). Default
    /// empty.
    pub trusted_service_urls: Vec<String>,
    /// Largest inbound body accepted. Default 1 MiB.
    pub max_body_bytes: usize,
}

impl ConnectorConfig {
    /// A configuration for the Azure Bot Service public cloud.
    #[must_use]
    pub fn new(app_id: impl Into<String>, app_password: Secret) -> Self {
        Self {
            app_id: app_id.into(),
            app_password,
            tenant: DEFAULT_TENANT.to_owned(),
            login_base_url: LOGIN_BASE_URL.to_owned(),
            scope: CONNECTOR_SCOPE.to_owned(),
            openid_metadata_url: BOTFRAMEWORK_OPENID_METADATA_URL.to_owned(),
            issuers: vec![BOTFRAMEWORK_ISSUER.to_owned()],
            clock_skew: CLOCK_SKEW,
            trusted_service_urls: Vec::new(),
            max_body_bytes: 1024 * 1024,
        }
    }

    /// Points everything at one authority (the simulator, a sovereign cloud): login base,
    /// OpenID metadata URL and issuer.
    #[must_use]
    pub fn with_authority(
        mut self,
        login_base_url: impl Into<String>,
        openid_metadata_url: impl Into<String>,
        issuer: impl Into<String>,
    ) -> Self {
        self.login_base_url = login_base_url.into();
        self.openid_metadata_url = openid_metadata_url.into();
        self.issuers = vec![issuer.into()];
        self
    }

    /// Sets the tenant (single-tenant bots).
    #[must_use]
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }

    /// Adds a trusted service URL pattern.
    #[must_use]
    pub fn with_trusted_service_url(mut self, pattern: impl Into<String>) -> Self {
        self.trusted_service_urls.push(pattern.into());
        self
    }

    /// The client-credentials token endpoint.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.login_base_url.trim_end_matches('/'),
            self.tenant
        )
    }
}

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorConfig")
            .field("app_id", &self.app_id)
            .field("app_password", &self.app_password)
            .field("tenant", &self.tenant)
            .field("login_base_url", &self.login_base_url)
            .field("openid_metadata_url", &self.openid_metadata_url)
            .field("issuers", &self.issuers)
            .field("trusted_service_urls", &self.trusted_service_urls)
            .finish_non_exhaustive()
    }
}

/// How a Direct Line client authenticates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum DirectLineCredential {
    /// The Direct Line secret: never expires; the client exchanges it for a conversation
    /// token before starting (so the secret itself never goes to `/conversations`).
    Secret(Secret),
    /// A token minted elsewhere (by your back end); refreshed before it expires.
    Token(Secret),
}

/// The Direct Line 3.0 client: our host is the channel talking to a bot.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DirectLineConfig {
    /// Base URL, ending in `/v3/directline`. Default [`DIRECTLINE_BASE_URL`].
    pub base_url: String,
    /// Secret or token.
    pub credential: DirectLineCredential,
    /// The user id put in `from.id` (prefix it with `dl_` when enhanced authentication is
    /// on). Default `dl_` + a random UUID.
    pub user_id: String,
    /// The user's display name. Default none.
    pub user_name: Option<String>,
    /// Polling interval of the fallback poller. Default 1 s (Direct Line's UI guidance).
    pub poll_interval: Duration,
    /// Shortest and longest wait before reconnecting a dropped WebSocket (a random value in
    /// between is used). Default 3 s to 15 s, as DirectLineJS.
    pub reconnect_backoff: (Duration, Duration),
    /// Refresh a token this long before it expires. Default 15 minutes (DirectLineJS
    /// refreshes every half lifetime of the 1800 s tokens).
    pub refresh_before_expiry: Duration,
}

impl DirectLineConfig {
    /// A configuration against the global Direct Line service.
    #[must_use]
    pub fn new(credential: DirectLineCredential) -> Self {
        Self {
            base_url: DIRECTLINE_BASE_URL.to_owned(),
            credential,
            user_id: format!("dl_{}", uuid::Uuid::new_v4().simple()),
            user_name: None,
            poll_interval: Duration::from_secs(1),
            reconnect_backoff: (Duration::from_secs(3), Duration::from_secs(15)),
            refresh_before_expiry: Duration::from_secs(15 * 60),
        }
    }

    /// Sets the base URL (a regional endpoint, or the simulator's `.../v3/directline`).
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the user.
    #[must_use]
    pub fn with_user(mut self, id: impl Into<String>, name: Option<String>) -> Self {
        self.user_id = id.into();
        self.user_name = name;
        self
    }

    /// Sets the polling interval.
    #[must_use]
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// Sets the reconnect backoff range.
    #[must_use]
    pub fn with_reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_backoff = (min, max.max(min));
        self
    }
}

/// Whether `url` matches the glob `pattern`, ASCII case-insensitively: `*` matches any run
/// of characters other than `/` (so `https://*.botframework.com/` cannot be satisfied by a
/// path), and a `*` that ends the pattern matches everything that follows.
#[must_use]
pub fn url_matches(pattern: &str, url: &str) -> bool {
    fn go(p: &[u8], u: &[u8]) -> bool {
        match p.split_first() {
            None => u.is_empty(),
            Some((b'*', [])) => true,
            Some((b'*', rest)) => {
                let mut i = 0;
                loop {
                    if go(rest, &u[i..]) {
                        return true;
                    }
                    if i >= u.len() || u[i] == b'/' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some((c, rest)) => match u.split_first() {
                Some((d, urest)) if c.eq_ignore_ascii_case(d) => go(rest, urest),
                _ => false,
            },
        }
    }
    go(pattern.as_bytes(), url.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_password() {
        let c = ConnectorConfig::new("app", Secret::new("hunter2-password"));
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2"), "{s}");
        let d = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new("dl-secret-xyz")));
        assert!(!format!("{d:?}").contains("dl-secret-xyz"));
    }

    #[test]
    fn token_url_per_tenant() {
        let c = ConnectorConfig::new("app", Secret::new("p"));
        assert_eq!(
            c.token_url(),
            "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
        );
        let c = c.with_tenant("tid");
        assert!(c.token_url().ends_with("/tid/oauth2/v2.0/token"));
    }

    #[test]
    fn glob_table() {
        for (p, u, want) in [
            (
                "https://*.botframework.com/*",
                "https://smba.botframework.com/teams/",
                true,
            ),
            (
                "https://*.botframework.com/*",
                "https://evil.example/x.botframework.com/",
                false,
            ),
            ("https://a.example/", "https://a.example/", true),
            ("https://a.example/", "https://a.example/x", false),
            ("https://a.example/*", "HTTPS://A.EXAMPLE/x", true),
            ("*", "anything", true),
            ("https://*/v3/", "https://x/v3/", true),
        ] {
            assert_eq!(url_matches(p, u), want, "{p} vs {u}");
        }
    }
}
