//! The discovery documents each simulator serves, compared field by field with the real
//! services' (Entra's tenant OpenID configuration, the Bot Framework channel OpenID
//! metadata, Salesforce's login host OpenID configuration), and followed as a client
//! library follows them: over TLS, trusting only the simulator's CA.

use byoc_sim::directline::{self, DirectLineSim};
use byoc_sim::messaging_api::{self, MessagingApiSim};
use byoc_sim::salesforce::{SalesforceSim, SimConfig};
use byoc_sim::tls::LocalCa;
use serde_json::Value;

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

fn client(ca: &LocalCa) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap()
}

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    r.json().await.unwrap()
}

fn keys_of(doc: &Value) -> Vec<String> {
    let mut keys: Vec<String> = doc.as_object().unwrap().keys().cloned().collect();
    keys.sort_unstable();
    keys
}

fn sorted(fields: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    v.sort_unstable();
    v
}

/// What msal-common checks before it uses a tenant document, and what Entra's carries.
fn assert_entra_document(doc: &Value, base: &str, tenant_id: &str) {
    assert_eq!(keys_of(doc), sorted(&ENTRA_FIELDS), "{doc:#}");
    let at = |p: &str| format!("{base}/{tenant_id}/{p}");
    assert_eq!(doc["token_endpoint"], at("oauth2/v2.0/token"));
    assert_eq!(doc["authorization_endpoint"], at("oauth2/v2.0/authorize"));
    assert_eq!(
        doc["device_authorization_endpoint"],
        at("oauth2/v2.0/devicecode")
    );
    assert_eq!(doc["end_session_endpoint"], at("oauth2/v2.0/logout"));
    assert_eq!(doc["kerberos_endpoint"], at("kerberos"));
    assert_eq!(doc["jwks_uri"], at("discovery/v2.0/keys"));
    assert_eq!(doc["issuer"], format!("{base}/{tenant_id}/v2.0"));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic"
        ])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        doc["response_types_supported"],
        serde_json::json!(["code", "id_token", "code id_token", "id_token token"])
    );
    assert_eq!(
        doc["response_modes_supported"],
        serde_json::json!(["query", "fragment", "form_post"])
    );
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["pairwise"])
    );
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!(["openid", "profile", "email", "offline_access"])
    );
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(doc["http_logout_supported"], true);
    assert_eq!(doc["frontchannel_logout_supported"], true);
    assert_eq!(doc["cloud_instance_name"], "microsoftonline.com");
    assert_eq!(doc["cloud_graph_host_name"], "graph.windows.net");
    assert_eq!(doc["msgraph_host"], "graph.microsoft.com");
    assert_eq!(doc["rbac_url"], "https://pas.windows.net");
    assert_eq!(
        doc["userinfo_endpoint"],
        "https://graph.microsoft.com/oidc/userinfo"
    );
    assert!(doc["tenant_region_scope"].is_string());
    assert!(
        doc["claims_supported"]
            .as_array()
            .is_some_and(|c| c.len() == 19)
    );
}

