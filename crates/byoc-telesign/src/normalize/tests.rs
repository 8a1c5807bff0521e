use super::*;
use byoc_core::ActivityType;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/telesign/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn report(a: &Activity) -> DeliveryReport {
    a.value_as::<DeliveryReport>().unwrap()
}

#[test]
fn inbound_sms_becomes_a_message_from_the_customer() {
    let body = fixture("mo-basic.json");
    let a = normalize_callback(&body).unwrap();
    assert_eq!(a.kind, ActivityType::Message);
    assert_eq!(a.id.as_deref(), Some("3F8A1C07D2B94E6A0B5C9D12E47F6A01"));
    assert_eq!(a.text.as_deref(), Some("STATUS 48213"));
    assert_eq!(a.from_id(), Some("15555550123"));
    assert_eq!(a.recipient_id(), Some("15555550999"));
    assert_eq!(a.conversation_id(), Some("15555550123:15555550999"));
    assert_eq!(a.channel_id.as_deref(), Some("telesign"));
    assert_eq!(
        a.timestamp.as_ref().unwrap().as_str(),
        "2024-05-02T16:41:09.301000Z"
    );
    assert_eq!(a.channel_data.as_ref().unwrap().get().as_bytes(), &body[..]);
}

#[test]
fn inbound_unicode_text_is_kept_and_the_conversation_id_is_stable() {
    let a = normalize_callback(&fixture("mo-unicode-iso-country.json")).unwrap();
    assert_eq!(a.text.as_deref(), Some("Merci 🙏 — c'est réglé, à demain"));
    assert_eq!(
        a.conversation_id(),
        Some(conversation_id("447700900461", "447700900100").as_str())
    );
}

#[test]
fn delivery_reports_become_events_with_typed_reports() {
    let table = [
        (
            "dlr-200-rfc3339.json",
            Some(200),
            true,
            Some(true),
            Some(2),
            "2024-05-02T16:45:51.114502+00:00",
        ),
        (
            "dlr-200-rfc1123-string-types.json",
            Some(200),
            true,
            Some(true),
            Some(3),
            "2024-05-03T08:12:40+00:00",
        ),
        (
            "dlr-203-delivered-to-gateway.json",
            Some(203),
            false,
            None,
            None,
            "2024-05-03T08:00:01.337+00:00",
        ),
        (
            "dlr-210-temporary-phone-error.json",
            Some(210),
            true,
            Some(false),
            None,
            "2024-05-02T19:29:02.775031+00:00",
        ),
        (
            "dlr-238-blocked-by-prefix.json",
            Some(238),
            true,
            Some(false),
            None,
            "2024-05-02T18:00:12.502113+00:00",
        ),
        (
            "dlr-503-carrier-rejected.json",
            Some(503),
            true,
            Some(false),
            None,
            "2024-05-03T02:14:08.009912+00:00",
        ),
    ];
    for (name, code, fin, success, parts, updated) in table {
        let a = normalize_callback(&fixture(name)).unwrap();
        assert_eq!(a.kind, ActivityType::Event, "{name}");
        assert_eq!(a.name.as_deref(), Some(EVENT_DELIVERY_REPORT));
        let r = report(&a);
        assert_eq!(r.status_code, code, "{name}");
        assert_eq!(r.is_final, fin, "{name}");
        assert_eq!(r.success, success, "{name}");
        assert_eq!(r.message_parts_count, parts, "{name}");
        assert_eq!(r.updated_on.as_deref(), Some(updated), "{name}");
        assert_eq!(
            a.id.as_deref(),
            Some(format!("{}:{}", r.reference_id, code.unwrap()).as_str())
        );
        assert_eq!(a.reply_to_id.as_deref(), Some(r.reference_id.as_str()));
    }
    let r = report(&normalize_callback(&fixture("dlr-200-rfc3339.json")).unwrap());
    assert_eq!(r.external_id.as_deref(), Some("order-88412"));
    assert_eq!(r.message_parts_reference_ids.len(), 2);
    let r = report(&normalize_callback(&fixture("dlr-210-temporary-phone-error.json")).unwrap());
    assert_eq!(r.external_id, None);
    assert_eq!(r.state, DeliveryState::Failed { retryable: true });
}

