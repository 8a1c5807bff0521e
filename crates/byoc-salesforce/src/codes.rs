//! The Interaction Service's error codes that this crate knows: a short description of each
//! in our own words, and which ones mean "retry later" or "the token is rejected". The
//! descriptions replace the service's own messages in errors, which are never kept (see
//! `docs/protocols/salesforce.md#errors`).

/// Codes after which the same request may succeed later: read-only during a migration,
/// conversation precondition failed or processing aborted, a downstream timeout, an
/// internal error.
pub(crate) const RETRYABLE: [i64; 5] = [10019, 10055, 10056, 10094, 20004];

/// Codes meaning the access token is not (or no longer) acceptable: mint another and send
/// once more.
pub(crate) const TOKEN_REJECTED: [i64; 2] = [10004, 10003];

/// What `code` means, when it is one this crate knows.
#[must_use]
pub(crate) fn describe(code: i64) -> Option<&'static str> {
    let text = match code {
        10001 => "the AuthorizationContext is not valid for this channel address",
        10003 => "the access token lacks the interaction_api scope",
        10004 => "the access token is not valid",
        10005 => "the AuthorizationContext is not valid for this access token",
        10008 => "the attachment is larger than 25 MB",
        10011 => "the attachment interactions and the files do not match in number",
        10013..=10015 => "use either capacityWeight or capacityPercentage, within range",
        10016 => "a header is missing or not valid",
        10017 => "the channel address identifier does not exist",
        10018 => "the conversation identifier is not valid",
        10019 => "the org is read-only during a migration; try again later",
        10022 => "consent is not owned by the partner on this channel",
        10023 => "the channel manages consent through keywords",
        10024 => "flow routing needs both flowId and queueId",
        10025 => "the conversation was not found",
        10027 => "`to` is not a valid channel address",
        10028 => "`from` is not a valid end user identifier",
        10029 => "the interaction list is not valid",
        10030 => "route through either a flow or a queue",
        10031 => "the channel is inactive",
        10033 => "errorMessage is required when success is false",
        10034 => "errorMessage must be absent when success is true",
        10042 | 10044 => "exactly one participant is required",
        10045 => "the message entry is not well formed",
        10046 => "clientTimestamp is not valid",
        10047 => "the messageType is not valid",
        10048 => "the formatType is not valid",
        10049 => "the messageType and formatType do not go together",
        10051 => "contentLength does not equal the file's size",
        10055 => "a conversation precondition failed; retry",
        10056 => "conversation processing was aborted; retry",
        10057 => "conversation history is for BYOC CCaaS channels only",
        10059 => "the interaction id or the message id is empty",
        10060 => "the interaction id and the message id differ",
        10062 => "an end user cannot send this message type",
        10065 | 10066 => "a participant's leftTime breaks the history rules",
        10069 | 10070 => "the channel address is not configured for this AuthorizationContext",
        10073 => "the entry id was already used",
        10075 => "conference routing is not available in this org",
        10076 => "cancelReason is not valid",
        10093 => "the AuthorizationContextType is not valid",
        10094 => "a downstream service timed out; retry",
        10095 => "the attachment's MIME type cannot be determined",
        10096 => "a routing attribute is longer than its channel variable allows",
        10099 => "the org lacks the permissions for this API",
        10106 => "sessionId is required to inactivate a session",
        15103 => "the messaging end user has not fully opted in",
        15104 => "the messaging channel is not linked to a contact center",
        15109 => "an active AgentWork already exists for this work item",
        15112 => "the rep's presence status is not associated with the service channel",
        20003 => "the interaction list is empty",
        20004 => "the service failed internally; retry",
        25005..=25007 => "the session or conversation could not be looked up",
        _ => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_retryable_and_token_code_is_described() {
        for code in RETRYABLE.iter().chain(&TOKEN_REJECTED) {
            assert!(describe(*code).is_some(), "{code}");
        }
        assert_eq!(describe(99_999), None);
        assert!(describe(15112).unwrap().contains("not associated"));
    }
}
