//! The local store: Parquet event files in Hive date partitions, a manifest of
//! ingested objects, and a schema version.
//!
//! Layout under the store root:
//! - `store.json`: format name and schema version;
//! - `events/date=YYYY-MM-DD/part-<run>-<n>.parquet`: one row per record,
//!   sorted by event time, zstd-compressed, plain Parquet that DuckDB, Spark,
//!   Trino and Athena read as they are;
//! - `manifest/segment-<run>-<n>.json`: see [`manifest`];
//! - `.lock`: held by the one ingest allowed at a time.

pub mod manifest;
pub mod scan;
pub mod writer;

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use manifest::{Manifest, ObjectEntry, ObjectStatus};
pub use writer::StoreWriter;

/// The schema version of the files this build writes. Bumped when a column
/// is added, removed or changes type.
pub const SCHEMA_VERSION: u32 = 1;

const STORE_FORMAT: &str = "trailhound-store";

/// The contents of `store.json`.
#[derive(Debug, Serialize, Deserialize)]
struct StoreInfo {
    format: String,
    schema_version: u32,
}

/// Errors opening or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no trailhound store at {0}; run `trailhound ingest` first, or pass --store")]
    NotFound(PathBuf),
    #[error("{path} is not a trailhound store: {reason}")]
    NotAStore { path: PathBuf, reason: String },
    #[error(
        "store {path} has schema version {found}, but this trailhound reads version {SCHEMA_VERSION}; re-ingest into a new store"
    )]
    SchemaVersion { path: PathBuf, found: u32 },
    #[error("another trailhound ingest holds the lock on store {0}; wait for it to finish")]
    Locked(PathBuf),
    #[error("I/O error on {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    #[error("Parquet error on {path}")]
    Parquet {
        path: PathBuf,
        source: polars::error::PolarsError,
    },
}

/// Wraps an I/O error with the path it happened on.
pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An opened store.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens an existing store for reading.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let info_path = root.join("store.json");
        let bytes = match fs::read(&info_path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(root.to_path_buf()));
            }
            Err(source) => {
                return Err(StoreError::Io {
                    path: info_path,
                    source,
                });
            }
        };
        let info: StoreInfo =
            serde_json::from_slice(&bytes).map_err(|err| StoreError::NotAStore {
                path: root.to_path_buf(),
                reason: format!("store.json is invalid: {err}"),
            })?;
        if info.format != STORE_FORMAT {
            return Err(StoreError::NotAStore {
                path: root.to_path_buf(),
                reason: format!("store.json names format '{}'", info.format),
            });
        }
        if info.schema_version != SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                path: root.to_path_buf(),
                found: info.schema_version,
            });
        }
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    /// Opens the store at `root`, creating it when the folder is absent or empty.
    pub fn open_or_create(root: &Path) -> Result<Store, StoreError> {
        let info_path = root.join("store.json");
        if info_path.exists() {
            return Store::open(root);
        }
        if root.exists() {
            let mut entries = fs::read_dir(root).map_err(io_error(root))?;
            if entries.next().is_some() {
                return Err(StoreError::NotAStore {
                    path: root.to_path_buf(),
                    reason: "the folder is not empty and has no store.json".to_string(),
                });
            }
        }
        fs::create_dir_all(root.join("events")).map_err(io_error(root))?;
        fs::create_dir_all(root.join("manifest")).map_err(io_error(root))?;
        let info = StoreInfo {
            format: STORE_FORMAT.to_string(),
            schema_version: SCHEMA_VERSION,
        };
        let temp = root.join(".store.json.tmp");
        let bytes = serde_json::to_vec_pretty(&info).map_err(|err| StoreError::Io {
            path: temp.clone(),
            source: std::io::Error::other(err),
        })?;
        fs::write(&temp, bytes).map_err(io_error(&temp))?;
        fs::rename(&temp, &info_path).map_err(io_error(&info_path))?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn events_dir(&self) -> PathBuf {
        self.root.join("events")
    }

    pub fn manifest_dir(&self) -> PathBuf {
        self.root.join("manifest")
    }

    /// Reads the manifest.
    pub fn manifest(&self) -> Result<Manifest, StoreError> {
        Ok(Manifest::load(&self.manifest_dir())?)
    }
}
