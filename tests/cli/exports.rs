//! Export formats: every format written with `-o FILE` and read back gives
//! the same rows as the JSON lines of the same query, and `--raw` carries
//! the original records byte-exact.

use std::collections::BTreeMap;
use std::fs;

use polars::prelude::*;
use serde_json::Value;

use crate::common::*;

const ATTACKER_KEY: &str = "AKIATFQR7NSC8Q4X20BJ";

fn export(format: &str, extra: &[&str]) -> std::path::PathBuf {
    let store = invictus_store();
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join(format!("out.{format}"));
    let mut args = vec![
        "timeline",
        "--access-key",
        ATTACKER_KEY,
        "--format",
        format,
        "-o",
    ];
    let path_text = path.to_str().unwrap().to_string();
    args.push(&path_text);
    args.extend_from_slice(extra);
    let run = store.run(&args);
    assert_eq!(run.code, Some(0), "{format}: {}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "-o writes nothing to standard output"
    );
    path
}

/// The reference rows: JSON lines on standard output.
fn reference(extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["--access-key", ATTACKER_KEY];
    args.extend_from_slice(extra);
    invictus_store().timeline_rows(&args)
}

#[test]
fn jsonl_and_json_files_equal_standard_output() {
    let expected = reference(&[]);
    assert!(!expected.is_empty());
    let jsonl = read_jsonl(&export("jsonl", &[]));
    assert_eq!(jsonl, expected);
    let json = read_json(&export("json", &[]));
    assert_eq!(json.as_array().unwrap(), &expected);
}

#[test]
fn csv_reads_back_as_the_same_text() {
    let expected = reference(&[]);
    let path = export("csv", &[]);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), expected.len());
    for (row, want) in rows.iter().zip(&expected) {
        for (name, cell) in headers.iter().zip(row.iter()) {
            let want = match &want[name.as_str()] {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            // Cells a spreadsheet would run as formulas carry a leading quote.
            let unguarded = match want.chars().next() {
                Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{want}"),
                _ => want,
            };
            assert_eq!(cell, unguarded, "column {name}");
        }
    }
}

#[test]
fn parquet_reads_back_with_types() {
    let expected = reference(&[]);
    let path = export("parquet", &[]);
    let frame = LazyFrame::scan_parquet(
        PlRefPath::try_from_pathbuf(path).unwrap(),
        ScanArgsParquet::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    assert_eq!(frame.height(), expected.len());
    assert!(matches!(
        frame.column("event_time").unwrap().dtype(),
        DataType::Datetime(_, _)
    ));
    let ids = frame.column("event_id").unwrap().str().unwrap();
    let names = frame.column("event_name").unwrap().str().unwrap();
    for (row, want) in expected.iter().enumerate() {
        assert_eq!(ids.get(row), want["event_id"].as_str());
        assert_eq!(names.get(row), want["event_name"].as_str());
    }
}

#[test]
fn timesketch_rows_carry_required_fields_and_event_fields() {
    let expected = reference(&[]);
    let rows = read_jsonl(&export("timesketch", &[]));
    assert_eq!(rows.len(), expected.len());
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(row["datetime"], want["event_time"]);
        assert_eq!(row["timestamp_desc"], "Event Time");
        let message = text(&row["message"]);
        assert!(
            message.contains(want["event_name"].as_str().unwrap()),
            "{message}"
        );
        for (name, value) in want.as_object().unwrap() {
            assert_eq!(&row[name.as_str()], value, "field {name}");
        }
    }
}

#[test]
fn raw_adds_original_records_byte_exact() {
    let rows = reference(&["--raw"]);
    // The raw text of every attacker record, cut from the source files.
    let mut originals: BTreeMap<String, String> = BTreeMap::new();
    for file in json_files(&realdata("invictus-aws")) {
        let text = fs::read_to_string(&file).unwrap();
        for raw in raw_records(&text) {
            let record: Value = serde_json::from_str(&raw).unwrap();
            if pointer_text(&record, "/userIdentity/accessKeyId").as_deref() == Some(ATTACKER_KEY) {
                originals.entry(event_id(&record)).or_insert(raw);
            }
        }
    }
    assert_eq!(rows.len(), originals.len());
    for row in &rows {
        let id = text(&row["event_id"]);
        assert_eq!(
            row["raw_record"].as_str(),
            Some(originals[&id].as_str()),
            "{id}"
        );
    }
}

#[test]
fn parquet_is_refused_on_a_terminal_only() {
    // Standard output here is a pipe, so Parquet bytes may go to it.
    let run = Run::from_command(invictus_store().command().args([
        "timeline",
        "--access-key",
        ATTACKER_KEY,
        "--format",
        "parquet",
    ]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.starts_with("PAR1"));
}
