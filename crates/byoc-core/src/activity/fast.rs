//! The fast path of activity parsing: a parser specialised to the lossless structs.
//!
//! serde's generic machinery (a visitor per value, `Option` wrappers, a `MapAccess` round
//! trip per key) costs more than the JSON itself on the small activities most messages are.
//! This module reads the same JSON directly: one cursor over the validated UTF-8 input, field
//! names dispatched through each struct's index, opaque parts skipped with validation and kept
//! as slices (of the shared buffer under [`Activity::from_bytes`](super::Activity::from_bytes)).
//!
//! It never decides what is accepted. Whenever it meets anything it does not handle itself —
//! invalid JSON, a value of the wrong type, a duplicate field, an escaped key, a surrogate
//! escape, a float where an integer is expected, nesting deeper than [`MAX_DEPTH`] — it
//! *declines* (`None`), and the caller parses the input again with serde, which yields either
//! the same value or the typed, path-pointing error. A differential property test
//! (`activity/tests.rs`) checks that both paths agree on arbitrary input.

use std::collections::BTreeMap;

use bytestring::ByteString;

use super::raw::RawJson;

/// Deepest nesting of arrays and objects the fast path reads; deeper input is declined
/// (serde_json's own limit is 128, so whatever the fast path accepts, serde accepts too).
pub(crate) const MAX_DEPTH: u32 = 100;

/// A type the fast path can read.
pub(crate) trait Fast: Sized {
    /// Reads one value at the cursor (after whitespace), or declines.
    fn fast(c: &mut Cursor<'_>) -> Option<Self>;
}

/// A lossless struct, read in place (an `Activity` is large: filling it where it will be
/// returned saves moving it through every frame).
pub(crate) trait FastObject: Default {
    /// Reads one object at the cursor into `out` (a default value), or declines; on decline
    /// `out` is partly filled and must be discarded.
    fn fast_into(c: &mut Cursor<'_>, out: &mut Self) -> Option<()>;
}

/// Parses a whole document into `out` (a default value), or declines (`out` is then partly
/// filled and must be discarded).
#[inline]
pub(crate) fn parse_into<T: FastObject>(
    text: &str,
    shared: Option<&ByteString>,
    out: &mut T,
) -> Option<()> {
    let mut c = Cursor {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        shared,
    };
    c.ws();
    T::fast_into(&mut c, out)?;
    c.ws();
    (c.pos == c.bytes.len()).then_some(())
}

/// A position in validated UTF-8 JSON text.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    /// The shared buffer `text` is the content of, when parts may be kept as slices of it.
    shared: Option<&'a ByteString>,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `x` is `"`, `\` or a control character, as a mask whose lowest set
/// bit marks the first such byte (little-endian lanes).
#[inline]
fn special_mask(x: u64) -> u64 {
    let quote = x ^ (ONES * u64::from(b'"'));
    let backslash = x ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    (zero_quote | zero_backslash | control) & HIGH
}

/// Whether a 64-byte block holds a `"`, `\` or control byte: a branch-free reduction the
/// compiler turns into a few vector instructions.
#[inline]
fn block_has_special(block: &[u8; 64]) -> bool {
    let (mut quote, mut backslash, mut control) = (0u8, 0u8, 0u8);
    for &b in block {
        quote |= u8::from(b == b'"');
        backslash |= u8::from(b == b'\\');
        control |= u8::from(b < 0x20);
    }
    (quote | backslash | control) != 0
}

impl<'a> Cursor<'a> {
    /// Skips JSON whitespace.
    #[inline]
    pub(crate) fn ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn eat(&mut self, b: u8) -> Option<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// `text[start..end]` as a string kept by the value: a slice of the shared buffer, or a
    /// copy.
    #[inline]
    fn keep(&self, start: usize, end: usize) -> Option<ByteString> {
        let part = self.text.get(start..end)?;
        Some(self.keep_str(part))
    }

