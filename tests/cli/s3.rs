//! `ingest s3://…` against an s3s-fs server on 127.0.0.1, through a proxy
//! that records requests and injects faults. Expected objects and events are
//! counted from the uploaded files with serde_json.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{
    Run, Store, collect_files, event_id, parquet_schema, read_json, read_maybe_gzip,
    recipient_account, records_of,
};
use crate::s3_support::{BUCKET, Fault, S3Lab};

/// The parts of a key in the CloudTrail layout, parsed here independently of
/// trailhound's parser.
#[derive(Debug, Clone)]
struct KeyParts {
    account: String,
    service: String,
    region: String,
    day: String,
}

fn key_parts(key: &str) -> Option<KeyParts> {
    let segments: Vec<&str> = key.split('/').collect();
    let start = segments.iter().rposition(|segment| *segment == "AWSLogs")? + 1;
    let mut rest = &segments[start..];
    if rest.first()?.starts_with("o-") {
        rest = &rest[1..];
    }
    if rest.len() < 7 {
        return None;
    }
    Some(KeyParts {
        account: rest[0].to_string(),
        service: rest[1].to_string(),
        region: rest[2].to_string(),
        day: format!("{}-{}-{}", rest[3], rest[4], rest[5]),
    })
}

/// Keys of every file under `dir`, relative to it, with `/` separators.
fn keys_under(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    files
        .into_iter()
        .map(|path| {
            let key = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (key, path)
        })
        .collect()
}

/// Reads the records of a log file. Digest files have none.
fn file_records(path: &Path, key: &str) -> Vec<Value> {
    if key.contains("/CloudTrail-Digest/") {
        return Vec::new();
    }
    let bytes = read_maybe_gzip(path);
    records_of(&serde_json::from_slice(&bytes).unwrap())
}

/// Latest manifest entry of each object URI.
fn manifest_entries(store: &Path) -> BTreeMap<String, Value> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(store.join("manifest"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("segment-") && name.ends_with(".json")
        })
        .collect();
    names.sort();
    let mut entries = BTreeMap::new();
    for path in names {
        let segment = read_json(&path);
        for object in segment["objects"].as_array().unwrap() {
            entries.insert(object["uri"].as_str().unwrap().to_string(), object.clone());
        }
    }
    entries
}

fn s3_uri(key: &str) -> String {
    format!("s3://{BUCKET}/{key}")
}

fn run(command: &mut Command) -> Run {
    Run::from_command(command)
}

/// Rows of a store as sorted text maps, without the provenance column.
fn store_rows(store: &Store) -> Vec<BTreeMap<String, Option<String>>> {
    let files = store.parquet_files();
    assert!(!files.is_empty(), "the store has no Parquet files");
    let schema = parquet_schema(&files[0]);
    let columns: Vec<&str> = schema
        .keys()
        .map(String::as_str)
        .filter(|column| *column != "source_uri")
        .collect();
    let mut rows = store.rows(&columns);
    rows.sort();
    rows
}

