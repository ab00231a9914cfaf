//! Command-line arguments as the user typed them (clap derive). The commands
//! turn them into resolved settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::detect::Severity;
use crate::render::RowFormat;

/// Incident-response forensics for AWS CloudTrail logs.
///
/// Ingest CloudTrail logs from files and folders into a local Parquet store,
/// then query each credential's timeline and audit administrator access,
/// roles and long-term keys.
#[derive(Debug, Parser)]
#[command(name = "trailhound", version, propagate_version = true)]
pub struct Cli {
    /// The store folder.
    #[arg(
        long,
        global = true,
        env = "TRAILHOUND_STORE",
        default_value = "trailhound-store",
        value_name = "DIR"
    )]
    pub store: PathBuf,

    /// Hide progress, warnings and summaries. Errors are always shown.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Log decisions to standard error (repeat for more detail).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read CloudTrail logs from files, folders, standard input or S3 into the store.
    ///
    /// Accepts S3 `{"Records":[...]}` files (gzipped or not), bare arrays,
    /// single records, JSON lines, `aws cloudtrail lookup-events` output and
    /// EventBridge envelopes, decided by content. Objects already ingested and
    /// unchanged are skipped. Exits with 2 if any object failed.
    ///
    /// `--since`, `--until`, `--account` and `--region` select the objects to
    /// read by their place in the CloudTrail layout
    /// (`AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`), in S3 and
    /// on disk: a window reads the day folders from the day of `--since` to
    /// the day after `--until` (files arrive minutes after their events) and
    /// stores every event of those files. Paths that do not show the layout
    /// are always read.
    Ingest(IngestArgs),

    /// Print the events that match the filters, sorted by event time.
    ///
    /// Exits with 1 when no event matches.
    Timeline(TimelineArgs),

    /// Print counts of events, rows, accounts, regions and source objects.
    Stats(StatsArgs),

    /// Print the tree of credentials derived from an access key.
    ///
    /// Follows AssumeRole (chains and cross-account), AssumeRoleWithSAML and
    /// WithWebIdentity, GetSessionToken, GetFederationToken, CreateAccessKey,
    /// and login profiles followed by console sign-ins. Edges drawn without a
    /// key in the mint event are marked inferred. Exits with 1 when the key
    /// made no event and minted nothing.
    Lineage(LineageArgs),

    /// Ingest, hunt, follow every implicated key and audit, then write a report.
    ///
    /// Reads the sources into the store and runs the detections. Builds the
    /// lineage of every implicated long-term key (and of each --access-key),
    /// lists what those credentials
    /// created that is still present, and runs the audit. Prints a summary and
    /// writes report.html, report.md, report.json and the timelines of the
    /// implicated credentials into the report folder. Exits with 2 when a
    /// source object failed, else 0.
    Investigate(InvestigateArgs),

    /// Print per-credential summaries: who, when, from where, what.
    ///
    /// Exits with 1 when no credential matches.
    Summary(SummaryArgs),

    /// Audit administrator grants, cross-account role use, role activity and
    /// long-term keys, from the logs in the store.
    ///
    /// Sections: grants (who was given administrator access, by whom, and
    /// whether it was removed), cross-account (roles assumed from other
    /// accounts), roles (last assumption of every role seen, and roles never
    /// assumed), keys (long-term access keys in use, flagged when they look
    /// stored on AWS compute or in CI). Grants made before the logs start are
    /// not visible.
    Audit(AuditArgs),

    /// Print a shell completion script to standard output.
    ///
    /// bash: save it as `~/.local/share/bash-completion/completions/trailhound`.
    /// zsh: save it as `_trailhound` in a folder on `$fpath`. fish: save it as
    /// `~/.config/fish/completions/trailhound.fish`. PowerShell: add
    /// `trailhound completions powershell | Out-String | Invoke-Expression`
    /// to the profile.
    Completions(CompletionsArgs),

    /// Write the manual pages (roff): `trailhound.1` and one page per command.
    ///
    /// Without `--out-dir`, prints the main page to standard output, so
    /// `trailhound man | man -l -` shows it.
    Man(ManArgs),
    /// Run the detection rules over the store and print the findings.
    ///
    /// Findings are sorted by time; the table groups them by the long-term
    /// key at the root of each credential lineage. Exits with 0 when there
    /// are findings at or above --min-severity, 1 when there are none, and
    /// 2 on errors (such as an invalid rule file).
    Hunt(HuntArgs),

    /// Work with detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub window: FindingWindowArgs,

    /// Only report findings at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::Low)]
    pub min_severity: Severity,

    /// A folder of extra rule files (`*.yaml` or `*.yml`), loaded after the built-in rules.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// A file of the organization's account ids (one per line, `#` starts a
    /// comment, or the JSON of `aws organizations list-accounts`). Trust in
    /// these accounts counts as internal. Default: the accounts seen in the
    /// store.
    #[arg(long, value_name = "FILE")]
    pub org_accounts: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = HuntFormat::Table)]
    pub format: HuntFormat,
}

