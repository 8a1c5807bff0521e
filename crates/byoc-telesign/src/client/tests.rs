use std::time::Duration;

use byoc_core::Secret;
use byoc_http::{TransportError, TransportErrorKind, TransportFuture};
use http::Response;

use super::*;
use crate::codes::DeliveryState;
use crate::render::PhoneNumber;

const K1: &str =
    "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";
const CID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2016-12-14T18:20:12Z")
        .unwrap()
        .to_utc()
}

fn config() -> TelesignConfig {
    TelesignConfig::new(CID, Secret::new(K1)).unwrap()
}

fn unreachable_transport() -> Arc<dyn HttpTransport> {
    Arc::new(|_req: Request<Bytes>| -> TransportFuture {
        Box::pin(async { Err(TransportError::from_kind(TransportErrorKind::Connect)) })
    })
}

fn client(auth: AuthScheme) -> TelesignClient {
    TelesignClient::with_transport(config().with_auth(auth), unreachable_transport()).unwrap()
}

fn send() -> SendRequest {
    SendRequest::new(
        PhoneNumber::parse("15555555555", "p").unwrap(),
        "Hello world",
    )
}

#[test]
fn prepared_requests_carry_the_known_answer_signatures() {
    let nonce = "A1592C6F-E384-4CDB-BC42-C3AB970369E9";
    let req = client(AuthScheme::TsaDate)
        .prepare_send(&send(), now(), nonce)
        .unwrap();
    assert_eq!(req.method(), Method::POST);
    assert_eq!(req.uri(), "https://rest-api.telesign.com/v1/messaging");
    let h = req.headers();
    assert_eq!(
        h["authorization"],
        format!("TSA {CID}:9IpITGrUZRLogL8GEe311Ovxv3gIipQvv7AJkD4PF8c=").as_str()
    );
    assert!(h["authorization"].is_sensitive());
    assert_eq!(h["date"], "Wed, 14 Dec 2016 18:20:12 GMT");
    assert_eq!(h["x-ts-nonce"], nonce);
    assert_eq!(h["x-ts-auth-method"], "HMAC-SHA256");
    assert_eq!(h["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(
        &req.body()[..],
        b"phone_number=15555555555&message=Hello+world&message_type=ARN"
    );

    let req = client(AuthScheme::TsaXTsDate)
        .prepare_send(&send(), now(), nonce)
        .unwrap();
    assert_eq!(
        req.headers()["authorization"],
        format!("TSA {CID}:pFCuLD2MHfmIpT7xhKTmcu+hDASF4y2ahEwRAwGbCVk=").as_str()
    );
    assert_eq!(req.headers()["x-ts-date"], "Wed, 14 Dec 2016 18:20:12 GMT");
    assert!(req.headers().get("date").is_none());

    let req = client(AuthScheme::TsaDate)
        .prepare_status("0123456789ABCDEF0123456789ABCDEF", now(), nonce)
        .unwrap();
    assert_eq!(req.method(), Method::GET);
    assert!(req.headers().get("content-type").is_none());
    assert_eq!(
        req.headers()["authorization"],
        format!("TSA {CID}:ikIWVlV72ievEZcZbfwa9fDem81hquaV7VlxItRjGrc=").as_str()
    );

    let req = client(AuthScheme::Basic)
        .prepare_send(&send(), now(), nonce)
        .unwrap();
    assert!(
        req.headers()["authorization"]
            .to_str()
            .unwrap()
            .starts_with("Basic RkZG")
    );
    assert_eq!(req.headers()["x-ts-auth-method"], "Basic");
}

#[test]
fn reference_ids_are_checked_before_building_a_request() {
    let c = client(AuthScheme::TsaDate);
    for bad in ["", "../x", "a b", &"A".repeat(65)] {
        assert!(
            matches!(
                c.prepare_status(bad, now(), "n"),
                Err(ClientError::Render(_))
            ),
            "{bad}"
        );
    }
}

fn resp(status: u16, body: &str, retry_after: Option<&str>) -> Response<Bytes> {
    let mut b = Response::builder().status(status);
    if let Some(r) = retry_after {
        b = b.header("retry-after", r);
    }
    b.body(Bytes::from(body.to_owned())).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../tests/fixtures/telesign/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn success_answers_parse_whatever_their_2xx_status_and_code_types() {
    let r =
        parse_send_response(&resp(200, &fixture("send-response-290.json"), None), now()).unwrap();
    assert_eq!(
        r.reference_id.as_deref(),
        Some("B60E4C92A18D0F3357E2A4C1D9F08E12")
    );
    assert_eq!(r.status.code, Some(290));
    assert_eq!(r.state(), DeliveryState::Pending);
    let r = parse_send_response(
        &resp(201, &fixture("send-response-290-with-extras.json"), None),
        now(),
    )
    .unwrap();
    assert_eq!(
        (r.http_status, r.message_parts_count, r.external_id),
        (201, Some(1), None)
    );
    let r = parse_status_response(
        &resp(200, r#"{"reference_id":"A","status":{"code":"200"}}"#, None),
        now(),
    )
    .unwrap();
    assert_eq!(r.state(), DeliveryState::Delivered);
}

/// The `Status` fields of an error, or a panic naming what came instead.
fn status_of(e: ClientError) -> (u16, Option<i64>, Option<String>, Option<Duration>) {
    match e {
        ClientError::Status {
            status,
            ref description,
            retry_after,
            ..
        } => (status, e.telesign_code(), description.clone(), retry_after),
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_answers_keep_status_code_and_retry_after() {
    let e = parse_send_response(
        &resp(401, &fixture("error-10008-invalid-signature.json"), None),
        now(),
    )
    .unwrap_err();
    assert_eq!(
        status_of(e),
        (401, Some(10008), Some("Invalid Signature.".into()), None)
    );
    let e = parse_send_response(
        &resp(400, &fixture("error-11000-invalid-phone-number.json"), None),
        now(),
    )
    .unwrap_err();
    assert_eq!(
        (e.telesign_code(), e.field()),
        (Some(11000), Some("phone_number"))
    );
    // errors[0] wins over status, and an error code in a 2xx is an error.
    let body =
        r#"{"status":{"code":290},"errors":[{"code":"11009","description":"Invalid message"}]}"#;
    let e = parse_send_response(&resp(200, body, None), now()).unwrap_err();
    assert_eq!(status_of(e).0, 200);
    // 429 with Retry-After, non-JSON 503.
    let body = r#"{"status":{"code":10019,"description":"Rate Limit Exceeded"}}"#;
    let e = parse_send_response(&resp(429, body, Some("7")), now()).unwrap_err();
    assert_eq!(status_of(e).3, Some(Duration::from_secs(7)));
    let e = parse_status_response(&resp(503, "<html>down</html>", None), now()).unwrap_err();
    assert!(matches!(
        e,
        ClientError::Status {
            endpoint: ENDPOINT_STATUS,
            status: 503,
            code: None,
            ..
        }
    ));
    // A 2xx that is not TeleSign's JSON: a decoding error that never quotes the body.
    let e = parse_send_response(&resp(200, "<html>", None), now()).unwrap_err();
    assert!(matches!(
        e,
        ClientError::Decode {
            endpoint: ENDPOINT_SEND,
            field: "body"
        }
    ));
    assert!(!e.to_string().contains("html"));
    let e = parse_send_response(&resp(200, r#"{"reference_id":17}"#, None), now()).unwrap_err();
    assert!(matches!(
        e,
        ClientError::Decode {
            field: "reference_id",
            ..
        }
    ));
}

#[tokio::test]
async fn closure_transports_see_the_request_and_their_failures_name_the_call() {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let s2 = seen.clone();
    let transport = move |req: Request<Bytes>| -> TransportFuture {
        *s2.lock().unwrap() = Some(req.uri().to_string());
        Box::pin(async {
            Ok(Response::builder()
                .status(200)
                .body(Bytes::from_static(br#"{"reference_id":"R1","status":{"code":290,"description":"Message in progress"}}"#))
                .unwrap())
        })
    };
    let c = TelesignClient::with_transport(config(), Arc::new(transport)).unwrap();
    let r = c.send(&send()).await.unwrap();
    assert_eq!(r.reference_id.as_deref(), Some("R1"));
    assert_eq!(
        seen.lock().unwrap().as_deref(),
        Some("https://rest-api.telesign.com/v1/messaging")
    );
    let e = client(AuthScheme::TsaDate).send(&send()).await.unwrap_err();
    assert!(matches!(
        e,
        ClientError::Transport {
            endpoint: ENDPOINT_SEND,
            ..
        }
    ));
    let e = client(AuthScheme::TsaDate).status("ABC").await.unwrap_err();
    assert!(matches!(
        e,
        ClientError::Transport {
            endpoint: ENDPOINT_STATUS,
            ..
        }
    ));
}
