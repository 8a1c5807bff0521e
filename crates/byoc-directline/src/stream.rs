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
mod tls;

#[cfg(feature = "reqwest")]
pub(crate) use tls::tls_config;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use byoc_core::Activity;
use futures_util::Stream;
use tokio::sync::mpsc;

use crate::client::{DirectLineClient, TokenRefresher, jitter};
use crate::command::BotCommand;
use crate::error::ClientError;
use crate::normalize::{ActivitySet, parse_activity_set};

/// Consecutive WebSocket failures after which the stream falls back to polling.
const WS_FAILURES_BEFORE_POLLING: u32 = 3;
/// The close reason of a socket replaced by a newer one for the same conversation.
#[cfg(feature = "reqwest")]
const COLLISION: &str = "collision";

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

type Tx = mpsc::Sender<Result<Activity, ClientError>>;

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

    async fn deliver(&self, set: ActivitySet, tx: &Tx) -> bool {
        let fresh = {
            let mut s = self.session.lock().await;
            s.set_watermark(set.watermark);
            s.dedupe(set.activities)
        };
        forward(fresh, tx).await
    }
}

/// Sends `activities` down the stream, each Omnichannel command as its byoc event; false
/// when the stream was dropped.
async fn forward(activities: Vec<Activity>, tx: &Tx) -> bool {
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
async fn fail_or_wait(e: ClientError, tx: &Tx, default_wait: Duration) -> bool {
    if matches!(e, ClientError::ConversationEnded) || e.is_unauthorized() {
        let _ = tx.send(Err(e)).await;
        return false;
    }
    tracing::debug!(error = %e, "direct line receive failed; retrying");
    tokio::time::sleep(e.retry_after().unwrap_or(default_wait)).await;
    true
}

#[cfg(feature = "reqwest")]
async fn run_ws(client: Arc<DirectLineClient>, tx: Tx) {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

    let (min, max) = client.config.reconnect_backoff();
    let limit = client.config.max_response_bytes();
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let mut failures = 0u32;
    'sockets: loop {
        // A streamUrl is single-use and valid 60 s: take the one from start, else get a new one.
        let url = client.session.lock().await.stream_url.take();
        let url = match url {
            Some(u) => u,
            None => match client.reconnect().await {
                Ok(_) => match client.session.lock().await.stream_url.take() {
                    Some(u) => u,
                    None => break, // the service offers no stream: poll instead
                },
                Err(e) => {
                    if !fail_or_wait(e, &tx, jitter(min, max)).await {
                        return;
                    }
                    failures += 1;
                    if failures >= WS_FAILURES_BEFORE_POLLING {
                        break;
                    }
                    continue;
                }
            },
        };
        let connector = tokio_tungstenite::Connector::Rustls(client.tls.clone());
        let connected = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            Some(ws_config),
            false,
            Some(connector),
        )
        .await;
        match connected {
            Ok((mut ws, _)) => {
                failures = 0;
                while let Some(msg) = ws.next().await {
                    match msg {
                        Ok(Message::Text(t)) if t.as_str().trim().is_empty() => {} // keep-alive
                        Ok(Message::Text(t)) => match parse_activity_set(t.as_str().as_bytes()) {
                            Ok(set) => {
                                if !client.deliver(set, &tx).await {
                                    let _ = ws.close(None).await;
                                    return;
                                }
                            }
                            Err(_) => {
                                tracing::debug!("ignoring a frame that is not an ActivitySet")
                            }
                        },
                        Ok(Message::Ping(p)) => {
                            let _ = ws.send(Message::Pong(p)).await;
                        }
                        Ok(Message::Close(Some(frame))) if frame.reason.as_str() == COLLISION => {
                            tracing::info!(
                                "direct line socket taken over by another connection; polling instead"
                            );
                            break 'sockets;
                        }
                        Ok(Message::Close(_)) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                tracing::debug!("direct line socket closed; reconnecting");
            }
            Err(e) => {
                failures += 1;
                // The error names no URL (the stream URL carries a token): only its kind.
                tracing::debug!(
                    failures,
                    kind = socket_error_kind(&e),
                    "direct line socket failed to open"
                );
                if failures >= WS_FAILURES_BEFORE_POLLING {
                    break;
                }
            }
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(jitter(min, max)).await;
    }
    run_poll(client, tx).await;
}

/// What kind of failure a socket error is, without its text (which may quote the URL).
#[cfg(feature = "reqwest")]
fn socket_error_kind(e: &tokio_tungstenite::tungstenite::Error) -> &'static str {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Io(_) => "connection",
        Error::Tls(_) => "tls",
        Error::Http(_) => "refused by the service",
        Error::Capacity(_) => "message too large",
        Error::Url(_) => "bad stream URL",
        _ => "protocol",
    }
}

#[cfg(not(feature = "reqwest"))]
async fn run_ws(client: Arc<DirectLineClient>, tx: Tx) {
    run_poll(client, tx).await;
}

async fn run_poll(client: Arc<DirectLineClient>, tx: Tx) {
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