/// Output formats of `hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HuntFormat {
    /// Tables on a terminal, one per lineage root.
    Table,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array.
    Json,
    /// Comma-separated values with a header row; formulas neutralised.
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the loaded rules (built-in and --rules DIR) after validating them.
    List(RulesListArgs),
}

#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// A folder of extra rule files (`*.yaml` or `*.yml`) to validate and list.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// Output format (`table` prints one table).
    #[arg(long, value_enum, default_value_t = HuntFormat::Table)]
    pub format: HuntFormat,
}

#[derive(Debug, Args)]
pub struct LineageArgs {
    /// The access key id at the root of the tree (AKIA… or ASIA…).
    #[arg(long = "access-key", value_name = "KEY", value_parser = parse_access_key)]
    pub access_key: String,

    #[command(flatten)]
    pub window: TimeWindowArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = LineageFormat::Tree)]
    pub format: LineageFormat,

    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LineageFormat {
    /// An indented tree for reading on a terminal.
    Tree,
    /// One JSON object: `{"root": KEY, "nodes": [...]}`.
    Json,
    /// One JSON object per node and line.
    Jsonl,
    /// One row per node.
    Csv,
    /// A Graphviz DOT digraph.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

#[derive(Debug, Args)]
pub struct InvestigateArgs {
    /// Files or folders to read (folders recursively); `-` reads standard input.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Also follow this access key, whatever the detections report. Repeatable.
    #[arg(long = "access-key", value_name = "KEY", value_parser = parse_access_key)]
    pub access_keys: Vec<String>,

    /// The report folder (created if needed).
    #[arg(
        long,
        short = 'o',
        default_value = "trailhound-report",
        value_name = "DIR"
    )]
    pub output: PathBuf,

    /// Largest object accepted, before or after decompression.
    #[arg(long, default_value = "1GiB", value_name = "SIZE", value_parser = parse_size)]
    pub max_object_size: u64,

    /// Decoding threads, from 1 to 256 (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// A file of the organisation's account ids (one per line, or the JSON of
    /// `aws organizations list-accounts`). Trust in these accounts counts as
    /// internal in the detections, and other accounts stand out in the audit.
    /// Default: the accounts seen in the store.
    #[arg(long, value_name = "FILE")]
    pub org_accounts: Option<PathBuf>,

    #[command(flatten)]
    pub s3: S3Args,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Summarise this access key. Repeatable.
    #[arg(long = "access-key", value_name = "KEY", conflicts_with = "all")]
    pub access_keys: Vec<String>,

    /// Summarise the credentials of this principal: an ARN or a user, role
    /// or session name. Repeatable.
    #[arg(long = "principal", value_name = "ARN|NAME", conflicts_with = "all")]
    pub principals: Vec<String>,

    /// Summarise every credential in the store.
    #[arg(long)]
    pub all: bool,

    /// Most API calls listed per credential.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,

    #[command(flatten)]
    pub window: TimeWindowArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or folders to read (folders recursively); `-` reads standard
    /// input; `s3://BUCKET[/PREFIX]` reads a bucket folder.
    #[arg(required = true, value_name = "PATH|S3URL")]
    pub paths: Vec<String>,

    #[command(flatten)]
    pub window: ObjectWindowArgs,

    /// Only this account's folders (12 digits). Repeatable.
    #[arg(long = "account", value_name = "ID", value_parser = parse_account)]
    pub accounts: Vec<String>,

    /// Only this region's folders, e.g. `eu-west-1`. Repeatable.
    #[arg(long = "region", value_name = "REGION", value_parser = parse_region)]
    pub regions: Vec<String>,

    #[command(flatten)]
    pub s3: S3Args,

    /// Largest object accepted, before or after decompression, e.g. `1GiB`, `500MB`, `1048576`.
    #[arg(long, default_value = "1GiB", value_name = "SIZE", value_parser = parse_size)]
    pub max_object_size: u64,

    /// Decoding threads, from 1 to 256 (default: one per core). As many
    /// threads again write Parquet.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// How to reach S3 for `s3://` inputs.
