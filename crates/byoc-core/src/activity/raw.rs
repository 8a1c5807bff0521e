//! Raw JSON kept verbatim: opaque blobs ([`RawJson`]) and unknown fields ([`Extensions`]).

use std::borrow::Cow;
use std::fmt;

use bytestring::ByteString;
use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON value kept as its original text. Reading it typed happens only on demand
/// ([`RawJson::parse`]).
///
/// When an activity is parsed with [`Activity::from_bytes`](super::Activity::from_bytes),
/// a `RawJson` is a reference-counted slice of the input buffer: keeping an opaque blob costs
/// no allocation and no copy. Otherwise it owns a copy of its text.
///
/// Equality compares the text, so two spellings of the same value (`1.0` and `1e0`) differ;
/// compare [`RawJson::to_value`] results for semantic equality.
#[derive(Clone)]
pub struct RawJson(ByteString);

impl RawJson {
    /// The JSON `null`.
    #[must_use]
    pub fn null() -> Self {
        Self(ByteString::from_static("null"))
    }

    /// Serializes any value into raw JSON.
    ///
    /// # Errors
    /// When `value`'s `Serialize` implementation fails (for example a map with non-string keys).
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(|s| Self(ByteString::from(s)))
    }

    /// Takes JSON text, validating it.
    ///
    /// # Errors
    /// When `text` is not one valid JSON value.
    pub fn from_json_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let text = text.into();
        serde_json::from_str::<&RawValue>(&text)?;
        Ok(Self(ByteString::from(text)))
    }

    /// Takes text the caller has already parsed as JSON (a provider body it just
    /// deserialized, say), without checking it again; cloning a [`ByteString`] slice of a
    /// request body costs no copy. Text that is not one valid JSON value is not undefined
    /// behaviour: serializing the `RawJson` then fails with an error.
    #[must_use]
    pub fn from_trusted_text(text: ByteString) -> Self {
        Self(text)
    }

    /// The JSON text, exactly as received.
    #[must_use]
    pub fn get(&self) -> &str {
        &self.0
    }

    /// Reads the value as `T`.
    ///
    /// # Errors
    /// When the JSON does not match `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// Reads the value as `T`, borrowing strings from the raw text where it can.
    ///
    /// # Errors
    /// When the JSON does not match `T`.
    pub fn parse_borrowed<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// The value as a [`serde_json::Value`].
    ///
    /// # Errors
    /// Never for text that was valid JSON when it was stored; kept fallible for symmetry.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// Whether the value is the JSON `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        self.0.trim() == "null"
    }

    /// Whether the value is a JSON object.
    #[must_use]
    pub fn is_object(&self) -> bool {
        self.0.trim_start().starts_with('{')
    }

    /// Whether the value is a JSON string.
    #[must_use]
    pub fn is_string(&self) -> bool {
        self.0.trim_start().starts_with('"')
    }

    /// The value as a string, when it is a JSON string (escapes resolved).
    #[must_use]
    pub fn as_string(&self) -> Option<Cow<'_, str>> {
        if !self.is_string() {
            return None;
        }
        serde_json::from_str::<Cow<'_, str>>(&self.0).ok()
    }

    /// Length of the JSON text in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the JSON text is empty (never true for a valid value).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Opaque blobs may carry personal data; show their size, not their content.
        write!(f, "RawJson({} bytes)", self.0.len())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl From<&serde_json::Value> for RawJson {
    fn from(v: &serde_json::Value) -> Self {
        Self(ByteString::from(v.to_string()))
    }
}

