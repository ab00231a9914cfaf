//! The ingest pipeline: discover objects, decode them in parallel, commit
//! their rows and manifest entries to the store in bounded batches.
//!
//! Decoding runs on a rayon pool and hands finished objects to the collecting
//! thread through a bounded channel, so at most `channel capacity + threads`
//! decoded objects wait in memory at once, whatever the size of the input.
//! The collecting thread closes a batch when it passes a row or byte budget,
//! and committing threads write closed batches to the store.
//!
//! S3 objects are listed before the pipeline starts and fetched on a tokio
//! runtime with bounded concurrency; the decoding pool takes them from a
//! channel as they arrive, after the files on disk.

pub mod report;
pub mod summary;

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub use report::Reporter;
pub use summary::IngestSummary;

use crate::decode::{DecodedObject, ObjectKind, decode_object};
use crate::record::EventRow;
use crate::source::layout::LayoutFilter;
use crate::source::s3::{S3Settings, S3Source, S3Url, is_s3_url};
use crate::source::{DiscoveryError, Location, SourceObject, discover};
use crate::store::{ObjectEntry, ObjectStatus, Store, StoreError, StoreWriter};
use crate::time::format_rfc3339;

/// Settings of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Largest object accepted, before and after decompression, in bytes.
    /// Defaults to 1 GiB.
    pub max_object_size: u64,
    /// Commit when the pending batch contains this many rows. Defaults to 50,000.
    pub flush_rows: usize,
    /// Commit when the pending batch contains this many decompressed bytes.
    /// Defaults to 32 MiB.
    pub flush_bytes: u64,
    /// Decoding threads; `None` uses one per core.
    pub threads: Option<usize>,
    /// Accounts, regions and delivery days to read, where a path shows the
    /// CloudTrail layout.
    pub filter: LayoutFilter,
    /// How to reach S3, for `s3://` inputs.
    pub s3: S3Settings,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_object_size: 1 << 30,
            flush_rows: 50_000,
            flush_bytes: 32 << 20,
            threads: None,
            filter: LayoutFilter::default(),
            s3: S3Settings {
                concurrency: crate::source::s3::DEFAULT_CONCURRENCY,
                ..S3Settings::default()
            },
        }
    }
}

/// Errors that stop an ingest as a whole. Errors of single objects are not
/// here: they are reported, counted and recorded in the manifest.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the decoding threads: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    #[error("cannot start the S3 client's runtime: {0}")]
    S3Runtime(std::io::Error),
}

/// The result of reading and decoding one object on a worker thread.
struct ObjectOutcome {
    object: SourceObject,
    sha256: Option<String>,
    bytes_read: u64,
    decoded: Result<DecodedObject, String>,
}

