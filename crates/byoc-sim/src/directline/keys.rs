//! Fixed RSA test keys (2048-bit, PKCS#8 PEM) and RS256 signing, so the simulator starts
//! instantly (generating RSA keys in debug builds is slow) and its tokens are reproducible.
//! These keys are public test material: never trust them anywhere real.

/// Test key `sim-key-1`.
pub const KEY_1_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQCycPVzXUJQR2rT\n2Z12OfG+eeUmk+tS6mnM+g2GSa8J368+Hfeyq+sRNCy4pliSYO19tmYS0YWUMicA\nWyrflHL1uRTtPbz3MpSo24Htin2yQk1iTrah5xMFUpTEFGvxAmiWg7meORJuG0CH\nwSBDTCOsbmxODKdnX6ZTnu8mtn9rRfdEwNrAk9AK3XJttroM7Ja/LXZAUeDvFTLl\nBMui073PI/8uAWgb2ZGAppNfsB2odFrr0Nn8k9UpStgPL1LXf8TdQsVoG/jYgB4x\nu7ULddNJE50X3qNfWjaeW72wTN79yv74K5ehM0rPIgu4L+3c1zlYbmJm9rkOOQFL\nzWf5ddIbAgMBAAECggEABcSmAo0stBii6Oc7clNsL5qUIDue20bNlb0ti749BMYw\nzYK9e46YIi28Fln2OgEdHDe1s/0G4uP+I8JOr/yF/NB3TzX0Mk91w8GYwRt9dbIz\n+y4NNE2abU0elvoMBTXtOJRYfzdcE6gY3WqORu6ippPJN3qsPKi4YTKdi3RRyR9j\njXn/Xk/fXQkLA4OTLiEt3CsDO5ja22xeAXrijnXDulGzpwIGmv8ybrU7IJyWMOGV\nblEpdO95DxQDW69wVI3T3SMUH373bk/MjGig6NaHHTsfhHVmg/9UZNxuYScz2bgk\nmTnYo7BHRb4GycdwnvhJ5q3QoQl2SoqwTCgfCdpwYQKBgQDZN2q56LyEfFsosY9x\nVjZe1koEt+AUN7E6Pulc45ZfW2nqWoz3XUL9H5l0jMZL2BwpGpdsKeHWhE3K7b2k\n9d8FKlNWyAfrEA1cLbgvcMiCRLpvTdyNBNbsHNj5gAFbIFfJ3tKABxNzp479yVhE\nGU9UroDR/yCzK80GnUVAwgqXYQKBgQDSTTHGLPGd+xhdmza6Zk9Dh2LCuW9Efu5X\nhuIW6jhU1cwXCUSDeNOsQaxoX8mEyDcL8iRepVQKyGLOc3VsYwdaIxT7ZShsm+QP\n/jEpOdTGzg/6584hD23qWr4CaULf5PFi+UWISAX8QAIpz2V7MNd7anX0mZx2oL9g\n3vAsS3sm+wKBgQDWFZhKwueKbEYsRVRrD91mey1YmSFwy7MRBRBbTLPYJ/Cr2bM1\n2eU8NPi5tkV6WvTmTh8Pq/e5xYwmhUp0WyADp0OcNGoZcyi3wRfXKgF04ugc61CE\nbFCnRYdT4KV1etsLS2GMbWzugCaeWuNzur5FZ/fvANTpwjHAYyDuQlDOAQKBgQDH\nEgWc16x75FWDPksHFZPQk5a8RzZ5e0H4npjkIiDixWMlJ0OwxC5y79PZFVs4EyJw\nb21YHl44usk1Lnwn9nHeNDlHY9FpRgQT04YLxU+SRTtBQi6Qgv+ECRO2SpfgQuLw\n0o+sWqk3yAuEMmuYunovvG4d9U7zyGSAuWhWNblFAwKBgQCqsW594WCcVD9Df6+j\nYoCZjzFSwm9aKRSHYPdUXZVPP77aBM5cg2IV1Md4LWchGR924it4dk/a3xfUr70v\nAQr+5Aa7vu+9bSKzs4s2/YA85BEQacdAPtZCzHjn0FykPVE2Y2YF77PIn45OQJZQ\nrRCIdqK3wcQqU7MhPLltqySCEg==\n-----END PRIVATE KEY-----\n";
/// Test key `sim-key-2`.
pub const KEY_2_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCAx36iFeEcUfr+\nJtBPJPD7VAWdVLJcW4l0npZMSZzM6mx4CIhFouVDFCul0UYWxBed213mZQKIpKlW\nhdq8Pb5PTtX6KBjv8m+YRLzYXqXTl8FNwUoTm6TS36nSFTwIGt0FHzO6eMWh8NFU\n6Fgs4hQp81h231x4hqby3ntpj2tNY1BJt98YkLhJruOXR0ddyZHHE0uuLLriSuxt\nzgCLSiPPQ7slLOjiDZ6XYj6whpxSpGNvLsxkImhiC98KeUzOP0Mn/yJCb1WwS6nl\nvryIidYe3c6IEhA1wCm7+f+TjrJY0akfdSp5hbpOtoIbKt+RcLAgJWXrittrm+gy\nMVKMuB2TAgMBAAECggEABGsTyKrYgNi9NEgPoI+DZxQQZz/3KJ0JX8NrI63o38zx\nMMMWLdFzbTQ9dSBzd6d9qfBTTerMRfTkTHAmO4wgwebSB5WlmWHne0Fsez3wEYzk\n2G6XxIl0A7ohwO/ykdKeH6Vc6HppSW+SNwgLsmqFR5UuRVHPgeEYzD9e25XMmCiS\nLJb+sCThwCf+KQf1P3xlhbqtFaX2U+4wSo8L25SSxjW9AXfNYEwfh+UtPT5HXMAy\nM3AkSJ20ytCeQSP7I5askjdZSwpMa1Qj3FK2R4mZeCDjUnhT0fCdHBdys3/AH/2Z\nzcFgah1JXL5HFWG4zqFEUVDACQpQZgw8BUGOoQQQ+QKBgQC1rC97REP+n50utaiG\nvh5JABJAIkG7ySkDYZeCORHbcoB3qiQEKdyxwUTNhS4VHenuRuaT86cVMekRNGD9\nUDYl7IbmtvlF1sQFHcydZkfsryX8FyTdgdr1qBEtNlsRvA3raVgcPYBMFe3Jn0gv\nKS7RZW3m6IB1Ldp+d9YlF9zfGQKBgQC1d23xu2orHX00kMVCmBTTYUDTCcciofuS\nxn74h1cnUAJ8GW1UgzE6tdBZCpxfd7l+0dQB7lkfU0UffzKixLP9iVrM5EGxnw8q\nOMQ6FrcRCBIOg9285AGMHsah3lE3GXcyp83ob6GGz5E8l81DWjAdZX1Veqk7cq6t\nIWKIwkEziwKBgQCnpKh8G1aTVD77p25ISJAx1PsCa5o060AJerkQ1hEAa/zYcAyk\nOu0IqswOyuLnYZ9I3exQgvqfuFrWIXuOxcHx5P3nUNld9P0Vq5XxeTzN0CJBKio+\nrWGcZubSzeHjz6EYpzFDfg0yKNowv+cgfeRSHkL4XXyMpS+GnJbjy81poQKBgQCU\n0ixNiikI0Pdky7Gq6rRxopmaObOhmHyMI9PvmHcGW5yeD/BU1f7iqkcDLyuNM8/h\nzM11A/b9NLpEmXl6eZ0vOZ1I2Y1y0QKL2uA6z3Q1OIwucUDBb7BBLOAz0fKDIJRb\n67h3fk1XFRWEPu5s5SL+iMQf/SebBHNysyVvCPiV/wKBgESXKL6SWIHFmXQ6yBXl\npu0rIhtndpzJpAxaq0QRhbsZ6EDqP0t8kI/NLA+0LRGQ5TYUj1juWnvSB6wkbCc1\nqOkaa9xjOP8rwGP7fNiZO4rVNj3Maqd2ZcVr6RtjygoN7l9ci2zEpTYaKZRfPeP0\n7+i+9qtmlhXOm1FkO6oIei6Q\n-----END PRIVATE KEY-----\n";
/// Test key `sim-key-3`.
pub const KEY_3_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCL28fHYUpTypwW\n+JVHu2iflRzkbv8J8aCDd7GvnJugtAAhoi3Z4H0z3B7UoMDylO0Vcrb1aDabzB4N\nRhlvduKZZcITtK8+njDtGliF5HJEH4KsDKSL2AqpPGPHwEe7xXeHqtN7oihsDW8k\njccdNrYXqf1tcq+1/xVutDcK3ez5woKVjYKEgTFj2zuITeTnrEWaAYp5uxBpZkvQ\nNOA0Z5msoQXiyfers/HY6EofF7Rl3VYsZk/r/qVZ0CdXpGQT98LAEPKLnDIHLOn3\ndCENTgJsQnr8LIywEiZ+Lj8pMVxFZy88WQdffNKjFFRba3woFO8Db8Rzar5Fxqzg\nmYHVZT1RAgMBAAECggEACIyrooBLySIAVzYkeAFYlLLKlJtFa2/yIj9BpSzTZahD\nPssZdvFubepllxVpnhqlAJPl48wWVIFOj/yqRuJTWVG7YrV/pfoJHyFmam7r3ka3\n1/kg4OyYwD4xEk+qguvAEhLLAUqJIovSsL8a/invSTSKybNCUwOQJZeOKtOkriLS\n8nRppBNag+DQypQEypLXRv5B05nR1fNnxp9G2g+M8KJ7EPb0v5NABoWTlbbDs3Bj\ni245Yz/ILGexLvl5CwvgI75zM9VMA08RKqLNK+I7M7uuHK0M2JjMUy6p1Ojo3tIS\nssrYuOqaXDSodWAWwDGl7xz9My4IMsMDKycN0xpxAQKBgQC/loXtQGSZMtkV9Zzh\n64Omc7GOI53pscL5nT128R9mELiZKsC+VVK0a3U/bp8wOT38L8XVt5ve/DYD04wL\nDYHV73F7WDIvtmYYuvdXTg6NzaLw51gFpYzRwzfPAnNL+AfeOe5PquuKiUvfSTj1\n6SpeUfetUER03tFch0gdgAQKQQKBgQC64QmW/ftL9bAapyK69q/P3j8xA+GJVHcq\n5hNB4PY/5eCds6xlOAcBqdxHS8orkFEjhgLQuiZk5+wuTfIaNczE+0VCDL0StxNf\nDLlgswh+9S75IhApMb8NxTw/hMWmX33cCGeV5r2Dy7IlSiOQTtV4UImYURAfBIGw\n5Dj/31bPEQKBgQCZfySf9/ZhU37f/B+MVd/tTUYVRm3vXQ+EY7lqATeR05XCiaFR\nHRUdHfcbMiryPPpvgWr0lp2YYuN331aVSGYcnDGEjB3xYiaca7ddSFmavQVuEzvP\nklqneMvO2/y6Aedz4WAQjjUWkneqVoT/aKccWHmibuvZ4udERdK+Z+FUwQKBgANa\ndmmXNSMvzXEs/pqMQqtgOZIPl8R3F4xVhJLyDnknDtjFmJpYXwfQnHtLCN2vQUV5\n6iMEtBurbbmG/Ikr3fjK6Xs970aesmJKQClUDRr6G1WtHs0eb2c32tTo9QL/Q6rn\nG7S85zmuNgwlQG4efAYkq9Nn4PotgoZCEiPFRjGBAoGBAK6OVx8osDXvHN/ny9zX\n18FdyCTXfJp7+DdIU/Q2pWcIbEQsRAmAdlu3R97fq/+DgQvG0ndC6PEFwvANALun\nEpU0HHhYkue+IYhRq2H10M83w29SVBAWiRR612e4zBeq1l4xMVdErrfm0XPWd5Su\nK2VK6zrr/e4UAxHPY+ro61vn\n-----END PRIVATE KEY-----\n";

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;

