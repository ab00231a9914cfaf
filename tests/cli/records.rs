//! Record content: polymorphic blobs, absent fields, identity shapes, time
//! formats, strings, sizes and unknown versions.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::common::*;

fn ingest_lines(path: &Path) -> (Store, Vec<Value>, Vec<String>) {
    let store = Store::new();
    store.ingest_ok(&[path]);
    (store, read_jsonl(path), read_lines(path))
}

/// Checks that raw_record of each stored row is the source line, byte for byte.
fn assert_raw_is_line(store: &Store, records: &[Value], lines: &[String]) {
    let stored = store.rows_by_id(&["raw_record"]);
    for (record, line) in records.iter().zip(lines) {
        let id = event_id(record);
        assert_eq!(
            stored[&id]["raw_record"].as_deref(),
            Some(line.as_str()),
            "event {id}"
        );
    }
}

fn parse_utc(value: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value)
        .unwrap_or_else(|error| panic!("{value:?} is not RFC 3339: {error}"))
        .with_timezone(&Utc)
}

fn partition_of(file: &Path) -> String {
    file.parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .expect("parquet file sits in a partition folder")
}

/// Maps each partition folder name to the event IDs stored in it.
fn ids_by_partition(store: &Store) -> BTreeMap<String, BTreeSet<String>> {
    let mut partitions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in store.parquet_files() {
        let ids = read_parquet_rows(&file, &["event_id"])
            .into_iter()
            .map(|row| row["event_id"].clone().expect("event_id"));
        partitions
            .entry(partition_of(&file))
            .or_default()
            .extend(ids);
    }
    partitions
}

// Class 3: one path, many JSON types.

#[test]
fn polymorphic_all_kept() {
    let path = fixture("polymorphic/same-path-types.jsonl");
    let (store, records, _) = ingest_lines(&path);
    assert_eq!(store.event_ids(), ids_of(&records));
}

