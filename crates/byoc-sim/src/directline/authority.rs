//! The token authority: Entra-style client-credentials endpoint issuing RS256 Connector
//! tokens with the tenant's OpenID discovery document MSAL reads first, and the Bot
//! Framework channel OpenID metadata and JWKS (with `endorsements`).

use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::state::{Shared, State, bearer};
use super::{CONNECTOR_AUDIENCE, CONNECTOR_SCOPE, CONNECTOR_TOKEN_ISSUER};

pub(crate) async fn openid(AxState(state): AxState<Shared>) -> Json<Value> {
    State::bump(&state.metadata_fetches);
    Json(json!({
        "issuer": super::CHANNEL_ISSUER,
        "authorization_endpoint": "https://invalid.botframework.com",
        "jwks_uri": format!("{}/v1/.well-known/keys", state.base),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }))
}

/// Entra's OpenID discovery document of a tenant
/// (`GET /{tenant}/v2.0/.well-known/openid-configuration`), which MSAL reads before it asks
/// the token endpoint: every field Entra's carries, naming this authority's endpoints.
pub(crate) async fn tenant_openid(
    AxState(state): AxState<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Json<Value> {
    let base = crate::entra::request_base(&state.base, &headers);
    Json(crate::entra::openid_configuration(&base, &tenant, "WW"))
}

/// The tenant's signing keys (`jwks_uri` of the tenant document): the key that signs
/// Connector tokens.
pub(crate) async fn tenant_jwks(AxState(state): AxState<Shared>) -> Json<Value> {
    let mut key = state.token_key().jwk(&[]);
    if let Some(o) = key.as_object_mut() {
        o.remove("endorsements");
    }
    Json(json!({ "keys": [key] }))
}

pub(crate) async fn jwks(AxState(state): AxState<Shared>) -> Json<Value> {
    State::bump(&state.jwks_fetches);
    let published = state.lock().published_keys.clone();
    let endorsements: Vec<String> = state.opts.endorsements.clone();
    let keys: Vec<Value> = published
        .iter()
        .filter_map(|i| state.keys.get(*i))
        .map(|k| k.jwk(&endorsements))
        .collect();
    Json(json!({ "keys": keys }))
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

pub(crate) async fn token(
    AxState(state): AxState<Shared>,
    Path(_tenant): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    State::bump(&state.token_requests);
    if form.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let (Some(id), Some(secret)) = (form.client_id, form.client_secret) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing client credentials",
        );
    };
    let known = id == state.opts.bot_app_id
        && super::ct_eq(secret.as_bytes(), state.opts.bot_app_password.as_bytes());
    if !known {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "invalid client secret",
        );
    }
    if form.scope.as_deref() != Some(CONNECTOR_SCOPE) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "unknown scope");
    }
    let now = chrono::Utc::now().timestamp();
    let ttl = i64::try_from(state.opts.connector_token_ttl.as_secs()).unwrap_or(3600);
    let claims = json!({
        "aud": CONNECTOR_AUDIENCE, "iss": CONNECTOR_TOKEN_ISSUER, "iat": now, "nbf": now,
        "exp": now + ttl, "appid": id, "ver": "1.0", "jti": uuid::Uuid::new_v4().to_string(),
    });
    let token = state.token_key().sign("RS256", &claims);
    Json(json!({ "token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": token }))
        .into_response()
}

/// Checks a Connector call's bearer: signed by the authority, `aud` is the Bot Framework
/// API, unexpired, and `appid` is the registered bot.
pub(crate) fn authorize_connector(state: &State, headers: &HeaderMap) -> Result<String, Response> {
    let denied = || {
        super::state::error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Authorization has been denied for this request.",
        )
    };
    let token = bearer(headers).ok_or_else(denied)?;
    let claims = state.token_key().verify_rs256(token).ok_or_else(denied)?;
    let now = chrono::Utc::now().timestamp();
    if claims["aud"] != CONNECTOR_AUDIENCE
        || claims["iss"] != CONNECTOR_TOKEN_ISSUER
        || claims["exp"].as_i64().is_none_or(|e| e <= now)
    {
        return Err(denied());
    }
    match claims["appid"].as_str() {
        Some(app) if app == state.opts.bot_app_id => Ok(app.to_owned()),
        _ => Err(denied()),
    }
}
