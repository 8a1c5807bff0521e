//! TLS for every simulator: a local certificate authority ([`LocalCa`]) generated with
//! `rcgen`, a server certificate it issues for `localhost` and `127.0.0.1`, and the listener
//! that serves HTTPS (and WSS) with it.
//!
//! A client reaches a simulator exactly as it reaches the real service: by an `https://` URL
//! and one trusted root, the CA PEM ([`LocalCa::ca_pem`], or the file at
//! [`LocalCa::ca_file`] for `NODE_EXTRA_CA_CERTS`, `REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`,
//! `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, ...). One CA can serve several simulators
//! (`byoc-sim all` shares one), so it is handed around as an `Arc<LocalCa>`.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use byoc_sim::directline::{DirectLineSim, Options};
//! use byoc_sim::tls::LocalCa;
//! let ca = LocalCa::generate()?;
//! let sim = DirectLineSim::start(Options::default().with_tls(ca.clone())).await?;
//! assert!(sim.url().starts_with("https://127.0.0.1:"));
//! let client = reqwest::Client::builder()
//!     .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem().as_bytes())?)
//!     .build()?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! Why these crates: `rcgen` is the rustls project's certificate generator, and the TLS
//! server is `tokio-rustls` (the same rustls, with the `ring` provider, that `reqwest` and
//! `tonic` already use here), behind axum's own `serve` through its `Listener` trait, so
//! HTTP/1.1, HTTP/2 and WebSocket upgrades work unchanged over TLS. Handshakes run on their
//! own tasks, so a client that stalls in its handshake delays nobody else.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The file name of the CA certificate in a CA directory.
pub const CA_CERT_FILE: &str = "byoc-sim-ca.pem";
/// The file name of the CA's private key in a persistent CA directory.
pub const CA_KEY_FILE: &str = "byoc-sim-ca.key";
/// The CA's common name.
const CA_COMMON_NAME: &str = "byoc-sim local CA (test only)";
/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the local CA could not be made or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Generating a key or a certificate failed.
    #[error("generating the {what} failed: {source}")]
    Generate {
        /// `CA certificate`, `server certificate` or `key`.
        what: &'static str,
        /// The generator's error.
        source: rcgen::Error,
    },
    /// Reading or writing a CA file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CA key file is not a PEM private key `rcgen` can sign with.
    #[error("{path}: not a usable CA private key PEM")]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused the server certificate or key.
    #[error("the TLS server configuration was refused: {0}")]
    Config(#[from] rustls::Error),
}

