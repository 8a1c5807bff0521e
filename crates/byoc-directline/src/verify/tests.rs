//! Known-answer vectors (tokens signed by the simulator's fixed test key `sim-key-1`, pinned
//! on both sides) and one failing test per [`VerifyError`] variant the pure checks raise
//! (`KeysUnavailable` comes from fetching keys: the adapter's tests cover it).

use super::*;

/// Modulus of the simulator's test key `sim-key-1` (base64url).
const N1: &str = "snD1c11CUEdq09mddjnxvnnlJpPrUuppzPoNhkmvCd-vPh33sqvrETQsuKZYkmDtfbZmEtGFlDInAFsq35Ry9bkU7T289zKUqNuB7Yp9skJNYk62oecTBVKUxBRr8QJoloO5njkSbhtAh8EgQ0wjrG5sTgynZ1-mU57vJrZ_a0X3RMDawJPQCt1ybba6DOyWvy12QFHg7xUy5QTLotO9zyP_LgFoG9mRgKaTX7AdqHRa69DZ_JPVKUrYDy9S13_E3ULFaBv42IAeMbu1C3XTSROdF96jX1o2nlu9sEze_cr--CuXoTNKzyILuC_t3Nc5WG5iZva5DjkBS81n-XXSGw";
/// Modulus of `sim-key-2`.
const N2: &str = "gMd-ohXhHFH6_ibQTyTw-1QFnVSyXFuJdJ6WTEmczOpseAiIRaLlQxQrpdFGFsQXndtd5mUCiKSpVoXavD2-T07V-igY7_JvmES82F6l05fBTcFKE5uk0t-p0hU8CBrdBR8zunjFofDRVOhYLOIUKfNYdt9ceIam8t57aY9rTWNQSbffGJC4Sa7jl0dHXcmRxxNLriy64krsbc4Ai0ojz0O7JSzo4g2el2I-sIacUqRjby7MZCJoYgvfCnlMzj9DJ_8iQm9VsEup5b68iInWHt3OiBIQNcApu_n_k46yWNGpH3UqeYW6TraCGyrfkXCwICVl64rba5voMjFSjLgdkw";

/// RS256 over `{"aud":"kat-app-id","exp":1700003600,"iss":"https://api.botframework.com","nbf":1700000000,"serviceurl":"https://smba.example/teams/"}`.
const KAT_RS256: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNpbS1rZXktMSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJrYXQtYXBwLWlkIiwiZXhwIjoxNzAwMDAzNjAwLCJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwibmJmIjoxNzAwMDAwMDAwLCJzZXJ2aWNldXJsIjoiaHR0cHM6Ly9zbWJhLmV4YW1wbGUvdGVhbXMvIn0.WLnr25P1W8vP6TVopuzRH7I-su5SY9L090nPzO0JxcBjpRIhjeTYVMyq-VXgJxqpDAL6am8Yjiefz-0APNnJOLjb6OSB95iX5lZT02e6bvihgkDQEXB_mBOyG18oEZknjon3cUp3CehLOztG4ToBtpNns0r-HdHdh3i7iM-xUVOxNUyc1kMNDK_jbBkhibGAU8raft3MsNF4cf2adv9ZROiPTA82IIA3a2RlxCLfLktvjQJf85D9BFjzzfa9HwV3UJuGhnbaIvAk2gswZkWp9Meq7MacfjLk7AFNo5MZLlvxree-8G5lDsw1rA_8sJ8nKSXZY42ArLqYBHoXz4ZEOA";
/// The same claims, RS384.
const KAT_RS384: &str = "eyJhbGciOiJSUzM4NCIsImtpZCI6InNpbS1rZXktMSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJrYXQtYXBwLWlkIiwiZXhwIjoxNzAwMDAzNjAwLCJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwibmJmIjoxNzAwMDAwMDAwLCJzZXJ2aWNldXJsIjoiaHR0cHM6Ly9zbWJhLmV4YW1wbGUvdGVhbXMvIn0.UKO4P7LLmdGPmQc8JTK354vgtaHFxl7wEHiKZPaeRFhM9QgYhH72r9qGhKfAl31BZnMBRDU6DQGcFU_C1geAc02qFiQzrfLVpjaZxbiCuQQHBAU9hsLjOwVO5oBd6RUCjvqEThp74Y3X1MQwF3Ok-ZdxMvusttJ1dCoOolLPjdgam_WbXQwtOpqIKRmfxVGWAl3HKNGxjEzs_7g4sdZZpDtJkWD8Cx2EJAGk6AI72gUCZ2OoMOyx88Va6Ng1eofwg-Y5Exfis2RccbDpWMN6VidTtStG8dAgzSFA--u_7RNKxQi6rARzDzlezFw8x5Xtr9K703JqKv56xY3B9HYEEg";
/// The same claims, RS512.
const KAT_RS512: &str = "eyJhbGciOiJSUzUxMiIsImtpZCI6InNpbS1rZXktMSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJrYXQtYXBwLWlkIiwiZXhwIjoxNzAwMDAzNjAwLCJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwibmJmIjoxNzAwMDAwMDAwLCJzZXJ2aWNldXJsIjoiaHR0cHM6Ly9zbWJhLmV4YW1wbGUvdGVhbXMvIn0.PxkYk5q4vLn9NcF6yDFkWNaipsbfrE9kdACf6SSZBhMOY0GZBnQgWdeByzc28LxFvXrasSREfDBCcU54pESlfAlq5QH1-GNS33CkIajTVAv2cn6autrL98aOcrE1mzu_bFbstdQ98qfrEqakRHhW-UgKXmzox1apXTRNTwJUn475ZbNxMaeS50lcpVn9TgaV6i6e6K_yqmv8wWU1y8U8wXtXwLHVrVmoatB9upejqPL8wYivULqsuqbZLlXVXeUoW3HKCQleru85Da8i-uKP72Tz2CAUI63qjBUnM8TVv2on__qx7sGbugMVnjDavTQcM0ArdhGCWlpUkCHJqlPrmg";

