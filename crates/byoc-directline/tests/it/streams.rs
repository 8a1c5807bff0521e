//! The WebSocket stream's reactions: a `collision` close, and sockets that never open.

use std::time::Duration;

use byoc_core::Activity;
use byoc_sim::directline::{DEFAULT_SECRET, DirectLineSim, Options};
use futures_util::StreamExt as _;
use tokio_tungstenite::tungstenite::Message;

use super::{dl_client, next_text};

/// Frames of a raw socket until one holds an activity with `text`; panics on a close.
async fn raw_until<S>(ws: &mut S, text: &str)
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("raw socket stalled")
            .expect("raw socket ended")
            .expect("raw socket failed");
        match msg {
            Message::Text(t) if t.as_str().contains(text) => return,
            Message::Close(f) => panic!("the raw socket was closed: {f:?}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_collision_close_makes_the_stream_poll_instead_of_taking_the_socket_back() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    let client = dl_client(&sim);
    let conv = client.start().await.unwrap();
    let mut stream = client.stream();
    client
        .post_activity(&Activity::message("one"))
        .await
        .unwrap();
    next_text(&mut stream, "Echo: one").await;
    assert_eq!(sim.stream_counts(), (1, 1));

    // Another connection opens a socket for the same conversation: the service closes the
    // client's socket with reason `collision`.
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/conversations/{}",
            sim.directline_url(),
            conv.conversation_id
        ))
        .bearer_auth(DEFAULT_SECRET)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    let url = v["streamUrl"].as_str().unwrap().to_owned();
    let (mut other, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // The replay arrives once the service has switched to this socket.
    raw_until(&mut other, "Echo: one").await;

    // The client keeps receiving (by polling) without opening another socket, which would
    // close this one in turn.
    client
        .post_activity(&Activity::message("two"))
        .await
        .unwrap();
    next_text(&mut stream, "Echo: two").await;
    assert_eq!(sim.stream_counts(), (2, 2), "the client reopened a socket");
    raw_until(&mut other, "Echo: two").await;
}

#[tokio::test]
async fn the_stream_falls_back_to_polling_after_three_sockets_fail_to_open() {
    let sim = DirectLineSim::start(Options::default()).await.unwrap();
    sim.refuse_sockets(true);
    let client = dl_client(&sim);
    client.start().await.unwrap();
    let mut stream = client.stream();
    client
        .post_activity(&Activity::message("one"))
        .await
        .unwrap();
    next_text(&mut stream, "Echo: one").await;
    assert_eq!(sim.stream_counts(), (3, 0), "three attempts, then polling");
    client
        .post_activity(&Activity::message("two"))
        .await
        .unwrap();
    next_text(&mut stream, "Echo: two").await;
    assert_eq!(
        sim.stream_counts(),
        (3, 0),
        "no more socket attempts once polling"
    );
}
