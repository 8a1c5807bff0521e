//! The HTTP settings the `new` constructors build their reqwest transport with.

use std::time::Duration;

use byoc_http::RootCa;

use super::{DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use crate::error::ConfigError;

/// `timeout`, refused when zero (every request would time out).
pub(crate) fn non_zero_duration(
    field: &'static str,
    timeout: Duration,
) -> Result<Duration, ConfigError> {
    if timeout.is_zero() {
        return Err(ConfigError::Invalid {
            field,
            reason: "must be positive",
        });
    }
    Ok(timeout)
}

/// `bytes`, refused when zero (every body would be too large).
pub(crate) fn non_zero_size(field: &'static str, bytes: usize) -> Result<usize, ConfigError> {
    if bytes == 0 {
        return Err(ConfigError::Invalid {
            field,
            reason: "must be positive",
        });
    }
    Ok(bytes)
}

/// The HTTP settings of a client: what [`ReqwestTransport`](byoc_http::ReqwestTransport)
/// is built with.
#[derive(Clone, Debug)]
pub(crate) struct HttpSettings {
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) root_cas: Vec<RootCa>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_cas: Vec::new(),
        }
    }
}

impl HttpSettings {
    /// The reqwest transport these settings describe.
    #[cfg(feature = "reqwest")]
    pub(crate) fn transport(
        &self,
    ) -> Result<std::sync::Arc<dyn byoc_http::HttpTransport>, ConfigError> {
        let mut builder = byoc_http::ReqwestTransport::builder()
            .timeout(self.timeout)
            .max_response_bytes(self.max_response_bytes);
        for ca in &self.root_cas {
            builder = builder.add_root_ca(ca.clone());
        }
        let transport = builder.build().map_err(|e| ConfigError::HttpClient {
            reason: e.to_string(),
        })?;
        Ok(std::sync::Arc::new(transport))
    }
}
