//! `trailhound investigate`: ingest, hunt, follow, audit, report.

mod audit;
mod findings;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use super::args::{Cli, InvestigateArgs};
use crate::exit::Outcome;
use crate::export::{Output, emit};
use crate::ingest::{IngestOptions, Reporter, ingest};
use crate::query::leftovers::{FOLLOW_COLUMNS, Leftover, leftovers};
use crate::query::lineage::{LineageTree, Lineages};
use crate::query::stats::stats;
use crate::query::timeline::TIMELINE_COLUMNS;
use crate::render::lineage::render_tree;
use crate::render::{Cell, ResultTable, RowFormat, escape_for_terminal};
use crate::report::{ImplicatedCredential, Report, Table, write_report};
use crate::store::{ObjectStatus, Store};
use crate::time::{format_rfc3339, parse_timestamp};

/// Largest audit section printed in full on the terminal.
const AUDIT_ROWS_PRINTED: usize = 20;

/// Columns of the lineage table in the report, from the node JSON.
const NODE_COLUMNS: &[&str] = &[
    "access_key_id",
    "kind",
    "parent_access_key_id",
    "minted_by_event_name",
    "principal_arn",
    "first_seen",
    "last_seen",
    "event_count",
    "source_ips",
    "inferred",
];

pub fn run(cli: &Cli, args: &InvestigateArgs) -> anyhow::Result<Outcome> {
    // The report folder is prepared first, so a bad -o fails before the
    // ingest. Timelines of an earlier run are removed: the new report must
    // not sit beside files it does not describe.
    let report_dir = &args.output;
    let timeline_dir = report_dir.join("timelines");
    if timeline_dir.is_dir() {
        fs::remove_dir_all(&timeline_dir)
            .with_context(|| format!("cannot clear {}", timeline_dir.display()))?;
    }
    fs::create_dir_all(&timeline_dir)
        .with_context(|| format!("cannot create {}", timeline_dir.display()))?;

    let options = IngestOptions {
        max_object_size: args.max_object_size,
        threads: args.threads.map(usize::from),
        s3: super::ingest::s3_settings(&args.s3),
        ..IngestOptions::default()
    };
    let reporter = Reporter::new(cli.quiet);
    let ingested = ingest(&cli.store, &args.sources, &options, &reporter)
        .with_context(|| format!("ingest into {} failed", cli.store.display()))?;
    reporter.finish();
    if !reporter.is_quiet() {
        for line in ingested.lines() {
            reporter.info(&line);
        }
    }

    if ingested.objects_found == 0 {
        // A wrong folder or prefix must not pass for a quiet account.
        for source in &args.sources {
            reporter.warn(
                source,
                "no object found here; the report covers only what the store already held",
            );
        }
    }
    if ingested.objects_found > 0 && ingested.failed == ingested.objects_found {
        anyhow::bail!("no source object could be read, so there is nothing to investigate");
    }
    let store = Store::open(&cli.store)?;
    let totals = stats(&store).context("cannot count the store's events")?;
    let end_of_logs = totals.last_event_time.as_deref().and_then(parse_timestamp);

    let org_accounts = args
        .org_accounts
        .as_deref()
        .map(crate::query::audit::read_org_accounts)
        .transpose()?;
    let hunt = findings::run_hunt(&store, org_accounts.clone())?;
    let mut implicated: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for key in &args.access_keys {
        implicated
            .entry(key.clone())
            .or_default()
            .push("named on the command line".into());
    }
    for (key, reasons) in &hunt.implicating {
        implicated
            .entry(key.clone())
            .or_default()
            .extend(reasons.iter().cloned());
    }

    // Keys named on the command line first, then the most implicated.
    let mut order: Vec<(String, Vec<String>)> = implicated.into_iter().collect();
    order.sort_by_key(|(key, _)| {
        let named = args.access_keys.contains(key);
        let (critical, high) = hunt.weight.get(key).copied().unwrap_or_default();
        (
            !named,
            std::cmp::Reverse(critical),
            std::cmp::Reverse(high),
            key.clone(),
        )
    });
    let implicated = order;

    let lineages = Lineages::load(&store, None, None).context("lineage query failed")?;
    let mut trees: Vec<LineageTree> = Vec::new();
    let mut credentials: Vec<ImplicatedCredential> = Vec::new();
    for (key, reasons) in &implicated {
        let tree = lineages.tree(key).context("lineage query failed")?;
        let (csv, timesketch, events) = write_timelines(&lineages, key, &timeline_dir)?;
        credentials.push(ImplicatedCredential {
            access_key_id: key.clone(),
            reasons: reasons.clone(),
            tree_text: render_tree(&tree),
            nodes: node_table(&tree)?,
            event_count: events,
            timeline_csv: relative(report_dir, &csv),
            timeline_timesketch: relative(report_dir, &timesketch),
        });
        trees.push(tree);
    }

    let keys: Vec<String> = implicated.iter().map(|(key, _)| key.clone()).collect();
    let created = if keys.is_empty() {
        Vec::new()
    } else {
        let follow = lineages
            .follow(&keys, FOLLOW_COLUMNS)
            .context("lineage query failed")?;
        leftovers(&store, &trees, &follow, end_of_logs)
            .context("cannot list what the intruders created")?
    };

    let audit = audit::run_audit(&store, org_accounts)?;

    let action_needed: Vec<&Leftover> =
        created.iter().filter(|item| item.still_present()).collect();
    let report = Report {
        title: "trailhound investigation".into(),
        generated_at: format_rfc3339(chrono::Utc::now().timestamp_micros()),
        version: env!("CARGO_PKG_VERSION").into(),
        overview: overview(
            &totals,
            &ingested_line(&ingested),
            credentials.len(),
            &hunt,
            action_needed.len(),
        ),
        implicated: credentials,
        finding_groups: hunt.groups.clone(),
        action_needed: leftover_table(action_needed.iter().copied()),
        created: leftover_table(created.iter()),
        audit: audit.sections.clone(),
        coverage: coverage_table(&store)?,
    };
    let data = json!({
        "generated_at": report.generated_at,
        "version": report.version,
        "store": totals,
        "implicated": implicated.iter().map(|(key, reasons)| json!({"access_key_id": key, "reasons": reasons})).collect::<Vec<_>>(),
        "lineages": trees,
        "findings": hunt.findings,
        "leftovers": created,
        "audit": audit.data,
    });
    write_report(report_dir, &report, &data)?;

    print_summary(&report, &hunt, report_dir)?;
    Ok(if ingested.had_errors() {
        Outcome::Errors
    } else {
        Outcome::Success
    })
}

