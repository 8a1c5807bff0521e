//! The axum bridge the examples share: one webhook route whose requests go through a
//! [`ChannelAdapter`]'s `receive`, the activities handed to a channel.

use std::sync::Arc;

use byoc::core::{Activity, ChannelAdapter};
use tokio::sync::mpsc;

/// A router with one `POST` route at `path`: each body (at most `body_limit` bytes, else
/// `413`) goes through `adapter.receive` as an `http::Request<Bytes>`; the activities are
/// sent to `out`, and the adapter's answer (or its error's) is the response.
pub(crate) fn webhook(
    path: &str,
    adapter: Arc<dyn ChannelAdapter>,
    body_limit: usize,
    out: mpsc::Sender<Activity>,
) -> axum::Router {
    axum::Router::new().route(
        path,
        axum::routing::post(move |req: axum::extract::Request| {
            let adapter = adapter.clone();
            let out = out.clone();
            async move {
                let (parts, body) = req.into_parts();
                let Ok(bytes) = axum::body::to_bytes(body, body_limit).await else {
                    return http::Response::builder()
                        .status(413)
                        .body(axum::body::Body::empty())
                        .unwrap_or_default();
                };
                match adapter
                    .receive(http::Request::from_parts(parts, bytes))
                    .await
                {
                    Ok(inbound) => {
                        for activity in inbound.activities {
                            let _ = out.send(activity).await;
                        }
                        inbound.response.map(axum::body::Body::from)
                    }
                    Err(e) => e.to_response().map(axum::body::Body::from),
                }
            }
        }),
    )
}
