//! Configuration: [`MessagingApiConfig`] (the Entra app, the Messaging API endpoint, the
//! webhook's token checks and the HTTP settings), with [`EntraApp`], [`Guid`] and the
//! choices the documentation leaves open ([`HeaderNames`], [`WebhookAuthMode`]). The
//! Dataverse client's settings are in [`DataverseConfig`]. Every default is written in its
//! doc; every value is checked once, when it is set.

mod dataverse;
mod entra;
mod http;
mod webhook;

use std::time::Duration;

use byoc_http::{KeySource, RootCa};
use url::Url;

use crate::error::ConfigError;

pub use dataverse::DataverseConfig;
pub use entra::{EntraApp, Guid};
pub(crate) use http::HttpSettings;
pub use webhook::WebhookAuthMode;
pub(crate) use webhook::WebhookChecks;

/// Microsoft Entra's public authority, `https://login.microsoftonline.com`.
pub const ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Path of the consumer create-conversation endpoint, as the endpoint page titles it.
pub const DEFAULT_CREATE_PATH: &str = "/api/v1.0/consumer/conversations/create";
/// The singular form some relays use; [`MessagingApiConfig::with_create_path`] selects it.
pub const ALT_CREATE_PATH: &str = "/api/v1.0/consumer/conversation/create";

/// Default time for one outbound request: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default largest response body read: 4 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Default time before expiry at which a token is replaced: 5 minutes.
pub const DEFAULT_TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Which names the `channel-id` / `organization-id` headers go under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HeaderNames {
    /// `channel-id` and `organization-id` (the 09/2025 documentation). The default.
    #[default]
    Current,
    /// `x-ms-channel-id` and `x-ms-organization-id` (the 04/2025 documentation).
    Legacy,
    /// Both pairs on every request.
    Both,
}

/// Settings of the Messaging API channel: the Entra app, the organization and the custom
/// channel record, the API endpoint, and what the webhook accepts.
///
/// ```
/// use byoc_core::Secret;
/// use byoc_messaging_api::{EntraApp, MessagingApiConfig};
///
/// let app = EntraApp::new(
///     "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20",
///     "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
///     Secret::new("client-secret"),
/// )?;
/// let config = MessagingApiConfig::new(
///     app,
///     "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", // organization id
///     "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a", // custom channel record id
///     "eu",                                   // {geo} of the API host
///     "crm4",                                 // {zone} of the token scope
/// )?
/// .with_body_limit(128 * 1024)?;
/// assert_eq!(
///     config.base_url().as_str(),
///     "https://m-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.eu.omnichannelengagementhub.com/"
/// );
/// # Ok::<(), byoc_messaging_api::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct MessagingApiConfig {
    app: EntraApp,
    org_id: Guid,
    channel_id: Guid,
    base_url: Url,
    authority: Url,
    token_url: Url,
    scope: String,
    header_names: HeaderNames,
    create_path: String,
    token_refresh_margin: Duration,
    http: HttpSettings,
    webhook: WebhookChecks,
}

