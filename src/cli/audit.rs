//! `trailhound audit`: runs [`crate::query::audit::audit`] and renders each
//! section as a table, CSV or one JSON document.

use std::io::Write;

use anyhow::{Context, bail};

use super::args::{AuditArgs, AuditFormat, AuditSection, Cli};
use super::timeline::resolve_window;
use crate::exit::Outcome;
use crate::query::audit::{AuditOptions, AuditReport, audit, read_aws_ranges, read_org_accounts};
use crate::render::{Cell, ResultTable};
use crate::store::Store;

pub fn run(cli: &Cli, args: &AuditArgs) -> anyhow::Result<Outcome> {
    let sections = selected_sections(args)?;
    let (since, until) = resolve_window(&args.window)?;
    let org_accounts = args
        .org_accounts
        .as_deref()
        .map(read_org_accounts)
        .transpose()?;
    let aws_ranges = args
        .aws_ip_ranges
        .as_deref()
        .map(read_aws_ranges)
        .transpose()?;
    let options = AuditOptions {
        org_accounts,
        aws_ranges,
        since,
        until,
    };
    let store = Store::open(&cli.store)?;
    let report = audit(&store, &options).context("audit query failed")?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        AuditFormat::Json => write_json(&report, &sections, &mut out)?,
        AuditFormat::Csv => section_table(&report, sections[0])
            .write_csv(&mut out)
            .context("cannot write the audit")?,
        AuditFormat::Table => {
            for (index, section) in sections.iter().enumerate() {
                if index > 0 {
                    writeln!(out)?;
                }
                let table = section_table(&report, *section);
                writeln!(out, "{} ({})", heading(*section), table.rows.len())?;
                if table.rows.is_empty() {
                    writeln!(out, "  none in the logs")?;
                } else {
                    table
                        .write_table(&mut out)
                        .context("cannot write the audit")?;
                }
            }
        }
    }
    out.flush().context("cannot write the audit")?;
    Ok(Outcome::Success)
}

/// Resolves `--section` against the format: all sections by default, and
/// exactly one for CSV, which has a single header row.
fn selected_sections(args: &AuditArgs) -> anyhow::Result<Vec<AuditSection>> {
    let mut sections = args.sections.clone();
    sections.sort();
    sections.dedup();
    if args.format == AuditFormat::Csv && sections.len() != 1 {
        bail!(
            "--format csv writes one section: add one --section (grants, cross-account, roles or keys)"
        );
    }
    if sections.is_empty() {
        sections = vec![
            AuditSection::Grants,
            AuditSection::CrossAccount,
            AuditSection::Roles,
            AuditSection::Keys,
        ];
    }
    Ok(sections)
}

pub(super) fn heading(section: AuditSection) -> &'static str {
    match section {
        AuditSection::Grants => "Administrator grants",
        AuditSection::CrossAccount => "Roles assumed from other accounts",
        AuditSection::Roles => "Roles seen, least recently assumed first",
        AuditSection::Keys => "Long-term access keys in use",
    }
}

fn json_key(section: AuditSection) -> &'static str {
    match section {
        AuditSection::Grants => "admin_grants",
        AuditSection::CrossAccount => "cross_account",
        AuditSection::Roles => "roles",
        AuditSection::Keys => "long_term_keys",
    }
}

fn write_json(
    report: &AuditReport,
    sections: &[AuditSection],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut value = serde_json::to_value(report).context("cannot serialise the audit")?;
    if let Some(object) = value.as_object_mut() {
        let keep: Vec<&str> = sections.iter().map(|section| json_key(*section)).collect();
        object.retain(|key, _| keep.contains(&key.as_str()));
    }
    serde_json::to_writer_pretty(&mut *out, &value).context("cannot write the audit")?;
    writeln!(out)?;
    Ok(())
}

fn text(value: &str) -> Cell {
    Cell::Text(value.to_string())
}

fn optional(value: &Option<String>) -> Cell {
    value.as_deref().map_or(Cell::Null, text)
}

