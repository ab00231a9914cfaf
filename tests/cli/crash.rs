//! Crash safety: SIGKILL during ingest leaves a readable store, and the next
//! run finishes with exactly the events of an uninterrupted run.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::common::*;

/// Copies of invictus-aws in the generated corpus: 80 copies are 232,000
/// records, about 300 MB of JSON in 4,400 gzip objects.
/// NOTE: the size is chosen so that one run commits several batches. A corpus
/// that fits in one commit would only test kills before anything is written.
const COPIES: usize = 80;

/// Points in an uninterrupted run, as fractions of its duration, at which the
/// interrupted runs are killed. Each run resumes where the previous one died.
const KILL_POINTS: [f64; 5] = [0.1, 0.25, 0.45, 0.65, 0.85];

/// Rewrites the first four hex digits of every eventID so each copy is distinct.
fn rewrite_event_ids(text: &str, copy: usize) -> String {
    const KEY: &str = r#""eventID":""#;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let id_start = at + KEY.len();
        out.push_str(&rest[..id_start]);
        out.push_str(&format!("{copy:04x}"));
        rest = &rest[id_start + 4..];
    }
    out.push_str(rest);
    out
}

/// Writes the corpus and returns the number of distinct events in it,
/// counted from the rewritten text.
fn build_corpus(dir: &Path) -> usize {
    let sources = json_files(&realdata("invictus-aws"));
    let mut records = Vec::new();
    for copy in 0..COPIES {
        let copy_dir = dir.join(format!("copy-{copy:03}"));
        fs::create_dir_all(&copy_dir).unwrap();
        for source in &sources {
            let text = rewrite_event_ids(&fs::read_to_string(source).unwrap(), copy);
            records.extend(records_of(&serde_json::from_str(&text).unwrap()));
            let name = format!("{}.gz", source.file_name().unwrap().to_string_lossy());
            let mut encoder = GzEncoder::new(
                fs::File::create(copy_dir.join(name)).unwrap(),
                Compression::fast(),
            );
            encoder.write_all(text.as_bytes()).unwrap();
            encoder.finish().unwrap();
        }
    }
    distinct_events(&records)
}

fn sorted_ids(store: &Store) -> Vec<String> {
    let mut ids = store.timeline_ids();
    ids.sort();
    ids
}

#[test]
fn kill_then_resume() {
    let clean = Store::new();
    let corpus = clean.scratch("corpus");
    let expected_events = build_corpus(&corpus);
    assert_eq!(expected_events, COPIES * 2900);
    let seed = fixture("containers/records-one-line.json");

    clean.ingest_ok(&[&seed]);
    let started = Instant::now();
    clean.ingest_ok(&[&corpus]);
    let clean_duration = started.elapsed();
    assert_eq!(clean.stat("events"), (expected_events + 2) as u64);
    let clean_ids = sorted_ids(&clean);

    let crashed = Store::new();
    crashed.ingest_ok(&[&seed]);
    let mut interrupted_counts = Vec::new();
    for point in KILL_POINTS {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trailhound"))
            .env_remove("TRAILHOUND_STORE")
            .arg("--store")
            .arg(crashed.path())
            .arg("ingest")
            .arg(&corpus)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("trailhound starts");
        thread::sleep(clean_duration.mul_f64(point));
        // Child::kill sends SIGKILL on Unix; it fails only if the child already exited.
        let _ = child.kill();
        child.wait().unwrap();

        let run = crashed.run(&["stats", "--format", "json"]);
        assert_eq!(
            run.code,
            Some(0),
            "stats after a kill at {point}:\n{}",
            run.stderr
        );
        let stats: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        interrupted_counts.push(stats["events"].as_u64().unwrap());
        for file in crashed.parquet_files() {
            read_parquet_rows(&file, &["event_id"]);
        }
    }
    let complete = (expected_events + 2) as u64;
    assert!(
        interrupted_counts.iter().any(|&count| count < complete),
        "no kill landed before the end of a run: {interrupted_counts:?}"
    );

    let run = crashed.ingest(&[&corpus]);
    assert_eq!(run.code, Some(0), "resumed ingest failed:\n{}", run.stderr);
    assert_eq!(crashed.stat("events"), clean.stat("events"));
    assert_eq!(crashed.stat("rows"), clean.stat("rows"));
    assert!(
        sorted_ids(&crashed) == clean_ids,
        "event IDs differ from the clean run"
    );
}

#[test]
fn kill_early_store_readable() {
    let store = Store::new();
    store.ingest_ok(&[fixture("containers/records-one-line.json")]);
    let before = store.stats();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trailhound"))
        .env_remove("TRAILHOUND_STORE")
        .arg("--store")
        .arg(store.path())
        .arg("ingest")
        .arg(realdata("invictus-aws"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("trailhound starts");
    thread::sleep(Duration::from_millis(50));
    let _ = child.kill();
    child.wait().unwrap();
    let after = store.stats();
    assert!(after["events"].as_u64() >= before["events"].as_u64());
    store.ingest_ok(&[realdata("invictus-aws")]);
    let expected = distinct_events(&realdata_records("invictus-aws")) + 2;
    assert_eq!(store.stat("events"), expected as u64);
}
