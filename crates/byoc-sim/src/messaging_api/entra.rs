//! The Entra-like side: client-credentials token endpoint, JWKS, and the bearer check of
//! the simulator's own APIs.

// Handlers return ready axum responses as their error values.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::Inner;
use super::api::err;
use super::keys;

type Shared = Arc<Inner>;

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

pub(super) async fn token(
    AxState(inner): AxState<Shared>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    inner.lock().token_requests += 1;
    let o = &inner.opts;
    let entra = |status: StatusCode, error: &str| {
        (
            status,
            axum::Json(json!({ "error": error, "error_description": error })),
        )
            .into_response()
    };
    if !tenant.eq_ignore_ascii_case(&o.tenant_id) {
        return entra(StatusCode::BAD_REQUEST, "invalid_tenant");
    }
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(&body) else {
        return entra(StatusCode::BAD_REQUEST, "invalid_request");
    };
    if form.grant_type.as_deref() != Some("client_credentials") {
        return entra(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let id_ok = form
        .client_id
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case(&o.client_id));
    let secret_ok = form.client_secret.as_deref().is_some_and(|s| {
        subtle::ConstantTimeEq::ct_eq(s.as_bytes(), o.client_secret.as_bytes()).into()
    });
    if !id_ok || !secret_ok {
        return entra(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let scope = form.scope.unwrap_or_default();
    if scope != inner.messaging_scope() && scope != inner.dataverse_scope() {
        return entra(StatusCode::BAD_REQUEST, "invalid_scope");
    }
    let lifetime = o.token_lifetime;
    let access = inner.lock().issue_token(scope, lifetime);
    axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        "ext_expires_in": lifetime.as_secs(),
        "access_token": access,
    }))
    .into_response()
}

/// Entra's tenant discovery document, for the configured tenant only (Entra answers an
/// unknown tenant `400`).
pub(super) async fn openid_configuration(
    AxState(inner): AxState<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !tenant.eq_ignore_ascii_case(&inner.opts.tenant_id) {
        return err(StatusCode::BAD_REQUEST, "invalid_tenant", "unknown tenant");
    }
    let base = crate::entra::request_base(inner.base_url(), &headers);
    axum::Json(crate::entra::openid_configuration(&base, &tenant, "EU")).into_response()
}

pub(super) async fn jwks(AxState(inner): AxState<Shared>, Path(tenant): Path<String>) -> Response {
    if !tenant.eq_ignore_ascii_case(&inner.opts.tenant_id) {
        return err(StatusCode::BAD_REQUEST, "invalid_tenant", "unknown tenant");
    }
    axum::Json(keys::jwks()).into_response()
}

/// Checks the bearer token: issued here, unexpired, for `scope`.
pub(super) fn authorize(inner: &Inner, headers: &HeaderMap, scope: &str) -> Result<(), Response> {
    let unauthorized = || {
        err(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "invalid or missing token",
        )
    };
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let st = inner.lock();
    let t = st.tokens.get(token).ok_or_else(unauthorized)?;
    if tokio::time::Instant::now() >= t.expires || t.scope != scope {
        return Err(unauthorized());
    }
    Ok(())
}