fn jwks(endorsements: &str) -> KeySet {
    let doc = format!(
        r#"{{"keys":[
            {{"kty":"RSA","use":"sig","kid":"sim-key-1","n":"{N1}","e":"AQAB","endorsements":{endorsements}}},
            {{"kty":"RSA","use":"sig","kid":"sim-key-2","n":"{N2}","e":"AQAB","endorsements":["msteams"]}},
            {{"kty":"EC","kid":"ec-key","crv":"P-256","x":"AA","y":"AA"}}
        ]}}"#
    );
    KeySet::from_jwks(doc.as_bytes()).unwrap()
}

fn verifier() -> ChannelVerifier {
    ChannelVerifier::new("https://api.botframework.com", "kat-app-id")
}

fn keys() -> KeySet {
    jwks(r#"["webchat","directline","msteams"]"#)
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

const NOW: i64 = 1_700_001_000;
const SERVICE_URL: &str = "https://smba.example/teams/";

fn headers(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(http::header::AUTHORIZATION, value.parse().unwrap());
    h
}

fn body(channel: &str, service_url: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"message","channelId":"{channel}","serviceUrl":"{service_url}","text":"hi"}}"#
    )
    .into_bytes()
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn known_answer_vectors_verify() {
    let keys = keys();
    assert_eq!(keys.len(), 3, "two RSA keys and an EC key");
    for token in [KAT_RS256, KAT_RS384, KAT_RS512] {
        let v = verifier().verify_token(token, &keys, at(NOW)).unwrap();
        assert_eq!(v.issuer, "https://api.botframework.com");
        assert_eq!(v.expires_at, 1_700_003_600);
        assert_eq!(v.service_url.as_deref(), Some(SERVICE_URL));
        assert_eq!(v.kid, "sim-key-1");
        v.check_activity(Some("webchat"), Some(SERVICE_URL))
            .unwrap();
    }
    let h = headers(&format!("Bearer {KAT_RS256}"));
    verifier()
        .verify(&body("directline", SERVICE_URL), &h, &keys, at(NOW))
        .unwrap();
}

