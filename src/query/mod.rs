//! Queries over the store. Each returns plain data that the command layer
//! renders; none prints.

pub mod audit;
pub mod leftovers;
pub mod lineage;
pub mod stats;
pub mod summary;
pub mod timeline;

use polars::prelude::*;

/// True where `column` equals one of `values`.
pub fn is_one_of<S: AsRef<str>>(column: &str, values: &[S]) -> Expr {
    let values: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
    let list = lit(Series::new("values".into(), values)).implode(false);
    col(column).is_in(list, false)
}

/// Keeps the successful calls of `event_source` named one of `names`.
pub fn successful_calls(scan: LazyFrame, event_source: &str, names: &[&str]) -> LazyFrame {
    scan.filter(
        col("event_source")
            .eq(lit(event_source.to_string()))
            .and(is_one_of("event_name", names).fill_null(false))
            .and(col("error_code").is_null()),
    )
}

/// Reads a string column as owned text, one value per row.
pub fn text_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(frame
        .column(name)?
        .str()?
        .iter()
        .map(|value| value.map(str::to_string))
        .collect())
}

/// Reads a UTC timestamp column as microseconds, one value per row, whatever
/// its time unit.
pub fn time_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    let series = frame.column(name)?.as_materialized_series();
    let DataType::Datetime(unit, _) = series.dtype() else {
        polars_bail!(SchemaMismatch: "column {name} is not a timestamp");
    };
    let scale: fn(i64) -> i64 = match unit {
        TimeUnit::Nanoseconds => |value| value / 1_000,
        TimeUnit::Microseconds => |value| value,
        TimeUnit::Milliseconds => |value| value * 1_000,
    };
    Ok(series
        .datetime()?
        .physical()
        .iter()
        .map(|value| value.map(scale))
        .collect())
}

/// Serialises an optional timestamp as RFC 3339 text (or null).
pub fn serialize_micros<S: serde::Serializer>(
    value: &Option<crate::time::Micros>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(micros) => serializer.serialize_str(&crate::time::format_rfc3339(*micros)),
        None => serializer.serialize_none(),
    }
}

/// Errors of a query.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("query failed: {0}")]
    Polars(#[from] polars::error::PolarsError),
}
