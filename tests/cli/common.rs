//! Helpers shared by the CLI tests.
//!
//! Every test runs the real `trailhound` binary against its own temporary
//! store. Expected values come from the input files, read here with
//! serde_json and flate2, never from trailhound's own output.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command;
use polars::prelude::*;
use serde_json::Value;
use serde_json::value::RawValue;
use tempfile::TempDir;

/// Upper bound for one trailhound run, so a hang fails the test instead of
/// blocking the suite. Debug builds ingest the 100 MB input in well under it.
const RUN_TIMEOUT: Duration = Duration::from_secs(900);

/// Columns that every row of `timeline --format jsonl` must carry.
pub const JSONL_COLUMNS: [&str; 11] = [
    "event_time",
    "event_id",
    "event_source",
    "event_name",
    "aws_region",
    "source_ip",
    "user_agent",
    "error_code",
    "principal_arn",
    "access_key_id",
    "recipient_account_id",
];

pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

pub fn realdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/realdata")
        .join(relative)
}

/// Builds a command for the binary with no store taken from the environment.
pub fn trailhound() -> Command {
    let mut command = Command::cargo_bin("trailhound").expect("trailhound binary is built");
    command.env_remove("TRAILHOUND_STORE");
    command.env("NO_COLOR", "1");
    command.timeout(RUN_TIMEOUT);
    command
}

/// Exit code and decoded output of one finished run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_command(command: &mut Command) -> Run {
        let output = command.output().expect("trailhound starts");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Parses stdout as JSON lines, one object per non-empty line.
    pub fn jsonl(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("invalid JSON line {line:?}: {error}"))
            })
            .collect()
    }
}

/// A store directory inside a temporary directory that is removed on drop.
pub struct Store {
    dir: TempDir,
    path: PathBuf,
}

impl Store {
    /// Creates a store path that does not exist yet: ingest must create it.
    pub fn new() -> Store {
        let dir = tempfile::Builder::new()
            .prefix("trailhound-cli-")
            .tempdir()
            .expect("temporary directory");
        let path = dir.path().join("store");
        Store { dir, path }
    }

    /// Creates a store under the Cargo target directory that is never removed.
    /// Shared stores live in statics, which Rust does not drop at exit.
    fn kept() -> Store {
        remove_stale_shared_stores();
        let dir = tempfile::Builder::new()
            .prefix("trailhound-cli-shared-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temporary directory");
        let path = dir.path().join("store");
        Store { dir, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns a scratch directory next to the store for generated inputs.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        fs::create_dir_all(&dir).expect("scratch directory");
        dir
    }

    pub fn command(&self) -> Command {
        let mut command = trailhound();
        command.arg("--store").arg(&self.path);
        command
    }

    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        Run::from_command(self.command().args(args))
    }

    pub fn ingest<P: AsRef<OsStr>>(&self, paths: &[P]) -> Run {
        Run::from_command(self.command().arg("ingest").args(paths))
    }

    pub fn ingest_with<S: AsRef<OsStr>, P: AsRef<OsStr>>(&self, options: &[S], paths: &[P]) -> Run {
        Run::from_command(self.command().arg("ingest").args(options).args(paths))
    }

    /// Ingests and fails the test unless the run exits with 0.
    pub fn ingest_ok<P: AsRef<OsStr>>(&self, paths: &[P]) -> Run {
        let run = self.ingest(paths);
        assert_eq!(run.code, Some(0), "ingest failed:\n{}", run.stderr);
        run
    }

    pub fn ingest_stdin(&self, input: Vec<u8>) -> Run {
        Run::from_command(self.command().args(["ingest", "-"]).write_stdin(input))
    }