/// A local certificate authority and the server certificate it issued for `localhost` and
/// `127.0.0.1`. Test material only: its keys live in memory and (for a persistent CA) in
/// the directory given.
pub struct LocalCa {
    ca_pem: String,
    ca_file: PathBuf,
    /// The server certificate followed by the CA certificate (PEM).
    chain_pem: String,
    /// The server's private key (PKCS#8 PEM).
    key_pem: String,
    server_config: Arc<rustls::ServerConfig>,
    /// The temporary directory holding `ca_file`, removed when the CA is dropped.
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl LocalCa {
    /// A fresh CA with its certificate written to a new temporary directory (removed when
    /// the last handle is dropped).
    ///
    /// # Errors
    /// When generation fails or the temporary file cannot be written.
    pub fn generate() -> Result<Arc<Self>, TlsError> {
        let temp = tempfile::Builder::new()
            .prefix("byoc-sim-ca-")
            .tempdir()
            .map_err(|source| TlsError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let ca_key = new_key()?;
        let ca_params = ca_params();
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(|source| TlsError::Generate {
                what: "CA certificate",
                source,
            })?;
        let ca_file = temp.path().join(CA_CERT_FILE);
        write(&ca_file, ca_cert.pem().as_bytes())?;
        let mut ca = Self::issue(ca_cert.pem(), ca_file, ca_params, ca_key)?;
        ca._temp = Some(temp);
        Ok(Arc::new(ca))
    }

    /// The CA kept in `dir`: loaded from [`CA_CERT_FILE`] and [`CA_KEY_FILE`] when both
    /// exist, else generated and written there (the directory is created). Clients that
    /// trusted the CA once keep trusting every later run. The server certificate is issued
    /// anew on each call.
    ///
    /// # Errors
    /// When the files cannot be read or written, or the key is not usable.
    pub fn in_dir(dir: &Path) -> Result<Arc<Self>, TlsError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| TlsError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let ca_file = dir.join(CA_CERT_FILE);
        let key_file = dir.join(CA_KEY_FILE);
        let ca_params = ca_params();
        if ca_file.is_file() && key_file.is_file() {
            let ca_pem = std::fs::read_to_string(&ca_file).map_err(io(&ca_file))?;
            let key_pem = std::fs::read_to_string(&key_file).map_err(io(&key_file))?;
            let ca_key = KeyPair::from_pem(&key_pem).map_err(|_| TlsError::BadKey {
                path: key_file.clone(),
            })?;
            return Ok(Arc::new(Self::issue(ca_pem, ca_file, ca_params, ca_key)?));
        }
        let ca_key = new_key()?;
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(|source| TlsError::Generate {
                what: "CA certificate",
                source,
            })?;
        write(&key_file, ca_key.serialize_pem().as_bytes())?;
        write(&ca_file, ca_cert.pem().as_bytes())?;
        Ok(Arc::new(Self::issue(
            ca_cert.pem(),
            ca_file,
            ca_params,
            ca_key,
        )?))
    }

    /// Issues the server certificate for `localhost` and `127.0.0.1` under this CA.
    fn issue(
        ca_pem: String,
        ca_file: PathBuf,
        ca_params: CertificateParams,
        ca_key: KeyPair,
    ) -> Result<Self, TlsError> {
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = new_key()?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).map_err(
                |source| TlsError::Generate {
                    what: "server certificate",
                    source,
                },
            )?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "localhost");
        params.distinguished_name = name;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, 1);
        let server_cert =
            params
                .signed_by(&server_key, &issuer)
                .map_err(|source| TlsError::Generate {
                    what: "server certificate",
                    source,
                })?;
        let chain_pem = format!("{}{}", server_cert.pem(), ca_pem);
        let key_pem = server_key.serialize_pem();
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| rustls::Error::General("server key PEM".into()))?;
        let chain = vec![
            server_cert.der().clone(),
            CertificateDer::from_pem_slice(ca_pem.as_bytes())
                .map_err(|_| rustls::Error::General("CA certificate PEM".into()))?,
        ];
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem,
            ca_file,
            chain_pem,
            key_pem,
            server_config: Arc::new(config),
            _temp: None,
        })
    }

    /// The CA certificate (PEM): the one root a client trusts.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The file holding [`Self::ca_pem`].
    #[must_use]
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The server certificate chain (server certificate, then the CA), PEM.
    #[must_use]
    pub fn server_chain_pem(&self) -> &str {
        &self.chain_pem
    }

    /// The server certificate's private key (PKCS#8 PEM). Test material.
    #[must_use]
    pub fn server_key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The rustls server configuration (ALPN `h2`, `http/1.1`).
    pub(crate) fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server_config.clone()
    }

    /// The gRPC server TLS configuration (tonic sets ALPN `h2` itself).
    pub(crate) fn tonic_config(&self) -> tonic::transport::ServerTlsConfig {
        tonic::transport::ServerTlsConfig::new().identity(tonic::transport::Identity::from_pem(
            &self.chain_pem,
            &self.key_pem,
        ))
    }
}

