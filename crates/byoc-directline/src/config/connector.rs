//! [`ConnectorConfig`]: the bot side of the Bot Framework.

use std::fmt;
use std::time::Duration;

use byoc_core::Secret;
use byoc_http::RootCa;
use url::Url;

use super::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, default_url, http_url, non_zero_duration,
    non_zero_size,
};
use crate::error::ConfigError;

/// OpenID metadata of the Bot Framework channel token issuer
/// (`docs/protocols/bot-framework.md#signing-keys`).
const OPENID_METADATA_URL: &str =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// Issuer of the tokens channels send to bots.
const CHANNEL_ISSUER: &str = "https://api.botframework.com";
/// Microsoft Entra login base; the token endpoint is `{base}/{tenant}/oauth2/v2.0/token`.
const LOGIN_URL: &str = "https://login.microsoftonline.com";
/// Tenant of multi-tenant bots (`docs/protocols/bot-framework.md#connector-token`).
const DEFAULT_TENANT: &str = "botframework.com";
/// Scope of Connector tokens.
const CONNECTOR_SCOPE: &str = "https://api.botframework.com/.default";
/// Clock skew allowed on `exp` / `nbf`: 5 minutes, as botbuilder.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// Replace a Connector token this long before it expires: 5 minutes, as botbuilder.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Largest inbound body: 1 MiB.
const BODY_LIMIT: usize = 1024 * 1024;

/// The bot side: our host is the messaging endpoint of a Bot Framework bot. It checks the
/// JWT channels send with each activity and calls the Connector with a client-credentials
/// token.
///
/// Required: the bot's app id and password. Every other setting has the default written on
/// its setter; [`ConnectorConfig::with_authority`] points everything at another cloud or at
/// the simulator.
#[derive(Clone)]
pub struct ConnectorConfig {
    app_id: String,
    app_password: Secret,
    tenant: String,
    login_url: Url,
    token_url: Url,
    scope: String,
    openid_metadata_url: Url,
    issuers: Vec<String>,
    clock_skew: Duration,
    trusted_service_urls: Vec<String>,
    body_limit: usize,
    token_refresh_margin: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    root_cas: Vec<RootCa>,
}

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorConfig")
            .field("app_id", &self.app_id)
            .field("app_password", &self.app_password)
            .field("tenant", &self.tenant)
            .field("token_url", &self.token_url.as_str())
            .field("openid_metadata_url", &self.openid_metadata_url.as_str())
            .field("issuers", &self.issuers)
            .field("trusted_service_urls", &self.trusted_service_urls)
            .finish_non_exhaustive()
    }
}

impl ConnectorConfig {
    /// A configuration for the Azure Bot Service public cloud: the bot's Microsoft App ID
    /// (the `aud` inbound tokens must carry, and the client-credentials `client_id`) and its
    /// app password (client secret).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when the app id or the password is empty.
    pub fn new(app_id: impl Into<String>, app_password: Secret) -> Result<Self, ConfigError> {
        let app_id = app_id.into();
        if app_id.trim().is_empty() {
            return Err(ConfigError::invalid("app_id", "must not be empty"));
        }
        if app_password.is_empty() {
            return Err(ConfigError::invalid("app_password", "must not be empty"));
        }
        let login_url = default_url("login_url", LOGIN_URL)?;
        Ok(Self {
            token_url: token_url(&login_url, DEFAULT_TENANT)?,
            app_id,
            app_password,
            tenant: DEFAULT_TENANT.to_owned(),
            login_url,
            scope: CONNECTOR_SCOPE.to_owned(),
            openid_metadata_url: default_url("openid_metadata_url", OPENID_METADATA_URL)?,
            issuers: vec![CHANNEL_ISSUER.to_owned()],
            clock_skew: CLOCK_SKEW,
            trusted_service_urls: Vec::new(),
            body_limit: BODY_LIMIT,
            token_refresh_margin: TOKEN_REFRESH_MARGIN,
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_cas: Vec::new(),
        })
    }