fn ingested_line(summary: &crate::ingest::IngestSummary) -> String {
    format!(
        "{} objects found: {} read, {} already in the store, {} failed",
        summary.objects_found,
        summary.ingested + summary.partial + summary.digests,
        summary.skipped_unchanged + summary.skipped_same_content,
        summary.failed + summary.partial
    )
}

fn overview(
    totals: &crate::query::stats::StoreStats,
    ingested: &str,
    implicated: usize,
    hunt: &findings::HuntResult,
    still_present: usize,
) -> Vec<(String, String)> {
    let span = match (&totals.first_event_time, &totals.last_event_time) {
        (Some(first), Some(last)) => format!("{first} – {last}"),
        _ => "no events".into(),
    };
    vec![
        ("This run".into(), ingested.to_string()),
        ("Events in the store".into(), totals.events.to_string()),
        ("Time span".into(), span),
        ("Accounts".into(), totals.accounts.to_string()),
        ("Regions".into(), totals.regions.to_string()),
        (
            "Failed source objects".into(),
            totals.failed_sources.to_string(),
        ),
        ("Findings".into(), hunt.severity_line()),
        ("Implicated credentials".into(), implicated.to_string()),
        ("Still present".into(), still_present.to_string()),
    ]
}

/// Writes the follow timeline of `key` as CSV and Timesketch JSON lines and
/// returns both paths and the number of events.
fn write_timelines(
    lineages: &Lineages,
    key: &str,
    dir: &Path,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf, u64)> {
    let mut frame = lineages
        .follow(&[key.to_string()], TIMELINE_COLUMNS)
        .context("lineage query failed")?;
    let stem = safe_file_stem(key);
    let csv = dir.join(format!("{stem}.csv"));
    let timesketch = dir.join(format!("{stem}.timesketch.jsonl"));
    emit(
        &mut frame,
        &Output {
            format: RowFormat::Csv,
            path: Some(csv.clone()),
        },
    )?;
    emit(
        &mut frame,
        &Output {
            format: RowFormat::Timesketch,
            path: Some(timesketch.clone()),
        },
    )?;
    Ok((csv, timesketch, frame.height() as u64))
}

