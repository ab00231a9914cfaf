//! The timeline: every distinct event that matches the filters, sorted by
//! event time.

use polars::prelude::*;

use super::QueryError;
use crate::store::Store;
use crate::store::scan::{distinct_events, empty_events, scan_events};
use crate::time::Micros;

/// Columns of a timeline row, in output order.
pub const TIMELINE_COLUMNS: &[&str] = &[
    "event_time",
    "event_id",
    "event_source",
    "event_name",
    "aws_region",
    "source_ip",
    "user_agent",
    "error_code",
    "error_message",
    "identity_type",
    "principal_arn",
    "user_name",
    "access_key_id",
    "recipient_account_id",
    "session_issuer_arn",
    "minted_access_key_id",
    "target_user_name",
    "target_role_name",
    "source_uri",
];

/// Columns shown in the terminal table, where width is scarce.
pub const TABLE_COLUMNS: &[&str] = &[
    "event_time",
    "event_name",
    "event_source",
    "source_ip",
    "principal_arn",
    "access_key_id",
    "error_code",
    "user_agent",
];

/// Filters of a timeline. Within one filter the values are
/// alternatives (OR); different filters must all match (AND).
#[derive(Debug, Clone, Default)]
pub struct TimelineFilter {
    pub access_keys: Vec<String>,
    /// ARNs match the principal ARN or the session issuer (role) ARN; other
    /// values match the user name, the role name of the session issuer, or
    /// the last segment of the principal ARN (user or session name).
    pub principals: Vec<String>,
    pub source_ips: Vec<String>,
    pub event_names: Vec<String>,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
}

impl TimelineFilter {
    /// Builds the row predicate, or `None` when nothing is filtered.
    pub fn predicate(&self) -> Option<Expr> {
        let mut conditions = Vec::new();
        if let Some(condition) = any_equal("access_key_id", &self.access_keys) {
            conditions.push(condition);
        }
        if let Some(condition) = any_of(
            self.principals
                .iter()
                .map(|principal| principal_matches(principal)),
        ) {
            conditions.push(condition);
        }
        if let Some(condition) = any_equal("source_ip", &self.source_ips) {
            conditions.push(condition);
        }
        if let Some(condition) = any_equal("event_name", &self.event_names) {
            conditions.push(condition);
        }
        if let Some(since) = self.since {
            conditions.push(col("event_time").gt_eq(time_literal(since)));
        }
        if let Some(until) = self.until {
            conditions.push(col("event_time").lt_eq(time_literal(until)));
        }
        conditions.into_iter().reduce(|all, next| all.and(next))
    }
}

/// Returns the timeline rows with [`TIMELINE_COLUMNS`].
pub fn timeline(store: &Store, filter: &TimelineFilter) -> Result<DataFrame, QueryError> {
    timeline_with(store, filter, TIMELINE_COLUMNS)
}

/// Returns the timeline rows with the given store columns.
pub fn timeline_with(
    store: &Store,
    filter: &TimelineFilter,
    columns: &[&str],
) -> Result<DataFrame, QueryError> {
    let frame = scan_events(store, filter.since, filter.until)?.unwrap_or_else(empty_events);
    let frame = match filter.predicate() {
        Some(predicate) => frame.filter(predicate),
        None => frame,
    };
    let columns: Vec<Expr> = columns.iter().map(|name| col(*name)).collect();
    Ok(distinct_events(frame).select(columns).collect()?)
}

/// Builds a literal timestamp comparable with the `event_time` column.
pub fn time_literal(micros: Micros) -> Expr {
    lit(micros).cast(DataType::Datetime(
        TimeUnit::Microseconds,
        Some(TimeZone::UTC),
    ))
}

fn principal_matches(principal: &str) -> Expr {
    if principal.starts_with("arn:") {
        col("principal_arn")
            .eq(lit(principal.to_string()))
            .or(col("session_issuer_arn").eq(lit(principal.to_string())))
    } else {
        col("user_name")
            .eq(lit(principal.to_string()))
            .or(col("session_issuer_user_name").eq(lit(principal.to_string())))
            .or(col("principal_arn")
                .str()
                .ends_with(lit(format!("/{principal}"))))
    }
}

fn any_equal(column: &str, values: &[String]) -> Option<Expr> {
    any_of(
        values
            .iter()
            .map(|value| col(column).eq(lit(value.clone()))),
    )
}

fn any_of(conditions: impl Iterator<Item = Expr>) -> Option<Expr> {
    conditions.reduce(|any, next| any.or(next))
}
