//! Fitting an outbound activity to what a channel can carry.
//!
//! [`adapt`] takes an activity and the target's [`ChannelInfo`] and produces the activities
//! the channel can carry — text split at word boundaries over the channel's limit, suggested
//! actions and hero cards rendered as numbered text on a text-only channel, markdown
//! flattened, attachments turned into links or refused — and reports every [`Loss`] instead of
//! dropping anything silently.
//!
//! ```
//! use byoc_core::{Activity, ChannelInfo};
//! use byoc_core::activity::{CardAction, SuggestedActions};
//! use byoc_core::capability::{adapt, AdaptPolicy, Loss};
//!
//! let mut reply = Activity::message("Which account?");
//! reply.suggested_actions = Some(SuggestedActions {
//!     actions: Some(vec![CardAction::im_back("Checking", "checking"), CardAction::im_back("Savings", "savings")]),
//!     ..Default::default()
//! });
//! let sms = ChannelInfo::text_only("telesign", 1600);
//! let out = adapt(&reply, &sms, &AdaptPolicy::default())?;
//! assert_eq!(out.activities[0].text.as_deref(), Some("Which account?\n1. Checking\n2. Savings"));
//! assert!(matches!(out.losses[0], Loss::SuggestedActionsAsText { count: 2 }));
//! # Ok::<(), byoc_core::AdapterError>(())
//! ```

use crate::activity::{Attachment, CardAction, TextFormat};
use crate::{Activity, ActivityType, AdapterError, ChannelInfo};

/// What to do with an attachment the channel cannot carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachmentFallback {
    /// Put its URL in the text (when it has one), else drop it; report either way.
    #[default]
    Link,
    /// Drop it and report the loss.
    Drop,
    /// Refuse the whole activity with [`AdapterError::Unsupported`].
    Refuse,
}

/// How [`adapt`] handles what does not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdaptPolicy {
    /// Attachments on a channel without attachments (or over its size limit).
    pub attachments: AttachmentFallback,
    /// Split text over the limit into several messages (`true`, the default) or refuse it.
    pub split_long_text: bool,
}

impl Default for AdaptPolicy {
    fn default() -> Self {
        Self {
            attachments: AttachmentFallback::Link,
            split_long_text: true,
        }
    }
}

impl AdaptPolicy {
    /// Sets the attachment fallback.
    #[must_use]
    pub fn with_attachments(mut self, fallback: AttachmentFallback) -> Self {
        self.attachments = fallback;
        self
    }

    /// Sets whether long text is split (else refused).
    #[must_use]
    pub fn with_split_long_text(mut self, split: bool) -> Self {
        self.split_long_text = split;
        self
    }
}

/// Something the target channel could not carry as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Loss {
    /// The text was split into `parts` messages of at most `limit` characters.
    TextSplit {
        /// Number of messages.
        parts: usize,
        /// The channel's limit in characters.
        limit: usize,
    },
    /// Markdown was flattened to plain text.
    MarkdownFlattened,
    /// Suggested actions were rendered as a numbered list in the text.
    SuggestedActionsAsText {
        /// How many actions.
        count: usize,
    },
    /// A card was rendered as text.
    CardAsText {
        /// The card's content type.
        content_type: String,
    },
    /// An attachment was replaced by its URL in the text.
    AttachmentAsLink {
        /// File name, if any.
        name: Option<String>,
    },
    /// An attachment was dropped.
    AttachmentDropped {
        /// File name, if any.
        name: Option<String>,
        /// Its content type, if any.
        content_type: Option<String>,
        /// Why.
        reason: String,
    },
    /// A typing indicator was dropped (the channel shows none).
    TypingDropped,
    /// A non-message activity was dropped (the channel carries only messages).
    ActivityDropped {
        /// Its type.
        kind: String,
    },
    /// SSML `speak` was dropped (text-only channel).
    SpeechDropped,
}

/// The result of [`adapt`]: what to send, in order, and what was lost on the way.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Adapted {
    /// The activities to send (none when the activity was dropped as a whole).
    pub activities: Vec<Activity>,
    /// Everything the channel could not carry as sent.
    pub losses: Vec<Loss>,
}

impl Adapted {
    /// Whether the activity goes out unchanged.
    #[must_use]
    pub fn is_lossless(&self) -> bool {
        self.losses.is_empty()
    }
}

