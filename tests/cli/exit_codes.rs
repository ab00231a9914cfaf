//! Exit codes, error messages, `--quiet`, and where the store lives.

use std::collections::BTreeSet;

use crate::common::*;

fn valid_ids() -> BTreeSet<String> {
    ids_of(&records_of(&read_json(&fixture("invalid/valid.json"))))
}

#[test]
fn ingest_ok_exit_0() {
    let store = Store::new();
    let run = store.ingest(&[fixture("containers/records-one-line.json")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn invalid_json_exit_2() {
    let store = Store::new();
    let run = store.ingest(&[
        fixture("invalid/invalid-json.json"),
        fixture("invalid/valid.json"),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn invalid_json_named() {
    let store = Store::new();
    let run = store.ingest(&[
        fixture("invalid/invalid-json.json"),
        fixture("invalid/valid.json"),
    ]);
    assert!(run.stderr.contains("invalid-json.json"), "{}", run.stderr);
}

#[test]
fn invalid_json_others_kept() {
    let store = Store::new();
    store.ingest(&[
        fixture("invalid/invalid-json.json"),
        fixture("invalid/valid.json"),
    ]);
    assert_eq!(store.event_ids(), valid_ids());
}

#[test]
fn records_not_array_exit_2() {
    let store = Store::new();
    let run = store.ingest(&[
        fixture("invalid/records-not-array.json"),
        fixture("invalid/valid.json"),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("records-not-array.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn records_not_array_others_kept() {
    let store = Store::new();
    store.ingest(&[
        fixture("invalid/records-not-array.json"),
        fixture("invalid/valid.json"),
    ]);
    assert_eq!(store.event_ids(), valid_ids());
}

#[test]
fn rejected_records_exit_2() {
    let store = Store::new();
    let run = store.ingest(&[fixture("invalid/non-object-records.json")]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("non-object-records.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn rejected_records_valid_kept() {
    let path = fixture("invalid/non-object-records.json");
    let records = records_of(&read_json(&path));
    let expected: BTreeSet<String> = records
        .iter()
        .filter(|record| record.is_object())
        .map(event_id)
        .collect();
    assert_eq!(expected.len(), 1);
    let store = Store::new();
    store.ingest(&[&path]);
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn missing_path_exit_2() {
    let store = Store::new();
    let missing = fixture("invalid/does-not-exist.json");
    let run = store.ingest(&[missing, fixture("invalid/valid.json")]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("does-not-exist.json"), "{}", run.stderr);
}

#[test]
fn quiet_success_silent() {
    let store = Store::new();
    let run = Run::from_command(
        store
            .command()
            .args(["ingest", "--quiet"])
            .arg(fixture("containers/records-one-line.json")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

#[test]
fn quiet_global_position() {
    let store = Store::new();
    let run = Run::from_command(
        store
            .command()
            .args(["--quiet", "ingest"])
            .arg(fixture("containers/records-one-line.json")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

#[test]
fn quiet_keeps_errors() {
    let store = Store::new();
    let run = Run::from_command(
        store
            .command()
            .args(["ingest", "--quiet"])
            .arg(fixture("invalid/invalid-json.json"))
            .arg(fixture("invalid/valid.json")),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("invalid-json.json"), "{}", run.stderr);
}

#[test]
fn summary_without_quiet() {
    let store = Store::new();
    let run = store.ingest(&[fixture("containers/records-one-line.json")]);
    assert!(!run.stderr.trim().is_empty(), "no summary on stderr");
}

#[test]
fn timeline_no_store_exit_2() {
    let store = Store::new();
    let run = store.timeline::<&str>(&[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn stats_no_store_exit_2() {
    let store = Store::new();
    let run = store.run(&["stats", "--format", "json"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn timeline_match_exit_0() {
    let store = Store::new();
    store.ingest_ok(&[fixture("invalid/valid.json")]);
    let run = store.timeline(&["--event-name", "ListUsers"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn timeline_no_match_exit_1() {
    let store = Store::new();
    store.ingest_ok(&[fixture("invalid/valid.json")]);
    let run = store.timeline(&["--event-name", "DeleteTrail"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
}

#[test]
fn timeline_bad_since_exit_2() {
    let store = Store::new();
    store.ingest_ok(&[fixture("invalid/valid.json")]);
    let run = store.timeline(&["--since", "yesterday-ish"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn unknown_format_exit_2() {
    let store = Store::new();
    store.ingest_ok(&[fixture("invalid/valid.json")]);
    let run = store.run(&["timeline", "--format", "xml"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn store_from_environment() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("env-store");
    let run = Run::from_command(
        trailhound()
            .env("TRAILHOUND_STORE", &store_path)
            .arg("ingest")
            .arg(fixture("invalid/valid.json")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        store_path.join("store.json").is_file(),
        "no store at TRAILHOUND_STORE"
    );
}

#[test]
fn store_flag_beats_environment() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = dir.path().join("env-store");
    let from_flag = dir.path().join("flag-store");
    let run = Run::from_command(
        trailhound()
            .env("TRAILHOUND_STORE", &from_env)
            .arg("--store")
            .arg(&from_flag)
            .arg("ingest")
            .arg(fixture("invalid/valid.json")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        from_flag.join("store.json").is_file(),
        "no store at --store"
    );
    assert!(
        !from_env.exists(),
        "store written to TRAILHOUND_STORE despite --store"
    );
}

#[test]
fn default_store_location() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::from_command(
        trailhound()
            .current_dir(dir.path())
            .arg("ingest")
            .arg(fixture("invalid/valid.json")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let default = dir.path().join("trailhound-store/store.json");
    assert!(default.is_file(), "no store at ./trailhound-store");
}

#[test]
fn store_flag_after_subcommand() {
    let store = Store::new();
    let run = Run::from_command(
        trailhound()
            .arg("ingest")
            .arg("--store")
            .arg(store.path())
            .arg(fixture("invalid/valid.json")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(store.event_ids(), valid_ids());
}

#[test]
fn broken_line_exit_2() {
    let store = Store::new();
    let run = store.ingest(&[fixture("invalid/broken-line.jsonl")]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("broken-line.jsonl"), "{}", run.stderr);
}

#[test]
fn broken_line_others_kept() {
    let path = fixture("invalid/broken-line.jsonl");
    let expected: BTreeSet<String> = read_lines(&path)
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|record| event_id(&record))
        .collect();
    assert_eq!(expected.len(), 2);
    let store = Store::new();
    store.ingest(&[&path]);
    assert_eq!(store.event_ids(), expected);
}

#[test]
fn store_path_is_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("store");
    std::fs::write(&not_a_dir, "a regular file\n").unwrap();
    let run = Run::from_command(
        trailhound()
            .arg("--store")
            .arg(&not_a_dir)
            .arg("ingest")
            .arg(fixture("invalid/valid.json")),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}
