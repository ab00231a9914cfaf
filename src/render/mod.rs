//! Rendering query results as text: terminal tables, CSV, JSON lines and JSON.
//!
//! Results come from polars as a `DataFrame`; [`ResultTable`] turns it into
//! typed cells once, and each writer renders those. Tables escape strings from
//! the logs for the terminal, CSV neutralises spreadsheet formulas, and JSON
//! lines carry the exact text.

pub mod lineage;
pub mod sanitize;

use std::io::Write;

use comfy_table::{ContentArrangement, Table, presets};
use polars::prelude::*;
use serde_json::{Map, Value};

use crate::time::format_rfc3339;
pub use sanitize::{escape_for_terminal, neutralise_csv_formula};

/// Output formats for row results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RowFormat {
    /// An aligned table for reading on a terminal.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array of objects.
    Json,
    /// Apache Parquet with the result's column types (binary: use `-o FILE`).
    Parquet,
    /// JSON lines for Timesketch's importer (`message`, `datetime`, `timestamp_desc`).
    Timesketch,
}

/// One value of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Bool(bool),
    UInt(u64),
    Int(i64),
    /// A UTC timestamp in microseconds.
    Time(i64),
}

impl Cell {
    /// Returns the value as display text (empty for null).
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(text) => text.clone(),
            Cell::Bool(value) => value.to_string(),
            Cell::UInt(value) => value.to_string(),
            Cell::Int(value) => value.to_string(),
            Cell::Time(micros) => format_rfc3339(*micros),
        }
    }

    /// Returns the value as JSON; times as RFC 3339 text.
    pub fn json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Text(text) => Value::String(text.clone()),
            Cell::Bool(value) => Value::Bool(*value),
            Cell::UInt(value) => Value::from(*value),
            Cell::Int(value) => Value::from(*value),
            Cell::Time(micros) => Value::String(format_rfc3339(*micros)),
        }
    }
}

/// A query result as named columns of typed cells.
#[derive(Debug, Clone, Default)]
pub struct ResultTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl ResultTable {
    /// Converts a `DataFrame` whose columns are strings, booleans, integers or
    /// UTC datetimes.
    pub fn from_dataframe(frame: &DataFrame) -> PolarsResult<ResultTable> {
        let height = frame.height();
        let mut rows = vec![Vec::with_capacity(frame.width()); height];
        let mut columns = Vec::with_capacity(frame.width());
        for column in frame.columns() {
            columns.push(column.name().to_string());
            let series = column.as_materialized_series();
            let cells: Vec<Cell> = match series.dtype() {
                DataType::String => series
                    .str()?
                    .iter()
                    .map(|value| value.map_or(Cell::Null, |text| Cell::Text(text.to_string())))
                    .collect(),
                DataType::Boolean => series
                    .bool()?
                    .iter()
                    .map(|value| value.map_or(Cell::Null, Cell::Bool))
                    .collect(),
                DataType::Datetime(unit, _) => {
                    let to_micros: fn(i64) -> i64 = match unit {
                        TimeUnit::Nanoseconds => |value: i64| value / 1_000,
                        TimeUnit::Microseconds => |value: i64| value,
                        TimeUnit::Milliseconds => |value: i64| value * 1_000,
                    };
                    series
                        .datetime()?
                        .physical()
                        .iter()
                        .map(|value| value.map_or(Cell::Null, |value| Cell::Time(to_micros(value))))
                        .collect()
                }
                DataType::UInt64 | DataType::UInt32 => series
                    .cast(&DataType::UInt64)?
                    .u64()?
                    .iter()
                    .map(|value| value.map_or(Cell::Null, Cell::UInt))
                    .collect(),
                _ => series
                    .cast(&DataType::Int64)?
                    .i64()?
                    .iter()
                    .map(|value| value.map_or(Cell::Null, Cell::Int))
                    .collect(),
            };
            for (row, cell) in rows.iter_mut().zip(cells) {
                row.push(cell);
            }
        }
        Ok(ResultTable { columns, rows })
    }

    /// Writes the rows in a text `format`. Parquet and Timesketch need more
    /// than cells and are written by [`crate::export`].
    pub fn write(&self, format: RowFormat, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            RowFormat::Table => self.write_table(out),
            RowFormat::Csv => self.write_csv(out),
            RowFormat::Jsonl => self.write_jsonl(out),
            RowFormat::Json => self.write_json(out),
            RowFormat::Parquet | RowFormat::Timesketch => Err(std::io::Error::other(format!(
                "{format:?} output is written by the export module"
            ))),
        }
    }

    /// Returns one row as a JSON object with the column names as keys.
    pub fn row_object(&self, row: &[Cell]) -> Map<String, Value> {
        self.columns
            .iter()
            .zip(row)
            .map(|(name, cell)| (name.clone(), cell.json()))
            .collect()
    }

    /// Writes one JSON object per row, with the column names as keys.
    pub fn write_jsonl(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for row in &self.rows {
            serde_json::to_writer(&mut *out, &self.row_object(row))?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// Writes one JSON array holding an object per row.
    pub fn write_json(&self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(b"[")?;
        for (index, row) in self.rows.iter().enumerate() {
            out.write_all(if index == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &self.row_object(row))?;
        }
        out.write_all(b"\n]\n")?;
        out.flush()
    }

    /// Writes CSV with a header row; cells that a spreadsheet would run as a
    /// formula get a leading `'`.
    pub fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(&self.columns).map_err(csv_to_io)?;
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| neutralise_csv_formula(&cell.text()).into_owned())
                .collect();
            writer.write_record(&cells).map_err(csv_to_io)?;
        }
        writer.flush()
    }

    /// Writes an aligned table; strings from the logs are escaped for the
    /// terminal and cut to [`TABLE_CELL_MAX_CHARS`].
    pub fn write_table(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(self.columns.iter().map(|name| name.as_str()));
        for row in &self.rows {
            table.add_row(
                row.iter()
                    .map(|cell| shorten(&escape_for_terminal(&cell.text()))),
            );
        }
        writeln!(out, "{table}")?;
        out.flush()
    }
}

/// Unwraps the I/O error inside a CSV error, so a broken pipe keeps its kind.
fn csv_to_io(err: csv::Error) -> std::io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Maximum cell text length in a table, in characters; longer text ends with `…`. The other
/// formats always carry the full text.
pub const TABLE_CELL_MAX_CHARS: usize = 60;

fn shorten(text: &str) -> String {
    if text.chars().count() <= TABLE_CELL_MAX_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(TABLE_CELL_MAX_CHARS - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ResultTable {
        ResultTable {
            columns: vec!["event_time".into(), "user_agent".into(), "n".into()],
            rows: vec![vec![
                Cell::Time(1_688_989_320_000_000),
                Cell::Text("=cmd|' /C calc'!A0\u{1b}[2J".into()),
                Cell::Null,
            ]],
        }
    }

    #[test]
    fn jsonl_keeps_exact_text_and_nulls() {
        let mut out = Vec::new();
        sample().write_jsonl(&mut out).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["event_time"], "2023-07-10T11:42:00Z");
        assert_eq!(value["user_agent"], "=cmd|' /C calc'!A0\u{1b}[2J");
        assert_eq!(value["n"], Value::Null);
    }

    #[test]
    fn csv_neutralises_formula() {
        let mut out = Vec::new();
        sample().write_csv(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("event_time,user_agent,n\n"));
        assert!(text.contains("'=cmd"));
    }

    #[test]
    fn table_escapes_terminal_controls() {
        let mut out = Vec::new();
        sample().write_table(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("\\u{001b}"));
    }
}
