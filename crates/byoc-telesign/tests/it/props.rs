//! Property tests: a verifier accepts exactly the bodies signed with its keys; the
//! normalizer never panics, and either refuses a body with an error naming the field at
//! fault (never its content) or yields an activity whose fields come from the body.

use byoc_core::{ActivityType, AdapterError, Secret};
use byoc_telesign::{
    ApiKey, CallbackVerifier, DeliveryReport, EVENT_CALLBACK, EVENT_DELIVERY_REPORT,
    callback_signature,
};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

const CUSTOMER_ID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";

/// An API key from arbitrary bytes, base64-encoded as TeleSign issues them.
fn api_key(bytes: &[u8]) -> ApiKey {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    ApiKey::new(Secret::new(text)).expect("non-empty key bytes decode")
}

fn signed(header: &'static str, value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header, HeaderValue::from_str(value).expect("ASCII header"));
    h
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,16}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("mo_sms")),
        Just(serde_json::Value::from("sms")),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn key_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..64)
}

proptest! {
    #[test]
    fn a_verifier_accepts_exactly_the_bodies_signed_with_its_keys(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        ours in key_bytes(),
        theirs in key_bytes(),
        flip in any::<prop::sample::Index>(),
        bare in any::<bool>(),
    ) {
        prop_assume!(ours != theirs);
        let verifier = CallbackVerifier::new(CUSTOMER_ID, api_key(&ours));
        let header = |sig: &str| if bare {
            // The bare signature TeleSign's sample code reads from X-TS-Authorization.
            signed("x-ts-authorization", sig)
        } else {
            signed("authorization", &format!("TSA {CUSTOMER_ID}:{sig}"))
        };

        // Signed with our key: accepted.
        let good = callback_signature(&api_key(&ours), &body);
        prop_assert_eq!(verifier.verify(&body, &header(&good)), Ok(()));

        // Signed with another key: refused, unless that key is one we accept (rotation).
        let other = callback_signature(&api_key(&theirs), &body);
        prop_assert!(verifier.verify(&body, &header(&other)).is_err());
        let rotated = verifier.clone().with_key(api_key(&theirs));
        prop_assert_eq!(rotated.verify(&body, &header(&other)), Ok(()));
        prop_assert_eq!(rotated.verify(&body, &header(&good)), Ok(()));

        // The signed body changed by one bit: refused.
        let mut tampered = body.clone();
        if tampered.is_empty() {
            tampered.push(b' ');
        } else {
            let i = flip.index(tampered.len());
            tampered[i] ^= 1;
        }
        prop_assert!(verifier.verify(&tampered, &header(&good)).is_err());
    }

    #[test]
    fn arbitrary_headers_never_verify(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        auth in ".*",
        ts in ".*",
    ) {
        let v = CallbackVerifier::new("cid", ApiKey::new(Secret::new("VGVzdCBLZXk=")).unwrap());
        let mut h = HeaderMap::new();
        if let Ok(val) = HeaderValue::from_str(&auth) { h.insert("authorization", val); }
        if let Ok(val) = HeaderValue::from_str(&ts) { h.insert("x-ts-authorization", val); }
        prop_assert!(v.verify(&body, &h).is_err());
    }

    #[test]
    fn arbitrary_bytes_are_refused_as_bad_requests_or_kept_whole_in_channel_data(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..512),
            // JSON objects with TeleSign's keys and arbitrary values, so that both outcomes
            // are reached.
            proptest::collection::btree_map(
                prop_oneof![
                    Just("sub_resource".to_owned()),
                    Just("reference_id".to_owned()),
                    Just("user_response".to_owned()),
                    Just("status".to_owned()),
                    "[a-z_]{1,12}",
                ],
                json_value(),
                0..5,
            )
            .prop_map(|fields| serde_json::to_vec(&fields).expect("a JSON object")),
        ],
    ) {
        match byoc_telesign::normalize(&bytes) {
            Ok(activities) => {
                prop_assert_eq!(activities.len(), 1);
                let a = &activities[0];
                prop_assert_eq!(a.channel_id.as_deref(), Some("telesign"));
                let raw = a.channel_data.as_ref().expect("the raw callback is kept");
                prop_assert_eq!(raw.get().as_bytes(), &bytes[..]);
            }
            Err(e) => prop_assert_eq!(e.http_status(), 400),
        }
    }

    #[test]
    fn callbacks_become_activities_from_their_fields_or_errors_naming_the_missing_one(
        sub in prop_oneof![Just(Some("mo_sms")), Just(Some("sms")), Just(Some("voice")), Just(None)],
        reference_id in proptest::option::of("[0-9A-F]{1,32}"),
        phone in proptest::option::of("[1-9][0-9]{6,14}"),
        text in ".*",
        code in proptest::option::of(prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            (0i64..1000).prop_map(|c| serde_json::Value::from(c.to_string())),
        ]),
    ) {
        // A marker that no error message may repeat: errors never carry the content.
        let text = format!("PII-{text}");
        let mut body = serde_json::json!({
            "user_response": {"phone_number": phone, "sender_id": "15555550999", "mo_message": text},
        });
        if let Some(s) = sub { body["sub_resource"] = s.into(); }
        if let Some(r) = &reference_id { body["reference_id"] = r.as_str().into(); }
        if let Some(c) = &code {
            body["status"] = serde_json::json!({"code": c, "updated_on": "Fri, 03 May 2024 08:12:40 GMT"});
        }
        let wanted_code = code.as_ref().and_then(|c| match c {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        });
        let result = byoc_telesign::normalize(body.to_string().as_bytes());
        match (sub, &reference_id, &phone) {
            (Some("mo_sms"), Some(r), Some(p)) => {
                let a = &result.expect("a complete inbound SMS normalizes")[0];
                prop_assert_eq!(&a.kind, &ActivityType::Message);
                prop_assert_eq!(a.id.as_deref(), Some(r.as_str()));
                prop_assert_eq!(a.text.as_deref(), Some(text.as_str()));
                prop_assert_eq!(a.from_id(), Some(p.as_str()));
                prop_assert_eq!(a.recipient_id(), Some("15555550999"));
                let conversation = format!("{p}:15555550999");
                prop_assert_eq!(a.conversation_id(), Some(conversation.as_str()));
            }
            (Some("mo_sms"), None, _) => refused(result, "reference_id", &text)?,
            (Some("mo_sms"), Some(_), None) => {
                refused(result, "user_response.phone_number", &text)?;
            }
            (Some("sms"), Some(r), _) => {
                let a = &result.expect("a delivery report with a reference id normalizes")[0];
                prop_assert_eq!(a.name.as_deref(), Some(EVENT_DELIVERY_REPORT));
                prop_assert_eq!(a.reply_to_id.as_deref(), Some(r.as_str()));
                let report: DeliveryReport = a.value_as().expect("a typed report");
                prop_assert_eq!(&report.reference_id, r);
                prop_assert_eq!(report.status_code, wanted_code);
            }
            (Some("sms"), None, _) => refused(result, "reference_id", &text)?,
            _ => {
                // Any other kind, and reports without `sub_resource` that carry a
                // `user_response` (only the older report shape, without one, is a report).
                let a = &result.expect("any other callback normalizes")[0];
                prop_assert_eq!(a.name.as_deref(), Some(EVENT_CALLBACK));
                prop_assert_eq!(
                    a.id.as_deref().and_then(|id| id.split(':').next()),
                    reference_id.as_deref()
                );
            }
        }
    }
}

/// `result` is a bad request naming `field`, whose message does not repeat `content`.
fn refused(
    result: Result<Vec<byoc_core::Activity>, AdapterError>,
    field: &str,
    content: &str,
) -> Result<(), TestCaseError> {
    let e = result.expect_err("an incomplete callback is refused");
    prop_assert_eq!(e.field(), Some(field));
    prop_assert_eq!(e.http_status(), 400);
    prop_assert!(!e.to_string().contains(content));
    Ok(())
}
