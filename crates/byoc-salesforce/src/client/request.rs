//! Interaction Service calls in pure code: [`Endpoint`] names each call, [`CallContext`]
//! holds its headers, [`prepare_json`] and [`prepare_interaction`] build the request and
//! [`parse_response`] reads the answer. No I/O here; see
//! `docs/protocols/salesforce.md#rest-calls`.

use std::fmt;

use byoc_core::Secret;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::api::ErrorBody;
use crate::config::SalesforceConfig;
use crate::error::ClientError;
use crate::render::RenderedInteraction;

mod json_part;

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

/// `OrgId`, as every header name here in the lowercase the `http` crate keeps (names are
/// case-insensitive on the wire). Named once, not parsed (and allocated) per request.
const ORG_ID: HeaderName = HeaderName::from_static("orgid");
/// `AuthorizationContext`.
const AUTHORIZATION_CONTEXT: HeaderName = HeaderName::from_static("authorizationcontext");
/// `AuthorizationContextType`.
const AUTHORIZATION_CONTEXT_TYPE: HeaderName = HeaderName::from_static("authorizationcontexttype");
/// `RequestId`.
const REQUEST_ID: HeaderName = HeaderName::from_static("requestid");
/// The headers every call carries (`AuthorizationContextType` comes on top for the calls
/// that need it): the map is sized for them, so it never grows.
const HEADERS: usize = 6;

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

/// `Bearer {token}`, marked sensitive: the value [`byoc_http::bearer`] makes, written
/// without going through `format!` (a test compares the two).
fn bearer(token: &Secret) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    const PREFIX: &[u8] = b"Bearer ";
    let token = token.secret().as_bytes();
    let mut value = Vec::with_capacity(PREFIX.len() + token.len());
    value.extend_from_slice(PREFIX);
    value.extend_from_slice(token);
    let mut value = HeaderValue::from_maybe_shared(Bytes::from(value))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The request with its headers. `content_type` is built by the caller (a static value for
/// JSON, the boundary's for multipart) and its error reported after the other headers'.
fn base_request(
    endpoint: Endpoint,
    scrt_url: &Url,
    ctx: &CallContext<'_>,
    content_type: Result<HeaderValue, ClientError>,
    body: Bytes,
) -> Result<http::Request<Bytes>, ClientError> {
    let base = scrt_url.as_str().trim_end_matches('/');
    let path = endpoint.path();
    let mut url = String::with_capacity(base.len() + "/api/v1".len() + path.len());
    url.push_str(base);
    url.push_str("/api/v1");
    url.push_str(path);
    let uri = http::Uri::try_from(url).map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field: "scrt_url",
    })?;
    let auth = bearer(ctx.token).map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field: "access_token",
    })?;
    let context_type = endpoint.authorization_context_type();
    let mut h = HeaderMap::with_capacity(HEADERS + usize::from(context_type.is_some()));
    h.insert(http::header::AUTHORIZATION, auth);
    h.insert(ORG_ID, header(endpoint, "org_id", ctx.org_id)?);
    h.insert(
        AUTHORIZATION_CONTEXT,
        header(
            endpoint,
            "channel.developer_name",
            ctx.authorization_context,
        )?,
    );
    h.insert(REQUEST_ID, header(endpoint, "request_id", ctx.request_id)?);
    if let Some(t) = context_type {
        h.insert(AUTHORIZATION_CONTEXT_TYPE, HeaderValue::from_static(t));
    }
    h.insert(http::header::CONTENT_TYPE, content_type?);
    h.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    let mut req = http::Request::new(body);
    *req.method_mut() = endpoint.method();
    *req.uri_mut() = uri;
    *req.headers_mut() = h;
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
        Ok(HeaderValue::from_static("application/json")),
        Bytes::from(body),
    )
}

/// The headers of the `json` part, after its boundary line.
const JSON_PART_HEADERS: &[u8] =
    b"Content-Disposition: form-data; name=\"json\"\r\nContent-Type: application/json\r\n\r\n";
/// The start of the `attachments` part's headers, after its boundary line.
const FILE_PART_DISPOSITION: &[u8] =
    b"Content-Disposition: form-data; name=\"attachments\"; filename=\"";

/// Builds `POST /api/v1/interactions`: `multipart/form-data` with the `json` part
/// (`application/json`) and at most one `attachments` file part. `boundary` must not occur
/// in the content (a fresh UUID does not).
///
/// The body is written in one buffer sized beforehand: the `json` part written in place
/// (the bytes `serde_json` would write), the file copied once.
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
    let b = boundary.as_bytes();
    let file_size = rendered.attachment.as_ref().map_or(0, |f| {
        b.len() + FILE_PART_DISPOSITION.len() + f.name.len() + f.mime_type.len() + f.data.len() + 32
    });
    let mut body = Vec::with_capacity(
        3 * b.len()
            + JSON_PART_HEADERS.len()
            + json_part::size_hint(&rendered.request)
            + file_size
            + 16,
    );
    boundary_line(&mut body, b);
    body.extend_from_slice(JSON_PART_HEADERS);
    json_part::write(&mut body, &rendered.request).map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field: "json",
    })?;
    body.extend_from_slice(b"\r\n");
    if let Some(file) = &rendered.attachment {
        boundary_line(&mut body, b);
        body.extend_from_slice(FILE_PART_DISPOSITION);
        push_file_name(&mut body, &file.name);
        body.extend_from_slice(b"\"\r\nContent-Type: ");
        body.extend_from_slice(file.mime_type.as_bytes());
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(&file.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(b);
    body.extend_from_slice(b"--\r\n");
    let prefix = "multipart/form-data; boundary=";
    let mut content_type = String::with_capacity(prefix.len() + boundary.len());
    content_type.push_str(prefix);
    content_type.push_str(boundary);
    let content_type = HeaderValue::try_from(content_type).map_err(|_| ClientError::Request {
        endpoint: endpoint.as_str(),
        field: "content_type",
    });
    base_request(endpoint, scrt_url, ctx, content_type, Bytes::from(body))
}

/// `--{boundary}\r\n`.
fn boundary_line(body: &mut Vec<u8>, boundary: &[u8]) {
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary);
    body.extend_from_slice(b"\r\n");
}

/// The file name inside `filename="…"`: quotes, backslashes and control characters become
/// `_`, so the name cannot end the parameter or the header line.
fn push_file_name(body: &mut Vec<u8>, name: &str) {
    let mut buf = [0; 4];
    for c in name.chars() {
        if c == '"' || c == '\\' || c.is_control() {
            body.push(b'_');
        } else {
            body.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
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
