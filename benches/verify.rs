//! Inbound verification, no network:
//!
//! - `verify/telesign-hmac-<fixture>`: TeleSign callback HMAC-SHA256 over a fixture with its
//!   signature (`verify/valid`, `verify/invalid` a wrong signature), next to
//!   `parse/value` of the same body for scale.
//! - `verify/botframework-jwt-rs256`: byoc-directline's channel JWT validation (RS256, the
//!   simulator's test key `sim-key-1`, a known-answer token at a fixed instant).
//!   `keyset/cold` parses the JWKS into a `KeySet` then verifies; `keyset/warm` verifies
//!   with the `KeySet` already parsed. `openid/cold` goes through byoc-http's `KeyCache`
//!   from empty (metadata and JWKS served from memory by an in-process transport closure,
//!   then parsed), `openid/warm` through a `KeyCache` whose cache is filled. The pure
//!   `ChannelVerifier` has no validated-token cache: the warm case is a key-cache hit, and
//!   the RSA signature is checked every time.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::hint::black_box;
use std::sync::Arc;

use byoc::core::Timestamp;
use byoc::directline::{ChannelVerifier, HttpTransport, KeySet};
use byoc::telesign::{ApiKey, CallbackVerifier};
use byoc_http::{KeyCache, KeySource, TransportFuture};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::HeaderMap;

fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(path: &str) -> String {
    String::from_utf8(fixture(path)).expect("UTF-8")
}

const CUSTOMER_ID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";

fn telesign(c: &mut Criterion) {
    let key = ApiKey::new(byoc::core::Secret::new(text("telesign/KEY.txt"))).expect("key");
    let verifier = CallbackVerifier::new(CUSTOMER_ID, key);
    for name in ["mo-basic", "dlr-200-rfc3339"] {
        let body = fixture(&format!("telesign/{name}.json"));
        let sig = text(&format!("telesign/{name}.sig.txt"));
        let mut good = HeaderMap::new();
        good.insert(
            http::header::AUTHORIZATION,
            format!("TSA {CUSTOMER_ID}:{sig}").parse().expect("header"),
        );
        let mut bad = HeaderMap::new();
        bad.insert(
            http::header::AUTHORIZATION,
            format!("TSA {CUSTOMER_ID}:{}", "A".repeat(43) + "=")
                .parse()
                .expect("header"),
        );
        verifier
            .verify(&body, &good)
            .expect("fixture signature verifies");
        assert!(verifier.verify(&body, &bad).is_err());
        let mut g = c.benchmark_group(format!("verify/telesign-hmac-{name}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(BenchmarkId::new("verify", "valid"), |b| {
            b.iter(|| verifier.verify(black_box(&body), black_box(&good)).is_ok())
        });
        g.bench_function(BenchmarkId::new("verify", "invalid"), |b| {
            b.iter(|| verifier.verify(black_box(&body), black_box(&bad)).is_err())
        });
        g.bench_function(BenchmarkId::new("parse", "value"), |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).expect("valid"))
        });
        g.finish();
    }
}

/// Modulus of the simulator's test key `sim-key-1` (base64url), as pinned in
/// byoc-directline's known-answer tests.
const N1: &str = "snD1c11CUEdq09mddjnxvnnlJpPrUuppzPoNhkmvCd-vPh33sqvrETQsuKZYkmDtfbZmEtGFlDInAFsq35Ry9bkU7T289zKUqNuB7Yp9skJNYk62oecTBVKUxBRr8QJoloO5njkSbhtAh8EgQ0wjrG5sTgynZ1-mU57vJrZ_a0X3RMDawJPQCt1ybba6DOyWvy12QFHg7xUy5QTLotO9zyP_LgFoG9mRgKaTX7AdqHRa69DZ_JPVKUrYDy9S13_E3ULFaBv42IAeMbu1C3XTSROdF96jX1o2nlu9sEze_cr--CuXoTNKzyILuC_t3Nc5WG5iZva5DjkBS81n-XXSGw";
/// Modulus of `sim-key-2`.
const N2: &str = "gMd-ohXhHFH6_ibQTyTw-1QFnVSyXFuJdJ6WTEmczOpseAiIRaLlQxQrpdFGFsQXndtd5mUCiKSpVoXavD2-T07V-igY7_JvmES82F6l05fBTcFKE5uk0t-p0hU8CBrdBR8zunjFofDRVOhYLOIUKfNYdt9ceIam8t57aY9rTWNQSbffGJC4Sa7jl0dHXcmRxxNLriy64krsbc4Ai0ojz0O7JSzo4g2el2I-sIacUqRjby7MZCJoYgvfCnlMzj9DJ_8iQm9VsEup5b68iInWHt3OiBIQNcApu_n_k46yWNGpH3UqeYW6TraCGyrfkXCwICVl64rba5voMjFSjLgdkw";
/// RS256 by `sim-key-1` over `{"aud":"kat-app-id","exp":1700003600,
/// "iss":"https://api.botframework.com","nbf":1700000000,
/// "serviceurl":"https://smba.example/teams/"}`.
const KAT_RS256: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNpbS1rZXktMSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJrYXQtYXBwLWlkIiwiZXhwIjoxNzAwMDAzNjAwLCJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwibmJmIjoxNzAwMDAwMDAwLCJzZXJ2aWNldXJsIjoiaHR0cHM6Ly9zbWJhLmV4YW1wbGUvdGVhbXMvIn0.WLnr25P1W8vP6TVopuzRH7I-su5SY9L090nPzO0JxcBjpRIhjeTYVMyq-VXgJxqpDAL6am8Yjiefz-0APNnJOLjb6OSB95iX5lZT02e6bvihgkDQEXB_mBOyG18oEZknjon3cUp3CehLOztG4ToBtpNns0r-HdHdh3i7iM-xUVOxNUyc1kMNDK_jbBkhibGAU8raft3MsNF4cf2adv9ZROiPTA82IIA3a2RlxCLfLktvjQJf85D9BFjzzfa9HwV3UJuGhnbaIvAk2gswZkWp9Meq7MacfjLk7AFNo5MZLlvxree-8G5lDsw1rA_8sJ8nKSXZY42ArLqYBHoXz4ZEOA";

