//! TeleSign's code tables: delivery status codes (3-digit) and error codes (5-digit)
//! (`docs/protocols/telesign.md#status-codes`, `docs/protocols/telesign.md#errors`).

use serde::{Deserialize, Serialize};

/// Where a message stands, from a delivery status code (`status.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DeliveryState {
    /// Accepted or on its way (290, 292, 295, 203, 251). More reports follow.
    Pending,
    /// Delivered to the handset (200). Final.
    Delivered,
    /// Not delivered. Final.
    Failed {
        /// Whether TeleSign says sending again may work (503, 505 and 210, 514
        /// temporary errors).
        retryable: bool,
    },
    /// Final but unknown (250), or no status available (599), or a code not in TeleSign's
    /// published tables.
    Unknown,
}

impl DeliveryState {
    /// The state of a delivery status code.
    #[must_use]
    pub fn of_code(code: i64) -> Self {
        match code {
            200 => Self::Delivered,
            203 | 251 | 290 | 292 | 295 => Self::Pending,
            // "temporary" per TeleSign's tables.
            210 | 503 | 505 | 514 => Self::Failed { retryable: true },
            207 | 211 | 220..=238 | 286 | 500 | 502 | 504 | 506..=513 | 515 => {
                Self::Failed { retryable: false }
            }
            _ => Self::Unknown,
        }
    }

    /// Whether no further report is expected for this message.
    #[must_use]
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

/// Whether `code` is an error code (5-digit, or negative as in other TeleSign APIs) rather
/// than a status code.
pub(crate) fn is_error_code(code: i64) -> bool {
    !(0..10_000).contains(&code)
}

/// Whether an error code says the request failed authentication (signature, date, nonce,
/// customer id, API key, source IP).
pub(crate) fn is_auth_error_code(code: i64) -> bool {
    matches!(code, 10002..=10005 | 10008 | 10012..=10015 | -30015..=-30004 | -10009)
}

/// The request field a validation error code names.
pub(crate) fn field_of_error_code(code: i64) -> Option<&'static str> {
    Some(match code {
        11000 | 11001 | 12000 => "phone_number",
        11003 => "account_lifecycle_event",
        11004 => "callback_url",
        11005 => "customer_id",
        11009 | 12009 => "message",
        11010 => "originating_ip",
        11011 => "reference_id",
        11013 => "sender_id",
        11016 => "external_id",
        11017 | 12017 => "message_type",
        11027 => "integration_name",
        11034 => "dlt_template_id",
        11035 => "dlt_entity_id",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_codes_map_to_states_and_finality() {
        let table = [
            (200, DeliveryState::Delivered, true),
            (203, DeliveryState::Pending, false),
            (290, DeliveryState::Pending, false),
            (292, DeliveryState::Pending, false),
            (210, DeliveryState::Failed { retryable: true }, true),
            (503, DeliveryState::Failed { retryable: true }, true),
            (238, DeliveryState::Failed { retryable: false }, true),
            (504, DeliveryState::Failed { retryable: false }, true),
            (250, DeliveryState::Unknown, true),
            (599, DeliveryState::Unknown, true),
            (777, DeliveryState::Unknown, true),
        ];
        for (code, state, fin) in table {
            assert_eq!(DeliveryState::of_code(code), state, "{code}");
            assert_eq!(state.is_final(), fin, "{code}");
        }
    }

    #[test]
    fn error_codes_are_classified_by_kind_and_field() {
        assert!(is_error_code(10008) && is_error_code(-30006) && !is_error_code(290));
        assert!(is_auth_error_code(10008) && !is_auth_error_code(11000));
        assert_eq!(field_of_error_code(11004), Some("callback_url"));
        assert_eq!(field_of_error_code(10019), None);
    }
}