/// The `kid` in a compact JWS's header.
fn kid(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_bot_framework_authority_serves_entras_tenant_document_and_its_keys() {
    let ca = LocalCa::generate().unwrap();
    let sim = DirectLineSim::start(directline::Options::default().with_tls(ca.clone()))
        .await
        .unwrap();
    let http = client(&ca);
    let doc = get_json(
        &http,
        &format!(
            "{}/botframework.com/v2.0/.well-known/openid-configuration",
            sim.url()
        ),
    )
    .await;
    assert_entra_document(&doc, sim.url(), "d6d49420-f39b-4df7-a1dc-d59a935871db");
    // The token endpoint the document names issues tokens signed by a key of `jwks_uri`.
    let token: Value = http
        .post(doc["token_endpoint"].as_str().unwrap())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", directline::DEFAULT_BOT_APP_ID),
            ("client_secret", directline::DEFAULT_BOT_APP_PASSWORD),
            ("scope", directline::CONNECTOR_SCOPE),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let keys = get_json(&http, doc["jwks_uri"].as_str().unwrap()).await;
    let kids: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(kids.contains(&kid(access).as_str()), "{kids:?}");
    for k in keys["keys"].as_array().unwrap() {
        assert_eq!(
            (k["kty"].as_str(), k["use"].as_str()),
            (Some("RSA"), Some("sig"))
        );
        assert!(k["n"].is_string() && k["e"].is_string(), "{k}");
    }
}

#[tokio::test]
async fn the_bot_framework_channel_metadata_is_the_services_document() {
    let ca = LocalCa::generate().unwrap();
    let sim = DirectLineSim::start(directline::Options::default().with_tls(ca.clone()))
        .await
        .unwrap();
    let http = client(&ca);
    let doc = get_json(&http, &sim.openid_metadata_url()).await;
    assert_eq!(
        keys_of(&doc),
        sorted(&[
            "issuer",
            "authorization_endpoint",
            "jwks_uri",
            "id_token_signing_alg_values_supported",
            "token_endpoint_auth_methods_supported",
        ])
    );
    assert_eq!(doc["issuer"], "https://api.botframework.com");
    assert_eq!(
        doc["authorization_endpoint"],
        "https://invalid.botframework.com"
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{}/v1/.well-known/keys", sim.url())
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["private_key_jwt"])
    );
    let keys = get_json(&http, doc["jwks_uri"].as_str().unwrap()).await;
    let first = &keys["keys"][0];
    assert!(
        first["endorsements"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{first}"
    );
}

#[tokio::test]
async fn the_messaging_api_authority_serves_entras_tenant_document() {
    let ca = LocalCa::generate().unwrap();
    let sim = MessagingApiSim::start(messaging_api::Options::default().with_tls(ca.clone()))
        .await
        .unwrap();
    let http = client(&ca);
    let tenant = sim.options().tenant_id.clone();
    let doc = get_json(
        &http,
        &format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            sim.url()
        ),
    )
    .await;
    assert_entra_document(&doc, sim.url(), &tenant);
    let keys = get_json(&http, doc["jwks_uri"].as_str().unwrap()).await;
    assert!(!keys["keys"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_salesforce_login_host_serves_its_openid_configuration() {
    let ca = LocalCa::generate().unwrap();
    let sim = SalesforceSim::start(SimConfig::default().with_tls(ca.clone()))
        .await
        .unwrap();
    let http = client(&ca);
    let doc = get_json(
        &http,
        &format!("{}/.well-known/openid-configuration", sim.url()),
    )
    .await;
    let base = sim.url();
    assert_eq!(
        keys_of(&doc),
        sorted(&[
            "end_session_endpoint",
            "frontchannel_logout_supported",
            "frontchannel_logout_session_supported",
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "registration_endpoint",
            "introspection_endpoint",
            "scopes_supported",
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
            "display_values_supported",
            "token_endpoint_auth_methods_supported",
            "claims_supported",
        ])
    );
    assert_eq!(doc["issuer"], base);
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/services/oauth2/token")
    );
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/services/oauth2/authorize")
    );
    assert_eq!(
        doc["revocation_endpoint"],
        format!("{base}/services/oauth2/revoke")
    );
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{base}/services/oauth2/userinfo")
    );
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{base}/services/oauth2/introspect")
    );
    assert_eq!(
        doc["registration_endpoint"],
        format!("{base}/services/oauth2/register")
    );
    assert_eq!(
        doc["end_session_endpoint"],
        format!("{base}/services/auth/idp/oidc/logout")
    );
    assert_eq!(doc["jwks_uri"], format!("{base}/id/keys"));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["response_types_supported"],
        serde_json::json!(["code", "token", "token id_token"])
    );
    let methods = doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(
        methods.contains(&Value::from("private_key_jwt")),
        "{methods:?}"
    );
    let scopes = doc["scopes_supported"].as_array().unwrap();
    for scope in [
        "api",
        "refresh_token",
        "openid",
        "interaction_api",
        "offline_access",
    ] {
        assert!(
            scopes.contains(&Value::from(scope)),
            "{scope} in {scopes:?}"
        );
    }
    let keys = get_json(&http, doc["jwks_uri"].as_str().unwrap()).await;
    let key = &keys["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
}
