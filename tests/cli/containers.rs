//! Container shapes, discovery in an AWSLogs tree, skipped objects and digests.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

/// Returns the event IDs of a JSON-lines file whose lines are records or
/// `{"Records":[...]}` batches.
fn ids_of_mixed_lines(path: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for line in read_jsonl(path) {
        if line.get("Records").is_some() {
            ids.extend(ids_of(&records_of(&line)));
        } else {
            ids.insert(event_id(&line));
        }
    }
    ids
}

/// Returns the records inside `lookup-events` output, each parsed from its
/// `CloudTrailEvent` string.
fn lookup_events_records(path: &Path) -> Vec<Value> {
    let document = read_json(path);
    document["Events"]
        .as_array()
        .expect("Events array")
        .iter()
        .map(|event| serde_json::from_str(&text(&event["CloudTrailEvent"])).expect("record JSON"))
        .collect()
}

/// Returns the `detail` record of each EventBridge envelope in a file containing
/// one envelope, an array of them, or one per line.
fn eventbridge_records(path: &Path) -> Vec<Value> {
    let envelopes = if path.extension().is_some_and(|ext| ext == "jsonl") {
        read_jsonl(path)
    } else {
        match read_json(path) {
            Value::Array(items) => items,
            single => vec![single],
        }
    };
    envelopes
        .iter()
        .map(|envelope| envelope["detail"].clone())
        .collect()
}

/// Returns the event IDs a file under the AWSLogs tree contributes: records of
/// log and Insight files, none for digests, CSV results and empty objects.
fn awslogs_ids(path: &Path) -> BTreeSet<String> {
    let bytes = read_maybe_gzip(path);
    let Ok(document) = serde_json::from_slice::<Value>(&bytes) else {
        return BTreeSet::new();
    };
    match document.get("Records") {
        Some(_) => ids_of(&records_of(&document)),
        None => BTreeSet::new(),
    }
}

fn awslogs_tree() -> PathBuf {
    fixture("containers/awslogs")
}

fn awslogs_expected() -> BTreeSet<String> {
    let mut files = Vec::new();
    collect_files(&awslogs_tree(), &mut files);
    files.iter().flat_map(|file| awslogs_ids(file)).collect()
}

fn assert_ingests(paths: &[PathBuf], expected: &BTreeSet<String>) {
    let store = Store::new();
    let run = store.ingest(paths);
    assert_eq!(run.code, Some(0), "ingest failed:\n{}", run.stderr);
    assert_eq!(&store.event_ids(), expected);
}

/// Checks that raw_record contains each record's original text, byte for byte.
fn assert_raw_records(store: &Store, expected: &[String]) {
    let stored: BTreeSet<String> = store
        .rows(&["raw_record"])
        .into_iter()
        .map(|row| row["raw_record"].clone().expect("raw_record is set"))
        .collect();
    let expected: BTreeSet<String> = expected.iter().cloned().collect();
    assert_eq!(stored, expected);
}

#[test]
fn records_one_line() {
    let path = fixture("containers/records-one-line.json");
    let expected = ids_of(&records_of(&read_json(&path)));
    assert_eq!(expected.len(), 2);
    assert_ingests(&[path], &expected);
}

#[test]
fn records_one_line_raw() {
    let path = fixture("containers/records-one-line.json");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let raws = raw_records(&fs::read_to_string(&path).unwrap());
    assert_raw_records(&store, &raws);
}

#[test]
fn records_pretty() {
    let path = fixture("containers/records-pretty.json");
    let expected = ids_of(&records_of(&read_json(&path)));
    assert_ingests(&[path], &expected);
}

#[test]
fn records_pretty_raw() {
    let path = fixture("containers/records-pretty.json");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let raws = raw_records(&fs::read_to_string(&path).unwrap());
    assert!(raws[0].contains('\n'), "the fixture keeps its line breaks");
    assert_raw_records(&store, &raws);
}

#[test]
fn bare_array() {
    let path = fixture("containers/bare-array.json");
    let expected = ids_of(&records_of(&read_json(&path)));
    assert_ingests(&[path], &expected);
}

#[test]
fn single_record() {
    let path = fixture("containers/single-record.json");
    let expected = BTreeSet::from([event_id(&read_json(&path))]);
    assert_ingests(&[path], &expected);
}

#[test]
fn json_lines_with_batch() {
    let path = fixture("containers/lines.jsonl");
    let expected = ids_of_mixed_lines(&path);
    assert_eq!(expected.len(), 4);
    assert_ingests(&[path], &expected);
}

