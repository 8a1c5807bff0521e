//! Outbound activities to wire bodies, without I/O: what a bot sends to the Connector and
//! what a Direct Line client posts. Bots and clients do not send `id`, `timestamp` or
//! `serviceUrl`; bodies larger than [`MAX_ACTIVITY_BYTES`] are refused before any request
//! is made (`docs/protocols/bot-framework.md#activities`).

use byoc_core::{Activity, ChannelAccount};

use crate::config::MAX_ACTIVITY_BYTES;
use crate::error::RenderError;

fn strip_channel_fields(activity: &Activity) -> Activity {
    let mut a = activity.clone();
    a.id = None;
    a.timestamp = None;
    a.service_url = None;
    a
}

fn to_checked_vec(a: &Activity) -> Result<Vec<u8>, RenderError> {
    let bytes = a
        .to_vec()
        .map_err(|_| RenderError::Serialize { field: "activity" })?;
    if bytes.len() > MAX_ACTIVITY_BYTES {
        return Err(RenderError::TooLarge {
            size: bytes.len(),
            limit: MAX_ACTIVITY_BYTES,
        });
    }
    Ok(bytes)
}

/// The JSON body of a Connector call (send, reply, update) for `activity`.
///
/// # Errors
/// [`RenderError::TooLarge`] over 262,144 bytes.
pub fn render_for_connector(activity: &Activity) -> Result<Vec<u8>, RenderError> {
    to_checked_vec(&strip_channel_fields(activity))
}

/// The JSON body a Direct Line client posts for `activity`, sent as `user`: `from` is set to
/// the client's user (Direct Line overwrites any other id anyway:
/// `docs/protocols/bot-framework.md#direct-line-user-ids`).
///
/// # Errors
/// [`RenderError::TooLarge`] over 262,144 bytes.
pub fn render_for_directline(
    activity: &Activity,
    user: &ChannelAccount,
) -> Result<Vec<u8>, RenderError> {
    let mut a = strip_channel_fields(activity);
    a.from = Some(user.clone());
    to_checked_vec(&a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_fields_are_stripped() {
        let mut a = Activity::message("hi");
        a.id = Some("x".into());
        a.service_url = Some("https://s/".into());
        a.timestamp = Some(byoc_core::Timestamp::now());
        let v: serde_json::Value =
            serde_json::from_slice(&render_for_connector(&a).unwrap()).unwrap();
        assert_eq!(v, serde_json::json!({"type":"message","text":"hi"}));
        let v: serde_json::Value = serde_json::from_slice(
            &render_for_directline(&a, &ChannelAccount::new("dl_u")).unwrap(),
        )
        .unwrap();
        assert_eq!(v["from"]["id"], "dl_u");
    }

    #[test]
    fn size_limit_is_checked_before_sending() {
        let a = Activity::message("x".repeat(MAX_ACTIVITY_BYTES));
        assert!(matches!(
            render_for_connector(&a),
            Err(RenderError::TooLarge { .. })
        ));
        let a = Activity::message("x".repeat(MAX_ACTIVITY_BYTES - 100));
        assert!(render_for_directline(&a, &ChannelAccount::new("u")).is_ok());
    }
}
