//! A generator of realistic CloudTrail log trees, for tests, benchmarks and
//! demos.
//!
//! [`generate_tree`] writes an `AWSLogs` tree as an organisation or account
//! trail delivers it to S3: one gzip file of `{"Records":[...]}` per account,
//! region and delivery (about every 5 minutes), plus hourly digest files. It
//! stops once the log files reach the requested compressed size, and returns a
//! [`CorpusReport`] counted while writing. [`generate_log_object`] builds one
//! uncompressed log body in memory, for decoding benchmarks.
//!
//! What makes the records realistic (the shapes follow public CloudTrail logs):
//! - Humans: IAM users with `AKIA` keys from office and home addresses (some
//!   IPv6), and Identity Center console sessions (`AssumeRoleWithSAML`, then
//!   `AssumedRole` with `sessionCredentialFromConsole`). Rare root sign-ins
//!   and `IdentityCenterUser` portal events.
//! - Automation: a CI user and the Terraform role it assumes, Lambda, EC2 and
//!   ECS workload roles whose `AssumeRole` by the service is logged, the AWS
//!   Config service role, programmatic users, and a monitoring vendor that
//!   assumes a read-only role from its own account.
//! - AWS itself: services calling as `AWSService` from their DNS name, and
//!   service events from `AWS Internal` with no identity type.
//! - User agents: CLI, SDK, Terraform, browsers, and in-house tools whose
//!   names contain non-ASCII text, written either raw or as `\uXXXX` escapes.
//! - Calls: mostly read-only `Describe*`, `List*` and `Get*` calls (EC2, S3,
//!   IAM, `GetCallerIdentity`, KMS, Lambda, CloudWatch as
//!   `monitoring.amazonaws.com`, SSM agent traffic), a few writes, and some
//!   `AccessDenied` and throttling errors. Most records are 1–2 KB of JSON, and
//!   a few (`RunInstances`, `RegisterTaskDefinition`, `PutRolePolicy`) reach
//!   tens of KB.
//! - Delivery: see `stream.rs` (late and duplicated records, files of a few to
//!   a few thousand records, slightly unordered). Account ids are 12-digit
//!   strings and some start with `0`.
//! - Determinism: the same configuration and seed give the same tree, byte
//!   for byte, with the dependency versions in `Cargo.lock` and the crate's
//!   serde_json features. `StdRng`, the compressor and serde_json's key order
//!   (see `record.rs`) may change output between releases.
//!
//! With `attack_scenario`, one intrusion is embedded: a leaked key of the CI
//! user `ci-deployer`, its role chain, a backdoor user and key, a console
//! login without MFA, a trust-policy backdoor, `StopLogging` and bulk secret
//! reads. `scenario.rs` lists every step with its time, key and address.
//! `incident.rs` adds the attacker's own administrator role, a vendor's
//! administrator role used from its own account, benign IAM changes, and the
//! rotation of the leaked key the next day.

mod actors;
mod identities;
mod incident;
mod layout;
mod random;
mod record;
mod scenario;
mod services;
mod stream;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, TimeZone, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::rngs::StdRng;
use rayon::prelude::*;
use serde::Serialize;

pub use identities::generate_account_ids;
pub use incident::{
    ADMIN_GROUP, ADMIN_IP, ATTACKER_ROLE, ATTACKER_ROLE_KEY, ATTACKER_ROLE_KEY_2, ROTATED_KEY,
    VENDOR_ADMIN_ACCOUNT, VENDOR_ADMIN_IP, VENDOR_ADMIN_ROLE,
};
pub use scenario::{
    ADMIN_SESSION_KEY, ATTACKER_BACKDOOR_IP, ATTACKER_CLI_IP, ATTACKER_CONSOLE_IP, BACKDOOR_KEY,
    BACKDOOR_USER, CHAIN_SESSION_KEY, CONSOLE_KEY, EXTERNAL_ACCOUNT, LEAKED_KEY,
    LOGIN_PROFILE_USER, SESSION_TOKEN_KEY,
};