/// Builds a file name from the key's letters and digits, because keys come
/// from the logs and the command line. A key with other characters gets a
/// hash of its full text, so two keys never share a file.
fn safe_file_stem(key: &str) -> String {
    use sha2::Digest;
    let stem: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    if !stem.is_empty() && stem == key {
        return stem;
    }
    let hash = sha2::Sha256::digest(key.as_bytes());
    let hash: String = hash
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if stem.is_empty() {
        format!("credential-{hash}")
    } else {
        format!("{stem}-{hash}")
    }
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn node_table(tree: &LineageTree) -> anyhow::Result<Table> {
    let nodes: Vec<Value> = tree
        .nodes
        .iter()
        .map(|node| {
            let value = serde_json::to_value(node)?;
            let mut picked = serde_json::Map::new();
            for column in NODE_COLUMNS {
                picked.insert(
                    (*column).to_string(),
                    value.get(*column).cloned().unwrap_or(Value::Null),
                );
            }
            Ok(Value::Object(picked))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(Table::from_objects(&nodes))
}

fn leftover_table<'a>(items: impl Iterator<Item = &'a Leftover>) -> Table {
    let mut table = Table::new(&[
        "kind",
        "name",
        "account",
        "created",
        "by",
        "created with",
        "removed",
    ]);
    for item in items {
        let removed = match &item.removed {
            Some(removal) => format!(
                "{} by {} at {}",
                removal.event_name,
                removal.by.as_deref().unwrap_or("unknown"),
                removal.at.map(format_rfc3339).unwrap_or_default()
            ),
            None => match item.valid_until {
                Some(until) => format!("no; valid until {}", format_rfc3339(until)),
                None => "no".into(),
            },
        };
        table.push(vec![
            item.kind.into(),
            item.name.clone(),
            item.account_id.clone().unwrap_or_default(),
            item.created_at.map(format_rfc3339).unwrap_or_default(),
            item.created_by_credential.clone().unwrap_or_default(),
            item.created_by_event_name.clone().unwrap_or_default(),
            removed,
        ]);
    }
    table
}

fn coverage_table(store: &Store) -> anyhow::Result<Table> {
    let manifest = store.manifest()?;
    let mut table = Table::new(&["source", "status", "records", "reason"]);
    let mut entries: Vec<_> = manifest
        .latest_entries()
        .into_values()
        .filter(|entry| matches!(entry.status, ObjectStatus::Failed | ObjectStatus::Partial))
        .collect();
    entries.sort_by(|a, b| a.uri.cmp(&b.uri));
    for entry in entries {
        table.push(vec![
            entry.uri.clone(),
            format!("{:?}", entry.status).to_lowercase(),
            entry.records.to_string(),
            entry.error.clone().unwrap_or_default(),
        ]);
    }
    Ok(table)
}

/// Prints the short summary: implicated keys with their trees, findings by
/// lineage, what still needs action, and where the report is.
fn print_summary(
    report: &Report,
    hunt: &findings::HuntResult,
    report_dir: &Path,
) -> anyhow::Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "== Overview")?;
    for (label, value) in &report.overview {
        writeln!(out, "  {label}: {}", escape_for_terminal(value))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "== Implicated credentials ({})",
        report.implicated.len()
    )?;
    for credential in &report.implicated {
        writeln!(
            out,
            "{} — {}",
            escape_for_terminal(&credential.access_key_id),
            escape_for_terminal(&findings::shown_reasons(&credential.reasons).join("; "))
        )?;
        // The tree text is escaped line by line when rendered.
        for line in credential.tree_text.lines() {
            writeln!(out, "  {line}")?;
        }
        if let Some(digest) = hunt.digests.get(&credential.access_key_id) {
            writeln!(out, "  Findings in this lineage:")?;
            write_table(&mut out, digest)?;
        }
        writeln!(out)?;
    }
    let elsewhere: usize = hunt
        .digests
        .iter()
        .filter(|(root, _)| {
            !report
                .implicated
                .iter()
                .any(|credential| &credential.access_key_id == *root)
        })
        .map(|(_, table)| {
            table
                .rows
                .iter()
                .filter_map(|row| row[3].parse::<usize>().ok())
                .sum::<usize>()
        })
        .sum();
    if elsewhere > 0 {
        writeln!(
            out,
            "{elsewhere} findings in other lineages are listed in the report."
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "== Still needs action ({})",
        report.action_needed.rows.len()
    )?;
    if report.action_needed.rows.is_empty() {
        writeln!(
            out,
            "  nothing the implicated credentials created is still present"
        )?;
    } else {
        write_table(&mut out, &report.action_needed)?;
    }
    for section in &report.audit {
        writeln!(out)?;
        writeln!(
            out,
            "== Audit: {} ({})",
            escape_for_terminal(&section.title),
            section.table.rows.len()
        )?;
        if let Some(note) = &section.note {
            writeln!(out, "  {}", escape_for_terminal(note))?;
        }
        // Administrator grants and outside accounts are short and urgent;
        // the role and key inventories stay in the report.
        let inventory =
            section.title.starts_with("Roles seen") || section.title.starts_with("Long-term");
        if !inventory && section.table.rows.len() <= AUDIT_ROWS_PRINTED {
            write_table(&mut out, &section.table)?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Report: {} (also report.md, report.json and timelines/)",
        report_dir.join("report.html").display()
    )?;
    out.flush()?;
    Ok(())
}

fn write_table(out: &mut dyn std::io::Write, table: &Table) -> std::io::Result<()> {
    let result = ResultTable {
        columns: table.columns.clone(),
        rows: table
            .rows
            .iter()
            .map(|row| row.iter().map(|cell| Cell::Text(cell.clone())).collect())
            .collect(),
    };
    result.write_table(out)
}
