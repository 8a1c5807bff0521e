//! Proactive Direct Line token refresh (`docs/protocols/bot-framework.md#direct-line-tokens`).
//! Tokens live 1800 s; DirectLineJS refreshes every 15 minutes whether or not the
//! conversation is busy. Here a background task sleeps until the stored token is due
//! ([`DirectLineConfig::token_refresh_margin`] before it expires, 15 minutes by default) and
//! calls `POST /tokens/refresh`, so a conversation that is quiet for longer than a token's
//! lifetime still holds a valid token when it speaks again.
//!
//! This is Direct Line's own token (a conversation token refreshed with itself), not an
//! OAuth grant: byoc-http's token cache does not fit it, the shared transport carries it.
//!
//! [`DirectLineConfig::token_refresh_margin`]: crate::DirectLineConfig::token_refresh_margin

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::DirectLineClient;
use crate::client::jitter;
use crate::config::DirectLineCredential;
use crate::error::ClientError;

/// After a failed refresh (transport error, `5xx`, `429`), the next attempt comes after a
/// random wait between half this and this.
const REFRESH_RETRY: Duration = Duration::from_secs(30);

/// The background refresh started by [`DirectLineClient::keep_token_fresh`]; dropping it
/// stops the task.
#[derive(Debug)]
pub struct TokenRefresher {
    task: JoinHandle<()>,
}

impl Drop for TokenRefresher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DirectLineClient {
    /// Refreshes the conversation token in the background, before it expires, for as long
    /// as the returned handle lives. Streams ([`DirectLineClient::stream`],
    /// [`DirectLineClient::poll`]) run one themselves; call this when you post without
    /// reading a stream.
    ///
    /// Until a token is stored (by [`DirectLineClient::start`]) the task waits. When a
    /// refresh answers `403 TokenExpired` (the token died, e.g. the process was suspended),
    /// a configured secret takes over as it does for calls; with only a token, the task
    /// waits for a new one and calls fail with [`ClientError::TokenExpired`].
    #[must_use]
    pub fn keep_token_fresh(self: &Arc<Self>) -> TokenRefresher {
        let client = Arc::clone(self);
        TokenRefresher {
            task: tokio::spawn(async move { run(client).await }),
        }
    }
}

async fn run(client: Arc<DirectLineClient>) {
    let mut changed = client.token_gen.subscribe();
    loop {
        changed.mark_unchanged();
        let due = {
            let s = client.session.lock().await;
            s.token.as_ref().and(s.refresh_at)
        };
        let Some(at) = due else {
            // No token to refresh (not started, or the secret took over): wait for one.
            if changed.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            () = tokio::time::sleep_until(at) => {}
            r = changed.changed() => {
                if r.is_err() {
                    return;
                }
                continue; // a new token, with a new due time
            }
        }
        match client.ensure_fresh_token().await {
            Ok(()) => {}
            Err(ClientError::TokenExpired) => {
                let mut s = client.session.lock().await;
                s.refresh_at = None;
                if let DirectLineCredential::Secret(_) = client.config.credential() {
                    s.token = None;
                    tracing::info!(
                        "direct line token expired before its refresh; using the secret"
                    );
                } else {
                    tracing::warn!("direct line token expired before its refresh");
                }
            }
            Err(e) if e.is_unauthorized() => {
                tracing::warn!(error = %e, "direct line token refresh refused");
                client.session.lock().await.refresh_at = None;
            }
            Err(e) => {
                let wait = e
                    .retry_after()
                    .unwrap_or_else(|| jitter(REFRESH_RETRY / 2, REFRESH_RETRY));
                tracing::debug!(error = %e, ?wait, "direct line token refresh failed; retrying");
                tokio::time::sleep(wait).await;
            }
        }
    }
}
