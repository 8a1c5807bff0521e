//! The fast path against the serde path: whatever the fast path accepts, serde accepts with
//! an equal value; realistic input takes the fast path.

use bytestring::ByteString;
use proptest::prelude::*;
use serde_json::{Map, Value};

use super::parse_into;
use crate::activity::Activity;
use crate::activity::tests::prop::{json_leaf, json_value};

/// `(fast, serde)` results for the same text, unshared and shared.
fn both(text: &str) -> (Option<Activity>, Result<Activity, serde_json::Error>) {
    let mut fast = Activity::default();
    let fast = parse_into(text, None, &mut fast).map(|()| fast);
    let shared = ByteString::from(text);
    let mut fast_shared = Activity::default();
    let fast_shared = parse_into(&shared, Some(&shared), &mut fast_shared).map(|()| fast_shared);
    assert_eq!(fast, fast_shared, "shared and unshared fast paths agree");
    (fast, serde_json::from_str::<Activity>(text))
}

/// The contract: the fast path never accepts what serde refuses, nor reads it differently.
fn agree(text: &str) -> Option<Activity> {
    let (fast, serde) = both(text);
    if let Some(a) = &fast {
        match &serde {
            Ok(b) => assert_eq!(a, b, "{text}"),
            Err(e) => panic!("fast path accepted what serde refuses ({e}): {text}"),
        }
    }
    fast
}

#[test]
fn every_fixture_takes_the_fast_path_and_agrees() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/activities"
    );
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(agree(&text).is_some(), "{} declined", path.display());
        n += 1;
    }
    assert!(n >= 20, "fixtures found: {n}");
}

#[test]
fn declines_what_serde_must_judge() {
    for text in [
        "",
        "[]",
        "null",
        r#"{"type":"message""#,
        r#"{"type":"message",}"#,
        r#"{"type":"message"} x"#,
        r#"{"type":"message","text":5}"#,
        r#"{"type":"message","text":"a","text":"b"}"#,
        r#"{"text":"no type"}"#,
        r#"{"type":null}"#,
        r#"{"type":"message","timestamp":"yesterday"}"#,
        r#"{"type":"message","timestamp":"2024-01-01T00:00:00\u005a"}"#,
        r#"{"type":"message","x":01}"#,
        r#"{"type":"message","x":1.}"#,
        r#"{"type":"message","x":-}"#,
        r#"{"type":"message","x":1e}"#,
        r#"{"type":"message","x":tru}"#,
        r#"{"type":"message","x":[1,]}"#,
        r#"{"type":"message","x":{"a" 1}}"#,
        r#"{"type":"message","x":"\q"}"#,
        r#"{"type":"message","x":"\ud800"}"#,
        r#"{"type":"message","x":"\u12"}"#,
        "{\"type\":\"message\",\"x\":\"tab\there\"}",
        r#"{"t\u0079pe":"message"}"#,
        r#"{"type":"message","textHighlights":[{"occurrence":1.5}]}"#,
        r#"{"type":"message","textHighlights":[{"occurrence":99999999999999999999}]}"#,
        r#"{"type":"message","entities":[5]}"#,
        r#"{"type":"message","entities":[{"type":5}]}"#,
        r#"{"type":"message","conversation":{"isGroup":"yes"}}"#,
    ] {
        let (fast, _) = both(text);
        assert!(fast.is_none(), "fast path must decline: {text}");
        agree(text);
    }
    let deep = format!(
        r#"{{"type":"message","x":{}1{}}}"#,
        "[".repeat(120),
        "]".repeat(120)
    );
    assert!(both(&deep).0.is_none(), "deep nesting declines");
}

#[test]
fn reads_escapes_nulls_and_unknown_fields_like_serde() {
    for text in [
        r#"{"type":"message","text":"a\"b\\c\/d\b\f\n\r\t\u00e9\u4e2d","name":"\u0041"}"#,
        r#"{"type":"me\u0073sage"}"#,
        r#"{"type":"message","text":null,"text":"later","id":null}"#,
        r#"{"type":"message","x-a":{"b":[1,-2.5e+3,true,false,null,"s"]},"x-a":0}"#,
        r#" { "type" : "typing" , "from" : { "id" : "u" , "role" : "user" } } "#,
        r#"{"type":"message","entities":[{"a":1,"type":null,"type":"mention"}]}"#,
        r#"{"type":"message","semanticAction":{"id":"x","entities":{"k":{"type":"t"},"k":{"type":"u"}}}}"#,
        r#"{"type":"message","textHighlights":[{"text":"t","occurrence":-3}]}"#,
        r#"{"type":"message","text":"é — 中文 — 😀"}"#,
    ] {
        assert!(agree(text).is_some(), "fast path should accept: {text}");
    }
}

/// Activity-shaped objects whose known fields sometimes hold the wrong JSON type.
fn activity_like() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        Just("id"),
        Just("text"),
        Just("timestamp"),
        Just("from"),
        Just("conversation"),
        Just("attachments"),
        Just("entities"),
        Just("channelData"),
        Just("textFormat"),
        Just("membersAdded"),
        Just("suggestedActions"),
        Just("relatesTo"),
        Just("x-unknown"),
    ];
    let value = prop_oneof![
        json_value(),
        Just(Value::String("2024-03-11T09:15:40.88Z".into())),
        Just(serde_json::json!({"id": "a", "name": "n", "role": "user"})),
        Just(serde_json::json!([{"contentType": "x", "content": {"a": 1}}])),
        Just(serde_json::json!([{"type": "mention", "text": "<at>x</at>"}])),
        Just(serde_json::json!({"actions": [{"type": "imBack", "value": "v"}], "to": ["a"]})),
    ];
    (
        prop::option::of(prop_oneof![Just(Value::from("message")), json_leaf()]),
        prop::collection::vec((field, value), 0..6),
    )
        .prop_map(|(kind, fields)| {
            let mut m = Map::new();
            if let Some(k) = kind {
                m.insert("type".into(), k);
            }
            for (k, v) in fields {
                m.insert(k.into(), v);
            }
            Value::Object(m)
        })
}