#[test]
fn skew_is_five_minutes_both_ways() {
    let keys = keys();
    verifier()
        .verify_token(KAT_RS256, &keys, at(1_700_003_600 + 300))
        .unwrap();
    verifier()
        .verify_token(KAT_RS256, &keys, at(1_700_000_000 - 300))
        .unwrap();
}

#[test]
fn a_request_without_authorization_is_refused() {
    let err = verifier().verify(
        &body("webchat", SERVICE_URL),
        &HeaderMap::new(),
        &keys(),
        at(NOW),
    );
    assert_eq!(err.unwrap_err(), VerifyError::MissingAuthorization);
}

#[test]
fn only_the_exact_bearer_scheme_is_accepted() {
    for v in [
        format!("bearer {KAT_RS256}"),
        format!("Basic {KAT_RS256}"),
        "Bearer ".into(),
    ] {
        let err = verifier().verify(
            &body("webchat", SERVICE_URL),
            &headers(&v),
            &keys(),
            at(NOW),
        );
        assert_eq!(err.unwrap_err(), VerifyError::NotBearer, "{v}");
    }
}

#[test]
fn tokens_that_are_not_three_base64_parts_are_malformed() {
    for t in ["abc", "a.b", "a.b.c.d", "!!!.e30.AA"] {
        let err = verifier().verify_token(t, &keys(), at(NOW)).unwrap_err();
        assert!(
            matches!(err, VerifyError::MalformedToken(_)),
            "{t}: {err:?}"
        );
    }
    let long = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(
        verifier()
            .verify_token(&long, &keys(), at(NOW))
            .unwrap_err(),
        VerifyError::MalformedToken("length")
    );
    let signed = KAT_RS256.rsplit_once('.').unwrap().0;
    assert_eq!(
        verifier()
            .verify_token(&format!("{signed}.!!!"), &keys(), at(NOW))
            .unwrap_err(),
        VerifyError::MalformedToken("signature")
    );
}

#[test]
fn alg_none_is_refused() {
    let payload = KAT_RS256.split('.').nth(1).unwrap();
    let token = format!("{}.{payload}.", b64(r#"{"alg":"none","kid":"sim-key-1"}"#));
    let err = verifier()
        .verify_token(&token, &keys(), at(NOW))
        .unwrap_err();
    assert_eq!(err, VerifyError::DisallowedAlgorithm("none".into()));
}

#[test]
fn hs256_key_confusion_is_refused() {
    // An attacker signs with HMAC using the public modulus as the secret.
    use hmac::Mac as _;
    let payload = KAT_RS256.split('.').nth(1).unwrap();
    let head = b64(r#"{"alg":"HS256","kid":"sim-key-1","typ":"JWT"}"#);
    let signed = format!("{head}.{payload}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(N1.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    let token = format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    let err = verifier()
        .verify_token(&token, &keys(), at(NOW))
        .unwrap_err();
    assert_eq!(err, VerifyError::DisallowedAlgorithm("HS256".into()));
}

#[test]
fn a_token_signed_by_an_unpublished_key_is_refused() {
    let mut parts = KAT_RS256.splitn(2, '.');
    let _ = parts.next();
    let rest = parts.next().unwrap();
    let token = format!(
        "{}.{rest}",
        b64(r#"{"alg":"RS256","kid":"rotated-away","typ":"JWT"}"#)
    );
    assert_eq!(
        verifier()
            .verify_token(&token, &keys(), at(NOW))
            .unwrap_err(),
        VerifyError::UnknownKey
    );
    assert_eq!(token_kid(&token).as_deref(), Some("rotated-away"));
    assert_eq!(
        verifier()
            .verify_token(KAT_RS256, &KeySet::default(), at(NOW))
            .unwrap_err(),
        VerifyError::UnknownKey
    );
}

#[test]
fn claims_changed_after_signing_fail_the_signature() {
    // Claims changed after signing (audience swapped).
    let parts: Vec<&str> = KAT_RS256.split('.').collect();
    let forged = b64(
        r#"{"aud":"my-app","exp":1700003600,"iss":"https://api.botframework.com","nbf":1700000000,"serviceurl":"https://smba.example/teams/"}"#,
    );
    let token = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(
        verifier()
            .verify_token(&token, &keys(), at(NOW))
            .unwrap_err(),
        VerifyError::BadSignature
    );
    // Right kid, but another key's modulus under that kid.
    let swapped = KeySet::from_jwks(
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"sim-key-1","n":"{N2}","e":"AQAB"}}]}}"#)
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        verifier()
            .verify_token(KAT_RS256, &swapped, at(NOW))
            .unwrap_err(),
        VerifyError::BadSignature
    );
}

