//! The SOAP login and the REST query endpoint, driven over HTTP in process.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::json;
use std::sync::Arc;

use super::*;

fn login_envelope(username: &str, password: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>{username}</n1:username><n1:password>{password}</n1:password></n1:login></env:Body></env:Envelope>"#
    )
}

async fn raw(sh: &Arc<Shared>, req: Request<Body>) -> (StatusCode, String) {
    use tower::ServiceExt as _;
    let resp = rest::router(sh.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}

fn login(body: String) -> Request<Body> {
    Request::post("/services/Soap/u/62.0")
        .header("content-type", "text/xml; charset=UTF-8")
        .header("soapaction", "login")
        .body(Body::from(body))
        .unwrap()
}

fn query(q: &str, session: Option<&str>) -> Request<Body> {
    let q = percent_encode(q);
    let mut b = Request::get(format!("/services/data/v62.0/query?q={q}"));
    if let Some(s) = session {
        b = b.header("authorization", format!("Bearer {s}"));
    }
    b.body(Body::empty()).unwrap()
}

fn percent_encode(q: &str) -> String {
    serde_urlencoded::to_string([("q", q)]).unwrap()[2..].to_owned()
}

#[tokio::test]
async fn soap_login_answers_a_session_the_query_endpoint_accepts() {
    let sh = shared(SimConfig::default());
    let (status, body) = raw(&sh, login(login_envelope(TEST_USERNAME, TEST_PASSWORD))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = between(&body, "<sessionId>", "</sessionId>")
        .unwrap()
        .to_owned();
    let server = between(&body, "<serverUrl>", "</serverUrl>").unwrap();
    assert_eq!(server, format!("{URL}/services/Soap/u/62.0/{TEST_ORG_ID}"));
    assert!(session.starts_with(&format!("{TEST_ORG_ID}!")), "{session}");
    let q = format!(
        "SELECT Id, DeveloperName, RoutingOwner, ConsentOwner, ConversationVendorInfoId, CustomPlatformEvent, \
         CustomEventTypeField, CustomEventPayloadField, NamespacePrefix, ConversationVendorInfo.VendorType \
         FROM ConversationChannelDefinition WHERE DeveloperName = '{TEST_AUTHORIZATION_CONTEXT}'"
    );
    let (status, v) = call(&sh, query(&q, Some(&session))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["totalSize"], 1);
    assert_eq!(v["records"][0]["CustomPlatformEvent"], TEST_PLATFORM_EVENT);
    assert_eq!(
        v["records"][0]["ConversationVendorInfo"]["VendorType"],
        "BringYourOwnContactCenter"
    );
    // The health check: the messaging channel, then its contact center channels.
    let q = format!(
        "SELECT Id FROM MessagingChannel WHERE ChannelAddressIdentifier = '{TEST_CHANNEL_ADDRESS}' AND MessageType = 'Custom'"
    );
    let (_, v) = call(&sh, query(&q, Some(&session))).await;
    let channel = v["records"][0]["Id"].as_str().unwrap().to_owned();
    let q = format!(
        "SELECT COUNT(Id) totalCount FROM ContactCenterChannel WHERE ChannelId = '{channel}'"
    );
    let (_, v) = call(&sh, query(&q, Some(&session))).await;
    assert_eq!(v["records"][0]["totalCount"], 1);
    // The same session works on the Interaction Service.
    let c = Call::json(
        &sh,
        &session,
        "PATCH",
        "/api/v1/consent",
        &json!({"consentStatus": "OptedOut"}),
    );
    assert_eq!(call(&sh, c.request()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn soap_login_refuses_a_wrong_password_with_invalid_login() {
    let sh = shared(SimConfig::default());
    let (status, body) = raw(&sh, login(login_envelope(TEST_USERNAME, "wrong"))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        between(&body, "<faultcode>", "</faultcode>"),
        Some("sf:INVALID_LOGIN")
    );
    assert!(
        !body.contains("wrong"),
        "the fault does not echo the password"
    );
}

#[tokio::test]
async fn queries_need_a_session_and_a_known_shape() {
    let sh = shared(SimConfig::default());
    let (status, v) = call(&sh, query("SELECT Id FROM MessagingChannel", None)).await;
    assert_eq!(
        (status, v[0]["errorCode"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_SESSION_ID"))
    );
    let t = token(&sh).await;
    for (q, code) in [
        ("SELECT Id FROM Account", "INVALID_TYPE"),
        ("SELECT Secret FROM MessagingChannel", "INVALID_FIELD"),
        ("DELETE FROM MessagingChannel", "MALFORMED_QUERY"),
    ] {
        let (status, v) = call(&sh, query(q, Some(&t))).await;
        assert_eq!(
            (status, v[0]["errorCode"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{q}"
        );
        assert!(v[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}
