use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;

const TEST_KEY: &str = include_str!("../../../tests/keys/test-key.pem");
const TEST_PUBLIC_KEY: &str = include_str!("../../../tests/keys/test-key.pub.pem");
/// `openssl dgst -sha256 -sign tests/keys/test-key.pem` over the header and claims of
/// [`flow`] at 1714668000, base64url-encoded (see `tests/keys/README.md`).
const KAT: &str = include_str!("../../../tests/keys/kat-jwt.txt");

fn flow() -> JwtBearer {
    let credentials = Credentials::new(
        "3MVG9byoc.test.consumer.key",
        "integration@byoc.example",
        Secret::new(TEST_KEY),
    )
    .unwrap();
    JwtBearer::new(&credentials, Duration::from_secs(1800))
}

#[test]
fn assertion_matches_the_openssl_known_answer() {
    // RS256 (PKCS#1 v1.5) is deterministic: the same input, the same signature.
    let jwt = flow().assertion(1_714_668_000).unwrap();
    assert_eq!(jwt.secret(), KAT.trim());
}

#[test]
fn assertion_verifies_with_the_public_key_and_uses_seconds() {
    let jwt = flow().assertion(1_000).unwrap();
    let claims = jwt.secret().split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["exp"], 1_180);
    assert_eq!(claims["aud"], "https://login.salesforce.com");
    assert_eq!(claims["iss"], "3MVG9byoc.test.consumer.key");
    assert_eq!(claims["sub"], "integration@byoc.example");
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.set_audience(&["https://login.salesforce.com"]);
    jsonwebtoken::decode::<serde_json::Value>(jwt.secret(), &key, &validation).unwrap();
}

#[test]
fn the_token_request_is_a_form_post() {
    let req = flow().prepare_request(1_714_668_000).unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(
        req.uri(),
        "https://login.salesforce.com/services/oauth2/token"
    );
    assert_eq!(
        req.headers()[http::header::CONTENT_TYPE],
        "application/x-www-form-urlencoded"
    );
    let body = std::str::from_utf8(req.body()).unwrap();
    assert!(body.starts_with(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=eyJ"
    ));
    assert!(!format!("{:?}", flow()).contains("BEGIN"));
}

fn resp(status: u16, body: &str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::from(body.to_owned()))
        .unwrap()
}

#[test]
fn token_answers_in_each_form() {
    let f = flow();
    let (t, instance) = f
        .parse_response(&resp(
            200,
            r#"{"access_token":"00D!abc","instance_url":"https://x.my.salesforce.com","token_type":"Bearer","issued_at":"1714668000000"}"#,
        ))
        .unwrap();
    assert_eq!(t.value().secret(), "00D!abc");
    assert_eq!(t.expires_in(), Duration::from_secs(1800));
    assert_eq!(instance.as_deref(), Some("https://x.my.salesforce.com"));
    assert!(!format!("{t:?}").contains("abc"));
    let e = f
        .parse_response(&resp(
            400,
            r#"{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}"#,
        ))
        .unwrap_err();
    assert!(
        matches!(&e, TokenError::Refused { status: 400, code: Some(c), .. } if c == "invalid_grant")
    );
    assert!(!e.to_string().contains("approved"));
    assert!(matches!(
        f.parse_response(&resp(503, "")),
        Err(TokenError::Refused { status: 503, .. })
    ));
    assert!(matches!(
        f.parse_response(&resp(200, "<html>")),
        Err(TokenError::Decode { field: "$" })
    ));
    assert!(matches!(
        f.parse_response(&resp(200, r#"{"access_token":""}"#)),
        Err(TokenError::Decode {
            field: "access_token"
        })
    ));
    assert!(matches!(
        f.parse_response(&resp(200, r#"{"access_token":"x","token_type":"mac"}"#)),
        Err(TokenError::Decode {
            field: "token_type"
        })
    ));
}