impl MessagingApiConfig {
    /// The configuration for `app`, the organization `org_id` and the custom channel record
    /// `channel_id`, in `geo` (the `{geo}` of the API host, such as `eu`) and `zone` (the
    /// `{zone}` of the token scope, from the org's datacenter region).
    ///
    /// Defaults: base URL `https://m-{org_id}.{geo}.omnichannelengagementhub.com`; authority
    /// [`ENTRA_AUTHORITY`] (token URL `{authority}/{tenant}/oauth2/v2.0/token`); scope
    /// `https://{org_id without dashes}-c.{zone}.dynamics.com/.default`; header names
    /// [`HeaderNames::Current`]; create path [`DEFAULT_CREATE_PATH`]; token refresh margin
    /// [`DEFAULT_TOKEN_REFRESH_MARGIN`]; timeout [`DEFAULT_TIMEOUT`]; response cap
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]; no extra root CA. The webhook's defaults are on their
    /// setters (`with_webhook_*`, [`with_clock_skew`](Self::with_clock_skew),
    /// [`with_body_limit`](Self::with_body_limit)).
    ///
    /// # Errors
    /// [`ConfigError`] naming the invalid id, or a `geo`/`zone` that makes no valid URL.
    pub fn new(
        app: EntraApp,
        org_id: &str,
        channel_id: &str,
        geo: &str,
        zone: &str,
    ) -> Result<Self, ConfigError> {
        let org_id = Guid::parse("org_id", org_id)?;
        let channel_id = Guid::parse("channel_id", channel_id)?;
        if !is_host_label(geo) {
            return Err(ConfigError::InvalidUrl { field: "geo" });
        }
        if !is_host_label(zone) {
            return Err(ConfigError::InvalidUrl { field: "zone" });
        }
        let base_url = parse_url(
            "base_url",
            &format!("https://m-{org_id}.{geo}.omnichannelengagementhub.com"),
        )?;
        let scope = format!("https://{}-c.{zone}.dynamics.com/.default", org_id.simple());
        let authority = parse_url("authority", ENTRA_AUTHORITY)?;
        let token_url = app.token_url(&authority)?;
        let webhook = WebhookChecks::new(&app, &authority)?;
        Ok(Self {
            app,
            org_id,
            channel_id,
            base_url,
            authority,
            token_url,
            scope,
            header_names: HeaderNames::Current,
            create_path: DEFAULT_CREATE_PATH.to_owned(),
            token_refresh_margin: DEFAULT_TOKEN_REFRESH_MARGIN,
            http: HttpSettings::default(),
            webhook,
        })
    }

    /// Sets the API base URL (a simulator, a proxy).
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless it is an absolute `http(s)` URL with a host.
    pub fn with_base_url(mut self, url: Url) -> Result<Self, ConfigError> {
        self.base_url = check_url("base_url", url)?;
        Ok(self)
    }

    /// Sets the Entra authority (default [`ENTRA_AUTHORITY`]; a sovereign cloud, a
    /// simulator). The token URL becomes `{authority}/{tenant}/oauth2/v2.0/token`, and the
    /// webhook's default issuer and signing keys follow it unless they were set.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless it is an absolute `http(s)` URL with a host.
    pub fn with_authority(mut self, authority: Url) -> Result<Self, ConfigError> {
        let authority = check_url("authority", authority)?;
        self.token_url = self.app.token_url(&authority)?;
        self.webhook.follow_authority(&self.app, &authority)?;
        self.authority = authority;
        Ok(self)
    }

    /// Sets the token scope (default `https://{org_id without dashes}-c.{zone}.dynamics.com/.default`).
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

    /// Sets the header names (default [`HeaderNames::Current`]).
    #[must_use]
    pub fn with_header_names(mut self, names: HeaderNames) -> Self {
        self.header_names = names;
        self
    }

    /// Sets the path of the create endpoint (default [`DEFAULT_CREATE_PATH`];
    /// [`ALT_CREATE_PATH`] is the singular form). A leading `/` is added when missing.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] for an empty path or one with a query, a fragment or
    /// characters a path cannot hold.
    pub fn with_create_path(mut self, path: impl Into<String>) -> Result<Self, ConfigError> {
        let path = path.into();
        let path = format!("/{}", path.trim_start_matches('/'));
        let valid = path.len() > 1
            && path
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#' | b'%'));
        if !valid {
            return Err(ConfigError::InvalidUrl {
                field: "create_path",
            });
        }
        self.create_path = path;
        Ok(self)
    }

    /// Sets how long before its expiry a token is replaced (default
    /// [`DEFAULT_TOKEN_REFRESH_MARGIN`]). A token that lives no longer than the margin is
    /// used for half its life.
    #[must_use]
    pub fn with_token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Sets the time allowed for one outbound request (default [`DEFAULT_TIMEOUT`]); used
    /// by the `new` constructors, which build the reqwest transport.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, ConfigError> {
        self.http.timeout = http::non_zero_duration("timeout", timeout)?;
        Ok(self)
    }

    /// Trusts `ca` besides the web PKI roots on every connection the adapter makes (the
    /// Messaging API, Entra, the signing keys); may be called more than once. Used by the
    /// `new` constructors.
    #[must_use]
    pub fn with_root_ca(mut self, ca: RootCa) -> Self {
        self.http.root_cas.push(ca);
        self
    }

    /// Sets the largest response body read (default [`DEFAULT_MAX_RESPONSE_BYTES`]). Used
    /// by the `new` constructors.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.http.max_response_bytes = http::non_zero_size("max_response_bytes", bytes)?;
        Ok(self)
    }

    /// Replaces the accepted `aud` values of webhook tokens. Default: the app id and
    /// `api://{app id}` (the audience Omnichannel uses is not documented; set it once you
    /// have seen a real token).
    ///
    /// # Errors
    /// [`ConfigError::Empty`] for an empty list or value.
    pub fn with_webhook_audiences(mut self, audiences: Vec<String>) -> Result<Self, ConfigError> {
        self.webhook.set_audiences(audiences)?;
        Ok(self)
    }

    /// Replaces the accepted `iss` values of webhook tokens. Default: the authority's v2
    /// issuer `{authority}/{tenant}/v2.0` and the v1 issuer `https://sts.windows.net/{tenant}/`.
    ///
    /// # Errors
    /// [`ConfigError::Empty`] for an empty list or value.
    pub fn with_webhook_issuers(mut self, issuers: Vec<String>) -> Result<Self, ConfigError> {
        self.webhook.set_issuers(issuers)?;
        Ok(self)
    }

    /// Sets how the webhook authenticates Omnichannel (default [`WebhookAuthMode::Bearer`]).
    ///
    /// # Errors
    /// [`ConfigError::Empty`] when a legacy shared token is empty.
    pub fn with_webhook_auth(mut self, mode: WebhookAuthMode) -> Result<Self, ConfigError> {
        self.webhook.set_auth(mode)?;
        Ok(self)
    }

    /// Accepts webhook tokens whatever their `appid`/`azp` (by default they must name the
    /// app). The issuer, tenant and audience are still checked.
    #[must_use]
    pub fn without_app_id_check(mut self) -> Self {
        self.webhook.check_app_id = false;
        self
    }

    /// Sets where the webhook's signing keys come from. Default: the tenant's JWKS,
    /// `{authority}/{tenant}/discovery/v2.0/keys`.
    #[must_use]
    pub fn with_key_source(mut self, source: KeySource) -> Self {
        self.webhook.set_key_source(source);
        self
    }

    /// Sets the clock skew tolerated on webhook tokens' `exp` and `nbf` (default 5
    /// minutes).
    #[must_use]
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.webhook.clock_skew = skew;
        self
    }

    /// Sets the largest webhook body accepted, in bytes (default 256 KiB).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_body_limit(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.webhook.body_limit = http::non_zero_size("body_limit", bytes)?;
        Ok(self)
    }

    /// The Entra app.
    #[must_use]
    pub fn app(&self) -> &EntraApp {
        &self.app
    }

    /// The Dynamics organization id (`organization-id` header).
    #[must_use]
    pub fn org_id(&self) -> &Guid {
        &self.org_id
    }

    /// The custom channel record id (`channel-id` header and the `channelId` of activities).
    #[must_use]
    pub fn channel_id(&self) -> &Guid {
        &self.channel_id
    }

    /// The API base URL.
    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The Entra authority.
    #[must_use]
    pub fn authority(&self) -> &Url {
        &self.authority
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

    /// The header names.
    #[must_use]
    pub fn header_names(&self) -> HeaderNames {
        self.header_names
    }

    /// The path of the create endpoint.
    #[must_use]
    pub fn create_path(&self) -> &str {
        &self.create_path
    }

    /// How long before expiry a token is replaced.
    #[must_use]
    pub fn token_refresh_margin(&self) -> Duration {
        self.token_refresh_margin
    }

    /// The time allowed for one outbound request.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.http.timeout
    }

    /// The largest response body read.
    #[must_use]
    pub fn max_response_bytes(&self) -> usize {
        self.http.max_response_bytes
    }

    /// The extra root CAs trusted.
    #[must_use]
    pub fn root_cas(&self) -> &[RootCa] {
        &self.http.root_cas
    }

    /// The accepted `aud` values of webhook tokens.
    #[must_use]
    pub fn webhook_audiences(&self) -> &[String] {
        &self.webhook.audiences
    }

    /// The accepted `iss` values of webhook tokens.
    #[must_use]
    pub fn webhook_issuers(&self) -> &[String] {
        &self.webhook.issuers
    }

    /// How the webhook authenticates Omnichannel.
    #[must_use]
    pub fn webhook_auth(&self) -> &WebhookAuthMode {
        &self.webhook.auth
    }

    /// Whether webhook tokens' `appid`/`azp` must name the app.
    #[must_use]
    pub fn checks_app_id(&self) -> bool {
        self.webhook.check_app_id
    }

    /// Where the webhook's signing keys come from.
    #[must_use]
    pub fn key_source(&self) -> &KeySource {
        &self.webhook.key_source
    }

    /// The clock skew tolerated on webhook tokens.
    #[must_use]
    pub fn clock_skew(&self) -> Duration {
        self.webhook.clock_skew
    }

    /// The largest webhook body accepted, in bytes.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.webhook.body_limit
    }

    pub(crate) fn webhook(&self) -> &WebhookChecks {
        &self.webhook
    }

    #[cfg(feature = "reqwest")]
    pub(crate) fn http(&self) -> &HttpSettings {
        &self.http
    }
}

/// A DNS label: letters, digits and `-`.
fn is_host_label(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub(crate) fn parse_url(field: &'static str, text: &str) -> Result<Url, ConfigError> {
    check_url(
        field,
        Url::parse(text).map_err(|_| ConfigError::InvalidUrl { field })?,
    )
}

pub(crate) fn check_url(field: &'static str, url: Url) -> Result<Url, ConfigError> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::InvalidUrl { field });
    }
    Ok(url)
}

#[cfg(test)]
mod tests;
