//! Shared by the benches: the fixture loader and the 12-field borrowed activity baseline.

#![allow(dead_code)] // each bench uses part of this module

use std::borrow::Cow;

use serde::Deserialize;

/// The bytes of `tests/fixtures/<path>`.
pub(crate) fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub(crate) struct MinimalAccount<'a> {
    #[serde(borrow)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) name: Option<Cow<'a, str>>,
}

/// 12 fields of an activity, borrowed; everything else skipped.
#[derive(Deserialize)]
#[allow(dead_code)]
pub(crate) struct ActivityMinimal<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "channelId", borrow)]
    pub(crate) channel_id: Option<Cow<'a, str>>,
    #[serde(rename = "serviceUrl", borrow)]
    pub(crate) service_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) from: Option<MinimalAccount<'a>>,
    #[serde(borrow)]
    pub(crate) conversation: Option<MinimalAccount<'a>>,
    #[serde(borrow)]
    pub(crate) recipient: Option<MinimalAccount<'a>>,
    #[serde(borrow)]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(rename = "replyToId", borrow)]
    pub(crate) reply_to_id: Option<Cow<'a, str>>,
    #[serde(rename = "textFormat", borrow)]
    pub(crate) text_format: Option<Cow<'a, str>>,
}
