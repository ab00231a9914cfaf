//! gzip handling: members, truncation, plain text behind a `.gz` name, and the
//! cap on decompressed size.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use crate::common::*;

/// Decompresses as much of a damaged gzip file as flate2 can read.
fn readable_prefix(path: &Path) -> String {
    let (out, result) = gunzip_first_member(&fs::read(path).unwrap());
    assert!(
        result.is_err(),
        "{} is expected to be damaged",
        path.display()
    );
    String::from_utf8_lossy(&out).into_owned()
}

/// Returns the event IDs of the records that end inside `prefix`. Every record
/// in the compression fixtures ends with `"eventCategory":"Management"}`.
fn complete_record_ids(prefix: &str) -> BTreeSet<String> {
    const END: &str = r#""eventCategory":"Management"}"#;
    const ID_KEY: &str = r#""eventID":""#;
    let complete_part = &prefix[..prefix.rfind(END).map_or(0, |at| at + END.len())];
    complete_part
        .split(END)
        .filter_map(|record| record.find(ID_KEY).map(|at| &record[at + ID_KEY.len()..]))
        .map(|rest| rest[..36].to_owned())
        .collect()
}

fn decompressed_len(path: &Path) -> u64 {
    read_maybe_gzip(path).len() as u64
}

#[test]
fn gzip_records() {
    let path = fixture("compression/records.json.gz");
    let store = Store::new();
    store.ingest_ok(&[&path]);
    assert_eq!(store.event_ids(), ids_of(&records_of(&read_json(&path))));
}

