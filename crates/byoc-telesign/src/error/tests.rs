use super::*;

fn api(status: u16, code: Option<i64>) -> AdapterError {
    ClientError::Status {
        endpoint: "POST /v1/messaging",
        status,
        code: code.map(|c| c.to_string()),
        description: Some("d".into()),
        retry_after: Some(Duration::from_secs(4)),
    }
    .into()
}

#[test]
fn telesign_answers_map_to_adapter_error_kinds() {
    let e = api(429, Some(10019));
    assert!(matches!(e, AdapterError::RateLimited { .. }));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
    assert_eq!(e.code(), Some("10019"));
    assert!(matches!(
        api(429, Some(10020)),
        AdapterError::RateLimited { .. }
    ));
    assert!(matches!(api(429, None), AdapterError::RateLimited { .. }));
    assert!(api(401, Some(10008)).is_unauthorized());
    assert!(api(401, Some(10002)).is_unauthorized());
    assert!(api(200, Some(10015)).is_unauthorized());
    assert!(api(400, Some(-30006)).is_unauthorized());
    let e = api(400, Some(11000));
    assert_eq!(e.field(), Some("phone_number"));
    assert_eq!(api(400, Some(12009)).field(), Some("message"));
    assert_eq!(api(400, Some(11013)).field(), Some("sender_id"));
    let e = api(503, None);
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
    assert!(api(500, None).is_retryable());
    assert!(matches!(
        api(404, Some(10017)),
        AdapterError::Permanent {
            status: Some(404),
            ..
        }
    ));
    assert!(matches!(
        api(402, Some(10030)),
        AdapterError::Permanent {
            status: Some(402),
            ..
        }
    ));
    assert!(!api(400, Some(10032)).is_retryable());
    assert!(matches!(api(400, None), AdapterError::BadRequest { .. }));
}

#[test]
fn transport_and_decode_failures_map_by_retryability() {
    use byoc_http::TransportErrorKind;
    let transport = |kind| -> AdapterError {
        ClientError::Transport {
            endpoint: "POST /v1/messaging",
            source: TransportError::from_kind(kind),
        }
        .into()
    };
    assert!(transport(TransportErrorKind::Timeout).is_retryable());
    assert!(transport(TransportErrorKind::Connect).is_retryable());
    assert!(!transport(TransportErrorKind::BodyTooLarge).is_retryable());
    let decode: AdapterError = ClientError::Decode {
        endpoint: "POST /v1/messaging",
        field: "body",
    }
    .into();
    assert!(!decode.is_retryable(), "a resend could duplicate the SMS");
}

#[test]
fn messages_name_the_endpoint_and_code() {
    let e = ClientError::Status {
        endpoint: "POST /v1/messaging",
        status: 401,
        code: Some("10008".into()),
        description: Some("Invalid Signature.".into()),
        retry_after: None,
    };
    assert_eq!(
        e.to_string(),
        "TeleSign POST /v1/messaging answered HTTP 401 (code 10008: Invalid Signature.)"
    );
    assert_eq!((e.telesign_code(), e.status()), (Some(10008), Some(401)));
    let e = ClientError::Status {
        endpoint: "GET /v1/messaging/{reference_id}",
        status: 503,
        code: None,
        description: None,
        retry_after: None,
    };
    assert_eq!(
        e.to_string(),
        "TeleSign GET /v1/messaging/{reference_id} answered HTTP 503"
    );
}

#[test]
fn verify_errors_are_unauthorized() {
    for e in [
        VerifyError::MissingSignature,
        VerifyError::MalformedHeader {
            header: "authorization",
        },
        VerifyError::CustomerIdMismatch {
            header: "authorization",
        },
        VerifyError::InvalidSignature,
        VerifyError::BodyTooLarge { limit: 1 },
    ] {
        let a: AdapterError = e.into();
        assert_eq!(a.http_status(), 401);
    }
}

#[test]
fn render_errors_name_the_field() {
    let a: AdapterError = RenderError::InvalidPhoneNumber {
        field: "recipient.id",
    }
    .into();
    assert_eq!(a.field(), Some("recipient.id"));
    let a: AdapterError = RenderError::TextTooLong {
        chars: 2000,
        max: 1600,
    }
    .into();
    assert_eq!(a.field(), Some("text"));
    let a: AdapterError = RenderError::UnsupportedActivity {
        kind: "typing".into(),
    }
    .into();
    assert!(matches!(a, AdapterError::Unsupported { .. }));
}
