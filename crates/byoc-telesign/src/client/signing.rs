//! Outbound request authentication: TeleSign's HMAC-SHA256 "TSA" signature (with the date in
//! `Date` or in `x-ts-date`) and Basic (`docs/protocols/telesign.md#request-authentication`).
//! Pure functions; the date and nonce are passed in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use crate::config::ApiKey;

/// Value of `x-ts-auth-method` for TSA signatures.
pub(crate) const AUTH_METHOD_HMAC_SHA256: &str = "HMAC-SHA256";
/// Value of `x-ts-auth-method` sent alongside Basic auth (as the SDKs do).
pub(crate) const AUTH_METHOD_BASIC: &str = "Basic";
/// Header carrying the nonce.
pub(crate) const X_TS_NONCE: &str = "x-ts-nonce";
/// Header carrying the auth method.
pub(crate) const X_TS_AUTH_METHOD: &str = "x-ts-auth-method";
/// Header carrying the date in the `x-ts-date` variant.
pub(crate) const X_TS_DATE: &str = "x-ts-date";
/// Content type of form requests.
pub(crate) const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Where the signed date travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum DatePlacement {
    /// In `Date`; the string to sign has the date on its third line.
    Date,
    /// In `x-ts-date`; the third line is empty and `x-ts-date:{date}` is signed between
    /// the auth method and the nonce.
    XTsDate,
}

/// The parts of a request a TSA signature covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SigningInput<'a> {
    /// `GET`, `POST`, ...
    pub(crate) method: &'a str,
    /// The `Content-Type` sent; empty for requests without body.
    pub(crate) content_type: &'a str,
    /// The RFC 2616 date sent (see [`http_date`]).
    pub(crate) date: &'a str,
    /// Where the date travels.
    pub(crate) placement: DatePlacement,
    /// The nonce sent in `x-ts-nonce`.
    pub(crate) nonce: &'a str,
    /// The exact body bytes sent (signed only when `content_type` is not empty).
    pub(crate) body: &'a [u8],
    /// The path, without host or query (`/v1/messaging`).
    pub(crate) resource: &'a str,
}

/// The string TeleSign signs:
/// `METHOD\nCONTENT_TYPE\nDATE\nx-ts-auth-method:HMAC-SHA256\nx-ts-nonce:NONCE[\nBODY]\nRESOURCE`
/// (with `x-ts-date` the DATE line is empty and `x-ts-date:DATE` precedes the nonce).
#[must_use]
pub(crate) fn string_to_sign(input: &SigningInput<'_>) -> Vec<u8> {
    let mut s = Vec::with_capacity(160 + input.body.len());
    s.extend_from_slice(input.method.as_bytes());
    s.push(b'\n');
    s.extend_from_slice(input.content_type.as_bytes());
    s.push(b'\n');
    if input.placement == DatePlacement::Date {
        s.extend_from_slice(input.date.as_bytes());
    }
    s.extend_from_slice(b"\nx-ts-auth-method:");
    s.extend_from_slice(AUTH_METHOD_HMAC_SHA256.as_bytes());
    if input.placement == DatePlacement::XTsDate {
        s.extend_from_slice(b"\nx-ts-date:");
        s.extend_from_slice(input.date.as_bytes());
    }
    s.extend_from_slice(b"\nx-ts-nonce:");
    s.extend_from_slice(input.nonce.as_bytes());
    if !input.content_type.is_empty() && !input.body.is_empty() {
        s.push(b'\n');
        s.extend_from_slice(input.body);
    }
    s.push(b'\n');
    s.extend_from_slice(input.resource.as_bytes());
    s
}

/// `TSA {customer_id}:{signature}`.
#[must_use]
pub(crate) fn tsa_authorization(
    customer_id: &str,
    key: &ApiKey,
    input: &SigningInput<'_>,
) -> String {
    format!("TSA {customer_id}:{}", key.sign(&string_to_sign(input)))
}