/// Ingests `inputs` (files, folders, `-`, `s3://BUCKET[/PREFIX]`) into the
/// store at `store_root`, creating it if needed.
pub fn ingest(
    store_root: &Path,
    inputs: &[String],
    options: &IngestOptions,
    reporter: &Reporter,
) -> Result<IngestSummary, IngestError> {
    let started = Instant::now();
    let store = Store::open_or_create(store_root)?;
    let writer = StoreWriter::begin(&store)?;
    let manifest = store.manifest()?;
    let latest = manifest.latest_entries();

    let mut summary = IngestSummary {
        removed_leftovers: writer.removed_leftovers,
        ..IngestSummary::default()
    };
    let mut batch = Batch::default();

    // Discovery: unreadable paths are failures recorded like objects.
    let (s3_inputs, disk_inputs): (Vec<String>, Vec<String>) =
        inputs.iter().cloned().partition(|input| is_s3_url(input));
    let (mut objects, mut discovery_errors) = discover(&disk_inputs, Some(store.root()));
    let found_on_disk = objects.len();
    objects.retain(|object| {
        !matches!(object.location, Location::File(_)) || options.filter.keeps_path(&object.uri)
    });
    summary.pruned = (found_on_disk - objects.len()) as u64;
    let s3 = if s3_inputs.is_empty() {
        None
    } else {
        Some(S3Source::new(&options.s3).map_err(IngestError::S3Runtime)?)
    };
    if let Some(s3) = &s3 {
        reporter.watch_s3(std::sync::Arc::clone(s3.counters()));
        for input in &s3_inputs {
            let url = match S3Url::parse(input) {
                Ok(url) => url,
                Err(reason) => {
                    discovery_errors.push(DiscoveryError {
                        uri: input.clone(),
                        reason,
                    });
                    continue;
                }
            };
            reporter.stage(&format!("listing {input}"));
            let (listed, errors) = s3.list(&url, &options.filter);
            if listed.is_empty() && errors.is_empty() {
                reporter.warn(
                    input,
                    "no objects found; check the prefix, --account, --region, --since and --until",
                );
            }
            let totals = s3.counters().totals();
            reporter.info(&format!(
                "listed {input}: {} objects so far ({}) in {} ListObjectsV2 requests",
                totals.listed_objects,
                report::human_bytes(totals.listed_bytes),
                totals.list_requests
            ));
            objects.extend(listed);
            discovery_errors.extend(errors);
        }
    }
    summary.objects_found = (objects.len() + discovery_errors.len()) as u64;
    for error in discovery_errors {
        reporter.error(&error.uri, &error.reason);
        summary.failed += 1;
        summary.failed_objects.push(error.uri.clone());
        batch
            .entries
            .push(failed_entry(&error.uri, None, None, &error.reason));
    }

    // Unchanged objects are skipped without being read.
    let mut to_read = Vec::with_capacity(objects.len());
    for object in objects {
        // S3 objects are identified by size and ETag, files by size and
        // modification time.
        let unchanged = latest.get(object.uri.as_str()).is_some_and(|entry| {
            let same_version = match &object.etag {
                Some(etag) => entry.etag.as_ref() == Some(etag),
                None => object.modified.is_some() && entry.modified == object.modified,
            };
            entry.status.is_final()
                && object.size.is_some()
                && entry.size == object.size
                && same_version
        });
        if unchanged {
            summary.skipped_unchanged += 1;
        } else {
            to_read.push(object);
        }
    }
    reporter.set_total(to_read.len() as u64);
    let (to_fetch, to_read): (Vec<SourceObject>, Vec<SourceObject>) = to_read
        .into_iter()
        .partition(|object| matches!(object.location, Location::S3 { .. }));
    let fetched = s3
        .as_ref()
        .map(|s3| s3.fetch_all(to_fetch, options.max_object_size));

    let mut known_content: HashMap<String, ObjectEntry> = HashMap::new();
    for entry in latest.values() {
        if let Some(sha) = &entry.sha256
            && matches!(
                entry.status,
                ObjectStatus::Ingested | ObjectStatus::Partial | ObjectStatus::Digest
            )
        {
            known_content.insert(sha.clone(), (*entry).clone());
        }
    }
    let threads = options.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("decode-{index}"))
        .build()?;
    let channel_capacity = pool.current_num_threads() * 2;
    let (object_sender, object_receiver) =
        crossbeam_channel::bounded::<ObjectOutcome>(channel_capacity);
    // A full batch waits until a committing thread takes it, so memory contains
    // at most one batch per committing thread plus the one being filled.
    let commit_threads = pool.current_num_threads();
    let (batch_sender, batch_receiver) = crossbeam_channel::bounded::<Batch>(0);
    let max_object_size = options.max_object_size;

    let mut context = CommitContext {
        batch_sender,
        options,
        reporter,
        summary: &mut summary,
        batch,
        known_content,
        seen_events: HashSet::default(),
    };

    let commit_result = std::thread::scope(|scope| {
        scope.spawn(move || {
            pool.install(|| {
                to_read
                    .into_par_iter()
                    .for_each_with(object_sender.clone(), |sender, object| {
                        let outcome = read_and_decode(object, max_object_size);
                        // The receiver only disappears when committing failed;
                        // the remaining objects are then abandoned.
                        let _ = sender.send(outcome);
                    });
                if let Some(mut fetched) = fetched {
                    let _ = std::iter::from_fn(|| fetched.blocking_recv())
                        .par_bridge()
                        .try_for_each_with(object_sender, |sender, (object, bytes)| {
                            // A failed send means committing failed: stopping
                            // here drops the channel, which stops the fetching.
                            sender
                                .send(decode_bytes(object, bytes, max_object_size))
                                .map_err(|_| ())
                        });
                }
            });
        });
        // Encoding Parquet costs about as much CPU as decoding, so batches are
        // committed on as many threads as decode.
        let mut committers = Vec::with_capacity(commit_threads);
        for index in 0..commit_threads {
            let batch_receiver = batch_receiver.clone();
            let writer = &writer;
            let committer = std::thread::Builder::new()
                .name(format!("commit-{index}"))
                .spawn_scoped(scope, move || -> Result<(), StoreError> {
                    for batch in batch_receiver {
                        writer.commit(batch.rows, batch.entries)?;
                    }
                    Ok(())
                })
                .map_err(|source| StoreError::Io {
                    path: std::path::PathBuf::from("commit thread"),
                    source,
                })?;
            committers.push(committer);
        }
        drop(batch_receiver);

        let accepted = (|| {
            for outcome in object_receiver.iter() {
                context.accept(outcome)?;
            }
            context.flush()
        })();
        // Dropping the receiver makes pending sends fail, so the workers stop
        // instead of waiting forever when committing failed. Dropping the
        // context closes the batch channel, which ends the committers.
        drop(object_receiver);
        drop(context);
        let mut committed = Ok(());
        for committer in committers {
            let result = committer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            committed = committed.and(result);
        }
        committed.and(accepted)
    });

    commit_result?;
    summary.s3 = s3.map(|s3| s3.counters().totals());
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Reads one object, hashes it and decodes it. Runs on a worker thread.
fn read_and_decode(object: SourceObject, max_object_size: u64) -> ObjectOutcome {
    let bytes = object.read(max_object_size).map_err(|err| err.to_string());
    decode_bytes(object, bytes, max_object_size)
}