/// Fits `activity` to `target`. See the [module docs](self).
///
/// # Errors
/// [`AdapterError::Unsupported`] when the policy says to refuse (text over the limit with
/// splitting off; an attachment the channel cannot carry with [`AttachmentFallback::Refuse`]).
pub fn adapt(
    activity: &Activity,
    target: &ChannelInfo,
    policy: &AdaptPolicy,
) -> Result<Adapted, AdapterError> {
    let mut losses = Vec::new();
    match &activity.kind {
        ActivityType::Message => {}
        ActivityType::Typing if target.typing => return Ok(unchanged(activity)),
        ActivityType::Typing => {
            return Ok(Adapted {
                activities: Vec::new(),
                losses: vec![Loss::TypingDropped],
            });
        }
        _ if target.events => return Ok(unchanged(activity)),
        other => {
            return Ok(Adapted {
                activities: Vec::new(),
                losses: vec![Loss::ActivityDropped {
                    kind: other.as_str().to_owned(),
                }],
            });
        }
    }

    let mut out = activity.clone();
    let mut text = out.text.take().unwrap_or_default();

    if !target.markdown && out.text_format.as_ref() == Some(&TextFormat::Markdown) {
        let flat = flatten_markdown(&text);
        if flat != text {
            losses.push(Loss::MarkdownFlattened);
        }
        text = flat;
        out.text_format = Some(TextFormat::Plain);
    }

    if !target.suggested_actions
        && let Some(actions) = out.suggested_actions.take().and_then(|s| s.actions)
        && !actions.is_empty()
    {
        push_numbered(&mut text, &actions);
        losses.push(Loss::SuggestedActionsAsText {
            count: actions.len(),
        });
    }

    if let Some(attachments) = out.attachments.take() {
        let mut kept = Vec::with_capacity(attachments.len());
        for att in attachments {
            if att.is_card() {
                if target.rich_cards {
                    kept.push(att);
                } else if let Some(rendered) = card_as_text(&att) {
                    push_block(&mut text, &rendered);
                    losses.push(Loss::CardAsText {
                        content_type: att.content_type.clone().unwrap_or_default(),
                    });
                } else {
                    let fallback = card_fallback_text(&att);
                    if let Some(f) = &fallback {
                        push_block(&mut text, f);
                    }
                    losses.push(Loss::AttachmentDropped {
                        name: att.name.clone(),
                        content_type: att.content_type.clone(),
                        reason: "the channel cannot render cards".to_owned(),
                    });
                }
                continue;
            }
            let too_big = target
                .max_attachment_bytes
                .zip(attachment_size(&att))
                .is_some_and(|(max, size)| size > max);
            if target.attachments && !too_big {
                kept.push(att);
                continue;
            }
            let reason = if too_big {
                "the attachment is larger than the channel allows"
            } else {
                "the channel cannot carry attachments"
            };
            match policy.attachments {
                AttachmentFallback::Refuse => {
                    return Err(AdapterError::unsupported(format!(
                        "{reason} (attachment {})",
                        att.name
                            .as_deref()
                            .or(att.content_type.as_deref())
                            .unwrap_or("unnamed")
                    )));
                }
                AttachmentFallback::Link if is_linkable(&att) => {
                    let url = att.content_url.clone().unwrap_or_default();
                    let line = match &att.name {
                        Some(n) => format!("{n}: {url}"),
                        None => url,
                    };
                    push_block(&mut text, &line);
                    losses.push(Loss::AttachmentAsLink {
                        name: att.name.clone(),
                    });
                }
                _ => losses.push(Loss::AttachmentDropped {
                    name: att.name.clone(),
                    content_type: att.content_type.clone(),
                    reason: reason.to_owned(),
                }),
            }
        }
        if !kept.is_empty() {
            out.attachments = Some(kept);
        }
    }

    if !target.rich_cards && !target.attachments && out.speak.take().is_some() {
        losses.push(Loss::SpeechDropped);
    }

    let parts = match target.max_text_len {
        Some(limit) if text.chars().count() > limit => {
            if !policy.split_long_text {
                return Err(AdapterError::unsupported(format!(
                    "text of {} characters is over the channel's limit of {limit}",
                    text.chars().count()
                )));
            }
            let parts = split_text(&text, limit);
            losses.push(Loss::TextSplit {
                parts: parts.len(),
                limit,
            });
            parts
        }
        _ => vec![text],
    };

    let n = parts.len();
    let mut activities = Vec::with_capacity(n);
    for (i, part) in parts.into_iter().enumerate() {
        let mut a = if i + 1 == n {
            std::mem::take(&mut out)
        } else {
            // Earlier parts carry only the text; attachments go with the last one.
            let mut a = out.clone();
            a.attachments = None;
            a
        };
        a.text = if part.is_empty() && activity.text.is_none() {
            None
        } else {
            Some(part)
        };
        activities.push(a);
    }
    Ok(Adapted { activities, losses })
}

fn unchanged(a: &Activity) -> Adapted {
    Adapted {
        activities: vec![a.clone()],
        losses: Vec::new(),
    }
}

fn push_block(text: &mut String, block: &str) {
    if !text.is_empty() && !block.is_empty() {
        text.push('\n');
    }
    text.push_str(block);
}

