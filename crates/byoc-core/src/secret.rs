//! [`Secret`]: a credential that never shows in `Debug` output or logs.

use std::fmt;

/// A secret string (API key, client secret, token). `Debug` prints `Secret([redacted])`; there
/// is no `PartialEq` (compare digests in constant time instead) and no `Display`; read it
/// with [`Secret::secret`].
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret value. Call only where it is used (signing, an auth header).
    #[must_use]
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (a configuration error in most places).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert!(!format!("{:?}", Some(s.clone())).contains("hunter2"));
        assert_eq!(s.secret(), "hunter2");
    }
}
