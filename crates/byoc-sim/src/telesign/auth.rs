//! TeleSign's request authentication as the service checks it, written independently of
//! the adapter crate: TSA HMAC-SHA256 (date in `Date` or `x-ts-date`) and Basic, plus the
//! callback signature the service puts on what it posts.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::Sha256;
use subtle::ConstantTimeEq;

const FORGIVING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes an API key as TeleSign's SDKs do: characters outside the base64 alphabet are
/// skipped, padding is optional. `None` when nothing decodes.
#[must_use]
pub fn decode_api_key(api_key: &str) -> Option<Vec<u8>> {
    let mut alphabet_only = String::with_capacity(api_key.len());
    for c in api_key.chars() {
        if c.is_ascii_alphanumeric() || c == '+' || c == '/' {
            alphabet_only.push(c);
        }
    }
    if alphabet_only.len() % 4 == 1 {
        alphabet_only.truncate(alphabet_only.len() - 1);
    }
    FORGIVING
        .decode(alphabet_only)
        .ok()
        .filter(|k| !k.is_empty())
}

/// `base64(HMAC-SHA256(key, message))`.
#[must_use]
pub fn hmac_b64(key: &[u8], message: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC accepts every key length.
        return String::new();
    };
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Why a request was refused, with TeleSign's code and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub http: u16,
    /// TeleSign code.
    pub code: i64,
    /// TeleSign's description.
    pub description: &'static str,
}

const fn refuse(code: i64, description: &'static str) -> Refusal {
    Refusal {
        http: 401,
        code,
        description,
    }
}

/// Invalid signature (also used for a missing or unreadable `Authorization`).
pub const INVALID_SIGNATURE: Refusal = refuse(10008, "Invalid Signature.");
/// Nonce used recently.
pub const NONCE_REUSED: Refusal = refuse(10002, "x-ts-nonce header value has been used recently.");
/// Nonce missing, too short or too long.
pub const NONCE_LENGTH: Refusal =
    refuse(10003, "x-ts-nonce header value is too long or too short.");
/// Date out of tolerance.
pub const DATE_RANGE: Refusal = refuse(10004, "Date header value is not within tolerable range.");
/// Date unreadable.
pub const DATE_FORMAT: Refusal = refuse(10005, "Date header value is not RFC822 compliant.");
/// Customer id unknown.
pub const UNKNOWN_CUSTOMER: Refusal = refuse(10013, "CustomerID account not found.");

/// Nonce length bounds the simulator enforces (TeleSign's are not published; UUID strings
/// are 36 characters, `uuid1().hex` 32).
pub const NONCE_LEN: std::ops::RangeInclusive<usize> = 8..=64;

/// An authenticated request: the nonce to remember (TSA only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// `x-ts-nonce` of a TSA request.
    pub nonce: Option<String>,
    /// `TSA` or `Basic`.
    pub scheme: &'static str,
}

