//! [`TokenError`] and [`error_code`], the pieces of error handling every client shares.

use std::time::Duration;

use byoc_core::AdapterError;

use crate::transport::TransportError;

/// Why no access token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token endpoint could not be reached.
    #[error("token endpoint unreachable: {0}")]
    Transport(#[from] TransportError),
    /// The token endpoint answered with an error status (wrong credentials, unknown tenant,
    /// throttling).
    #[error("token endpoint answered HTTP {status}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The endpoint's error code (`invalid_client`, `invalid_grant`, ...), when it gave
        /// one that is an identifier.
        code: Option<String>,
        /// `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// The answer is not a token response; `field` names what is missing or wrong.
    #[error("token endpoint answered an unexpected body (field `{field}`)")]
    Decode {
        /// The field at fault.
        field: &'static str,
    },
    /// The token request could not be made (a URL, a credential or a signing key unusable).
    #[error("cannot build the token request: {what}")]
    Build {
        /// What is wrong.
        what: &'static str,
    },
}

impl From<TokenError> for AdapterError {
    fn from(e: TokenError) -> Self {
        let message = e.to_string();
        match e {
            TokenError::Transport(t) => AdapterError::from(t),
            TokenError::Refused {
                status,
                code,
                retry_after,
            } => {
                let err = match status {
                    429 => AdapterError::rate_limited(retry_after, message),
                    408 | 500..=599 => {
                        AdapterError::transient(message).with_retry_after(retry_after)
                    }
                    _ => AdapterError::unauthorized(message),
                };
                match code {
                    Some(c) => err.with_code(c),
                    None => err,
                }
            }
            TokenError::Decode { .. } => AdapterError::transient(message),
            TokenError::Build { .. } => AdapterError::configuration(message),
        }
    }
}

/// The provider's error code in an error body, if it has one that is an identifier: the
/// first of `error` (a string, as OAuth 2 sends), `error.code` (Microsoft APIs), `code`,
/// `errorCode`, and `[0].errorCode` (Salesforce's REST error arrays). Free text is never
/// returned: a code longer than 64 bytes or with characters other than ASCII letters,
/// digits, `_`, `-` and `.` is dropped, since error texts may echo personal data.
#[must_use]
pub fn error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |v: Option<&serde_json::Value>| -> Option<String> {
        match v? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let object = match &value {
        serde_json::Value::Array(items) => items.first()?,
        other => other,
    };
    let code = text(object.get("error"))
        .or_else(|| text(object.get("error").and_then(|e| e.get("code"))))
        .or_else(|| text(object.get("code")))
        .or_else(|| text(object.get("errorCode")))?;
    (!code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)))
    .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_from_each_provider_shape() {
        assert_eq!(
            error_code(br#"{"error":"invalid_client","error_description":"AADSTS pii"}"#)
                .as_deref(),
            Some("invalid_client")
        );
        assert_eq!(
            error_code(br#"{"error":{"code":"BadArgument","message":"x"}}"#).as_deref(),
            Some("BadArgument")
        );
        assert_eq!(
            error_code(br#"{"code":"10004","message":"x"}"#).as_deref(),
            Some("10004")
        );
        assert_eq!(
            error_code(br#"[{"message":"Session expired","errorCode":"INVALID_SESSION_ID"}]"#)
                .as_deref(),
            Some("INVALID_SESSION_ID")
        );
        assert_eq!(error_code(br#"{"code":10008}"#).as_deref(), Some("10008"));
        assert_eq!(error_code(br#"{"code":"has spaces and pii"}"#), None);
        assert_eq!(error_code(b"<html>"), None);
        assert_eq!(error_code(b"{}"), None);
    }

    #[test]
    fn token_errors_map_to_adapter_kinds() {
        let refused = |status| TokenError::Refused {
            status,
            code: Some("invalid_client".into()),
            retry_after: Some(Duration::from_secs(3)),
        };
        let e = AdapterError::from(refused(401));
        assert!(e.is_unauthorized());
        assert_eq!(e.code(), Some("invalid_client"));
        assert!(AdapterError::from(refused(400)).is_unauthorized());
        let e = AdapterError::from(refused(429));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert!(AdapterError::from(refused(503)).is_retryable());
        assert!(!AdapterError::from(TokenError::Build { what: "x" }).is_retryable());
    }
}