    /// Points everything at one authority (the simulator, a sovereign cloud): the Entra
    /// login base (default `https://login.microsoftonline.com`), the channel issuer's OpenID
    /// metadata (default `https://login.botframework.com/v1/.well-known/openidconfiguration`)
    /// and the one accepted `iss` (default `https://api.botframework.com`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a URL that is not `http`/`https`, or an empty issuer.
    pub fn with_authority(
        mut self,
        login_url: Url,
        openid_metadata_url: Url,
        issuer: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let issuer = issuer.into();
        if issuer.is_empty() {
            return Err(ConfigError::invalid("issuer", "must not be empty"));
        }
        self.login_url = http_url("login_url", login_url)?;
        self.token_url = token_url(&self.login_url, &self.tenant)?;
        self.openid_metadata_url = http_url("openid_metadata_url", openid_metadata_url)?;
        self.issuers = vec![issuer];
        Ok(self)
    }

    /// Sets the Entra tenant of the token endpoint: single-tenant bots set their tenant id.
    /// Default `botframework.com` (multi-tenant bots).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when `tenant` is not one URL path segment.
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Result<Self, ConfigError> {
        let tenant = tenant.into();
        self.token_url = token_url(&self.login_url, &tenant)?;
        self.tenant = tenant;
        Ok(self)
    }

    /// Sets the scope of Connector tokens. Default `https://api.botframework.com/.default`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when `scope` is empty.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Result<Self, ConfigError> {
        let scope = scope.into();
        if scope.trim().is_empty() {
            return Err(ConfigError::invalid("scope", "must not be empty"));
        }
        self.scope = scope;
        Ok(self)
    }

    /// Trusts service URLs matching `pattern` besides those seen in validated activities
    /// (`*` matches any run of characters but `/`, and everything when it ends the pattern:
    /// `https://*.botframework.com/*`). Default: none.
    #[must_use]
    pub fn with_trusted_service_url(mut self, pattern: impl Into<String>) -> Self {
        self.trusted_service_urls.push(pattern.into());
        self
    }

    /// Sets the clock skew tolerated on a channel token's `exp` and `nbf`. Default 5 minutes.
    #[must_use]
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Sets the largest inbound body accepted, in bytes. Default 1 MiB.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_body_limit(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.body_limit = non_zero_size("body_limit", bytes)?;
        Ok(self)
    }

    /// Sets how long before its expiry a Connector token is replaced. Default 5 minutes (a
    /// token living no longer than that is used for half its life).
    #[must_use]
    pub fn with_token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Sets the timeout of each outbound request (Connector, token, keys). Default 20 s.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, ConfigError> {
        self.timeout = non_zero_duration("timeout", timeout)?;
        Ok(self)
    }

    /// Sets the largest response body read, in bytes. Default 4 MiB.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.max_response_bytes = non_zero_size("max_response_bytes", bytes)?;
        Ok(self)
    }

    /// Trusts `ca` besides the web PKI roots for every connection (a private deployment, the
    /// simulator's generated CA). Default: none. The PEM is checked when the adapter or
    /// client is built.
    #[must_use]
    pub fn with_root_ca(mut self, ca: RootCa) -> Self {
        self.root_cas.push(ca);
        self
    }

    /// The bot's app id.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    pub(crate) fn app_password(&self) -> &Secret {
        &self.app_password
    }

    /// The Entra tenant.
    #[must_use]
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The client-credentials token endpoint: `{login}/{tenant}/oauth2/v2.0/token`.
    #[must_use]
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// The scope of Connector tokens.
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The channel issuer's OpenID metadata URL.
    #[must_use]
    pub fn openid_metadata_url(&self) -> &Url {
        &self.openid_metadata_url
    }

    /// The accepted `iss` values.
    #[must_use]
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The clock skew on `exp` / `nbf`.
    #[must_use]
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// The trusted service URL patterns.
    #[must_use]
    pub fn trusted_service_urls(&self) -> &[String] {
        &self.trusted_service_urls
    }

    /// The largest inbound body, in bytes.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// How long before expiry a Connector token is replaced.
    #[must_use]
    pub fn token_refresh_margin(&self) -> Duration {
        self.token_refresh_margin
    }

    /// The per-request timeout.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The largest response body read.
    #[must_use]
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The extra trusted CAs.
    #[must_use]
    pub fn root_cas(&self) -> &[RootCa] {
        &self.root_cas
    }
}

fn token_url(login_url: &Url, tenant: &str) -> Result<Url, ConfigError> {
    byoc_http::entra_token_url(login_url, tenant)
        .map_err(|_| ConfigError::invalid("tenant", "must be one URL path segment"))
}

#[cfg(test)]
mod tests;
