//! [`TelesignConfig`]: credentials, endpoint and sending defaults; [`ApiKey`]: the API key
//! with TeleSign's lenient base64 decoding.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use byoc_core::Secret;

use crate::error::ConfigError;
use crate::render::MessageType;

/// Base URL of Standard (self-service, trial) accounts, the SDKs' default.
pub const STANDARD_BASE_URL: &str = "https://rest-api.telesign.com";
/// Base URL of Enterprise accounts.
pub const ENTERPRISE_BASE_URL: &str = "https://rest-ww.telesign.com";
/// Longest `message` TeleSign accepts, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1600;
/// Default limit of an inbound callback body (64 KiB).
pub const DEFAULT_MAX_CALLBACK_BYTES: usize = 64 * 1024;

pub(crate) const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A TeleSign API key: the string as issued (used as is by Basic auth) and its decoded
/// bytes (the HMAC key of TSA signatures and callback signatures).
///
/// Decoding is lenient as in TeleSign's SDKs (the documented example key contains `-`):
/// every character outside `A-Z a-z 0-9 + /` is dropped (including `=`), then the rest is
/// decoded without requiring padding. `Debug` is redacted.
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
    pub fn new(api_key: impl Into<String>) -> Result<Self, ConfigError> {
        let text: String = api_key.into();
        let decoded = decode_lenient(&text).ok_or(ConfigError::InvalidApiKey)?;
        Ok(Self {
            text: Secret::new(text),
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

/// How outbound requests authenticate.
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
    /// Refuse with [`crate::RenderError::TextTooLong`].
    Refuse,
}

/// Everything the adapter needs. Required values are [`TelesignConfig::new`]'s arguments;
/// the rest have the defaults written on each setter.
#[derive(Clone)]
#[non_exhaustive]
pub struct TelesignConfig {
    /// Your customer id.
    pub customer_id: String,
    /// Your API key.
    pub api_key: ApiKey,
    /// API base URL without trailing slash. Default [`STANDARD_BASE_URL`].
    pub base_url: String,
    /// Outbound authentication. Default [`AuthScheme::TsaDate`].
    pub auth: AuthScheme,
    /// `message_type` of sent messages. Default [`MessageType::Arn`].
    pub message_type: MessageType,
    /// `sender_id` of sent messages (≤ 20 characters, approved by TeleSign). Default none.
    pub sender_id: Option<String>,
    /// `callback_url` for delivery reports of sent messages. Default none (the portal's
    /// callback URL applies).
    pub callback_url: Option<String>,
    /// Text longer than 1600 characters. Default [`LongText::Split`].
    pub long_text: LongText,
    /// Request timeout. Default 10 s (as TeleSign's SDKs).
    pub timeout: Duration,
    /// Largest accepted callback body. Default [`DEFAULT_MAX_CALLBACK_BYTES`].
    pub max_callback_bytes: usize,
    /// Extra API keys accepted on callbacks (key rotation). Default none.
    pub previous_keys: Vec<ApiKey>,
}

impl fmt::Debug for TelesignConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelesignConfig")
            .field("customer_id", &self.customer_id)
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("message_type", &self.message_type)
            .field("sender_id", &self.sender_id)
            .field("callback_url", &self.callback_url)
            .field("long_text", &self.long_text)
            .field("timeout", &self.timeout)
            .field("max_callback_bytes", &self.max_callback_bytes)
            .field("previous_keys", &self.previous_keys.len())
            .finish()
    }
}

impl TelesignConfig {
    /// A configuration for `customer_id` with `api_key`, every other setting default.
    ///
    /// # Errors
    /// [`ConfigError::EmptyCustomerId`], [`ConfigError::InvalidApiKey`].
    pub fn new(customer_id: impl Into<String>, api_key: &str) -> Result<Self, ConfigError> {
        let customer_id = customer_id.into();
        if customer_id.trim().is_empty() {
            return Err(ConfigError::EmptyCustomerId);
        }
        Ok(Self {
            customer_id,
            api_key: ApiKey::new(api_key)?,
            base_url: STANDARD_BASE_URL.to_owned(),
            auth: AuthScheme::default(),
            message_type: MessageType::Arn,
            sender_id: None,
            callback_url: None,
            long_text: LongText::default(),
            timeout: Duration::from_secs(10),
            max_callback_bytes: DEFAULT_MAX_CALLBACK_BYTES,
            previous_keys: Vec::new(),
        })
    }