/// One signing key with its id.
#[derive(Clone)]
pub struct SimKey {
    /// `kid`.
    pub kid: String,
    key: RsaPrivateKey,
}

impl std::fmt::Debug for SimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SimKey {
    /// Parses a PKCS#8 PEM key.
    ///
    /// # Errors
    /// If the PEM is not an RSA private key.
    pub fn from_pem(kid: &str, pem: &str) -> anyhow::Result<Self> {
        Ok(Self {
            kid: kid.to_owned(),
            key: RsaPrivateKey::from_pkcs8_pem(pem)?,
        })
    }

    /// The three built-in keys `sim-key-1`..`sim-key-3`.
    ///
    /// # Errors
    /// Never for the built-in PEMs.
    pub fn builtin() -> anyhow::Result<[Self; 3]> {
        Ok([
            Self::from_pem("sim-key-1", KEY_1_PEM)?,
            Self::from_pem("sim-key-2", KEY_2_PEM)?,
            Self::from_pem("sim-key-3", KEY_3_PEM)?,
        ])
    }

    /// The public JWK, with `endorsements` (the Bot Framework extension).
    #[must_use]
    pub fn jwk(&self, endorsements: &[String]) -> serde_json::Value {
        let pk = self.key.to_public_key();
        serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(pk.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(pk.e().to_bytes_be()),
            "endorsements": endorsements,
        })
    }

    /// Signs `claims` as a compact JWS with `alg` RS256, RS384 or RS512 (any other `alg`
    /// string is written into the header as given and signed with RS256, to forge tokens for
    /// tests).
    #[must_use]
    pub fn sign(&self, alg: &str, claims: &serde_json::Value) -> String {
        let header = serde_json::json!({ "alg": alg, "kid": self.kid, "typ": "JWT" });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = match alg {
            "RS384" => SigningKey::<sha2::Sha384>::new(self.key.clone())
                .sign(signing_input.as_bytes())
                .to_vec(),
            "RS512" => SigningKey::<sha2::Sha512>::new(self.key.clone())
                .sign(signing_input.as_bytes())
                .to_vec(),
            _ => SigningKey::<sha2::Sha256>::new(self.key.clone())
                .sign(signing_input.as_bytes())
                .to_vec(),
        };
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// Verifies an RS256 token this key signed and returns its claims.
    #[must_use]
    pub fn verify_rs256(&self, token: &str) -> Option<serde_json::Value> {
        use rsa::pkcs1v15::{Signature, VerifyingKey};
        use rsa::signature::Verifier as _;
        let mut it = token.split('.');
        let (h, p, s) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() {
            return None;
        }
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        if header["alg"] != "RS256" || header["kid"] != self.kid.as_str() {
            return None;
        }
        let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(s).ok()?.as_slice()).ok()?;
        VerifyingKey::<sha2::Sha256>::new(self.key.to_public_key())
            .verify(format!("{h}.{p}").as_bytes(), &sig)
            .ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known-answer vector the adapter crate verifies (`byoc-directline`
    /// `verify/tests.rs` `KAT_RS256`): signing is deterministic, so both sides pin it.
    const KAT_RS256: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNpbS1rZXktMSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJrYXQtYXBwLWlkIiwiZXhwIjoxNzAwMDAzNjAwLCJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwibmJmIjoxNzAwMDAwMDAwLCJzZXJ2aWNldXJsIjoiaHR0cHM6Ly9zbWJhLmV4YW1wbGUvdGVhbXMvIn0.WLnr25P1W8vP6TVopuzRH7I-su5SY9L090nPzO0JxcBjpRIhjeTYVMyq-VXgJxqpDAL6am8Yjiefz-0APNnJOLjb6OSB95iX5lZT02e6bvihgkDQEXB_mBOyG18oEZknjon3cUp3CehLOztG4ToBtpNns0r-HdHdh3i7iM-xUVOxNUyc1kMNDK_jbBkhibGAU8raft3MsNF4cf2adv9ZROiPTA82IIA3a2RlxCLfLktvjQJf85D9BFjzzfa9HwV3UJuGhnbaIvAk2gswZkWp9Meq7MacfjLk7AFNo5MZLlvxree-8G5lDsw1rA_8sJ8nKSXZY42ArLqYBHoXz4ZEOA";
    const KAT_RS512: &str = "eyJhbGciOiJSUzUxMiIsImtpZCI6InNpbS1rZXktMSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJrYXQtYXBwLWlkIiwiZXhwIjoxNzAwMDAzNjAwLCJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwibmJmIjoxNzAwMDAwMDAwLCJzZXJ2aWNldXJsIjoiaHR0cHM6Ly9zbWJhLmV4YW1wbGUvdGVhbXMvIn0.PxkYk5q4vLn9NcF6yDFkWNaipsbfrE9kdACf6SSZBhMOY0GZBnQgWdeByzc28LxFvXrasSREfDBCcU54pESlfAlq5QH1-GNS33CkIajTVAv2cn6autrL98aOcrE1mzu_bFbstdQ98qfrEqakRHhW-UgKXmzox1apXTRNTwJUn475ZbNxMaeS50lcpVn9TgaV6i6e6K_yqmv8wWU1y8U8wXtXwLHVrVmoatB9upejqPL8wYivULqsuqbZLlXVXeUoW3HKCQleru85Da8i-uKP72Tz2CAUI63qjBUnM8TVv2on__qx7sGbugMVnjDavTQcM0ArdhGCWlpUkCHJqlPrmg";

    #[test]
    fn signs_the_known_answer_vector() {
        let [k1, _, _] = SimKey::builtin().unwrap();
        let claims = serde_json::json!({
            "aud": "kat-app-id", "exp": 1_700_003_600, "iss": "https://api.botframework.com",
            "nbf": 1_700_000_000, "serviceurl": "https://smba.example/teams/"
        });
        assert_eq!(k1.sign("RS256", &claims), KAT_RS256);
        assert_eq!(k1.sign("RS512", &claims), KAT_RS512);
        assert_eq!(k1.verify_rs256(KAT_RS256).unwrap(), claims);
        assert!(k1.verify_rs256(KAT_RS512).is_none());
    }

    #[test]
    fn jwk_has_modulus_and_endorsements() {
        let [k1, _, _] = SimKey::builtin().unwrap();
        let jwk = k1.jwk(&["webchat".to_owned()]);
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(
            jwk["n"],
            "snD1c11CUEdq09mddjnxvnnlJpPrUuppzPoNhkmvCd-vPh33sqvrETQsuKZYkmDtfbZmEtGFlDInAFsq35Ry9bkU7T289zKUqNuB7Yp9skJNYk62oecTBVKUxBRr8QJoloO5njkSbhtAh8EgQ0wjrG5sTgynZ1-mU57vJrZ_a0X3RMDawJPQCt1ybba6DOyWvy12QFHg7xUy5QTLotO9zyP_LgFoG9mRgKaTX7AdqHRa69DZ_JPVKUrYDy9S13_E3ULFaBv42IAeMbu1C3XTSROdF96jX1o2nlu9sEze_cr--CuXoTNKzyILuC_t3Nc5WG5iZva5DjkBS81n-XXSGw"
        );
        assert_eq!(jwk["endorsements"][0], "webchat");
    }
}