/// Hashes and decodes the bytes of one object, read from disk or fetched.
fn decode_bytes(
    object: SourceObject,
    bytes: Result<Vec<u8>, String>,
    max_object_size: u64,
) -> ObjectOutcome {
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(reason) => {
            return ObjectOutcome {
                object,
                sha256: None,
                bytes_read: 0,
                decoded: Err(reason),
            };
        }
    };
    let sha256 = hex(&Sha256::digest(&bytes));
    let source_uri = match object.location {
        Location::Stdin => stdin_uri(&sha256),
        Location::File(_) | Location::S3 { .. } => object.uri.clone(),
    };
    let decoded =
        decode_object(&bytes, &source_uri, max_object_size).map_err(|err| err.to_string());
    let object = SourceObject {
        uri: source_uri,
        ..object
    };
    ObjectOutcome {
        object,
        sha256: Some(sha256),
        bytes_read: bytes.len() as u64,
        decoded,
    }
}

/// Names standard input by its content, so re-reading the same bytes is
/// recognised as the same object.
fn stdin_uri(sha256: &str) -> String {
    format!("stdin:{}", &sha256[..16])
}

/// Rows and manifest entries waiting for the next commit.
#[derive(Default)]
struct Batch {
    /// Rows, one chunk per object, so adding an object never moves the rows
    /// already pending.
    rows: Vec<Vec<EventRow>>,
    row_count: usize,
    entries: Vec<ObjectEntry>,
    bytes: u64,
}

/// The committing side of the pipeline: turns outcomes into entries and rows.
struct CommitContext<'a> {
    /// Channel that takes full batches to the committing threads.
    batch_sender: crossbeam_channel::Sender<Batch>,
    options: &'a IngestOptions,
    reporter: &'a Reporter,
    summary: &'a mut IngestSummary,
    batch: Batch,
    /// Content hashes already stored, to skip copies of the same object.
    known_content: HashMap<String, ObjectEntry>,
    /// Hashes of the dedup keys stored in this run, to count duplicates.
    seen_events: HashSet<u64, BuildHasherDefault<DefaultHasher>>,
}

