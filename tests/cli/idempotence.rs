//! Re-running an ingest changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::common::*;

/// Maps each data file, relative to the store, to the SHA-256 of its bytes.
fn data_files(store: &Store) -> BTreeMap<PathBuf, String> {
    store
        .parquet_files()
        .into_iter()
        .map(|file| {
            let digest = sha256_hex(&fs::read(&file).unwrap());
            (
                file.strip_prefix(store.path()).unwrap().to_path_buf(),
                digest,
            )
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn same_stats_twice() {
    let store = Store::new();
    store.ingest_ok(&[realdata("invictus-aws")]);
    let first = store.stats();
    store.ingest_ok(&[realdata("invictus-aws")]);
    assert_eq!(store.stats(), first);
}

#[test]
fn same_files_twice() {
    let store = Store::new();
    store.ingest_ok(&[realdata("invictus-aws")]);
    let first = data_files(&store);
    assert!(!first.is_empty(), "ingest wrote no data files");
    store.ingest_ok(&[realdata("invictus-aws")]);
    assert_eq!(data_files(&store), first);
}

#[test]
fn same_files_after_touch() {
    let store = Store::new();
    let copy = store.scratch("logs");
    copy_dir(&realdata("invictus-aws"), &copy);
    store.ingest_ok(&[&copy]);
    let stats = store.stats();
    let files = data_files(&store);
    let later = SystemTime::now() + Duration::from_secs(3600);
    for file in json_files(&copy) {
        fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(later)
            .unwrap();
    }
    store.ingest_ok(&[&copy]);
    assert_eq!(store.stats(), stats);
    assert_eq!(data_files(&store), files);
}

#[test]
fn fixtures_twice() {
    let inputs = [
        fixture("containers"),
        fixture("duplicates"),
        fixture("compression/multi-member-split.json.gz"),
    ];
    let store = Store::new();
    store.ingest_ok(&inputs);
    let stats = store.stats();
    let files = data_files(&store);
    store.ingest_ok(&inputs);
    assert_eq!(store.stats(), stats);
    assert_eq!(data_files(&store), files);
}

#[test]
fn changed_file_reingested() {
    let store = Store::new();
    let dir = store.scratch("logs");
    let path = dir.join("log.json");
    fs::copy(fixture("duplicates/across-files-a.json"), &path).unwrap();
    store.ingest_ok(&[&path]);
    fs::copy(fixture("duplicates/across-files-b.json"), &path).unwrap();
    store.ingest_ok(&[&path]);
    let mut records = records_of(&read_json(&fixture("duplicates/across-files-a.json")));
    records.extend(records_of(&read_json(&fixture(
        "duplicates/across-files-b.json",
    ))));
    assert_eq!(store.event_ids(), ids_of(&records));
}

#[test]
fn stdin_twice() {
    let input = fs::read(fixture("containers/records-one-line.json")).unwrap();
    let store = Store::new();
    let first = store.ingest_stdin(input.clone());
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let stats = store.stats();
    let files = data_files(&store);
    let second = store.ingest_stdin(input);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_eq!(store.stats(), stats);
    assert_eq!(data_files(&store), files);
}

#[test]
fn partial_object_twice() {
    let path = fixture("compression/truncated-records.json.gz");
    let store = Store::new();
    store.ingest(&[&path]);
    let stats = store.stats();
    let files = data_files(&store);
    store.ingest(&[&path]);
    assert_eq!(store.stats(), stats);
    assert_eq!(data_files(&store), files);
}
