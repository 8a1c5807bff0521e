//! [`DirectLineConfig`]: the Direct Line 3.0 client.

use std::time::Duration;

use byoc_core::{ChannelAccount, Secret};
use byoc_http::RootCa;
use url::Url;

use super::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, default_url, http_url, non_zero_duration,
    non_zero_size,
};
use crate::error::ConfigError;

/// The global Direct Line 3.0 base URL (`docs/protocols/bot-framework.md#direct-line-endpoints`).
const BASE_URL: &str = "https://directline.botframework.com/v3/directline";
/// Polling interval: 1 s, the Direct Line guidance for a user-facing client.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Reconnect backoff range, as DirectLineJS.
const RECONNECT_BACKOFF: (Duration, Duration) = (Duration::from_secs(3), Duration::from_secs(15));
/// Replace a Direct Line token this long before it expires: 15 minutes (DirectLineJS
/// refreshes 1800 s tokens every 15 minutes).
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

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

impl DirectLineCredential {
    fn value(&self) -> &Secret {
        match self {
            Self::Secret(s) | Self::Token(s) => s,
        }
    }
}

/// The Direct Line 3.0 client: our host is the channel talking to a bot.
///
/// Required: the credential. Every other setting has the default written on its setter.
#[derive(Clone, Debug)]
pub struct DirectLineConfig {
    credential: DirectLineCredential,
    base_url: Url,
    user_id: String,
    user_name: Option<String>,
    poll_interval: Duration,
    reconnect_backoff: (Duration, Duration),
    token_refresh_margin: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    root_cas: Vec<RootCa>,
}

impl DirectLineConfig {
    /// A configuration for the global Direct Line endpoint with `credential`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when the secret or token is empty.
    pub fn new(credential: DirectLineCredential) -> Result<Self, ConfigError> {
        if credential.value().is_empty() {
            return Err(ConfigError::invalid("credential", "must not be empty"));
        }
        Ok(Self {
            credential,
            base_url: default_url("base_url", BASE_URL)?,
            user_id: format!("dl_{}", uuid::Uuid::new_v4().simple()),
            user_name: None,
            poll_interval: POLL_INTERVAL,
            reconnect_backoff: RECONNECT_BACKOFF,
            token_refresh_margin: TOKEN_REFRESH_MARGIN,
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_cas: Vec::new(),
        })
    }

    /// Sets the base URL, ending in `/v3/directline`: a regional endpoint
    /// (`https://europe.directline.botframework.com/v3/directline`) or the simulator's.
    /// Default `https://directline.botframework.com/v3/directline`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a URL that is not `http`/`https`.
    pub fn with_base_url(mut self, url: Url) -> Result<Self, ConfigError> {
        self.base_url = http_url("base_url", url)?;
        Ok(self)
    }

    /// Sets the user put in `from.id` and its display name. Prefix the id with `dl_` when
    /// enhanced authentication is on, and make it unguessable. Default `dl_` and a random
    /// UUID, no name.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an empty id.
    pub fn with_user(
        mut self,
        id: impl Into<String>,
        name: Option<String>,
    ) -> Result<Self, ConfigError> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(ConfigError::invalid("user_id", "must not be empty"));
        }
        self.user_id = id;
        self.user_name = name;
        Ok(self)
    }

    /// Sets the interval of the polling stream (and of the fallback poller). Default 1 s.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_poll_interval(mut self, every: Duration) -> Result<Self, ConfigError> {
        self.poll_interval = non_zero_duration("poll_interval", every)?;
        Ok(self)
    }

    /// Sets the shortest and longest wait before reconnecting a dropped WebSocket (a random
    /// value in between is used; `max` below `min` counts as `min`). Default 3 s to 15 s, as
    /// DirectLineJS.
    #[must_use]
    pub fn with_reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_backoff = (min, max.max(min));
        self
    }

    /// Sets how long before its expiry a Direct Line token is refreshed. Default 15 minutes
    /// (tokens live 1800 s).
    #[must_use]
    pub fn with_token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Sets the timeout of each request. Default 20 s, as DirectLineJS.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, ConfigError> {
        self.timeout = non_zero_duration("timeout", timeout)?;
        Ok(self)
    }

    /// Sets the largest response body and WebSocket message read, in bytes. Default 4 MiB.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.max_response_bytes = non_zero_size("max_response_bytes", bytes)?;
        Ok(self)
    }

    /// Trusts `ca` besides the web PKI roots, for REST calls and the WebSocket stream alike.
    /// Default: none. The PEM is checked when the client is built.
    #[must_use]
    pub fn with_root_ca(mut self, ca: RootCa) -> Self {
        self.root_cas.push(ca);
        self
    }

    pub(crate) fn credential(&self) -> &DirectLineCredential {
        &self.credential
    }

    /// The base URL.
    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The user id put in `from.id`.
    #[must_use]
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The user's display name.
    #[must_use]
    pub fn user_name(&self) -> Option<&str> {
        self.user_name.as_deref()
    }

    /// The user as a `ChannelAccount`.
    #[must_use]
    pub fn user(&self) -> ChannelAccount {
        let user = ChannelAccount::new(self.user_id.clone());
        match &self.user_name {
            Some(n) => user.with_name(n.clone()),
            None => user,
        }
    }

    /// The polling interval.
    #[must_use]
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// The reconnect backoff range.
    #[must_use]
    pub fn reconnect_backoff(&self) -> (Duration, Duration) {
        self.reconnect_backoff
    }

    /// How long before expiry a token is refreshed.
    #[must_use]
    pub fn token_refresh_margin(&self) -> Duration {
        self.token_refresh_margin
    }

    /// The per-request timeout.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The largest response body or WebSocket message read.
    #[must_use]
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The extra trusted CAs.
    #[must_use]
    pub fn root_cas(&self) -> &[RootCa] {
        &self.root_cas
    }

    /// `{base_url}/{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url.as_str().trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests;