impl CommitContext<'_> {
    fn accept(&mut self, outcome: ObjectOutcome) -> Result<(), StoreError> {
        let ObjectOutcome {
            object,
            sha256,
            bytes_read,
            decoded,
        } = outcome;
        self.summary.bytes_read += bytes_read;

        let decoded = match decoded {
            Ok(decoded) => decoded,
            Err(reason) => {
                self.reporter.error(&object.uri, &reason);
                self.summary.failed += 1;
                self.summary.failed_objects.push(object.uri.clone());
                self.batch
                    .entries
                    .push(failed_entry(&object.uri, Some(&object), sha256, &reason));
                self.reporter
                    .object_done(self.summary.records, self.summary.bytes_read);
                return self.flush_if_full();
            }
        };
        self.summary.bytes_decompressed += decoded.decompressed_bytes;

        if let Some(sha) = &sha256
            && let Some(previous) = self.known_content.get(sha)
        {
            let entry = if previous.uri == object.uri {
                // Same object, touched but not changed: refresh its identity.
                self.summary.skipped_unchanged += 1;
                ObjectEntry {
                    size: object.size,
                    modified: object.modified.clone(),
                    etag: object.etag.clone(),
                    ingested_at: now(),
                    ..previous.clone()
                }
            } else {
                self.summary.skipped_same_content += 1;
                self.reporter.warn(
                    &object.uri,
                    &format!("skipped: same content as {}", previous.uri),
                );
                let mut entry = base_entry(&object, sha256.clone(), ObjectStatus::Skipped);
                entry.error = Some(format!("same content as {}", previous.uri));
                entry
            };
            self.batch.entries.push(entry);
            self.reporter
                .object_done(self.summary.records, self.summary.bytes_read);
            return self.flush_if_full();
        }

        let entry = self.record_object(&object, sha256.clone(), decoded);
        if let Some(sha) = sha256
            && matches!(
                entry.status,
                ObjectStatus::Ingested | ObjectStatus::Partial | ObjectStatus::Digest
            )
        {
            self.known_content.insert(sha, entry.clone());
        }
        self.batch.entries.push(entry);
        self.reporter
            .object_done(self.summary.records, self.summary.bytes_read);
        self.flush_if_full()
    }

    /// Builds the manifest entry of a decoded object, reports its problems and
    /// moves its rows into the batch.
    fn record_object(
        &mut self,
        object: &SourceObject,
        sha256: Option<String>,
        decoded: DecodedObject,
    ) -> ObjectEntry {
        for note in &decoded.notes {
            self.reporter.warn(&object.uri, note);
        }
        let rows = decoded.rows.len() as u64;
        // A damaged gzip stream that yields nothing (only a header, say) is a
        // failure, not an empty object.
        let damaged = decoded
            .problems
            .iter()
            .any(|problem| problem.location == "gzip");
        let status = match decoded.kind {
            _ if damaged && rows == 0 => ObjectStatus::Failed,
            ObjectKind::Empty | ObjectKind::NotJson => ObjectStatus::Skipped,
            ObjectKind::Digest if rows == 0 => ObjectStatus::Digest,
            _ if decoded.unrecognised && rows == 0 && decoded.digests.is_empty() => {
                ObjectStatus::Skipped
            }
            _ if decoded.problems.is_empty() => ObjectStatus::Ingested,
            _ if rows > 0 => ObjectStatus::Partial,
            _ => ObjectStatus::Failed,
        };

        let mut entry = base_entry(object, sha256, status);
        entry.kind = Some(decoded.kind.as_str().to_string());
        entry.records = rows;
        entry.rejected = decoded.rejected_records;
        entry.notes = decoded.notes.clone();
        entry.digests = decoded.digests;

        let problem_text =
            |problem: &crate::decode::Problem| format!("{}: {}", problem.location, problem.reason);
        match status {
            ObjectStatus::Skipped => {
                self.summary.skipped_not_cloudtrail += 1;
                let reason = match decoded.kind {
                    ObjectKind::Empty => "skipped: empty".to_string(),
                    ObjectKind::NotJson => "skipped: not JSON".to_string(),
                    _ => format!(
                        "skipped: no CloudTrail records ({})",
                        decoded
                            .problems
                            .first()
                            .map(problem_text)
                            .unwrap_or_default()
                    ),
                };
                self.reporter.warn(&object.uri, &reason);
                entry.error = Some(reason);
            }
            ObjectStatus::Digest => self.summary.digests += 1,
            ObjectStatus::Ingested => self.summary.ingested += 1,
            ObjectStatus::Partial | ObjectStatus::Failed => {
                if status == ObjectStatus::Partial {
                    self.summary.partial += 1;
                } else {
                    self.summary.failed += 1;
                    self.summary.failed_objects.push(object.uri.clone());
                }
                for problem in decoded.problems.iter().take(report::MAX_PROBLEMS_SHOWN) {
                    self.reporter.error(&object.uri, &problem_text(problem));
                }
                let hidden = decoded
                    .problems
                    .len()
                    .saturating_sub(report::MAX_PROBLEMS_SHOWN);
                if hidden > 0 {
                    self.reporter
                        .error(&object.uri, &format!("{hidden} more problems not shown"));
                }
                entry.error = Some(format!(
                    "{} problems; first: {}",
                    decoded.problems.len(),
                    decoded
                        .problems
                        .first()
                        .map(problem_text)
                        .unwrap_or_default()
                ));
            }
        }
        self.summary.rejected_records += decoded.rejected_records;

        let mut first = None;
        let mut last = None;
        for row in &decoded.rows {
            if let Some(time) = row.event_time {
                first = Some(first.map_or(time, |first: i64| first.min(time)));
                last = Some(last.map_or(time, |last: i64| last.max(time)));
                self.summary.see_time(time);
            }
            if let Some(key) = &row.dedup_key {
                let hash = self.seen_events.hasher().hash_one(key);
                if !self.seen_events.insert(hash) {
                    self.summary.duplicates += 1;
                }
            }
        }
        entry.first_event_time = first.map(format_rfc3339);
        entry.last_event_time = last.map(format_rfc3339);

        self.summary.records += rows;
        self.batch.bytes += decoded.decompressed_bytes;
        self.batch.row_count += decoded.rows.len();
        if !decoded.rows.is_empty() {
            self.batch.rows.push(decoded.rows);
        }
        entry
    }

    fn flush_if_full(&mut self) -> Result<(), StoreError> {
        if self.batch.rows.len() >= self.options.flush_rows
            || self.batch.bytes >= self.options.flush_bytes
        {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the pending batch to a committing thread. Fails only when the
    /// committing threads have stopped, and their error is then the one reported.
    fn flush(&mut self) -> Result<(), StoreError> {
        let batch = std::mem::take(&mut self.batch);
        if batch.rows.is_empty() && batch.entries.is_empty() {
            return Ok(());
        }
        self.batch_sender.send(batch).map_err(|_| StoreError::Io {
            path: std::path::PathBuf::from("store"),
            source: std::io::Error::other("the committing threads stopped"),
        })
    }
}

fn base_entry(object: &SourceObject, sha256: Option<String>, status: ObjectStatus) -> ObjectEntry {
    let (bucket, key) = s3_location(Some(object));
    ObjectEntry {
        uri: object.uri.clone(),
        size: object.size,
        modified: object.modified.clone(),
        etag: object.etag.clone(),
        bucket,
        key,
        sha256,
        status,
        kind: None,
        records: 0,
        rejected: 0,
        first_event_time: None,
        last_event_time: None,
        error: None,
        notes: Vec::new(),
        digests: Vec::new(),
        ingested_at: now(),
    }
}

fn failed_entry(
    uri: &str,
    object: Option<&SourceObject>,
    sha256: Option<String>,
    reason: &str,
) -> ObjectEntry {
    let (bucket, key) = s3_location(object);
    ObjectEntry {
        uri: uri.to_string(),
        size: object.and_then(|object| object.size),
        modified: object.and_then(|object| object.modified.clone()),
        etag: object.and_then(|object| object.etag.clone()),
        bucket,
        key,
        sha256,
        status: ObjectStatus::Failed,
        kind: None,
        records: 0,
        rejected: 0,
        first_event_time: None,
        last_event_time: None,
        error: Some(reason.to_string()),
        notes: Vec::new(),
        digests: Vec::new(),
        ingested_at: now(),
    }
}

/// Returns the bucket and key of an S3 object, for its manifest entry.
fn s3_location(object: Option<&SourceObject>) -> (Option<String>, Option<String>) {
    match object.map(|object| &object.location) {
        Some(Location::S3 { bucket, key }) => (Some(bucket.clone()), Some(key.clone())),
        _ => (None, None),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
