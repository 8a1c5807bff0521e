//! Files uploaded with an activity: the `multipart/form-data` body of
//! `POST /conversations/{id}/upload` (`docs/protocols/bot-framework.md#direct-line-uploads`).

use std::fmt;

use bytes::Bytes;

/// One file to upload.
#[derive(Clone)]
#[non_exhaustive]
pub struct Upload {
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Content.
    pub bytes: Bytes,
}

impl Upload {
    /// A file.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        Self {
            name: name.into(),
            content_type: content_type.into(),
            bytes: bytes.into(),
        }
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// The multipart body: the activity as the part `activity` of type
/// `application/vnd.microsoft.activity`, then one part `file` per upload. Quotes and line
/// breaks are dropped from names and types, so a file name cannot forge a part.
pub(crate) fn multipart_body(boundary: &str, activity: &[u8], files: &[Upload]) -> Bytes {
    let mut b: Vec<u8> = Vec::new();
    b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"activity\"\r\nContent-Type: application/vnd.microsoft.activity\r\n\r\n").as_bytes());
    b.extend_from_slice(activity);
    b.extend_from_slice(b"\r\n");
    for f in files {
        let name: String = f
            .name
            .chars()
            .filter(|c| *c != '"' && *c != '\r' && *c != '\n')
            .collect();
        let ct: String = f
            .content_type
            .chars()
            .filter(|c| *c != '\r' && *c != '\n')
            .collect();
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes());
        b.extend_from_slice(&f.bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Bytes::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_has_activity_and_file_parts() {
        let body = multipart_body(
            "B",
            br#"{"type":"message"}"#,
            &[Upload::new(
                "a\".png",
                "image/png",
                Bytes::from_static(b"PNG"),
            )],
        );
        let s = String::from_utf8_lossy(&body);
        assert!(s.contains(
            "Content-Type: application/vnd.microsoft.activity\r\n\r\n{\"type\":\"message\"}"
        ));
        assert!(s.contains("name=\"file\"; filename=\"a.png\""));
        assert!(s.ends_with("--B--\r\n"));
    }

    #[test]
    fn debug_shows_the_size_not_the_content() {
        let u = Upload::new("a.txt", "text/plain", Bytes::from_static(b"secret text"));
        assert!(!format!("{u:?}").contains("secret"));
    }
}