impl From<serde_json::Value> for RawJson {
    fn from(v: serde_json::Value) -> Self {
        Self::from(&v)
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The text was valid JSON when stored; borrowing it as a `RawValue` re-checks it
        // without allocating, and lets serde_json write it verbatim.
        let raw = serde_json::from_str::<&RawValue>(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if source::is_active() {
            // Inside `Activity::from_bytes`: the deserializer reads from the shared buffer, so
            // the raw text can be borrowed and kept as a slice of it.
            let raw = <&'de RawValue>::deserialize(d)?;
            return Ok(Self(source::share(raw.get())));
        }
        let boxed = Box::<RawValue>::deserialize(d)?;
        let text: Box<str> = boxed.into();
        Ok(Self(ByteString::from(String::from(text))))
    }
}

/// Deserializes any `T` from a shared buffer so that every [`RawJson`] inside it (and every
/// [`Activity`](super::Activity)'s opaque parts and unknown fields) is a slice of `bytes`
/// instead of a copy: the zero-copy path of [`Activity::from_bytes`](super::Activity::from_bytes)
/// for an adapter's own provider payload types.
///
/// # Errors
/// The `serde_json` error when `bytes` is not UTF-8 JSON matching `T`.
pub fn from_shared<T: DeserializeOwned>(bytes: &bytes::Bytes) -> Result<T, serde_json::Error> {
    match ByteString::try_from(bytes.clone()) {
        Ok(text) => {
            let _source = source::enter(text.clone());
            serde_json::from_str(&text)
        }
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// The input buffer of the `Activity::from_bytes` call running on this thread, so that raw
/// parts can be kept as slices of it.
pub(crate) mod source {
    use std::cell::RefCell;

    use bytestring::ByteString;

    thread_local! {
        static SOURCE: RefCell<Option<ByteString>> = const { RefCell::new(None) };
    }

    /// Makes `buf` the current source until the guard drops (restoring the previous one).
    pub(crate) fn enter(buf: ByteString) -> Guard {
        let previous = SOURCE.with(|s| s.replace(Some(buf)));
        Guard { previous }
    }

    pub(crate) fn is_active() -> bool {
        SOURCE.with(|s| s.borrow().is_some())
    }

    /// `text` as a slice of the current source when it lies inside it, else a copy.
    pub(crate) fn share(text: &str) -> ByteString {
        SOURCE.with(|s| match &*s.borrow() {
            Some(buf) if contains(buf, text) => buf.slice_ref(text),
            _ => ByteString::from(text),
        })
    }

    fn contains(buf: &str, part: &str) -> bool {
        let start = buf.as_ptr() as usize;
        let p = part.as_ptr() as usize;
        p >= start && p + part.len() <= start + buf.len()
    }

    /// Restores the previous source when dropped.
    pub(crate) struct Guard {
        previous: Option<ByteString>,
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let previous = self.previous.take();
            SOURCE.with(|s| *s.borrow_mut() = previous);
        }
    }
}

/// Unknown fields of an object (and known fields that arrived as explicit `null`), in arrival
/// order. Serialized after the known fields.
#[derive(Clone, Default, PartialEq)]
pub struct Extensions(Vec<(ByteString, RawJson)>);

impl Extensions {
    /// No extensions.
    #[must_use]
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// The raw value of field `name`, if present.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&RawJson> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Sets field `name`, replacing a previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: RawJson) {
        let name = name.into();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((ByteString::from(name), value)),
        }
    }

    /// Removes field `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<RawJson> {
        let idx = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(idx).1)
    }

    /// Iterates over `(name, value)` pairs in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawJson)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    /// Number of fields kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no field is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn push_key(&mut self, key: Key<'_>, value: RawJson) {
        let name = match key.0 {
            Cow::Borrowed(k) if source::is_active() => source::share(k),
            other => ByteString::from(other.into_owned()),
        };
        self.0.push((name, value));
    }

    pub(crate) fn push_raw(&mut self, name: ByteString, value: RawJson) {
        self.0.push((name, value));
    }

    pub(crate) fn push_null(&mut self, name: &'static str) {
        self.0
            .push((ByteString::from_static(name), RawJson::null()));
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (&**k, v)))
            .finish()
    }
}

/// An object key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A small hash index from a struct's JSON field names to its field enum, so that a key costs
/// one hash and one or two comparisons instead of a comparison per field.
pub(crate) struct FieldIndex<T: Copy> {
    buckets: Vec<Vec<(&'static str, T)>>,
}

const INDEX_BUCKETS: usize = 64;

impl<T: Copy> FieldIndex<T> {
    pub(crate) fn new(fields: &[(&'static str, T)]) -> Self {
        let mut buckets = vec![Vec::new(); INDEX_BUCKETS];
        for &(name, f) in fields {
            buckets[Self::slot(name.as_bytes())].push((name, f));
        }
        Self { buckets }
    }

    #[inline]
    fn slot(b: &[u8]) -> usize {
        let n = b.len();
        if n == 0 {
            return 0;
        }
        let h = n
            .wrapping_mul(0x9E37)
            .wrapping_add(usize::from(b[0]).wrapping_mul(31))
            .wrapping_add(usize::from(b[n - 1]).wrapping_mul(131))
            .wrapping_add(usize::from(b[n / 2]).wrapping_mul(17));
        (h ^ (h >> 7)) % INDEX_BUCKETS
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<T> {
        self.buckets[Self::slot(key.as_bytes())]
            .iter()
            .find(|(name, _)| *name == key)
            .map(|&(_, f)| f)
    }
}
