//! The written `json` part against `serde_json` on every interaction kind and on arbitrary
//! strings.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::client::Participant;
use crate::render::StaticContent;

fn message(text: &str, reply_to: Option<&str>) -> Interaction {
    Interaction::Entry {
        timestamp: 1_714_668_069_301,
        payload: EntryPayload::Message {
            id: "e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f".into(),
            abstract_message: AbstractMessage {
                message_type: "StaticContentMessage".into(),
                id: "e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f".into(),
                static_content: StaticContent {
                    format_type: "Text".into(),
                    text: text.into(),
                },
                in_reply_to_message_id: reply_to.map(str::to_owned),
            },
        },
    }
}

fn request(interactions: Vec<Interaction>, routing: Option<&[(&str, &str)]>) -> InteractionRequest {
    InteractionRequest {
        to: "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e".into(),
        from: "15555550123".into(),
        interactions,
        routing_attributes: routing.map(|r| {
            r.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>()
        }),
    }
}

fn assert_as_serde(r: &InteractionRequest) {
    let mut out = b"prefix".to_vec();
    write(&mut out, r).unwrap();
    let want = serde_json::to_vec(r).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out[6..]),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(&out[..6], b"prefix");
}

#[test]
fn every_interaction_is_written_as_serde_json_writes_it() {
    let texts = [
        "",
        "Where is my order?",
        "quote \" backslash \\ slash / tab \t newline \n cr \r nul \0 bell \u{7} unit \u{1f} del \u{7f}",
        "é中😀 \u{2028} \u{85}",
        "a run of plain text longer than sixteen bytes, then a \"quote\" near the end",
        "0123456789abcdef\"",
    ];
    for text in texts {
        for reply_to in [None, Some("r\"1"), Some("r1")] {
            assert_as_serde(&request(vec![message(text, reply_to)], None));
        }
        for caption in [None, Some(text)] {
            assert_as_serde(&request(
                vec![Interaction::Attachment {
                    timestamp: -1,
                    id: text.into(),
                    attachment_index: u32::MAX,
                    content_length: u64::MAX,
                    text: caption.map(str::to_owned),
                }],
                None,
            ));
        }
    }
    let others = [
        EntryPayload::TypingStarted {
            id: "t\"1".into(),
            timestamp: i64::MIN,
        },
        EntryPayload::TypingStopped {
            id: "t2".into(),
            timestamp: 0,
        },
        EntryPayload::MessageDeliveryFailed {
            id: "d1".into(),
            failed_conversation_entry_identifier: "f\n1".into(),
            recipient: Participant::end_user("u\"1"),
            error_code: "500".into(),
            error_message: Some("nope".into()),
        },
        EntryPayload::MessageDeliveryFailed {
            id: "d2".into(),
            failed_conversation_entry_identifier: "f2".into(),
            recipient: Participant::end_user("u2"),
            error_code: "500".into(),
            error_message: None,
        },
    ];
    for payload in others {
        assert_as_serde(&request(
            vec![Interaction::Entry {
                timestamp: i64::MAX,
                payload,
            }],
            Some(&[("b", "2"), ("a\"", "1\n"), ("", "")]),
        ));
    }
    // Each character serde_json escapes (and a few it does not), alone, in the first and the
    // second 8-byte word, and in the remainder after the words.
    for c in (0..0x20u8)
        .map(char::from)
        .chain(['"', '\\', '\u{7f}', '/', ' '])
    {
        for s in [
            c.to_string(),
            format!("{c}0123456789abcdefghij"),
            format!("0123456789{c}abcdefghij"),
            format!("0123456789abcdefghij{c}"),
        ] {
            assert_as_serde(&request(vec![message(&s, Some(&s))], Some(&[(&s, &s)])));
        }
    }
    assert_as_serde(&request(vec![], Some(&[])));
    assert_as_serde(&request(
        vec![message("one", None), message("two", Some("one"))],
        None,
    ));
}

#[test]
fn the_size_hint_covers_a_plain_message() {
    let r = request(
        vec![message("Where is my order?", Some("r1"))],
        Some(&[("k", "v")]),
    );
    let mut out = Vec::new();
    write(&mut out, &r).unwrap();
    assert!(
        size_hint(&r) >= out.len(),
        "{} < {}",
        size_hint(&r),
        out.len()
    );
}

proptest! {
    #[test]
    fn arbitrary_strings_are_written_as_serde_json_writes_them(
        to in any::<String>(),
        text in any::<String>(),
        id in "[\\x00-\\x7f]{0,40}",
        reply_to in proptest::option::of(any::<String>()),
        timestamp in any::<i64>(),
        attributes in proptest::collection::btree_map(any::<String>(), any::<String>(), 0..3),
    ) {
        let mut r = request(vec![message(&text, reply_to.as_deref())], None);
        r.to = to;
        r.routing_attributes = Some(attributes);
        if let Interaction::Entry { timestamp: t, payload: EntryPayload::Message { id: i, .. } } =
            &mut r.interactions[0]
        {
            *t = timestamp;
            i.clone_from(&id);
        }
        r.interactions.push(Interaction::Attachment {
            timestamp,
            id,
            attachment_index: 0,
            content_length: text.len() as u64,
            text: Some(text),
        });
        let mut out = Vec::new();
        write(&mut out, &r).unwrap();
        prop_assert_eq!(out, serde_json::to_vec(&r).unwrap());
    }
}
