//! [`TelesignConfig`]: credentials, endpoint, sending defaults and limits, validated once;
//! [`ApiKey`]: the API key with TeleSign's lenient base64 decoding.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use byoc_core::Secret;
use byoc_http::RootCa;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;

use crate::error::ConfigError;
use crate::render::MessageType;

/// Base URL of Standard (self-service, trial) accounts, the SDKs' default and
/// [`TelesignConfig`]'s.
pub const STANDARD_BASE_URL: &str = "https://rest-api.telesign.com";
/// Base URL of Enterprise accounts (`TelesignConfig::with_base_url(ENTERPRISE_BASE_URL.parse()?)`).
pub const ENTERPRISE_BASE_URL: &str = "https://rest-ww.telesign.com";
/// Longest `message` TeleSign accepts, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1600;
/// Default largest inbound callback body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// Default time for one outbound request: 10 s, as TeleSign's SDKs.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default largest response body read: 1 MiB (TeleSign's answers are a few hundred bytes).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Longest `sender_id` TeleSign accepts, in characters.
pub(crate) const MAX_SENDER_ID_CHARS: usize = 20;

pub(crate) const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A TeleSign API key: the string as issued (used as is by Basic auth) and its decoded
/// bytes (the HMAC key of request and callback signatures).
///
/// Decoding is lenient as in TeleSign's SDKs (their documented example key contains `-`):
/// every character outside `A-Z a-z 0-9 + /` is dropped (including `=`), then the rest is
/// decoded without requiring padding
/// (`docs/protocols/telesign.md#api-key-decoding`). `Debug` is redacted.
#[derive(Clone)]
pub struct ApiKey {
    text: Secret,
    decoded: Vec<u8>,
}

impl ApiKey {
    /// Parses an API key.
    ///
    /// # Errors
    /// [`ConfigError::InvalidApiKey`] when nothing decodes from it.
    pub fn new(api_key: Secret) -> Result<Self, ConfigError> {
        let decoded = decode_lenient(api_key.secret()).ok_or(ConfigError::InvalidApiKey)?;
        Ok(Self {
            text: api_key,
            decoded,
        })
    }

    /// The key as issued.
    #[must_use]
    pub fn secret(&self) -> &str {
        self.text.secret()
    }

    /// The decoded key bytes (the HMAC key).
    #[must_use]
    pub fn decoded(&self) -> &[u8] {
        &self.decoded
    }

    /// An HMAC-SHA256 over `message` keyed with the decoded key, for signing or a
    /// constant-time check (`verify_slice`).
    pub(crate) fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.decoded)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        m.update(message);
        m
    }

    /// `base64(HMAC-SHA256(decoded key, message))`: the request signature over a string to
    /// sign, and the callback signature over a raw body.
    pub(crate) fn sign(&self, message: &[u8]) -> String {
        STANDARD.encode(self.mac(message).finalize().into_bytes())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// Lenient base64 decoding (see [`ApiKey`]); `None` when no byte decodes.
fn decode_lenient(text: &str) -> Option<Vec<u8>> {
    let mut kept: Vec<u8> = text
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    // A lone trailing character carries less than a byte: drop it, as the SDKs' decoders do.
    if kept.len() % 4 == 1 {
        kept.pop();
    }
    let bytes = LENIENT.decode(&kept).ok()?;
    (!bytes.is_empty()).then_some(bytes)
}

/// How outbound requests authenticate (`docs/protocols/telesign.md#request-authentication`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthScheme {
    /// TeleSign's HMAC-SHA256 signature (`Authorization: TSA {customer_id}:{signature}`),
    /// the date carried in `Date` (what the current SDKs send). The default.
    #[default]
    TsaDate,
    /// The HMAC-SHA256 signature with the date in `x-ts-date` (older SDKs and TeleSign's
    /// sample code; useful where a proxy rewrites `Date`).
    TsaXTsDate,
    /// `Authorization: Basic base64(customer_id:api_key)`.
    Basic,
}

/// What to do with text longer than [`MAX_MESSAGE_CHARS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LongText {
    /// Split into several messages at word boundaries (the default).
    #[default]
    Split,
    /// Refuse with [`RenderError::TextTooLong`](crate::RenderError::TextTooLong).
    Refuse,
}

