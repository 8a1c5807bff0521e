//! Attachment permissions for customers and agents.

use serde::{Deserialize, Serialize};

/// What customers and agents may attach.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentPolicy {
    /// Attachments from the customer.
    #[serde(default)]
    pub customer: AttachmentPermission,
    /// Attachments from agents.
    #[serde(default)]
    pub agent: AttachmentPermission,
}

/// Whether attachments are allowed, how large, and of which types.
///
/// Default: not allowed. When allowed with neither `mime_types` nor `extensions`, any type
/// is accepted; otherwise a file passes when its MIME type or its extension is listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentPermission {
    /// Attachments are allowed at all. Default `false`.
    #[serde(default)]
    pub allowed: bool,
    /// Largest size in bytes. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// Accepted MIME types (`image/png`, or `image/*` for a whole family).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mime_types: Vec<String>,
    /// Accepted file extensions (`.pdf` or `pdf`), compared ignoring ASCII case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
}

/// Why an attachment is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentRejection {
    /// This side may not attach anything.
    #[error("attachments are not allowed")]
    NotAllowed,
    /// Larger than `max_bytes`.
    #[error("attachment of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The attachment's size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// Neither its MIME type nor its extension is listed.
    #[error("attachment type is not allowed")]
    TypeNotAllowed,
}

impl From<AttachmentRejection> for crate::AdapterError {
    fn from(err: AttachmentRejection) -> Self {
        crate::AdapterError::unsupported(err.to_string())
    }
}

impl AttachmentPermission {
    /// Checks one attachment. Unknown size passes the size check (check again once known).
    pub fn check(
        &self,
        content_type: Option<&str>,
        file_name: Option<&str>,
        size: Option<u64>,
    ) -> Result<(), AttachmentRejection> {
        if !self.allowed {
            return Err(AttachmentRejection::NotAllowed);
        }
        if let (Some(size), Some(max)) = (size, self.max_bytes)
            && size > max
        {
            return Err(AttachmentRejection::TooLarge { size, max });
        }
        if self.mime_types.is_empty() && self.extensions.is_empty() {
            return Ok(());
        }
        let mime_ok =
            content_type.is_some_and(|ct| self.mime_types.iter().any(|m| mime_matches(m, ct)));
        let ext_ok = file_name.and_then(extension).is_some_and(|ext| {
            self.extensions
                .iter()
                .any(|e| e.trim_start_matches('.').eq_ignore_ascii_case(ext))
        });
        if mime_ok || ext_ok {
            Ok(())
        } else {
            Err(AttachmentRejection::TypeNotAllowed)
        }
    }
}

fn mime_matches(pattern: &str, content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    match pattern.strip_suffix("/*") {
        Some(family) => essence
            .split_once('/')
            .is_some_and(|(f, _)| f.eq_ignore_ascii_case(family)),
        None => pattern.eq_ignore_ascii_case(essence),
    }
}

fn extension(file_name: &str) -> Option<&str> {
    file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|e| !e.is_empty())
}

/// Whether a MIME pattern is well formed (`type/subtype` or `type/*`).
pub(crate) fn is_valid_mime_pattern(pattern: &str) -> bool {
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match pattern.split_once('/') {
        Some((t, "*")) => valid(t),
        Some((t, s)) => valid(t) && valid(s),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images_and_pdf() -> AttachmentPermission {
        AttachmentPermission {
            allowed: true,
            max_bytes: Some(1000),
            mime_types: vec!["image/*".into(), "application/pdf".into()],
            extensions: vec![".docx".into()],
        }
    }

    #[test]
    fn table() {
        let p = images_and_pdf();
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<u64>,
            Result<(), AttachmentRejection>,
        );
        let cases: &[Case<'_>] = &[
            (Some("image/png"), None, Some(10), Ok(())),
            (Some("IMAGE/JPEG; q=1"), None, None, Ok(())),
            (Some("application/pdf"), Some("x.pdf"), Some(1000), Ok(())),
            (
                Some("application/octet-stream"),
                Some("CV.DOCX"),
                Some(1),
                Ok(()),
            ),
            (
                Some("application/zip"),
                Some("x.zip"),
                Some(1),
                Err(AttachmentRejection::TypeNotAllowed),
            ),
            (None, None, None, Err(AttachmentRejection::TypeNotAllowed)),
            (
                Some("imagex/png"),
                None,
                None,
                Err(AttachmentRejection::TypeNotAllowed),
            ),
            (
                Some("image/png"),
                None,
                Some(1001),
                Err(AttachmentRejection::TooLarge {
                    size: 1001,
                    max: 1000,
                }),
            ),
        ];
        for (ct, name, size, want) in cases {
            assert_eq!(
                &p.check(*ct, *name, *size),
                want,
                "{ct:?} {name:?} {size:?}"
            );
        }
    }

    #[test]
    fn default_refuses_and_open_accepts_anything() {
        assert_eq!(
            AttachmentPermission::default().check(Some("image/png"), None, Some(1)),
            Err(AttachmentRejection::NotAllowed)
        );
        let open = AttachmentPermission {
            allowed: true,
            ..AttachmentPermission::default()
        };
        assert_eq!(open.check(None, None, Some(u64::MAX)), Ok(()));
    }

    #[test]
    fn mime_patterns() {
        for ok in ["image/*", "application/vnd.ms-excel", "text/plain"] {
            assert!(is_valid_mime_pattern(ok), "{ok}");
        }
        for bad in ["image", "/png", "image/", "*/*x", "a b/c"] {
            assert!(!is_valid_mime_pattern(bad), "{bad}");
        }
    }
}
