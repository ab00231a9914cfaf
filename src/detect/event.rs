//! The events a hunt looks at closely: rows that passed some rule's column
//! filter, read in place from the polars frame, with their JSON blobs
//! parsed on first use.

use std::sync::{Arc, OnceLock};

use polars::prelude::*;
use serde_json::Value;

/// Columns a hunt reads for each candidate event.
pub const EVENT_COLUMNS: &[&str] = &[
    "event_time",
    "event_id",
    "event_source",
    "event_name",
    "aws_region",
    "source_ip",
    "user_agent",
    "error_code",
    "identity_type",
    "principal_arn",
    "principal_id",
    "identity_account_id",
    "user_name",
    "access_key_id",
    "caller_key_kind",
    "recipient_account_id",
    "invoked_by",
    "session_credential_from_console",
    "session_issuer_arn",
    "session_issuer_user_name",
    "minted_access_key_id",
    "minted_user_name",
    "target_user_name",
    "target_role_name",
    "target_group_name",
    "target_policy_arn",
    "request_parameters",
    "response_elements",
    "additional_event_data",
    "user_identity",
];

/// One candidate event: a row of the candidate frame, read in place.
#[derive(Debug)]
pub struct Event {
    /// UTC microseconds.
    pub event_time: i64,
    /// Every [`EVENT_COLUMNS`] entry but `event_time` as text, shared by all
    /// events of one frame, so no cell is copied.
    columns: Arc<Vec<StringChunked>>,
    row: usize,
    parsed: [OnceLock<Option<Value>>; 4],
    pub recipient_account_id: Option<String>,
}

const JSON_COLUMNS: [&str; 4] = [
    "request_parameters",
    "response_elements",
    "additional_event_data",
    "user_identity",
];

impl Event {
    /// Returns the text of a column (booleans as `true`/`false`), or `None`
    /// when null or not read.
    pub fn column_text(&self, column: &str) -> Option<&str> {
        let index = EVENT_COLUMNS.iter().position(|name| *name == column)?;
        if index == 0 {
            return None;
        }
        self.columns[index - 1].get(self.row)
    }

    /// Shorthand for [`column_text`](Self::column_text) as an owned string.
    pub fn text(&self, column: &str) -> Option<String> {
        self.column_text(column).map(str::to_string)
    }

    /// Returns the parsed JSON of a blob column, or `None` when it is null
    /// or not valid JSON.
    pub fn json(&self, column: &str) -> Option<&Value> {
        let index = JSON_COLUMNS.iter().position(|name| *name == column)?;
        self.parsed[index]
            .get_or_init(|| {
                let text = self.column_text(column)?;
                serde_json::from_str::<Value>(text).ok()
            })
            .as_ref()
            .filter(|value| !value.is_null())
    }

    /// True when the call failed (`errorCode` set).
    pub fn failed(&self) -> bool {
        self.column_text("error_code").is_some()
    }
}

/// Makes one event per row of a frame with [`EVENT_COLUMNS`]; the events
/// read the frame's text columns in place.
pub fn events_from_frame(frame: &DataFrame) -> PolarsResult<Vec<Event>> {
    let times = frame
        .column("event_time")?
        .as_materialized_series()
        .datetime()?
        .physical()
        .clone();
    let mut columns = Vec::with_capacity(EVENT_COLUMNS.len() - 1);
    for name in &EVENT_COLUMNS[1..] {
        let series = frame
            .column(name)?
            .as_materialized_series()
            .cast(&DataType::String)?;
        columns.push(series.str()?.clone());
    }
    let columns = Arc::new(columns);
    let accounts = EVENT_COLUMNS
        .iter()
        .position(|name| *name == "recipient_account_id")
        .map(|index| &columns[index - 1]);
    let events = (0..frame.height())
        .map(|row| Event {
            event_time: times.get(row).unwrap_or(0),
            columns: Arc::clone(&columns),
            row,
            parsed: Default::default(),
            recipient_account_id: accounts
                .and_then(|column| column.get(row))
                .map(str::to_string),
        })
        .collect();
    Ok(events)
}