    /// Returns `stats --format json`, failing the test unless it exits with 0.
    pub fn stats(&self) -> Value {
        let run = self.run(&["stats", "--format", "json"]);
        assert_eq!(run.code, Some(0), "stats failed:\n{}", run.stderr);
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("stats output is not JSON ({error}):\n{}", run.stdout))
    }

    pub fn stat(&self, key: &str) -> u64 {
        let stats = self.stats();
        stats[key]
            .as_u64()
            .unwrap_or_else(|| panic!("stats key {key} is not a count: {stats}"))
    }

    /// Runs `timeline --format jsonl` with extra arguments.
    pub fn timeline<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        Run::from_command(
            self.command()
                .args(["timeline", "--format", "jsonl"])
                .args(args),
        )
    }

    /// Returns the timeline rows, failing the test unless the run exits with 0.
    pub fn timeline_rows<S: AsRef<OsStr>>(&self, args: &[S]) -> Vec<Value> {
        let run = self.timeline(args);
        assert_eq!(run.code, Some(0), "timeline failed:\n{}", run.stderr);
        run.jsonl()
    }

    /// Returns the event IDs of the unfiltered timeline, in output order.
    pub fn timeline_ids(&self) -> Vec<String> {
        self.timeline_rows::<&str>(&[])
            .iter()
            .map(|row| text(&row["event_id"]))
            .collect()
    }

    /// Returns the distinct event IDs in the store, failing on repeated rows.
    pub fn event_ids(&self) -> BTreeSet<String> {
        let ids = self.timeline_ids();
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(unique.len(), ids.len(), "timeline repeats an event_id");
        unique
    }

    /// Returns the timeline rows keyed by event ID.
    pub fn timeline_by_id(&self) -> BTreeMap<String, Value> {
        self.timeline_rows::<&str>(&[])
            .into_iter()
            .map(|row| (text(&row["event_id"]), row))
            .collect()
    }

    pub fn parquet_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        collect_files(&self.path.join("events"), &mut files);
        files.retain(|path| path.extension() == Some(OsStr::new("parquet")));
        files.sort();
        files
    }

    /// Reads the named columns of every stored row as text, one map per row.
    pub fn rows(&self, columns: &[&str]) -> Vec<BTreeMap<String, Option<String>>> {
        let mut rows = Vec::new();
        for file in self.parquet_files() {
            rows.extend(read_parquet_rows(&file, columns));
        }
        rows
    }

    /// Maps event ID to the named columns of its stored row.
    /// Fails when one event ID has rows in several accounts or copies.
    pub fn rows_by_id(
        &self,
        columns: &[&str],
    ) -> BTreeMap<String, BTreeMap<String, Option<String>>> {
        let mut with_id = vec!["event_id"];
        with_id.extend_from_slice(columns);
        let mut by_id = BTreeMap::new();
        for row in self.rows(&with_id) {
            let id = row["event_id"].clone().expect("event_id is set");
            let previous = by_id.insert(id.clone(), row);
            assert!(previous.is_none(), "event {id} is stored twice");
        }
        by_id
    }
}

/// Returns a store containing all of invictus-aws, built once per test binary.
pub fn invictus_store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = Store::kept();
        store.ingest_ok(&[realdata("invictus-aws")]);
        store
    })
}

/// Removes shared stores that earlier test runs left behind. Only stores
/// older than an hour go, so a test binary running in parallel keeps its own.
fn remove_stale_shared_stores() {
    let Ok(entries) = fs::read_dir(env!("CARGO_TARGET_TMPDIR")) else {
        return;
    };
    for entry in entries.flatten() {
        let is_shared = entry
            .file_name()
            .to_string_lossy()
            .starts_with("trailhound-cli-shared-");
        let age = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok());
        if is_shared && age.is_some_and(|age| age > Duration::from_secs(3600)) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

pub fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

pub fn read_parquet_rows(file: &Path, columns: &[&str]) -> Vec<BTreeMap<String, Option<String>>> {
    let handle = fs::File::open(file).expect("parquet file opens");
    let frame = ParquetReader::new(handle)
        .finish()
        .unwrap_or_else(|error| panic!("{} is not readable Parquet: {error}", file.display()));
    let mut values: Vec<Vec<Option<String>>> = Vec::new();
    for name in columns {
        let column = frame
            .column(name)
            .unwrap_or_else(|_| panic!("{} has no column {name}", file.display()));
        let as_text = column
            .cast(&DataType::String)
            .expect("column casts to text");
        let strings = as_text.str().expect("text column");
        values.push(strings.iter().map(|v| v.map(str::to_owned)).collect());
    }
    (0..frame.height())
        .map(|i| {
            columns
                .iter()
                .zip(&values)
                .map(|(name, column)| (name.to_string(), column[i].clone()))
                .collect()
        })
        .collect()
}

/// Returns the schema of one Parquet file as column name to data type.
pub fn parquet_schema(file: &Path) -> BTreeMap<String, DataType> {
    let handle = fs::File::open(file).expect("parquet file opens");
    let frame = ParquetReader::new(handle)
        .with_slice(Some((0, 1)))
        .finish()
        .expect("readable Parquet");
    frame
        .schema()
        .iter()
        .map(|(name, dtype)| (name.to_string(), dtype.clone()))
        .collect()
}

/// Returns a JSON string value, panicking on anything else.
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a JSON string, got {value}"))
        .to_owned()
}

