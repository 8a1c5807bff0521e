//! Byte-exact requests: the multipart body and the headers of `POST /interactions` and of a
//! JSON call, as they go on the wire.

use byoc_core::{Activity, ChannelAccount, Secret};
use url::Url;

use super::*;
use crate::render::{AttachmentFile, render_interaction};

const ID: &str = "e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f";

fn headers(req: &http::Request<Bytes>) -> Vec<(String, String, bool)> {
    req.headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                v.is_sensitive(),
            )
        })
        .collect()
}

fn expected_headers(content_type: &str, context_type: bool) -> Vec<(String, String, bool)> {
    let mut h = vec![
        ("authorization", "Bearer 00D!tok", true),
        ("orgid", "00D000000000001", false),
        ("authorizationcontext", "Partner_Def", false),
        ("requestid", "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11", false),
    ];
    if context_type {
        h.push((
            "authorizationcontexttype",
            "ConversationChannelDefinition",
            false,
        ));
    }
    h.push(("content-type", content_type, false));
    h.push(("accept", "application/json", false));
    h.into_iter()
        .map(|(k, v, s)| (k.to_owned(), v.to_owned(), s))
        .collect()
}

fn message(text: &str) -> Activity {
    let mut a = Activity::message(text);
    a.id = Some(ID.to_owned());
    a.from = Some(ChannelAccount::new("15555550123"));
    a
}

#[test]
fn a_text_interaction_is_byte_exact() {
    let t = Secret::new("00D!tok");
    let ctx = CallContext::new(
        &t,
        "00D000000000001",
        "Partner_Def",
        "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11",
    );
    let r = render_interaction(&message("Where is \"my\" order?\n"), "to-1", 7).unwrap();
    let scrt = Url::parse("https://x.example/").unwrap();
    let req = prepare_interaction(&scrt, &r, &ctx, "byoc-b1").unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.uri(), "https://x.example/api/v1/interactions");
    assert_eq!(
        headers(&req),
        expected_headers("multipart/form-data; boundary=byoc-b1", false)
    );
    let expected = concat!(
        "--byoc-b1\r\n",
        "Content-Disposition: form-data; name=\"json\"\r\n",
        "Content-Type: application/json\r\n\r\n",
        r#"{"to":"to-1","from":"15555550123","interactions":[{"interactionType":"EntryInteraction","#,
        r#""timestamp":7,"payload":{"entryType":"Message","id":"e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f","#,
        r#""abstractMessage":{"messageType":"StaticContentMessage","id":"e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f","#,
        r#""staticContent":{"formatType":"Text","text":"Where is \"my\" order?\n"}}}}]}"#,
        "\r\n--byoc-b1--\r\n",
    );
    assert_eq!(String::from_utf8_lossy(req.body()), expected);
}

#[test]
fn a_file_interaction_is_byte_exact() {
    let t = Secret::new("00D!tok");
    let ctx = CallContext::new(
        &t,
        "00D000000000001",
        "Partner_Def",
        "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11",
    );
    let mut r = render_interaction(&message("caption"), "to-1", 7).unwrap();
    r.attachment =
        Some(AttachmentFile::new("ré\"ç\\u\u{7}.png", "image/png", vec![0, 0x89, 13, 10]).unwrap());
    let scrt = Url::parse("https://x.example").unwrap();
    let req = prepare_interaction(&scrt, &r, &ctx, "B").unwrap();
    assert_eq!(req.uri(), "https://x.example/api/v1/interactions");
    assert_eq!(
        headers(&req),
        expected_headers("multipart/form-data; boundary=B", false)
    );
    let mut expected = concat!(
        "--B\r\n",
        "Content-Disposition: form-data; name=\"json\"\r\n",
        "Content-Type: application/json\r\n\r\n",
        r#"{"to":"to-1","from":"15555550123","interactions":[{"interactionType":"EntryInteraction","#,
        r#""timestamp":7,"payload":{"entryType":"Message","id":"e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f","#,
        r#""abstractMessage":{"messageType":"StaticContentMessage","id":"e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f","#,
        r#""staticContent":{"formatType":"Text","text":"caption"}}}}]}"#,
        "\r\n--B\r\n",
        "Content-Disposition: form-data; name=\"attachments\"; filename=\"ré_ç_u_.png\"\r\n",
        "Content-Type: image/png\r\n\r\n",
    )
    .as_bytes()
    .to_vec();
    expected.extend_from_slice(&[0, 0x89, 13, 10]);
    expected.extend_from_slice(b"\r\n--B--\r\n");
    assert_eq!(req.body().as_ref(), expected.as_slice());
}

#[test]
fn a_json_call_is_byte_exact_and_names_a_bad_value() {
    let t = Secret::new("00D!tok");
    let ctx = CallContext::new(
        &t,
        "00D000000000001",
        "Partner_Def",
        "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11",
    );
    let scrt = Url::parse("https://x.example/base/").unwrap();
    let body = serde_json::json!({"a": "b"});
    let req = prepare_json(Endpoint::UpdateAgentWork, &scrt, &body, &ctx).unwrap();
    assert_eq!(req.method(), http::Method::PATCH);
    assert_eq!(req.uri(), "https://x.example/base/api/v1/agentWork");
    assert_eq!(headers(&req), expected_headers("application/json", true));
    assert_eq!(req.body().as_ref(), br#"{"a":"b"}"#);

    for (bad, field) in [
        (CallContext::new(&t, "00D\r1", "Partner_Def", "r"), "org_id"),
        (
            CallContext::new(&t, "00D", "Partner\nDef", "r"),
            "channel.developer_name",
        ),
        (
            CallContext::new(&t, "00D", "Partner_Def", "r\0"),
            "request_id",
        ),
    ] {
        let err = prepare_json(Endpoint::Route, &scrt, &body, &bad).unwrap_err();
        assert!(
            matches!(err, ClientError::Request { endpoint: "POST /route", field: f } if f == field),
            "{err:?}"
        );
    }
    let bad_token = Secret::new("tok\n");
    let err = prepare_json(Endpoint::Route, &scrt, &body, &ctx_with(&bad_token)).unwrap_err();
    assert!(matches!(
        err,
        ClientError::Request {
            field: "access_token",
            ..
        }
    ));
    let r = render_interaction(&message("hi"), "to-1", 7).unwrap();
    let err = prepare_interaction(&scrt, &r, &ctx, "bad\nboundary").unwrap_err();
    assert!(matches!(
        err,
        ClientError::Request {
            endpoint: "POST /interactions",
            field: "content_type"
        }
    ));
}

fn ctx_with(token: &Secret) -> CallContext<'_> {
    CallContext::new(token, "00D", "Partner_Def", "r")
}

#[test]
fn the_bearer_value_is_byoc_http_s() {
    for token in ["00D!tok", "", "a b\tc", "é", "tok\n", "t\0k"] {
        let token = Secret::new(token);
        match (bearer(&token), byoc_http::bearer(&token)) {
            (Ok(ours), Ok(theirs)) => {
                assert_eq!(ours, theirs);
                assert!(ours.is_sensitive() && theirs.is_sensitive());
            }
            (Err(_), Err(_)) => {}
            (ours, theirs) => panic!("{:?}: {ours:?} against {theirs:?}", token.secret()),
        }
    }
}
