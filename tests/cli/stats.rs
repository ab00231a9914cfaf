//! `stats --format json` keys and values.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::*;

#[test]
fn keys_present() {
    let stats = invictus_store().stats();
    for key in [
        "events",
        "rows",
        "accounts",
        "regions",
        "first_event_time",
        "last_event_time",
        "sources",
        "failed_sources",
    ] {
        assert!(stats.get(key).is_some(), "stats lacks {key}: {stats}");
    }
}

#[test]
fn counts_are_integers() {
    let stats = invictus_store().stats();
    for key in [
        "events",
        "rows",
        "accounts",
        "regions",
        "sources",
        "failed_sources",
    ] {
        assert!(stats[key].is_u64(), "{key} is not a count: {stats}");
    }
}

#[test]
fn times_rfc3339_utc() {
    let stats = invictus_store().stats();
    for key in ["first_event_time", "last_event_time"] {
        let value = text(&stats[key]);
        assert!(
            chrono::DateTime::parse_from_rfc3339(&value).is_ok(),
            "{key} is not RFC 3339: {value}"
        );
        assert!(value.ends_with('Z'), "{key} is not in UTC: {value}");
    }
}

#[test]
fn mixed_accounts_regions() {
    let inputs = [
        fixture("strings/strings.jsonl"),
        fixture("duplicates/same-id-two-accounts.json"),
        fixture("containers/awslogs"),
    ];
    let store = Store::new();
    store.ingest_ok(&inputs);
    let mut records = read_jsonl(&inputs[0]);
    records.extend(records_of(&read_json(&inputs[1])));
    let mut tree = Vec::new();
    collect_files(&inputs[2], &mut tree);
    for file in tree {
        let bytes = read_maybe_gzip(&file);
        let Ok(document) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        if document.get("Records").is_some() {
            records.extend(records_of(&document));
        }
    }
    let accounts: BTreeSet<Option<String>> = records.iter().map(recipient_account).collect();
    let regions: BTreeSet<String> = records.iter().map(|r| text(&r["awsRegion"])).collect();
    let stats = store.stats();
    assert_eq!(stats["accounts"], accounts.len() as u64, "{stats}");
    assert_eq!(stats["regions"], regions.len() as u64, "{stats}");
}

#[test]
fn failed_sources_counted() {
    let invalid = [
        fixture("invalid/invalid-json.json"),
        fixture("invalid/records-not-array.json"),
    ];
    let store = Store::new();
    let mut inputs = invalid.to_vec();
    inputs.push(fixture("invalid/valid.json"));
    let run = store.ingest(&inputs);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(store.stat("failed_sources"), invalid.len() as u64);
}

#[test]
fn sources_counted() {
    let inputs = [
        fixture("containers/records-one-line.json"),
        fixture("containers/bare-array.json"),
        fixture("compression/records.json.gz"),
    ];
    let store = Store::new();
    store.ingest_ok(&inputs);
    assert_eq!(store.stat("sources"), inputs.len() as u64);
}

#[test]
fn rows_count_copies() {
    let path = fixture("duplicates/within-file.json");
    let records = records_of(&read_json(&path));
    let store = Store::new();
    store.ingest_ok(&[&path]);
    assert_eq!(store.stat("rows"), records.len() as u64);
    assert_eq!(store.stat("events"), distinct_events(&records) as u64);
}

#[test]
fn time_span_fixture() {
    let path = fixture("time/unordered.json");
    let records = records_of(&read_json(&path));
    let times: BTreeSet<String> = records.iter().map(|r| text(&r["eventTime"])).collect();
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let stats = store.stats();
    assert_eq!(stats["first_event_time"], *times.first().unwrap());
    assert_eq!(stats["last_event_time"], *times.last().unwrap());
}
