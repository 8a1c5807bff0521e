//! Interaction Service calls in pure code: [`Endpoint`] names each call, [`CallContext`]
//! holds its headers, [`prepare_json`] and [`prepare_interaction`] build the request and
//! [`parse_response`] reads the answer. No I/O here; see
//! `docs/protocols/salesforce.md#rest-calls`.

use std::fmt;

use byoc_core::Secret;
use bytes::Bytes;
use http::{HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::api::ErrorBody;
use crate::config::SalesforceConfig;
use crate::error::ClientError;
use crate::render::RenderedInteraction;

/// One Interaction Service call: its method and path under `/api/v1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /interactions` (multipart).
    Interactions,
    /// `POST /acknowledgement`.
    Acknowledgement,
    /// `POST /conversation`.
    Conversation,
    /// `POST /messagingSession`.
    MessagingSession,
    /// `POST /participant`.
    Participant,
    /// `PATCH /consent`.
    Consent,
    /// `PATCH /capabilities`.
    Capabilities,
    /// `POST /route`.
    Route,
    /// `DELETE /route` (with a JSON body).
    CancelRoute,
    /// `POST /agentWork`.
    AgentWork,
    /// `PATCH /agentWork` (sends `AuthorizationContextType`).
    UpdateAgentWork,
    /// `POST /routingResult`.
    RoutingResult,
}

impl Endpoint {
    /// The method and path, as in `POST /interactions`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interactions => "POST /interactions",
            Self::Acknowledgement => "POST /acknowledgement",
            Self::Conversation => "POST /conversation",
            Self::MessagingSession => "POST /messagingSession",
            Self::Participant => "POST /participant",
            Self::Consent => "PATCH /consent",
            Self::Capabilities => "PATCH /capabilities",
            Self::Route => "POST /route",
            Self::CancelRoute => "DELETE /route",
            Self::AgentWork => "POST /agentWork",
            Self::UpdateAgentWork => "PATCH /agentWork",
            Self::RoutingResult => "POST /routingResult",
        }
    }

    /// The HTTP method.
    #[must_use]
    pub fn method(self) -> Method {
        match self {
            Self::Consent | Self::Capabilities | Self::UpdateAgentWork => Method::PATCH,
            Self::CancelRoute => Method::DELETE,
            _ => Method::POST,
        }
    }

    /// The path under `/api/v1`.
    #[must_use]
    pub fn path(self) -> &'static str {
        let s = self.as_str();
        s.find(' ').map_or(s, |i| &s[i + 1..])
    }

    /// The `AuthorizationContextType` the call requires, if any.
    #[must_use]
    pub fn authorization_context_type(self) -> Option<&'static str> {
        (self == Self::UpdateAgentWork).then_some("ConversationChannelDefinition")
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The headers of one call: the bearer token, `OrgId`, `AuthorizationContext` (the channel
/// definition's developer name) and `RequestId` (a fresh UUID per request):
///
/// ```
/// use byoc_core::{Activity, ChannelAccount, Secret};
/// use byoc_salesforce::{CallContext, prepare_interaction, render_interaction};
///
/// let mut hello = Activity::message("Where is my order?");
/// hello.from = Some(ChannelAccount::new("15555550123"));
/// let rendered = render_interaction(&hello, "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e", 1_714_668_069_301)?;
/// let token = Secret::new("00D5g000004Zx1A!token");
/// let ctx = CallContext::new(&token, "00D5g000004Zx1A", "Partner_ChannelDefinition",
///                            "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11");
/// let scrt = url::Url::parse("https://mydomain.my.salesforce-scrt.com")?;
/// let request = prepare_interaction(&scrt, &rendered, &ctx, "byoc-boundary")?;
/// assert_eq!(request.uri().path(), "/api/v1/interactions");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CallContext<'a> {
    token: &'a Secret,
    org_id: &'a str,
    authorization_context: &'a str,
    request_id: &'a str,
}

impl<'a> CallContext<'a> {
    /// The headers of a call: bearer `token`, `OrgId`, `AuthorizationContext` and
    /// `RequestId`.
    #[must_use]
    pub fn new(
        token: &'a Secret,
        org_id: &'a str,
        authorization_context: &'a str,
        request_id: &'a str,
    ) -> Self {
        Self {
            token,
            org_id,
            authorization_context,
            request_id,
        }
    }

    /// The headers of a call for `config`'s org and channel definition.
    #[must_use]
    pub fn for_config(
        config: &'a SalesforceConfig,
        token: &'a Secret,
        request_id: &'a str,
    ) -> Self {
        Self::new(
            token,
            config.org_id(),
            config.channel().developer_name(),
            request_id,
        )
    }
}

fn header(
    endpoint: Endpoint,
    field: &'static str,
    value: &str,
) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(value).map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field,
    })
}