const METADATA_URL: &str = "https://login.botframework.example/v1/.well-known/openidconfiguration";
const JWKS_URL: &str = "https://login.botframework.example/v1/.well-known/keys";

fn jwks() -> String {
    format!(
        r#"{{"keys":[{{"kty":"RSA","use":"sig","kid":"sim-key-1","n":"{N1}","e":"AQAB","endorsements":["webchat","directline","msteams"]}},{{"kty":"RSA","use":"sig","kid":"sim-key-2","n":"{N2}","e":"AQAB","endorsements":["msteams"]}}]}}"#
    )
}

/// Serves the OpenID metadata and the JWKS from memory.
fn in_memory_transport(jwks: Bytes) -> Arc<dyn HttpTransport> {
    let metadata = Bytes::from(format!(r#"{{"jwks_uri":"{JWKS_URL}"}}"#));
    Arc::new(move |req: http::Request<Bytes>| -> TransportFuture {
        let body = if req.uri() == METADATA_URL {
            metadata.clone()
        } else {
            jwks.clone()
        };
        Box::pin(async move { Ok(http::Response::new(body)) })
    })
}

fn botframework(c: &mut Criterion) {
    let jwks = jwks();
    let verifier = ChannelVerifier::new("https://api.botframework.com", "kat-app-id");
    let metadata_url: url::Url = METADATA_URL.parse().expect("URL");
    // 1_700_001_000: inside the token's lifetime.
    let now = Timestamp::parse("2023-11-14T22:30:00Z")
        .expect("valid")
        .to_utc();
    let body = br#"{"type":"message","id":"m1","channelId":"directline","serviceUrl":"https://smba.example/teams/","conversation":{"id":"c1"},"from":{"id":"u1"},"text":"hi"}"#;
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {KAT_RS256}").parse().expect("header"),
    );
    let keys = KeySet::from_jwks(jwks.as_bytes()).expect("jwks");
    verifier
        .verify(body, &headers, &keys, now)
        .expect("known answer verifies");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let transport = in_memory_transport(Bytes::from(jwks.clone()));
    let warm = KeyCache::new(
        KeySource::OpenIdMetadata(metadata_url.clone()),
        transport.clone(),
    );
    rt.block_on(warm.keys()).expect("keys");

    let mut g = c.benchmark_group("verify/botframework-jwt-rs256");
    g.bench_function(BenchmarkId::new("keyset", "cold"), |b| {
        b.iter(|| {
            let keys = KeySet::from_jwks(black_box(jwks.as_bytes())).expect("jwks");
            verifier
                .verify(black_box(body), &headers, &keys, now)
                .expect("verifies")
        })
    });
    g.bench_function(BenchmarkId::new("keyset", "warm"), |b| {
        b.iter(|| {
            verifier
                .verify(black_box(body), &headers, &keys, now)
                .expect("verifies")
        })
    });
    g.bench_function(BenchmarkId::new("openid", "cold"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let cache = KeyCache::new(
                    KeySource::OpenIdMetadata(metadata_url.clone()),
                    transport.clone(),
                );
                let keys = cache.keys().await.expect("keys");
                verifier
                    .verify(black_box(body), &headers, &keys, now)
                    .expect("verifies")
            })
        })
    });
    g.bench_function(BenchmarkId::new("openid", "warm"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let keys = warm.keys().await.expect("keys");
                verifier
                    .verify(black_box(body), &headers, &keys, now)
                    .expect("verifies")
            })
        })
    });
    g.bench_function(BenchmarkId::new("keys", "parse"), |b| {
        b.iter(|| KeySet::from_jwks(black_box(jwks.as_bytes())).expect("jwks"))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    telesign(c);
    botframework(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