use identities::Account;
use layout::{DigestChain, DigestEntry};
use random::derive_seed;
use record::Epoch;
use stream::{RawFile, SLOT_SECONDS, SLOTS_PER_HOUR, Stream};

/// Settings of a generated corpus.
#[derive(Debug, Clone)]
pub struct CorpusConfig {
    /// Stop once the gzip log files add up to this many bytes (digest files
    /// are not counted). The last file written crosses the target.
    pub target_compressed_bytes: u64,
    pub seed: u64,
    /// 12-digit account ids, kept as strings. With `attack_scenario`, the
    /// first is the breached account and the second the target of the role chain.
    pub accounts: Vec<String>,
    /// Region folders of every account. us-east-1, when listed, receives the
    /// global events (IAM, sign-in); otherwise the first region does.
    pub regions: Vec<String>,
    /// Start of the first delivery slot (rounded down to the minute).
    pub start: DateTime<Utc>,
    /// Planned span. Event volume per slot is tuned so that the target size
    /// is reached near the end of the span. If it is not reached by then,
    /// generation goes on past the span.
    pub days: u32,
    /// Organisation id (`o-` and 10 to 32 lower-case letters or digits) for
    /// the `AWSLogs/o-…/ACCOUNT` layout of an organisation trail.
    pub org_id: Option<String>,
    /// Key prefix before `AWSLogs/`; may contain `/`.
    pub prefix: Option<String>,
    /// Fraction of records delivered a second time in a later file with the
    /// same `eventID` (0 to 0.5).
    pub duplicate_fraction: f64,
    /// Write hourly digest files under `CloudTrail-Digest/`.
    pub digests: bool,
    /// Embed the intrusion described in `scenario.rs`.
    pub attack_scenario: bool,
}

impl Default for CorpusConfig {
    fn default() -> CorpusConfig {
        CorpusConfig {
            target_compressed_bytes: 100_000_000,
            seed: 1,
            accounts: generate_account_ids(1, 6),
            regions: ["us-east-1", "eu-west-1", "us-west-2"]
                .iter()
                .map(|region| region.to_string())
                .collect(),
            start: Utc
                .with_ymd_and_hms(2025, 9, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            days: 7,
            org_id: None,
            prefix: None,
            duplicate_fraction: 0.005,
            digests: true,
            attack_scenario: false,
        }
    }
}

/// Counts of what [`generate_tree`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CorpusReport {
    /// Log files (`CloudTrail/…json.gz`).
    pub objects: u64,
    /// Digest files (`CloudTrail-Digest/…json.gz`).
    pub digest_objects: u64,
    /// Records in all log files, re-delivered duplicates included.
    pub records: u64,
    /// Distinct `eventID`s in all log files (`records` minus duplicates).
    pub distinct_events: u64,
    /// Size of the log files on disk; digest files are not counted.
    pub compressed_bytes: u64,
    /// Size of the log files' JSON after decompression.
    pub uncompressed_bytes: u64,
}

/// Bytes of compressed log per expected record, used to plan the first hour
/// before the real ratio is known. Later hours use the measured ratio.
const INITIAL_BYTES_PER_RECORD: f64 = 190.0;

