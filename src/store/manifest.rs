//! The manifest: the chain of custody of every source object ingested.
//!
//! The manifest is a folder of segment files. Each ingest commit writes one
//! segment listing the data files it added and the objects it processed (with
//! their SHA-256, size, modification time, status and error). A segment is
//! written under a temporary name and renamed only after its data files are in
//! place, so a segment on disk means its data is complete. Data files that no
//! segment lists are leftovers of an interrupted run: readers ignore them and
//! the next ingest deletes them.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::decode::DigestSummary;

/// Outcome of one source object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectStatus {
    /// All its records were stored.
    Ingested,
    /// Some records were stored, and part of the object could not be read.
    Partial,
    /// Nothing could be read from it.
    Failed,
    /// A CloudTrail-Digest file: recorded, contains no events.
    Digest,
    /// Not CloudTrail (not JSON, empty, or JSON of another kind), or the same
    /// content as an object already ingested.
    Skipped,
}

impl ObjectStatus {
    /// Returns true when a rerun may skip an unchanged object with this status.
    pub fn is_final(self) -> bool {
        !matches!(self, ObjectStatus::Failed)
    }
}

/// The manifest entry of one source object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObjectEntry {
    /// Absolute path, `s3://bucket/key` or `stdin:<sha256 prefix>`.
    pub uri: String,
    pub size: Option<u64>,
    /// Modification time (disk) in RFC 3339, used with `size` to skip
    /// unchanged objects without reading them.
    pub modified: Option<String>,
    /// S3 ETag, when the object came from S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// S3 bucket, when the object came from S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// S3 key, when the object came from S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Hex SHA-256 of the object's bytes as stored (before decompression).
    pub sha256: Option<String>,
    pub status: ObjectStatus,
    /// Container shape (`records`, `json-lines`, `digest`, …).
    pub kind: Option<String>,
    /// Rows stored from this object.
    pub records: u64,
    /// Records that could not be normalised.
    pub rejected: u64,
    pub first_event_time: Option<String>,
    pub last_event_time: Option<String>,
    /// Reason the object failed, was skipped or is partial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<DigestSummary>,
    /// When trailhound processed the object (RFC 3339).
    pub ingested_at: String,
}

/// One committed segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Segment {
    pub format_version: u32,
    pub run_id: String,
    pub committed_at: String,
    /// Data files added, relative to the store root.
    pub data_files: Vec<String>,
    pub objects: Vec<ObjectEntry>,
}

/// Format version of segment files.
pub const SEGMENT_FORMAT_VERSION: u32 = 1;

/// The whole manifest, read from every committed segment.
#[derive(Debug, Default)]
pub struct Manifest {
    segments: Vec<Segment>,
}

/// Errors reading or writing the manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest folder {path}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read manifest segment {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("manifest segment {path} is corrupt")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write manifest segment {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Manifest {
    /// Reads every committed segment in `dir`, oldest first. Temporary files
    /// of an interrupted commit are ignored.
    pub fn load(dir: &Path) -> Result<Manifest, ManifestError> {
        let mut names = Vec::new();
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Manifest::default());
            }
            Err(source) => {
                return Err(ManifestError::ReadDir {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        };
        for entry in entries {
            let entry = entry.map_err(|source| ManifestError::ReadDir {
                path: dir.to_path_buf(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("segment-") && name.ends_with(".json") {
                names.push(name);
            }
        }
        // Segment names start with a sortable UTC timestamp, so name order is
        // commit order.
        names.sort();

        let mut segments = Vec::with_capacity(names.len());
        for name in names {
            let path = dir.join(&name);
            let bytes = fs::read(&path).map_err(|source| ManifestError::Read {
                path: path.clone(),
                source,
            })?;
            let segment = serde_json::from_slice(&bytes)
                .map_err(|source| ManifestError::Corrupt { path, source })?;
            segments.push(segment);
        }
        Ok(Manifest { segments })
    }

    /// Returns every committed data file, relative to the store root.
    pub fn data_files(&self) -> BTreeSet<&str> {
        self.segments
            .iter()
            .flat_map(|segment| segment.data_files.iter().map(String::as_str))
            .collect()
    }

    /// Returns the latest entry of each object URI.
    pub fn latest_entries(&self) -> HashMap<&str, &ObjectEntry> {
        let mut latest = HashMap::new();
        for entry in self.segments.iter().flat_map(|segment| &segment.objects) {
            latest.insert(entry.uri.as_str(), entry);
        }
        latest
    }

    /// Returns the segments, oldest first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

/// Writes a segment atomically: temporary file, fsync, rename, fsync folder.
pub fn write_segment(
    dir: &Path,
    file_name: &str,
    segment: &Segment,
) -> Result<PathBuf, ManifestError> {
    let final_path = dir.join(file_name);
    let temp_path = dir.join(format!(".{file_name}.tmp"));
    let write = || -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(segment).map_err(std::io::Error::other)?;
        let mut file = fs::File::create(&temp_path)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temp_path, &final_path)?;
        sync_dir(dir)
    };
    write().map_err(|source| ManifestError::Write {
        path: final_path.clone(),
        source,
    })?;
    Ok(final_path)
}

/// Flushes a folder's entries so renames into it survive a power loss.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}
