//! The stream over `wss://` with a private CA: a real TLS WebSocket server on loopback whose
//! certificate (for `localhost`) is signed by `test-ca.pem`, and the Direct Line REST calls
//! answered by a closure transport.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use byoc_core::Secret;
use byoc_http::{HttpTransport, TransportFuture};
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use rustls::pki_types::PrivateKeyDer;
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::{DirectLineClient, DirectLineConfig, DirectLineCredential};

const CA: &[u8] = include_bytes!("test-ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("test-server.pem");
const SERVER_KEY: &[u8] = include_bytes!("test-server.key");

/// A TLS WebSocket server that sends one activity set on each socket; returns its port and
/// the count of sockets opened.
async fn wss_server() -> (u16, Arc<AtomicUsize>) {
    let certs = CertificateDer::pem_slice_iter(SERVER_CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let opened = Arc::new(AtomicUsize::new(0));
    let count = opened.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, count) = (acceptor.clone(), count.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let frame = r#"{"activities":[{"type":"message","id":"c1|0001","text":"over tls"}],"watermark":"1"}"#;
                let _ = ws.send(Message::text(frame)).await;
                while ws.next().await.is_some() {}
            });
        }
    });
    (port, opened)
}

/// Direct Line's REST side: every conversation answer names the TLS stream; polling
/// returns one activity of its own.
fn rest(stream_url: String) -> Arc<dyn HttpTransport> {
    Arc::new(move |r: http::Request<Bytes>| -> TransportFuture {
        let body = match r.uri().path() {
            "/v3/directline/conversations/c1/activities" => {
                r#"{"activities":[{"type":"message","id":"c1|0002","text":"polled"}],"watermark":"2"}"#.to_owned()
            }
            _ => format!(
                r#"{{"conversationId":"c1","token":"t","expires_in":1800,"streamUrl":"{stream_url}"}}"#
            ),
        };
        Box::pin(async move { Ok(http::Response::new(Bytes::from(body))) })
    })
}

async fn first_text(root_cas: Vec<RootCa>) -> (String, usize) {
    let (port, opened) = wss_server().await;
    let mut config = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new("s")))
        .unwrap()
        .with_base_url("https://dl.example/v3/directline".parse().unwrap())
        .unwrap()
        .with_reconnect_backoff(Duration::from_millis(5), Duration::from_millis(10))
        .with_poll_interval(Duration::from_millis(10))
        .unwrap();
    for ca in root_cas {
        config = config.with_root_ca(ca);
    }
    let stream_url = format!("wss://localhost:{port}/v3/directline/conversations/c1/stream?t=x");
    let client = Arc::new(DirectLineClient::with_transport(config, rest(stream_url)).unwrap());
    client.start().await.unwrap();
    let mut stream = client.stream();
    let activity = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("stream stalled")
        .unwrap()
        .unwrap();
    (
        activity.text.unwrap_or_default(),
        opened.load(Ordering::SeqCst),
    )
}

#[tokio::test]
async fn the_socket_trusts_the_configured_root_ca() {
    let (text, opened) = first_text(vec![RootCa::from_pem("test CA", CA)]).await;
    assert_eq!(text, "over tls");
    assert_eq!(opened, 1);
}

#[tokio::test]
async fn without_the_ca_the_socket_is_refused_and_the_stream_polls() {
    let (text, opened) = first_text(Vec::new()).await;
    assert_eq!(text, "polled", "the private CA is not a web PKI root");
    assert_eq!(opened, 0);
}

#[test]
fn a_root_ca_that_is_not_pem_is_refused_by_name() {
    let err = tls_config(&[RootCa::from_pem("sim-ca", b"not a certificate".to_vec())]).unwrap_err();
    assert_eq!(
        err,
        ConfigError::RootCa {
            name: "sim-ca".into()
        }
    );
    assert!(tls_config(&[RootCa::from_pem("test CA", CA)]).is_ok());
}