#[derive(Debug, Args)]
pub struct S3Args {
    /// Named profile from the shared AWS config and credentials files
    /// (SSO profiles included). Default: the standard credential chain.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Region of the bucket (default: AWS_REGION or the profile's region,
    /// else us-east-1). `--region` filters trail folders instead.
    #[arg(long, value_name = "REGION")]
    pub bucket_region: Option<String>,

    /// Endpoint of an S3-compatible server, e.g. `http://127.0.0.1:9000`.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Address buckets as `ENDPOINT/BUCKET/KEY` (path style), as most
    /// S3-compatible servers need.
    #[arg(long)]
    pub path_style: bool,

    /// Send unsigned requests, for public buckets.
    #[arg(long)]
    pub no_sign_request: bool,

    /// S3 requests in flight at once, from 1 to 512.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Events made with this access key id (AKIA… or ASIA…). Repeatable.
    #[arg(long = "access-key", value_name = "KEY")]
    pub access_keys: Vec<String>,

    /// Events by this principal: an ARN (user, assumed-role session or role),
    /// or a user, role or session name. Repeatable.
    #[arg(long = "principal", value_name = "ARN|NAME")]
    pub principals: Vec<String>,

    /// Events from this source IP address (or service name). Repeatable.
    #[arg(long = "ip", value_name = "IP")]
    pub ips: Vec<String>,

    /// Events with this event name, e.g. `CreateUser`. Repeatable.
    #[arg(long = "event-name", value_name = "NAME")]
    pub event_names: Vec<String>,

    /// Also show the events of every credential derived from the named
    /// access keys (their lineage), with a column naming the credential.
    #[arg(long, requires = "access_keys")]
    pub follow: bool,

    /// Add each event's original record, byte-exact, as `raw_record`.
    #[arg(long)]
    pub raw: bool,

    #[command(flatten)]
    pub window: TimeWindowArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Output format and destination, shared by the query commands.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RowFormat::Table)]
    pub format: RowFormat,

    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    pub fn resolve(&self) -> crate::export::Output {
        crate::export::Output {
            format: self.format,
            path: self.output.clone(),
        }
    }
}

