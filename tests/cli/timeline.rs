//! `timeline` filters, order, output formats and output safety, checked
//! against invictus-aws counted independently.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::*;

const ATTACKER_KEY: &str = "AKIATFQR7NSC8Q4X20BJ";
const ATTACKER_IP: &str = "192.168.10.20";
const ATTACKER_ARN: &str = "arn:aws:iam::123837392027:user/bert-jan";
const ROLE_ARN: &str = "arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role";

fn invictus_records() -> Vec<Value> {
    realdata_records("invictus-aws")
}

fn ids_where(records: &[Value], keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    records
        .iter()
        .filter(|record| keep(record))
        .map(event_id)
        .collect()
}

/// Runs a filtered timeline on invictus-aws and returns its event IDs,
/// failing on a repeated ID.
fn timeline_ids(args: &[&str]) -> BTreeSet<String> {
    let rows = invictus_store().timeline_rows(args);
    let ids: BTreeSet<String> = rows.iter().map(|row| text(&row["event_id"])).collect();
    assert_eq!(
        ids.len(),
        rows.len(),
        "timeline {args:?} repeats an event_id"
    );
    ids
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.is_empty())
}

/// Returns a cell as the CSV guard writes it: a leading `=`, `+`, `-`, `@`,
/// tab or carriage return gets a single quote in front.
fn guarded(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[test]
fn access_key_filter() {
    let records = invictus_records();
    // jq -s '[.[].Records[]|select(.userIdentity.accessKeyId=="AKIATFQR7NSC8Q4X20BJ")]|length'
    //   ../shared/realdata/invictus-aws/CloudTrail/*.json   => 2104
    let expected = ids_where(&records, |r| {
        r["userIdentity"]["accessKeyId"] == ATTACKER_KEY
    });
    assert_eq!(expected.len(), 2104);
    assert_eq!(timeline_ids(&["--access-key", ATTACKER_KEY]), expected);
}

#[test]
fn ip_filter() {
    let records = invictus_records();
    // jq -s '[.[].Records[]|select(.sourceIPAddress=="192.168.10.20")]|length' ...   => 2154
    let expected = ids_where(&records, |r| r["sourceIPAddress"] == ATTACKER_IP);
    assert_eq!(expected.len(), 2154);
    assert_eq!(timeline_ids(&["--ip", ATTACKER_IP]), expected);
}

#[test]
fn event_name_filter() {
    let records = invictus_records();
    // jq -s '[.[].Records[]|select(.eventName=="CreateUser")]|length' ...   => 4
    let expected = ids_where(&records, |r| r["eventName"] == "CreateUser");
    assert_eq!(expected.len(), 4);
    assert_eq!(timeline_ids(&["--event-name", "CreateUser"]), expected);
}

#[test]
fn event_name_repeated() {
    let records = invictus_records();
    let names = ["CreateUser", "CreateAccessKey", "AttachUserPolicy"];
    let expected = ids_where(&records, |r| {
        names.iter().any(|name| r["eventName"] == *name)
    });
    let args = [
        "--event-name",
        names[0],
        "--event-name",
        names[1],
        "--event-name",
        names[2],
    ];
    assert_eq!(timeline_ids(&args), expected);
}

#[test]
fn principal_user_name() {
    let records = invictus_records();
    let expected = ids_where(&records, |r| {
        let by_name = pointer_text(r, "/userIdentity/userName").as_deref() == Some("bert-jan");
        let by_arn = pointer_text(r, "/userIdentity/arn")
            .is_some_and(|arn| arn.rsplit('/').next() == Some("bert-jan"));
        by_name || by_arn
    });
    assert_eq!(timeline_ids(&["--principal", "bert-jan"]), expected);
}

#[test]
fn principal_user_arn() {
    let records = invictus_records();
    let expected = ids_where(&records, |r| {
        pointer_text(r, "/userIdentity/arn").as_deref() == Some(ATTACKER_ARN)
            || pointer_text(r, "/userIdentity/sessionContext/sessionIssuer/arn").as_deref()
                == Some(ATTACKER_ARN)
    });
    assert_eq!(timeline_ids(&["--principal", ATTACKER_ARN]), expected);
}

#[test]
fn principal_role_arn() {
    let records = invictus_records();
    let expected = ids_where(&records, |r| {
        pointer_text(r, "/userIdentity/arn").as_deref() == Some(ROLE_ARN)
            || pointer_text(r, "/userIdentity/sessionContext/sessionIssuer/arn").as_deref()
                == Some(ROLE_ARN)
    });
    // jq -s '[.[].Records[]|select(.userIdentity.sessionContext.sessionIssuer.arn=="'$ROLE_ARN'")]|length'   => 29
    assert_eq!(expected.len(), 29);
    assert_eq!(timeline_ids(&["--principal", ROLE_ARN]), expected);
}

#[test]
fn time_window() {
    let records = invictus_records();
    let (since, until) = ("2023-07-10T12:05:30Z", "2023-07-10T12:15:30Z");
    let on_boundary = records
        .iter()
        .filter(|r| r["eventTime"] == since || r["eventTime"] == until)
        .count();
    assert_eq!(on_boundary, 0, "the window edges fall between events");
    let expected = ids_where(&records, |r| {
        let time = text(&r["eventTime"]);
        time.as_str() > since && time.as_str() < until
    });
    assert_eq!(expected.len(), 1209);
    assert_eq!(
        timeline_ids(&["--since", since, "--until", until]),
        expected
    );
}

#[test]
fn same_day_bounds() {
    let records = invictus_records();
    let expected = ids_of(&records);
    assert_eq!(
        timeline_ids(&["--since", "2023-07-10", "--until", "2023-07-10"]),
        expected
    );
}

#[test]
fn combined_filters() {
    let records = invictus_records();
    let expected = ids_where(&records, |r| {
        r["userIdentity"]["accessKeyId"] == ATTACKER_KEY && r["eventName"] == "CreateAccessKey"
    });
    assert!(!expected.is_empty());
    let args = [
        "--access-key",
        ATTACKER_KEY,
        "--event-name",
        "CreateAccessKey",
    ];
    assert_eq!(timeline_ids(&args), expected);
}

#[test]
fn sorted_by_time() {
    let rows = invictus_store().timeline_rows::<&str>(&[]);
    let times: Vec<String> = rows.iter().map(|row| text(&row["event_time"])).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert!(times == sorted, "timeline rows are not in event time order");
}

#[test]
fn all_events_once() {
    let records = invictus_records();
    assert_eq!(timeline_ids(&[]), ids_of(&records));
}

#[test]
fn jsonl_columns() {
    for row in invictus_store().timeline_rows(&["--event-name", "ConsoleLogin"]) {
        for column in JSONL_COLUMNS {
            assert!(row.get(column).is_some(), "row lacks {column}: {row}");
        }
    }
}

#[test]
fn jsonl_values_match() {
    let records: BTreeMap<String, Value> = invictus_records()
        .into_iter()
        .map(|record| (event_id(&record), record))
        .collect();
    // (output column, JSON pointer into the record)
    let fields = [
        ("event_time", "/eventTime"),
        ("event_source", "/eventSource"),
        ("event_name", "/eventName"),
        ("aws_region", "/awsRegion"),
        ("source_ip", "/sourceIPAddress"),
        ("user_agent", "/userAgent"),
        ("error_code", "/errorCode"),
        ("principal_arn", "/userIdentity/arn"),
        ("access_key_id", "/userIdentity/accessKeyId"),
        ("recipient_account_id", "/recipientAccountId"),
    ];
    for row in invictus_store().timeline_rows::<&str>(&[]) {
        let id = text(&row["event_id"]);
        let record = &records[&id];
        for (column, pointer) in fields {
            let stored = non_empty(opt_text(&row[column]));
            assert_eq!(
                stored,
                non_empty(pointer_text(record, pointer)),
                "{column} of {id}"
            );
        }
    }
}

#[test]
fn no_match_exit_1() {
    let run = invictus_store().timeline(&["--access-key", "AKIAEXAMPLENOTPRESENT"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
}

#[test]
fn no_match_empty_output() {
    let run = invictus_store().timeline(&["--access-key", "AKIAEXAMPLENOTPRESENT"]);
    assert!(run.jsonl().is_empty());
}

#[test]
fn until_before_data_exit_1() {
    let run = invictus_store().timeline(&["--until", "2023-07-09"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
}

#[test]
fn invalid_since_exit_2() {
    let run = invictus_store().timeline(&["--since", "last tuesday"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn invalid_until_exit_2() {
    let run = invictus_store().timeline(&["--until", "2023-13-45"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn csv_header() {
    let run = invictus_store().run(&["timeline", "--format", "csv", "--event-name", "CreateUser"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    for column in JSONL_COLUMNS {
        assert!(
            header.iter().any(|name| name == column),
            "CSV header lacks {column}"
        );
    }
}

#[test]
fn csv_rows_match() {
    let records: BTreeMap<String, Value> = invictus_records()
        .into_iter()
        .map(|record| (event_id(&record), record))
        .collect();
    let run = invictus_store().run(&["timeline", "--format", "csv", "--ip", ATTACKER_IP]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id_at, agent_at) = (column("event_id"), column("user_agent"));
    let mut count = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let record = &records[&row[id_at]];
        let agent = pointer_text(record, "/userAgent").unwrap_or_default();
        assert_eq!(
            row[agent_at],
            guarded(&agent),
            "user_agent of {}",
            &row[id_at]
        );
        count += 1;
    }
    let expected = records
        .values()
        .filter(|r| r["sourceIPAddress"] == ATTACKER_IP)
        .count();
    assert_eq!(count, expected);
}

fn formula_store() -> (Store, Vec<Value>) {
    let path = fixture("strings/formula.jsonl");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    (store, read_jsonl(&path))
}

#[test]
fn csv_formula_guard() {
    let (store, records) = formula_store();
    let run = store.run(&["timeline", "--format", "csv"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header = reader.headers().unwrap().clone();
    let id_at = header.iter().position(|h| h == "event_id").unwrap();
    let agent_at = header.iter().position(|h| h == "user_agent").unwrap();
    let cells: BTreeMap<String, String> = reader
        .records()
        .map(|row| row.unwrap())
        .map(|row| (row[id_at].to_owned(), row[agent_at].to_owned()))
        .collect();
    assert_eq!(cells.len(), records.len());
    for record in &records {
        let agent = text(&record["userAgent"]);
        assert_eq!(
            cells[&event_id(record)],
            guarded(&agent),
            "user_agent {agent:?}"
        );
    }
}

#[test]
fn csv_hyperlink_quoted() {
    let (store, _) = formula_store();
    let run = store.run(&["timeline", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let found = reader
        .records()
        .map(|row| row.unwrap())
        .any(|row| row.iter().any(|cell| cell == r#"'=HYPERLINK("http://x")"#));
    assert!(found, "no guarded HYPERLINK cell in:\n{}", run.stdout);
}

#[test]
fn jsonl_not_guarded() {
    let (store, records) = formula_store();
    let rows = store.timeline_by_id();
    for record in &records {
        let id = event_id(record);
        assert_eq!(
            rows[&id]["user_agent"], record["userAgent"],
            "user_agent of {id}"
        );
    }
}

fn terminal_table() -> (String, Vec<Value>) {
    let path = fixture("strings/terminal.jsonl");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let run = store.run(&["timeline", "--format", "table"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    (run.stdout, read_jsonl(&path))
}

#[test]
fn table_escapes_escape_sequence() {
    let (table, _) = terminal_table();
    assert!(!table.contains('\u{1b}'), "raw ESC in the table");
    assert!(
        table.contains("[31mred"),
        "the escaped text is missing:\n{table}"
    );
}

#[test]
fn table_escapes_bidi() {
    let (table, _) = terminal_table();
    assert!(
        !table.contains('\u{202e}'),
        "raw RIGHT-TO-LEFT OVERRIDE in the table"
    );
    assert!(
        table.contains("gpj.exe"),
        "the escaped text is missing:\n{table}"
    );
}

#[test]
fn table_escapes_zero_width() {
    let (table, _) = terminal_table();
    assert!(
        !table.contains('\u{200b}'),
        "raw ZERO WIDTH SPACE in the table"
    );
}

#[test]
fn table_escapes_controls() {
    let (table, _) = terminal_table();
    assert!(!table.contains('\u{7}'), "raw BEL in the table");
    assert!(!table.contains('\u{8}'), "raw BACKSPACE in the table");
}

#[test]
fn jsonl_keeps_controls() {
    let path = fixture("strings/terminal.jsonl");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let rows = store.timeline_by_id();
    for record in read_jsonl(&path) {
        let id = event_id(&record);
        assert_eq!(
            rows[&id]["user_agent"], record["userAgent"],
            "user_agent of {id}"
        );
    }
}

#[test]
fn table_lists_rows() {
    let records = invictus_records();
    let expected = records
        .iter()
        .filter(|r| r["eventName"] == "CreateUser")
        .count();
    let run = invictus_store().run(&[
        "timeline",
        "--format",
        "table",
        "--event-name",
        "CreateUser",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.matches("CreateUser").count(), expected);
}

#[test]
fn time_window_with_offset() {
    let records = invictus_records();
    // The same instants as 12:05:30Z and 12:15:30Z, written in UTC+02:00.
    let (since, until) = ("2023-07-10T14:05:30+02:00", "2023-07-10T14:15:30+02:00");
    let expected = ids_where(&records, |r| {
        let time = text(&r["eventTime"]);
        time.as_str() > "2023-07-10T12:05:30Z" && time.as_str() < "2023-07-10T12:15:30Z"
    });
    assert_eq!(
        timeline_ids(&["--since", since, "--until", until]),
        expected
    );
}
