//! Configuration: the Entra app, the Messaging API endpoint, the webhook's token checks and
//! the Dataverse endpoint for channel records. Every default is written in its doc.

use std::fmt;
use std::time::Duration;

use byoc_core::Secret;
use url::Url;

use crate::error::ConfigError;

/// Microsoft Entra's public authority.
pub const ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The Entra v1 issuer prefix (`https://sts.windows.net/{tid}/`).
pub const ENTRA_V1_ISSUER_PREFIX: &str = "https://sts.windows.net";
/// Path of the consumer create-conversation endpoint, as the endpoint page titles it.
pub const DEFAULT_CREATE_PATH: &str = "/api/v1.0/consumer/conversations/create";
/// The singular form some relays use; [`MessagingApiConfig::with_create_path`] selects it.
pub const ALT_CREATE_PATH: &str = "/api/v1.0/consumer/conversation/create";

/// A GUID as Entra, Dataverse and Omnichannel use them (`8-4-4-4-12` hex digits), kept in
/// lower case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(String);

impl Guid {
    /// Parses a GUID, with or without surrounding braces; `field` names it in the error.
    ///
    /// # Errors
    /// [`ConfigError::InvalidGuid`] when `text` is not a GUID.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, ConfigError> {
        let t = text.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|x| x.strip_suffix('}'))
            .unwrap_or(t);
        let groups: Vec<&str> = t.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        let ok = groups.len() == 5
            && groups
                .iter()
                .zip(lens)
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Ok(Self(t.to_ascii_lowercase()))
        } else {
            Err(ConfigError::InvalidGuid { field })
        }
    }

    /// The GUID with dashes, lower case.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GUID without dashes (as in the Messaging API token scope).
    #[must_use]
    pub fn simple(&self) -> String {
        self.0.replace('-', "")
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({})", self.0)
    }
}

/// An Entra app registration used with the client-credentials grant.
#[derive(Clone)]
pub struct EntraApp {
    /// Directory (tenant) id.
    pub tenant_id: Guid,
    /// Application (client) id.
    pub client_id: Guid,
    /// Client secret.
    pub client_secret: Secret,
}

impl EntraApp {
    /// An app; ids are validated as GUIDs.
    ///
    /// # Errors
    /// [`ConfigError`] naming the id that is not a GUID, or an empty secret.
    pub fn new(
        tenant_id: &str,
        client_id: &str,
        client_secret: impl Into<Secret>,
    ) -> Result<Self, ConfigError> {
        let client_secret = client_secret.into();
        if client_secret.is_empty() {
            return Err(ConfigError::Empty {
                field: "client_secret",
            });
        }
        Ok(Self {
            tenant_id: Guid::parse("tenant_id", tenant_id)?,
            client_id: Guid::parse("client_id", client_id)?,
            client_secret,
        })
    }

    /// The v2 token endpoint of this app's tenant under `authority`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] when `authority` is not a URL.
    pub fn token_url(&self, authority: &str) -> Result<Url, ConfigError> {
        parse_url(
            "token_url",
            &format!(
                "{}/{}/oauth2/v2.0/token",
                authority.trim_end_matches('/'),
                self.tenant_id
            ),
        )
    }
}

impl fmt::Debug for EntraApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraApp")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

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

/// Settings of the Messaging API client.
#[derive(Clone, Debug)]
pub struct MessagingApiConfig {
    /// The Entra app the token is issued to.
    pub app: EntraApp,
    /// The Dynamics organization id (`organization-id` header).
    pub org_id: Guid,
    /// The custom channel record id (`channel-id` header and the `channelId` of activities).
    pub channel_id: Guid,
    /// Base URL. Default `https://m-{org_id}.{geo}.omnichannelengagementhub.com`.
    pub base_url: Url,
    /// Token endpoint. Default `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`.
    pub token_url: Url,
    /// Token scope. Default `https://{org_id without dashes}-c.{zone}.dynamics.com/.default`.
    pub scope: String,
    /// Header names. Default [`HeaderNames::Current`].
    pub header_names: HeaderNames,
    /// Path of the create endpoint. Default [`DEFAULT_CREATE_PATH`].
    pub create_path: String,
    /// A cached token is refreshed this long before it expires. Default 5 minutes.
    pub refresh_margin: Duration,
}

