//! `trailhound hunt`.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;

use super::args::{Cli, HuntArgs, HuntFormat, TimeWindowArgs};
use super::timeline::resolve_window;
use crate::detect::{Finding, HuntOptions, RuleSet, findings_table, hunt};
use crate::exit::Outcome;
use crate::query::audit::read_org_accounts;
use crate::render::{ResultTable, RowFormat, escape_for_terminal};
use crate::store::Store;

/// Columns of the terminal table, where width is scarce.
const TABLE_COLUMNS: &[&str] = &[
    "first_event_time",
    "severity",
    "rule_id",
    "title",
    "target",
    "principal_arn",
    "access_key_id",
    "source_ips",
];

pub fn run(cli: &Cli, args: &HuntArgs) -> anyhow::Result<Outcome> {
    let (since, until) = resolve_window(&TimeWindowArgs {
        since: args.window.since.clone(),
        until: args.window.until.clone(),
    })?;
    let rules = RuleSet::load(args.rules.as_deref())?;
    let org_accounts = args
        .org_accounts
        .as_deref()
        .map(read_org_accounts)
        .transpose()?;
    let store = Store::open(&cli.store)?;
    let options = HuntOptions {
        since,
        until,
        org_accounts,
    };
    let mut findings = hunt(&store, &rules, &options).context("hunt failed")?;
    findings.retain(|finding| finding.severity >= args.min_severity);
    if findings.is_empty() {
        if !cli.quiet {
            eprintln!("trailhound: no finding at or above {}", args.min_severity);
        }
        return Ok(Outcome::NothingFound);
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        HuntFormat::Table => write_grouped_tables(&findings, &mut out)?,
        HuntFormat::Jsonl => findings_table(&findings).write(RowFormat::Jsonl, &mut out)?,
        HuntFormat::Csv => findings_table(&findings).write(RowFormat::Csv, &mut out)?,
        HuntFormat::Json => findings_table(&findings).write(RowFormat::Json, &mut out)?,
    }
    out.flush().context("cannot write the findings")?;
    if !cli.quiet && args.format == HuntFormat::Table {
        eprintln!("trailhound: {} findings", findings.len());
    }
    Ok(Outcome::Success)
}

/// Writes one table per lineage root (findings with no known root last),
/// each headed by the root and its finding count.
fn write_grouped_tables(findings: &[Finding], out: &mut dyn Write) -> anyhow::Result<()> {
    let mut groups: BTreeMap<(bool, String), Vec<Finding>> = BTreeMap::new();
    for finding in findings {
        let key = match &finding.lineage_root_access_key_id {
            Some(root) => (false, root.clone()),
            None => (true, String::new()),
        };
        groups.entry(key).or_default().push(finding.clone());
    }
    for ((unknown, root), group) in groups {
        let heading = if unknown {
            "no known lineage root".to_string()
        } else {
            format!("lineage root {}", escape_for_terminal(&root))
        };
        writeln!(out, "== {heading}: {} findings", group.len())?;
        let table = findings_table(&group);
        let columns: Vec<usize> = TABLE_COLUMNS
            .iter()
            .filter_map(|name| table.columns.iter().position(|column| column == name))
            .collect();
        let narrow = ResultTable {
            columns: columns
                .iter()
                .map(|&index| table.columns[index].clone())
                .collect(),
            rows: table
                .rows
                .iter()
                .map(|row| columns.iter().map(|&index| row[index].clone()).collect())
                .collect(),
        };
        narrow.write_table(out)?;
        for finding in &group {
            writeln!(
                out,
                "  {} {}: {}",
                escape_for_terminal(&finding.rule_id),
                finding.severity,
                escape_for_terminal(&finding.summary)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}
