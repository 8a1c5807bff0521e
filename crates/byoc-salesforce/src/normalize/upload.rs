//! [`AttachmentUploadResult`]: what became of a file the end user sent, as a `messageUpdate`
//! activity's attachment carries it (see `docs/protocols/salesforce.md#attachment-uploads`).

use byoc_core::Attachment;
use serde::Deserialize;

/// The field of an [`Attachment`]'s extensions that holds Salesforce's upload result,
/// verbatim.
pub const UPLOAD_RESULT_FIELD: &str = "attachmentUploadResult";

/// Why an upload failed (`errorType` of an `ErrorAttachmentUploadResult`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadErrorType {
    /// The org's file storage is full.
    StorageLimitExceeded,
    /// The file is larger than the channel allows.
    AttachmentTooLarge,
    /// The file was not found where it was to be read.
    AttachmentNotFound,
    /// File uploads are not enabled on the channel.
    AttachmentUploadNotEnabled,
    /// This file may not be uploaded (its type, the end user's permissions).
    AttachmentUploadNotAllowed,
    /// Salesforce failed internally.
    InternalServerError,
    /// A type this crate does not know yet.
    Other(String),
}

impl UploadErrorType {
    fn parse(value: &str) -> Self {
        match value {
            "StorageLimitExceeded" => Self::StorageLimitExceeded,
            "AttachmentTooLarge" => Self::AttachmentTooLarge,
            "AttachmentNotFound" => Self::AttachmentNotFound,
            "AttachmentUploadNotEnabled" => Self::AttachmentUploadNotEnabled,
            "AttachmentUploadNotAllowed" => Self::AttachmentUploadNotAllowed,
            "InternalServerError" => Self::InternalServerError,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Salesforce's name of the type.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::StorageLimitExceeded => "StorageLimitExceeded",
            Self::AttachmentTooLarge => "AttachmentTooLarge",
            Self::AttachmentNotFound => "AttachmentNotFound",
            Self::AttachmentUploadNotEnabled => "AttachmentUploadNotEnabled",
            Self::AttachmentUploadNotAllowed => "AttachmentUploadNotAllowed",
            Self::InternalServerError => "InternalServerError",
            Self::Other(s) => s,
        }
    }
}

/// What became of one uploaded attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachmentUploadResult {
    /// Uploaded: the rep sees the file.
    Completed,
    /// Still uploading; a later `messageUpdate` says how it ended.
    Pending {
        /// Salesforce's reference to the pending upload.
        reference_id: Option<String>,
    },
    /// The upload failed; the end user should be told and may send it again.
    Failed {
        /// Why.
        error: UploadErrorType,
    },
    /// A result type this crate does not know yet (its `resultType`).
    Other(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    result_type: Option<String>,
    error_type: Option<String>,
    reference_id: Option<String>,
}

impl AttachmentUploadResult {
    /// The upload result `attachment` carries, if any (only attachments of `messageUpdate`
    /// activities have one).
    #[must_use]
    pub fn of(attachment: &Attachment) -> Option<Self> {
        let wire: Wire = attachment
            .extensions
            .get(UPLOAD_RESULT_FIELD)?
            .parse()
            .ok()?;
        Some(match wire.result_type.as_deref()? {
            "CompletedAttachmentUploadResult" => Self::Completed,
            "PendingAttachmentUploadResult" => Self::Pending {
                reference_id: wire.reference_id,
            },
            "ErrorAttachmentUploadResult" => Self::Failed {
                error: UploadErrorType::parse(wire.error_type.as_deref().unwrap_or_default()),
            },
            other => Self::Other(other.to_owned()),
        })
    }

    /// Whether the file reached Salesforce.
    #[must_use]
    pub fn is_completed(&self) -> bool {
        matches!(self, Self::Completed)
    }
}
