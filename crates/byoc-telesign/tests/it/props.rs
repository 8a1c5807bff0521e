//! Property tests: arbitrary input never makes the normalizer or the verifier panic.

use byoc_telesign::{ApiKey, CallbackVerifier};
use proptest::prelude::*;

proptest! {
    #[test]
    fn normalize_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = byoc_telesign::normalize(&bytes);
    }

    #[test]
    fn normalize_never_panics_on_callback_like_json(
        code in prop_oneof![Just("200".to_owned()), Just("\"x\"".to_owned()), Just("null".to_owned()), any::<i64>().prop_map(|i| i.to_string())],
        sub in prop_oneof![Just("mo_sms"), Just("sms"), Just("other"), Just("")],
        text in ".*",
    ) {
        let body = serde_json::json!({"sub_resource": sub, "reference_id": "R", "user_response": {"phone_number": "1", "mo_message": text}});
        let mut s = body.to_string();
        s.insert_str(1, &format!(r#""status":{{"code":{code},"updated_on":"Fri, 03 May 2024 08:12:40 GMT"}},"#));
        let _ = byoc_telesign::normalize(s.as_bytes());
    }

    #[test]
    fn verify_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256), auth in ".*", ts in ".*") {
        let v = CallbackVerifier::new("cid", ApiKey::new("VGVzdCBLZXk=").unwrap());
        let mut h = http::HeaderMap::new();
        if let Ok(val) = http::HeaderValue::from_str(&auth) { h.insert("authorization", val); }
        if let Ok(val) = http::HeaderValue::from_str(&ts) { h.insert("x-ts-authorization", val); }
        prop_assert!(v.verify(&body, &h).is_err() || !h.is_empty());
    }
}