fn list(values: &[String]) -> Cell {
    Cell::Text(values.join(" "))
}

fn time(micros: Option<i64>) -> Cell {
    micros.map_or(Cell::Null, Cell::Time)
}

/// Lays out one section as rows; CSV and the terminal table share it.
pub(super) fn section_table(report: &AuditReport, section: AuditSection) -> ResultTable {
    let (columns, rows): (&[&str], Vec<Vec<Cell>>) = match section {
        AuditSection::Grants => (
            &[
                "time",
                "account_id",
                "principal_kind",
                "principal_name",
                "via",
                "source",
                "granted_by",
                "granted_by_access_key",
                "source_ip",
                "removed_time",
                "removed_by_event",
            ],
            report
                .admin_grants
                .iter()
                .map(|grant| {
                    vec![
                        Cell::Time(grant.time),
                        text(&grant.account_id),
                        text(grant.principal_kind.as_str()),
                        text(&grant.principal_name),
                        text(grant.via.as_str()),
                        text(&grant.source),
                        optional(&grant.granted_by),
                        optional(&grant.granted_by_access_key),
                        optional(&grant.source_ip),
                        time(grant.removed.as_ref().map(|removal| removal.time)),
                        grant
                            .removed
                            .as_ref()
                            .map_or(Cell::Null, |removal| text(&removal.event_name)),
                    ]
                })
                .collect(),
        ),
        AuditSection::CrossAccount => (
            &[
                "role_arn",
                "caller_account",
                "outside_org",
                "assumptions",
                "first_assumed",
                "last_assumed",
                "role_granted_admin",
                "callers",
            ],
            report
                .cross_account
                .iter()
                .map(|row| {
                    vec![
                        text(&row.role_arn),
                        text(&row.caller_account),
                        row.outside_org.map_or(Cell::Null, Cell::Bool),
                        Cell::UInt(row.assumptions),
                        Cell::Time(row.first_assumed),
                        Cell::Time(row.last_assumed),
                        Cell::Bool(row.role_granted_admin),
                        list(&row.callers),
                    ]
                })
                .collect(),
        ),
        AuditSection::Roles => (
            &[
                "role_arn",
                "assumptions",
                "last_assumed",
                "last_assumed_by",
                "never_assumed",
                "session_calls",
                "last_session_call",
                "granted_admin",
                "trusted_outside_accounts",
                "ever_trusted_outside_accounts",
            ],
            report
                .roles
                .iter()
                .map(|row| {
                    vec![
                        text(&row.role_arn),
                        Cell::UInt(row.assumptions),
                        time(row.last_assumed),
                        list(&row.last_assumed_by),
                        Cell::Bool(row.never_assumed),
                        Cell::UInt(row.session_calls),
                        time(row.last_session_call),
                        Cell::Bool(row.granted_admin),
                        list(&row.trusted_outside_accounts),
                        list(&row.ever_trusted_outside_accounts),
                    ]
                })
                .collect(),
        ),
        AuditSection::Keys => (
            &[
                "access_key_id",
                "owner",
                "account_id",
                "calls",
                "first_used",
                "last_used",
                "source_ips",
                "services",
                "likely_hardcoded",
                "hardcoded_hints",
                "user_agents",
            ],
            report
                .long_term_keys
                .iter()
                .map(|key| {
                    vec![
                        text(&key.access_key_id),
                        optional(&key.owner),
                        optional(&key.account_id),
                        Cell::UInt(key.calls),
                        Cell::Time(key.first_used),
                        Cell::Time(key.last_used),
                        list(&key.source_ips),
                        list(&key.services),
                        Cell::Bool(key.likely_hardcoded),
                        Cell::Text(key.hardcoded_hints.join("; ")),
                        Cell::Text(key.user_agents.join(" | ")),
                    ]
                })
                .collect(),
        ),
    };
    ResultTable {
        columns: columns.iter().map(|name| name.to_string()).collect(),
        rows,
    }
}
