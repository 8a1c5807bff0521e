use super::*;

#[test]
fn conversions_pick_the_right_kind() {
    let e: AdapterError = VerifyError::Expired.into();
    assert!(e.is_unauthorized());
    let e: AdapterError = VerifyError::KeysUnavailable.into();
    assert!(e.is_retryable());
    let e: AdapterError = RenderError::new(Limit::Text, "text", 6001).into();
    assert_eq!(e.field(), Some("text"));
    assert!(e.to_string().contains("6000"));
    let e: AdapterError = ClientError::Status {
        endpoint: "send",
        status: 429,
        code: None,
        retry_after: Some(Duration::from_secs(3)),
    }
    .into();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    let e: AdapterError = ClientError::Status {
        endpoint: "send",
        status: 404,
        code: Some("NotFound".into()),
        retry_after: None,
    }
    .into();
    assert!(!e.is_retryable());
    assert_eq!(e.code(), Some("NotFound"));
    let e: AdapterError = ClientError::Status {
        endpoint: "send",
        status: 503,
        code: None,
        retry_after: None,
    }
    .into();
    assert!(e.is_retryable());
    let e: AdapterError = NormalizeError::ConversationMismatch.into();
    assert_eq!(e.field(), Some("conversation.id"));
    let e: AdapterError = ConfigError::InvalidGuid { field: "tenant_id" }.into();
    assert!(e.to_string().contains("tenant_id"));
}

#[test]
fn token_failures_keep_their_status_and_retry_rule() {
    let refused = |status| {
        ClientError::Token(TokenError::Refused {
            status,
            code: Some("invalid_client".into()),
            retry_after: Some(Duration::from_secs(2)),
        })
    };
    let e = refused(401);
    assert_eq!(e.status(), Some(401));
    assert!(!e.is_retryable());
    let a: AdapterError = e.into();
    assert!(a.is_unauthorized());
    assert_eq!(a.code(), Some("invalid_client"));
    let e = refused(503);
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    assert!(AdapterError::from(e).is_retryable());
    let e = ClientError::Transport {
        endpoint: "send",
        source: TransportError::from_kind(byoc_http::TransportErrorKind::BodyTooLarge),
    };
    assert!(!e.is_retryable());
    assert!(!AdapterError::from(e).is_retryable());
}
