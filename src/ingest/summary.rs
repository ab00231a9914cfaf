//! The counts of one ingest run and the summary printed at its end.

use std::time::Duration;

use super::report::human_bytes;
use crate::source::s3::S3Totals;
use crate::time::{Micros, format_rfc3339};

/// Counts of one ingest run. Every object found lands in exactly one of
/// `ingested`, `partial`, `failed`, `digests`, `skipped_unchanged`,
/// `skipped_same_content` or `skipped_not_cloudtrail`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestSummary {
    /// Objects found on the inputs (including unreadable paths).
    pub objects_found: u64,
    /// Objects whose records were all stored.
    pub ingested: u64,
    /// Objects stored in part, with the damaged part reported.
    pub partial: u64,
    /// Objects and paths that could not be read at all.
    pub failed: u64,
    /// CloudTrail-Digest files recorded.
    pub digests: u64,
    /// Objects skipped because the manifest already has them unchanged.
    pub skipped_unchanged: u64,
    /// Objects skipped because another object with the same bytes is stored.
    pub skipped_same_content: u64,
    /// Objects skipped because they hold no CloudTrail (not JSON, empty, or
    /// JSON of another kind).
    pub skipped_not_cloudtrail: u64,
    /// Rows stored.
    pub records: u64,
    /// Records that could not be normalised.
    pub rejected_records: u64,
    /// Rows of this run whose event was already stored earlier in this run.
    pub duplicates: u64,
    pub first_event: Option<Micros>,
    pub last_event: Option<Micros>,
    /// Bytes read from the sources (compressed size).
    pub bytes_read: u64,
    /// Bytes after decompression.
    pub bytes_decompressed: u64,
    pub elapsed: Duration,
    /// Leftovers of interrupted runs removed at start.
    pub removed_leftovers: usize,
    /// Files on disk left out by `--since`, `--until`, `--account` or
    /// `--region`, not counted in `objects_found`. S3 objects left out are
    /// never listed, so they are not counted.
    pub pruned: u64,
    /// URIs of the objects and paths counted in `failed`.
    pub failed_objects: Vec<String>,
    /// Listing and fetching counts, when an input was in S3.
    pub s3: Option<S3Totals>,
}

/// Failed objects named in the summary; the errors printed during the run
/// name all of them.
const MAX_FAILED_NAMED: usize = 20;

impl IngestSummary {
    /// Returns true when any object or record failed.
    pub fn had_errors(&self) -> bool {
        self.failed > 0 || self.partial > 0 || self.rejected_records > 0
    }

    /// Widens the event time span to include `time`.
    pub fn see_time(&mut self, time: Micros) {
        self.first_event = Some(self.first_event.map_or(time, |first| first.min(time)));
        self.last_event = Some(self.last_event.map_or(time, |last| last.max(time)));
    }

    /// Returns the summary as lines for standard error.
    pub fn lines(&self) -> Vec<String> {
        let seconds = self.elapsed.as_secs_f64().max(1e-6);
        let skipped =
            self.skipped_unchanged + self.skipped_same_content + self.skipped_not_cloudtrail;
        let mut lines = vec![
            format!("ingest finished in {seconds:.2} s"),
            format!(
                "  objects  {} found: {} read, {} skipped, {} failed",
                self.objects_found,
                self.ingested + self.partial + self.digests,
                skipped,
                self.failed,
            ),
            format!(
                "           read: {} ingested, {} partial, {} digest files",
                self.ingested, self.partial, self.digests
            ),
            format!(
                "           skipped: {} unchanged since the last ingest, {} same content as another object, {} not CloudTrail",
                self.skipped_unchanged, self.skipped_same_content, self.skipped_not_cloudtrail
            ),
            format!(
                "  records  {} stored, {} rejected, {} duplicates of events seen earlier in this run",
                self.records, self.rejected_records, self.duplicates
            ),
        ];
        match (self.first_event, self.last_event) {
            (Some(first), Some(last)) => lines.push(format!(
                "  events   from {} to {}",
                format_rfc3339(first),
                format_rfc3339(last)
            )),
            _ => lines.push("  events   none stored in this run".to_string()),
        }
        lines.push(format!(
            "  speed    {} read, {} decompressed, {:.1} MiB/s compressed, {:.1} MiB/s decompressed, {:.0} records/s",
            human_bytes(self.bytes_read),
            human_bytes(self.bytes_decompressed),
            self.bytes_read as f64 / seconds / 1_048_576.0,
            self.bytes_decompressed as f64 / seconds / 1_048_576.0,
            self.records as f64 / seconds,
        ));
        if let Some(s3) = &self.s3 {
            lines.push(format!(
                "  s3       {} objects ({}) listed in {} ListObjectsV2 requests, {} objects ({}) fetched, {} retries",
                s3.listed_objects,
                human_bytes(s3.listed_bytes),
                s3.list_requests,
                s3.fetched_objects,
                human_bytes(s3.fetched_bytes),
                s3.retries
            ));
        }
        if self.pruned > 0 {
            lines.push(format!(
                "  pruned   {} files outside --since/--until/--account/--region",
                self.pruned
            ));
        }
        if !self.failed_objects.is_empty() {
            lines.push(format!(
                "  failed   {} objects could not be read; rerun the ingest to retry them:",
                self.failed_objects.len()
            ));
            for uri in self.failed_objects.iter().take(MAX_FAILED_NAMED) {
                lines.push(format!("           {uri}"));
            }
            let hidden = self.failed_objects.len().saturating_sub(MAX_FAILED_NAMED);
            if hidden > 0 {
                lines.push(format!(
                    "           and {hidden} more, named in the errors above"
                ));
            }
        }
        if self.removed_leftovers > 0 {
            lines.push(format!(
                "  recovery {} leftover files of an interrupted ingest were removed",
                self.removed_leftovers
            ));
        }
        lines
    }
}
