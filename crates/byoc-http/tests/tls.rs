//! The reqwest transport against a real TLS server (a byoc-sim simulator with a certificate
//! from its own local CA): trusted through `RootCa`, refused without it.

use byoc_http::{HttpTransport, ReqwestTransport, RootCa, TransportErrorKind};
use byoc_sim::telesign::{TelesignSim, TelesignSimOptions};
use byoc_sim::tls::LocalCa;
use bytes::Bytes;

fn status_request(base: &str) -> http::Request<Bytes> {
    http::Request::get(format!(
        "{base}/v1/messaging/0123456789ABCDEF0123456789ABCDEF"
    ))
    .body(Bytes::new())
    .unwrap()
}

#[tokio::test]
async fn a_simulator_behind_its_local_ca_is_reached_once_the_ca_is_trusted() {
    let ca = LocalCa::generate().unwrap();
    let sim = TelesignSim::start(TelesignSimOptions::default().with_tls(ca.clone()))
        .await
        .unwrap();
    assert!(sim.url().starts_with("https://"));

    let trusting = ReqwestTransport::builder()
        .add_root_ca(RootCa::from_pem(
            "simulator CA",
            ca.ca_pem().as_bytes().to_vec(),
        ))
        .build()
        .unwrap();
    let answer = trusting.execute(status_request(sim.url())).await.unwrap();
    // Unsigned, so the simulator refuses it: what matters is that TLS got us an answer.
    assert_eq!(answer.status(), 401);

    let from_file = ReqwestTransport::builder()
        .add_root_ca(RootCa::from_pem_file(ca.ca_file()).unwrap())
        .build()
        .unwrap();
    assert!(from_file.execute(status_request(sim.url())).await.is_ok());

    let untrusting = ReqwestTransport::new().unwrap();
    let refused = untrusting
        .execute(status_request(sim.url()))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), TransportErrorKind::Connect);
}
