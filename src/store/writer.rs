//! Writing to the store: one ingest at a time, each commit atomic.
//!
//! A commit writes each date partition's rows to a temporary file, renames it
//! into place, then writes the manifest segment that lists those files. A
//! process killed at any instant leaves either a complete commit or files that
//! no segment lists; [`StoreWriter::begin`] deletes the latter, so the next
//! run re-ingests the objects of the lost commit with no duplicate and no loss.

use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use polars::polars_utils::compression::ZstdLevel;
use polars::prelude::*;
use rand::Rng;

use super::manifest::{self, ObjectEntry, SEGMENT_FORMAT_VERSION, Segment};
use super::{Store, StoreError, io_error};
use crate::record::{EventRow, rows_to_dataframe_ordered};
use crate::time::date_of;

/// Rows per Parquet row group: small enough for row-group statistics to skip
/// data in time-range queries, large enough to compress well.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// zstd level of the data files. Level 1 compresses the raw-record column
/// about as well as the default level 3 on generated corpora and costs less
/// CPU, which the 2-core ingest is short of.
const ZSTD_LEVEL: i32 = 1;

/// The writer of one ingest run. Holds the store lock until dropped.
/// Commits may run on several threads at once: each writes its own data
/// files and segment, and within one run no object is in two commits.
#[derive(Debug)]
pub struct StoreWriter {
    store: Store,
    _lock: File,
    run_id: String,
    next_commit: AtomicU32,
    /// Leftover files of interrupted runs deleted when the writer started.
    pub removed_leftovers: usize,
}

/// Summary of one commit.
#[derive(Debug, Default)]
pub struct CommitInfo {
    pub data_files: Vec<String>,
    pub rows: usize,
}

impl StoreWriter {
    /// Takes the store lock and removes leftovers of interrupted runs.
    pub fn begin(store: &Store) -> Result<StoreWriter, StoreError> {
        let lock_path = store.root().join(".lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Locked(store.root().to_path_buf()));
            }
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    path: lock_path,
                    source,
                });
            }
        }

        let removed_leftovers = remove_leftovers(store)?;
        let run_id = format!(
            "{}-{:08x}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            rand::rng().random::<u32>()
        );
        Ok(StoreWriter {
            store: store.clone(),
            _lock: lock,
            run_id,
            next_commit: AtomicU32::new(0),
            removed_leftovers,
        })
    }

    /// Writes `rows` (one chunk per source object) and then the manifest
    /// entries of the objects they came from, as one atomic commit. Entries of
    /// objects without rows (failed, skipped, digests) may come with or
    /// without rows.
    pub fn commit(
        &self,
        mut rows: Vec<Vec<EventRow>>,
        objects: Vec<ObjectEntry>,
    ) -> Result<CommitInfo, StoreError> {
        if rows.is_empty() && objects.is_empty() {
            return Ok(CommitInfo::default());
        }
        let commit_number = self.next_commit.fetch_add(1, Ordering::Relaxed);

        let partitions = partition_by_date(&rows);
        let mut data_files = Vec::with_capacity(partitions.len());
        for (date, order) in partitions {
            let relative = format!(
                "events/date={date}/part-{}-{commit_number:05}.parquet",
                self.run_id
            );
            self.write_data_file(&relative, &mut rows, &order)?;
            data_files.push(relative);
        }

        let segment = Segment {
            format_version: SEGMENT_FORMAT_VERSION,
            run_id: self.run_id.clone(),
            committed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            data_files: data_files.clone(),
            objects,
        };
        let file_name = format!("segment-{}-{commit_number:05}.json", self.run_id);
        manifest::write_segment(&self.store.manifest_dir(), &file_name, &segment)?;
        Ok(CommitInfo {
            rows: rows.iter().map(Vec::len).sum(),
            data_files,
        })
    }

    /// Writes one partition file under a temporary name and renames it.
    fn write_data_file(
        &self,
        relative: &str,
        rows: &mut [Vec<EventRow>],
        order: &[(usize, usize)],
    ) -> Result<(), StoreError> {
        let final_path = self.store.root().join(relative);
        let folder = final_path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| self.store.root().to_path_buf());
        fs::create_dir_all(&folder).map_err(io_error(&folder))?;
        let file_name = final_path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp_path = folder.join(format!(".{file_name}.tmp"));

        let parquet_error = |source| StoreError::Parquet {
            path: final_path.clone(),
            source,
        };
        let mut frame = rows_to_dataframe_ordered(rows, order).map_err(parquet_error)?;
        let file = File::create(&temp_path).map_err(io_error(&temp_path))?;
        ParquetWriter::new(&file)
            .with_compression(ParquetCompression::Zstd(
                ZstdLevel::try_new(ZSTD_LEVEL).ok(),
            ))
            .with_statistics(StatisticsOptions::default())
            .with_row_group_size(Some(ROW_GROUP_ROWS))
            .finish(&mut frame)
            .map_err(parquet_error)?;
        file.sync_all().map_err(io_error(&temp_path))?;
        drop(file);
        fs::rename(&temp_path, &final_path).map_err(io_error(&final_path))?;
        manifest::sync_dir(&folder).map_err(io_error(&folder))?;
        Ok(())
    }
}

/// Groups `(chunk, row)` positions by UTC event date, each group sorted by
/// event time.
fn partition_by_date(chunks: &[Vec<EventRow>]) -> BTreeMap<String, Vec<(usize, usize)>> {
    let time_of =
        |&(chunk, row): &(usize, usize)| chunks[chunk][row].event_time.unwrap_or(i64::MIN);
    let mut order: Vec<(usize, usize)> = chunks
        .iter()
        .enumerate()
        .flat_map(|(chunk, rows)| (0..rows.len()).map(move |row| (chunk, row)))
        .collect();
    order.sort_by_key(time_of);

    let mut partitions: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    let mut current: Option<(String, i64)> = None;
    for position in order {
        let time = time_of(&position);
        // Positions arrive sorted, so the date changes only at day
        // boundaries; it is formatted once per day rather than once per row.
        let day = time.div_euclid(86_400_000_000);
        let date = match &current {
            Some((date, current_day)) if *current_day == day => date.clone(),
            _ => {
                let date = date_of(time);
                current = Some((date.clone(), day));
                date
            }
        };
        partitions.entry(date).or_default().push(position);
    }
    partitions
}

/// Deletes data files that no committed segment lists, and temporary files.
fn remove_leftovers(store: &Store) -> Result<usize, StoreError> {
    let manifest = store.manifest()?;
    let committed = manifest.data_files();
    let mut removed = 0;

    for folder in [store.events_dir(), store.manifest_dir()] {
        for entry in walkdir::WalkDir::new(&folder)
            .min_depth(1)
            .into_iter()
            .filter_map(Result::ok)
        {
            if !entry.file_type().is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            let is_temp = name.starts_with('.') && name.ends_with(".tmp");
            let relative = entry
                .path()
                .strip_prefix(store.root())
                .map(|path| path.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let is_orphan = name.ends_with(".parquet") && !committed.contains(relative.as_str());
            if is_temp || is_orphan {
                tracing::debug!(file = %relative, "removing leftover of an interrupted ingest");
                fs::remove_file(entry.path()).map_err(io_error(entry.path()))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