proptest! {
    #[test]
    fn generated_input_agrees(v in activity_like(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&v).unwrap()
        } else {
            serde_json::to_string(&v).unwrap()
        };
        let fast = agree(&text);
        // Realistic input takes the fast path: when serde accepts and nothing in it needs
        // serde's judgement (escapes, floats in typed fields), the fast path accepts too.
        if serde_json::from_str::<Activity>(&text).is_ok() && !text.contains('\\') {
            prop_assert!(fast.is_some(), "declined: {}", text);
        }
    }

    #[test]
    fn mutated_input_agrees(v in activity_like(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4)) {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 => bytes.insert(i, byte),
                1 if i < bytes.len() => { bytes.remove(i); }
                _ if i < bytes.len() => bytes[i] = byte,
                _ => {}
            }
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            agree(text);
        }
    }

    #[test]
    fn arbitrary_json_agrees(v in json_value()) {
        agree(&serde_json::to_string(&v).unwrap());
    }
}

#[test]
fn long_strings_find_every_quote_escape_and_control_byte() {
    // The scan goes word by word, then 64 bytes at a time: put the byte that stops it at
    // every offset of strings up to a few blocks long.
    for len in (0..300).chain([1000, 4096 + 7]) {
        let plain = "a".repeat(len);
        let text = format!(r#"{{"type":"message","text":"{plain}","name":"n"}}"#);
        let a = agree(&text).expect("plain string accepted");
        assert_eq!(a.text.as_deref(), Some(plain.as_str()));
        for at in [0, len / 3, len / 2, len.saturating_sub(1)] {
            if at >= len {
                continue;
            }
            let escaped = format!(r#"{}\n{}"#, &plain[..at], &plain[at + 1..]);
            let text = format!(r#"{{"type":"message","text":"{escaped}"}}"#);
            let a = agree(&text).expect("escape accepted");
            assert_eq!(a.text.as_ref().map(String::len), Some(len));
            assert_eq!(a.text.as_deref().and_then(|t| t.find('\n')), Some(at));
            let control = format!("{}\u{1}{}", &plain[..at], &plain[at + 1..]);
            let text = format!(r#"{{"type":"message","text":"{control}"}}"#);
            assert!(both(&text).0.is_none(), "raw control byte at {at} of {len}");
            let quoted = format!(r#"{}"{}"#, &plain[..at], &plain[at + 1..]);
            let text = format!(r#"{{"type":"message","text":"{quoted}"}}"#);
            assert!(both(&text).0.is_none(), "stray quote at {at} of {len}");
        }
    }
}

#[test]
fn activity_list_reads_a_direct_line_set_losslessly() {
    use crate::activity::ActivityList;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/directline/activityset-with-watermark.json"
    );
    let bytes = std::fs::read(path).unwrap();
    let mut fast = ActivityList::default();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(parse_into(text, None, &mut fast).is_some(), "fast path");
    let list = ActivityList::from_bytes(bytes::Bytes::from(bytes.clone())).unwrap();
    assert_eq!(list, fast);
    assert_eq!(
        list,
        serde_json::from_slice::<ActivityList>(&bytes).unwrap()
    );
    assert!(list.activities.as_ref().is_some_and(|a| a.len() >= 2));
    assert!(list.extensions.get("watermark").is_some());
    let want: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(serde_json::to_value(&list).unwrap(), want);

    let err = ActivityList::from_slice(
        br#"{"activities":[{"type":"message"},{"type":"message","from":7}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("activities[1].from"));
    let err = ActivityList::from_slice(br#"{"activities":[{"text":"x"}]}"#).unwrap_err();
    assert_eq!(err.field(), Some("activities[0].type"));
}

#[test]
fn push_from_bytes_appends_or_leaves_the_vector_alone() {
    let mut out = vec![Activity::typing()];
    Activity::push_from_bytes(
        bytes::Bytes::from_static(br#"{"type":"message","text":"hi"}"#),
        &mut out,
    )
    .unwrap();
    // Valid input the fast path leaves to serde (an escaped key) takes the serde path.
    Activity::push_from_bytes(
        bytes::Bytes::from_static(br#"{"t\u0079pe":"event"}"#),
        &mut out,
    )
    .unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[1].text.as_deref(), Some("hi"));
    assert_eq!(out[2].kind, crate::activity::ActivityType::Event);
    for bad in [&br#"{"type":"message","text":5}"#[..], b"\xff", b"[]"] {
        let err = Activity::push_from_bytes(bytes::Bytes::from_static(bad), &mut out);
        assert_eq!(err, Activity::from_slice(bad).map(|_| ()));
        assert_eq!(out.len(), 3, "unchanged on error");
    }
}

#[test]
fn a_shared_buffer_that_is_not_the_text_means_copies_not_a_panic() {
    let text = r#"{"type":"message","x-a":[1],"timestamp":"2024-03-11T09:15:40.88Z"}"#;
    let other = ByteString::from("{}");
    let mut a = Activity::default();
    assert!(parse_into(text, Some(&other), &mut a).is_some());
    assert_eq!(a, serde_json::from_str::<Activity>(text).unwrap());
}
