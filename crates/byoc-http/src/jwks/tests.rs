use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header, Validation};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;

use super::*;
use crate::TransportFuture;

const KEY_PEM: &str = include_str!("test-key.pem");

fn jwk_json(kid: &str, endorsements: &[&str]) -> serde_json::Value {
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(KEY_PEM)
        .or_else(|_| {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            rsa::RsaPrivateKey::from_pkcs1_pem(KEY_PEM)
        })
        .unwrap();
    let public = private.to_public_key();
    serde_json::json!({
        "kty": "RSA", "use": "sig", "kid": kid, "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        "x5c": ["ignored"],
        "endorsements": endorsements,
    })
}

fn token(kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let claims = serde_json::json!({"iss": "issuer", "aud": "me", "exp": 4_000_000_000u64});
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(KEY_PEM.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[test]
fn a_jwks_document_yields_keys_that_verify_tokens() {
    let doc = serde_json::json!({"keys": [
        jwk_json("k1", &["msteams", "webchat"]),
        {"kty": "oct", "kid": "sym", "k": "AAAA"},
        {"kty": "RSA", "kid": "broken", "n": "***", "e": "AQAB"},
    ]});
    let set = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    assert_eq!(set.len(), 1);
    let key = set.find(Some("k1")).unwrap();
    assert!(key.is_endorsed_for("msteams"));
    assert!(!key.is_endorsed_for("telegram"));
    assert_eq!(key.algorithm(), Some(Algorithm::RS256));
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&["me"]);
    v.set_issuer(&["issuer"]);
    let data =
        jsonwebtoken::decode::<serde_json::Value>(&token("k1"), key.decoding_key(), &v).unwrap();
    assert_eq!(data.claims["aud"], "me");
    assert!(set.find(Some("other")).is_none());
    assert!(
        set.find(None).is_some(),
        "one key: a token without kid may use it"
    );
    assert!(matches!(
        KeySet::from_jwks(b"[]"),
        Err(KeysError::Malformed { .. })
    ));
}

struct Issuer {
    metadata_hits: AtomicUsize,
    jwks_hits: AtomicUsize,
    kids: std::sync::Mutex<Vec<&'static str>>,
    down: std::sync::atomic::AtomicBool,
}

fn issuer_transport(issuer: Arc<Issuer>) -> Arc<dyn HttpTransport> {
    Arc::new(move |r: http::Request<Bytes>| -> TransportFuture {
        let issuer = issuer.clone();
        Box::pin(async move {
            if issuer.down.load(Ordering::SeqCst) {
                return Ok(http::Response::builder()
                    .status(503)
                    .body(Bytes::new())
                    .unwrap());
            }
            let body = match r.uri().path() {
                "/.well-known/openid-configuration" => {
                    issuer.metadata_hits.fetch_add(1, Ordering::SeqCst);
                    serde_json::json!({"issuer": "i", "jwks_uri": "https://issuer.example/keys"})
                }
                "/keys" => {
                    issuer.jwks_hits.fetch_add(1, Ordering::SeqCst);
                    let kids = issuer.kids.lock().unwrap().clone();
                    serde_json::json!({"keys": kids.iter().map(|k| jwk_json(k, &[])).collect::<Vec<_>>()})
                }
                _ => {
                    return Ok(http::Response::builder()
                        .status(404)
                        .body(Bytes::new())
                        .unwrap());
                }
            };
            Ok(http::Response::new(Bytes::from(body.to_string())))
        })
    })
}

fn issuer(kids: &[&'static str]) -> Arc<Issuer> {
    Arc::new(Issuer {
        metadata_hits: AtomicUsize::new(0),
        jwks_hits: AtomicUsize::new(0),
        kids: std::sync::Mutex::new(kids.to_vec()),
        down: std::sync::atomic::AtomicBool::new(false),
    })
}

fn metadata_url() -> KeySource {
    KeySource::OpenIdMetadata(
        Url::parse("https://issuer.example/.well-known/openid-configuration").unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn keys_are_cached_for_their_max_age_and_kept_when_a_refresh_fails() {
    let iss = issuer(&["k1"]);
    let cache = KeyCache::new(metadata_url(), issuer_transport(iss.clone()));
    assert!(cache.keys().await.unwrap().contains("k1"));
    assert!(cache.keys().await.unwrap().contains("k1"));
    assert_eq!(iss.jwks_hits.load(Ordering::SeqCst), 1);
    tokio::time::advance(DEFAULT_KEYS_MAX_AGE + Duration::from_secs(1)).await;
    iss.down.store(true, Ordering::SeqCst);
    assert!(cache.keys().await.unwrap().contains("k1"), "old keys kept");
    iss.down.store(false, Ordering::SeqCst);
    *iss.kids.lock().unwrap() = vec!["k2"];
    assert!(cache.keys().await.unwrap().contains("k2"));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_kid_refetches_at_most_once_per_interval() {
    let iss = issuer(&["k1"]);
    let cache = KeyCache::new(metadata_url(), issuer_transport(iss.clone()));
    assert!(cache.keys_with(Some("k1")).await.unwrap().contains("k1"));
    *iss.kids.lock().unwrap() = vec!["k1", "rotated"];
    let keys = cache.keys_with(Some("rotated")).await.unwrap();
    assert!(keys.contains("rotated"));
    assert_eq!(iss.jwks_hits.load(Ordering::SeqCst), 2);
    for _ in 0..5 {
        let keys = cache.keys_with(Some("made-up")).await.unwrap();
        assert!(keys.find(Some("made-up")).is_none());
    }
    assert_eq!(iss.jwks_hits.load(Ordering::SeqCst), 2, "rate limited");
    tokio::time::advance(DEFAULT_UNKNOWN_KID_INTERVAL).await;
    cache.keys_with(Some("made-up")).await.unwrap();
    assert_eq!(iss.jwks_hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn no_keys_at_all_is_an_error_naming_the_cause() {
    let iss = issuer(&[]);
    iss.down.store(true, Ordering::SeqCst);
    let cache = KeyCache::new(metadata_url(), issuer_transport(iss));
    assert!(matches!(
        cache.keys().await,
        Err(KeysError::Status { status: 503 })
    ));
    let no_jwks_uri = Arc::new(|_: http::Request<Bytes>| -> TransportFuture {
        Box::pin(async {
            Ok(http::Response::new(Bytes::from_static(
                b"{\"issuer\":\"i\"}",
            )))
        })
    });
    let cache = KeyCache::new(metadata_url(), no_jwks_uri);
    assert!(matches!(
        cache.keys().await,
        Err(KeysError::Malformed { what }) if what.contains("jwks_uri")
    ));
    let fixed = KeyCache::new(
        KeySource::Static(Arc::new(KeySet::new())),
        issuer_transport(issuer(&[])),
    );
    assert!(fixed.keys().await.unwrap().is_empty());
}
