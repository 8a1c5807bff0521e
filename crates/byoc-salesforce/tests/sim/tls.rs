//! TLS with an extra root CA: the simulator serves REST and gRPC over TLS with a
//! certificate from its own local CA, so the adapter reaches it by `https://` URLs and one
//! trusted root, as at the real service. A TLS front (a certificate from a local CA of its own)
//! before the gRPC port alone shows that the gRPC side checks the certificate by itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use byoc_core::{Activity, ChannelAdapter};
use byoc_salesforce::{ReplayStart, RootCa, SalesforceAdapter, SalesforceConfig, SubscriptionItem};
use byoc_sim::salesforce::{self as sim, SalesforceSim, SimConfig};
use byoc_sim::tls::LocalCa;
use futures_util::StreamExt as _;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use url::Url;

use super::{USER, customer};

/// The simulator behind TLS, with the CA its certificate comes from.
async fn sim_over_tls() -> (SalesforceSim, Arc<LocalCa>) {
    let ca = LocalCa::generate().unwrap();
    let s = SalesforceSim::start(SimConfig::default().with_tls(ca.clone()))
        .await
        .unwrap();
    assert!(s.url().starts_with("https://"));
    assert!(s.pubsub_url().starts_with("https://"));
    (s, ca)
}

fn root(ca: &LocalCa) -> RootCa {
    RootCa::from_pem("simulator CA", ca.ca_pem().as_bytes().to_vec())
}

/// The adapter's configuration for `s`, trusting `trust` besides the web's roots.
fn config(s: &SalesforceSim, trust: Option<RootCa>) -> SalesforceConfig {
    let config = super::config(s, sim::TEST_PRIVATE_KEY_PEM)
        .with_reconnect_delay(Duration::from_millis(50))
        .unwrap();
    match trust {
        Some(ca) => config.with_root_ca(ca),
        None => config,
    }
}

/// Terminates TLS on `127.0.0.1:0` with a certificate `ca` issued (offering `alpn`) and
/// forwards the bytes to `target`.
async fn tls_front(ca: &LocalCa, target: SocketAddr, alpn: &[u8]) -> SocketAddr {
    let certs = CertificateDer::pem_slice_iter(ca.server_chain_pem().as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(ca.server_key_pem().as_bytes()).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    config.alpn_protocols = vec![alpn.to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to do.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    addr
}

fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().unwrap()
}

async fn next_item(sub: &mut byoc_salesforce::Subscription) -> SubscriptionItem {
    tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .expect("an item within 20 s")
        .expect("stream open")
        .expect("no fatal error")
}

#[tokio::test]
async fn the_extra_root_ca_is_trusted_by_rest_and_grpc() {
    let (s, ca) = sim_over_tls().await;
    let adapter = SalesforceAdapter::new(config(&s, Some(root(&ca)))).unwrap();
    // REST (token endpoint and /interactions) over TLS.
    let delivery = adapter
        .send(&customer(Activity::message("over TLS")))
        .await
        .unwrap();
    assert!(delivery.conversation_id.is_some());
    assert_eq!(s.recorded().len(), 1);
    // gRPC over TLS.
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    s.agent_says(USER, "0055g00000Jk7Qp", "Grace", "hello over TLS")
        .unwrap();
    loop {
        match next_item(&mut sub).await {
            SubscriptionItem::Event(e) => {
                assert_eq!(e.activities[0].text.as_deref(), Some("hello over TLS"));
                break;
            }
            SubscriptionItem::Reconnecting { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn an_unknown_ca_is_refused_on_both_sides() {
    let (s, _ca) = sim_over_tls().await;
    let adapter = SalesforceAdapter::new(config(&s, None)).unwrap();
    let e = adapter
        .send(&customer(Activity::message("not trusted")))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(s.recorded().is_empty());
    assert_eq!(s.tokens_issued(), 0);
    // The subscriber mints its token over REST first, which fails the same way.
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    match next_item(&mut sub).await {
        SubscriptionItem::Reconnecting { error, .. } => assert!(error.is_retryable()),
        other => panic!("expected a reconnect, got {other:?}"),
    }
}

#[tokio::test]
async fn the_grpc_side_alone_refuses_an_unknown_ca() {
    // REST in plaintext (tokens work), gRPC behind TLS without the CA.
    let s = SalesforceSim::start(SimConfig::default()).await.unwrap();
    let ca = LocalCa::generate().unwrap();
    let grpc = tls_front(&ca, addr(s.pubsub_url()), b"h2").await;
    let config = super::config(&s, sim::TEST_PRIVATE_KEY_PEM)
        .with_pubsub_url(Url::parse(&format!("https://localhost:{}", grpc.port())).unwrap())
        .unwrap();
    let adapter = SalesforceAdapter::new(config.clone()).unwrap();
    let mut sub = adapter.subscribe(ReplayStart::Earliest);
    match next_item(&mut sub).await {
        SubscriptionItem::Reconnecting { error, .. } => {
            assert!(error.to_string().contains("connection failed"), "{error}");
        }
        other => panic!("expected a reconnect, got {other:?}"),
    }
    drop(sub);
    // The same with the CA: events arrive.
    let trusted = SalesforceAdapter::new(config.with_root_ca(root(&ca))).unwrap();
    let mut sub = trusted.subscribe(ReplayStart::Earliest);
    s.agent_says(USER, "0055g00000Jk7Qp", "Grace", "m0")
        .unwrap();
    loop {
        match next_item(&mut sub).await {
            SubscriptionItem::Event(e) => {
                break assert_eq!(e.activities[0].text.as_deref(), Some("m0"));
            }
            SubscriptionItem::Reconnecting { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
}
