//! Timesketch JSON lines: one event per line with the three fields
//! Timesketch's importer requires (`message`, `datetime`,
//! `timestamp_desc`) next to the row's own fields.

use std::io::Write;

use serde_json::{Map, Value};

use crate::render::{Cell, ResultTable};
use crate::time::format_rfc3339;

/// Time columns that can date a row, with the description Timesketch shows
/// for each, in order of preference.
const TIME_COLUMNS: &[(&str, &str)] = &[
    ("event_time", "Event Time"),
    ("first_event_time", "First Event Time"),
    ("first_seen", "First Seen"),
    ("last_used", "Last Used"),
];

/// Writes `table` as Timesketch JSON lines. Rows without a time are left
/// out, because Timesketch rejects them; the count of rows left out is
/// returned so the caller can say so.
pub fn write_timesketch(table: &ResultTable, out: &mut dyn Write) -> anyhow::Result<usize> {
    let Some((time_index, description)) = TIME_COLUMNS.iter().find_map(|(name, description)| {
        table
            .columns
            .iter()
            .position(|column| column == name)
            .map(|index| (index, *description))
    }) else {
        anyhow::bail!(
            "the Timesketch format needs a time column ({}); this result has none",
            TIME_COLUMNS
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        );
    };

    let mut left_out = 0;
    for row in &table.rows {
        let Cell::Time(micros) = row[time_index] else {
            left_out += 1;
            continue;
        };
        let mut object = Map::new();
        object.insert("message".into(), Value::String(message(table, row)));
        object.insert("datetime".into(), Value::String(format_rfc3339(micros)));
        object.insert("timestamp".into(), Value::from(micros));
        object.insert("timestamp_desc".into(), Value::String(description.into()));
        for (name, cell) in table.columns.iter().zip(row) {
            // The required fields keep their meaning; a column of the same
            // name is kept under a prefixed name instead of overwriting them.
            let key = if object.contains_key(name) {
                format!("trailhound_{name}")
            } else {
                name.clone()
            };
            object.insert(key, cell.json());
        }
        serde_json::to_writer(&mut *out, &object)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(left_out)
}

/// Builds the one-line description of a row: a `summary` or `title` column when the
/// row has one, else the call, who made it, from where, and its error.
fn message(table: &ResultTable, row: &[Cell]) -> String {
    let field = |name: &str| -> Option<String> {
        let index = table.columns.iter().position(|column| column == name)?;
        match &row[index] {
            Cell::Null => None,
            cell => Some(cell.text()).filter(|text| !text.is_empty()),
        }
    };
    if let Some(summary) = field("summary").or_else(|| field("title")) {
        return summary;
    }
    let mut message = match (field("event_source"), field("event_name")) {
        (Some(source), Some(name)) => {
            format!("{}:{name}", source.trim_end_matches(".amazonaws.com"))
        }
        (None, Some(name)) => name,
        _ => field("access_key_id").unwrap_or_else(|| "event".into()),
    };
    if let Some(principal) = field("principal_arn").or_else(|| field("user_name")) {
        message.push_str(&format!(" by {principal}"));
    }
    if let Some(key) = field("access_key_id") {
        message.push_str(&format!(" with {key}"));
    }
    if let Some(ip) = field("source_ip") {
        message.push_str(&format!(" from {ip}"));
    }
    if let Some(error) = field("error_code") {
        message.push_str(&format!(" failed: {error}"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> ResultTable {
        ResultTable {
            columns: vec![
                "event_time".into(),
                "event_source".into(),
                "event_name".into(),
                "principal_arn".into(),
                "source_ip".into(),
                "error_code".into(),
            ],
            rows: vec![
                vec![
                    Cell::Time(1_688_989_320_000_000),
                    Cell::Text("iam.amazonaws.com".into()),
                    Cell::Text("CreateUser".into()),
                    Cell::Text("arn:aws:iam::111122223333:user/bert".into()),
                    Cell::Text("192.0.2.1".into()),
                    Cell::Text("AccessDenied".into()),
                ],
                vec![
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                ],
            ],
        }
    }

    #[test]
    fn rows_carry_required_fields_and_their_own() {
        let mut out = Vec::new();
        let left_out = write_timesketch(&table(), &mut out).unwrap();
        assert_eq!(left_out, 1);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1);
        let value: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(value["datetime"], "2023-07-10T11:42:00Z");
        assert_eq!(value["timestamp"], 1_688_989_320_000_000_i64);
        assert_eq!(value["timestamp_desc"], "Event Time");
        assert_eq!(
            value["message"],
            "iam:CreateUser by arn:aws:iam::111122223333:user/bert from 192.0.2.1 failed: AccessDenied"
        );
        assert_eq!(value["event_name"], "CreateUser");
    }

    #[test]
    fn result_without_time_is_refused() {
        let table = ResultTable {
            columns: vec!["access_key_id".into()],
            rows: vec![vec![Cell::Text("AKIA".into())]],
        };
        let err = write_timesketch(&table, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("needs a time column"));
    }
}
