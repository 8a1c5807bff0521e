use super::*;
use crate::activity::{RawJson, SuggestedActions};

fn sms() -> ChannelInfo {
    ChannelInfo::text_only("telesign", 20)
}

#[test]
fn rich_channel_passes_unchanged() {
    let a = Activity::message("hello");
    let out = adapt(&a, &ChannelInfo::new("directline"), &AdaptPolicy::default()).unwrap();
    assert!(out.is_lossless());
    assert_eq!(out.activities, vec![a]);
}

#[test]
fn long_text_splits_at_word_boundaries() {
    let a = Activity::message("the quick brown fox jumps over the lazy dog again");
    let out = adapt(&a, &sms(), &AdaptPolicy::default()).unwrap();
    let texts: Vec<_> = out
        .activities
        .iter()
        .map(|a| a.text.clone().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["the quick brown fox", "jumps over the lazy", "dog again"]
    );
    assert!(texts.iter().all(|t| t.chars().count() <= 20));
    assert_eq!(
        out.losses,
        vec![Loss::TextSplit {
            parts: 3,
            limit: 20
        }]
    );
    let refused = adapt(
        &a,
        &sms(),
        &AdaptPolicy::default().with_split_long_text(false),
    );
    assert!(matches!(refused, Err(AdapterError::Unsupported { .. })));
}

#[test]
fn split_handles_long_words_and_multibyte() {
    assert_eq!(split_text("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    let parts = split_text("ééééé ü 🙂🙂🙂🙂", 4);
    assert!(parts.iter().all(|p| p.chars().count() <= 4), "{parts:?}");
    assert_eq!(parts.concat().replace(' ', ""), "éééééü🙂🙂🙂🙂");
    assert_eq!(split_text("", 5), Vec::<String>::new());
    assert_eq!(split_text("a b", 0), ["a", "b"]);
}

#[test]
fn suggested_actions_become_numbered_text() {
    let mut a = Activity::message("Pick one");
    a.suggested_actions = Some(SuggestedActions {
        actions: Some(vec![
            CardAction::im_back("Yes", "y"),
            CardAction::im_back("No", "n"),
        ]),
        ..Default::default()
    });
    let out = adapt(
        &a,
        &ChannelInfo::text_only("sms", 1600),
        &AdaptPolicy::default(),
    )
    .unwrap();
    assert_eq!(
        out.activities[0].text.as_deref(),
        Some("Pick one\n1. Yes\n2. No")
    );
    assert!(out.activities[0].suggested_actions.is_none());
    assert_eq!(out.losses, vec![Loss::SuggestedActionsAsText { count: 2 }]);
}

#[test]
fn attachments_become_links_or_are_refused() {
    let mut a = Activity::message("Your invoice");
    let mut att = Attachment::from_url("application/pdf", "https://files.example/i.pdf");
    att.name = Some("invoice.pdf".into());
    a.attachments = Some(vec![
        att,
        Attachment {
            content_type: Some("image/png".into()),
            ..Default::default()
        },
    ]);
    let info = ChannelInfo::text_only("sms", 1600);
    let out = adapt(&a, &info, &AdaptPolicy::default()).unwrap();
    assert_eq!(
        out.activities[0].text.as_deref(),
        Some("Your invoice\ninvoice.pdf: https://files.example/i.pdf")
    );
    assert!(out.activities[0].attachments.is_none());
    assert_eq!(out.losses.len(), 2);
    assert!(
        matches!(&out.losses[1], Loss::AttachmentDropped { content_type: Some(ct), .. } if ct == "image/png")
    );

    let err = adapt(
        &a,
        &info,
        &AdaptPolicy::default().with_attachments(AttachmentFallback::Refuse),
    )
    .unwrap_err();
    assert!(matches!(err, AdapterError::Unsupported { .. }));
    let dropped = adapt(
        &a,
        &info,
        &AdaptPolicy::default().with_attachments(AttachmentFallback::Drop),
    )
    .unwrap();
    assert_eq!(dropped.activities[0].text.as_deref(), Some("Your invoice"));
    assert_eq!(dropped.losses.len(), 2);
}

#[test]
fn oversized_inline_attachment_is_reported() {
    let mut a = Activity::message("pic");
    a.attachments = Some(vec![Attachment::from_url(
        "image/png",
        format!("data:image/png;base64,{}", "A".repeat(4000)),
    )]);
    let info = ChannelInfo::new("chat").with_max_attachment_bytes(Some(1000));
    let out = adapt(&a, &info, &AdaptPolicy::default()).unwrap();
    assert!(
        matches!(&out.losses[0], Loss::AttachmentDropped { reason, .. } if reason.contains("larger"))
    );
}

#[test]
fn hero_card_renders_as_text() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/activities/message-hero-card.json"
    ))
    .unwrap();
    let a = Activity::from_slice(&bytes).unwrap();
    let out = adapt(
        &a,
        &ChannelInfo::text_only("sms", 1600),
        &AdaptPolicy::default(),
    )
    .unwrap();
    let text = out.activities[0].text.clone().unwrap();
    assert!(text.contains("1. "), "{text}");
    assert!(
        out.losses
            .iter()
            .any(|l| matches!(l, Loss::CardAsText { .. }))
    );
    assert!(out.activities[0].attachments.is_none());
}

#[test]
fn adaptive_card_uses_fallback_text() {
    let mut a = Activity::message("");
    a.attachments = Some(vec![Attachment {
        content_type: Some("application/vnd.microsoft.card.adaptive".into()),
        content: Some(RawJson::from(
            serde_json::json!({"type":"AdaptiveCard","fallbackText":"Rate us 1-5"}),
        )),
        ..Default::default()
    }]);
    let out = adapt(
        &a,
        &ChannelInfo::text_only("sms", 1600),
        &AdaptPolicy::default(),
    )
    .unwrap();
    assert_eq!(out.activities[0].text.as_deref(), Some("Rate us 1-5"));
    assert!(matches!(out.losses[0], Loss::AttachmentDropped { .. }));
}

#[test]
fn markdown_is_flattened_for_plain_channels() {
    let mut a = Activity::message("**Hi** _there_, see [the docs](https://d.example) now");
    a.text_format = Some(TextFormat::Markdown);
    let out = adapt(
        &a,
        &ChannelInfo::text_only("sms", 1600),
        &AdaptPolicy::default(),
    )
    .unwrap();
    assert_eq!(
        out.activities[0].text.as_deref(),
        Some("Hi there, see the docs (https://d.example) now")
    );
    assert_eq!(out.activities[0].text_format, Some(TextFormat::Plain));
    assert_eq!(out.losses, vec![Loss::MarkdownFlattened]);
    assert_eq!(
        flatten_markdown("# Title\n> quoted\nsnake_case_name"),
        "Title\nquoted\nsnake_case_name"
    );
}

#[test]
fn typing_and_events_dropped_with_a_report() {
    let out = adapt(&Activity::typing(), &sms(), &AdaptPolicy::default()).unwrap();
    assert!(out.activities.is_empty());
    assert_eq!(out.losses, vec![Loss::TypingDropped]);
    let out = adapt(
        &Activity::event("handoff.initiate"),
        &sms(),
        &AdaptPolicy::default(),
    )
    .unwrap();
    assert_eq!(
        out.losses,
        vec![Loss::ActivityDropped {
            kind: "event".into()
        }]
    );
    let out = adapt(
        &Activity::typing(),
        &ChannelInfo::new("chat"),
        &AdaptPolicy::default(),
    )
    .unwrap();
    assert_eq!(out.activities.len(), 1);
}
