use super::*;

const K1: &str =
    "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";
const CID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";

fn api_key(text: &str) -> ApiKey {
    ApiKey::new(byoc_core::Secret::new(text)).unwrap()
}

fn key() -> ApiKey {
    api_key(K1)
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, http::HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn callback_signatures_match_the_sdks_known_answers() {
    assert_eq!(
        callback_signature(&key(), b"{'test': 123}"),
        "B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744="
    );
    let v = CallbackVerifier::new(CID, key());
    let ok = format!("TSA {CID}:B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744=");
    v.verify(b"{'test': 123}", &headers(&[("authorization", &ok)]))
        .unwrap();
    let bad = format!("TSA {CID}:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=");
    assert_eq!(
        v.verify(b"{'test': 123}", &headers(&[("authorization", &bad)])),
        Err(VerifyError::InvalidSignature)
    );
    let rb = api_key("dG9wX3NlY3JldF9rZXk=");
    assert_eq!(
        callback_signature(&rb, br#"{"status":"delivered","reference_id":"ABC123"}"#),
        "qSKhUcmCuKIV+nxsj3/qxXNhMYZWvRX0b9FirfvzUkc="
    );
    assert_eq!(
        callback_signature(
            &key(),
            br#"{"status":{"code":200,"description":"Delivered to handset","updated_on":"2016-10-21T14:05:36.181346Z"},"reference_id":"0123456789ABCDEF0123456789ABCDEF"}"#
        ),
        "Syhwg6dlvVfmaPiwNKzvxQOsnn/7P+avZ5ecAPFaoiE="
    );
}

#[test]
fn every_signed_fixture_verifies_and_fails_once_tampered() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/telesign/"
    );
    let key = api_key(&std::fs::read_to_string(format!("{dir}KEY.txt")).unwrap());
    let v = CallbackVerifier::new(CID, key);
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(stem) = name.strip_suffix(".sig.txt") else {
            continue;
        };
        let body = std::fs::read(format!("{dir}{stem}.json")).unwrap();
        let sig = std::fs::read_to_string(&path).unwrap();
        let value = format!("TSA {CID}:{sig}");
        v.verify(
            &body,
            &headers(&[("authorization", &value), ("x-ts-authorization", &value)]),
        )
        .unwrap_or_else(|e| panic!("{stem}: {e}"));
        // The bare signature in X-TS-Authorization also passes.
        v.verify(&body, &headers(&[("x-ts-authorization", &sig)]))
            .unwrap();
        let mut tampered = body.clone();
        tampered.push(b' ');
        assert_eq!(
            v.verify(&tampered, &headers(&[("authorization", &value)])),
            Err(VerifyError::InvalidSignature)
        );
        n += 1;
    }
    assert_eq!(n, 8);
}

#[test]
fn each_failure_has_its_own_error_and_rotated_keys_verify() {
    let body = b"{'test': 123}";
    let sig = "B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744=";
    let v = CallbackVerifier::new(CID, key());
    assert_eq!(
        v.verify(body, &HeaderMap::new()),
        Err(VerifyError::MissingSignature)
    );
    assert_eq!(
        v.verify(body, &headers(&[("authorization", "Bearer abc")])),
        Err(VerifyError::MalformedHeader {
            header: AUTHORIZATION
        })
    );
    assert_eq!(
        v.verify(body, &headers(&[("authorization", "TSA no-colon")])),
        Err(VerifyError::MalformedHeader {
            header: AUTHORIZATION
        })
    );
    assert_eq!(
        v.verify(
            body,
            &headers(&[("authorization", &format!("TSA {CID}:not base64!"))])
        ),
        Err(VerifyError::MalformedHeader {
            header: AUTHORIZATION
        })
    );
    assert_eq!(
        v.verify(
            body,
            &headers(&[("authorization", &format!("TSA other-customer:{sig}"))])
        ),
        Err(VerifyError::CustomerIdMismatch {
            header: AUTHORIZATION
        })
    );
    assert_eq!(
        v.verify(
            body,
            &headers(&[("x-ts-authorization", &format!("TSA {CID}:{}", &sig[1..]))])
        ),
        Err(VerifyError::InvalidSignature)
    );
    assert_eq!(
        v.verify(body, &headers(&[("x-ts-authorization", "TSA no-colon")])),
        Err(VerifyError::MalformedHeader {
            header: X_TS_AUTHORIZATION
        })
    );
    assert_eq!(
        v.verify(body, &headers(&[("authorization", &format!("TSA {CID}:"))])),
        Err(VerifyError::MalformedHeader {
            header: AUTHORIZATION
        })
    );
    let wrong_key = CallbackVerifier::new(CID, api_key("VGVzdCBLZXk="));
    assert_eq!(
        wrong_key.verify(
            body,
            &headers(&[("authorization", &format!("TSA {CID}:{sig}"))])
        ),
        Err(VerifyError::InvalidSignature)
    );
    let small = v.clone().with_body_limit(4);
    assert_eq!(
        small.verify(body, &HeaderMap::new()),
        Err(VerifyError::BodyTooLarge { limit: 4 })
    );
    // Rotation: the old key still verifies.
    let rotated = wrong_key.with_key(key());
    rotated
        .verify(
            body,
            &headers(&[("authorization", &format!("tsa {CID}:{sig}"))]),
        )
        .unwrap();
}
