use super::*;

fn status(status: u16, code: Option<i64>) -> ClientError {
    ClientError::Status {
        endpoint: "POST /interactions",
        status,
        code: code.map(|c| c.to_string()),
        retry_after: Some(Duration::from_secs(2)),
    }
}

#[test]
fn service_codes_map_to_kinds() {
    let table: &[(u16, Option<i64>, bool, &str)] = &[
        (401, Some(10004), false, "unauthorized"),
        (403, Some(10003), false, "unauthorized"),
        (400, Some(10019), true, "transient"),
        (409, Some(10055), true, "transient"),
        (409, Some(10056), true, "transient"),
        (504, Some(10094), true, "transient"),
        (500, Some(20004), true, "transient"),
        (503, None, true, "transient"),
        (400, Some(10045), false, "bad"),
        (400, Some(10017), false, "bad"),
        (422, Some(15103), false, "permanent"),
    ];
    for (http, code, retry, kind) in table {
        let client = status(*http, *code);
        assert_eq!(client.is_retryable(), *retry, "{http} {code:?}");
        let e = AdapterError::from(client);
        assert_eq!(e.is_retryable(), *retry, "{http} {code:?}");
        let ok = match *kind {
            "unauthorized" => matches!(e, AdapterError::Unauthorized { .. }),
            "transient" => matches!(e, AdapterError::Transient { .. }),
            "bad" => matches!(e, AdapterError::BadRequest { .. }),
            _ => matches!(e, AdapterError::Permanent { .. }),
        };
        assert!(ok, "{http} {code:?} -> {e:?}");
        let expect = code.map_or_else(|| http.to_string(), |c| c.to_string());
        assert_eq!(e.code(), Some(expect.as_str()));
    }
}

#[test]
fn rate_limits_keep_retry_after_and_the_code() {
    let e = AdapterError::from(ClientError::RateLimited {
        endpoint: "POST /interactions",
        status: 429,
        code: None,
        retry_after: Some(Duration::from_secs(2)),
    });
    assert!(matches!(e, AdapterError::RateLimited { .. }));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(e.code(), Some("429"));
}

#[test]
fn messages_describe_known_codes_in_our_words() {
    let e = status(400, Some(15112));
    let text = e.to_string();
    assert!(
        text.contains("POST /interactions answered HTTP 400 with code 15112"),
        "{text}"
    );
    assert!(text.contains("not associated"), "{text}");
    assert_eq!(e.code(), Some("15112"));
    assert_eq!(e.status(), Some(400));
    assert_eq!(
        status(400, Some(12345)).to_string(),
        "POST /interactions answered HTTP 400 with code 12345"
    );
}

#[test]
fn other_errors_convert() {
    let e: AdapterError = ConfigError::PrivateKey.into();
    assert!(matches!(e, AdapterError::Configuration { .. }));
    let e: AdapterError = ClientError::Token(TokenError::Refused {
        status: 400,
        code: Some("invalid_grant".into()),
        retry_after: None,
    })
    .into();
    assert!(e.is_unauthorized());
    assert_eq!(e.code(), Some("invalid_grant"));
    let unavailable = ClientError::Token(TokenError::Refused {
        status: 503,
        code: None,
        retry_after: None,
    });
    assert!(unavailable.is_retryable());
    assert!(AdapterError::from(unavailable).is_retryable());
    let e: AdapterError = ClientError::Invalid {
        field: "acknowledgements",
        reason: "between 1 and 25 per call",
    }
    .into();
    assert_eq!(e.field(), Some("acknowledgements"));
    let e: AdapterError = NormalizeError::MissingField("payload.identifier").into();
    assert_eq!(e.field(), Some("payload.identifier"));
    let e: AdapterError = RenderError::Unsupported("invoke".into()).into();
    assert!(matches!(e, AdapterError::Unsupported { .. }));
    let e: AdapterError = VerifyError::WrongSecret.into();
    assert!(e.is_unauthorized());
    let e: AdapterError = TransferError::DeadlineExceeded {
        stage: TransferStage::AgentWorkRequested,
        agent_work_id: None,
        reported: true,
    }
    .into();
    assert!(!e.is_retryable());
    assert_eq!(e.code(), Some("transfer_deadline"));
    assert!(e.to_string().contains("POST /agentWork unanswered"), "{e}");
    let e: AdapterError = TransferError::MissingField {
        field: "channelData.eventId",
        reason: "missing",
    }
    .into();
    assert_eq!(e.field(), Some("channelData.eventId"));
    let e: AdapterError = TransferError::Call(status(503, None)).into();
    assert!(e.is_retryable());
    let e: AdapterError =
        PubSubError::status("Subscribe", &tonic::Status::unauthenticated("expired")).into();
    assert!(e.is_unauthorized());
    let e: AdapterError =
        PubSubError::status("Subscribe", &tonic::Status::unavailable("gone")).into();
    assert!(e.is_retryable());
}

#[test]
fn transport_failures_keep_their_kind() {
    let e = ClientError::Transport {
        endpoint: "POST /route",
        source: TransportError::from_kind(byoc_http::TransportErrorKind::Timeout),
    };
    assert!(e.is_retryable());
    assert_eq!(e.to_string(), "POST /route: request timed out");
    let e: AdapterError = ClientError::Transport {
        endpoint: "POST /route",
        source: TransportError::from_kind(byoc_http::TransportErrorKind::BodyTooLarge),
    }
    .into();
    assert!(!e.is_retryable());
}