#[test]
fn polymorphic_request_parameters() {
    let path = fixture("polymorphic/same-path-types.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let stored = store.rows_by_id(&["request_parameters"]);
    for record in &records {
        let id = event_id(record);
        let cell = &stored[&id]["request_parameters"];
        assert_eq!(json_cell(cell), record["requestParameters"], "event {id}");
    }
}

#[test]
fn polymorphic_response_elements() {
    let path = fixture("polymorphic/same-path-types.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let stored = store.rows_by_id(&["response_elements"]);
    for record in &records {
        let id = event_id(record);
        let cell = &stored[&id]["response_elements"];
        assert_eq!(json_cell(cell), record["responseElements"], "event {id}");
    }
}

#[test]
fn polymorphic_raw_record() {
    let path = fixture("polymorphic/same-path-types.jsonl");
    let (store, records, lines) = ingest_lines(&path);
    assert_raw_is_line(&store, &records, &lines);
}

// Class 4: absent, null, empty object and empty string.

#[test]
fn presence_all_kept() {
    let lines = fixture("presence/identity-presence.jsonl");
    let real = fixture("presence/invictus-records.json");
    let store = Store::new();
    store.ingest_ok(&[&lines, &real]);
    let mut expected = ids_of(&read_jsonl(&lines));
    expected.extend(ids_of(&records_of(&read_json(&real))));
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn presence_rows_have_columns() {
    let path = fixture("presence/identity-presence.jsonl");
    let (store, _, _) = ingest_lines(&path);
    for row in store.timeline_rows::<&str>(&[]) {
        for column in JSONL_COLUMNS {
            assert!(row.get(column).is_some(), "row lacks {column}: {row}");
        }
    }
}

#[test]
fn presence_missing_identity_null() {
    let path = fixture("presence/identity-presence.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let rows = store.timeline_by_id();
    for record in &records {
        let id = event_id(record);
        let arn = pointer_text(record, "/userIdentity/arn");
        assert_eq!(
            opt_text(&rows[&id]["principal_arn"]),
            arn,
            "principal_arn of {id}"
        );
    }
}

#[test]
fn presence_missing_key_null() {
    let path = fixture("presence/identity-presence.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let rows = store.timeline_by_id();
    for record in &records {
        let id = event_id(record);
        let key = pointer_text(record, "/userIdentity/accessKeyId").filter(|key| !key.is_empty());
        let stored = opt_text(&rows[&id]["access_key_id"]).filter(|key| !key.is_empty());
        assert_eq!(stored, key, "access_key_id of {id}");
    }
}

#[test]
fn presence_missing_agent_null() {
    let path = fixture("presence/identity-presence.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let rows = store.timeline_by_id();
    for record in &records {
        let id = event_id(record);
        let agent = pointer_text(record, "/userAgent");
        assert_eq!(
            opt_text(&rows[&id]["user_agent"]),
            agent,
            "user_agent of {id}"
        );
        let ip = pointer_text(record, "/sourceIPAddress");
        assert_eq!(opt_text(&rows[&id]["source_ip"]), ip, "source_ip of {id}");
    }
}

// Class 5: identity types and address semantics.

fn identity_inputs() -> (Vec<Value>, [std::path::PathBuf; 2]) {
    let lines = fixture("identity/identity-types.jsonl");
    let real = fixture("identity/stratus-records.json");
    let mut records = read_jsonl(&lines);
    records.extend(records_of(&read_json(&real)));
    (records, [lines, real])
}

fn identity_store() -> (Store, Vec<Value>) {
    let (records, paths) = identity_inputs();
    let store = Store::new();
    store.ingest_ok(&paths);
    (store, records)
}

#[test]
fn identity_all_kept() {
    let (store, records) = identity_store();
    assert_eq!(store.event_ids(), ids_of(&records));
}

#[test]
fn identity_type_column() {
    let (store, records) = identity_store();
    let stored = store.rows_by_id(&["identity_type"]);
    for record in &records {
        let id = event_id(record);
        let expected = pointer_text(record, "/userIdentity/type");
        assert_eq!(
            stored[&id]["identity_type"], expected,
            "identity_type of {id}"
        );
    }
}

#[test]
fn identity_principal_arn() {
    let (store, records) = identity_store();
    let rows = store.timeline_by_id();
    for record in &records {
        let id = event_id(record);
        let expected = pointer_text(record, "/userIdentity/arn");
        assert_eq!(
            opt_text(&rows[&id]["principal_arn"]),
            expected,
            "principal_arn of {id}"
        );
    }
}

#[test]
fn source_ip_kept_as_text() {
    let (store, records) = identity_store();
    let rows = store.timeline_by_id();
    for record in &records {
        let id = event_id(record);
        let expected = pointer_text(record, "/sourceIPAddress");
        assert_eq!(
            opt_text(&rows[&id]["source_ip"]),
            expected,
            "source_ip of {id}"
        );
    }
}

fn ids_where(records: &[Value], keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    records
        .iter()
        .filter(|record| keep(record))
        .map(event_id)
        .collect()
}

fn filtered_ids(store: &Store, args: &[&str]) -> BTreeSet<String> {
    store
        .timeline_rows(args)
        .iter()
        .map(|row| text(&row["event_id"]))
        .collect()
}

#[test]
fn ip_filter_service_name() {
    let (store, records) = identity_store();
    for ip in [
        "AWS Internal",
        "support.amazonaws.com",
        "cloudtrail.amazonaws.com",
    ] {
        let expected = ids_where(&records, |r| r["sourceIPAddress"] == ip);
        assert!(!expected.is_empty(), "fixture has {ip}");
        assert_eq!(filtered_ids(&store, &["--ip", ip]), expected, "--ip {ip}");
    }
}

#[test]
fn ip_filter_ipv6() {
    let (store, records) = identity_store();
    let expected = ids_where(&records, |r| r["sourceIPAddress"] == "2001:db8::10");
    assert_eq!(expected.len(), 1);
    assert_eq!(filtered_ids(&store, &["--ip", "2001:db8::10"]), expected);
}

#[test]
fn ip_filter_leading_zeros() {
    let (store, records) = identity_store();
    let expected = ids_where(&records, |r| r["sourceIPAddress"] == "225.01.00.16");
    assert_eq!(expected.len(), 1);
    assert_eq!(filtered_ids(&store, &["--ip", "225.01.00.16"]), expected);
}

#[test]
fn principal_role_matches_sessions() {
    let (store, records) = identity_store();
    let role = "arn:aws:iam::111122223333:role/deploy";
    let expected = ids_where(&records, |r| {
        pointer_text(r, "/userIdentity/arn").as_deref() == Some(role)
            || pointer_text(r, "/userIdentity/sessionContext/sessionIssuer/arn").as_deref()
                == Some(role)
    });
    // Two sessions of the role and one call by the role itself.
    assert_eq!(expected.len(), 3);
    assert_eq!(filtered_ids(&store, &["--principal", role]), expected);
}

#[test]
fn principal_session_arn() {
    let (store, records) = identity_store();
    let session = "arn:aws:sts::111122223333:assumed-role/deploy/ci-run-1";
    let expected = ids_where(&records, |r| {
        pointer_text(r, "/userIdentity/arn").as_deref() == Some(session)
    });
    assert_eq!(expected.len(), 1);
    assert_eq!(filtered_ids(&store, &["--principal", session]), expected);
}

#[test]
fn principal_user_name() {
    let (store, records) = identity_store();
    let expected = ids_where(&records, |r| {
        let by_name = pointer_text(r, "/userIdentity/userName").as_deref() == Some("alice");
        let by_arn = pointer_text(r, "/userIdentity/arn")
            .is_some_and(|arn| arn.rsplit('/').next() == Some("alice"));
        by_name || by_arn
    });
    assert_eq!(expected.len(), 2);
    assert_eq!(filtered_ids(&store, &["--principal", "alice"]), expected);
}

#[test]
fn anonymous_principal_account() {
    let (store, records) = identity_store();
    let anonymous = records
        .iter()
        .find(|r| r["userIdentity"]["accountId"] == "ANONYMOUS_PRINCIPAL")
        .expect("fixture has an anonymous call");
    let rows = store.timeline_by_id();
    let row = &rows[&event_id(anonymous)];
    assert_eq!(row["recipient_account_id"], anonymous["recipientAccountId"]);
}

// Class 6: time.

/// Expected UTC instants for time/time-formats.jsonl, worked out by hand from
/// each eventTime (offsets subtracted).
const TIME_FORMATS: [(&str, &str); 9] = [
    (
        "06000000-0000-4000-8000-000000000001",
        "2023-07-10T12:00:00Z",
    ),
    (
        "06000000-0000-4000-8000-000000000002",
        "2023-07-10T12:00:01.250Z",
    ),
    (
        "06000000-0000-4000-8000-000000000003",
        "2023-07-10T12:00:02Z",
    ),
    (
        "06000000-0000-4000-8000-000000000004",
        "2023-07-10T12:00:03Z",
    ),
    (
        "06000000-0000-4000-8000-000000000005",
        "2023-07-10T23:59:59Z",
    ),
    (
        "06000000-0000-4000-8000-000000000006",
        "2023-07-11T00:00:00Z",
    ),
    (
        "06000000-0000-4000-8000-000000000007",
        "2023-07-10T23:30:00Z",
    ),
    (
        "06000000-0000-4000-8000-000000000008",
        "2023-07-10T12:00:06Z",
    ),
    (
        "06000000-0000-4000-8000-000000000009",
        "2023-07-10T12:00:07Z",
    ),
];

fn time_store() -> Store {
    let store = Store::new();
    store.ingest_ok(&[fixture("time/time-formats.jsonl")]);
    store
}

#[test]
fn time_fixture_matches_table() {
    let records = read_jsonl(&fixture("time/time-formats.jsonl"));
    let table: BTreeSet<String> = TIME_FORMATS.iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(ids_of(&records), table);
}

#[test]
fn time_formats_normalised() {
    let store = time_store();
    let rows = store.timeline_by_id();
    for (id, expected) in TIME_FORMATS {
        let stored = text(&rows[id]["event_time"]);
        assert_eq!(
            parse_utc(&stored),
            parse_utc(expected),
            "event_time of {id}"
        );
    }
}

#[test]
fn time_output_in_utc() {
    let store = time_store();
    for row in store.timeline_rows::<&str>(&[]) {
        let stored = text(&row["event_time"]);
        assert!(stored.ends_with('Z'), "{stored} is not written in UTC");
    }
}

#[test]
fn time_without_zone_is_utc() {
    let path = fixture("time/time-without-zone.jsonl");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let rows = store.timeline_by_id();
    // "2023-07-10T12:00:04" and the SQL form "2023-07-10 12:00:05.000", read as UTC.
    let expected = [
        (
            "06040000-0000-4000-8000-000000000001",
            "2023-07-10T12:00:04Z",
        ),
        (
            "06040000-0000-4000-8000-000000000002",
            "2023-07-10T12:00:05Z",
        ),
    ];
    for (id, time) in expected {
        assert_eq!(
            parse_utc(&text(&rows[id]["event_time"])),
            parse_utc(time),
            "event {id}"
        );
    }
}

#[test]
fn event_time_column_utc() {
    let store = time_store();
    let file = store.parquet_files().remove(0);
    let schema = parquet_schema(&file);
    let dtype = schema.get("event_time").expect("event_time column");
    let is_utc = matches!(dtype, polars::prelude::DataType::Datetime(_, Some(zone)) if zone.to_string() == "UTC");
    assert!(is_utc, "event_time is {dtype:?}, not a UTC timestamp");
}

#[test]
fn partitions_by_utc_date() {
    let store = time_store();
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, time) in TIME_FORMATS {
        let date = parse_utc(time).format("date=%Y-%m-%d").to_string();
        expected.entry(date).or_default().insert(id.to_string());
    }
    assert_eq!(ids_by_partition(&store), expected);
}

#[test]
fn delivery_delay_partition() {
    let dir = fixture("time/delivery-delay");
    let store = Store::new();
    store.ingest_ok(&[&dir]);
    let file = json_files(&dir).remove(0);
    assert!(
        file.to_string_lossy().contains("20230712T0005Z"),
        "key date is 2023-07-12"
    );
    let records = records_of(&read_json(&file));
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for record in &records {
        let date = parse_utc(&text(&record["eventTime"]))
            .format("date=%Y-%m-%d")
            .to_string();
        expected.entry(date).or_default().insert(event_id(record));
    }
    assert_eq!(ids_by_partition(&store), expected);
}

#[test]
fn unordered_sorted_by_time() {
    let path = fixture("time/unordered.json");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let mut records = records_of(&read_json(&path));
    records.sort_by_key(|record| parse_utc(&text(&record["eventTime"])));
    let expected: Vec<String> = records.iter().map(event_id).collect();
    assert_eq!(store.timeline_ids(), expected);
}

#[test]
fn lookup_events_epoch_time() {
    let path = fixture("time/lookup-events-epoch.json");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let document = read_json(&path);
    let rows = store.timeline_by_id();
    for event in document["Events"].as_array().unwrap() {
        assert!(event["EventTime"].is_f64(), "EventTime is epoch seconds");
        let record: Value = serde_json::from_str(&text(&event["CloudTrailEvent"])).unwrap();
        let row = &rows[&event_id(&record)];
        assert_eq!(row["event_time"], record["eventTime"]);
    }
}

#[test]
fn until_bare_date_whole_day() {
    let store = time_store();
    let expected: BTreeSet<String> = TIME_FORMATS
        .iter()
        .filter(|(_, time)| time.starts_with("2023-07-10"))
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(filtered_ids(&store, &["--until", "2023-07-10"]), expected);
}

#[test]
fn since_bare_date() {
    let store = time_store();
    let expected: BTreeSet<String> = TIME_FORMATS
        .iter()
        .filter(|(_, time)| time.starts_with("2023-07-11"))
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(filtered_ids(&store, &["--since", "2023-07-11"]), expected);
}

// Class 8: strings.

#[test]
fn strings_all_kept() {
    let path = fixture("strings/strings.jsonl");
    let (store, records, _) = ingest_lines(&path);
    assert_eq!(store.event_ids(), ids_of(&records));
}

#[test]
fn strings_decoded() {
    let path = fixture("strings/strings.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let rows = store.timeline_by_id();
    for record in &records {
        let id = event_id(record);
        assert_eq!(
            rows[&id]["user_agent"], record["userAgent"],
            "user_agent of {id}"
        );
    }
}

#[test]
fn strings_raw_record() {
    let path = fixture("strings/strings.jsonl");
    let (store, records, lines) = ingest_lines(&path);
    assert!(lines[1].contains(r"caf\u00e9"), "the fixture escapes é");
    assert_raw_is_line(&store, &records, &lines);
}

#[test]
fn keys_with_punctuation() {
    let path = fixture("strings/strings.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let stored = store.rows_by_id(&["request_parameters"]);
    for record in &records {
        let id = event_id(record);
        assert_eq!(
            json_cell(&stored[&id]["request_parameters"]),
            record["requestParameters"],
            "event {id}"
        );
    }
}

#[test]
fn account_leading_zero() {
    let path = fixture("strings/strings.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let record = records
        .iter()
        .find(|r| r["recipientAccountId"] == "012345678901")
        .expect("fixture has a leading-zero account");
    let rows = store.timeline_by_id();
    assert_eq!(
        rows[&event_id(record)]["recipient_account_id"],
        "012345678901"
    );
}

#[test]
fn account_count_leading_zero() {
    let path = fixture("strings/strings.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let accounts: BTreeSet<Option<String>> = records.iter().map(recipient_account).collect();
    assert_eq!(store.stat("accounts"), accounts.len() as u64);
}

#[test]
fn lone_surrogate_kept() {
    let path = fixture("strings/lone-surrogate.jsonl");
    let lines = read_lines(&path);
    assert!(
        lines[0].contains(r"\ud800 "),
        "the fixture contains a lone surrogate"
    );
    let store = Store::new();
    let run = store.ingest(&[&path]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.stat("events"), lines.len() as u64);
}

#[test]
fn lone_surrogate_raw_record() {
    let path = fixture("strings/lone-surrogate.jsonl");
    let lines = read_lines(&path);
    let store = Store::new();
    store.ingest(&[&path]);
    let stored: Vec<Option<String>> = store
        .rows(&["raw_record"])
        .into_iter()
        .map(|row| row["raw_record"].clone())
        .collect();
    assert_eq!(stored, vec![Some(lines[0].clone())]);
}

// Class 9: size and truncation.

#[test]
fn truncated_fields_exact() {
    let path = fixture("size/truncated-fields.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let rows = store.timeline_by_id();
    let stored = store.rows_by_id(&["error_message"]);
    for record in &records {
        let id = event_id(record);
        assert_eq!(
            rows[&id]["user_agent"], record["userAgent"],
            "user_agent of {id}"
        );
        let message = pointer_text(record, "/errorMessage");
        assert_eq!(
            stored[&id]["error_message"], message,
            "error_message of {id}"
        );
    }
}

#[test]
fn truncated_fields_length() {
    let records = read_jsonl(&fixture("size/truncated-fields.jsonl"));
    let message = text(&records[0]["errorMessage"]);
    assert_eq!(message.len(), 1024);
    assert!(message.ends_with("..."));
    assert_eq!(text(&records[1]["userAgent"]).len(), 1024);
}

/// Builds one record line whose requestParameters and responseElements carry
/// strings of the given sizes.
fn record_with_blobs(id: &str, request_bytes: usize, response_bytes: usize) -> String {
    let request = serde_json::json!({"policyDocument": "r".repeat(request_bytes)});
    let response = serde_json::json!({"blob": "s".repeat(response_bytes)});
    let record = serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                         "accountId": "111122223333", "userName": "alice"},
        "eventTime": "2023-07-10T12:09:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "PutUserPolicy",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.13.0",
        "requestParameters": request,
        "responseElements": response,
        "eventID": id,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
    });
    serde_json::to_string(&record).unwrap()
}

fn ingest_generated_line(line: &str) -> Store {
    let store = Store::new();
    let path = store.scratch("generated").join("large.jsonl");
    fs::write(&path, format!("{line}\n")).unwrap();
    let run = store.ingest(&[&path]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    store
}

#[test]
fn event_near_256kb() {
    let id = "09010000-0000-4000-8000-000000000001";
    // Fill the record up to exactly 256 KiB, the documented maximum event size.
    let overhead = record_with_blobs(id, 0, 0).len();
    let line = record_with_blobs(id, 256 * 1024 - overhead - 60 * 1024, 60 * 1024);
    assert_eq!(line.len(), 256 * 1024);
    let store = ingest_generated_line(&line);
    let stored = store.rows_by_id(&["raw_record"]);
    assert_eq!(stored[id]["raw_record"].as_deref(), Some(line.as_str()));
}

#[test]
fn fields_at_100kb() {
    let id = "09010000-0000-4000-8000-000000000002";
    let line = record_with_blobs(id, 100 * 1024, 100 * 1024);
    let record: Value = serde_json::from_str(&line).unwrap();
    let store = ingest_generated_line(&line);
    let stored = store.rows_by_id(&["request_parameters", "response_elements"]);
    assert_eq!(
        json_cell(&stored[id]["request_parameters"]),
        record["requestParameters"]
    );
    assert_eq!(
        json_cell(&stored[id]["response_elements"]),
        record["responseElements"]
    );
}

// Class 11: versions and unknown fields.

#[test]
fn future_versions_kept() {
    let path = fixture("versioning/future-versions.jsonl");
    let (store, records, _) = ingest_lines(&path);
    assert_eq!(store.event_ids(), ids_of(&records));
}

#[test]
fn unknown_fields_in_raw() {
    let path = fixture("versioning/future-versions.jsonl");
    let (store, records, lines) = ingest_lines(&path);
    assert!(lines.iter().any(|line| line.contains("brandNewField")));
    assert_raw_is_line(&store, &records, &lines);
}

#[test]
fn presence_missing_account_null() {
    let path = fixture("presence/identity-presence.jsonl");
    let (store, records, _) = ingest_lines(&path);
    let rows = store.timeline_by_id();
    for record in &records {
        let id = event_id(record);
        let account = pointer_text(record, "/recipientAccountId");
        assert_eq!(
            opt_text(&rows[&id]["recipient_account_id"]),
            account,
            "recipient_account_id of {id}"
        );
    }
}

#[test]
fn principal_session_name() {
    let (store, records) = identity_store();
    let expected = ids_where(&records, |r| {
        pointer_text(r, "/userIdentity/arn")
            .is_some_and(|arn| arn.rsplit('/').next() == Some("ci-run-1"))
    });
    assert_eq!(expected.len(), 1);
    assert_eq!(filtered_ids(&store, &["--principal", "ci-run-1"]), expected);
}

#[test]
fn deep_nesting_no_panic() {
    let store = Store::new();
    let path = store.scratch("generated").join("deep.jsonl");
    let nested = format!("{}1{}", r#"{"a":"#.repeat(5000), "}".repeat(5000));
    let line = record_with_blobs("09020000-0000-4000-8000-000000000001", 0, 0)
        .replace(r#"{"policyDocument":""}"#, &nested);
    assert!(
        line.contains(r#"{"a":{"a":"#),
        "the nested value is in the record"
    );
    fs::write(&path, format!("{line}\n")).unwrap();
    let run = store.ingest(&[&path]);
    assert!(
        matches!(run.code, Some(0 | 2)),
        "{:?}:\n{}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
