//! TLS with an extra root CA: a TLS front (certificate from the test CA in `tests/keys`)
//! before the simulator's REST and gRPC ports, so the adapter reaches it by `https://` URLs
//! and one trusted CA, as at the real service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use byoc_core::{Activity, ChannelAdapter, Secret};
use byoc_salesforce::{
    ChannelDefinition, Credentials, ReplayStart, RootCa, SalesforceAdapter, SalesforceConfig,
    SubscriptionItem,
};
use byoc_sim::salesforce::{self as sim, SalesforceSim, SimConfig};
use futures_util::StreamExt as _;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use url::Url;

use super::{USER, customer};

const CA: &[u8] = include_bytes!("../keys/tls-ca.pem");
const CERT: &[u8] = include_bytes!("../keys/tls-server.pem");
const KEY: &[u8] = include_bytes!("../keys/tls-server-key.pem");

/// Terminates TLS on `127.0.0.1:0` (offering `alpn`) and forwards the bytes to `target`.
async fn tls_front(target: SocketAddr, alpn: &[u8]) -> SocketAddr {
    let certs = CertificateDer::pem_slice_iter(CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
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

/// The adapter's configuration with both sides behind TLS fronts, `localhost` URLs.
async fn config_over_tls(s: &SalesforceSim, trust: Option<RootCa>) -> SalesforceConfig {
    let rest = tls_front(addr(s.url()), b"http/1.1").await;
    let grpc = tls_front(addr(s.pubsub_url()), b"h2").await;
    let rest_url = Url::parse(&format!("https://localhost:{}", rest.port())).unwrap();
    let c = s.config();
    let credentials = Credentials::new(
        &c.consumer_key,
        &c.username,
        Secret::new(sim::TEST_PRIVATE_KEY_PEM),
    )
    .unwrap()
    .with_login_url(&rest_url)
    .unwrap()
    // The simulator expects its own address as the audience.
    .with_audience(s.audience())
    .unwrap();
    let config = SalesforceConfig::new(
        credentials,
        &c.org_id,
        rest_url,
        &c.channel_address,
        ChannelDefinition::new(
            &c.authorization_context,
            &c.platform_event,
            &c.event_type_field,
            &c.payload_field,
        )
        .unwrap(),
    )
    .unwrap()
    .with_pubsub_url(Url::parse(&format!("https://localhost:{}", grpc.port())).unwrap())
    .unwrap()
    .with_reconnect_delay(Duration::from_millis(50))
    .unwrap();
    match trust {
        Some(ca) => config.with_root_ca(ca),
        None => config,
    }
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
    let s = SalesforceSim::start(SimConfig::default()).await.unwrap();
    let ca = RootCa::from_pem("byoc test CA", CA);
    let adapter = SalesforceAdapter::new(config_over_tls(&s, Some(ca)).await).unwrap();
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
    let s = SalesforceSim::start(SimConfig::default()).await.unwrap();
    let adapter = SalesforceAdapter::new(config_over_tls(&s, None).await).unwrap();
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
    let grpc = tls_front(addr(s.pubsub_url()), b"h2").await;
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
    let trusted =
        SalesforceAdapter::new(config.with_root_ca(RootCa::from_pem("test CA", CA))).unwrap();
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
