//! [`RootCa`]: an extra certificate authority to trust, for private deployments and for the
//! simulators' TLS endpoints.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A PEM certificate authority to trust besides the web PKI roots.
///
/// Given to [`ReqwestTransportBuilder::add_root_ca`](crate::ReqwestTransportBuilder::add_root_ca)
/// for REST calls; adapters that speak gRPC or WebSocket read [`RootCa::pem`] for their own
/// TLS configuration, so one setting covers every connection an adapter makes.
#[derive(Clone)]
pub struct RootCa {
    name: Arc<str>,
    pem: Arc<[u8]>,
}

impl fmt::Debug for RootCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootCa")
            .field("name", &self.name)
            .field("pem_bytes", &self.pem.len())
            .finish()
    }
}

impl RootCa {
    /// A CA from PEM bytes; `name` identifies it in errors (a file path, "simulator CA").
    /// The PEM is checked when a transport is built with it.
    #[must_use]
    pub fn from_pem(name: impl Into<String>, pem: impl Into<Vec<u8>>) -> Self {
        Self {
            name: Arc::from(name.into()),
            pem: Arc::from(pem.into()),
        }
    }

    /// A CA read from a PEM file.
    ///
    /// # Errors
    /// The I/O error when the file cannot be read.
    pub fn from_pem_file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref();
        let pem = std::fs::read(path)?;
        Ok(Self::from_pem(path.display().to_string(), pem))
    }

    /// The CA's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The PEM bytes.
    #[must_use]
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }
}