    /// Index of the first `"`, `\` or control byte at or after `i` (or the end).
    ///
    /// Most strings end within a few 8-byte words; past 64 bytes, the scan goes 64 bytes at a
    /// time through a loop the compiler vectorizes.
    #[inline]
    fn find_special(&self, mut i: usize) -> usize {
        let b = self.bytes;
        let short_end = i + 64;
        while i + 8 <= b.len() {
            let mut chunk = [0u8; 8];
            chunk.copy_from_slice(&b[i..i + 8]);
            let mask = special_mask(u64::from_le_bytes(chunk));
            if mask != 0 {
                return i + (mask.trailing_zeros() / 8) as usize;
            }
            i += 8;
            if i >= short_end {
                while let Some(Ok(block)) = b.get(i..i + 64).map(<&[u8; 64]>::try_from) {
                    if block_has_special(block) {
                        break;
                    }
                    i += 64;
                }
            }
        }
        while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f) {
            i += 1;
        }
        i
    }

    /// Scans a string at the cursor (which must be at its opening quote). Returns the content
    /// span and whether it holds escapes; validates every escape, declines on control
    /// characters and on surrogate `\u` escapes (left to serde's rules).
    #[inline]
    fn string_span(&mut self) -> Option<(usize, usize, bool)> {
        self.eat(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        let mut i = start;
        loop {
            i = self.find_special(i);
            match self.bytes.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return Some((start, i, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match self.bytes.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' => {
                            let code = hex4(self.bytes.get(i + 2..i + 6)?)?;
                            if (0xD800..0xE000).contains(&code) {
                                return None;
                            }
                            i += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control character
            }
        }
    }

    /// A string value, unescaped.
    #[inline]
    fn string(&mut self) -> Option<String> {
        let (start, end, escaped) = self.string_span()?;
        let raw = self.text.get(start..end)?;
        if escaped {
            unescape(raw)
        } else {
            Some(raw.to_owned())
        }
    }

    /// A string value without escapes, borrowed; declines on escapes.
    #[inline]
    fn plain_str(&mut self) -> Option<&'a str> {
        let (start, end, escaped) = self.string_span()?;
        if escaped {
            return None;
        }
        self.text.get(start..end)
    }

    /// Consumes `null` if it is next (after whitespace).
    #[inline]
    pub(crate) fn null(&mut self) -> bool {
        if self.bytes.get(self.pos..self.pos + 4) == Some(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// Enters an object or array.
    #[inline]
    fn enter(&mut self, open: u8) -> Option<()> {
        self.eat(open)?;
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Opens an object: `{`.
    #[inline]
    pub(crate) fn begin_object(&mut self) -> Option<()> {
        self.enter(b'{')
    }

    /// The next key of an object (then `:` and whitespace are consumed), or `None` at its
    /// closing brace. `first` tracks whether a comma is due. Escaped keys decline.
    #[inline]
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Option<Option<&'a str>> {
        self.ws();
        match self.peek()? {
            b'}' => {
                self.pos += 1;
                self.depth -= 1;
                return Some(None);
            }
            b',' if !*first => {
                self.pos += 1;
                self.ws();
            }
            _ if *first => {}
            _ => return None,
        }
        *first = false;
        let key = self.plain_str()?;
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(Some(key))
    }

    /// The span of the value at the cursor, skipped and validated.
    pub(crate) fn skip_value(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        match self.peek()? {
            b'"' => {
                self.string_span()?;
            }
            b'{' => {
                self.enter(b'{')?;
                let mut first = true;
                while self.next_key(&mut first)?.is_some() {
                    self.skip_value()?;
                }
            }
            b'[' => {
                self.enter(b'[')?;
                let mut first = true;
                while self.next_element(&mut first)? {
                    self.skip_value()?;
                }
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        }
        Some((start, self.pos))
    }

    /// Whether another element follows in an array (consuming the comma), or `false` at its
    /// closing bracket.
    #[inline]
    fn next_element(&mut self, first: &mut bool) -> Option<bool> {
        self.ws();
        match self.peek()? {
            b']' => {
                self.pos += 1;
                self.depth -= 1;
                return Some(false);
            }
            b',' if !*first => {
                self.pos += 1;
                self.ws();
            }
            _ if *first => {}
            _ => return None,
        }
        *first = false;
        Some(true)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    /// Skips a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits1()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits1()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn digits1(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }

    /// A raw value at the cursor, kept.
    #[inline]
    pub(crate) fn raw(&mut self) -> Option<RawJson> {
        let (start, end) = self.skip_value()?;
        Some(RawJson::from_trusted_text(self.keep(start, end)?))
    }

    /// An object key kept (for [`Extensions`](super::Extensions)).
    #[inline]
    pub(crate) fn keep_key(&self, key: &'a str) -> ByteString {
        self.keep_str(key)
    }

    /// `part` (a slice of the text) as a slice of the shared buffer when there is one and
    /// the text is its content, else a copy.
    #[inline]
    fn keep_str(&self, part: &str) -> ByteString {
        match self.shared {
            Some(buf) if within(buf, part) => buf.slice_ref(part),
            _ => ByteString::from(part),
        }
    }

    /// A string value handed to `f` as `&str` (borrowed when it has no escapes).
    #[inline]
    pub(crate) fn str_value<R>(&mut self, f: impl FnOnce(&str) -> R) -> Option<R> {
        let (start, end, escaped) = self.string_span()?;
        let raw = self.text.get(start..end)?;
        if escaped {
            Some(f(&unescape(raw)?))
        } else {
            Some(f(raw))
        }
    }

    /// A string without escapes, kept as a [`ByteString`] (a slice when shared); declines on
    /// escapes.
    #[inline]
    pub(crate) fn plain_kept(&mut self) -> Option<(&'a str, ByteString)> {
        let s = self.plain_str()?;
        Some((s, self.keep_key(s)))
    }
}

/// Whether `part` lies inside `buf` (`slice_ref` requires it; callers pass the buffer's own
/// text, and a mismatch must mean a copy, never a panic).
#[inline]
fn within(buf: &str, part: &str) -> bool {
    let start = buf.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    p >= start && p + part.len() <= start + buf.len()
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in b {
        n = n * 16 + char::from(c).to_digit(16)?;
    }
    Some(n)
}

/// Resolves the escapes of a scanned string (already validated, no surrogates).
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(rest.get(..i)?);
        let b = rest.as_bytes();
        let (c, used) = match *b.get(i + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => (char::from_u32(hex4(b.get(i + 2..i + 6)?)?)?, 6),
            _ => return None,
        };
        out.push(c);
        rest = rest.get(i + used..)?;
    }
    out.push_str(rest);
    Some(out)
}

impl Fast for String {
    #[inline]
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        c.string()
    }
}

impl Fast for bool {
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        match c.peek()? {
            b't' => c.literal(b"true").map(|()| true),
            b'f' => c.literal(b"false").map(|()| false),
            _ => None,
        }
    }
}

impl Fast for i64 {
    /// Integers only; a fraction or exponent declines (serde decides).
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        let (start, end) = {
            let start = c.pos;
            c.number()?;
            (start, c.pos)
        };
        c.text.get(start..end)?.parse().ok()
    }
}

impl Fast for RawJson {
    #[inline]
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        c.raw()
    }
}