/// Everything the adapter needs. The required values are [`TelesignConfig::new`]'s
/// arguments; every other setting has the default written on its setter. Values are checked
/// when set, so a `TelesignConfig` is always usable.
#[derive(Clone)]
pub struct TelesignConfig {
    customer_id: String,
    api_key: ApiKey,
    previous_keys: Vec<ApiKey>,
    base_url: Url,
    auth: AuthScheme,
    message_type: MessageType,
    sender_id: Option<String>,
    callback_url: Option<Url>,
    long_text: LongText,
    body_limit: usize,
    timeout: Duration,
    max_response_bytes: usize,
    root_cas: Vec<RootCa>,
}

impl fmt::Debug for TelesignConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelesignConfig")
            .field("customer_id", &self.customer_id)
            .field("api_key", &self.api_key)
            .field("previous_keys", &self.previous_keys.len())
            .field("base_url", &self.base_url.as_str())
            .field("auth", &self.auth)
            .field("message_type", &self.message_type)
            .field("sender_id", &self.sender_id)
            .field("callback_url", &self.callback_url.as_ref().map(Url::as_str))
            .field("long_text", &self.long_text)
            .field("body_limit", &self.body_limit)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("root_cas", &self.root_cas)
            .finish()
    }
}

impl TelesignConfig {
    /// A configuration for `customer_id` with `api_key`, every other setting default.
    ///
    /// # Errors
    /// [`ConfigError::EmptyCustomerId`], [`ConfigError::InvalidApiKey`].
    pub fn new(customer_id: impl Into<String>, api_key: Secret) -> Result<Self, ConfigError> {
        let customer_id = customer_id.into();
        if customer_id.trim().is_empty() {
            return Err(ConfigError::EmptyCustomerId);
        }
        Ok(Self {
            customer_id,
            api_key: ApiKey::new(api_key)?,
            previous_keys: Vec::new(),
            base_url: Url::parse(STANDARD_BASE_URL)
                .unwrap_or_else(|_| unreachable!("the standard base URL parses")),
            auth: AuthScheme::default(),
            message_type: MessageType::Arn,
            sender_id: None,
            callback_url: None,
            long_text: LongText::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_cas: Vec::new(),
        })
    }

    /// Sets the API base URL. Default [`STANDARD_BASE_URL`]; Enterprise accounts use
    /// [`ENTERPRISE_BASE_URL`]; tests a simulator's URL. A path is kept as a prefix.
    ///
    /// # Errors
    /// [`ConfigError::InvalidBaseUrl`] unless an `http`/`https` URL with a host and without
    /// query or fragment.
    pub fn with_base_url(mut self, url: Url) -> Result<Self, ConfigError> {
        check_http_url(&url).map_err(|reason| ConfigError::InvalidBaseUrl { reason })?;
        self.base_url = url;
        Ok(self)
    }

    /// Also accepts callbacks signed with `key`, during a key rotation. Default: only the
    /// API key.
    ///
    /// # Errors
    /// [`ConfigError::InvalidApiKey`].
    pub fn with_previous_key(mut self, key: Secret) -> Result<Self, ConfigError> {
        self.previous_keys.push(ApiKey::new(key)?);
        Ok(self)
    }

    /// Sets the outbound authentication. Default [`AuthScheme::TsaDate`].
    #[must_use]
    pub fn with_auth(mut self, auth: AuthScheme) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the `message_type` of sent messages. Default [`MessageType::Arn`].
    #[must_use]
    pub fn with_message_type(mut self, message_type: MessageType) -> Self {
        self.message_type = message_type;
        self
    }

    /// Sets the `sender_id` of sent messages (approved by TeleSign). Default none.
    ///
    /// # Errors
    /// [`ConfigError::InvalidSenderId`] when empty or longer than 20 characters.
    pub fn with_sender_id(mut self, sender_id: impl Into<String>) -> Result<Self, ConfigError> {
        let s: String = sender_id.into();
        if s.is_empty() || s.chars().count() > MAX_SENDER_ID_CHARS {
            return Err(ConfigError::InvalidSenderId);
        }
        self.sender_id = Some(s);
        Ok(self)
    }