#[test]
fn pruned_org_listing_reads_only_matching_objects() {
    let lab = S3Lab::start();
    // Two accounts, two regions (a GovCloud one) and seven day folders
    // (2025-02-28 to 2025-03-05, and the spill-over into 2025-03-06).
    let generated = Command::cargo_bin("trailhound-corpus")
        .unwrap()
        .args([
            "--size",
            "10MB",
            "--seed",
            "11",
            "--accounts",
            "2",
            "--regions",
            "us-east-1,us-gov-west-1",
            "--start",
            "2025-02-28",
            "--days",
            "6",
            "--org-id",
            "o-a1b2c3d4e5",
            "--prefix",
            "org/trail",
        ])
        .arg("--out")
        .arg(lab.bucket_dir())
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );

    let all_keys = keys_under(&lab.bucket_dir());
    let accounts: BTreeSet<String> = all_keys
        .keys()
        .filter_map(|key| key_parts(key))
        .map(|parts| parts.account)
        .collect();
    assert_eq!(accounts.len(), 2, "accounts generated: {accounts:?}");
    let account = accounts.iter().next().unwrap().clone();
    let region = "us-gov-west-1";

    // --since 2025-03-01 --until 2025-03-04 reads the folders of 03-01 to
    // 03-05: the day after --until contains files delivered after midnight.
    let kept_days = [
        "2025-03-01",
        "2025-03-02",
        "2025-03-03",
        "2025-03-04",
        "2025-03-05",
    ];
    let expected: BTreeMap<&String, &PathBuf> = all_keys
        .iter()
        .filter(|(key, _)| {
            key_parts(key).is_some_and(|parts| {
                parts.account == account
                    && parts.region == region
                    && parts.service.starts_with("CloudTrail")
                    && kept_days.contains(&parts.day.as_str())
            })
        })
        .collect();
    let log_keys_in_one_listing = expected
        .keys()
        .filter(|key| key.contains("/CloudTrail/"))
        .count();
    assert!(
        log_keys_in_one_listing > 1000,
        "the region folder must need more than one page, has {log_keys_in_one_listing}"
    );
    assert!(all_keys.len() > expected.len() * 3);

    let mut expected_rows = 0usize;
    let mut expected_events = BTreeSet::new();
    for (key, path) in &expected {
        for record in file_records(path, key) {
            expected_rows += 1;
            expected_events.insert((recipient_account(&record), event_id(&record)));
        }
    }

    let store = Store::new();
    let result = run(lab
        .command(store.path())
        .args(["--since", "2025-03-01", "--until", "2025-03-04"])
        .args(["--account", &account, "--region", region])
        .arg(format!("s3://{BUCKET}/org/trail")));
    assert_eq!(result.code, Some(0), "{}", result.stderr);

    // The objects read are exactly the expected ones, each fetched once.
    let requests = lab.take_requests();
    let fetched: Vec<String> = requests
        .iter()
        .filter_map(|request| request.object_key())
        .collect();
    let fetched_set: BTreeSet<&String> = fetched.iter().collect();
    assert_eq!(
        fetched.len(),
        fetched_set.len(),
        "an object was fetched twice"
    );
    let expected_keys: BTreeSet<&String> = expected.keys().copied().collect();
    assert_eq!(fetched_set, expected_keys);
    let entries = manifest_entries(store.path());
    let expected_uris: BTreeSet<String> = expected.keys().map(|key| s3_uri(key)).collect();
    assert_eq!(
        entries.keys().cloned().collect::<BTreeSet<_>>(),
        expected_uris
    );

    // The events stored are the records of those objects.
    assert_eq!(store.stat("rows") as usize, expected_rows);
    assert_eq!(store.stat("events") as usize, expected_events.len());

    // Listing requests stay inside the pruned prefixes.
    let base = "org/trail/AWSLogs/o-a1b2c3d4e5/";
    let account_prefix = format!("{base}{account}/");
    let allowed: BTreeSet<String> = [
        "org/trail/".to_string(),
        "org/trail/AWSLogs/".to_string(),
        base.to_string(),
        account_prefix.clone(),
        format!("{account_prefix}CloudTrail/"),
        format!("{account_prefix}CloudTrail-Digest/"),
        format!("{account_prefix}CloudTrail/{region}/"),
        format!("{account_prefix}CloudTrail-Digest/{region}/"),
    ]
    .into();
    let lists: Vec<_> = requests
        .iter()
        .filter(|request| request.is_list())
        .collect();
    assert!(!lists.is_empty());
    for list in &lists {
        let prefix = list.query("prefix").unwrap_or_default();
        assert!(
            allowed.contains(&prefix),
            "listing outside the pruned prefixes: {}",
            list.target
        );
        if prefix.ends_with(&format!("/{region}/")) && list.query("continuation-token").is_none() {
            assert_eq!(
                list.query("start-after"),
                Some(format!("{prefix}2025/03/01")),
                "region listing starts at the first day"
            );
        }
    }
    assert!(
        lists
            .iter()
            .any(|list| list.query("continuation-token").is_some()),
        "no listing followed a continuation token"
    );
    assert!(result.stderr.contains("ListObjectsV2"), "{}", result.stderr);
}

