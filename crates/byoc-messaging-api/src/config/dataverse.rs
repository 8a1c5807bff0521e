//! [`DataverseConfig`]: the Dataverse Web API client's settings, for channel records.

use std::time::Duration;

use byoc_http::RootCa;
use url::Url;

use super::{
    DEFAULT_TOKEN_REFRESH_MARGIN, ENTRA_AUTHORITY, EntraApp, HttpSettings, check_url, parse_url,
};
use crate::error::ConfigError;

/// Settings of the Dataverse Web API client that registers channel records
/// ([`DataverseClient`](crate::DataverseClient)).
#[derive(Clone, Debug)]
pub struct DataverseConfig {
    app: EntraApp,
    org_url: Url,
    token_url: Url,
    scope: String,
    token_refresh_margin: Duration,
    http: HttpSettings,
}

impl DataverseConfig {
    /// Dataverse at `org_url` (e.g. `https://contoso.crm4.dynamics.com`) with `app`, which
    /// needs a Dataverse application user with rights on the channel table.
    ///
    /// Defaults: authority [`ENTRA_AUTHORITY`] (token URL
    /// `{authority}/{tenant}/oauth2/v2.0/token`); scope `{org_url}/.default`; token refresh
    /// margin [`DEFAULT_TOKEN_REFRESH_MARGIN`]; timeout
    /// [`DEFAULT_TIMEOUT`](super::DEFAULT_TIMEOUT); response cap
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](super::DEFAULT_MAX_RESPONSE_BYTES); no extra root CA.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless `org_url` is an absolute `http(s)` URL.
    pub fn new(app: EntraApp, org_url: Url) -> Result<Self, ConfigError> {
        let org_url = check_url("org_url", org_url)?;
        let scope = format!("{}/.default", org_url.as_str().trim_end_matches('/'));
        let token_url = app.token_url(&parse_url("authority", ENTRA_AUTHORITY)?)?;
        Ok(Self {
            app,
            org_url,
            token_url,
            scope,
            token_refresh_margin: DEFAULT_TOKEN_REFRESH_MARGIN,
            http: HttpSettings::default(),
        })
    }

    /// Sets the Entra authority (default [`ENTRA_AUTHORITY`]).
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless it is an absolute `http(s)` URL with a host.
    pub fn with_authority(mut self, authority: Url) -> Result<Self, ConfigError> {
        self.token_url = self.app.token_url(&check_url("authority", authority)?)?;
        Ok(self)
    }

    /// Sets the token scope (default `{org_url}/.default`).
    ///
    /// # Errors
    /// [`ConfigError::Empty`] for an empty scope.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Result<Self, ConfigError> {
        let scope = scope.into();
        if scope.trim().is_empty() {
            return Err(ConfigError::Empty { field: "scope" });
        }
        self.scope = scope;
        Ok(self)
    }

    /// Sets how long before its expiry a token is replaced (default
    /// [`DEFAULT_TOKEN_REFRESH_MARGIN`]).
    #[must_use]
    pub fn with_token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Sets the time allowed for one request (default
    /// [`DEFAULT_TIMEOUT`](super::DEFAULT_TIMEOUT)).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, ConfigError> {
        self.http.timeout = super::http::non_zero_duration("timeout", timeout)?;
        Ok(self)
    }

    /// Trusts `ca` besides the web PKI roots; may be called more than once.
    #[must_use]
    pub fn with_root_ca(mut self, ca: RootCa) -> Self {
        self.http.root_cas.push(ca);
        self
    }

    /// Sets the largest response body read (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](super::DEFAULT_MAX_RESPONSE_BYTES)).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.http.max_response_bytes = super::http::non_zero_size("max_response_bytes", bytes)?;
        Ok(self)
    }

    /// The Entra app.
    #[must_use]
    pub fn app(&self) -> &EntraApp {
        &self.app
    }

    /// The organization URL.
    #[must_use]
    pub fn org_url(&self) -> &Url {
        &self.org_url
    }

    /// The token endpoint.
    #[must_use]
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// The token scope.
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// How long before expiry a token is replaced.
    #[must_use]
    pub fn token_refresh_margin(&self) -> Duration {
        self.token_refresh_margin
    }

    #[cfg(feature = "reqwest")]
    pub(crate) fn http(&self) -> &HttpSettings {
        &self.http
    }
}