    /// Sets the `callback_url` sent with each message, where TeleSign posts its delivery
    /// reports. Default none: the callback URL configured in TeleSign's portal applies.
    ///
    /// # Errors
    /// [`ConfigError::InvalidCallbackUrl`] unless an `http`/`https` URL with a host and
    /// without fragment.
    pub fn with_callback_url(mut self, url: Url) -> Result<Self, ConfigError> {
        check_http_url(&url).map_err(|reason| ConfigError::InvalidCallbackUrl { reason })?;
        self.callback_url = Some(url);
        Ok(self)
    }

    /// Sets what happens to text over [`MAX_MESSAGE_CHARS`]. Default [`LongText::Split`].
    #[must_use]
    pub fn with_long_text(mut self, long_text: LongText) -> Self {
        self.long_text = long_text;
        self
    }

    /// Sets the largest inbound callback body, in bytes. Default [`DEFAULT_BODY_LIMIT`].
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_body_limit(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.body_limit = positive("body_limit", bytes)?;
        Ok(self)
    }

    /// Sets the time allowed for one outbound request. Default [`DEFAULT_TIMEOUT`].
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError::Invalid {
                field: "timeout",
                reason: "must be positive",
            });
        }
        self.timeout = timeout;
        Ok(self)
    }

    /// Sets the largest response body read, in bytes. Default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`].
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.max_response_bytes = positive("max_response_bytes", bytes)?;
        Ok(self)
    }

    /// Trusts `ca` besides the web PKI roots on every connection the adapter makes (a
    /// TLS-intercepting proxy, a private deployment). Default none. May be called again to
    /// add more.
    #[must_use]
    pub fn with_root_ca(mut self, ca: RootCa) -> Self {
        self.root_cas.push(ca);
        self
    }

    /// The customer id.
    #[must_use]
    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    /// The API key.
    #[must_use]
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// Keys still accepted on callbacks besides the API key.
    #[must_use]
    pub fn previous_keys(&self) -> &[ApiKey] {
        &self.previous_keys
    }

    /// The API base URL.
    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The outbound authentication.
    #[must_use]
    pub fn auth(&self) -> AuthScheme {
        self.auth
    }

    /// The `message_type` of sent messages.
    #[must_use]
    pub fn message_type(&self) -> &MessageType {
        &self.message_type
    }

    /// The `sender_id` of sent messages.
    #[must_use]
    pub fn sender_id(&self) -> Option<&str> {
        self.sender_id.as_deref()
    }

    /// The `callback_url` sent with each message.
    #[must_use]
    pub fn callback_url(&self) -> Option<&Url> {
        self.callback_url.as_ref()
    }

    /// What happens to text over [`MAX_MESSAGE_CHARS`].
    #[must_use]
    pub fn long_text(&self) -> LongText {
        self.long_text
    }

    /// The largest inbound callback body, in bytes.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The time allowed for one outbound request.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The largest response body read, in bytes.
    #[must_use]
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// Extra certificate authorities trusted.
    #[must_use]
    pub fn root_cas(&self) -> &[RootCa] {
        &self.root_cas
    }

    /// `{base_url}{resource}`, the base URL's own path kept as a prefix.
    pub(crate) fn url_of(&self, resource: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        let mut url = String::with_capacity(base.len() + resource.len());
        url.push_str(base);
        url.push_str(resource);
        url
    }
}

/// `Err(reason)` unless `url` is `http(s)` with a host and without query or fragment.
fn check_http_url(url: &Url) -> Result<(), &'static str> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("scheme is not http or https");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    if url.query().is_some() {
        return Err("has a query");
    }
    if url.fragment().is_some() {
        return Err("has a fragment");
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// `bytes`, refused when zero.
fn positive(field: &'static str, bytes: usize) -> Result<usize, ConfigError> {
    if bytes == 0 {
        return Err(ConfigError::Invalid {
            field,
            reason: "must be positive",
        });
    }
    Ok(bytes)
}