#[test]
fn s3_and_disk_stores_are_identical() {
    let lab = S3Lab::start();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/bucket");
    lab.upload_dir(&sample, "");

    let from_disk = Store::new();
    from_disk.ingest_ok(&[&sample]);
    let from_s3 = Store::new();
    let result = run(lab
        .command(from_s3.path())
        .arg(format!("s3://{BUCKET}/org-trail")));
    assert_eq!(result.code, Some(0), "{}", result.stderr);

    assert_eq!(from_s3.event_ids(), from_disk.event_ids());
    let disk_rows = store_rows(&from_disk);
    let s3_rows = store_rows(&from_s3);
    assert_eq!(s3_rows.len(), disk_rows.len());
    assert!(
        s3_rows == disk_rows,
        "stored columns differ between S3 and disk ingest"
    );

    // Every S3 object is recorded with its bucket, key, size and ETag.
    let entries = manifest_entries(from_s3.path());
    let keys = keys_under(&lab.bucket_dir());
    assert_eq!(entries.len(), keys.len());
    for (key, path) in &keys {
        let entry = &entries[&s3_uri(key)];
        assert_eq!(entry["bucket"], BUCKET);
        assert_eq!(entry["key"], key.as_str());
        assert_eq!(entry["size"], std::fs::metadata(path).unwrap().len());
        assert!(
            entry["etag"].as_str().is_some_and(|etag| etag.len() > 2),
            "{entry}"
        );
    }
}

#[test]
fn gzip_content_encoding_is_decoded_once() {
    let lab = S3Lab::start();
    let records: Vec<Value> = (0..3)
        .map(|index| {
            serde_json::json!({
                "eventVersion": "1.09",
                "eventTime": format!("2025-01-02T10:0{index}:00Z"),
                "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject",
                "awsRegion": "us-east-1",
                "sourceIPAddress": "203.0.113.9",
                "eventID": format!("00000000-0000-4000-8000-00000000000{index}"),
                "recipientAccountId": "111122223333",
                "userIdentity": {"type": "IAMUser", "accessKeyId": "AKIAEXAMPLEGZIP0001"}
            })
        })
        .collect();
    let document = serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&document).unwrap();
    let gzipped = encoder.finish().unwrap();
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2025/01/02/111122223333_CloudTrail_us-east-1_20250102T1010Z_a.json.gz";
    lab.put(key, gzipped.clone(), Some("gzip"));

    let store = Store::new();
    let result = run(lab.command(store.path()).arg(format!("s3://{BUCKET}/")));
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    assert_eq!(store.stat("rows"), 3);
    let ids: BTreeSet<String> = records.iter().map(event_id).collect();
    assert_eq!(store.event_ids(), ids);
    // The hash recorded is that of the stored (gzipped) bytes.
    let entries = manifest_entries(store.path());
    assert_eq!(
        entries[&s3_uri(key)]["sha256"],
        crate::common::sha256_hex(&gzipped)
    );
}

/// Returns a stable number per key, to spread faults over the objects.
fn key_hash(key: &str) -> usize {
    key.bytes().map(usize::from).sum()
}

