//! The `json` part of `POST /interactions`, written straight into the multipart body: the
//! same bytes `serde_json::to_writer(&mut body, &request)` writes (the field names are
//! literals; a string that needs no escape is copied as it is, any other goes through
//! `serde_json`; the rarer entries are serialized by `serde_json` whole). Tests compare the
//! two on every interaction and on arbitrary strings.

use crate::render::{AbstractMessage, EntryPayload, Interaction, InteractionRequest};

/// Appends `request` as JSON, byte for byte as its `Serialize` implementation writes it.
pub(super) fn write(out: &mut Vec<u8>, request: &InteractionRequest) -> serde_json::Result<()> {
    // Destructured without `..`: a field added to the struct fails to compile here.
    let InteractionRequest {
        to,
        from,
        interactions,
        routing_attributes,
    } = request;
    out.extend_from_slice(b"{\"to\":");
    string(out, to)?;
    out.extend_from_slice(b",\"from\":");
    string(out, from)?;
    out.extend_from_slice(b",\"interactions\":[");
    for (i, interaction) in interactions.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_interaction(out, interaction)?;
    }
    out.push(b']');
    if let Some(attributes) = routing_attributes {
        out.extend_from_slice(b",\"routingAttributes\":");
        serde_json::to_writer(&mut *out, attributes)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_interaction(out: &mut Vec<u8>, interaction: &Interaction) -> serde_json::Result<()> {
    match interaction {
        Interaction::Entry { timestamp, payload } => {
            out.extend_from_slice(b"{\"interactionType\":\"EntryInteraction\",\"timestamp\":");
            serde_json::to_writer(&mut *out, timestamp)?;
            out.extend_from_slice(b",\"payload\":");
            match payload {
                EntryPayload::Message {
                    id,
                    abstract_message,
                } => {
                    out.extend_from_slice(b"{\"entryType\":\"Message\",\"id\":");
                    string(out, id)?;
                    out.extend_from_slice(b",\"abstractMessage\":");
                    write_message(out, abstract_message)?;
                    out.push(b'}');
                }
                // Typing indicators and delivery failures: rarer, and short.
                other => serde_json::to_writer(&mut *out, other)?,
            }
        }
        Interaction::Attachment {
            timestamp,
            id,
            attachment_index,
            content_length,
            text,
        } => {
            out.extend_from_slice(b"{\"interactionType\":\"AttachmentInteraction\",\"timestamp\":");
            serde_json::to_writer(&mut *out, timestamp)?;
            out.extend_from_slice(b",\"id\":");
            string(out, id)?;
            out.extend_from_slice(b",\"attachmentIndex\":");
            serde_json::to_writer(&mut *out, attachment_index)?;
            out.extend_from_slice(b",\"contentLength\":");
            serde_json::to_writer(&mut *out, content_length)?;
            if let Some(text) = text {
                out.extend_from_slice(b",\"text\":");
                string(out, text)?;
            }
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_message(out: &mut Vec<u8>, message: &AbstractMessage) -> serde_json::Result<()> {
    let AbstractMessage {
        message_type,
        id,
        static_content,
        in_reply_to_message_id,
    } = message;
    out.extend_from_slice(b"{\"messageType\":");
    string(out, message_type)?;
    out.extend_from_slice(b",\"id\":");
    string(out, id)?;
    out.extend_from_slice(b",\"staticContent\":{\"formatType\":");
    string(out, &static_content.format_type)?;
    out.extend_from_slice(b",\"text\":");
    string(out, &static_content.text)?;
    out.push(b'}');
    if let Some(reply_to) = in_reply_to_message_id {
        out.extend_from_slice(b",\"inReplyToMessageId\":");
        string(out, reply_to)?;
    }
    out.push(b'}');
    Ok(())
}

/// A JSON string: copied between quotes when nothing in it needs an escape, otherwise
/// escaped by `serde_json`.
fn string(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    if is_plain(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(&mut *out, s)
    }
}

/// Whether `serde_json` escapes nothing in `s`: no control character, quote or backslash.
/// Sixteen bytes at a time with no early exit inside a block (the compiler makes one vector
/// compare of it), the last block padded with spaces.
fn is_plain(s: &[u8]) -> bool {
    fn escapes(block: &[u8; 16]) -> bool {
        block.iter().fold(0, |any, &b| {
            any | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
        }) != 0
    }
    let mut blocks = s.chunks_exact(16);
    let mut block = [b' '; 16];
    for full in &mut blocks {
        block.copy_from_slice(full);
        if escapes(&block) {
            return false;
        }
    }
    let rest = blocks.remainder();
    block = [b' '; 16];
    block[..rest.len()].copy_from_slice(rest);
    !escapes(&block)
}

/// About how long `request` serializes (exact but for escapes, numbers and the rarer
/// entries), so the body is allocated once.
pub(super) fn size_hint(request: &InteractionRequest) -> usize {
    let routing = request.routing_attributes.as_ref().map_or(0, |m| {
        24 + m.iter().map(|(k, v)| k.len() + v.len() + 6).sum::<usize>()
    });
    let interactions: usize = request
        .interactions
        .iter()
        .map(|i| match i {
            Interaction::Entry { payload, .. } => {
                80 + match payload {
                    EntryPayload::Message {
                        id,
                        abstract_message: m,
                    } => {
                        128 + id.len()
                            + m.message_type.len()
                            + m.id.len()
                            + m.static_content.format_type.len()
                            + m.static_content.text.len()
                            + m.in_reply_to_message_id
                                .as_ref()
                                .map_or(0, |r| r.len() + 24)
                    }
                    _ => 256,
                }
            }
            Interaction::Attachment { id, text, .. } => {
                160 + id.len() + text.as_ref().map_or(0, |t| t.len() + 10)
            }
        })
        .sum();
    48 + request.to.len() + request.from.len() + interactions + routing
}

#[cfg(test)]
mod tests;