#[test]
fn lookup_events_output() {
    let path = fixture("containers/lookup-events.json");
    let expected = ids_of(&lookup_events_records(&path));
    assert_eq!(expected.len(), 2);
    assert_ingests(&[path], &expected);
}

#[test]
fn lookup_events_raw() {
    let path = fixture("containers/lookup-events.json");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let document = read_json(&path);
    let raws: Vec<String> = document["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| text(&event["CloudTrailEvent"]))
        .collect();
    assert_raw_records(&store, &raws);
}

#[test]
fn eventbridge_single() {
    let path = fixture("containers/eventbridge-single.json");
    let expected = ids_of(&eventbridge_records(&path));
    assert_eq!(expected.len(), 1);
    assert_ingests(&[path], &expected);
}

#[test]
fn eventbridge_array() {
    let path = fixture("containers/eventbridge-array.json");
    let expected = ids_of(&eventbridge_records(&path));
    assert_eq!(expected.len(), 2);
    assert_ingests(&[path], &expected);
}

#[test]
fn eventbridge_json_lines() {
    let path = fixture("containers/eventbridge.jsonl");
    let expected = ids_of(&eventbridge_records(&path));
    assert_eq!(expected.len(), 2);
    assert_ingests(&[path], &expected);
}

#[test]
fn eventbridge_uses_record_time() {
    let path = fixture("containers/eventbridge-single.json");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let record = &eventbridge_records(&path)[0];
    let rows = store.timeline_rows::<&str>(&[]);
    assert_eq!(rows[0]["event_time"], record["eventTime"]);
}

#[test]
fn bom_records() {
    let path = fixture("containers/bom-records.json");
    assert!(fs::read(&path).unwrap().starts_with(b"\xef\xbb\xbf"));
    let expected = ids_of(&records_of(&read_json(&path)));
    assert_ingests(&[path], &expected);
}

#[test]
fn bom_json_lines() {
    let path = fixture("containers/bom-lines.jsonl");
    assert!(fs::read(&path).unwrap().starts_with(b"\xef\xbb\xbf"));
    let expected = ids_of(&read_jsonl(&path));
    assert_eq!(expected.len(), 2);
    assert_ingests(&[path], &expected);
}

#[test]
fn non_json_skipped() {
    let store = Store::new();
    let single = fixture("containers/single-record.json");
    let run = store.ingest(&[fixture("containers/skipped"), single.clone()]);
    assert_eq!(
        run.code,
        Some(0),
        "skipped files are not failures:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("accounts.csv"), "{}", run.stderr);
    assert!(run.stderr.contains("NOTICE.txt"), "{}", run.stderr);
    assert_eq!(store.stat("failed_sources"), 0);
    let expected = BTreeSet::from([event_id(&read_json(&single))]);
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn zero_byte_skipped() {
    let store = Store::new();
    let single = fixture("containers/single-record.json");
    let empty = fixture("containers/skipped/empty.json");
    let empty_gz = fixture("containers/skipped/empty.json.gz");
    assert_eq!(fs::metadata(&empty).unwrap().len(), 0);
    let run = store.ingest(&[empty, empty_gz, single]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("empty.json"), "{}", run.stderr);
    assert_eq!(store.stat("failed_sources"), 0);
    assert_eq!(store.stat("events"), 1);
}

#[test]
fn awslogs_tree_events() {
    let expected = awslogs_expected();
    // The tree contains 2 + 1 + 1 log records, 2 Insight records and 1
    // aggregated record. Digests, the Lake CSV and the empty object add nothing.
    assert_eq!(expected.len(), 7);
    assert_ingests(&[awslogs_tree()], &expected);
}

#[test]
fn awslogs_tree_regions() {
    let store = Store::new();
    store.ingest_ok(&[awslogs_tree()]);
    let mut files = Vec::new();
    collect_files(&awslogs_tree(), &mut files);
    let regions: BTreeSet<String> = files
        .iter()
        .filter_map(|file| serde_json::from_slice::<Value>(&read_maybe_gzip(file)).ok())
        .filter(|document| document.get("Records").is_some())
        .flat_map(|document| records_of(&document))
        .map(|record| text(&record["awsRegion"]))
        .collect();
    assert_eq!(store.stat("regions"), regions.len() as u64);
}

#[test]
fn awslogs_tree_no_failures() {
    let store = Store::new();
    let run = store.ingest(&[awslogs_tree()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.stat("failed_sources"), 0);
}

#[test]
fn insight_records_kept() {
    let store = Store::new();
    store.ingest_ok(&[awslogs_tree()]);
    let insight_file = {
        let mut files = Vec::new();
        collect_files(&awslogs_tree(), &mut files);
        files
            .into_iter()
            .find(|file| file.to_string_lossy().contains("_CloudTrail-Insight_"))
            .expect("Insight file in the tree")
    };
    let insights = records_of(&read_json(&insight_file));
    let stored = store.rows_by_id(&["event_type"]);
    for record in &insights {
        let row = &stored[&event_id(record)];
        assert_eq!(row["event_type"].as_deref(), Some("AwsCloudTrailInsight"));
    }
}

#[test]
fn aggregated_event_kept() {
    let store = Store::new();
    store.ingest_ok(&[awslogs_tree()]);
    let mut files = Vec::new();
    collect_files(&awslogs_tree(), &mut files);
    let file = files
        .into_iter()
        .find(|file| file.to_string_lossy().contains("AggregatedEvent"))
        .expect("aggregated file in the tree");
    let record = records_of(&read_json(&file)).remove(0);
    assert!(
        record.get("eventID").is_none(),
        "the fixture uses eventId only"
    );
    let rows = store.timeline_by_id();
    let row = &rows[&text(&record["eventId"])];
    assert_eq!(row["recipient_account_id"], record["accountId"]);
}

#[test]
fn folder_recursive() {
    let store = Store::new();
    let run = store.ingest(&[fixture("containers")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut expected = awslogs_expected();
    for name in [
        "records-one-line.json",
        "records-pretty.json",
        "bare-array.json",
        "bom-records.json",
    ] {
        expected.extend(ids_of(&records_of(&read_json(&fixture(&format!(
            "containers/{name}"
        ))))));
    }
    expected.insert(event_id(&read_json(&fixture(
        "containers/single-record.json",
    ))));
    expected.extend(ids_of_mixed_lines(&fixture("containers/lines.jsonl")));
    expected.extend(ids_of(&read_jsonl(&fixture("containers/bom-lines.jsonl"))));
    expected.extend(ids_of(&lookup_events_records(&fixture(
        "containers/lookup-events.json",
    ))));
    for name in [
        "eventbridge-single.json",
        "eventbridge-array.json",
        "eventbridge.jsonl",
    ] {
        expected.extend(ids_of(&eventbridge_records(&fixture(&format!(
            "containers/{name}"
        )))));
    }
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn stdin_records() {
    let path = fixture("containers/records-one-line.json");
    let store = Store::new();
    let run = store.ingest_stdin(fs::read(&path).unwrap());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.event_ids(), ids_of(&records_of(&read_json(&path))));
}

#[test]
fn stdin_gzip() {
    let path = fixture("compression/records.json.gz");
    let store = Store::new();
    let run = store.ingest_stdin(fs::read(&path).unwrap());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.event_ids(), ids_of(&records_of(&read_json(&path))));
}

#[test]
fn stdin_json_lines() {
    let path = fixture("containers/lines.jsonl");
    let store = Store::new();
    let run = store.ingest_stdin(fs::read(&path).unwrap());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.event_ids(), ids_of_mixed_lines(&path));
}

#[test]
fn stdin_with_file() {
    let piped = fixture("containers/bare-array.json");
    let named = fixture("containers/single-record.json");
    let store = Store::new();
    let run = Run::from_command(
        store
            .command()
            .arg("ingest")
            .arg("-")
            .arg(&named)
            .write_stdin(fs::read(&piped).unwrap()),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut expected = ids_of(&records_of(&read_json(&piped)));
    expected.insert(event_id(&read_json(&named)));
    assert_eq!(store.event_ids(), expected);
}

// Integrity: digest files are recognised by content and never counted as events.

#[test]
fn digests_not_events() {
    let store = Store::new();
    let run = store.ingest(&[fixture("integrity")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let expected = ids_of(&records_of(&read_json(&fixture("integrity/log.json.gz"))));
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn digests_not_failures() {
    let store = Store::new();
    store.ingest_ok(&[fixture("integrity")]);
    assert_eq!(store.stat("failed_sources"), 0);
}

#[test]
fn renamed_digest_recognised() {
    let digest = fixture("integrity/renamed-digest.json");
    assert!(read_json(&digest).get("digestS3Object").is_some());
    let store = Store::new();
    let run = store.ingest(&[digest, fixture("containers/single-record.json")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.stat("events"), 1);
}

#[test]
fn manifest_has_sha256() {
    let path = fixture("integrity/log.json.gz");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let raw = fs::read(&path).unwrap();
    let digest = sha256_hex(&raw);
    let mut segments = Vec::new();
    collect_files(&store.path().join("manifest"), &mut segments);
    assert!(!segments.is_empty(), "manifest has no segment files");
    let manifest_text: String = segments
        .iter()
        .map(|segment| fs::read_to_string(segment).expect("manifest segment is text"))
        .collect();
    assert!(
        manifest_text.to_lowercase().contains(&digest),
        "manifest lacks SHA-256 {digest} of the raw object"
    );
}

/// Parses every manifest segment, as one JSON document or as JSON lines.
fn manifest_documents(store: &Store) -> Vec<Value> {
    let mut segments = Vec::new();
    collect_files(&store.path().join("manifest"), &mut segments);
    let mut documents = Vec::new();
    for segment in segments {
        let content = fs::read_to_string(&segment).unwrap();
        if let Ok(document) = serde_json::from_str::<Value>(&content) {
            documents.push(document);
            continue;
        }
        for line in content.lines().filter(|line| !line.trim().is_empty()) {
            let document = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{} is not JSON: {error}", segment.display()));
            documents.push(document);
        }
    }
    documents
}

#[test]
fn manifest_segments_are_json() {
    let store = Store::new();
    store.ingest_ok(&[fixture("integrity/log.json.gz")]);
    assert!(
        !manifest_documents(&store).is_empty(),
        "the manifest is empty"
    );
}

#[test]
fn store_layout() {
    let store = Store::new();
    store.ingest_ok(&[fixture("containers/records-one-line.json")]);
    let schema = read_json(&store.path().join("store.json"));
    assert!(schema.is_object(), "store.json is a JSON object");
    assert!(store.path().join("manifest").is_dir());
    let partition = store.path().join("events/date=2023-07-10");
    assert!(
        partition.is_dir(),
        "records of 2023-07-10 go to {}",
        partition.display()
    );
}

#[test]
fn eventbridge_raw() {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        detail: &'a serde_json::value::RawValue,
    }
    let path = fixture("containers/eventbridge-array.json");
    let text = fs::read_to_string(&path).unwrap();
    let envelopes: Vec<Envelope> = serde_json::from_str(&text).unwrap();
    let raws: Vec<String> = envelopes
        .iter()
        .map(|e| e.detail.get().to_owned())
        .collect();
    let store = Store::new();
    store.ingest_ok(&[&path]);
    assert_raw_records(&store, &raws);
}

#[test]
fn gzip_without_gz_name() {
    let source = fixture("compression/records.json.gz");
    let store = Store::new();
    let renamed = store.scratch("renamed").join("records.json");
    fs::copy(&source, &renamed).unwrap();
    store.ingest_ok(&[&renamed]);
    assert_eq!(store.event_ids(), ids_of(&records_of(&read_json(&source))));
}

#[test]
fn symlink_loop_terminates() {
    let store = Store::new();
    let dir = store.scratch("loop");
    let valid = fixture("invalid/valid.json");
    fs::copy(&valid, dir.join("valid.json")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("self")).unwrap();
    store.ingest(&[&dir]);
    assert_eq!(store.event_ids(), ids_of(&records_of(&read_json(&valid))));
}

/// Returns every JSON object inside `value` that has `needle` as one of its
/// string values.
fn objects_with_string<'a>(value: &'a Value, needle: &str, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            if map.values().any(|v| v.as_str() == Some(needle)) {
                found.push(value);
            }
            for child in map.values() {
                objects_with_string(child, needle, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                objects_with_string(item, needle, found);
            }
        }
        _ => {}
    }
}

#[test]
fn manifest_entry_has_size() {
    let path = fixture("integrity/log.json.gz");
    let raw = fs::read(&path).unwrap();
    let digest = sha256_hex(&raw);
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let documents = manifest_documents(&store);
    let mut entries = Vec::new();
    for document in &documents {
        objects_with_string(document, &digest, &mut entries);
    }
    assert_eq!(entries.len(), 1, "one manifest entry has SHA-256 {digest}");
    let entry = entries[0].as_object().unwrap();
    let size = raw.len() as u64;
    assert!(
        entry.values().any(|v| v.as_u64() == Some(size)),
        "the entry lacks the object size {size}: {}",
        entries[0]
    );
}

#[test]
fn store_json_has_version() {
    let store = Store::new();
    store.ingest_ok(&[fixture("containers/single-record.json")]);
    let document = read_json(&store.path().join("store.json"));
    let object = document.as_object().expect("store.json is an object");
    let has_version = object
        .iter()
        .any(|(key, value)| key.contains("version") && value.is_u64());
    assert!(has_version, "no numeric version key in {document}");
}