#[test]
fn faults_are_retried_and_rerun_fetches_only_failures() {
    let lab = S3Lab::start();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "sample-logs/bucket/org-trail/AWSLogs/o-7k2m9x4q1z/069291026422/CloudTrail/eu-west-1",
    );
    lab.upload_dir(&sample, "AWSLogs/069291026422/CloudTrail/eu-west-1");
    let keys = keys_under(&lab.bucket_dir());
    assert!(keys.len() > 100, "sample folder has {} files", keys.len());
    let poisoned: BTreeSet<String> = keys.keys().skip(7).step_by(97).take(2).cloned().collect();
    assert_eq!(poisoned.len(), 2);

    let mut rows_without_poisoned = 0usize;
    let mut all_rows = 0usize;
    let mut all_ids = BTreeSet::new();
    for (key, path) in &keys {
        let records = file_records(path, key);
        all_rows += records.len();
        if !poisoned.contains(key) {
            rows_without_poisoned += records.len();
        }
        all_ids.extend(records.iter().map(event_id));
    }

    let poisoned_in_schedule = poisoned.clone();
    lab.set_schedule(move |method, target, attempt| {
        let request = crate::s3_support::Request {
            method: method.to_string(),
            target: target.to_string(),
            fault: Fault::Pass,
        };
        if request.is_list() {
            return if attempt == 1 {
                Fault::SlowDown
            } else {
                Fault::Pass
            };
        }
        let Some(key) = request.object_key() else {
            return Fault::Pass;
        };
        if poisoned_in_schedule.contains(&key) {
            return Fault::CutBody;
        }
        match (key_hash(&key) % 5, attempt) {
            (0, 1) => Fault::SlowDown,
            (1, 1) => Fault::InternalError,
            (2, 1) => Fault::Reset,
            (3, 1 | 2) => Fault::CutBody,
            _ => Fault::Pass,
        }
    });

    let store = Store::new();
    let first = run(lab
        .command(store.path())
        .arg(format!("s3://{BUCKET}/AWSLogs/")));
    assert_eq!(first.code, Some(2), "{}", first.stderr);
    let requests = lab.take_requests();
    for fault in [
        Fault::SlowDown,
        Fault::InternalError,
        Fault::Reset,
        Fault::CutBody,
    ] {
        assert!(
            requests.iter().any(|request| request.fault == fault),
            "the schedule never injected {fault:?}"
        );
    }
    // Each unreadable object is named in the summary.
    let summary = first
        .stderr
        .split("ingest finished")
        .nth(1)
        .unwrap_or_default();
    assert!(summary.contains("failed   2 objects"), "{}", first.stderr);
    for key in &poisoned {
        assert!(
            summary.contains(&s3_uri(key)),
            "{key} missing from:\n{summary}"
        );
    }
    // Every other event is stored exactly once.
    assert_eq!(store.stat("rows") as usize, rows_without_poisoned);
    let entries = manifest_entries(store.path());
    for key in keys.keys() {
        let status = entries[&s3_uri(key)]["status"]
            .as_str()
            .unwrap()
            .to_string();
        let expected = if poisoned.contains(key) {
            "failed"
        } else {
            "ingested"
        };
        assert_eq!(status, expected, "{key}");
    }

    // The rerun, with the network repaired, fetches only the failed objects.
    lab.set_schedule(|_, _, _| Fault::Pass);
    let second = run(lab
        .command(store.path())
        .arg(format!("s3://{BUCKET}/AWSLogs/")));
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let fetched: BTreeSet<String> = lab
        .take_requests()
        .iter()
        .filter_map(|request| request.object_key())
        .collect();
    assert_eq!(fetched, poisoned);
    assert_eq!(store.stat("rows") as usize, all_rows);
    assert_eq!(store.event_ids(), all_ids);
}

