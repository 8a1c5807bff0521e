//! Reading a workstream from TOML or JSON.

use super::error::{Format, WorkstreamError};
use super::model::Workstream;

impl Workstream {
    /// Reads and validates a workstream from TOML.
    pub fn from_toml_str(text: &str) -> Result<Self, WorkstreamError> {
        let de = toml::Deserializer::new(text);
        let ws: Self = serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let line = inner
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            WorkstreamError::Syntax {
                format: Format::Toml,
                path,
                line,
                message: inner.message().trim_end().to_owned(),
            }
        })?;
        ws.validate()?;
        Ok(ws)
    }

    /// Reads and validates a workstream from JSON bytes.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, WorkstreamError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let json_error = |path: String, inner: serde_json::Error| {
            let line = (inner.line() > 0).then_some(inner.line());
            let mut message = inner.to_string();
            if let Some(cut) = message.find(" at line ") {
                message.truncate(cut);
            }
            WorkstreamError::Syntax {
                format: Format::Json,
                path,
                line,
                message,
            }
        };
        let ws: Self = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let path = err.path().to_string();
            json_error(path, err.into_inner())
        })?;
        // Trailing data after the document is an error too.
        de.end().map_err(|e| json_error(".".to_owned(), e))?;
        ws.validate()?;
        Ok(ws)
    }

    /// Writes the workstream as TOML.
    pub fn to_toml_string(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}
