//! One authorized call: [`byoc_http::Authorized::send`] with the endpoint's name put on
//! the transport error.

use byoc_core::Secret;
use byoc_http::{Authorized, ClientCredentials, TokenError, TransportError};
use bytes::Bytes;

use crate::error::ClientError;

/// What [`Authorized::send`] can fail with before the endpoint is known.
enum Failure {
    Token(TokenError),
    Transport(TransportError),
    Client(ClientError),
}

impl From<TokenError> for Failure {
    fn from(e: TokenError) -> Self {
        Self::Token(e)
    }
}

impl From<TransportError> for Failure {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

/// Sends the request `build` makes with the current token of `auth`; a `401` fetches a new
/// token and sends once more. Error statuses are returned as responses, for the endpoint's
/// parser.
///
/// # Errors
/// [`ClientError::Token`], [`ClientError::Transport`] naming `endpoint`, or `build`'s error.
pub(crate) async fn call<B>(
    auth: &Authorized<ClientCredentials>,
    endpoint: &'static str,
    build: B,
) -> Result<http::Response<Bytes>, ClientError>
where
    B: Fn(&Secret) -> Result<http::Request<Bytes>, ClientError>,
{
    auth.send(|token| build(token).map_err(Failure::Client))
        .await
        .map_err(|e| match e {
            Failure::Token(t) => ClientError::Token(t),
            Failure::Transport(source) => ClientError::Transport { endpoint, source },
            Failure::Client(c) => c,
        })
}