#[test]
fn tokens_from_another_issuer_are_refused() {
    let p = ChannelVerifier::new("https://sts.windows.net/other/", "kat-app-id");
    assert_eq!(
        p.verify_token(KAT_RS256, &keys(), at(NOW)).unwrap_err(),
        VerifyError::WrongIssuer
    );
}

#[test]
fn tokens_for_another_bot_are_refused() {
    let p = ChannelVerifier::new("https://api.botframework.com", "another-bot");
    assert_eq!(
        p.verify_token(KAT_RS256, &keys(), at(NOW)).unwrap_err(),
        VerifyError::WrongAudience
    );
}

#[test]
fn tokens_past_their_expiry_and_the_skew_are_refused() {
    assert_eq!(
        verifier()
            .verify_token(KAT_RS256, &keys(), at(1_700_003_600 + 301))
            .unwrap_err(),
        VerifyError::Expired
    );
}

#[test]
fn tokens_before_their_start_and_the_skew_are_refused() {
    assert_eq!(
        verifier()
            .verify_token(KAT_RS256, &keys(), at(1_700_000_000 - 301))
            .unwrap_err(),
        VerifyError::NotYetValid
    );
}

#[test]
fn a_key_not_endorsed_for_the_channel_is_refused() {
    let keys = jwks(r#"["msteams"]"#);
    let h = headers(&format!("Bearer {KAT_RS256}"));
    let err = verifier()
        .verify(&body("telegram", SERVICE_URL), &h, &keys, at(NOW))
        .unwrap_err();
    assert_eq!(err, VerifyError::MissingEndorsement);
    let v = verifier().verify_token(KAT_RS256, &keys, at(NOW)).unwrap();
    assert_eq!(
        v.check_activity(None, Some(SERVICE_URL)).unwrap_err(),
        VerifyError::MissingEndorsement
    );
}

#[test]
fn a_service_url_other_than_the_claim_is_refused() {
    let h = headers(&format!("Bearer {KAT_RS256}"));
    let err = verifier()
        .verify(
            &body("webchat", "https://evil.example/"),
            &h,
            &keys(),
            at(NOW),
        )
        .unwrap_err();
    assert_eq!(err, VerifyError::ServiceUrlMismatch);
}

#[test]
fn a_body_that_is_not_json_is_malformed() {
    let h = headers(&format!("Bearer {KAT_RS256}"));
    let err = verifier()
        .verify(b"not json", &h, &keys(), at(NOW))
        .unwrap_err();
    assert!(matches!(err, VerifyError::MalformedBody(_)));
}

#[test]
fn a_key_of_another_family_never_verifies_a_channel_token() {
    // The JWKS also holds an EC key: a token naming it with an RSA algorithm is refused.
    let mut parts = KAT_RS256.splitn(2, '.');
    let _ = parts.next();
    let rest = parts.next().unwrap();
    let token = format!(
        "{}.{rest}",
        b64(r#"{"alg":"RS256","kid":"ec-key","typ":"JWT"}"#)
    );
    assert_eq!(
        verifier()
            .verify_token(&token, &keys(), at(NOW))
            .unwrap_err(),
        VerifyError::BadSignature
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_input_never_panics(token in ".{0,300}", body_bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let keys = keys();
        let _ = verifier().verify_token(&token, &keys, at(NOW));
        let _ = token_kid(&token);
        if let Ok(v) = format!("Bearer {token}").parse() {
            let mut h = HeaderMap::new();
            h.insert(http::header::AUTHORIZATION, v);
            let _ = verifier().verify(&body_bytes, &h, &keys, at(NOW));
        }
    }
}
