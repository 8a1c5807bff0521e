//! The simulator's fixed RSA test key (never generated at runtime: RSA key generation is slow
//! in debug builds) and the Entra-like tokens it signs for webhook deliveries.
//!
//! The key is a test key published here on purpose; it protects nothing.

use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// `kid` of the signing key.
pub const KID: &str = "byoc-sim-key-1";
/// RSA modulus (base64url) of the signing key, as in the JWKS.
pub const N: &str = "uQWKVrgHq3h_OPHS_V6aGJrIe-QrAGfqNQhFYwTxfcgL42ZHSOWuDODW_Qrc1inWikUbrvgN8VWJki1w5d97Y4W-YhDmUEIYiIDYkVZGXaWmGUB0nJYE8NKl69BDPxDc34yB0k_uFOjx9L_RtXa2hEZilRFtW1GReYfqsoJz9eDFWRkfoTDJzWaZhkvP4CM2DyYnqupCAJ1ktxHPiv-eiWUpOp_i4yw1qqyox6LKRBHvWi_17IVX8ahzPyF9pdCl3qqnriZNAkuUs3nJFhh-izrt3z3ybuLoZke6wEH54MFRRjw-cVIKgdBIuQwNw3ss7vUdrrn4nHsrxTIBjwUT-w";
/// RSA public exponent (base64url).
pub const E: &str = "AQAB";
/// The private key (PKCS#1 PEM).
pub const PRIVATE_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAuQWKVrgHq3h/OPHS/V6aGJrIe+QrAGfqNQhFYwTxfcgL42ZH
SOWuDODW/Qrc1inWikUbrvgN8VWJki1w5d97Y4W+YhDmUEIYiIDYkVZGXaWmGUB0
nJYE8NKl69BDPxDc34yB0k/uFOjx9L/RtXa2hEZilRFtW1GReYfqsoJz9eDFWRkf
oTDJzWaZhkvP4CM2DyYnqupCAJ1ktxHPiv+eiWUpOp/i4yw1qqyox6LKRBHvWi/1
7IVX8ahzPyF9pdCl3qqnriZNAkuUs3nJFhh+izrt3z3ybuLoZke6wEH54MFRRjw+
cVIKgdBIuQwNw3ss7vUdrrn4nHsrxTIBjwUT+wIDAQABAoIBAFjBiiPggzlkA+++
vd6yl4xvD/aytVgsAUOwdIy0Ld6PbPiIs3CKUay23RslL1wDVPoefdG5CAM569U2
PD7hrrDG01X60mk0080DtiA+OWIqGRxq+aW2J6eY/WQ6k0+5GKOapRpNIqJgPtWQ
gRqiWJrqotbstb+FSRp6M4Gvp84OU9EDM4fbUfFc93SVWZQlnhuvWliklOLvMjzF
b+XI50RmO576U63qO1uPGfKWQi/NFIJK3rR+05Mbih02VpSWnsnwK9kyS188IQY/
BCfZujpTWWA5MSKLHwS0x5wrnL2RkMrMhvtTzDD5lI0ELi8Ewlzm++elXyg1m7zS
8WgJZ5kCgYEA8gfsdqOLaWlbavIv+heehvACidSBaafXcp+jOI5yshjsCqxHhJ1I
qe3+66A9pMfY7Gn2BXle3IdAUrlIFRgZv19owkx0rz5zLV2x/MWlOIMVaz/zrj+W
Ma9Yvnojw4+wvHCpDec2ib0LDs08O9nw3rk6Bk2eolUTaHjrKuVO3bkCgYEAw7NJ
s4wuI0sTA0dDCaUzdffmHf+WtKC9Rah6z5X9CddAqRfe6Wy8NZ2Tx4GLE+up/MRh
yEtV34M3mQToN8pfi2b2pCiAST/zc8MbQVtoURGuY/SeaoHf4jP7OccJ08MK0kkf
ua7eyh4UT0mK6cw8B2kIQDLTD/oIl+ez12I9OVMCgYEAkLCR+X7d2h+lCjNM4Tr7
h3m2WsWStCIl1519y1LFWJkzi1Hg03Pfu87OxfgewgLDONpDvJQJVNb6ajnf0NR+
l/ymuPlSDG3OF0HbJNzXYAhlZp9twy66UGueJwkHlmKxaoYDWo9t+Dvuf2PMbY9l
wxCCksAWZL9tgdg/5n39fukCgYBGfW/Qom+D+uiwR5zX/o9YsKBMseFg0n0aeCM0
Xnw0bTo3Lgf24Fmynj26oOitljc2eq4V7TzTM3p1PZU/cz+TANVaL9R1jfls+xv4
IKqkeM/t5RCioIE6Ays8lnrtsdVWBUzOHzTUbJ04Ke9FY3FD4gs8xJHNsWwi+yyG
KjaPTQKBgDRSMBGKfUrWvJYjt2Kl8AHnQ2XwgYOshjh12ryeRYtavhv48aiFmZJr
q9DxUelfLhWRnq30rNAR+1sH2AusLQMxIH5avEUSmPsbDgYmgWKxXkZbZ44CcJc1
0tfMFILKyCiQnfnSCoZbhvyUM8lp3DGOm/C/xZCTemiMCSFi9BOn
-----END RSA PRIVATE KEY-----";

