//! Record identity: one event per (recipient account, event ID), every copy a row.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::common::*;

fn records_under(paths: &[PathBuf]) -> Vec<Value> {
    let mut records = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            json_files(path)
        } else {
            vec![path.clone()]
        };
        for file in files {
            records.extend(records_of(&read_json(&file)));
        }
    }
    records
}

/// Ingests the inputs and checks `events` and `rows` against counts taken
/// from the files themselves.
fn check_counts(relative: &[&str], expected_events: usize, expected_rows: usize) -> Store {
    let paths: Vec<PathBuf> = relative.iter().map(|name| fixture(name)).collect();
    let records = records_under(&paths);
    assert_eq!(distinct_events(&records), expected_events, "fixture events");
    assert_eq!(records.len(), expected_rows, "fixture rows");
    let store = Store::new();
    store.ingest_ok(&paths);
    let stats = store.stats();
    assert_eq!(stats["events"], expected_events as u64, "events in {stats}");
    assert_eq!(stats["rows"], expected_rows as u64, "rows in {stats}");
    store
}

#[test]
fn within_file() {
    let store = check_counts(&["duplicates/within-file.json"], 2, 3);
    assert_eq!(store.timeline_ids().len(), 2);
}

#[test]
fn across_files() {
    let store = check_counts(
        &[
            "duplicates/across-files-a.json",
            "duplicates/across-files-b.json",
        ],
        3,
        4,
    );
    assert_eq!(store.timeline_ids().len(), 3);
}

#[test]
fn regional_trail_copies() {
    let store = check_counts(&["duplicates/regional-trails"], 3, 4);
    assert_eq!(store.timeline_ids().len(), 3);
}

#[test]
fn org_and_member_trails() {
    let store = check_counts(&["duplicates/org-and-member"], 3, 4);
    assert_eq!(store.timeline_ids().len(), 3);
}

#[test]
fn same_id_two_accounts() {
    let store = check_counts(&["duplicates/same-id-two-accounts.json"], 2, 2);
    let rows = store.timeline_rows::<&str>(&[]);
    let accounts: BTreeSet<String> = rows
        .iter()
        .map(|row| text(&row["recipient_account_id"]))
        .collect();
    let records = records_of(&read_json(&fixture("duplicates/same-id-two-accounts.json")));
    let expected: BTreeSet<String> = records.iter().filter_map(recipient_account).collect();
    assert_eq!(accounts, expected);
}

#[test]
fn shared_event_id_distinct() {
    let store = check_counts(&["duplicates/shared-event-id.json"], 2, 2);
    assert_eq!(store.timeline_ids().len(), 2);
}

#[test]
fn insight_pair_distinct() {
    let store = check_counts(&["duplicates/insight-pair.json"], 2, 2);
    assert_eq!(store.timeline_ids().len(), 2);
}

#[test]
fn aggregated_event_id() {
    let store = check_counts(&["duplicates/aggregated.json"], 2, 3);
    assert_eq!(store.timeline_ids().len(), 2);
}

#[test]
fn whole_folder() {
    let records = records_under(&[fixture("duplicates")]);
    let store = Store::new();
    store.ingest_ok(&[fixture("duplicates")]);
    let stats = store.stats();
    assert_eq!(
        stats["events"],
        distinct_events(&records) as u64,
        "events in {stats}"
    );
    assert_eq!(stats["rows"], records.len() as u64, "rows in {stats}");
}

#[test]
fn event_name_filter_once() {
    let records = records_under(&[fixture("duplicates")]);
    let expected = records
        .iter()
        .filter(|record| record["eventName"] == "CreateUser")
        .map(|record| (recipient_account(record), event_id(record)))
        .collect::<BTreeSet<_>>()
        .len();
    assert_eq!(expected, 1);
    let store = Store::new();
    store.ingest_ok(&[fixture("duplicates")]);
    let rows = store.timeline_rows(&["--event-name", "CreateUser"]);
    assert_eq!(rows.len(), expected);
}

#[test]
fn duplicate_csv_once() {
    let path = fixture("duplicates/within-file.json");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let run = store.run(&["timeline", "--format", "csv"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let expected = distinct_events(&records_of(&read_json(&path)));
    assert_eq!(reader.records().count(), expected);
}

#[test]
fn reingest_copy_no_new_events() {
    let store = Store::new();
    let path = fixture("duplicates/across-files-a.json");
    store.ingest_ok(&[&path]);
    let copy = store.scratch("copy").join("renamed-copy.json");
    std::fs::copy(&path, &copy).unwrap();
    store.ingest_ok(&[&copy]);
    let expected = distinct_events(&records_of(&read_json(&path)));
    assert_eq!(store.stat("events"), expected as u64);
}
