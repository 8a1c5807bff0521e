//! # byoc-http
//!
//! The HTTP layer every byoc adapter shares, so that transport, tokens and keys behave the
//! same for TeleSign, the Bot Framework, the Messaging API and Salesforce:
//!
//! - [`HttpTransport`]: one trait over `http::Request<Bytes>` / `http::Response<Bytes>` with
//!   one typed [`TransportError`]. Adapters build requests and parse answers in pure code
//!   and only hand bytes to the transport. Closures are transports, so a test can assert a
//!   request inline.
//! - [`ReqwestTransport`] (feature `reqwest`, on by default): rustls, redirects never
//!   followed, a timeout, a response size cap, and extra root CAs ([`RootCa`]) for private
//!   deployments and the simulators' TLS endpoints.
//! - [`TokenCache`], [`TokenSource`] and [`Authorized`]: a token refreshed before it expires
//!   with one refresh in flight, and "re-authenticate once when the provider rejects the
//!   token". [`ClientCredentials`] is the Entra ID client-credentials grant the Bot
//!   Framework and Dynamics 365 use.
//! - [`KeyCache`] and [`KeySet`]: JWT signing keys behind an OpenID metadata document or a
//!   JWKS URL, on `jsonwebtoken` (the one crypto stack for every JWT in byoc), with the
//!   rate-limited refetch on an unknown key id.
//! - [`retry_after`] and [`error_code`]: reading `Retry-After` and a provider's error code
//!   from an answer without ever keeping its text.
//!
//! ## Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//! use byoc_http::{Authorized, ClientCredentials, HttpTransport, ReqwestTransport, DEFAULT_REFRESH_MARGIN};
//! use byoc_core::Secret;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport: Arc<dyn HttpTransport> = Arc::new(ReqwestTransport::new()?);
//! let grant = ClientCredentials::new(
//!     "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token".parse()?,
//!     "app-id",
//!     Secret::new("app-password"),
//!     "https://api.botframework.com/.default",
//! );
//! let api = Authorized::new(transport, grant, DEFAULT_REFRESH_MARGIN);
//! let response = api
//!     .send::<byoc_core::AdapterError, _>(|token| {
//!         Ok(http::Request::get("https://smba.trafficmanager.net/teams/v3/conversations")
//!             .header(http::header::AUTHORIZATION, byoc_http::bearer(token)?)
//!             .body(bytes::Bytes::new())
//!             .map_err(|_| byoc_core::AdapterError::configuration("bad URL"))?)
//!     })
//!     .await?;
//! println!("{}", response.status());
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `reqwest` | yes | [`ReqwestTransport`] |
//!
//! Without `reqwest` the crate has no HTTP client: bring a transport (hyper, a test
//! closure, a Lambda's client).
//!
//! ## Security
//!
//! - Redirects are never followed, so a bearer token or signature never reaches a host the
//!   request was not built for.
//! - Errors never carry a URL's query, a header value or a body: [`TransportError`] says only
//!   its kind, and reqwest's own error is stripped of its URL. [`error_code`] keeps a
//!   provider's error code only when it is an identifier, never free text.
//! - Tokens and client secrets are [`byoc_core::Secret`]s (redacted `Debug`); bearer header
//!   values are marked sensitive. A rejected token is compared in constant time.
//! - Responses are capped ([`DEFAULT_MAX_RESPONSE_BYTES`]) and so are key documents.
//! - Signing keys come from the issuer's documents only; an unknown key id refetches them
//!   at most once per interval ([`DEFAULT_UNKNOWN_KID_INTERVAL`]).
//!
//! ## Why these crates
//!
//! reqwest is the field's client (rustls, pooling, HTTP/2); jsonwebtoken the maintained JWT
//! crate (the `rust_crypto` backend, no C). The token cache and the key cache are small
//! enough, and specific enough (refresh margin, rejection rule, Bot Framework
//! endorsements), that the generic caches (`moka`, `cached`) would add a dependency and
//! still need the single-flight and rate-limit logic written here.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod error;
mod jwks;
mod oauth;
#[cfg(feature = "reqwest")]
mod reqwest_transport;
mod retry_after;
mod tls;
mod token;
mod transport;

pub use error::{TokenError, error_code};
pub use jwks::{
    DEFAULT_KEYS_MAX_AGE, DEFAULT_UNKNOWN_KID_INTERVAL, Jwk, KeyCache, KeySet, KeySource, KeysError,
};
pub use oauth::{ClientCredentials, entra_token_url, parse_token_response};
#[cfg(feature = "reqwest")]
pub use reqwest_transport::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, ReqwestTransport,
    ReqwestTransportBuilder, TransportBuildError,
};
pub use retry_after::retry_after;
pub use tls::RootCa;
pub use token::{
    AccessToken, Authorized, DEFAULT_REFRESH_MARGIN, RejectionCheck, TokenCache, TokenSource,
    bearer, is_unauthorized,
};
pub use transport::{HttpTransport, TransportError, TransportErrorKind, TransportFuture};

/// Re-exported so adapters and their users name one `jsonwebtoken`.
pub use jsonwebtoken;

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<crate::TransportError>();
        send_sync::<crate::TokenCache>();
        send_sync::<crate::KeyCache>();
        send_sync::<crate::Authorized<crate::ClientCredentials>>();
        send_sync::<std::sync::Arc<dyn crate::HttpTransport>>();
        #[cfg(feature = "reqwest")]
        send_sync::<crate::ReqwestTransport>();
    }
}
