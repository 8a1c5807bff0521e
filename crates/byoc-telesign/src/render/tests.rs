use byoc_core::{ChannelAccount, Secret};

use super::*;

const K1: &str = "VGVzdCBLZXk=";

fn config() -> TelesignConfig {
    TelesignConfig::new("cid", Secret::new(K1)).unwrap()
}

#[test]
fn phone_numbers_normalize_to_e164_digits() {
    let table = [
        ("+1 (555) 555-0123", Some("15555550123")),
        ("44 7700 900461", Some("447700900461")),
        ("+61.491.570.156", Some("61491570156")),
        ("15555550123", Some("15555550123")),
        ("0049301234567", None),
        ("12345", None),
        ("1234567890123456", None),
        ("1555abc0123", None),
        ("", None),
        ("++", None),
    ];
    for (input, want) in table {
        let got = PhoneNumber::parse(input, "phone_number").ok();
        assert_eq!(got.as_ref().map(PhoneNumber::as_str), want, "{input}");
    }
    assert_eq!(
        PhoneNumber::parse("x", "recipient.id"),
        Err(RenderError::InvalidPhoneNumber {
            field: "recipient.id"
        })
    );
}

#[test]
fn message_types_are_an_open_set() {
    for (s, t) in [
        ("OTP", MessageType::Otp),
        ("arn", MessageType::Arn),
        ("MKT", MessageType::Mkt),
    ] {
        assert_eq!(MessageType::from_wire(s), t);
    }
    assert_eq!(MessageType::from_wire("NEW").as_str(), "NEW");
}

#[test]
fn segments_count_gsm7_septets_or_utf16_units() {
    let cases = [
        ("", Encoding::Gsm7, 0, 1),
        ("hello", Encoding::Gsm7, 5, 1),
        (&"a".repeat(160), Encoding::Gsm7, 160, 1),
        (&"a".repeat(161), Encoding::Gsm7, 161, 2),
        (&"€".repeat(80), Encoding::Gsm7, 160, 1),
        (&"€".repeat(81), Encoding::Gsm7, 162, 2),
        (&"é".repeat(10), Encoding::Gsm7, 10, 1),
        (&"ж".repeat(70), Encoding::Ucs2, 70, 1),
        (&"ж".repeat(71), Encoding::Ucs2, 71, 2),
        ("🙏", Encoding::Ucs2, 2, 1),
    ];
    for (text, enc, units, count) in cases {
        let s = segments(text);
        assert_eq!(
            (s.encoding, s.units, s.count),
            (enc, units, count),
            "{text}"
        );
    }
}

#[test]
fn long_text_splits_at_word_boundaries() {
    assert_eq!(split_text("hello world", 20), vec!["hello world"]);
    assert_eq!(
        split_text("hello world foo", 11),
        vec!["hello world", "foo"]
    );
    assert_eq!(split_text("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    assert_eq!(split_text("", 4), vec![""]);
    let long = "word ".repeat(500);
    let parts = split_text(long.trim(), 1600);
    assert_eq!(parts.len(), 2);
    assert!(
        parts
            .iter()
            .all(|p| p.chars().count() <= 1600 && !p.ends_with(' '))
    );
    assert_eq!(parts.join(" "), long.trim());
    // Multi-byte characters are counted as characters.
    let parts = split_text(&"é".repeat(3201), 1600);
    assert_eq!(
        parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
        vec![1600, 1600, 1]
    );
}

fn msg(to: &str, text: &str) -> Activity {
    let mut a = Activity::message(text);
    a.recipient = Some(ChannelAccount::new(to));
    a
}

#[test]
fn message_activities_render_to_send_forms() {
    let r = render(&msg("+1 555 555 0123", "Hello world"), &config()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        r[0].to_form(),
        "phone_number=15555550123&message=Hello+world&message_type=ARN"
    );
    let mut a = msg("15555550123", "x");
    a.channel_data = Some(
        byoc_core::RawJson::from_json_text(
            r#"{"message_type":"OTP","sender_id":"15555550999","external_id":"e-1","callback_url":"https://cb.example/t"}"#,
        )
        .unwrap(),
    );
    let r = render(&a, &config()).unwrap();
    assert_eq!(
        r[0].to_form(),
        "phone_number=15555550123&message=x&message_type=OTP&sender_id=15555550999&external_id=e-1&callback_url=https%3A%2F%2Fcb.example%2Ft"
    );
    // From the conversation id when there is no recipient.
    let mut a = Activity::message("hi");
    a.conversation = Some(byoc_core::ConversationAccount::new(crate::conversation_id(
        "15555550123",
        "15555550999",
    )));
    assert_eq!(
        render(&a, &config()).unwrap()[0].phone_number.as_str(),
        "15555550123"
    );
}

#[test]
fn activities_sms_cannot_carry_are_refused_before_sending() {
    let c = config();
    assert_eq!(
        render(&Activity::message("hi"), &c),
        Err(RenderError::MissingRecipient)
    );
    assert_eq!(
        render(&msg("555", "hi"), &c),
        Err(RenderError::InvalidPhoneNumber {
            field: "recipient.id"
        })
    );
    assert_eq!(
        render(&msg("15555550123", "  "), &c),
        Err(RenderError::EmptyText)
    );
    assert!(matches!(
        render(&Activity::typing(), &c),
        Err(RenderError::UnsupportedActivity { .. })
    ));
    let long = "word ".repeat(400);
    assert_eq!(render(&msg("15555550123", &long), &c).unwrap().len(), 2);
    assert_eq!(
        render(
            &msg("15555550123", &long),
            &c.clone().with_long_text(LongText::Refuse)
        ),
        Err(RenderError::TextTooLong {
            chars: 1999,
            max: 1600
        })
    );
    let mut a = msg("15555550123", "x");
    a.channel_data = Some(
        byoc_core::RawJson::from_json_text(r#"{"sender_id":"123456789012345678901"}"#).unwrap(),
    );
    assert_eq!(
        render(&a, &c),
        Err(RenderError::InvalidField {
            field: "sender_id",
            reason: "must be 1 to 20 characters"
        })
    );
    a.channel_data = Some(byoc_core::RawJson::from_json_text(r#"{"sender_id":5}"#).unwrap());
    assert!(matches!(
        render(&a, &c),
        Err(RenderError::InvalidField {
            field: "channelData",
            ..
        })
    ));
}
