//! Generates a realistic CloudTrail `AWSLogs` tree for tests, benchmarks and
//! demos, and prints what it wrote as JSON on stdout.
//!
//! Example: `trailhound-corpus --out /tmp/corpus --size 50MB --seed 7 --attack-scenario`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Parser;
use trailhound::corpus::{CorpusConfig, generate_account_ids, generate_tree};

/// Generate a synthetic CloudTrail log tree (log files and digest files).
#[derive(Debug, Parser)]
#[command(name = "trailhound-corpus", version)]
struct Args {
    /// Output directory; must be new or empty.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Stop once the gzip log files reach this size: a number with an
    /// optional unit B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
    #[arg(long, default_value = "100MB", value_parser = parse_size)]
    size: u64,

    /// Seed of the generator; the same seed and options give the same tree.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Number of accounts; their 12-digit ids are derived from the seed.
    #[arg(long, default_value_t = 6)]
    accounts: usize,

    /// Comma-separated regions, each a folder under every account.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "us-east-1,eu-west-1,us-west-2"
    )]
    regions: Vec<String>,

    /// First day (YYYY-MM-DD, UTC) or instant (RFC 3339) of the logs.
    #[arg(long, default_value = "2025-09-01", value_parser = parse_start)]
    start: DateTime<Utc>,

    /// Planned span in days; event volume is spread so the size is reached near its end.
    #[arg(long, default_value_t = 7)]
    days: u32,

    /// Organisation id for the AWSLogs/o-…/ACCOUNT layout of an organisation trail.
    #[arg(long, value_name = "o-…")]
    org_id: Option<String>,

    /// Key prefix before AWSLogs/ (may contain '/').
    #[arg(long)]
    prefix: Option<String>,

    /// Fraction of records delivered a second time in a later file (0 to 0.5).
    #[arg(long, default_value_t = 0.005)]
    duplicates: f64,

    /// Do not write hourly digest files.
    #[arg(long)]
    no_digests: bool,

    /// Embed the leaked-key intrusion scenario in the first account.
    #[arg(long)]
    attack_scenario: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("trailhound-corpus: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.accounts == 0 {
        bail!("--accounts must be at least 1");
    }
    let cfg = CorpusConfig {
        target_compressed_bytes: args.size,
        seed: args.seed,
        accounts: generate_account_ids(args.seed, args.accounts),
        regions: args.regions,
        start: args.start,
        days: args.days,
        org_id: args.org_id,
        prefix: args.prefix,
        duplicate_fraction: args.duplicates,
        digests: !args.no_digests,
        attack_scenario: args.attack_scenario,
    };
    let report = generate_tree(&args.out, &cfg)
        .with_context(|| format!("failed to generate a corpus in {}", args.out.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| {
        format!(
            "invalid size {text:?}: expected a number with an optional unit, such as 50MB or 1GiB"
        )
    })?;
    let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1_000,
        "M" | "MB" => 1_000_000,
        "G" | "GB" => 1_000_000_000,
        "KIB" => 1 << 10,
        "MIB" => 1 << 20,
        "GIB" => 1 << 30,
        other => {
            return Err(format!(
                "invalid size unit {other:?} in {text:?}: use B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    let bytes = (number * multiplier as f64).round();
    if bytes < 1.0 {
        return Err(format!("invalid size {text:?}: it must be at least 1 byte"));
    }
    Ok(bytes as u64)
}

fn parse_start(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date
            .and_hms_opt(0, 0, 0)
            .map(|time| time.and_utc())
            .ok_or_else(|| format!("invalid start date {text:?}"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| format!("invalid start {text:?}: expected YYYY-MM-DD or an RFC 3339 time such as 2025-09-01T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_units_parse() {
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("50MB"), Ok(50_000_000));
        assert_eq!(parse_size("2MiB"), Ok(2 << 20));
        assert_eq!(parse_size("1.5kb"), Ok(1_500));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("12XB").is_err());
        assert!(parse_size("MB").is_err());
    }

    #[test]
    fn start_accepts_date_and_instant() {
        assert_eq!(
            parse_start("2025-09-01").unwrap().to_rfc3339(),
            "2025-09-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_start("2025-09-01T06:30:00Z").unwrap().to_rfc3339(),
            "2025-09-01T06:30:00+00:00"
        );
        assert!(parse_start("yesterday").is_err());
    }
}
