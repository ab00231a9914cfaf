//! Follow-up events: a rule's `followed_by` lowers (or raises) a finding
//! when a given later event comes soon after it with the same values in some
//! columns. A VPC flow-log deletion followed by deleting the VPC is a
//! teardown, not an intruder blinding the network logs.

use std::collections::HashMap;

use polars::prelude::*;

use super::finding::Finding;
use super::rule::{FollowUp, Rule};
use crate::query::{is_one_of, text_values, time_values};

/// Times of the follow-up events, by the values of the `same` columns.
type FollowUpTimes = HashMap<Vec<Option<String>>, Vec<i64>>;

/// Applies every rule's `followed_by` to its findings, with one filtered
/// scan per rule that has one. The `same` values of a finding are those of
/// its first event ([`Finding::follow_up_key`]).
pub fn apply_follow_ups(
    scan: &LazyFrame,
    rules: &[Rule],
    findings: &mut [Finding],
) -> PolarsResult<()> {
    for rule in rules {
        let Some(follow_up) = &rule.followed_by else {
            continue;
        };
        let times = follow_up_times(scan.clone(), follow_up)?;
        let only_for = follow_up.only_for.values();
        for finding in findings
            .iter_mut()
            .filter(|finding| finding.rule_id == rule.id)
        {
            let applies = only_for.is_empty()
                || finding
                    .event_name
                    .as_ref()
                    .is_some_and(|name| only_for.contains(name));
            if !applies {
                continue;
            }
            let key = &finding.follow_up_key;
            let start = finding.first_event_time;
            let end = start.saturating_add(follow_up.within_minutes.saturating_mul(60_000_000));
            let followed = times
                .get(key)
                .is_some_and(|times| times.iter().any(|&time| time > start && time <= end));
            if followed {
                finding.shift(follow_up.change, &follow_up.reason);
            }
        }
    }
    Ok(())
}

fn follow_up_times(scan: LazyFrame, follow_up: &FollowUp) -> PolarsResult<FollowUpTimes> {
    let names = follow_up.event_name.values();
    let sources = follow_up.event_source.values();
    // An empty list (no `event_source` given) lets every value through.
    let any_of = |column: &str, values: &[String]| {
        if values.is_empty() {
            lit(true)
        } else {
            is_one_of(column, values).fill_null(false)
        }
    };
    let mut columns = vec![col("event_time")];
    columns.extend(
        follow_up
            .same
            .iter()
            .map(|column| col(column.as_str()).cast(DataType::String)),
    );
    let frame = scan
        .filter(
            any_of("event_name", &names)
                .and(any_of("event_source", &sources))
                .and(col("error_code").is_null()),
        )
        .select(columns)
        .collect()?;
    let times = time_values(&frame, "event_time")?;
    let values: Vec<Vec<Option<String>>> = follow_up
        .same
        .iter()
        .map(|column| text_values(&frame, column))
        .collect::<PolarsResult<_>>()?;
    let mut by_key = FollowUpTimes::new();
    for (row, time) in times.into_iter().enumerate() {
        let Some(time) = time else {
            continue;
        };
        let key = values.iter().map(|column| column[row].clone()).collect();
        by_key.entry(key).or_default().push(time);
    }
    Ok(by_key)
}