/// Writes a generated `AWSLogs` tree under `out`, which must be empty or
/// absent, and returns what was written.
pub fn generate_tree(out: &Path, cfg: &CorpusConfig) -> anyhow::Result<CorpusReport> {
    validate(cfg)?;
    ensure_empty_directory(out)?;

    let start = cfg.start.timestamp() - cfg.start.timestamp().rem_euclid(60);
    let t0 = scenario::start_time(start, cfg.days);
    let accounts = build_accounts(cfg, t0);
    let global_folder = global_folder(&cfg.regions);

    let placed = if cfg.attack_scenario {
        scenario::build(cfg.seed, &accounts, &cfg.regions, &global_folder, t0)
    } else {
        Vec::new()
    };
    let scenario_total = placed.len() as u64;

    let mut streams = Vec::new();
    for (account_index, account) in accounts.iter().enumerate() {
        for (region_index, region) in cfg.regions.iter().enumerate() {
            let global = *region == global_folder;
            let injected = placed
                .iter()
                .filter(|p| p.account_index == account_index && p.folder_region == *region)
                .map(|p| p.record.clone())
                .collect();
            let account_weight = 1.0 / (1.0 + account_index as f64).powf(0.6);
            let region_weight = if global {
                1.0
            } else {
                0.6 / (1.0 + 0.3 * region_index as f64)
            };
            streams.push(Stream::new(
                streams.len(),
                account_index,
                derive_seed(
                    cfg.seed,
                    &[0x57e4, account_index as u64, region_index as u64],
                ),
                Arc::clone(account),
                region,
                global,
                account_weight * region_weight,
                start,
                cfg.duplicate_fraction,
                injected,
            ));
        }
    }

    let bucket = layout::bucket_name(cfg.seed, &accounts[0].id);
    let roots: Vec<String> = streams
        .iter()
        .map(|s| {
            layout::account_root(
                cfg.prefix.as_deref(),
                cfg.org_id.as_deref(),
                &accounts[s.account_index].id,
            )
        })
        .collect();
    let mut chains: Vec<DigestChain> = streams
        .iter()
        .map(|s| {
            let account = &accounts[s.account_index].id;
            DigestChain::new(
                cfg.seed,
                s.index,
                account,
                &s.producer.region,
                &global_folder,
                &roots[s.index],
                &bucket,
            )
        })
        .collect();
    // A digest lists the files of one hour of slots. Those arrive 1 to 4.5
    // minutes after their slot ends, so each digest window starts 5 minutes
    // and 1 to 59 seconds (fixed per trail) after the hour.
    let digest_offset = SLOT_SECONDS + 1 + (derive_seed(cfg.seed, &[0xd0ff]) % 59) as i64;

    let planned_hours = u64::from(cfg.days) * 24;
    let total_weight: f64 = streams.iter().map(|s| s.weight).sum();
    let activity_after = remaining_activity(start, planned_hours);

    let mut writer = TreeWriter::new(out);
    let mut report = CorpusReport::default();
    let mut scenario_written = 0u64;
    let mut rate = 1.0;
    // Sum over finished hours of rate × weight × activity: the expected
    // record count, which the measured bytes are divided by.
    let mut planned_units = 0.0;
    let mut hour = 0u64;
    loop {
        ensure!(
            hour < planned_hours + 24 * 3660,
            "the target of {} bytes was not reached after {hour} hours of logs",
            cfg.target_compressed_bytes
        );
        let bytes_per_unit = if planned_units > 0.0 && report.compressed_bytes > 0 {
            report.compressed_bytes as f64 / planned_units
        } else {
            INITIAL_BYTES_PER_RECORD
        };
        if let Some(activity) = activity_after.get(hour as usize) {
            let remaining = cfg
                .target_compressed_bytes
                .saturating_sub(report.compressed_bytes) as f64;
            rate = (remaining / bytes_per_unit / (total_weight * activity)).clamp(0.02, 50_000.0);
        }
        planned_units += rate * total_weight * hour_activity(start, hour);

        let raw: Vec<RawFile> = streams
            .par_iter_mut()
            .flat_map_iter(|stream| stream.generate_hour(hour, rate))
            .collect();
        let mut files: Vec<LogFile> = raw
            .into_par_iter()
            .map(compress_log)
            .collect::<anyhow::Result<_>>()?;
        files.sort_by_key(|file| (file.raw.slot, file.raw.stream, file.raw.part));

        // Count the files in their fixed order to find where the target is
        // reached, then write the files up to there in parallel.
        let mut listed: Vec<Vec<DigestEntry>> = vec![Vec::new(); streams.len()];
        let mut batch: Vec<(String, Vec<u8>)> = Vec::with_capacity(files.len());
        let mut done = false;
        for file in files {
            let stream = &streams[file.raw.stream];
            let account = &accounts[stream.account_index].id;
            let key = layout::log_key(
                &roots[stream.index],
                account,
                &stream.producer.region,
                file.raw.delivered,
                &file.raw.unique,
            );

            report.objects += 1;
            report.records += file.raw.records;
            report.distinct_events += file.raw.records - file.raw.duplicates;
            report.compressed_bytes += file.compressed.len() as u64;
            report.uncompressed_bytes += file.raw.body.len() as u64;
            scenario_written += file.raw.scenario_records;
            listed[stream.index].push(DigestEntry {
                key: key.clone(),
                sha256: file.sha256,
                oldest: file.raw.oldest,
                newest: file.raw.newest,
            });
            batch.push((key, file.compressed));
            if report.compressed_bytes >= cfg.target_compressed_bytes
                && scenario_written >= scenario_total
            {
                done = true;
                break;
            }
        }
        writer.write_all(&batch)?;

        if cfg.digests {
            let digest_start = start + hour as i64 * 3600 + digest_offset;
            for (chain, entries) in chains.iter_mut().zip(&listed) {
                let (key, body) = chain.next(digest_start, digest_start + 3600, entries);
                writer.write(&key, &gzip(&body)?)?;
                report.digest_objects += 1;
            }
        }
        if done {
            return Ok(report);
        }
        hour += 1;
    }
}