/// The day folders `ingest` reads, by the date in the CloudTrail layout.
#[derive(Debug, Args)]
pub struct ObjectWindowArgs {
    /// Only day folders from this day on (RFC 3339 or a date). Every event
    /// of a file read is stored, including a few from the evening before.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only day folders up to the day after this time (RFC 3339 or a date),
    /// because files arrive minutes after their events.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// The window of `hunt`: the rules still read the history before it.
#[derive(Debug, Args)]
pub struct FindingWindowArgs {
    /// Only findings whose last event is at or after this time (RFC 3339 or
    /// a date). The rules still read everything before it as history.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events at or before this time: RFC 3339, or a date (the whole day is included).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// A time window shared by the query commands.
#[derive(Debug, Args)]
pub struct TimeWindowArgs {
    /// Only events at or after this time: RFC 3339 (2023-07-10T11:42:00Z) or a date (2023-07-10).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events at or before this time: RFC 3339, or a date (the whole day is included).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Output format. `csv` writes one section, chosen with `--section`.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,

    /// Print only these sections. Repeatable; default: all.
    #[arg(long = "section", value_enum, value_name = "SECTION")]
    pub sections: Vec<AuditSection>,

    /// The organisation's accounts: one 12-digit id per line (`#` starts a
    /// comment), or the JSON of `aws organizations list-accounts`. Role
    /// assumptions from any other account are marked as outside.
    #[arg(long, value_name = "FILE")]
    pub org_accounts: Option<PathBuf>,

    /// AWS's published ranges (the `ip-ranges.json` file from
    /// https://ip-ranges.amazonaws.com/ip-ranges.json). Long-term keys used
    /// from its EC2 addresses are flagged as likely hard-coded.
    #[arg(long, value_name = "FILE")]
    pub aws_ip_ranges: Option<PathBuf>,

    #[command(flatten)]
    pub window: TimeWindowArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// Aligned tables for reading on a terminal, one per section.
    Table,
    /// One JSON object with a list per section.
    Json,
    /// Comma-separated values of one section, with a header row.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum AuditSection {
    /// Grants of administrator access.
    Grants,
    /// Roles assumed from other accounts.
    CrossAccount,
    /// Last assumption of every role seen.
    Roles,
    /// Long-term access keys in use.
    Keys,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Folder to write `trailhound.1` and `trailhound-COMMAND.1` into
    /// (created if missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatsFormat::Table)]
    pub format: StatsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    /// Aligned text for reading on a terminal.
    Table,
    /// One JSON object.
    Json,
}

/// Checks an account id: exactly 12 digits.
fn parse_account(text: &str) -> Result<String, String> {
    let text = text.trim();
    if crate::source::layout::is_account_id(text) {
        Ok(text.to_string())
    } else {
        Err(format!("invalid account id '{text}': expected 12 digits"))
    }
}

/// Checks a region name: lower-case letters, digits and hyphens, as in
/// `us-east-1`, `us-gov-west-1` or `cn-north-1`.
fn parse_region(text: &str) -> Result<String, String> {
    let region = text.trim().to_ascii_lowercase();
    let valid = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(region)
    } else {
        Err(format!(
            "invalid region '{text}': expected a name such as us-east-1"
        ))
    }
}

/// Checks an access key id: AWS key ids are 16 to 128 letters and digits.
pub fn parse_access_key(text: &str) -> Result<String, String> {
    let valid = (16..=128).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric());
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!(
            "invalid access key id '{}': expected 16 to 128 letters and digits, e.g. AKIAIOSFODNN7EXAMPLE",
            crate::render::escape_for_terminal(text)
        ))
    }
}

/// Parses a byte size: a number with an optional unit (B, KB, MB, GB, TB in
/// powers of 1000; KiB, MiB, GiB, TiB in powers of 1024; case-insensitive).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: f64 = number.parse().map_err(|_| {
        format!("invalid size '{text}'; use a number with an optional unit, e.g. 500MB or 2GiB")
    })?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "invalid size unit '{other}' in '{text}'; use B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    let bytes = number * multiplier;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 / 2.0 {
        return Err(format!("invalid size '{text}': must be at least 1 byte"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parse_size_reads_units() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5 kb"), Ok(1500));
    }

    #[test]
    fn parse_size_rejects_invalid() {
        assert!(parse_size("").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("0").is_err());
    }
}