fn base_request(
    endpoint: Endpoint,
    scrt_url: &Url,
    ctx: &CallContext<'_>,
    content_type: &str,
    body: Bytes,
) -> Result<http::Request<Bytes>, ClientError> {
    let url = format!(
        "{}/api/v1{}",
        scrt_url.as_str().trim_end_matches('/'),
        endpoint.path()
    );
    let mut req = http::Request::new(body);
    *req.method_mut() = endpoint.method();
    *req.uri_mut() = url.parse().map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field: "scrt_url",
    })?;
    let h = req.headers_mut();
    let auth = byoc_http::bearer(ctx.token).map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field: "access_token",
    })?;
    h.insert(http::header::AUTHORIZATION, auth);
    h.insert("OrgId", header(endpoint, "org_id", ctx.org_id)?);
    h.insert(
        "AuthorizationContext",
        header(
            endpoint,
            "channel.developer_name",
            ctx.authorization_context,
        )?,
    );
    h.insert("RequestId", header(endpoint, "request_id", ctx.request_id)?);
    if let Some(t) = endpoint.authorization_context_type() {
        h.insert("AuthorizationContextType", HeaderValue::from_static(t));
    }
    h.insert(
        http::header::CONTENT_TYPE,
        header(endpoint, "content_type", content_type)?,
    );
    h.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    Ok(req)
}

/// Builds a JSON call to `{scrt_url}/api/v1{path}` (a body on `DELETE` too).
///
/// # Errors
/// [`ClientError::Request`] for a value that cannot go into the request.
pub fn prepare_json<T: Serialize + ?Sized>(
    endpoint: Endpoint,
    scrt_url: &Url,
    body: &T,
    ctx: &CallContext<'_>,
) -> Result<http::Request<Bytes>, ClientError> {
    let body = serde_json::to_vec(body).map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field: "body",
    })?;
    base_request(
        endpoint,
        scrt_url,
        ctx,
        "application/json",
        Bytes::from(body),
    )
}

/// Builds `POST /api/v1/interactions`: `multipart/form-data` with the `json` part
/// (`application/json`) and at most one `attachments` file part. `boundary` must not occur
/// in the content (a fresh UUID does not).
///
/// # Errors
/// [`ClientError::Request`] for a value that cannot go into the request.
pub fn prepare_interaction(
    scrt_url: &Url,
    rendered: &RenderedInteraction,
    ctx: &CallContext<'_>,
    boundary: &str,
) -> Result<http::Request<Bytes>, ClientError> {
    let endpoint = Endpoint::Interactions;
    let json = serde_json::to_vec(&rendered.request).map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field: "json",
    })?;
    let file_len = rendered.attachment.as_ref().map_or(0, |f| f.data.len());
    let mut body = Vec::with_capacity(json.len() + file_len + 320);
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(b"Content-Disposition: form-data; name=\"json\"\r\n");
    body.extend_from_slice(b"Content-Type: application/json\r\n\r\n");
    body.extend_from_slice(&json);
    body.extend_from_slice(b"\r\n");
    if let Some(file) = &rendered.attachment {
        let name: String = file
            .name
            .chars()
            .map(|c| {
                if c == '"' || c == '\\' || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"attachments\"; filename=\"{name}\"\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(format!("Content-Type: {}\r\n\r\n", file.mime_type).as_bytes());
        body.extend_from_slice(&file.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    base_request(
        endpoint,
        scrt_url,
        ctx,
        &format!("multipart/form-data; boundary={boundary}"),
        Bytes::from(body),
    )
}

/// Reads an answer of `endpoint`: a 2xx body as `T` (an empty body as `{}`); an error status
/// as [`ClientError::Status`] with the service's code and `Retry-After`, or
/// [`ClientError::RateLimited`] for a 429 or an answer saying the rate limit is exceeded.
/// The service's message is never kept.
///
/// # Errors
/// [`ClientError`] for a failed call or a 2xx body that is not `T`.
pub fn parse_response<T: DeserializeOwned>(
    endpoint: Endpoint,
    resp: &http::Response<Bytes>,
) -> Result<T, ClientError> {
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        let body: &[u8] = if resp.body().is_empty() {
            b"{}"
        } else {
            resp.body()
        };
        return serde_json::from_slice(body).map_err(|_| ClientError::Decode {
            endpoint: endpoint.as_str(),
            field: "$",
        });
    }
    let code = byoc_http::error_code(resp.body());
    let retry_after = byoc_http::retry_after(resp.headers(), chrono::Utc::now());
    let says_rate_limit = serde_json::from_slice::<ErrorBody>(resp.body())
        .ok()
        .and_then(|b| b.message)
        .is_some_and(|m| m.to_ascii_lowercase().contains("rate limit"));
    if status == 429 || says_rate_limit {
        return Err(ClientError::RateLimited {
            endpoint: endpoint.as_str(),
            status,
            code,
            retry_after,
        });
    }
    Err(ClientError::Status {
        endpoint: endpoint.as_str(),
        status,
        code,
        retry_after,
    })
}

#[cfg(test)]
mod tests;