impl<T: Fast> Fast for Box<T> {
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        T::fast(c).map(Box::new)
    }
}

impl<T: Fast> Fast for Vec<T> {
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        c.enter(b'[')?;
        let mut out = Vec::new();
        let mut first = true;
        while c.next_element(&mut first)? {
            out.push(T::fast(c)?);
        }
        Some(out)
    }
}

impl<T: Fast> Fast for BTreeMap<String, T> {
    /// As serde reads a map: a repeated key keeps the last value.
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        c.begin_object()?;
        let mut out = BTreeMap::new();
        let mut first = true;
        while let Some(key) = c.next_key(&mut first)? {
            out.insert(key.to_owned(), T::fast(c)?);
        }
        Some(out)
    }
}

impl Fast for super::Timestamp {
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        let (text, kept) = c.plain_kept()?;
        super::timestamp::from_parts(text, kept)
    }
}

impl Fast for super::Entity {
    /// The whole object kept raw, its first non-null `type` read on the way (as the serde
    /// path reads it).
    fn fast(c: &mut Cursor<'_>) -> Option<Self> {
        let start = c.pos;
        c.begin_object()?;
        let mut kind: Option<String> = None;
        let mut first = true;
        while let Some(key) = c.next_key(&mut first)? {
            if key == "type" && kind.is_none() {
                if !c.null() {
                    kind = Some(c.string()?);
                }
            } else {
                c.skip_value()?;
            }
        }
        let raw = RawJson::from_trusted_text(c.keep(start, c.pos)?);
        Some(Self::from_parts(kind, raw))
    }
}

#[cfg(test)]
mod tests;
