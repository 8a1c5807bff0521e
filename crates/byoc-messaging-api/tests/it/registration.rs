//! Channel records through the Dataverse client.

use byoc_core::Secret;
use byoc_http::TokenError;
use byoc_messaging_api::{ClientError, CustomChannel, DataverseClient, DataverseConfig, EntraApp};
use byoc_sim::messaging_api::{MessagingApiSim, Options};

use crate::support::{dataverse, sim_url};

#[tokio::test]
async fn channel_records_are_created_listed_updated_and_deleted() {
    let sim = MessagingApiSim::start(Options::default()).await.unwrap();
    let o = sim.options().clone();
    let dv = dataverse(&sim);
    assert!(dv.list().await.unwrap().is_empty());

    let ch = CustomChannel::new(
        "Contoso SMS",
        &o.client_id,
        &o.tenant_id,
        "https://bot.contoso.example/hooks",
    )
    .unwrap();
    let id = dv.create(&ch).await.unwrap();
    let records = sim.channels();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, id.as_str());
    assert_eq!(records[0].channel_type, 192_350_005);
    assert_eq!(records[0].webhook_url, "https://bot.contoso.example/hooks");

    let listed = dv.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.as_ref(), Some(&id));
    assert_eq!(listed[0].name, "Contoso SMS");

    let renamed = CustomChannel::new(
        "Contoso SMS (EU)",
        &o.client_id,
        &o.tenant_id,
        "https://eu.bot.contoso.example/hooks",
    )
    .unwrap();
    dv.update(&id, &renamed).await.unwrap();
    let listed = dv.list().await.unwrap();
    assert_eq!(listed[0].name, "Contoso SMS (EU)");
    assert_eq!(
        listed[0].webhook_url.as_str(),
        "https://eu.bot.contoso.example/hooks"
    );

    dv.delete(&id).await.unwrap();
    assert!(dv.list().await.unwrap().is_empty());
    let e = dv.delete(&id).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    let e = dv.update(&id, &renamed).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    // Dataverse needs its own token, fetched once for all the calls above.
    assert_eq!(sim.token_requests(), 1);
}

#[tokio::test]
async fn a_wrong_secret_is_unauthorized() {
    let sim = MessagingApiSim::start(Options::default()).await.unwrap();
    let o = sim.options().clone();
    let bad = EntraApp::new(&o.tenant_id, &o.client_id, Secret::new("wrong")).unwrap();
    let cfg = DataverseConfig::new(bad, sim_url(&sim))
        .unwrap()
        .with_authority(sim_url(&sim))
        .unwrap();
    let dv = DataverseClient::with_transport(cfg, crate::support::transport()).unwrap();
    let e = dv.list().await.unwrap_err();
    match &e {
        ClientError::Token(TokenError::Refused { status, code, .. }) => {
            assert_eq!(*status, 401);
            assert_eq!(code.as_deref(), Some("invalid_client"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.status(), Some(401));
    let e: byoc_core::AdapterError = e.into();
    assert!(e.is_unauthorized());
}

#[test]
fn channel_records_are_validated_before_sending() {
    let t = "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20";
    let a = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    assert!(CustomChannel::new("x", a, t, "http://bot.example").is_err());
    assert!(CustomChannel::new("x", "app", t, "https://bot.example").is_err());
}

#[tokio::test]
async fn a_tls_endpoint_is_reached_once_its_root_ca_is_configured() {
    let ca = byoc_sim::tls::LocalCa::generate().unwrap();
    let sim = MessagingApiSim::start(Options::default().with_tls(ca.clone()))
        .await
        .unwrap();
    assert!(sim.url().starts_with("https://"));
    let o = sim.options().clone();
    let app = EntraApp::new(
        &o.tenant_id,
        &o.client_id,
        Secret::new(o.client_secret.as_str()),
    )
    .unwrap();
    let config = DataverseConfig::new(app, sim_url(&sim))
        .unwrap()
        .with_authority(sim_url(&sim))
        .unwrap();
    let trusting = DataverseClient::new(config.clone().with_root_ca(byoc_http::RootCa::from_pem(
        "simulator CA",
        ca.ca_pem().as_bytes().to_vec(),
    )))
    .unwrap();
    assert!(
        trusting.list().await.unwrap().is_empty(),
        "token and API over TLS"
    );

    let untrusting = DataverseClient::new(config).unwrap();
    let e = untrusting.list().await.unwrap_err();
    assert!(
        matches!(e, ClientError::Token(TokenError::Transport(_))),
        "the token request fails its TLS handshake first: {e:?}"
    );
}
