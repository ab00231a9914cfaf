//! Real, public CloudTrail logs: invictus-aws (MIT) and Stratus Red Team
//! detonation logs (Apache-2.0), read from the shared realdata folder.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::Value;

use crate::common::*;

fn min_max_time(records: &[Value]) -> (String, String) {
    let times: BTreeSet<String> = records.iter().map(|r| text(&r["eventTime"])).collect();
    (
        times.first().unwrap().clone(),
        times.last().unwrap().clone(),
    )
}

fn distinct(records: &[Value], key: &str) -> usize {
    records
        .iter()
        .map(|record| record[key].clone().to_string())
        .collect::<BTreeSet<_>>()
        .len()
}

#[test]
fn invictus_events() {
    let records = realdata_records("invictus-aws");
    // jq -s '[.[].Records[]|[.recipientAccountId,.eventID]]|unique|length' \
    //   ../shared/realdata/invictus-aws/CloudTrail/*.json   => 2900
    assert_eq!(distinct_events(&records), 2900);
    let store = invictus_store();
    assert_eq!(store.stat("events"), distinct_events(&records) as u64);
}

#[test]
fn invictus_rows() {
    let records = realdata_records("invictus-aws");
    assert_eq!(invictus_store().stat("rows"), records.len() as u64);
}

#[test]
fn invictus_accounts_regions() {
    let records = realdata_records("invictus-aws");
    let stats = invictus_store().stats();
    assert_eq!(
        stats["accounts"],
        distinct(&records, "recipientAccountId") as u64
    );
    assert_eq!(stats["regions"], distinct(&records, "awsRegion") as u64);
}

#[test]
fn invictus_time_span() {
    let records = realdata_records("invictus-aws");
    let (first, last) = min_max_time(&records);
    let stats = invictus_store().stats();
    assert_eq!(stats["first_event_time"], first);
    assert_eq!(stats["last_event_time"], last);
}

#[test]
fn invictus_sources() {
    let files = json_files(&realdata("invictus-aws"));
    assert_eq!(files.len(), 55);
    let stats = invictus_store().stats();
    assert_eq!(stats["sources"], files.len() as u64);
    assert_eq!(stats["failed_sources"], 0);
}

#[test]
fn invictus_license_skipped() {
    let store = Store::new();
    let run = store.ingest(&[realdata("invictus-aws")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("LICENSE"),
        "no message about LICENSE:\n{}",
        run.stderr
    );
}

#[test]
fn invictus_summary_counts() {
    let store = Store::new();
    let run = store.ingest(&[realdata("invictus-aws")]);
    let records = realdata_records("invictus-aws").len();
    let plain = records.to_string();
    let grouped = format!("{},{:03}", records / 1000, records % 1000);
    assert!(
        run.stderr.contains(&plain) || run.stderr.contains(&grouped),
        "summary does not count {records} records:\n{}",
        run.stderr
    );
}

#[test]
fn invictus_raw_record() {
    let mut expected = BTreeSet::new();
    for file in json_files(&realdata("invictus-aws")) {
        expected.extend(raw_records(&fs::read_to_string(&file).unwrap()));
    }
    let stored: BTreeSet<String> = invictus_store()
        .rows(&["raw_record"])
        .into_iter()
        .map(|row| row["raw_record"].clone().expect("raw_record"))
        .collect();
    assert_eq!(stored.len(), expected.len());
    assert!(
        stored == expected,
        "raw_record differs from the source text"
    );
}

#[test]
fn invictus_provenance() {
    let mut by_file: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for file in json_files(&realdata("invictus-aws")) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        by_file.insert(name, records_of(&read_json(&file)));
    }
    let rows = invictus_store().rows(&["event_id", "source_uri", "source_index"]);
    assert_eq!(rows.len(), by_file.values().map(Vec::len).sum::<usize>());
    for row in rows {
        let uri = row["source_uri"].clone().expect("source_uri");
        let name = uri.rsplit('/').next().unwrap();
        let records = by_file
            .get(name)
            .unwrap_or_else(|| panic!("unknown source {uri}"));
        let index: usize = row["source_index"].clone().unwrap().parse().unwrap();
        let record = &records[index];
        assert_eq!(
            row["event_id"],
            Some(event_id(record)),
            "{uri} at index {index}"
        );
    }
}

#[test]
fn invictus_columns() {
    let required = [
        "event_time",
        "event_id",
        "event_source",
        "event_name",
        "event_type",
        "aws_region",
        "source_ip",
        "user_agent",
        "error_code",
        "error_message",
        "recipient_account_id",
        "principal_arn",
        "access_key_id",
        "identity_type",
        "user_name",
        "request_parameters",
        "response_elements",
        "raw_record",
        "source_uri",
        "source_index",
    ];
    let store = invictus_store();
    for file in store.parquet_files() {
        let schema = parquet_schema(&file);
        for column in required {
            assert!(
                schema.contains_key(column),
                "{} lacks {column}",
                file.display()
            );
        }
    }
}

#[test]
fn invictus_partitions() {
    let records = realdata_records("invictus-aws");
    let dates: BTreeSet<String> = records
        .iter()
        .map(|r| format!("date={}", &text(&r["eventTime"])[..10]))
        .collect();
    let stored: BTreeSet<String> = invictus_store()
        .parquet_files()
        .iter()
        .map(|file| {
            file.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(stored, dates);
}

#[test]
fn stratus_events() {
    let records = realdata_records("stratus-detonations");
    // jq -s '[.[][]|[.recipientAccountId,.eventID]]|unique|length' \
    //   ../shared/realdata/stratus-detonations/*.json   => 310
    assert_eq!(distinct_events(&records), 310);
    let store = Store::new();
    let run = store.ingest(&[realdata("stratus-detonations")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.stat("events"), distinct_events(&records) as u64);
}

#[test]
fn stratus_license_skipped() {
    let store = Store::new();
    let run = store.ingest(&[realdata("stratus-detonations")]);
    assert!(
        run.stderr.contains("LICENSE"),
        "no message about LICENSE:\n{}",
        run.stderr
    );
    assert_eq!(store.stat("failed_sources"), 0);
}

#[test]
fn stratus_accounts_regions() {
    let records = realdata_records("stratus-detonations");
    let store = Store::new();
    store.ingest_ok(&[realdata("stratus-detonations")]);
    let stats = store.stats();
    assert_eq!(
        stats["accounts"],
        distinct(&records, "recipientAccountId") as u64
    );
    assert_eq!(stats["regions"], distinct(&records, "awsRegion") as u64);
}

#[test]
fn stratus_ips_as_text() {
    let records = realdata_records("stratus-detonations");
    let store = Store::new();
    store.ingest_ok(&[realdata("stratus-detonations")]);
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

#[test]
fn stratus_time_span() {
    let records = realdata_records("stratus-detonations");
    let (first, last) = min_max_time(&records);
    let store = Store::new();
    store.ingest_ok(&[realdata("stratus-detonations")]);
    let stats = store.stats();
    assert_eq!(stats["first_event_time"], first);
    assert_eq!(stats["last_event_time"], last);
}

#[test]
fn both_sets_together() {
    let mut records = realdata_records("invictus-aws");
    records.extend(realdata_records("stratus-detonations"));
    let store = Store::new();
    let run = store.ingest(&[realdata("invictus-aws"), realdata("stratus-detonations")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.stat("events"), distinct_events(&records) as u64);
}
