//! Store statistics: how many events, rows, accounts and regions, the time
//! span, and how many source objects were ingested or failed.

use polars::prelude::*;
use serde::Serialize;

use super::QueryError;
use crate::store::scan::scan_events;
use crate::store::{ObjectStatus, Store};
use crate::time::format_rfc3339;

/// Statistics of a store. Field names are the keys of `stats --format json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreStats {
    /// Distinct events: rows with the same recipient account and event id count once.
    pub events: u64,
    /// Stored rows, duplicates included.
    pub rows: u64,
    /// Distinct recipient accounts.
    pub accounts: u64,
    /// Distinct regions.
    pub regions: u64,
    pub first_event_time: Option<String>,
    pub last_event_time: Option<String>,
    /// Source objects whose records are stored (fully or in part).
    pub sources: u64,
    /// Source objects that failed, or were stored only in part.
    pub failed_sources: u64,
    /// Source objects stored only in part (also counted in both of the above).
    pub partial_sources: u64,
    /// CloudTrail-Digest files recorded.
    pub digest_sources: u64,
    /// Objects skipped as not CloudTrail or as copies of another object.
    pub skipped_sources: u64,
    /// Parquet data files.
    pub data_files: u64,
}

/// Computes the statistics of `store`.
pub fn stats(store: &Store) -> Result<StoreStats, QueryError> {
    let manifest = store.manifest()?;
    let mut stats = StoreStats {
        data_files: manifest.data_files().len() as u64,
        ..StoreStats::default()
    };
    for entry in manifest.latest_entries().values() {
        match entry.status {
            ObjectStatus::Ingested => stats.sources += 1,
            ObjectStatus::Partial => {
                stats.sources += 1;
                stats.failed_sources += 1;
                stats.partial_sources += 1;
            }
            ObjectStatus::Failed => stats.failed_sources += 1,
            ObjectStatus::Digest => stats.digest_sources += 1,
            ObjectStatus::Skipped => stats.skipped_sources += 1,
        }
    }

    let Some(frame) = scan_events(store, None, None)? else {
        return Ok(stats);
    };
    let counts = frame
        .select([
            len().cast(DataType::UInt64).alias("rows"),
            col("dedup_key")
                .n_unique()
                .cast(DataType::UInt64)
                .alias("events"),
            col("recipient_account_id")
                .drop_nulls()
                .n_unique()
                .cast(DataType::UInt64)
                .alias("accounts"),
            col("aws_region")
                .drop_nulls()
                .n_unique()
                .cast(DataType::UInt64)
                .alias("regions"),
            col("event_time").min().alias("first"),
            col("event_time").max().alias("last"),
        ])
        .collect()?;

    let count = |name: &str| -> Result<u64, QueryError> {
        Ok(counts.column(name)?.u64()?.get(0).unwrap_or(0))
    };
    stats.rows = count("rows")?;
    stats.events = count("events")?;
    stats.accounts = count("accounts")?;
    stats.regions = count("regions")?;
    let time = |name: &str| -> Result<Option<String>, QueryError> {
        let column = counts.column(name)?;
        Ok(column.datetime()?.physical().get(0).map(format_rfc3339))
    };
    stats.first_event_time = time("first")?;
    stats.last_event_time = time("last")?;
    Ok(stats)
}
