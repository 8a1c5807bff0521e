use super::*;

#[test]
fn verify_errors_answer_401_except_key_outage() {
    for e in [
        VerifyError::MissingAuthorization,
        VerifyError::NotBearer,
        VerifyError::MalformedToken("header"),
        VerifyError::DisallowedAlgorithm("none".into()),
        VerifyError::UnknownKey,
        VerifyError::BadSignature,
        VerifyError::WrongIssuer,
        VerifyError::WrongAudience,
        VerifyError::Expired,
        VerifyError::NotYetValid,
        VerifyError::MissingEndorsement,
        VerifyError::ServiceUrlMismatch,
    ] {
        let code = e.code();
        let a: AdapterError = e.into();
        assert_eq!(a.http_status(), 401, "{code}");
        assert_eq!(a.code(), Some(code));
    }
    let a: AdapterError = VerifyError::KeysUnavailable("down".into()).into();
    assert!(a.is_retryable());
    let a: AdapterError = VerifyError::MalformedBody("line 1 column 1".into()).into();
    assert_eq!(a.http_status(), 400);
}

fn status(status: u16, code: Option<&str>, retry_after: Option<u64>) -> ClientError {
    ClientError::Status {
        endpoint: "v3/conversations/{id}/activities",
        status,
        code: code.map(str::to_owned),
        retry_after: retry_after.map(Duration::from_secs),
    }
}

#[test]
fn client_errors_map_to_kinds() {
    let e = status(429, None, Some(3));
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    let a: AdapterError = e.into();
    assert_eq!(a.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(a.http_status(), 429);

    let a: AdapterError = status(503, None, None).into();
    assert!(a.is_retryable());
    let a: AdapterError = status(504, Some("GatewayTimeout"), None).into();
    assert!(a.is_retryable());
    assert_eq!(a.code(), Some("GatewayTimeout"));

    let e = status(400, Some("BadArgument"), None);
    assert!(!e.is_retryable());
    let a: AdapterError = e.into();
    assert!(!a.is_retryable());
    assert_eq!(a.code(), Some("BadArgument"));

    let e = status(403, None, None);
    assert!(e.is_unauthorized());
    assert!(AdapterError::from(e).is_unauthorized());

    let a: AdapterError = ClientError::ConversationEnded.into();
    assert!(!a.is_retryable());
    assert_eq!(a.code(), Some("ConversationEnded"));
    let a: AdapterError = ClientError::BotRejectedActivity.into();
    assert!(!a.is_retryable());
    assert_eq!(a.code(), Some("BotRejectedActivity"));
    assert!(ClientError::TokenExpired.is_unauthorized());
    let a: AdapterError = ClientError::TokenExpired.into();
    assert!(a.is_unauthorized());
    assert_eq!(a.code(), Some("TokenExpired"));
}

#[test]
fn request_faults_name_their_field() {
    for (e, field) in [
        (ClientError::MissingField("serviceUrl"), "serviceUrl"),
        (ClientError::UntrustedServiceUrl, "serviceUrl"),
        (ClientError::InvalidUrl("serviceUrl"), "serviceUrl"),
        (ClientError::NotStarted, "conversationId"),
        (
            ClientError::Render(RenderError::TooLarge {
                size: 300_000,
                limit: 262_144,
            }),
            "activity",
        ),
    ] {
        let a = AdapterError::from(e);
        assert_eq!(a.field(), Some(field), "{a}");
        assert!(!a.is_retryable());
    }
}

#[test]
fn token_and_transport_failures_keep_their_meaning() {
    let refused = ClientError::Token(TokenError::Refused {
        status: 401,
        code: Some("invalid_client".into()),
        retry_after: None,
    });
    assert!(refused.is_unauthorized());
    assert!(!refused.is_retryable());
    let a = AdapterError::from(refused);
    assert!(a.is_unauthorized());
    assert_eq!(a.code(), Some("invalid_client"));

    let throttled = ClientError::Token(TokenError::Refused {
        status: 429,
        code: None,
        retry_after: Some(Duration::from_secs(9)),
    });
    assert!(throttled.is_retryable());
    assert_eq!(throttled.retry_after(), Some(Duration::from_secs(9)));

    let down = ClientError::Transport {
        endpoint: "tokens/refresh",
        source: TransportError::from_kind(byoc_http::TransportErrorKind::Connect),
    };
    assert!(down.is_retryable());
    assert!(AdapterError::from(down).is_retryable());
    let too_big = ClientError::Transport {
        endpoint: "conversations/{id}/activities",
        source: TransportError::from_kind(byoc_http::TransportErrorKind::BodyTooLarge),
    };
    assert!(!too_big.is_retryable());
}

#[test]
fn normalize_errors_name_the_field_or_the_position() {
    let e = NormalizeError::Missing {
        field: "activities",
    };
    assert_eq!(AdapterError::from(e).field(), Some("activities"));
    let e = NormalizeError::NotJson {
        expected: "an ActivitySet",
        line: 1,
        column: 7,
    };
    assert_eq!(e.field(), None);
    let a = AdapterError::from(e);
    assert_eq!(a.http_status(), 400);
    assert!(a.to_string().contains("column 7"), "{a}");
}

#[test]
fn config_errors_name_the_setting() {
    let e = ConfigError::invalid("base_url", "must be an http or https URL");
    assert_eq!(e.to_string(), "`base_url` must be an http or https URL");
    let a = AdapterError::from(e);
    assert!(!a.is_retryable());
}