/// Builds one uncompressed `{"Records":[...]}` body of `records` records for
/// the first account and region of `cfg`, starting at `cfg.start`. It touches
/// no disk, so benchmarks can time decoding alone.
pub fn generate_log_object(rng: &mut StdRng, cfg: &CorpusConfig, records: usize) -> Vec<u8> {
    let account_id = cfg
        .accounts
        .first()
        .map(String::as_str)
        .unwrap_or("123456789012");
    let region = cfg
        .regions
        .first()
        .map(String::as_str)
        .unwrap_or("us-east-1");
    let account = Arc::new(Account::build(cfg.seed, 0, account_id));
    stream::records_body(rng, account, region, cfg.start.timestamp(), records)
}

fn validate(cfg: &CorpusConfig) -> anyhow::Result<()> {
    ensure!(
        !cfg.accounts.is_empty(),
        "no account ids configured: give at least one 12-digit account id"
    );
    for account in &cfg.accounts {
        ensure!(
            account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
            "invalid account id {account:?}: expected 12 digits"
        );
    }

    let mut seen = HashSet::new();
    for account in &cfg.accounts {
        ensure!(seen.insert(account), "account id {account} is listed twice");
    }

    ensure!(
        !cfg.regions.is_empty(),
        "no regions configured: give at least one region such as us-east-1"
    );
    for region in &cfg.regions {
        ensure!(
            !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "invalid region {region:?}: expected lower-case letters, digits and '-', such as eu-west-1"
        );
    }
    let mut seen = HashSet::new();
    for region in &cfg.regions {
        ensure!(seen.insert(region), "region {region} is listed twice");
    }

    ensure!(cfg.days >= 1, "days must be at least 1");
    ensure!(
        cfg.target_compressed_bytes > 0,
        "the target size must be more than 0 bytes"
    );
    ensure!(
        (0.0..=0.5).contains(&cfg.duplicate_fraction),
        "invalid duplicate fraction {}: expected a number from 0 to 0.5",
        cfg.duplicate_fraction
    );

    if let Some(org) = &cfg.org_id {
        let id = org.strip_prefix("o-").unwrap_or("");
        ensure!(
            (10..=32).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "invalid organisation id {org:?}: expected o- followed by 10 to 32 lower-case letters or digits"
        );
    }
    Ok(())
}