fn push_numbered(text: &mut String, actions: &[CardAction]) {
    for (i, action) in actions.iter().enumerate() {
        let label = action
            .title
            .clone()
            .or_else(|| action.display_text.clone())
            .or_else(|| action.text.clone())
            .or_else(|| action.value_str())
            .unwrap_or_default();
        push_block(text, &format!("{}. {label}", i + 1));
    }
}

fn is_linkable(att: &Attachment) -> bool {
    att.content_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://") || u.starts_with("http://"))
}

fn attachment_size(att: &Attachment) -> Option<u64> {
    // Inline data: URIs have a known size; other attachments report none in the schema.
    let url = att.content_url.as_deref()?;
    let data = url.strip_prefix("data:")?;
    let (_, payload) = data.split_once(',')?;
    Some((payload.len() as u64 / 4) * 3)
}

/// Hero and thumbnail cards as text: title, subtitle, text, then the buttons numbered.
fn card_as_text(att: &Attachment) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct BasicCard {
        title: Option<String>,
        subtitle: Option<String>,
        text: Option<String>,
        #[serde(default)]
        buttons: Vec<CardAction>,
    }
    let ct = att.content_type.as_deref()?;
    if !matches!(
        ct,
        "application/vnd.microsoft.card.hero" | "application/vnd.microsoft.card.thumbnail"
    ) {
        return None;
    }
    let card: BasicCard = att.content.as_ref()?.parse().ok()?;
    let mut out = String::new();
    for line in [card.title, card.subtitle, card.text].into_iter().flatten() {
        push_block(&mut out, &line);
    }
    push_numbered(&mut out, &card.buttons);
    Some(out)
}

/// An adaptive card's `fallbackText`, or the attachment's name.
fn card_fallback_text(att: &Attachment) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Fallback {
        #[serde(rename = "fallbackText")]
        fallback_text: Option<String>,
    }
    att.content
        .as_ref()
        .and_then(|c| c.parse::<Fallback>().ok())
        .and_then(|f| f.fallback_text)
}

/// Splits `text` into parts of at most `limit` characters, at whitespace where possible
/// (a word longer than the limit is cut).
#[must_use]
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let total = rest.chars().count();
        if total <= limit {
            parts.push(rest.to_owned());
            break;
        }
        // Byte index just past `limit` characters.
        let hard = rest
            .char_indices()
            .nth(limit)
            .map_or(rest.len(), |(i, _)| i);
        let window = &rest[..hard];
        // Cut at the last whitespace in the window (or right after it, when the next
        // character is whitespace); a single long word is cut hard.
        let next_is_space = rest[hard..].chars().next().is_some_and(char::is_whitespace);
        let cut = if next_is_space {
            hard
        } else {
            window
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map_or(hard, |(i, _)| i)
        };
        let cut = if cut == 0 { hard } else { cut };
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    parts
}

/// Flattens common markdown to plain text: emphasis markers dropped, `[text](url)` becomes
/// `text (url)`, heading and quote markers dropped, code fences removed.
#[must_use]
pub fn flatten_markdown(md: &str) -> String {
    let mut lines = Vec::new();
    for line in md.lines() {
        let l = line.trim_start();
        if l.starts_with("```") {
            continue;
        }
        let l = l.trim_start_matches('#').trim_start_matches('>');
        let l = if l.len() != line.trim_start().len() {
            l.trim_start()
        } else {
            line
        };
        lines.push(flatten_inline(l));
    }
    lines.join("\n")
}

fn flatten_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '_' | '`' | '~' => {
                // Emphasis markers: drop runs of them when they hug a word.
                let run_end = (i..chars.len())
                    .find(|&j| chars[j] != c)
                    .unwrap_or(chars.len());
                let before = i.checked_sub(1).map(|j| chars[j]);
                let after = chars.get(run_end).copied();
                let hugs = before.is_none_or(|b| !b.is_alphanumeric())
                    || after.is_none_or(|a| !a.is_alphanumeric());
                if !hugs
                    || (c == '_'
                        && before.is_some_and(char::is_alphanumeric)
                        && after.is_some_and(char::is_alphanumeric))
                {
                    out.extend(&chars[i..run_end]);
                }
                i = run_end;
            }
            '[' => {
                // [text](url) → text (url)
                let close = (i + 1..chars.len()).find(|&j| chars[j] == ']');
                match close {
                    Some(cl) if chars.get(cl + 1) == Some(&'(') => {
                        match (cl + 2..chars.len()).find(|&j| chars[j] == ')') {
                            Some(end) => {
                                let label: String = chars[i + 1..cl].iter().collect();
                                let url: String = chars[cl + 2..end].iter().collect();
                                out.push_str(&flatten_inline(&label));
                                if label != url {
                                    out.push_str(" (");
                                    out.push_str(&url);
                                    out.push(')');
                                }
                                i = end + 1;
                            }
                            None => {
                                out.push(c);
                                i += 1;
                            }
                        }
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
