//! Per-credential summaries: for each access key, who used it, when, from
//! where, with which tools, in which regions and services, its most frequent
//! calls, its errors and the credentials it minted.

use std::collections::HashMap;

use polars::prelude::*;

use super::timeline::{TimelineFilter, time_literal};
use super::{QueryError, is_one_of};
use crate::store::Store;
use crate::store::scan::{distinct_events, scan_events};
use crate::time::Micros;

/// Error codes that mean the caller lacked permission.
pub const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "Client.UnauthorizedOperation",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
];

/// Window in which AccessDenied errors are counted as one burst.
pub const DENIED_BURST_WINDOW_MICROS: Micros = 10 * 60 * 1_000_000;

/// Selection of the credentials to summarise.
#[derive(Debug, Clone, Default)]
pub struct SummarySelection {
    pub access_keys: Vec<String>,
    /// Principals as the timeline understands them (ARN or name).
    pub principals: Vec<String>,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
    /// Most API calls listed per credential.
    pub top: usize,
}

/// A value and how many events had it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub value: String,
    pub count: u64,
}

/// The summary of one credential.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialSummary {
    pub access_key_id: String,
    /// `long-term`, `temporary` or `console`.
    pub kind: &'static str,
    /// The principal ARN seen most often with the key.
    pub owner: Option<String>,
    pub first_seen: Micros,
    pub last_seen: Micros,
    pub events: u64,
    pub errors: u64,
    pub access_denied: u64,
    /// Most AccessDenied errors within any ten-minute window.
    pub max_denied_in_10_min: u64,
    pub source_ips: Vec<Counted>,
    pub user_agents: Vec<Counted>,
    pub regions: Vec<Counted>,
    pub services: Vec<Counted>,
    pub top_calls: Vec<Counted>,
    /// Access keys this credential minted (successful mint events).
    pub minted: Vec<String>,
}

const SUMMARY_COLUMNS: &[&str] = &[
    "access_key_id",
    "event_time",
    "principal_arn",
    "source_ip",
    "user_agent",
    "aws_region",
    "event_source",
    "event_name",
    "error_code",
    "minted_access_key_id",
    "session_credential_from_console",
];

