//! Reading the store: lazy polars scans over the committed data files.
//!
//! Only files listed in the manifest are read, so leftovers of an interrupted
//! ingest never show up in a result. A time window prunes whole date
//! partitions by folder name before polars opens any file; inside the files,
//! row-group statistics let polars skip the rest.

use std::sync::Arc;

use polars::prelude::*;

use super::{Store, StoreError};
use crate::record::store_schema;
use crate::time::{Micros, date_of};

/// Builds a lazy scan of the store's events, or `None` when the store has
/// no data file in the window. `since` and `until` prune date partitions
/// only; callers still filter rows on `event_time`.
pub fn scan_events(
    store: &Store,
    since: Option<Micros>,
    until: Option<Micros>,
) -> Result<Option<LazyFrame>, StoreError> {
    let manifest = store.manifest()?;
    let first_date = since.map(date_of);
    let last_date = until.map(date_of);

    let mut paths = Vec::new();
    for relative in manifest.data_files() {
        if let Some(date) = partition_date(relative) {
            if first_date.as_deref().is_some_and(|first| date < first) {
                continue;
            }
            if last_date.as_deref().is_some_and(|last| date > last) {
                continue;
            }
        }
        let path = store.root().join(relative);
        let path = PlRefPath::try_from_pathbuf(path.clone())
            .map_err(|source| StoreError::Parquet { path, source })?;
        paths.push(path);
    }
    if paths.is_empty() {
        return Ok(None);
    }

    let args = ScanArgsParquet {
        schema: Some(Arc::new(store_schema())),
        hive_options: HiveOptions {
            enabled: Some(false),
            ..HiveOptions::default()
        },
        ..ScanArgsParquet::default()
    };
    let frame =
        LazyFrame::scan_parquet_files(paths.into_iter().collect(), args).map_err(|source| {
            StoreError::Parquet {
                path: store.events_dir(),
                source,
            }
        })?;
    Ok(Some(frame))
}

/// Keeps one row per event (the first by event time, then source position),
/// sorted by event time.
pub fn distinct_events(frame: LazyFrame) -> LazyFrame {
    frame
        .sort(
            ["event_time", "dedup_key", "source_uri", "source_index"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .unique_stable_generic(Some(vec![col("dedup_key")]), UniqueKeepStrategy::First)
}

/// Returns an empty frame with the store's columns, for queries on an empty store.
pub fn empty_events() -> LazyFrame {
    DataFrame::empty_with_schema(&store_schema()).lazy()
}

/// Extracts `YYYY-MM-DD` from `events/date=YYYY-MM-DD/…`.
fn partition_date(relative: &str) -> Option<&str> {
    let start = relative.find("date=")? + "date=".len();
    relative.get(start..start + 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_date_reads_folder_name() {
        assert_eq!(
            partition_date("events/date=2023-07-10/part-x.parquet"),
            Some("2023-07-10")
        );
        assert_eq!(partition_date("events/other/part.parquet"), None);
    }
}