    /// Sets the base URL (`https://rest-ww.telesign.com`, or a simulator's URL).
    ///
    /// # Errors
    /// [`ConfigError::InvalidBaseUrl`] unless an absolute `http`/`https` URL without query.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Result<Self, ConfigError> {
        let url: String = url.into();
        let uri: http::Uri = url.parse().map_err(|_| ConfigError::InvalidBaseUrl {
            reason: "not a URL",
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(ConfigError::InvalidBaseUrl {
                reason: "not an absolute http(s) URL",
            });
        }
        if uri.query().is_some() {
            return Err(ConfigError::InvalidBaseUrl {
                reason: "has a query",
            });
        }
        self.base_url = url.trim_end_matches('/').to_owned();
        Ok(self)
    }

    /// Sets the outbound authentication scheme.
    #[must_use]
    pub fn with_auth(mut self, auth: AuthScheme) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the `message_type`.
    #[must_use]
    pub fn with_message_type(mut self, message_type: MessageType) -> Self {
        self.message_type = message_type;
        self
    }

    /// Sets the `sender_id`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidSenderId`] when empty or longer than 20 characters.
    pub fn with_sender_id(mut self, sender_id: impl Into<String>) -> Result<Self, ConfigError> {
        let s: String = sender_id.into();
        if s.is_empty() || s.chars().count() > 20 {
            return Err(ConfigError::InvalidSenderId);
        }
        self.sender_id = Some(s);
        Ok(self)
    }

    /// Sets the per-request `callback_url`.
    #[must_use]
    pub fn with_callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Sets what happens to text over 1600 characters.
    #[must_use]
    pub fn with_long_text(mut self, long_text: LongText) -> Self {
        self.long_text = long_text;
        self
    }

    /// Sets the request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the largest accepted callback body.
    #[must_use]
    pub fn with_max_callback_bytes(mut self, limit: usize) -> Self {
        self.max_callback_bytes = limit;
        self
    }

    /// Also accepts callbacks signed with `key` (during a key rotation).
    ///
    /// # Errors
    /// [`ConfigError::InvalidApiKey`].
    pub fn with_previous_key(mut self, key: &str) -> Result<Self, ConfigError> {
        self.previous_keys.push(ApiKey::new(key)?);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const K1: &str =
        "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn lenient_decoding_matches_the_sdks() {
        let k = ApiKey::new(K1).unwrap();
        assert_eq!(
            hex(k.decoded()),
            "11700c3cb11313cb13820e39caeb2e9a837a058b0156487ec9127973382c9c27a165a39895d3c9766161e8d797f24ba7676cd4d5859a530ff4c15eb17f"
        );
        assert_eq!(
            hex(ApiKey::new("yourApiKey").unwrap().decoded()),
            "ca8bab02988a7b"
        );
        assert_eq!(ApiKey::new("VGVzdCBLZXk=").unwrap().decoded(), b"Test Key");
        assert_eq!(ApiKey::new("").unwrap_err(), ConfigError::InvalidApiKey);
        assert_eq!(ApiKey::new("-=-").unwrap_err(), ConfigError::InvalidApiKey);
        assert_eq!(ApiKey::new("A").unwrap_err(), ConfigError::InvalidApiKey);
    }

    #[test]
    fn debug_is_redacted() {
        let c = TelesignConfig::new("FFFFFFFF-EEEE-DDDD-1234-AB1234567890", K1)
            .unwrap()
            .with_previous_key("VGVzdCBLZXk=")
            .unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("ApiKey([redacted])"));
        assert!(!d.contains("TE8sTgg45") && !d.contains("VGVzdCBLZXk"));
    }

    #[test]
    fn validation() {
        assert_eq!(
            TelesignConfig::new(" ", K1).unwrap_err(),
            ConfigError::EmptyCustomerId
        );
        let c = TelesignConfig::new("c", K1).unwrap();
        assert_eq!(c.base_url, STANDARD_BASE_URL);
        let c = c.with_base_url("http://127.0.0.1:9/").unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:9");
        assert!(c.clone().with_base_url("ftp://x").is_err());
        assert!(c.clone().with_base_url("/v1").is_err());
        assert!(c.clone().with_base_url("https://x/?a=1").is_err());
        assert!(c.clone().with_sender_id("x".repeat(21)).is_err());
        assert!(c.with_sender_id("15555550999").is_ok());
    }
}