impl MessagingApiConfig {
    /// The configuration for an organization in `geo` (the `{geo}` of the API host, such as
    /// `eu`) and `zone` (the `{zone}` of the token scope, from the org's datacenter region).
    ///
    /// # Errors
    /// [`ConfigError`] naming the invalid id or a `geo`/`zone` that makes no valid URL.
    pub fn new(
        app: EntraApp,
        org_id: &str,
        channel_id: &str,
        geo: &str,
        zone: &str,
    ) -> Result<Self, ConfigError> {
        let org_id = Guid::parse("org_id", org_id)?;
        let channel_id = Guid::parse("channel_id", channel_id)?;
        if geo.is_empty() || !geo.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ConfigError::InvalidUrl { field: "geo" });
        }
        if zone.is_empty() || !zone.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ConfigError::InvalidUrl { field: "zone" });
        }
        let base_url = parse_url(
            "base_url",
            &format!("https://m-{org_id}.{geo}.omnichannelengagementhub.com"),
        )?;
        let scope = format!("https://{}-c.{zone}.dynamics.com/.default", org_id.simple());
        let token_url = app.token_url(ENTRA_AUTHORITY)?;
        Ok(Self {
            app,
            org_id,
            channel_id,
            base_url,
            token_url,
            scope,
            header_names: HeaderNames::Current,
            create_path: DEFAULT_CREATE_PATH.to_owned(),
            refresh_margin: Duration::from_secs(300),
        })
    }

    /// Sets the base URL (a simulator, a proxy).
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`].
    pub fn with_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.base_url = parse_url("base_url", url)?;
        Ok(self)
    }

    /// Sets the Entra authority (default [`ENTRA_AUTHORITY`]); the token URL becomes
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`].
    pub fn with_authority(mut self, authority: &str) -> Result<Self, ConfigError> {
        self.token_url = self.app.token_url(authority)?;
        Ok(self)
    }

    /// Sets the token scope.
    #[must_use]
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Sets the header names.
    #[must_use]
    pub fn with_header_names(mut self, names: HeaderNames) -> Self {
        self.header_names = names;
        self
    }

    /// Sets the path of the create endpoint.
    #[must_use]
    pub fn with_create_path(mut self, path: impl Into<String>) -> Self {
        self.create_path = path.into();
        self
    }

    /// Sets how long before expiry a token is refreshed.
    #[must_use]
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }
}

/// How the webhook authenticates Omnichannel.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum WebhookAuthMode {
    /// `Authorization: Bearer <Entra JWT>` only (the 09/2025 documentation). The default.
    Bearer,
    /// The legacy `x-ms-token` header only, compared in constant time with this value.
    LegacyToken(Secret),
    /// Either of the two.
    Either(Secret),
}

/// What the webhook accepts.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// The tenant the token must come from (`tid`; `msdyn_tenantid`).
    pub tenant_id: Guid,
    /// The Entra app the token is issued as (`appid`/`azp`; `msdyn_appid`).
    pub app_id: Guid,
    /// Accepted `aud` values. Default: the app id and `api://{app id}` (see crate docs).
    pub audiences: Vec<String>,
    /// Accepted `iss` values. Default: `{authority}/{tid}/v2.0` and
    /// `https://sts.windows.net/{tid}/`.
    pub issuers: Vec<String>,
    /// Where the tenant's signing keys are. Default `{authority}/{tid}/discovery/v2.0/keys`.
    pub jwks_url: Url,
    /// Whether `appid`/`azp` must equal [`WebhookConfig::app_id`]. Default `true`.
    pub check_app_id: bool,
    /// Clock skew allowed on `exp`/`nbf`. Default 5 minutes.
    pub leeway: Duration,
    /// Accepted authentication. Default [`WebhookAuthMode::Bearer`].
    pub auth_mode: WebhookAuthMode,
    /// Largest accepted body. Default 256 KiB.
    pub max_body_bytes: usize,
}

impl WebhookConfig {
    /// Checks for tokens of `tenant_id` issued as `app_id` by the public Entra authority.
    ///
    /// # Errors
    /// [`ConfigError::InvalidGuid`].
    pub fn new(tenant_id: &str, app_id: &str) -> Result<Self, ConfigError> {
        Self::with_authority(tenant_id, app_id, ENTRA_AUTHORITY)
    }

    /// As [`WebhookConfig::new`] with another authority (a simulator, a sovereign cloud).
    ///
    /// # Errors
    /// [`ConfigError`] naming the invalid value.
    pub fn with_authority(
        tenant_id: &str,
        app_id: &str,
        authority: &str,
    ) -> Result<Self, ConfigError> {
        let tenant_id = Guid::parse("tenant_id", tenant_id)?;
        let app_id = Guid::parse("app_id", app_id)?;
        let authority = authority.trim_end_matches('/');
        let jwks_url = parse_url(
            "jwks_url",
            &format!("{authority}/{tenant_id}/discovery/v2.0/keys"),
        )?;
        Ok(Self {
            audiences: vec![app_id.to_string(), format!("api://{app_id}")],
            issuers: vec![
                format!("{authority}/{tenant_id}/v2.0"),
                format!("{ENTRA_V1_ISSUER_PREFIX}/{tenant_id}/"),
            ],
            tenant_id,
            app_id,
            jwks_url,
            check_app_id: true,
            leeway: Duration::from_secs(300),
            auth_mode: WebhookAuthMode::Bearer,
            max_body_bytes: 256 * 1024,
        })
    }

    /// Replaces the accepted audiences.
    #[must_use]
    pub fn with_audiences(mut self, audiences: Vec<String>) -> Self {
        self.audiences = audiences;
        self
    }

    /// Replaces the accepted issuers.
    #[must_use]
    pub fn with_issuers(mut self, issuers: Vec<String>) -> Self {
        self.issuers = issuers;
        self
    }

