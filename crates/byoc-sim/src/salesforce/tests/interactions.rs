//! `POST /api/v1/interactions`: accepted shapes and refused ones.

use http::StatusCode;
use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn interactions_accepts_the_documented_shapes() {
    let sh = shared(SimConfig::default());
    let t = token(&sh).await;
    let id = "a3c5e7f9-1b2d-4f6a-8c0e-2b4d6f8a0c1e";
    let json = serde_json::to_vec(&text_message(id, id)).unwrap();
    let (s, v) = call(
        &sh,
        interaction_call(&sh, &t, &[("json", None, "application/json", &json)]).request(),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["id"], id);
    assert_eq!(v["success"], true);
    assert_eq!(v["workItemIds"][0].as_str().map(str::len), Some(15));
    let json = serde_json::to_vec(&attachment(3)).unwrap();
    let parts: &[(&str, Option<&str>, &str, &[u8])] = &[
        ("json", None, "application/json", &json),
        ("attachments", Some("a.png"), "image/png", &[1, 2, 3]),
    ];
    let (s, v) = call(&sh, interaction_call(&sh, &t, parts).request()).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let rec = lock(&sh.recorded).clone();
    assert_eq!(rec.len(), 2);
    assert_eq!(
        rec[1].attachment,
        Some(("a.png".into(), "image/png".into(), 3))
    );
}

#[tokio::test]
async fn interactions_multipart_and_schema_codes() {
    let sh = shared(SimConfig::default());
    let t = token(&sh).await;
    let id = "a3c5e7f9-1b2d-4f6a-8c0e-2b4d6f8a0c1e";
    let one = |v: &Value| serde_json::to_vec(v).unwrap();
    let bad = StatusCode::BAD_REQUEST;
    // Multipart.
    let c = Call::json(
        &sh,
        &t,
        "POST",
        "/api/v1/interactions",
        &text_message(id, id),
    );
    expect(&sh, c, bad, 10016).await;
    let c =
        interaction_call(&sh, &t, &[]).set("content-type", "multipart/form-data; boundary=SIMTEST");
    expect(&sh, c, bad, 10029).await;
    let msg = one(&text_message(id, id));
    let c = interaction_call(&sh, &t, &[("entry", None, "application/json", &msg)]);
    expect(&sh, c, bad, 10029).await;
    let c = interaction_call(&sh, &t, &[("json", None, "application/json", b"{not json")]);
    expect(&sh, c, bad, 10045).await;
    let mut truncated = interaction_call(&sh, &t, &[("json", None, "application/json", &msg)]);
    truncated.body.truncate(truncated.body.len() - 12);
    expect(&sh, truncated, bad, 10029).await;
    // Attachments.
    let att = one(&attachment(3));
    let file = |ct: &'static str, data: &'static [u8]| ("attachments", Some("f"), ct, data);
    let c = interaction_call(
        &sh,
        &t,
        &[
            ("json", None, "application/json", &att),
            file("text/html", b"<b>"),
        ],
    );
    expect(&sh, c, bad, 10095).await;
    let c = interaction_call(
        &sh,
        &t,
        &[
            ("json", None, "application/json", &att),
            file("image/png", b"1234"),
        ],
    );
    expect(&sh, c, bad, 10051).await;
    let c = interaction_call(&sh, &t, &[("json", None, "application/json", &att)]);
    expect(&sh, c, bad, 10011).await;
    let c = interaction_call(
        &sh,
        &t,
        &[
            ("json", None, "application/json", &msg),
            file("image/png", b"123"),
        ],
    );
    expect(&sh, c, bad, 10011).await;
    let big = vec![0u8; 25 * 1024 * 1024 + 1];
    let big_json = one(&attachment(big.len() as u64));
    let c = interaction_call(
        &sh,
        &t,
        &[
            ("json", None, "application/json", &big_json),
            ("attachments", Some("f"), "image/png", &big),
        ],
    );
    expect(&sh, c, bad, 10008).await;
    // Schema.
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = text_message(id, id);
        f(&mut v);
        one(&v)
    };
    let cases: Vec<(Vec<u8>, u32)> = vec![
        (edit(&|v| v["to"] = json!("another-channel")), 10017),
        (edit(&|v| v["from"] = json!("x".repeat(256))), 10028),
        (edit(&|v| v["from"] = json!("")), 10028),
        (edit(&|v| v["interactions"] = json!([])), 10029),
        (
            edit(&|v| {
                let i = v["interactions"][0].clone();
                v["interactions"] = json!([i.clone(), i]);
            }),
            10029,
        ),
        (
            edit(&|v| v["interactions"][0]["timestamp"] = json!(1_714_668_069)),
            10046,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["interactionType"] = json!("AcknowledgementInteraction")
            }),
            10029,
        ),
        (
            edit(&|v| v["interactions"][0]["payload"]["id"] = json!("")),
            10059,
        ),
        (one(&text_message(id, "another")), 10060),
        (
            edit(&|v| {
                v["interactions"][0]["payload"]["abstractMessage"]["messageType"] =
                    json!("ChoicesMessage")
            }),
            10047,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["payload"]["abstractMessage"]["staticContent"]["formatType"] =
                    json!("Carousel")
            }),
            10048,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["payload"] =
                    json!({"id": id, "entryType": "TypingStartedIndicator"})
            }),
            10045,
        ),
        (
            edit(&|v| v["interactions"][0]["payload"] = json!({"id": id, "entryType": "Unknown"})),
            10045,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["payload"] = json!({"id": id, "entryType": "MessageDeliveryFailed",
            "failedConversationEntryIdentifier": "x", "errorCode": "1",
            "recipient": {"appType": "agent", "subject": "u", "role": "Agent"}})
            }),
            10045,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["payload"] = json!({"id": id, "entryType": "MessageDeliveryFailed",
            "recipient": {"appType": "custom", "subject": "u", "role": "EndUser"}})
            }),
            10045,
        ),
    ];
    for (body, code) in cases {
        let c = interaction_call(&sh, &t, &[("json", None, "application/json", &body)]);
        expect(&sh, c, bad, code).await;
    }
    assert!(lock(&sh.recorded).is_empty(), "nothing refused is recorded");
}
