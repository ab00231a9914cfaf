//! Sources of CloudTrail objects: what to read, and reading it with a size cap.

pub mod disk;
pub mod layout;
pub mod s3;

use std::io::Read;
use std::path::PathBuf;

pub use disk::discover;

/// Origin of an object's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Stdin,
    /// Fetched by `s3::S3Source`, never by [`SourceObject::read`].
    S3 {
        bucket: String,
        key: String,
    },
}

/// One object to ingest, with the identity used to skip it when unchanged.
#[derive(Debug, Clone)]
pub struct SourceObject {
    /// Absolute path, or `stdin` until the content hash names it.
    pub uri: String,
    pub location: Location,
    pub size: Option<u64>,
    /// Modification time in RFC 3339, when known.
    pub modified: Option<String>,
    /// S3 ETag; with `size` it decides whether an S3 object changed.
    pub etag: Option<String>,
}

/// A path that could not be listed.
#[derive(Debug, Clone)]
pub struct DiscoveryError {
    pub uri: String,
    pub reason: String,
}

/// Errors reading an object.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "object is larger than the limit of {limit} bytes; raise it with --max-object-size if the object is genuine"
    )]
    TooLarge { limit: u64 },
    #[error("S3 objects are fetched by the S3 source, not read as files")]
    NotLocal,
}

impl SourceObject {
    /// Reads the object's bytes, failing when there are more than `limit`.
    pub fn read(&self, limit: u64) -> Result<Vec<u8>, ReadError> {
        let mut bytes = Vec::with_capacity(self.size.unwrap_or(0).min(limit) as usize);
        let read = match &self.location {
            Location::File(path) => std::fs::File::open(path)?
                .take(limit + 1)
                .read_to_end(&mut bytes),
            Location::Stdin => std::io::stdin()
                .lock()
                .take(limit + 1)
                .read_to_end(&mut bytes),
            Location::S3 { .. } => return Err(ReadError::NotLocal),
        };
        read?;
        if bytes.len() as u64 > limit {
            return Err(ReadError::TooLarge { limit });
        }
        Ok(bytes)
    }
}