/// Known-answer vector: a v2 token signed with this key by openssl (independently of the
/// simulator and the adapter): tenant `7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20`, app
/// `3f2504e0-4f89-41d3-9a0c-0305e82c3301`, `iat`=`nbf` 1767222000, `exp` 1767225600.
pub const KAV_TOKEN_V2: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJ5b2Mtc2ltLWtleS0xIn0.eyJhdWQiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJpc3MiOiJodHRwczovL2xvZ2luLm1pY3Jvc29mdG9ubGluZS5jb20vN2QxZjNhNWMtOWUyYi00YzZkLThmMGEtMWIzYzVkN2U5ZjIwL3YyLjAiLCJpYXQiOjE3NjcyMjIwMDAsIm5iZiI6MTc2NzIyMjAwMCwiZXhwIjoxNzY3MjI1NjAwLCJhenAiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJzdWIiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJ0aWQiOiI3ZDFmM2E1Yy05ZTJiLTRjNmQtOGYwYS0xYjNjNWQ3ZTlmMjAiLCJ2ZXIiOiIyLjAifQ.FZ-5r6CRrIub-mU_5GdlU9Ff6RVYxu-jLMtcKN4XyGIMq4RgX2D25nKlSJjc8H7vkCu3sMmrlHZsoQHjtAI3nTkMwW-YCiiZoZLGIH5q3rC0r04FWAGocwOV1I8PIh-SKQkoyuOf2cQvenITk73Y69hR4dcg2XTY2urZFmj5qc_0pkinUD5L59Phir6CLKEJWiTqOtAdKWTpD9KNXZM9M3mBb7lUr8wc6D8LrkcRkO3sVU2KFBZGoZtz7jNc8T3oWyBDJ_2wA-LVGDrUyT6QgwqP-5rRi6pAQ0B6vt93qeBD19qNpg7QUu9yYK1uA2cetMCQ_ZggIAfUEWxC2CPa7Q";
/// Known-answer vector: the same as a v1 token (`sts.windows.net` issuer, `appid`,
/// `aud` = `api://{app}`).
pub const KAV_TOKEN_V1: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJ5b2Mtc2ltLWtleS0xIn0.eyJhdWQiOiJhcGk6Ly8zZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJpc3MiOiJodHRwczovL3N0cy53aW5kb3dzLm5ldC83ZDFmM2E1Yy05ZTJiLTRjNmQtOGYwYS0xYjNjNWQ3ZTlmMjAvIiwiaWF0IjoxNzY3MjIyMDAwLCJuYmYiOjE3NjcyMjIwMDAsImV4cCI6MTc2NzIyNTYwMCwiYXBwaWQiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJzdWIiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJ0aWQiOiI3ZDFmM2E1Yy05ZTJiLTRjNmQtOGYwYS0xYjNjNWQ3ZTlmMjAiLCJ2ZXIiOiIxLjAifQ.Qkdnruw05Yb9TWPAUL_eR70nepssehFzXZALxJcX9vxdK6enillrsdwVh8-MDwRwj_HTKgK4mqcnGfKJCxdZjkfiVKp5ky_vaRyoTdZQiMp4va6gHDhKJzfkm4qhXh8V3rFiRTX1oiqA77FIv9BvivPA5-7j-4QT5gYSnJOED4ZQUMqO6YNKc4e_ZBUXlj6Cg4O7qK5g-VJhGPmq_YIXokM3lxJW87SazvrexmzsTHR04KRblyIi2BQUDRA_0paRWGrpBRanyn4HLeVL2bQUSxEpFvbnB6mt6IKtupQMmZdRvOzGRGxJ9eATTNVmGAcOYckJQOzWKIEPBGMLnr9QAQ";

/// The JWKS document served at `/{tenant}/discovery/v2.0/keys`.
#[must_use]
pub fn jwks() -> serde_json::Value {
    serde_json::json!({
        "keys": [{ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": N, "e": E }]
    })
}

/// Signs `claims` as an RS256 JWT with the fixed key.
///
/// # Errors
/// Only if the built-in PEM were corrupt.
pub fn sign(claims: &serde_json::Value) -> anyhow::Result<String> {
    let key = EncodingKey::from_rsa_pem(PRIVATE_PEM.as_bytes())?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    Ok(jsonwebtoken::encode(&header, claims, &key)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    fn check(token: &str) -> serde_json::Value {
        let key = DecodingKey::from_rsa_components(N, E).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<serde_json::Value>(token, &key, &v)
            .unwrap()
            .claims
    }

    #[test]
    fn known_answer_tokens_verify_with_the_jwks_key() {
        let c = check(KAV_TOKEN_V2);
        assert_eq!(c["tid"], "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20");
        assert_eq!(c["exp"], 1_767_225_600);
        let c = check(KAV_TOKEN_V1);
        assert_eq!(
            c["iss"],
            "https://sts.windows.net/7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20/"
        );
    }

    #[test]
    fn signed_tokens_verify() {
        let t = sign(&serde_json::json!({"tid": "t", "exp": 1})).unwrap();
        assert_eq!(check(&t)["tid"], "t");
        assert_eq!(jwks()["keys"][0]["kid"], KID);
    }
}
