//! What the webhook accepts: the Entra token checks, resolved from the app and the
//! authority unless set, and the legacy shared token.

use std::fmt;
use std::time::Duration;

use byoc_core::Secret;
use byoc_http::KeySource;
use url::Url;

use super::{EntraApp, Guid, parse_url};
use crate::error::ConfigError;

/// The Entra v1 issuer prefix (`https://sts.windows.net/{tid}/`).
const ENTRA_V1_ISSUER_PREFIX: &str = "https://sts.windows.net";
/// Default clock skew tolerated on `exp`/`nbf`.
const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// Default largest webhook body.
const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// How the webhook authenticates Omnichannel (see
/// `docs/protocols/messaging-api.md#webhook-authentication`).
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

/// The resolved webhook checks: what [`crate::verify()`] compares a request against.
#[derive(Clone)]
pub(crate) struct WebhookChecks {
    pub(crate) tenant_id: Guid,
    pub(crate) app_id: Guid,
    pub(crate) audiences: Vec<String>,
    pub(crate) issuers: Vec<String>,
    issuers_set: bool,
    pub(crate) key_source: KeySource,
    key_source_set: bool,
    pub(crate) check_app_id: bool,
    pub(crate) clock_skew: Duration,
    pub(crate) auth: WebhookAuthMode,
    pub(crate) body_limit: usize,
}

impl fmt::Debug for WebhookChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookChecks")
            .field("tenant_id", &self.tenant_id)
            .field("app_id", &self.app_id)
            .field("audiences", &self.audiences)
            .field("issuers", &self.issuers)
            .field("key_source", &self.key_source)
            .field("check_app_id", &self.check_app_id)
            .field("clock_skew", &self.clock_skew)
            .field("auth", &self.auth)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

impl WebhookChecks {
    pub(crate) fn new(app: &EntraApp, authority: &Url) -> Result<Self, ConfigError> {
        let app_id = app.client_id().clone();
        let mut checks = Self {
            tenant_id: app.tenant_id().clone(),
            audiences: vec![app_id.to_string(), format!("api://{app_id}")],
            app_id,
            issuers: Vec::new(),
            issuers_set: false,
            key_source: KeySource::Static(Default::default()),
            key_source_set: false,
            check_app_id: true,
            clock_skew: DEFAULT_CLOCK_SKEW,
            auth: WebhookAuthMode::Bearer,
            body_limit: DEFAULT_BODY_LIMIT,
        };
        checks.follow_authority(app, authority)?;
        Ok(checks)
    }

    /// Recomputes the defaults that depend on the authority (those not set explicitly).
    pub(crate) fn follow_authority(
        &mut self,
        app: &EntraApp,
        authority: &Url,
    ) -> Result<(), ConfigError> {
        let base = authority.as_str().trim_end_matches('/');
        let tenant = app.tenant_id();
        if !self.issuers_set {
            self.issuers = vec![
                format!("{base}/{tenant}/v2.0"),
                format!("{ENTRA_V1_ISSUER_PREFIX}/{tenant}/"),
            ];
        }
        if !self.key_source_set {
            self.key_source = KeySource::Jwks(parse_url(
                "authority",
                &format!("{base}/{tenant}/discovery/v2.0/keys"),
            )?);
        }
        Ok(())
    }

    pub(crate) fn set_audiences(&mut self, audiences: Vec<String>) -> Result<(), ConfigError> {
        if audiences.is_empty() || audiences.iter().any(|a| a.trim().is_empty()) {
            return Err(ConfigError::Empty {
                field: "webhook_audiences",
            });
        }
        self.audiences = audiences;
        Ok(())
    }

    pub(crate) fn set_issuers(&mut self, issuers: Vec<String>) -> Result<(), ConfigError> {
        if issuers.is_empty() || issuers.iter().any(|i| i.trim().is_empty()) {
            return Err(ConfigError::Empty {
                field: "webhook_issuers",
            });
        }
        self.issuers = issuers;
        self.issuers_set = true;
        Ok(())
    }

    pub(crate) fn set_key_source(&mut self, source: KeySource) {
        self.key_source = source;
        self.key_source_set = true;
    }

    pub(crate) fn set_auth(&mut self, mode: WebhookAuthMode) -> Result<(), ConfigError> {
        if let WebhookAuthMode::LegacyToken(s) | WebhookAuthMode::Either(s) = &mode
            && s.is_empty()
        {
            return Err(ConfigError::Empty {
                field: "legacy_token",
            });
        }
        self.auth = mode;
        Ok(())
    }
}