#[test]
fn reports_without_sub_resource_and_unknown_kinds_are_events() {
    let a = normalize_callback(
        br#"{"status":{"code":200,"description":"Delivered to handset","updated_on":"2016-10-21T14:05:36.181346Z"},"reference_id":"0123456789ABCDEF0123456789ABCDEF"}"#,
    )
    .unwrap();
    assert_eq!(a.name.as_deref(), Some(EVENT_DELIVERY_REPORT));
    let a = normalize_callback(
        br#"{"sub_resource":"voice","reference_id":"AB","status":{"code":"1"}}"#,
    )
    .unwrap();
    assert_eq!(a.name.as_deref(), Some(EVENT_CALLBACK));
    assert_eq!(a.id.as_deref(), Some("AB:1"));
    let a = normalize_callback(b"{}").unwrap();
    assert_eq!(a.name.as_deref(), Some(EVENT_CALLBACK));
    assert_eq!(a.id, None);
    // A code that is not a number is kept as unknown.
    let a = normalize_callback(br#"{"sub_resource":"sms","reference_id":"AB","status":{"code":"x","updated_on":"yesterday"}}"#).unwrap();
    let r = report(&a);
    assert_eq!(
        (r.status_code, r.state, r.updated_on),
        (None, DeliveryState::Unknown, None)
    );
}

#[test]
fn errors_name_the_field_never_the_content() {
    let e = normalize_callback(b"not json").unwrap_err();
    assert!(matches!(e, NormalizeError::InvalidJson { field: None, .. }));
    let e = normalize_callback(b"[1]").unwrap_err();
    assert!(matches!(e, NormalizeError::InvalidJson { .. }));
    let e =
        normalize_callback(br#"{"sub_resource":"mo_sms","user_response":{"mo_message":12345678}}"#)
            .unwrap_err();
    match &e {
        NormalizeError::InvalidJson {
            field: Some(f),
            reason,
        } => {
            assert_eq!(f, "user_response.mo_message");
            assert!(!reason.contains("12345678"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        normalize_callback(br#"{"sub_resource":"mo_sms","user_response":{"phone_number":"1"}}"#)
            .unwrap_err(),
        NormalizeError::MissingField {
            field: "reference_id"
        }
    );
    assert_eq!(
        normalize_callback(
            br#"{"sub_resource":"mo_sms","reference_id":"R","user_response":{"mo_message":"hi"}}"#
        )
        .unwrap_err(),
        NormalizeError::MissingField {
            field: "user_response.phone_number"
        }
    );
    assert_eq!(
        normalize_callback(br#"{"sub_resource":"mo_sms","reference_id":"R"}"#).unwrap_err(),
        NormalizeError::MissingField {
            field: "user_response"
        }
    );
    assert_eq!(
        normalize_callback(br#"{"sub_resource":"sms","status":{"code":200}}"#).unwrap_err(),
        NormalizeError::MissingField {
            field: "reference_id"
        }
    );
}

/// Every fixture and edge case, normalized, as one text: each activity as its JSON, or the
/// error. `BYOC_UPDATE_SNAPSHOT=1 cargo test -p byoc-telesign` rewrites `snapshot.txt`.
fn snapshot_text() -> String {
    let dir = format!(
        "{}/../../tests/fixtures/telesign",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut cases: Vec<(String, Vec<u8>)> = names
        .into_iter()
        .map(|n| {
            let body = fixture(&n);
            (n, body)
        })
        .collect();
    let inline: &[&[u8]] = &[
        br#"{"status":{"code":200,"description":"Delivered to handset","updated_on":"2016-10-21T14:05:36.181346Z"},"reference_id":"0123456789ABCDEF0123456789ABCDEF"}"#,
        br#"{"sub_resource":"voice","reference_id":"AB","status":{"code":"1"}}"#,
        b"{}",
        b"  {}  ",
        br#"{"sub_resource":"sms","reference_id":"AB","status":{"code":"x","updated_on":"yesterday"}}"#,
        br#"{"sub_resource":"sms","reference_id":"A\u0042","external_id":17,"status":{"code":" 200 ","description":"D\u00e9livr\u00e9","updated_on":"Fri, 03 May 2024 08:12:40 +0200"},"additional_info":{"message_parts_count":"2","message_parts_reference_ids":" a , ,b,"}}"#,
        br#"{"sub_resource":"sms","reference_id":"AB","status":{"code":203},"additional_info":{"message_parts_count":-1}}"#,
        br#"{"sub_resource":"mo_sms","reference_id":"R","user_response":{"phone_number":15555550123,"sender_id":"","mo_message":"a\nb \"q\""},"submit_timestamp":"bad","status":{"updated_on":"2024-05-02T16:41:09Z"},"x":[1,{"y":null}]}"#,
        br#"{"sub_resource":"mo_sms","reference_id":"R","user_response":{"phone_number":"1"}}"#,
        br#"{"sub_resource":"mo_sms","reference_id":" ","user_response":{"phone_number":"1"}}"#,
        br#"{"sub_resource":"other","reference_id":"R","status":{"code":"x","updated_on":"2024-05-02T16:41:09.1+02:00"}}"#,
        b"not json",
        b"[1]",
        b"",
        b"{\"a\":\"\xff\"}",
        br#"{"sub_resource":"mo_sms","user_response":{"mo_message":12345678}}"#,
        br#"{"sub_resource":"mo_sms","user_response":{"phone_number":"1"}}"#,
        br#"{"sub_resource":"mo_sms","reference_id":"R","user_response":{"mo_message":"hi"}}"#,
        br#"{"sub_resource":"mo_sms","reference_id":"R"}"#,
        br#"{"sub_resource":"sms","status":{"code":200}}"#,
        br#"{"sub_resource":"sms","reference_id":"R","status":{"code":1.5}}"#,
        br#"{"sub_resource":"sms","reference_id":"R","status":{"code":18446744073709551615}}"#,
        br#"{"sub_resource":"sms","reference_id":"R"} x"#,
        br#"{"sub_resource":"sms","reference_id":"R","reference_id":"S"}"#,
    ];
    cases.extend(
        inline
            .iter()
            .enumerate()
            .map(|(i, b)| (format!("inline-{i}"), b.to_vec())),
    );
    let mut out = String::new();
    for (name, body) in cases {
        out.push_str(&format!("## {name}\n"));
        match normalize_callback(&body) {
            Ok(a) => {
                out.push_str(&a.to_json().unwrap());
                out.push('\n');
                out.push_str(&format!(
                    "timestamp={:?}\n",
                    a.timestamp.as_ref().map(Timestamp::as_str)
                ));
            }
            Err(e) => out.push_str(&format!("error: {e:?}\n")),
        }
    }
    out
}

#[test]
fn every_fixture_and_edge_case_normalizes_as_the_snapshot_says() {
    let path = format!("{}/src/normalize/snapshot.txt", env!("CARGO_MANIFEST_DIR"));
    let got = snapshot_text();
    if std::env::var_os("BYOC_UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    for (g, w) in got.lines().zip(want.lines()) {
        assert_eq!(g, w);
    }
    assert_eq!(got, want);
}

#[test]
fn written_report_is_the_serialized_one() {
    use chrono::TimeZone;
    let states = [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Failed { retryable: true },
        DeliveryState::Failed { retryable: false },
        DeliveryState::Unknown,
    ];
    for state in states {
        assert_eq!(
            report::state_json(state),
            serde_json::to_string(&state).unwrap()
        );
    }
    let instants = [
        chrono::Utc.with_ymd_and_hms(2024, 5, 3, 8, 12, 40).unwrap(),
        chrono::Utc
            .timestamp_opt(1_714_668_351, 114_502_000)
            .unwrap(),
        chrono::Utc
            .timestamp_opt(1_714_668_351, 337_000_000)
            .unwrap(),
        chrono::Utc.timestamp_opt(1_714_668_351, 1).unwrap(),
    ];
    for t in instants {
        assert_eq!(report::Rfc3339(t).to_string(), t.to_rfc3339());
    }
    let cases = [
        (
            Some("ext"),
            Some(200),
            Some("Delivered"),
            Some(true),
            Some(2),
            "a, b,,c ",
        ),
        (None, None, None, None, None, ""),
        (
            Some("e\"x"),
            Some(-5),
            Some("tab\there"),
            Some(false),
            Some(0),
            " , ",
        ),
        (None, Some(503), Some("é ✓"), None, None, "x\\y"),
    ];
    for (external_id, status_code, description, success, parts, ids) in cases {
        for state in states {
            let r = report::DeliveryReportOut {
                reference_id: "R1",
                external_id,
                status_code,
                description,
                state,
                is_final: state.is_final(),
                success,
                updated_on: Some(report::Rfc3339(instants[1])),
                message_parts_count: parts,
                message_parts_reference_ids: report::PartIds(ids),
            };
            let serialized = serde_json::to_string(&r).unwrap();
            assert_eq!(r.to_raw().unwrap().get(), serialized);
            if let Some(w) = r.write() {
                assert_eq!(w.get(), serialized);
            }
        }
    }
}

#[test]
fn fast_rfc1123_agrees_with_chrono() {
    let texts = [
        "Fri, 03 May 2024 08:12:40 GMT",
        "Thu, 29 Feb 2024 23:59:59 GMT",
        "Mon, 01 Jan 1900 00:00:00 GMT",
        "Sat, 01 Jan 0000 00:00:00 GMT",
        "Thu, 03 May 2024 08:12:40 GMT",
        "Fri, 30 Feb 2024 08:12:40 GMT",
        "Fri, 03 May 2024 24:00:00 GMT",
        "Fri, 03 May 2024 23:59:60 GMT",
        "fri, 03 May 2024 08:12:40 GMT",
        "Fri, 03 may 2024 08:12:40 GMT",
        "Fri, 3 May 2024 08:12:40 GMT",
        "Fri, 03 May 2024 08:12:40 +0000",
        "Fri, 03 May 2024 08:12:40 UTC",
        "Fri, 03 May 2024 08:12:4x GMT",
        "Fri, 03 May 2024 08:12 GMT",
        "",
    ];
    for text in texts {
        let chrono = chrono::DateTime::parse_from_rfc2822(text)
            .ok()
            .map(|d| d.to_utc());
        if let Some(fast) = fast_rfc1123(text) {
            assert_eq!(Some(fast), chrono, "{text}");
        }
        assert_eq!(
            parse_time(text).map(|t| t.as_str().to_owned()),
            chrono.map(|d| Timestamp::from_utc(d).as_str().to_owned()),
            "{text}"
        );
    }
    assert!(fast_rfc1123("Fri, 03 May 2024 08:12:40 GMT").is_some());
}

#[test]
fn written_times_are_chronos() {
    use chrono::{SecondsFormat, TimeZone};
    let seconds = [
        0,
        1_714_723_960,
        -62_167_219_200,
        253_402_300_799,
        951_782_400,
        4_102_444_800,
    ];
    let nanos = [
        0,
        1,
        999_999_999,
        1_000,
        114_502_000,
        337_000_000,
        5_000_000,
        123_456_789,
        1_500_000_000,
    ];
    for s in seconds {
        for n in nanos {
            let Some(at) = chrono::Utc.timestamp_opt(s, n).single() else {
                continue;
            };
            assert_eq!(report::Rfc3339(at).to_string(), at.to_rfc3339(), "{s} {n}");
            let mut buf = [0u8; 35];
            if let Some(text) = report::write_utc(at, report::Fraction::Millis, "Z", &mut buf) {
                assert_eq!(text, at.to_rfc3339_opts(SecondsFormat::Millis, true));
            }
            assert_eq!(timestamp_utc(at), Timestamp::from_utc(at), "{s} {n}");
            assert_eq!(timestamp_utc(at).as_str(), Timestamp::from_utc(at).as_str());
        }
    }
    let far = chrono::Utc.with_ymd_and_hms(12_000, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(report::Rfc3339(far).to_string(), far.to_rfc3339());
    assert_eq!(timestamp_utc(far), Timestamp::from_utc(far));
}

#[test]
fn written_integers_are_displayed_ones() {
    for n in [0, 1, -1, 9, 10, 200, -5, 10_008, i64::MAX, i64::MIN] {
        let mut s = String::new();
        report::push_int(&mut s, n);
        assert_eq!(s, n.to_string());
        assert_eq!(with_code("R", Some(n)), format!("R:{n}"));
    }
    assert_eq!(with_code("R", None), "R");
}

#[test]
fn channel_data_is_a_slice_of_the_body() {
    let body = bytes::Bytes::from(fixture("dlr-200-rfc3339.json"));
    let a = normalize_callback_bytes(body.clone()).unwrap();
    let cd = a.channel_data.as_ref().unwrap().get();
    assert_eq!(cd.as_bytes(), &body[..]);
    assert_eq!(cd.as_ptr(), body.as_ptr());
}
