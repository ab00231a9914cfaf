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

/// Returns the reference rows: JSON lines on standard output.
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

#[test]
fn output_through_symlink_writes_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.csv");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = invictus_store().run(&[
        "timeline",
        "--access-key",
        ATTACKER_KEY,
        "--format",
        "csv",
        "-o",
        link.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the symlink stays"
    );
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("event_time,"));
}

#[test]
fn existing_output_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.jsonl");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = invictus_store().run(&[
        "timeline",
        "--access-key",
        ATTACKER_KEY,
        "--format",
        "jsonl",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!read_jsonl(&path).is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn output_folder_rejected_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    std::fs::create_dir(&folder).unwrap();
    let run = invictus_store().run(&[
        "timeline",
        "--access-key",
        ATTACKER_KEY,
        "--format",
        "csv",
        "-o",
        folder.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("it is a folder"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn raw_needs_a_non_table_format() {
    let run = invictus_store().run(&["timeline", "--access-key", ATTACKER_KEY, "--raw"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--raw adds the original records"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_access_key_is_rejected() {
    for key in ["", "AKIA/../../etc", "AKIA"] {
        let run = invictus_store().run(&["lineage", "--access-key", key]);
        assert_eq!(run.code, Some(2), "{key:?}");
        assert!(
            run.stderr.contains("invalid access key id"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn completions_to_a_full_disk_fail_cleanly() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("trailhound"))
        .args(["completions", "zsh"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot write the completion script"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}
