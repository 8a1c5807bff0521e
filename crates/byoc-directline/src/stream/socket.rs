//! The WebSocket half of the stream (feature `reqwest`): one socket per conversation,
//! a fresh `streamUrl` before each, reconnects after a jittered backoff, and the fall back
//! to polling (`docs/protocols/bot-framework.md#watermarks-and-streams`).

use std::sync::Arc;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{Tx, fail_or_wait, forward, run_poll};
use crate::client::{DirectLineClient, jitter};
use crate::normalize::{ActivitySet, parse_activity_set};

/// Consecutive WebSocket failures after which the stream falls back to polling.
const WS_FAILURES_BEFORE_POLLING: u32 = 3;
/// The close reason of a socket replaced by a newer one for the same conversation.
const COLLISION: &str = "collision";

impl DirectLineClient {
    async fn deliver(&self, set: ActivitySet, tx: &Tx) -> bool {
        let fresh = {
            let mut s = self.session.lock().await;
            s.set_watermark(set.watermark);
            s.dedupe(set.activities)
        };
        forward(fresh, tx).await
    }
}

/// Receives over WebSockets until the stream is dropped or the conversation ends; falls back
/// to polling after three sockets in a row fail to open or a `collision` close.
pub(crate) async fn run_ws(client: Arc<DirectLineClient>, tx: Tx) {
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