/// What the check needs to know about the account and the clock.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    /// The customer id.
    pub customer_id: &'a str,
    /// The API key as issued.
    pub api_key: &'a str,
    /// Largest accepted distance between the request's date and `now`; `None` = no check.
    pub tolerance: Option<chrono::Duration>,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn ct_eq_str(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Checks one request as TeleSign does. `resource` is the request path, `body` the exact
/// bytes received.
///
/// # Errors
/// The [`Refusal`] TeleSign answers.
pub fn check_request(
    account: &Account<'_>,
    method: &str,
    resource: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Authenticated, Refusal> {
    let authorization = header(headers, "authorization")
        .ok_or(INVALID_SIGNATURE)?
        .trim();
    let (scheme, credentials) = authorization.split_once(' ').ok_or(INVALID_SIGNATURE)?;
    if scheme.eq_ignore_ascii_case("Basic") {
        let decoded = STANDARD
            .decode(credentials.trim())
            .map_err(|_| INVALID_SIGNATURE)?;
        let text = String::from_utf8(decoded).map_err(|_| INVALID_SIGNATURE)?;
        let (cid, key) = text.split_once(':').ok_or(INVALID_SIGNATURE)?;
        if cid != account.customer_id {
            return Err(UNKNOWN_CUSTOMER);
        }
        return if ct_eq_str(key, account.api_key) {
            Ok(Authenticated {
                nonce: None,
                scheme: "Basic",
            })
        } else {
            Err(INVALID_SIGNATURE)
        };
    }
    if scheme != "TSA" {
        return Err(INVALID_SIGNATURE);
    }
    let (cid, signature) = credentials.rsplit_once(':').ok_or(INVALID_SIGNATURE)?;
    if cid != account.customer_id {
        return Err(UNKNOWN_CUSTOMER);
    }
    // x-ts-date overrides Date when both are present.
    let (date, in_x_ts_date) = match header(headers, "x-ts-date") {
        Some(d) => (d, true),
        None => (header(headers, "date").ok_or(DATE_FORMAT)?, false),
    };
    let sent_at = DateTime::parse_from_rfc2822(date).map_err(|_| DATE_FORMAT)?;
    if let Some(tol) = account.tolerance
        && (now - sent_at.with_timezone(&Utc)).abs() > tol
    {
        return Err(DATE_RANGE);
    }
    let nonce = header(headers, "x-ts-nonce").unwrap_or("");
    if !NONCE_LEN.contains(&nonce.len()) {
        return Err(NONCE_LENGTH);
    }
    let auth_method = header(headers, "x-ts-auth-method").unwrap_or("HMAC-SHA256");
    if auth_method != "HMAC-SHA256" {
        return Err(INVALID_SIGNATURE);
    }
    let content_type = header(headers, "content-type").unwrap_or("");
    let mut canonical = format!("{method}\n{content_type}\n");
    if !in_x_ts_date {
        canonical.push_str(date);
    }
    canonical.push_str("\nx-ts-auth-method:HMAC-SHA256");
    if in_x_ts_date {
        canonical.push_str("\nx-ts-date:");
        canonical.push_str(date);
    }
    canonical.push_str("\nx-ts-nonce:");
    canonical.push_str(nonce);
    let mut canonical = canonical.into_bytes();
    if !content_type.is_empty() && !body.is_empty() {
        canonical.push(b'\n');
        canonical.extend_from_slice(body);
    }
    canonical.push(b'\n');
    canonical.extend_from_slice(resource.as_bytes());
    let key = decode_api_key(account.api_key).ok_or(INVALID_SIGNATURE)?;
    if ct_eq_str(&hmac_b64(&key, &canonical), signature.trim()) {
        Ok(Authenticated {
            nonce: Some(nonce.to_owned()),
            scheme: "TSA",
        })
    } else {
        Err(INVALID_SIGNATURE)
    }
}

/// The `Authorization` / `X-TS-Authorization` value TeleSign puts on a callback.
#[must_use]
pub fn callback_authorization(customer_id: &str, api_key: &str, body: &[u8]) -> String {
    let key = decode_api_key(api_key).unwrap_or_default();
    format!("TSA {customer_id}:{}", hmac_b64(&key, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str =
        "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";
    const CID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";
    const DATE: &str = "Wed, 14 Dec 2016 18:20:12 GMT";
    const NONCE: &str = "A1592C6F-E384-4CDB-BC42-C3AB970369E9";

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc2822(DATE)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn account(tol: Option<i64>) -> Account<'static> {
        Account {
            customer_id: CID,
            api_key: K1,
            tolerance: tol.map(chrono::Duration::seconds),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn tsa(sig: &str) -> String {
        format!("TSA {CID}:{sig}")
    }

    #[test]
    fn key_decoding() {
        assert_eq!(decode_api_key(K1).unwrap().len(), 61);
        assert_eq!(decode_api_key("VGVzdCBLZXk=").unwrap(), b"Test Key");
        assert_eq!(
            decode_api_key("yourApiKey").unwrap(),
            [0xca, 0x8b, 0xab, 0x02, 0x98, 0x8a, 0x7b]
        );
        assert!(decode_api_key("").is_none());
    }

    #[test]
    fn accepts_the_sdk_vectors() {
        let form = "application/x-www-form-urlencoded";
        let a = account(Some(900));
        let v1 = headers(&[
            (
                "authorization",
                &tsa("2xVlmbrxLjYrrPun3G3WMNG6Jon4yKcTeOoK9DjXJ/Q="),
            ),
            ("date", DATE),
            ("content-type", form),
            ("x-ts-auth-method", "HMAC-SHA256"),
            ("x-ts-nonce", NONCE),
        ]);
        let ok = check_request(&a, "POST", "/v1/resource", &v1, b"test=param", now()).unwrap();
        assert_eq!(ok.nonce.as_deref(), Some(NONCE));
        let v2 = headers(&[
            (
                "authorization",
                &tsa("h8d4I0RTxErbxYXuzCOtNqb/f0w3Ck8e5SEkGNj01+8="),
            ),
            ("date", DATE),
            ("content-type", form),
            ("x-ts-nonce", NONCE),
        ]);
        check_request(&a, "POST", "/v1/resource", &v2, b"test=%CF%BF", now()).unwrap();
        // GET as the Python SDK sends it: an empty Content-Type header.
        let v3 = headers(&[
            (
                "authorization",
                &tsa("aUm7I+9GKl3ww7PNeeJntCT0iS7b+EmRKEE4LnRzChQ="),
            ),
            ("date", DATE),
            ("content-type", ""),
            ("x-ts-auth-method", "HMAC-SHA256"),
            ("x-ts-nonce", NONCE),
            (
                "user-agent",
                "TeleSignSDK/python-2.2.2 Python/3.11 Requests/2.31.0",
            ),
        ]);
        check_request(&a, "GET", "/v1/resource", &v3, b"", now()).unwrap();
        let msg = headers(&[
            (
                "authorization",
                &tsa("9IpITGrUZRLogL8GEe311Ovxv3gIipQvv7AJkD4PF8c="),
            ),
            ("date", DATE),
            ("content-type", form),
            ("x-ts-nonce", NONCE),
        ]);
        let body = b"phone_number=15555555555&message=Hello+world&message_type=ARN";
        check_request(&a, "POST", "/v1/messaging", &msg, body, now()).unwrap();
        let xts = headers(&[
            (
                "authorization",
                &tsa("pFCuLD2MHfmIpT7xhKTmcu+hDASF4y2ahEwRAwGbCVk="),
            ),
            ("x-ts-date", DATE),
            ("date", "Thu, 01 Jan 1970 00:00:00 GMT"),
            ("content-type", form),
            ("x-ts-nonce", NONCE),
        ]);
        check_request(&a, "POST", "/v1/messaging", &xts, body, now()).unwrap();
        let node = Account {
            customer_id: "yourCustomerId",
            api_key: "yourApiKey",
            tolerance: None,
        };
        let json = headers(&[
            (
                "authorization",
                "TSA yourCustomerId:q5n15bclH8MY7OmbZnuVxwb9uivpmafJAlLcFnN/U8A=",
            ),
            ("date", DATE),
            ("content-type", "application/json"),
            ("x-ts-nonce", NONCE),
        ]);
        check_request(
            &node,
            "POST",
            "/v1/resource",
            &json,
            br#"{"key":"value"}"#,
            now(),
        )
        .unwrap();
        let basic = headers(&[(
            "authorization",
            "Basic RkZGRkZGRkYtRUVFRS1ERERELTEyMzQtQUIxMjM0NTY3ODkwOkVYQU1QTEUtLS0tVEU4c1RnZzQ1eXVzdW1vTjZCWXNCVmtoK3lSSjVjemdzbkNlaFphT1lsZFBKZG1GaDZOZVg4a3VuWjJ6VTFZV2FVdy8wd1Y2eGZ3PT0=",
        )]);
        assert_eq!(
            check_request(&a, "POST", "/v1/messaging", &basic, b"", now())
                .unwrap()
                .scheme,
            "Basic"
        );
    }

    #[test]
    fn refusals() {
        let a = account(Some(900));
        let base = |auth: &str, date: &str, nonce: &str| {
            headers(&[
                ("authorization", auth),
                ("date", date),
                ("x-ts-nonce", nonce),
            ])
        };
        let good_get = tsa("ikIWVlV72ievEZcZbfwa9fDem81hquaV7VlxItRjGrc=");
        let res = "/v1/messaging/0123456789ABCDEF0123456789ABCDEF";
        check_request(&a, "GET", res, &base(&good_get, DATE, NONCE), b"", now()).unwrap();
        assert_eq!(
            check_request(&a, "GET", res, &HeaderMap::new(), b"", now()),
            Err(INVALID_SIGNATURE)
        );
        assert_eq!(
            check_request(
                &a,
                "GET",
                "/v1/messaging/X",
                &base(&good_get, DATE, NONCE),
                b"",
                now()
            ),
            Err(INVALID_SIGNATURE)
        );
        let other =
            "TSA 00000000-0000-0000-0000-000000000000:ikIWVlV72ievEZcZbfwa9fDem81hquaV7VlxItRjGrc=";
        assert_eq!(
            check_request(&a, "GET", res, &base(other, DATE, NONCE), b"", now()),
            Err(UNKNOWN_CUSTOMER)
        );
        assert_eq!(
            check_request(
                &a,
                "GET",
                res,
                &base(&good_get, "yesterday", NONCE),
                b"",
                now()
            ),
            Err(DATE_FORMAT)
        );
        let later = now() + chrono::Duration::seconds(901);
        assert_eq!(
            check_request(&a, "GET", res, &base(&good_get, DATE, NONCE), b"", later),
            Err(DATE_RANGE)
        );
        assert_eq!(
            check_request(&a, "GET", res, &base(&good_get, DATE, "short"), b"", now()),
            Err(NONCE_LENGTH)
        );
        let callback = callback_authorization(CID, K1, b"{'test': 123}");
        assert_eq!(
            callback,
            tsa("B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744=")
        );
        let wrong_basic = headers(&[(
            "authorization",
            &format!("Basic {}", STANDARD.encode(format!("{CID}:nope"))),
        )]);
        assert_eq!(
            check_request(&a, "GET", res, &wrong_basic, b"", now()),
            Err(INVALID_SIGNATURE)
        );
    }
}