/// `Basic base64(customer_id:api_key)`, the key as issued (not decoded).
#[must_use]
pub(crate) fn basic_authorization(customer_id: &str, key: &ApiKey) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{customer_id}:{}", key.secret()))
    )
}

/// An RFC 2616 date in GMT (`Wed, 14 Dec 2016 18:20:12 GMT`).
#[must_use]
pub(crate) fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str =
        "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";
    const CID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";
    const DATE: &str = "Wed, 14 Dec 2016 18:20:12 GMT";
    const NONCE: &str = "A1592C6F-E384-4CDB-BC42-C3AB970369E9";

    fn input<'a>(method: &'a str, ct: &'a str, body: &'a [u8]) -> SigningInput<'a> {
        SigningInput {
            method,
            content_type: ct,
            date: DATE,
            placement: DatePlacement::Date,
            nonce: NONCE,
            body,
            resource: "/v1/resource",
        }
    }

    fn api_key(text: &str) -> ApiKey {
        ApiKey::new(byoc_core::Secret::new(text)).unwrap()
    }

    fn sig(key: &str, i: &SigningInput<'_>) -> String {
        api_key(key).sign(&string_to_sign(i))
    }

    #[test]
    fn tsa_signatures_match_the_python_java_ruby_known_answers() {
        let i = input("POST", FORM_CONTENT_TYPE, b"test=param");
        assert_eq!(
            String::from_utf8(string_to_sign(&i)).unwrap(),
            "POST\napplication/x-www-form-urlencoded\nWed, 14 Dec 2016 18:20:12 GMT\nx-ts-auth-method:HMAC-SHA256\nx-ts-nonce:A1592C6F-E384-4CDB-BC42-C3AB970369E9\ntest=param\n/v1/resource"
        );
        assert_eq!(
            tsa_authorization(CID, &api_key(K1), &i),
            format!("TSA {CID}:2xVlmbrxLjYrrPun3G3WMNG6Jon4yKcTeOoK9DjXJ/Q=")
        );
        assert_eq!(
            sig(K1, &input("POST", FORM_CONTENT_TYPE, b"test=%CF%BF")),
            "h8d4I0RTxErbxYXuzCOtNqb/f0w3Ck8e5SEkGNj01+8="
        );
        let get = input("GET", "", b"");
        assert_eq!(
            String::from_utf8(string_to_sign(&get)).unwrap(),
            "GET\n\nWed, 14 Dec 2016 18:20:12 GMT\nx-ts-auth-method:HMAC-SHA256\nx-ts-nonce:A1592C6F-E384-4CDB-BC42-C3AB970369E9\n/v1/resource"
        );
        assert_eq!(
            sig(K1, &get),
            "aUm7I+9GKl3ww7PNeeJntCT0iS7b+EmRKEE4LnRzChQ="
        );
        // A body on a request without content type is not signed (RB GET test).
        assert_eq!(sig(K1, &input("GET", "", b"test=param")), sig(K1, &get));
    }

    #[test]
    fn tsa_signatures_leave_query_fields_unsigned_as_the_php_known_answers() {
        let mut i = input("POST", FORM_CONTENT_TYPE, b"test=param");
        i.date = "Mon, 27 Jan 2017 23:59:59 GMT";
        i.nonce = "5ffb243e-8e2a-4a7b-bf22-2b3925b3d6ef";
        assert_eq!(sig(K1, &i), "smUGWEeXtN+WT1s/y1Ssp4Q2Acm/ultPxkgl/GjqSsA=");
        i.method = "PUT";
        assert_eq!(sig(K1, &i), "ccNQP7Tdwsfqx/Sdz/MmZuhFh+z0z/Bj+OcwDhbTT0s=");
        // GET / DELETE: query fields are not signed.
        i.content_type = "";
        i.method = "GET";
        assert_eq!(sig(K1, &i), "YgzQt6LcuBDSUeTpE4SASXcSAKAm1eL5TWetbxhXJxg=");
        i.method = "DELETE";
        assert_eq!(sig(K1, &i), "ODT8s51qSdrS2pKbtrKIu76gQJf2h0hDz8nJ5ho0/6w=");
    }

    #[test]
    fn tsa_signatures_of_form_and_json_bodies_match_the_node_known_answers() {
        let k = "VGVzdCBLZXk=";
        assert_eq!(
            sig(k, &input("POST", FORM_CONTENT_TYPE, b"test=param")),
            "vXw/XzywdhgfEG2/zWLaFp7oXmjLB8iJDMndvDbZMjk="
        );
        assert_eq!(
            sig(k, &input("POST", FORM_CONTENT_TYPE, b"test=%CF%BF")),
            "lPpGXw4jTRdaEp2obzYAD5rR+2aWDInJ8ThLbq0nTGU="
        );
        assert_eq!(
            sig(k, &input("GET", "", b"")),
            "wscyrZZtA7kdXu0i4D5KXyDmBcwH52JF1feiEKp+ir0="
        );
        let json = input("POST", "application/json", br#"{"key":"value"}"#);
        assert_eq!(
            tsa_authorization("yourCustomerId", &api_key("yourApiKey"), &json),
            "TSA yourCustomerId:q5n15bclH8MY7OmbZnuVxwb9uivpmafJAlLcFnN/U8A="
        );
    }

    #[test]
    fn x_ts_date_moves_the_date_into_its_own_signed_line() {
        let body = b"phone_number=15555555555&message=Hello+world&message_type=ARN";
        let mut i = input("POST", FORM_CONTENT_TYPE, body);
        i.resource = "/v1/messaging";
        assert_eq!(sig(K1, &i), "9IpITGrUZRLogL8GEe311Ovxv3gIipQvv7AJkD4PF8c=");
        i.placement = DatePlacement::XTsDate;
        assert_eq!(
            String::from_utf8(string_to_sign(&i)).unwrap(),
            "POST\napplication/x-www-form-urlencoded\n\nx-ts-auth-method:HMAC-SHA256\nx-ts-date:Wed, 14 Dec 2016 18:20:12 GMT\nx-ts-nonce:A1592C6F-E384-4CDB-BC42-C3AB970369E9\nphone_number=15555555555&message=Hello+world&message_type=ARN\n/v1/messaging"
        );
        assert_eq!(sig(K1, &i), "pFCuLD2MHfmIpT7xhKTmcu+hDASF4y2ahEwRAwGbCVk=");
        let mut g = input("GET", "", b"");
        g.resource = "/v1/messaging/0123456789ABCDEF0123456789ABCDEF";
        assert_eq!(sig(K1, &g), "ikIWVlV72ievEZcZbfwa9fDem81hquaV7VlxItRjGrc=");
    }

    #[test]
    fn basic_auth_encodes_the_key_as_issued() {
        assert_eq!(
            basic_authorization(CID, &api_key(K1)),
            "Basic RkZGRkZGRkYtRUVFRS1ERERELTEyMzQtQUIxMjM0NTY3ODkwOkVYQU1QTEUtLS0tVEU4c1RnZzQ1eXVzdW1vTjZCWXNCVmtoK3lSSjVjemdzbkNlaFphT1lsZFBKZG1GaDZOZVg4a3VuWjJ6VTFZV2FVdy8wd1Y2eGZ3PT0="
        );
        assert_eq!(
            basic_authorization("yourCustomerId", &api_key("yourApiKey")),
            "Basic eW91ckN1c3RvbWVySWQ6eW91ckFwaUtleQ=="
        );
        assert_eq!(
            basic_authorization(CID, &api_key("VGVzdCBLZXk=")),
            "Basic RkZGRkZGRkYtRUVFRS1ERERELTEyMzQtQUIxMjM0NTY3ODkwOlZHVnpkQ0JMWlhrPQ=="
        );
    }

    #[test]
    fn dates_are_written_as_rfc_1123_gmt() {
        let at = DateTime::parse_from_rfc3339("2016-12-14T18:20:12Z")
            .unwrap()
            .to_utc();
        assert_eq!(http_date(at), DATE);
    }
}
