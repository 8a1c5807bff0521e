//! Receiving as a `Stream` of activities (`docs/protocols/bot-framework.md#watermarks-and-streams`):
//! the WebSocket `streamUrl` (one socket per conversation, a fresh URL from `GET /conversations/{id}?watermark=` before each
//! connection, empty frames as keep-alives, reconnect after a jittered backoff), with
//! polling as the fallback: after 3 sockets in a row fail to open, or at once when the
//! service closes the socket with reason `collision` (another socket was opened for the
//! same conversation; reconnecting would close that one in turn, and the two would take
//! the conversation from each other forever, so this stream yields the socket and polls).
//! While a stream lives, the token is refreshed in the background
//! ([`DirectLineClient::keep_token_fresh`]). Activities carrying Omnichannel bot commands
//! arrive as their byoc events ([`crate::translate_commands`]).
//!
//! The socket (feature `reqwest`, tokio-tungstenite over rustls) trusts the web PKI roots
//! and the configuration's root CAs, and reads messages up to the configuration's response
//! size limit.

#[cfg(feature = "reqwest")]
mod socket;
#[cfg(feature = "reqwest")]
mod tls;

#[cfg(feature = "reqwest")]
use socket::run_ws;
#[cfg(feature = "reqwest")]
pub(crate) use tls::tls_config;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use byoc_core::Activity;
use futures_util::Stream;
use tokio::sync::mpsc;

use crate::client::{DirectLineClient, TokenRefresher};
use crate::command::BotCommand;
use crate::error::ClientError;

/// Activities from the bot (and the echoes of the client's own), in order, without
/// duplicates. Ends after [`ClientError::ConversationEnded`] or refused credentials.
/// Dropping it stops the work.
#[derive(Debug)]
pub struct ActivityStream {
    rx: mpsc::Receiver<Result<Activity, ClientError>>,
    task: tokio::task::JoinHandle<()>,
    _refresher: TokenRefresher,
}

impl Stream for ActivityStream {
    type Item = Result<Activity, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for ActivityStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) type Tx = mpsc::Sender<Result<Activity, ClientError>>;

impl DirectLineClient {
    /// Streams over the WebSocket, falling back to polling after repeated socket failures
    /// or a `collision` close.
    #[must_use]
    pub fn stream(self: &Arc<Self>) -> ActivityStream {
        let (tx, rx) = mpsc::channel(64);
        let client = Arc::clone(self);
        let task = tokio::spawn(async move { run_ws(client, tx).await });
        ActivityStream {
            rx,
            task,
            _refresher: self.keep_token_fresh(),
        }
    }

    /// Streams by polling `GET /activities` every `poll_interval`.
    #[must_use]
    pub fn poll(self: &Arc<Self>) -> ActivityStream {
        let (tx, rx) = mpsc::channel(64);
        let client = Arc::clone(self);
        let task = tokio::spawn(async move { run_poll(client, tx).await });
        ActivityStream {
            rx,
            task,
            _refresher: self.keep_token_fresh(),
        }
    }
}

/// Sends `activities` down the stream, each Omnichannel command as its byoc event; false
/// when the stream was dropped.
pub(crate) async fn forward(activities: Vec<Activity>, tx: &Tx) -> bool {
    for a in activities {
        let a = match BotCommand::parse(&a) {
            Ok(Some(cmd)) => cmd.to_event(&a).unwrap_or(a),
            _ => a,
        };
        if tx.send(Ok(a)).await.is_err() {
            return false;
        }
    }
    true
}

/// Ends the stream with `e` when waiting cannot help (ended conversation, refused
/// credentials); otherwise waits (the service's `Retry-After` when it gave one) and says to
/// go on.
pub(crate) async fn fail_or_wait(e: ClientError, tx: &Tx, default_wait: Duration) -> bool {
    if matches!(e, ClientError::ConversationEnded) || e.is_unauthorized() {
        let _ = tx.send(Err(e)).await;
        return false;
    }
    tracing::debug!(error = %e, "direct line receive failed; retrying");
    tokio::time::sleep(e.retry_after().unwrap_or(default_wait)).await;
    true
}

#[cfg(not(feature = "reqwest"))]
async fn run_ws(client: Arc<DirectLineClient>, tx: Tx) {
    run_poll(client, tx).await;
}

pub(crate) async fn run_poll(client: Arc<DirectLineClient>, tx: Tx) {
    let every = client.config.poll_interval();
    loop {
        match client.get_activities().await {
            Ok(activities) => {
                if !forward(activities, &tx).await {
                    return;
                }
                tokio::time::sleep(every).await;
            }
            Err(e) => {
                if !fail_or_wait(e, &tx, every).await {
                    return;
                }
            }
        }
        if tx.is_closed() {
            return;
        }
    }
}