#[test]
fn multi_member_split_document() {
    let path = fixture("compression/multi-member-split.json.gz");
    let (first_member, result) = gunzip_first_member(&fs::read(&path).unwrap());
    result.expect("the first member is complete");
    assert!(
        serde_json::from_slice::<serde_json::Value>(&first_member).is_err(),
        "the first member alone is not a whole document"
    );
    let expected = ids_of(&records_of(&read_json(&path)));
    assert_eq!(expected.len(), 3);
    let store = Store::new();
    store.ingest_ok(&[&path]);
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn multi_member_lines() {
    let path = fixture("compression/multi-member-lines.jsonl.gz");
    let expected = ids_of(&read_jsonl(&path));
    assert_eq!(expected.len(), 3);
    let store = Store::new();
    store.ingest_ok(&[&path]);
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn plain_text_named_gz() {
    let path = fixture("compression/plain-text.json.gz");
    assert!(!fs::read(&path).unwrap().starts_with(&[0x1f, 0x8b]));
    let store = Store::new();
    store.ingest_ok(&[&path]);
    assert_eq!(store.event_ids(), ids_of(&records_of(&read_json(&path))));
}

#[test]
fn bom_inside_gzip() {
    let path = fixture("compression/bom-inside.json.gz");
    assert!(read_maybe_gzip(&path).starts_with(b"\xef\xbb\xbf"));
    let store = Store::new();
    store.ingest_ok(&[&path]);
    assert_eq!(store.event_ids(), ids_of(&records_of(&read_json(&path))));
}

#[test]
fn trailing_garbage_flagged() {
    let path = fixture("compression/trailing-garbage.json.gz");
    let (first_member, result) = gunzip_first_member(&fs::read(&path).unwrap());
    result.expect("the first member is complete");
    let document: serde_json::Value = serde_json::from_slice(&first_member).unwrap();
    let store = Store::new();
    let run = store.ingest(&[&path]);
    assert!(
        run.stderr.contains("trailing-garbage.json.gz"),
        "{}",
        run.stderr
    );
    assert_eq!(store.event_ids(), ids_of(&records_of(&document)));
}

#[test]
fn truncated_lines_exit_code() {
    let store = Store::new();
    let run = store.ingest(&[fixture("compression/truncated-lines.jsonl.gz")]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn truncated_lines_named() {
    let store = Store::new();
    let run = store.ingest(&[fixture("compression/truncated-lines.jsonl.gz")]);
    assert!(
        run.stderr.contains("truncated-lines.jsonl.gz"),
        "{}",
        run.stderr
    );
}

#[test]
fn truncated_lines_keeps_prefix() {
    let path = fixture("compression/truncated-lines.jsonl.gz");
    let prefix = readable_prefix(&path);
    let expected: BTreeSet<String> = prefix
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| event_id(&serde_json::from_str(line).unwrap()))
        .collect();
    assert_eq!(expected.len(), 6);
    let store = Store::new();
    store.ingest(&[&path]);
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn truncated_records_exit_code() {
    let store = Store::new();
    let run = store.ingest(&[fixture("compression/truncated-records.json.gz")]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn truncated_records_named() {
    let store = Store::new();
    let run = store.ingest(&[fixture("compression/truncated-records.json.gz")]);
    assert!(
        run.stderr.contains("truncated-records.json.gz"),
        "{}",
        run.stderr
    );
}

#[test]
fn truncated_records_keeps_prefix() {
    let path = fixture("compression/truncated-records.json.gz");
    let expected = complete_record_ids(&readable_prefix(&path));
    assert_eq!(expected.len(), 3);
    let store = Store::new();
    store.ingest(&[&path]);
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn truncated_keeps_other_files() {
    let good = fixture("compression/records.json.gz");
    let store = Store::new();
    let run = store.ingest(&[
        fixture("compression/truncated-records.json.gz"),
        good.clone(),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let ids = store.event_ids();
    for id in ids_of(&records_of(&read_json(&good))) {
        assert!(ids.contains(&id), "record {id} of the good file is missing");
    }
}

#[test]
fn cap_rejects_decompressed_size() {
    let path = fixture("compression/padded-3mb.json.gz");
    assert!(fs::metadata(&path).unwrap().len() < 1_000_000);
    assert!(decompressed_len(&path) > 3_000_000);
    let store = Store::new();
    let run = store.ingest_with(
        &["--max-object-size", "1MB"],
        &[&path, &fixture("containers/single-record.json")],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("padded-3mb.json.gz"), "{}", run.stderr);
    assert_eq!(store.stat("events"), 1);
}

#[test]
fn cap_above_size_accepts() {
    let path = fixture("compression/padded-3mb.json.gz");
    let store = Store::new();
    let run = store.ingest_with(&["--max-object-size", "10MB"], &[&path]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.event_ids(), ids_of(&records_of(&read_json(&path))));
}

#[test]
fn cap_units() {
    let path = fixture("compression/padded-3mb.json.gz");
    let size = decompressed_len(&path);
    // The cases below assume 3 MB < size < 4 MiB.
    assert!(size > 3_000_000);
    assert!(size < 4 * 1024 * 1024);
    let exact = size.to_string();
    let one_less = (size - 1).to_string();
    // (cap, whether the object fits under it)
    let cases: [(&str, bool); 8] = [
        ("1048576", false),
        ("1MiB", false),
        ("2MB", false),
        ("10MB", true),
        ("4MiB", true),
        ("1GiB", true),
        (&exact, true),
        (&one_less, false),
    ];
    for (cap, fits) in cases {
        let store = Store::new();
        let run = store.ingest_with(&["--max-object-size", cap], &[&path]);
        let expected = if fits { Some(0) } else { Some(2) };
        assert_eq!(run.code, expected, "cap {cap}:\n{}", run.stderr);
    }
}

#[test]
fn cap_plain_file() {
    let path = fixture("containers/records-one-line.json");
    let size = fs::metadata(&path).unwrap().len();
    let store = Store::new();
    let run = store.ingest_with(&["--max-object-size", &(size - 1).to_string()], &[&path]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("records-one-line.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn cap_invalid_value() {
    let store = Store::new();
    let run = store.ingest_with(
        &["--max-object-size", "ten megabytes"],
        &[fixture("containers/single-record.json")],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

/// Writes a `{"Records":[...]}` document on one line of at least `min_bytes`
/// and returns the number of records in it.
fn write_single_line(path: &Path, min_bytes: usize) -> usize {
    let padding = "p".repeat(4000);
    let mut file = std::io::BufWriter::new(fs::File::create(path).unwrap());
    file.write_all(br#"{"Records":["#).unwrap();
    let mut written = 0;
    let mut count = 0;
    while written < min_bytes {
        let separator = if count == 0 { "" } else { "," };
        let record = format!(
            concat!(
                r#"{}{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bulk","accountId":"111122223333","accessKeyId":"AKIAEXAMPLEBULK00001","userName":"bulk"}},"#,
                r#""eventTime":"2023-07-10T{:02}:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","#,
                r#""sourceIPAddress":"198.51.100.9","userAgent":"bulk-writer","requestParameters":{{"bucketName":"b","key":"{}"}},"#,
                r#""responseElements":null,"eventID":"{:08x}-0000-4000-8000-000000000000","eventType":"AwsApiCall","recipientAccountId":"111122223333"}}"#
            ),
            separator,
            (count / 3600) % 24,
            (count / 60) % 60,
            count % 60,
            padding,
            count
        );
        file.write_all(record.as_bytes()).unwrap();
        written += record.len();
        count += 1;
    }
    file.write_all(b"]}").unwrap();
    file.flush().unwrap();
    count
}

#[test]
fn single_line_over_100mb() {
    let store = Store::new();
    let path = store.scratch("big").join("one-line.json");
    let count = write_single_line(&path, 100 * 1024 * 1024 + 1);
    let content = fs::read(&path).unwrap();
    assert!(content.len() > 100 * 1024 * 1024);
    assert!(!content.contains(&b'\n'), "the document is one line");
    drop(content);
    let run = store.ingest_with(&["--max-object-size", "1GiB"], &[&path]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.stat("events"), count as u64);
}

#[test]
fn bad_crc_fails() {
    let path = fixture("compression/bad-crc.json.gz");
    let store = Store::new();
    let run = store.ingest(&[&path]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("bad-crc.json.gz"), "{}", run.stderr);
}

#[test]
fn multi_member_raw_record() {
    let path = fixture("compression/multi-member-split.json.gz");
    let text = String::from_utf8(read_maybe_gzip(&path)).unwrap();
    let expected: BTreeSet<String> = raw_records(&text).into_iter().collect();
    let store = Store::new();
    store.ingest_ok(&[&path]);
    let stored: BTreeSet<String> = store
        .rows(&["raw_record"])
        .into_iter()
        .map(|row| row["raw_record"].clone().expect("raw_record is set"))
        .collect();
    assert_eq!(stored, expected);
}
