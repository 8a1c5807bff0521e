//! Reading `Retry-After` from an answer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;

/// The delay an answer's `Retry-After` header asks for: delay-seconds (integer or decimal)
/// or an HTTP date relative to `now` (a date in the past is zero). `None` without the header
/// or for a value that is neither.
#[must_use]
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    byoc_core::error::parse_retry_after(value, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_dates_and_garbage() {
        let now = DateTime::parse_from_rfc3339("2024-05-03T08:12:40Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(http::header::RETRY_AFTER, "12".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(12)));
        h.insert(
            http::header::RETRY_AFTER,
            "Fri, 03 May 2024 08:12:50 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        h.insert(http::header::RETRY_AFTER, "later".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }
}
