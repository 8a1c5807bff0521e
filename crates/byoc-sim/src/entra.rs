//! Entra ID's tenant discovery document, shared by the simulators that stand in for Entra
//! (the Bot Framework token authority and the Messaging API's token endpoint).
//!
//! `GET /{tenant}/v2.0/.well-known/openid-configuration` is what MSAL (Python, Node, .NET)
//! reads before it asks a token endpoint, and it checks the document: msal-common refuses
//! one without `authorization_endpoint`, `token_endpoint`, `issuer` and `jwks_uri`. The
//! document carries every field Entra's does, with the same values, but with this
//! simulator's base URL where Entra names its own host, as a sovereign cloud's login host
//! names itself. Endpoints carry the tenant id (a GUID) even when the request named the
//! tenant by domain, as Entra's do.

use http::HeaderMap;
use serde_json::{Value, json};

/// The Bot Framework tenant's id (`botframework.com`), as Entra writes it in issuers.
pub(crate) const BOT_FRAMEWORK_TENANT_ID: &str = "d6d49420-f39b-4df7-a1dc-d59a935871db";

/// The tenant id a `{tenant}` path segment stands for: `botframework.com` is the Bot
/// Framework tenant, a GUID is itself, and the multi-tenant aliases (`common`,
/// `organizations`, `consumers`) keep Entra's `{tenantid}` placeholder in the issuer.
pub(crate) fn tenant_id(tenant: &str) -> String {
    let lower = tenant.to_ascii_lowercase();
    if lower == "botframework.com" {
        BOT_FRAMEWORK_TENANT_ID.to_owned()
    } else {
        lower
    }
}

/// The base URL a request came through: `X-Forwarded-Proto` / `X-Forwarded-Host` when a
/// front set them, else the `Host` header with this simulator's own scheme, else
/// `own_base`. Clients compare the endpoints of a discovery document with the host they
/// asked, so the document names the host the client used (`localhost` or `127.0.0.1`).
pub(crate) fn request_base(own_base: &str, headers: &HeaderMap) -> String {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let own_scheme = if own_base.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    let proto = value("x-forwarded-proto").filter(|p| matches!(*p, "http" | "https"));
    let host = value("x-forwarded-host").or_else(|| value("host"));
    match host {
        Some(host) => format!("{}://{host}", proto.unwrap_or(own_scheme)),
        None => own_base.to_owned(),
    }
}

/// Entra's v2.0 OpenID configuration of `tenant` served at `base`, field for field.
pub(crate) fn openid_configuration(base: &str, tenant: &str, region_scope: &str) -> Value {
    let tid = tenant_id(tenant);
    let multi_tenant = matches!(tid.as_str(), "common" | "organizations" | "consumers");
    let issuer_tenant = if multi_tenant { "{tenantid}" } else { &tid };
    let at = |path: &str| format!("{base}/{tid}/{path}");
    json!({
        "token_endpoint": at("oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": at("discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": at("oauth2/v2.0/authorize"),
        "device_authorization_endpoint": at("oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": at("oauth2/v2.0/logout"),
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
            "name", "tid", "ver", "at_hash", "c_hash", "email"
        ],
        "kerberos_endpoint": at("kerberos"),
        "tenant_region_scope": if multi_tenant { Value::Null } else { Value::String(region_scope.to_owned()) },
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of Entra's document, in its order.
    const ENTRA_FIELDS: [&str; 23] = [
        "token_endpoint",
        "token_endpoint_auth_methods_supported",
        "jwks_uri",
        "response_modes_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "response_types_supported",
        "scopes_supported",
        "issuer",
        "request_uri_parameter_supported",
        "userinfo_endpoint",
        "authorization_endpoint",
        "device_authorization_endpoint",
        "http_logout_supported",
        "frontchannel_logout_supported",
        "end_session_endpoint",
        "claims_supported",
        "kerberos_endpoint",
        "tenant_region_scope",
        "cloud_instance_name",
        "cloud_graph_host_name",
        "msgraph_host",
        "rbac_url",
    ];

    #[test]
    fn the_document_has_exactly_entras_fields() {
        let doc = openid_configuration("https://127.0.0.1:1", "botframework.com", "WW");
        let mut got: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = ENTRA_FIELDS.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn endpoints_name_the_tenant_id_and_the_serving_host() {
        let doc = openid_configuration("https://127.0.0.1:1", "botframework.com", "WW");
        let tid = BOT_FRAMEWORK_TENANT_ID;
        assert_eq!(
            doc["token_endpoint"],
            format!("https://127.0.0.1:1/{tid}/oauth2/v2.0/token")
        );
        assert_eq!(
            doc["jwks_uri"],
            format!("https://127.0.0.1:1/{tid}/discovery/v2.0/keys")
        );
        assert_eq!(doc["issuer"], format!("https://127.0.0.1:1/{tid}/v2.0"));
        assert_eq!(doc["tenant_region_scope"], "WW");
        let common = openid_configuration("https://h", "common", "WW");
        assert_eq!(common["issuer"], "https://h/{tenantid}/v2.0");
        assert_eq!(
            common["token_endpoint"],
            "https://h/common/oauth2/v2.0/token"
        );
        assert!(common["tenant_region_scope"].is_null());
    }

    #[test]
    fn the_request_base_follows_the_host_the_client_used() {
        let mut h = HeaderMap::new();
        assert_eq!(
            request_base("https://127.0.0.1:9", &h),
            "https://127.0.0.1:9"
        );
        h.insert("host", "localhost:9".parse().unwrap());
        assert_eq!(
            request_base("https://127.0.0.1:9", &h),
            "https://localhost:9"
        );
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        h.insert("x-forwarded-host", "front:443".parse().unwrap());
        assert_eq!(request_base("http://127.0.0.1:9", &h), "https://front:443");
    }
}