fn new_key() -> Result<KeyPair, TlsError> {
    KeyPair::generate().map_err(|source| TlsError::Generate {
        what: "key",
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    std::fs::write(path, bytes).map_err(|source| TlsError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Valid from the start of last year to `years` years ahead (whole years, so clocks may
/// differ).
fn set_validity(params: &mut CertificateParams, years: i32) {
    use chrono::Datelike as _;
    let this_year = chrono::Utc::now().year();
    params.not_before = rcgen::date_time_ymd(this_year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(this_year + years, 1, 1);
}

/// The CA's parameters: the same every time, so a persisted key reissues under the same
/// name and key identifier.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_COMMON_NAME);
    name.push(DnType::OrganizationName, "byoc");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, 20);
    params
}

/// The scheme of a simulator's URLs: `https` with a CA, else `http`.
pub(crate) fn scheme(ca: Option<&Arc<LocalCa>>) -> &'static str {
    if ca.is_some() { "https" } else { "http" }
}

/// Serves `app` on `listener` until `shutdown` resolves: plaintext, or TLS with the server
/// certificate of `ca`.
pub(crate) async fn serve(
    listener: TcpListener,
    ca: Option<Arc<LocalCa>>,
    app: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match ca {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(ca) => {
            let listener = TlsListener::new(listener, ca.server_config())?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// A TCP listener whose connections come out TLS-terminated. The accept loop and each
/// handshake run on their own tasks; dropping the listener stops them.
pub(crate) struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub(crate) fn new(
        listener: TcpListener,
        config: Arc<rustls::ServerConfig>,
    ) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let accept_loop = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of descriptors and the like: wait, as axum's own loop does.
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            // The server is gone when nobody receives: drop the connection.
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self {
            local,
            ready,
            accept_loop,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop never ends on its own; wait for the server to be dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn hello_server(ca: &Arc<LocalCa>) -> (String, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
        let ca = ca.clone();
        let task = tokio::spawn(async move {
            serve(listener, Some(ca), app, std::future::pending())
                .await
                .unwrap();
        });
        (format!("https://127.0.0.1:{port}/"), task)
    }

    fn client_trusting(pem: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_client_trusting_the_ca_gets_through_by_ip_and_by_name() {
        let ca = LocalCa::generate().unwrap();
        assert_eq!(std::fs::read_to_string(ca.ca_file()).unwrap(), ca.ca_pem());
        let (url, _task) = hello_server(&ca).await;
        let client = client_trusting(ca.ca_pem());
        let body = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert_eq!(body, "hello");
        let by_name = url.replace("127.0.0.1", "localhost");
        let answer = client.get(&by_name).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        // HTTP/2 through ALPN, as clients negotiate it with the real services.
        let h2 = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).unwrap())
            .http2_prior_knowledge()
            .build()
            .unwrap();
        assert_eq!(
            h2.get(&url).send().await.unwrap().version(),
            http::Version::HTTP_2
        );
    }

    #[tokio::test]
    async fn a_client_trusting_another_ca_is_refused() {
        let ca = LocalCa::generate().unwrap();
        let other = LocalCa::generate().unwrap();
        let (url, _task) = hello_server(&ca).await;
        assert!(
            client_trusting(other.ca_pem())
                .get(&url)
                .send()
                .await
                .is_err()
        );
        // The default roots know nothing of the local CA either.
        assert!(reqwest::Client::new().get(&url).send().await.is_err());
    }

    #[tokio::test]
    async fn a_ca_directory_keeps_its_ca_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalCa::in_dir(dir.path()).unwrap();
        let second = LocalCa::in_dir(dir.path()).unwrap();
        assert_eq!(first.ca_pem(), second.ca_pem());
        assert_ne!(first.server_chain_pem(), second.server_chain_pem());
        // A client configured with the first run's CA trusts the second run's server.
        let (url, _task) = hello_server(&second).await;
        let answer = client_trusting(first.ca_pem())
            .get(&url)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.text().await.unwrap(), "hello");
        std::fs::write(dir.path().join(CA_KEY_FILE), "not a key").unwrap();
        assert!(matches!(
            LocalCa::in_dir(dir.path()),
            Err(TlsError::BadKey { .. })
        ));
    }

    #[test]
    fn the_temporary_ca_file_goes_with_the_last_handle() {
        let ca = LocalCa::generate().unwrap();
        let file = ca.ca_file().to_owned();
        assert!(file.is_file());
        drop(ca);
        assert!(!file.exists());
    }
}

/// The TLS options every simulator's command line takes.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct TlsArgs {
    /// Serve HTTPS (and gRPC over TLS, WSS) with a certificate for localhost and 127.0.0.1
    /// from a local CA; the CA file's path is printed beside the `listening on` line.
    #[arg(long)]
    pub(crate) tls: bool,
    /// Keep the local CA in this directory (created; reused by later runs, so clients trust
    /// it once). Implies --tls. Default: a fresh CA in a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) tls_dir: Option<PathBuf>,
}

impl TlsArgs {
    /// The CA these options ask for, if any.
    pub(crate) fn ca(&self) -> Result<Option<Arc<LocalCa>>, TlsError> {
        match (&self.tls_dir, self.tls) {
            (Some(dir), _) => LocalCa::in_dir(dir).map(Some),
            (None, true) => LocalCa::generate().map(Some),
            (None, false) => Ok(None),
        }
    }
}

/// Prints the CA line a client needs, when the simulator serves TLS.
pub(crate) fn print_ca(ca: Option<&Arc<LocalCa>>) {
    if let Some(ca) = ca {
        println!("CA certificate (trust this): {}", ca.ca_file().display());
    }
}
