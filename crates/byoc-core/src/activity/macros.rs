//! The two macros behind the lossless model: `open_enum!` for provider string sets and
//! `lossless_struct!` for JSON objects whose unknown fields (and explicit `null`s) must survive
//! a round trip.

/// An open string enum: known variants plus `Other(String)`, (de)serialized as a JSON string.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The wire form of this value.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Other(s) => s.as_str(),
                }
            }

            /// Every known wire value, in declaration order.
            pub const KNOWN: &'static [&'static str] = &[$($wire),*];
        }

        impl ::core::str::FromStr for $name {
            type Err = ::core::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $wire => Self::$variant, )*
                    _ => Self::Other(s),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl $crate::activity::fast::Fast for $name {
            #[inline]
            fn fast(c: &mut $crate::activity::fast::Cursor<'_>) -> Option<Self> {
                c.str_value(|s| $name::from(s))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, v: String) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// A JSON object with typed known fields (all optional) and an [`Extensions`] bag that keeps
/// every unknown field and every explicit `null` verbatim, so that serialize ∘ deserialize is
/// the identity on JSON values.
///
/// [`Extensions`]: crate::activity::Extensions
macro_rules! lossless_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($expecting:literal) {
            $(
                @required
                $(#[$rmeta:meta])*
                $rfield:ident : $rty:ty = $rjson:literal;
            )?
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty = $json:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $( $(#[$rmeta])* pub $rfield: $rty, )?
            $( $(#[$fmeta])* pub $field: Option<$ty>, )*
            /// Fields this version does not model, and known fields that arrived as an
            /// explicit `null`, kept verbatim in arrival order.
            pub extensions: $crate::activity::Extensions,
        }

        impl $name {
            /// The JSON names of the fields modelled by this type.
            pub const FIELDS: &'static [&'static str] = &[$($rjson,)? $($json),*];
        }

        const _: () = {
            // Keys are looked up in a small hash index and dispatched on an enum (a jump
            // table), not compared against every field name in turn.
            #[allow(non_camel_case_types)]
            #[derive(Clone, Copy)]
            enum Field { $($rfield,)? $($field,)* }

            fn index() -> &'static $crate::activity::raw::FieldIndex<Field> {
                static INDEX: ::std::sync::OnceLock<$crate::activity::raw::FieldIndex<Field>> =
                    ::std::sync::OnceLock::new();
                INDEX.get_or_init(|| {
                    $crate::activity::raw::FieldIndex::new(&[
                        $( ($rjson, Field::$rfield), )?
                        $( ($json, Field::$field), )*
                    ])
                })
            }

            impl<'de> ::serde::Deserialize<'de> for $name {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    struct V<'i>(&'i $crate::activity::raw::FieldIndex<Field>);
                    impl<'de> ::serde::de::Visitor<'de> for V<'_> {
                        type Value = $name;
                        fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                            f.write_str($expecting)
                        }
                        fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                            #[allow(unused_mut)]
                            let mut out = $name::default();
                            $( let mut $rfield: Option<$rty> = None; )?
                            while let Some(key) = map.next_key::<$crate::activity::raw::Key<'de>>()? {
                                match self.0.get(key.as_str()) {
                                    $( Some(Field::$rfield) => {
                                        if $rfield.is_some() {
                                            return Err(<A::Error as ::serde::de::Error>::duplicate_field($rjson));
                                        }
                                        $rfield = Some(map.next_value::<$rty>()?);
                                    } )?
                                    $( Some(Field::$field) => {
                                        if out.$field.is_some() {
                                            return Err(<A::Error as ::serde::de::Error>::duplicate_field($json));
                                        }
                                        match map.next_value::<Option<$ty>>()? {
                                            Some(v) => out.$field = Some(v),
                                            None => out.extensions.push_null($json),
                                        }
                                    } )*
                                    None => {
                                        let raw = map.next_value::<$crate::activity::RawJson>()?;
                                        out.extensions.push_key(key, raw);
                                    }
                                }
                            }
                            $( out.$rfield = $rfield.ok_or_else(|| <A::Error as ::serde::de::Error>::missing_field($rjson))?; )?
                            Ok(out)
                        }
                    }
                    d.deserialize_map(V(index()))
                }
            }

            // The same reading on the fast path (`activity::fast`): `None` declines and the
            // serde path above decides.
            impl $crate::activity::fast::Fast for $name {
                #[inline]
                fn fast(c: &mut $crate::activity::fast::Cursor<'_>) -> Option<Self> {
                    let mut out = $name::default();
                    <$name as $crate::activity::fast::FastObject>::fast_into(c, &mut out)?;
                    Some(out)
                }
            }

            impl $crate::activity::fast::FastObject for $name {
                fn fast_into(c: &mut $crate::activity::fast::Cursor<'_>, out: &mut Self) -> Option<()> {
                    let index = index();
                    c.begin_object()?;
                    $( let mut $rfield: Option<$rty> = None; )?
                    let mut first = true;
                    while let Some(key) = c.next_key(&mut first)? {
                        match index.get(key) {
                            $( Some(Field::$rfield) => {
                                if $rfield.is_some() {
                                    return None;
                                }
                                $rfield = Some(<$rty as $crate::activity::fast::Fast>::fast(c)?);
                            } )?
                            $( Some(Field::$field) => {
                                if out.$field.is_some() {
                                    return None;
                                }
                                if c.null() {
                                    out.extensions.push_null($json);
                                } else {
                                    out.$field = Some(<$ty as $crate::activity::fast::Fast>::fast(c)?);
                                }
                            } )*
                            None => {
                                let name = c.keep_key(key);
                                let raw = c.raw()?;
                                out.extensions.push_raw(name, raw);
                            }
                        }
                    }
                    $( out.$rfield = $rfield?; )?
                    Some(())
                }
            }
        };

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let mut m = s.serialize_map(None)?;
                $( m.serialize_entry($rjson, &self.$rfield)?; )?
                $( if let Some(v) = &self.$field { m.serialize_entry($json, v)?; } )*
                for (k, v) in self.extensions.iter() {
                    #[allow(clippy::match_single_binding)]
                    let shadowed = match k {
                        $( $rjson => true, )?
                        $( $json => self.$field.is_some(), )*
                        _ => false,
                    };
                    if !shadowed {
                        m.serialize_entry(k, v)?;
                    }
                }
                m.end()
            }
        }
    };
}

pub(crate) use lossless_struct;
pub(crate) use open_enum;