/// Summarises the selected credentials, most recently active first.
pub fn summarise(
    store: &Store,
    selection: &SummarySelection,
) -> Result<Vec<CredentialSummary>, QueryError> {
    let Some(frame) = scan_events(store, selection.since, selection.until)? else {
        return Ok(Vec::new());
    };
    let filter = TimelineFilter {
        access_keys: selection.access_keys.clone(),
        principals: selection.principals.clone(),
        ..TimelineFilter::default()
    };
    let mut predicate = col("access_key_id")
        .is_not_null()
        .and(col("access_key_id").neq(lit("")));
    if let Some(selected) = filter.predicate() {
        predicate = predicate.and(selected);
    }
    if let Some(since) = selection.since {
        predicate = predicate.and(col("event_time").gt_eq(time_literal(since)));
    }
    if let Some(until) = selection.until {
        predicate = predicate.and(col("event_time").lt_eq(time_literal(until)));
    }
    // A principal filter selects keys; each selected key is then summarised
    // with all its events, not only those that matched the filter.
    let columns: Vec<Expr> = SUMMARY_COLUMNS.iter().map(|name| col(*name)).collect();
    let events = distinct_events(frame.filter(predicate))
        .select(columns)
        .collect()?;
    if events.height() == 0 {
        return Ok(Vec::new());
    }

    let base = events
        .clone()
        .lazy()
        .group_by([col("access_key_id")])
        .agg([
            col("event_time").min().alias("first_seen"),
            col("event_time").max().alias("last_seen"),
            len().alias("events"),
            col("error_code").is_not_null().sum().alias("errors"),
            is_one_of("error_code", ACCESS_DENIED_CODES)
                .sum()
                .alias("access_denied"),
            col("session_credential_from_console")
                .eq(lit(true))
                .any(true)
                .alias("console"),
        ])
        .sort(
            ["last_seen"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .collect()?;

    let counts = |dimension: &str| counted_by_key(&events, dimension);
    let owners = counts("principal_arn")?;
    let source_ips = counts("source_ip")?;
    let user_agents = counts("user_agent")?;
    let regions = counts("aws_region")?;
    let services = counts("event_source")?;
    let calls = counts("event_name")?;
    let minted = minted_by_key(&events)?;
    let bursts = denied_bursts(&events)?;

    let keys = base.column("access_key_id")?.str()?;
    let first = base
        .column("first_seen")?
        .as_materialized_series()
        .datetime()?
        .physical()
        .clone();
    let last = base
        .column("last_seen")?
        .as_materialized_series()
        .datetime()?
        .physical()
        .clone();
    let totals = base.column("events")?.cast(&DataType::UInt64)?;
    let totals = totals.u64()?;
    let errors = base.column("errors")?.cast(&DataType::UInt64)?;
    let errors = errors.u64()?;
    let denied = base.column("access_denied")?.cast(&DataType::UInt64)?;
    let denied = denied.u64()?;
    let console = base.column("console")?.bool()?;

    let mut summaries = Vec::with_capacity(base.height());
    for row in 0..base.height() {
        let Some(key) = keys.get(row) else { continue };
        let take = |map: &HashMap<String, Vec<Counted>>| map.get(key).cloned().unwrap_or_default();
        let kind = if console.get(row) == Some(true) {
            "console"
        } else if key.starts_with("ASIA") {
            "temporary"
        } else {
            "long-term"
        };
        let mut top_calls = take(&calls);
        top_calls.truncate(selection.top);
        summaries.push(CredentialSummary {
            access_key_id: key.to_string(),
            kind,
            owner: take(&owners).into_iter().next().map(|owner| owner.value),
            first_seen: first.get(row).unwrap_or_default(),
            last_seen: last.get(row).unwrap_or_default(),
            events: totals.get(row).unwrap_or_default(),
            errors: errors.get(row).unwrap_or_default(),
            access_denied: denied.get(row).unwrap_or_default(),
            max_denied_in_10_min: bursts.get(key).copied().unwrap_or_default(),
            source_ips: take(&source_ips),
            user_agents: take(&user_agents),
            regions: take(&regions),
            services: take(&services),
            top_calls,
            minted: minted.get(key).cloned().unwrap_or_default(),
        });
    }
    Ok(summaries)
}

/// Counts of each value of `dimension` per key, most frequent first.
fn counted_by_key(
    events: &DataFrame,
    dimension: &str,
) -> Result<HashMap<String, Vec<Counted>>, QueryError> {
    let grouped = events
        .clone()
        .lazy()
        .filter(col(dimension).is_not_null())
        .group_by([col("access_key_id"), col(dimension)])
        .agg([len().alias("count")])
        .sort(
            ["access_key_id", "count", dimension],
            SortMultipleOptions::default().with_order_descending_multi([false, true, false]),
        )
        .collect()?;
    let keys = grouped.column("access_key_id")?.str()?;
    let values = grouped.column(dimension)?.str()?;
    let counts = grouped.column("count")?.cast(&DataType::UInt64)?;
    let counts = counts.u64()?;
    let mut by_key: HashMap<String, Vec<Counted>> = HashMap::new();
    for row in 0..grouped.height() {
        if let (Some(key), Some(value), Some(count)) =
            (keys.get(row), values.get(row), counts.get(row))
        {
            by_key.entry(key.to_string()).or_default().push(Counted {
                value: value.to_string(),
                count,
            });
        }
    }
    Ok(by_key)
}

fn minted_by_key(events: &DataFrame) -> Result<HashMap<String, Vec<String>>, QueryError> {
    let minted = events
        .clone()
        .lazy()
        .filter(
            col("minted_access_key_id")
                .is_not_null()
                .and(col("error_code").is_null()),
        )
        .select([col("access_key_id"), col("minted_access_key_id")])
        .collect()?;
    let keys = minted.column("access_key_id")?.str()?;
    let children = minted.column("minted_access_key_id")?.str()?;
    let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
    for (key, child) in keys.iter().zip(children.iter()) {
        if let (Some(key), Some(child)) = (key, child) {
            let list = by_key.entry(key.to_string()).or_default();
            if !list.iter().any(|known| known == child) {
                list.push(child.to_string());
            }
        }
    }
    Ok(by_key)
}

/// Most AccessDenied errors each key got within any ten-minute window.
fn denied_bursts(events: &DataFrame) -> Result<HashMap<String, u64>, QueryError> {
    let denied = events
        .clone()
        .lazy()
        .filter(is_one_of("error_code", ACCESS_DENIED_CODES))
        .select([col("access_key_id"), col("event_time")])
        .sort(
            ["access_key_id", "event_time"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let keys = denied.column("access_key_id")?.str()?;
    let times = denied
        .column("event_time")?
        .as_materialized_series()
        .datetime()?
        .physical()
        .clone();
    let mut bursts: HashMap<String, u64> = HashMap::new();
    let mut start = 0;
    for end in 0..denied.height() {
        while keys.get(start) != keys.get(end)
            || times.get(end).unwrap_or_default() - times.get(start).unwrap_or_default()
                > DENIED_BURST_WINDOW_MICROS
        {
            start += 1;
        }
        if let Some(key) = keys.get(end) {
            let best = bursts.entry(key.to_string()).or_default();
            *best = (*best).max((end - start + 1) as u64);
        }
    }
    Ok(bursts)
}
