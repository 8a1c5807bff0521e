//! The answers a bot decides (`docs/protocols/bot-framework.md#invoke-and-expectreplies`):
//! an `invoke` waits for the bot's [`InvokeResponse`], an activity sent with
//! `deliveryMode: expectReplies` for the replies themselves.

use byoc_core::Activity;
use byoc_core::activity::{ActivityType, DeliveryMode};
use bytes::Bytes;

/// What the channel waits for in the HTTP answer to an activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpectedAnswer {
    /// Nothing: `200` with an empty body; replies go through the Connector.
    Empty,
    /// An `invoke`: the bot's [`InvokeResponse`].
    Invoke,
    /// `deliveryMode: expectReplies`: the bot's replies in the body ([`expected_replies`])
    /// instead of through the Connector.
    ExpectReplies,
}

impl ExpectedAnswer {
    /// The answer `activity` waits for (`expectReplies` wins over `invoke`, as in
    /// botbuilder, which then puts the invoke response among the replies).
    #[must_use]
    pub fn of(activity: &Activity) -> Self {
        if activity.delivery_mode == Some(DeliveryMode::ExpectReplies) {
            Self::ExpectReplies
        } else if activity.kind == ActivityType::Invoke {
            Self::Invoke
        } else {
            Self::Empty
        }
    }

    /// The answer when the host supplies none: `200` empty, `501 Not Implemented` for an
    /// invoke, `200 {"activities":[]}` for expectReplies.
    #[must_use]
    pub fn default_response(self) -> http::Response<Bytes> {
        match self {
            Self::Empty => status_only(http::StatusCode::OK),
            Self::Invoke => status_only(http::StatusCode::NOT_IMPLEMENTED),
            Self::ExpectReplies => json_response(
                http::StatusCode::OK,
                Bytes::from_static(br#"{"activities":[]}"#),
            ),
        }
    }
}

fn status_only(status: http::StatusCode) -> http::Response<Bytes> {
    let mut r = http::Response::new(Bytes::new());
    *r.status_mut() = status;
    r
}

fn json_response(status: http::StatusCode, body: Bytes) -> http::Response<Bytes> {
    let mut r = http::Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// Bot Framework's `InvokeResponse`: the status and body a bot answers an `invoke` with
/// (an adaptive card action, a Teams task module, a sign-in verification, ...).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct InvokeResponse {
    /// The HTTP status (`200` when handled).
    pub status: http::StatusCode,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
}

impl InvokeResponse {
    /// An answer with `status` and no body.
    #[must_use]
    pub fn new(status: http::StatusCode) -> Self {
        Self { status, body: None }
    }

    /// `200` with `body`.
    #[must_use]
    pub fn ok(body: serde_json::Value) -> Self {
        Self::new(http::StatusCode::OK).with_body(body)
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The HTTP answer: the status, and the body as JSON when there is one.
    #[must_use]
    pub fn to_response(&self) -> http::Response<Bytes> {
        match &self.body {
            Some(b) => json_response(self.status, Bytes::from(b.to_string())),
            None => status_only(self.status),
        }
    }
}

/// The answer to an `expectReplies` activity: `200` with `{"activities":[...]}`
/// (botbuilder's `ExpectedReplies`), the replies in order.
///
/// # Errors
/// If an activity cannot be serialized.
pub fn expected_replies(
    activities: &[Activity],
) -> Result<http::Response<Bytes>, serde_json::Error> {
    let body = serde_json::to_vec(&serde_json::json!({ "activities": activities }))?;
    Ok(json_response(http::StatusCode::OK, Bytes::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_replies_wins_over_invoke() {
        let mut a = Activity::new(ActivityType::Invoke);
        assert_eq!(ExpectedAnswer::of(&a), ExpectedAnswer::Invoke);
        a.delivery_mode = Some(DeliveryMode::ExpectReplies);
        assert_eq!(ExpectedAnswer::of(&a), ExpectedAnswer::ExpectReplies);
        assert_eq!(
            ExpectedAnswer::of(&Activity::message("hi")),
            ExpectedAnswer::Empty
        );
    }

    #[test]
    fn placeholder_answers_until_the_host_decides() {
        assert_eq!(ExpectedAnswer::Empty.default_response().status(), 200);
        assert_eq!(ExpectedAnswer::Invoke.default_response().status(), 501);
        let r = ExpectedAnswer::ExpectReplies.default_response();
        assert_eq!(r.body(), &Bytes::from_static(br#"{"activities":[]}"#));
        let r = InvokeResponse::ok(serde_json::json!({"a": 1})).to_response();
        assert_eq!(
            r.headers()[http::header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        assert_eq!(r.body(), &Bytes::from_static(br#"{"a":1}"#));
    }
}
