//! The login host's identity endpoints: the OpenID Connect discovery document
//! (`/.well-known/openid-configuration`), its JWKS (`/id/keys`), and the SOAP partner API
//! `login` call (`POST /services/Soap/u/{version}`) that older connectors use to get a
//! session before they query their channel definition.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;
use serde_json::{Value, json};

use super::{Shared, lock};

type S = State<Arc<Shared>>;

/// The `kid` of the login host's published key.
const LOGIN_KEY_ID: &str = "byoc-sim-sf";
/// The id of the simulated integration user.
pub(crate) const USER_ID: &str = "0055g00000Ab1CdEAF";

/// `GET /.well-known/openid-configuration`: the fields Salesforce's document carries, naming
/// this simulator's endpoints (Salesforce names the host that serves it, as here).
pub(crate) async fn openid_configuration(State(sh): S, headers: HeaderMap) -> Response {
    let base = crate::entra::request_base(&sh.instance_url, &headers);
    axum::Json(json!({
        "end_session_endpoint": format!("{base}/services/auth/idp/oidc/logout"),
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": false,
        "issuer": base,
        "authorization_endpoint": format!("{base}/services/oauth2/authorize"),
        "token_endpoint": format!("{base}/services/oauth2/token"),
        "revocation_endpoint": format!("{base}/services/oauth2/revoke"),
        "userinfo_endpoint": format!("{base}/services/oauth2/userinfo"),
        "jwks_uri": format!("{base}/id/keys"),
        "registration_endpoint": format!("{base}/services/oauth2/register"),
        "introspection_endpoint": format!("{base}/services/oauth2/introspect"),
        "scopes_supported": [
            "id", "api", "web", "full", "chatter_api", "visualforce", "refresh_token", "openid",
            "profile", "email", "address", "phone", "offline_access", "custom_permissions",
            "wave_api", "eclair_api", "interaction_api", "lightning", "content", "pardot_api",
            "chatbot_api", "cdp_api"
        ],
        "response_types_supported": ["code", "token", "token id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "display_values_supported": ["page", "popup", "touch"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "private_key_jwt"],
        "claims_supported": [
            "active", "address", "email", "email_verified", "family_name", "given_name",
            "is_app_installed", "language", "locale", "name", "nickname", "organization_id",
            "phone_number", "phone_number_verified", "photos", "picture", "preferred_username",
            "profile", "sub", "updated_at", "urls", "user_id", "user_type", "zoneinfo"
        ],
    }))
    .into_response()
}

/// `GET /id/keys`: the login host's signing key (RS256).
pub(crate) async fn keys() -> Response {
    let key =
        crate::directline::keys::SimKey::from_pem(LOGIN_KEY_ID, crate::directline::keys::KEY_2_PEM);
    match key {
        Ok(key) => {
            let mut jwk = key.jwk(&[]);
            if let Some(o) = jwk.as_object_mut() {
                o.remove("endorsements");
                o.insert("alg".into(), Value::from("RS256"));
            }
            axum::Json(json!({ "keys": [jwk] })).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The `username` and `password` of a partner API `login` envelope, by local element name
/// (clients write the namespace prefixes they like).
fn login_credentials(body: &[u8]) -> Option<(String, String)> {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut in_login = false;
    // The element being read inside `login`, and its text so far (text and entity
    // references arrive as separate events).
    let mut current: Option<(Vec<u8>, String)> = None;
    let (mut username, mut password) = (None, None);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                if name == b"login" {
                    in_login = true;
                } else if in_login {
                    current = Some((name, String::new()));
                }
            }
            Event::Text(t) => {
                if let Some((_, text)) = current.as_mut() {
                    text.push_str(&t.decode().ok()?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, text)) = current.as_mut() {
                    match r.resolve_char_ref().ok()? {
                        Some(c) => text.push(c),
                        None => text.push_str(resolve_predefined_entity(&r.decode().ok()?)?),
                    }
                }
            }
            Event::End(e) => {
                if e.local_name().as_ref() == b"login" {
                    in_login = false;
                }
                match current.take() {
                    Some((name, text)) if name == b"username" => username = Some(text),
                    Some((name, text)) if name == b"password" => password = Some(text),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some((username?, password?))
}

fn soap(status: StatusCode, body: String) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}"),
    )
        .into_response()
}

fn login_fault(code: &str, message: &str) -> Response {
    let message = escape(message);
    soap(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns:sf=\"urn:fault.partner.soap.sforce.com\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body><soapenv:Fault>\
             <faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring><detail>\
             <sf:LoginFault xsi:type=\"sf:LoginFault\"><sf:exceptionCode>{code}</sf:exceptionCode>\
             <sf:exceptionMessage>{message}</sf:exceptionMessage></sf:LoginFault></detail>\
             </soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        ),
    )
}

/// `POST /services/Soap/u/{version}`: the partner API `login`. Answers a `sessionId` (an
/// access token the REST, Interaction Service and Pub/Sub sides accept) and the
/// `serverUrl` of the org, or `INVALID_LOGIN` as a SOAP fault.
pub(crate) async fn soap_login(
    State(sh): S,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("text/xml") {
        return login_fault(
            "INVALID_REQUEST",
            "Content-Type must be text/xml for SOAP 1.1",
        );
    }
    if version.parse::<f32>().is_err() {
        return login_fault(
            "UNSUPPORTED_API_VERSION",
            "Invalid Api version specified on URL",
        );
    }
    let Some((username, password)) = login_credentials(&body) else {
        return login_fault(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
        );
    };
    let known = username.eq_ignore_ascii_case(&sh.cfg.username)
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            password.as_bytes(),
            sh.cfg.password.as_bytes(),
        ));
    if !known {
        return login_fault(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
        );
    }
    let session = sh.issue_token();
    let org = &sh.cfg.org_id;
    let base = &sh.instance_url;
    soap(
        StatusCode::OK,
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns=\"urn:partner.soap.sforce.com\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>\
             <loginResponse><result>\
             <metadataServerUrl>{base}/services/Soap/m/{version}/{org}</metadataServerUrl>\
             <passwordExpired>false</passwordExpired><sandbox>false</sandbox>\
             <serverUrl>{base}/services/Soap/u/{version}/{org}</serverUrl>\
             <sessionId>{session}</sessionId><userId>{USER_ID}</userId>\
             <userInfo><organizationId>{org}</organizationId><userId>{USER_ID}</userId>\
             <userName>{user}</userName><sessionSecondsValid>7200</sessionSecondsValid>\
             </userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>",
            user = escape(&sh.cfg.username),
        ),
    )
}

/// The bearer of a REST call (`Authorization: Bearer` or the older `OAuth` scheme), when it
/// is a live token.
pub(crate) fn session(sh: &Shared, headers: &HeaderMap) -> bool {
    let auth = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("OAuth "));
    token.is_some_and(|t| lock(&sh.tokens).contains_key(t.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_credentials_are_read_whatever_the_prefixes() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">
  <env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">
    <n1:username>a@b.example</n1:username><n1:password>p&amp;w+tok</n1:password>
  </n1:login></env:Body></env:Envelope>"#;
        assert_eq!(
            login_credentials(body),
            Some(("a@b.example".into(), "p&w+tok".into()))
        );
        let bare = b"<Envelope><Body><login><username>u</username><password>p</password></login></Body></Envelope>";
        assert_eq!(login_credentials(bare), Some(("u".into(), "p".into())));
        assert_eq!(
            login_credentials(b"<login><username>u</username></login>"),
            None
        );
        assert_eq!(login_credentials(b"not xml <<<"), None);
    }
}
