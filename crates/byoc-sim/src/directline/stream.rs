//! The Direct Line WebSocket stream (`docs/protocols/bot-framework.md`, section 10): preauthorized `streamUrl` valid for 60 seconds,
//! replay from the watermark, one ActivitySet per frame, empty frames as keep-alives, one
//! socket per conversation (an older one closes with reason `collision`).

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State as AxState};
use axum::response::Response;
use http::StatusCode;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::state::{Shared, State, error};

pub(crate) async fn stream(
    AxState(state): AxState<Shared>,
    Path(conv): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    State::bump(&state.stream_requests);
    if state.lock().refuse_sockets {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "sockets refused (fault)",
        );
    }
    let Some(t) = q.get("t") else {
        return error(StatusCode::FORBIDDEN, "BadArgument", "missing stream token");
    };
    let valid = {
        let mut inner = state.lock();
        match inner.stream_tokens.remove(t) {
            Some((c, issued)) => c == conv && issued.elapsed() < state.opts.stream_url_ttl,
            None => false,
        }
    };
    if !valid {
        return error(
            StatusCode::FORBIDDEN,
            "TokenExpired",
            "stream URL expired or unknown",
        );
    }
    let watermark = q.get("watermark").cloned();
    ws.on_upgrade(move |socket| run(state, conv, watermark, socket))
}

async fn run(state: Shared, conv: String, watermark: Option<String>, mut socket: WebSocket) {
    let opened = {
        let mut inner = state.lock();
        inner.convs.get_mut(&conv).map(|c| {
            let my_gen = *c.socket_gen.borrow() + 1;
            c.socket_gen.send_replace(my_gen);
            let w = watermark.as_deref().filter(|w| *w != "-");
            let (replay, mark) = c.since(w);
            (
                c.tx.subscribe(),
                c.socket_gen.subscribe(),
                my_gen,
                replay,
                mark,
            )
        })
    };
    let Some((mut rx, mut gen_rx, my_gen, replay, mark)) = opened else {
        return;
    };
    State::bump(&state.sockets_opened);
    let mut kill_rx = state.kill.subscribe();
    if !replay.is_empty() {
        let frame = json!({ "activities": replay, "watermark": mark }).to_string();
        if socket.send(Message::Text(frame.into())).await.is_err() {
            return;
        }
    }
    let started = Instant::now();
    let mut keepalive = tokio::time::interval(state.opts.keepalive);
    keepalive.tick().await;
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Ok(frame) => {
                    if socket.send(Message::Text(frame.into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
            _ = keepalive.tick() => {
                if socket.send(Message::Text("".into())).await.is_err() {
                    return;
                }
            }
            changed = gen_rx.changed() => {
                if changed.is_err() || *gen_rx.borrow() != my_gen {
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame { code: 1000, reason: "collision".into() })))
                        .await;
                    return;
                }
            }
            _ = kill_rx.changed() => {
                // Fault: drop the connection without a close frame.
                tracing::debug!(conv = %conv, open_for = ?started.elapsed(), "dropping socket");
                return;
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {} // clients may ping with empty frames; ignored.
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
