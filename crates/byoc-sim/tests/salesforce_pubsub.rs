//! The Pub/Sub API over TLS, as grpc-js and other clients reach the real endpoint (call
//! credentials travel only over TLS): a tonic client trusting only the simulator's CA gets
//! the topic and schema, publishes an event with `Publish`, and receives it on `Subscribe`.

use byoc_pubsub_proto::pub_sub_client::PubSubClient;
use byoc_pubsub_proto::{
    FetchRequest, ProducerEvent, PublishRequest, ReplayPreset, SchemaRequest, TopicRequest,
};
use byoc_sim::salesforce::{self, SalesforceSim, SimConfig};
use byoc_sim::tls::LocalCa;
use serde_json::Value;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

async fn access_token(sim: &SalesforceSim, ca: &LocalCa) -> String {
    let claims = serde_json::json!({
        "iss": salesforce::TEST_CONSUMER_KEY, "sub": salesforce::TEST_USERNAME,
        "aud": sim.audience(), "exp": chrono::Utc::now().timestamp() + 120,
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(salesforce::TEST_PRIVATE_KEY_PEM.as_bytes())
        .unwrap();
    let assertion = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let v: Value = http
        .post(format!("{}/services/oauth2/token", sim.url()))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

fn authed<T>(message: T, token: &str, sim: &SalesforceSim) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    let m = r.metadata_mut();
    m.insert("accesstoken", token.parse().unwrap());
    m.insert("instanceurl", sim.url().parse().unwrap());
    m.insert("tenantid", sim.config().org_id.parse().unwrap());
    r
}

#[tokio::test]
async fn a_client_publishes_and_subscribes_over_tls() {
    let ca = LocalCa::generate().unwrap();
    let sim = SalesforceSim::start(SimConfig::default().with_tls(ca.clone()))
        .await
        .unwrap();
    assert!(sim.pubsub_url().starts_with("https://"));
    let token = access_token(&sim, &ca).await;
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca.ca_pem()))
        .domain_name("localhost");
    let channel = Channel::from_shared(sim.pubsub_url().replace("127.0.0.1", "localhost"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = PubSubClient::new(channel);
    let topic = format!("/event/{}", sim.config().platform_event);
    let info = client
        .get_topic(authed(
            TopicRequest {
                topic_name: topic.clone(),
            },
            &token,
            &sim,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(info.can_publish);
    let schema = client
        .get_schema(authed(
            SchemaRequest {
                schema_id: info.schema_id.clone(),
            },
            &token,
            &sim,
        ))
        .await
        .unwrap()
        .into_inner();
    let avro = apache_avro::Schema::parse_str(&schema.schema_json).unwrap();
    let mut record = apache_avro::types::Record::new(&avro).unwrap();
    record.put("CreatedDate", 1_714_668_069_301_i64);
    record.put("CreatedById", "0055g00000Ab1CdEAF");
    let union = |s: &str| {
        apache_avro::types::Value::Union(1, Box::new(apache_avro::types::Value::String(s.into())))
    };
    record.put(&sim.config().event_type_field, union("Interaction"));
    record.put(
        &sim.config().payload_field,
        union("{\"published\":\"by a client\"}"),
    );
    let payload = apache_avro::to_avro_datum(&avro, record).unwrap();
    let good = ProducerEvent {
        id: "evt-1".into(),
        schema_id: info.schema_id.clone(),
        payload: payload.clone(),
        headers: Vec::new(),
    };
    let wrong_schema = ProducerEvent {
        id: "evt-2".into(),
        schema_id: "another".into(),
        payload: payload.clone(),
        headers: Vec::new(),
    };
    let garbage = ProducerEvent {
        id: "evt-3".into(),
        schema_id: info.schema_id.clone(),
        payload: vec![0xff; 3],
        headers: Vec::new(),
    };
    let published = client
        .publish(authed(
            PublishRequest {
                topic_name: topic.clone(),
                events: vec![good, wrong_schema, garbage],
                auth_refresh: String::new(),
            },
            &token,
            &sim,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(published.results.len(), 3);
    assert_eq!(published.results[0].correlation_key, "evt-1");
    assert!(published.results[0].error.is_none() && !published.results[0].replay_id.is_empty());
    assert!(published.results[1].error.is_some() && published.results[1].replay_id.is_empty());
    assert!(published.results[2].error.is_some());
    assert_eq!(sim.published(), 1);

    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(FetchRequest {
        topic_name: topic.clone(),
        replay_preset: ReplayPreset::Earliest as i32,
        replay_id: Vec::new(),
        num_requested: 1,
        auth_refresh: String::new(),
    })
    .await
    .unwrap();
    let mut stream = client
        .subscribe(authed(
            tokio_stream::wrappers::ReceiverStream::new(rx),
            &token,
            &sim,
        ))
        .await
        .unwrap()
        .into_inner();
    let batch = stream.message().await.unwrap().unwrap();
    assert_eq!(batch.events.len(), 1);
    let event = batch.events[0].event.as_ref().unwrap();
    assert_eq!((event.id.as_str(), &event.payload), ("evt-1", &payload));

    // Trusting another CA, the handshake fails.
    let other = LocalCa::generate().unwrap();
    let untrusted = Channel::from_shared(sim.pubsub_url().to_owned())
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(other.ca_pem())))
        .unwrap()
        .connect()
        .await;
    assert!(untrusted.is_err());
}