#[test]
fn rerun_after_kill_fetches_only_uncommitted_objects() {
    let lab = S3Lab::start();
    // About 45 MB of JSON: more than one 32 MiB commit batch, so a kill
    // after the first commit leaves both stored and missing objects.
    let generated = Command::cargo_bin("trailhound-corpus")
        .unwrap()
        .args(["--size", "12MB", "--seed", "5", "--accounts", "1"])
        .args([
            "--regions",
            "us-east-1",
            "--start",
            "2025-05-01",
            "--days",
            "2",
        ])
        .arg("--out")
        .arg(lab.bucket_dir())
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let keys = keys_under(&lab.bucket_dir());
    let mut all_rows = 0usize;
    let mut all_events = BTreeSet::new();
    for (key, path) in &keys {
        for record in file_records(path, key) {
            all_rows += 1;
            all_events.insert((recipient_account(&record), event_id(&record)));
        }
    }

    let store = Store::new();
    let log = store.scratch("log").join("stderr.txt");
    let mut child = lab
        .std_command(store.path())
        .args(["--threads", "2"])
        .arg(format!("s3://{BUCKET}/"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let manifest = store.path().join("manifest");
    let started = std::time::Instant::now();
    let committed = loop {
        let segments = std::fs::read_dir(&manifest)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|entry| entry.file_name().to_string_lossy().starts_with("segment-"))
                    .count()
            })
            .unwrap_or(0);
        if segments > 0 {
            break true;
        }
        if child.try_wait().unwrap().is_some() || started.elapsed().as_secs() > 600 {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert!(
        committed,
        "the run ended before its first commit:\n{}",
        std::fs::read_to_string(&log).unwrap()
    );
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run finished before it was killed");

    let stored: BTreeSet<String> = manifest_entries(store.path()).into_keys().collect();
    assert!(
        !stored.is_empty() && stored.len() < keys.len(),
        "{} of {} stored",
        stored.len(),
        keys.len()
    );
    lab.take_requests();

    let rerun = run(lab.command(store.path()).arg(format!("s3://{BUCKET}/")));
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    let fetched: BTreeSet<String> = lab
        .take_requests()
        .iter()
        .filter_map(|request| request.object_key())
        .map(|key| s3_uri(&key))
        .collect();
    let missing: BTreeSet<String> = keys
        .keys()
        .map(|key| s3_uri(key))
        .filter(|uri| !stored.contains(uri))
        .collect();
    assert_eq!(fetched, missing);
    assert_eq!(store.stat("rows") as usize, all_rows);
    assert_eq!(store.stat("events") as usize, all_events.len());
}

#[test]
fn disk_ingest_prunes_by_layout() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/bucket");
    let files = keys_under(&sample);
    let expected: BTreeMap<&String, &PathBuf> = files
        .iter()
        .filter(|(key, _)| {
            key_parts(key).is_some_and(|parts| {
                parts.account == "069291026422"
                    && parts.region == "eu-west-1"
                    && (parts.day == "2025-09-16" || parts.day == "2025-09-17")
            })
        })
        .collect();
    assert!(!expected.is_empty());
    let expected_rows: usize = expected
        .iter()
        .map(|(key, path)| file_records(path, key).len())
        .sum();

    let store = Store::new();
    let result = store.ingest_with(
        &[
            "--account",
            "069291026422",
            "--region",
            "EU-WEST-1",
            "--since",
            "2025-09-16T08:00:00Z",
            "--until",
            "2025-09-16",
        ],
        &[&sample],
    );
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    let entries = manifest_entries(store.path());
    let stored: BTreeSet<PathBuf> = entries.keys().map(PathBuf::from).collect();
    let expected_paths: BTreeSet<PathBuf> = expected
        .values()
        .map(|path| std::fs::canonicalize(path).unwrap())
        .collect();
    assert_eq!(stored, expected_paths);
    assert_eq!(store.stat("rows") as usize, expected_rows);
    let pruned = files.len() - expected.len();
    assert!(
        result.stderr.contains(&format!("pruned   {pruned} files")),
        "{}",
        result.stderr
    );
}

#[test]
fn invalid_s3_url_is_rejected() {
    let store = Store::new();
    let result = store.ingest(&["s3://Bad_Bucket/logs"]);
    assert_eq!(result.code, Some(2));
    assert!(
        result
            .stderr
            .contains("invalid S3 URL 's3://Bad_Bucket/logs'"),
        "{}",
        result.stderr
    );
    assert!(
        !store.path().exists(),
        "a rejected URL must not create the store"
    );
}

#[test]
fn client_options_reach_the_server() {
    let lab = S3Lab::start();
    let record = serde_json::json!({
        "eventVersion": "1.09",
        "eventTime": "2025-01-02T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.9",
        "eventID": "00000000-0000-4000-8000-0000000000aa",
        "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "accessKeyId": "AKIAEXAMPLEOPTION01"}
    });
    let document = serde_json::to_vec(&serde_json::json!({ "Records": [record] })).unwrap();
    let key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2025/01/02/111122223333_CloudTrail_eu-west-1_20250102T1010Z_b.json";
    lab.put(key, document, None);

    // One fetch at a time, with the bucket's region named explicitly.
    let store = Store::new();
    let result = run(lab
        .command(store.path())
        .args(["--concurrency", "1", "--bucket-region", "eu-west-1"])
        .arg(format!("s3://{BUCKET}/")));
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    assert_eq!(store.stat("events"), 1);

    // The server checks signatures, so it rejects unsigned requests. The run
    // reports the error and exits with 2 instead of reporting an empty bucket.
    let unsigned = Store::new();
    let result = run(lab
        .command(unsigned.path())
        .arg("--no-sign-request")
        .arg(format!("s3://{BUCKET}/")));
    assert_eq!(result.code, Some(2), "{}", result.stderr);
    assert!(result.stderr.contains(BUCKET), "{}", result.stderr);
}
