//! Recognition of CloudTrail-Digest files.
//!
//! Digest files hold hashes of the log files delivered in an hour, not
//! events. The ingester records a summary of each in the manifest so a later
//! integrity check can find them; they never become event rows.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::record::json::JsonObject;

/// The fields of a digest file that the manifest keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestSummary {
    pub account_id: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_object: Option<String>,
    /// Number of log files the digest lists (0 for an hour with no activity).
    pub log_files: u64,
    /// True for the first digest of a chain: its previous-digest fields are null.
    pub starts_chain: bool,
}

impl DigestSummary {
    /// Reads the summary fields from a digest document; absent or mistyped
    /// fields stay empty.
    pub fn read(raw: &RawValue) -> Self {
        let Some(digest) = JsonObject::parse(raw) else {
            return DigestSummary::default();
        };
        let log_files = digest
            .get("logFiles")
            .and_then(|files| serde_json::from_str::<Vec<&RawValue>>(files.get()).ok())
            .map_or(0, |files| files.len() as u64);
        let previous = digest
            .get("previousDigestSignature")
            .map(|value| value.get());
        DigestSummary {
            account_id: digest.text("awsAccountId"),
            start_time: digest.text("digestStartTime"),
            end_time: digest.text("digestEndTime"),
            s3_bucket: digest.text("digestS3Bucket"),
            s3_object: digest.text("digestS3Object"),
            log_files,
            starts_chain: previous.is_none_or(|value| value == "null"),
        }
    }
}
