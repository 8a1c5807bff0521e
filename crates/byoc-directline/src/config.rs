//! Configuration: [`ConnectorConfig`] for the bot side (inbound channel JWTs, outbound
//! Connector calls) and [`DirectLineConfig`] for the Direct Line 3.0 client. Every value is
//! checked when it is set; the fields stay private, so a configuration that exists is valid.

mod connector;
mod directline;

pub use connector::ConnectorConfig;
pub use directline::{DirectLineConfig, DirectLineCredential};

use std::time::Duration;

use url::Url;

use crate::error::ConfigError;

/// Largest serialized activity Direct Line and the Connector accept
/// (`docs/protocols/bot-framework.md#activities`).
pub const MAX_ACTIVITY_BYTES: usize = 262_144;

/// Default per-request timeout: 20 seconds, as DirectLineJS.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Default largest response body read: 4 MiB (a Direct Line page of activities, each at
/// most 256 KB, or a key document).
const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// `url` if it is an `http`/`https` URL with a host that can take a path.
fn http_url(field: &'static str, url: Url) -> Result<Url, ConfigError> {
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || !url.has_host() {
        return Err(ConfigError::invalid(
            field,
            "must be an http or https URL with a host",
        ));
    }
    Ok(url)
}

/// Parses one of this crate's built-in default URLs.
fn default_url(field: &'static str, text: &str) -> Result<Url, ConfigError> {
    Url::parse(text).map_err(|_| ConfigError::invalid(field, "default URL does not parse"))
}

fn non_zero_duration(field: &'static str, value: Duration) -> Result<Duration, ConfigError> {
    if value.is_zero() {
        return Err(ConfigError::invalid(field, "must be greater than zero"));
    }
    Ok(value)
}

fn non_zero_size(field: &'static str, value: usize) -> Result<usize, ConfigError> {
    if value == 0 {
        return Err(ConfigError::invalid(field, "must be greater than zero"));
    }
    Ok(value)
}

/// Whether `url` matches the glob `pattern`, ASCII case-insensitively: `*` matches any run
/// of characters other than `/` (so `https://*.botframework.com/` cannot be satisfied by a
/// path), and a `*` that ends the pattern matches everything that follows.
pub(crate) fn url_matches(pattern: &str, url: &str) -> bool {
    fn go(p: &[u8], u: &[u8]) -> bool {
        match p.split_first() {
            None => u.is_empty(),
            Some((b'*', [])) => true,
            Some((b'*', rest)) => {
                let mut i = 0;
                loop {
                    if go(rest, &u[i..]) {
                        return true;
                    }
                    if i >= u.len() || u[i] == b'/' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some((c, rest)) => match u.split_first() {
                Some((d, urest)) if c.eq_ignore_ascii_case(d) => go(rest, urest),
                _ => false,
            },
        }
    }
    go(pattern.as_bytes(), url.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_url_globs() {
        for (p, u, want) in [
            (
                "https://*.botframework.com/*",
                "https://smba.botframework.com/teams/",
                true,
            ),
            (
                "https://*.botframework.com/*",
                "https://evil.example/x.botframework.com/",
                false,
            ),
            ("https://a.example/", "https://a.example/", true),
            ("https://a.example/", "https://a.example/x", false),
            ("https://a.example/*", "HTTPS://A.EXAMPLE/x", true),
            ("*", "anything", true),
            ("https://*/v3/", "https://x/v3/", true),
        ] {
            assert_eq!(url_matches(p, u), want, "{p} vs {u}");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        for bad in [
            "mailto:a@b.example",
            "ftp://h.example/",
            "data:text/plain,x",
        ] {
            let url = Url::parse(bad).unwrap();
            assert!(http_url("base_url", url).is_err(), "{bad}");
        }
        assert!(
            http_url(
                "base_url",
                Url::parse("http://127.0.0.1:9/v3/directline").unwrap()
            )
            .is_ok()
        );
    }
}
