//! Decoding of one source object: decompression, envelope detection and
//! normalisation of each record into an [`EventRow`].
//!
//! [`decode_object`] is a pure function of the object's bytes, so it runs on
//! many objects in parallel and is what the fuzz tests and benchmarks drive.

pub mod digest;
pub mod envelope;
pub mod gzip;

use std::borrow::Cow;

pub use digest::DigestSummary;
pub use envelope::{ObjectKind, Problem};

use crate::record::{EventRow, normalize};

/// Everything decoded from one object.
#[derive(Debug)]
pub struct DecodedObject {
    pub kind: ObjectKind,
    /// Normalised records, in the order they appear in the object.
    pub rows: Vec<EventRow>,
    /// Parts of the object that could not be read, and rejected records.
    pub problems: Vec<Problem>,
    /// Number of records rejected by normalisation (a subset of `problems`).
    pub rejected_records: u64,
    /// Digest files found in the object.
    pub digests: Vec<DigestSummary>,
    /// True when the JSON held nothing that looks like CloudTrail.
    pub unrecognised: bool,
    /// Decompressed size in bytes.
    pub decompressed_bytes: u64,
    /// Non-fatal oddities, such as trailing bytes after the gzip data or
    /// invalid UTF-8 that was replaced.
    pub notes: Vec<String>,
}

/// Errors that stop decoding of an object.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Gzip(#[from] gzip::GzipError),
}

/// Decodes one object's raw bytes. `source_uri` is stored with every row.
/// `max_decompressed` caps the decompressed size.
pub fn decode_object(
    bytes: &[u8],
    source_uri: &str,
    max_decompressed: u64,
) -> Result<DecodedObject, DecodeError> {
    let decompressed = gzip::decompress(bytes, max_decompressed)?;
    let mut notes: Vec<String> = decompressed.note.into_iter().collect();
    let mut problems = Vec::new();
    if let Some(damage) = decompressed.damage {
        problems.push(Problem {
            location: "gzip".to_string(),
            reason: damage,
        });
    }

    let data: Cow<'_, [u8]> = match std::str::from_utf8(&decompressed.data) {
        Ok(_) => decompressed.data,
        Err(err) => {
            notes.push(format!(
                "invalid UTF-8 at byte {}; invalid bytes were replaced with U+FFFD",
                err.valid_up_to()
            ));
            Cow::Owned(
                String::from_utf8_lossy(&decompressed.data)
                    .into_owned()
                    .into_bytes(),
            )
        }
    };
    let decompressed_bytes = data.len() as u64;

    let found = envelope::split(&data);
    problems.extend(found.problems);
    let digests = found
        .digests
        .iter()
        .map(|raw| DigestSummary::read(raw))
        .collect();

    let mut rows = Vec::with_capacity(found.records.len());
    let mut rejected_records = 0;
    for record in found.records {
        match normalize(&record.text, source_uri, record.index) {
            Ok(row) => rows.push(row),
            Err(err) => {
                rejected_records += 1;
                problems.push(Problem {
                    location: format!("record {}", record.index),
                    reason: err.to_string(),
                });
            }
        }
    }

    Ok(DecodedObject {
        kind: found.kind,
        rows,
        problems,
        rejected_records,
        digests,
        unrecognised: found.unrecognised,
        decompressed_bytes,
        notes,
    })
}