/// Returns a JSON string value as Some, and null or a missing key as None.
pub fn opt_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        other => Some(text(other)),
    }
}

// The oracle below decodes gzip with flate2 directly instead of through
// trailhound's capped reader, so the expected values do not depend on the code
// under test. The fixtures are small and committed, so no cap is needed.

/// Decompresses every gzip member of `bytes`.
#[allow(
    clippy::disallowed_types,
    reason = "test oracle, independent of trailhound"
)]
pub fn gunzip_all(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// Decompresses the first gzip member of `bytes` as far as it can be read.
/// Returns the output and whether the member ended cleanly.
#[allow(
    clippy::disallowed_types,
    reason = "test oracle, independent of trailhound"
)]
pub fn gunzip_first_member(bytes: &[u8]) -> (Vec<u8>, std::io::Result<usize>) {
    let mut out = Vec::new();
    let result = flate2::read::GzDecoder::new(bytes).read_to_end(&mut out);
    (out, result)
}

/// Reads a file, decompressing every gzip member when it starts with the gzip magic.
pub fn read_maybe_gzip(path: &Path) -> Vec<u8> {
    let bytes = fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    if bytes.starts_with(&[0x1f, 0x8b]) {
        gunzip_all(&bytes).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    } else {
        bytes
    }
}

/// Removes a leading UTF-8 byte order mark.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

pub fn read_json(path: &Path) -> Value {
    let bytes = read_maybe_gzip(path);
    let text = String::from_utf8(bytes).expect("UTF-8");
    serde_json::from_str(strip_bom(&text))
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Returns the lines of a JSON-lines file, without the BOM.
pub fn read_lines(path: &Path) -> Vec<String> {
    let text = String::from_utf8(read_maybe_gzip(path)).expect("UTF-8");
    strip_bom(&text)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads every line of a JSON-lines file as one record.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    read_lines(path)
        .iter()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect()
}

/// Returns the records of a `{"Records":[...]}` document or a bare array.
pub fn records_of(document: &Value) -> Vec<Value> {
    match document {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map
            .get("Records")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| panic!("no Records array in {document}")),
        other => panic!("not a record container: {other}"),
    }
}

/// Returns the original JSON text of each record in a Records document or array.
pub fn raw_records(text: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Batch<'a> {
        #[serde(borrow, rename = "Records")]
        records: Vec<&'a RawValue>,
    }
    let text = strip_bom(text).trim();
    let raws: Vec<&RawValue> = if text.starts_with('[') {
        serde_json::from_str(text).expect("JSON array")
    } else {
        serde_json::from_str::<Batch>(text)
            .expect("Records document")
            .records
    };
    raws.iter().map(|raw| raw.get().to_owned()).collect()
}

/// Returns the event ID of a record: `eventID`, or `eventId` for aggregated events.
pub fn event_id(record: &Value) -> String {
    let id = record.get("eventID").or_else(|| record.get("eventId"));
    text(id.unwrap_or_else(|| panic!("record without event ID: {record}")))
}

/// Returns the account that received a record: `recipientAccountId`, or `accountId`
/// for aggregated events.
pub fn recipient_account(record: &Value) -> Option<String> {
    let account = record
        .get("recipientAccountId")
        .or_else(|| record.get("accountId"));
    account.and_then(|value| value.as_str().map(str::to_owned))
}

pub fn ids_of(records: &[Value]) -> BTreeSet<String> {
    records.iter().map(event_id).collect()
}

/// Counts distinct (recipient account, event ID) pairs, the store's notion of one event.
pub fn distinct_events(records: &[Value]) -> usize {
    records
        .iter()
        .map(|record| (recipient_account(record), event_id(record)))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Lists the `.json` files directly or indirectly under a realdata folder.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    files.retain(|path| path.extension() == Some(OsStr::new("json")));
    files.sort();
    files
}

/// Reads every record of the `.json` files under a realdata folder.
pub fn realdata_records(folder: &str) -> Vec<Value> {
    json_files(&realdata(folder))
        .iter()
        .flat_map(|file| records_of(&read_json(file)))
        .collect()
}

/// Returns the string at a JSON pointer, or None when it is missing or not a string.
pub fn pointer_text(record: &Value, pointer: &str) -> Option<String> {
    record
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Parses a JSON-text column; a null cell and the text `null` both mean JSON null.
pub fn json_cell(cell: &Option<String>) -> Value {
    match cell {
        None => Value::Null,
        Some(text) => serde_json::from_str(text)
            .unwrap_or_else(|error| panic!("column is not JSON text ({error}): {text:?}")),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
