//! Reading the columns of a small, already reduced `DataFrame` into Rust
//! values. Only the audit's filtered and aggregated frames pass through here,
//! never the whole store.

use polars::prelude::*;

use crate::time::Micros;

/// Reads a text column.
pub(super) fn text(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    crate::query::text_values(frame, name)
}

/// Reads a UTC timestamp column as microseconds.
pub(super) fn time(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<Micros>>> {
    crate::query::time_values(frame, name)
}

/// Reads an unsigned count column; nulls read as 0.
pub(super) fn count(frame: &DataFrame, name: &str) -> PolarsResult<Vec<u64>> {
    let series = frame
        .column(name)?
        .as_materialized_series()
        .cast(&DataType::UInt64)?;
    Ok(series
        .u64()?
        .iter()
        .map(|value| value.unwrap_or(0))
        .collect())
}

/// Reads a column of lists of text (from `implode` or `unique` in a
/// `group_by`), dropping nulls inside the lists.
pub(super) fn text_list(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Vec<String>>> {
    let series = frame.column(name)?.as_materialized_series();
    let lists = series.list()?;
    let mut rows = Vec::with_capacity(series.len());
    for index in 0..lists.len() {
        let mut values = Vec::new();
        if let Some(inner) = lists.get_as_series(index) {
            for value in inner.str()?.iter().flatten() {
                values.push(value.to_string());
            }
        }
        rows.push(values);
    }
    Ok(rows)
}
