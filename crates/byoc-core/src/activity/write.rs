//! [`JsonWriter`]: small JSON objects written directly, for adapters' `channelData`.

use std::fmt;

use bytestring::ByteString;

use super::RawJson;

/// Writes a JSON object field by field into a [`RawJson`], escaping strings exactly as
/// `serde_json` does, without building a `serde_json::Value` or going through a
/// `Serialize` implementation. Adapters build `channelData` with it on every message.
///
/// Keys are written in the order given; write them sorted to match what a
/// `serde_json::Map` would produce.
///
/// ```
/// use byoc_core::activity::JsonWriter;
///
/// let mut w = JsonWriter::new();
/// w.str("entryType", "Message").opt_str("reason", None);
/// w.begin("sender").str("role", "Agent").end();
/// assert_eq!(w.finish().get(), r#"{"entryType":"Message","sender":{"role":"Agent"}}"#);
/// ```
pub struct JsonWriter {
    out: String,
    /// Whether the innermost open object has no field yet.
    first: bool,
    depth: usize,
}

impl fmt::Debug for JsonWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What is being written may be personal data: show only its size.
        write!(f, "JsonWriter({} bytes)", self.out.len())
    }
}

impl Default for JsonWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonWriter {
    /// An empty object, open.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(64)
    }

    /// As [`JsonWriter::new`], with room for `bytes` of output.
    #[must_use]
    pub fn with_capacity(bytes: usize) -> Self {
        let mut out = String::with_capacity(bytes);
        out.push('{');
        Self {
            out,
            first: true,
            depth: 1,
        }
    }

    #[inline]
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_json_str(&mut self.out, key);
        self.out.push(':');
    }

    /// A string field.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        push_json_str(&mut self.out, value);
        self
    }

    /// A string field when `value` is set; nothing otherwise.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.str(key, v);
        }
        self
    }

    /// A field holding raw JSON, written as it is.
    pub fn raw(&mut self, key: &str, value: &RawJson) -> &mut Self {
        self.key(key);
        self.out.push_str(value.get());
        self
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// Opens an object field; close it with [`JsonWriter::end`].
    pub fn begin(&mut self, key: &str) -> &mut Self {
        self.key(key);
        self.out.push('{');
        self.first = true;
        self.depth += 1;
        self
    }

    /// Closes the innermost object opened with [`JsonWriter::begin`] (the outermost one is
    /// closed by [`JsonWriter::finish`]).
    pub fn end(&mut self) -> &mut Self {
        if self.depth > 1 {
            self.out.push('}');
            self.first = false;
            self.depth -= 1;
        }
        self
    }

    /// Closes every open object and returns the JSON.
    #[must_use]
    pub fn finish(mut self) -> RawJson {
        for _ in 0..self.depth {
            self.out.push('}');
        }
        RawJson::from_trusted_text(ByteString::from(self.out))
    }
}

/// Whether `s` goes between quotes as it is (`serde_json` escapes nothing in it).
#[inline]
fn is_plain(s: &str) -> bool {
    s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it.
#[inline]
fn push_json_str(out: &mut String, s: &str) {
    // Most strings are short and need no escape at all.
    if is_plain(s) {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    match serde_json::to_string(s) {
        Ok(escaped) => out.push_str(&escaped),
        // Serializing a `str` cannot fail; write an empty string rather than invalid JSON.
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_serde_json_for_every_kind_of_string() {
        for s in [
            "",
            "plain",
            "quote \" here",
            "back\\slash",
            "tab\tnew\nline",
            "\u{1}",
            "é中😀",
            "</script>",
        ] {
            let mut w = JsonWriter::new();
            w.str("k", s).opt_str("none", None).bool("b", true);
            w.begin("inner").str("s", s).end();
            w.raw("r", &RawJson::null());
            let want = serde_json::json!({"k": s, "b": true, "inner": {"s": s}, "r": null});
            let got = w.finish();
            assert_eq!(got.to_value().unwrap(), want, "{s:?}");
            assert_eq!(
                got.get(),
                format!(
                    r#"{{"k":{},"b":true,"inner":{{"s":{}}},"r":null}}"#,
                    serde_json::to_string(s).unwrap(),
                    serde_json::to_string(s).unwrap()
                )
            );
        }
        let mut w = JsonWriter::new();
        w.begin("a").begin("b");
        assert_eq!(w.finish().get(), r#"{"a":{"b":{}}}"#);
        assert_eq!(JsonWriter::default().finish().get(), "{}");
        assert!(!format!("{:?}", JsonWriter::new()).contains('{'));
    }
}