fn ensure_empty_directory(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out)
            .with_context(|| format!("failed to read output directory {}", out.display()))?;
        if entries.next().is_some() {
            bail!(
                "output directory {} is not empty: choose a new or empty directory so the tree contains only generated files",
                out.display()
            );
        }
    }
    Ok(())
}

fn build_accounts(cfg: &CorpusConfig, t0: Epoch) -> Vec<Arc<Account>> {
    cfg.accounts
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let mut account = Account::build(cfg.seed, index, id);
            if cfg.attack_scenario && index == 0 {
                account.ci_user.access_key = LEAKED_KEY.to_string();
                account.ci_key_rotation =
                    Some((t0 + incident::ROTATION_OFFSET, ROTATED_KEY.to_string()));
            }
            Arc::new(account)
        })
        .collect()
}

fn global_folder(regions: &[String]) -> String {
    if regions.iter().any(|region| region == "us-east-1") {
        "us-east-1".to_string()
    } else {
        regions[0].clone()
    }
}

/// For each planned hour, the summed activity factor of that hour's slots
/// and of all later planned slots.
fn remaining_activity(start: Epoch, hours: u64) -> Vec<f64> {
    let slots = hours * SLOTS_PER_HOUR;
    let mut after = vec![0.0; hours as usize];
    let mut sum = 0.0;
    for slot in (0..slots).rev() {
        sum += 0.5 + 0.5 * actors::office_factor(start + slot as i64 * SLOT_SECONDS);
        if slot % SLOTS_PER_HOUR == 0 {
            after[(slot / SLOTS_PER_HOUR) as usize] = sum;
        }
    }
    after
}

/// Sums the activity factor of the 12 slots of `hour`.
fn hour_activity(start: Epoch, hour: u64) -> f64 {
    (hour * SLOTS_PER_HOUR..(hour + 1) * SLOTS_PER_HOUR)
        .map(|slot| 0.5 + 0.5 * actors::office_factor(start + slot as i64 * SLOT_SECONDS))
        .sum()
}

struct LogFile {
    raw: RawFile,
    compressed: Vec<u8>,
    sha256: String,
}

fn compress_log(raw: RawFile) -> anyhow::Result<LogFile> {
    let compressed = gzip(&raw.body)?;
    let sha256 = layout::sha256_hex(&raw.body);
    Ok(LogFile {
        raw,
        compressed,
        sha256,
    })
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 8 + 64),
        Compression::default(),
    );
    encoder
        .write_all(bytes)
        .context("gzip compression failed")?;
    encoder.finish().context("gzip compression failed")
}

/// Writes objects under the output directory, creating each folder once.
struct TreeWriter<'a> {
    out: &'a Path,
    folders: HashSet<PathBuf>,
}

impl<'a> TreeWriter<'a> {
    fn new(out: &'a Path) -> TreeWriter<'a> {
        TreeWriter {
            out,
            folders: HashSet::new(),
        }
    }

    fn write(&mut self, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.create_folder(key)?;
        std::fs::write(&path, bytes).with_context(|| format!("failed to write {}", path.display()))
    }

    /// Writes every `(key, bytes)` pair, several files at a time.
    fn write_all(&mut self, objects: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
        let paths = objects
            .iter()
            .map(|(key, _)| self.create_folder(key))
            .collect::<anyhow::Result<Vec<_>>>()?;
        paths
            .par_iter()
            .zip(objects)
            .try_for_each(|(path, (_, bytes))| {
                std::fs::write(path, bytes)
                    .with_context(|| format!("failed to write {}", path.display()))
            })
    }

    /// Creates the folder of `key` unless this writer already did, and
    /// returns the file's path.
    fn create_folder(&mut self, key: &str) -> anyhow::Result<PathBuf> {
        let path = self.out.join(key);
        if let Some(parent) = path.parent()
            && !self.folders.contains(parent)
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create folder {}", parent.display()))?;
            self.folders.insert(parent.to_path_buf());
        }
        Ok(path)
    }
}