    /// Sets the authentication mode.
    #[must_use]
    pub fn with_auth_mode(mut self, mode: WebhookAuthMode) -> Self {
        self.auth_mode = mode;
        self
    }

    /// Sets whether `appid`/`azp` is checked.
    #[must_use]
    pub fn with_app_id_check(mut self, on: bool) -> Self {
        self.check_app_id = on;
        self
    }

    /// Sets the clock skew allowance.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the body size limit.
    #[must_use]
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }
}

/// Settings of the Dataverse Web API client for channel records.
#[derive(Clone, Debug)]
pub struct DataverseConfig {
    /// The Entra app (needs a Dataverse application user with rights on the table).
    pub app: EntraApp,
    /// The organization URL, e.g. `https://contoso.crm4.dynamics.com`.
    pub org_url: Url,
    /// Token endpoint. Default `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`.
    pub token_url: Url,
    /// Token scope. Default `{org_url}/.default`.
    pub scope: String,
    /// A cached token is refreshed this long before it expires. Default 5 minutes.
    pub refresh_margin: Duration,
}

impl DataverseConfig {
    /// Dataverse at `org_url`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`].
    pub fn new(app: EntraApp, org_url: &str) -> Result<Self, ConfigError> {
        let org_url = parse_url("org_url", org_url)?;
        let scope = format!("{}/.default", org_url.as_str().trim_end_matches('/'));
        let token_url = app.token_url(ENTRA_AUTHORITY)?;
        Ok(Self {
            app,
            org_url,
            token_url,
            scope,
            refresh_margin: Duration::from_secs(300),
        })
    }

    /// Sets the Entra authority (default [`ENTRA_AUTHORITY`]).
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`].
    pub fn with_authority(mut self, authority: &str) -> Result<Self, ConfigError> {
        self.token_url = self.app.token_url(authority)?;
        Ok(self)
    }

    /// Sets the token scope.
    #[must_use]
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }
}

pub(crate) fn parse_url(field: &'static str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text).map_err(|_| ConfigError::InvalidUrl { field })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::InvalidUrl { field });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const C: &str = "0e5b1f7d-3a5c-4b7e-9d1f-3a5c7e9b1d3f";

    #[test]
    fn guids() {
        let cases = [
            (T, true),
            ("{72F988BF-86F1-41AF-91AB-2D7CD011DB47}", true),
            ("72f988bf86f141af91ab2d7cd011db47", false),
            ("72f988bf-86f1-41af-91ab-2d7cd011db4", false),
            ("72f988bf-86f1-41af-91ab-2d7cd011db4g", false),
            ("", false),
        ];
        for (text, ok) in cases {
            assert_eq!(Guid::parse("x", text).is_ok(), ok, "{text}");
        }
        let g = Guid::parse("x", "{72F988BF-86F1-41AF-91AB-2D7CD011DB47}").unwrap();
        assert_eq!(g.as_str(), T);
        assert_eq!(g.simple(), "72f988bf86f141af91ab2d7cd011db47");
    }

    #[test]
    fn defaults_follow_the_documentation() {
        let app = EntraApp::new(T, C, "s3cret").unwrap();
        let org = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
        let cfg = MessagingApiConfig::new(app, org, C, "eu", "crm4").unwrap();
        assert_eq!(
            cfg.base_url.as_str(),
            "https://m-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.eu.omnichannelengagementhub.com/"
        );
        assert_eq!(
            cfg.scope,
            "https://1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c5d-c.crm4.dynamics.com/.default"
        );
        assert_eq!(
            cfg.token_url.as_str(),
            format!("https://login.microsoftonline.com/{T}/oauth2/v2.0/token")
        );
        assert!(
            MessagingApiConfig::new(EntraApp::new(T, C, "x").unwrap(), org, C, "e u", "crm")
                .is_err()
        );
        let w = WebhookConfig::new(T, C).unwrap();
        assert_eq!(
            w.issuers[0],
            format!("https://login.microsoftonline.com/{T}/v2.0")
        );
        assert_eq!(w.issuers[1], format!("https://sts.windows.net/{T}/"));
        assert_eq!(w.audiences, vec![C.to_owned(), format!("api://{C}")]);
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            EntraApp::new("nope", C, "x").unwrap_err(),
            ConfigError::InvalidGuid { field: "tenant_id" }
        );
        assert_eq!(
            EntraApp::new(T, C, "").unwrap_err(),
            ConfigError::Empty {
                field: "client_secret"
            }
        );
        assert!(DataverseConfig::new(EntraApp::new(T, C, "x").unwrap(), "ftp://x").is_err());
    }

    #[test]
    fn debug_redacts_the_secret() {
        let app = EntraApp::new(T, C, "hunter2-secret").unwrap();
        let cfg = DataverseConfig::new(app, "https://contoso.crm4.dynamics.com").unwrap();
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("hunter2"));
        assert!(dbg.contains("redacted"));
        let mode = WebhookAuthMode::LegacyToken(Secret::new("legacy-shh"));
        assert!(!format!("{mode:?}").contains("legacy-shh"));
    }
}
