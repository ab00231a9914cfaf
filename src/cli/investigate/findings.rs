//! The hunt part of the investigation: findings grouped by lineage root,
//! and the long-term keys the hunt implicates.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use serde_json::Value;

use super::audit::text_table;
use crate::detect::{Finding, HuntOptions, RuleSet, Severity, findings_table, hunt};
use crate::render::RowFormat;
use crate::report::{Section, Table};
use crate::store::Store;
use crate::time::format_rfc3339;

/// Columns of a findings group in the report and on the terminal.
const GROUP_COLUMNS: &[&str] = &[
    "first_event_time",
    "severity",
    "rule_id",
    "title",
    "target",
    "principal_arn",
    "access_key_id",
    "source_ips",
    "summary",
];

/// Most distinct rule titles the terminal summary lists as the reasons a
/// key is implicated; the report files list them all.
const REASONS_SHOWN: usize = 8;

/// Returns the reasons the terminal summary shows: the first
/// [`REASONS_SHOWN`], then how many more there are.
pub fn shown_reasons(reasons: &[String]) -> Vec<String> {
    let mut listed: Vec<String> = reasons.iter().take(REASONS_SHOWN).cloned().collect();
    if reasons.len() > REASONS_SHOWN {
        listed.push(format!("and {} more rules", reasons.len() - REASONS_SHOWN));
    }
    listed
}

/// Findings as report sections and data, and the keys they implicate.
pub struct HuntResult {
    /// Every finding, as `hunt --format json` writes it.
    pub findings: Value,
    /// One section per lineage root, the root's own first.
    pub groups: Vec<Section>,
    /// Implicated long-term keys, each with the titles of its high and
    /// critical findings.
    pub implicating: BTreeMap<String, Vec<String>>,
    /// Per implicated key: (critical findings, high findings), for ranking.
    pub weight: BTreeMap<String, (usize, usize)>,
    /// Per lineage root: one row per rule, for the terminal summary.
    pub digests: BTreeMap<String, Table>,
    /// Finding counts by severity name, most severe first.
    pub by_severity: Vec<(String, usize)>,
}

impl HuntResult {
    /// Counts by severity as one line, e.g. `3 critical, 5 high, 2 medium`.
    pub fn severity_line(&self) -> String {
        if self.by_severity.is_empty() {
            return "none".into();
        }
        self.by_severity
            .iter()
            .map(|(name, count)| format!("{count} {name}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs the built-in rules over the whole store.
pub fn run_hunt(
    store: &Store,
    org_accounts: Option<BTreeSet<String>>,
) -> anyhow::Result<HuntResult> {
    let rules = RuleSet::load(None).context("cannot load the built-in rules")?;
    let options = HuntOptions {
        org_accounts,
        ..HuntOptions::default()
    };
    let findings = hunt(store, &rules, &options).context("hunt failed")?;

    let mut json = Vec::new();
    findings_table(&findings).write(RowFormat::Json, &mut json)?;
    let findings_json: Value = serde_json::from_slice(&json)?;

    let mut by_root: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    let mut implicating: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut weight: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    // A key is implicated when the hunt implicated its lineage (a high
    // correlation, or high findings of two rules) or when one of its findings
    // is critical. One high finding alone, such as an admin attaching an
    // admin policy, is listed but does not make its key a suspect.
    let suspects: BTreeSet<String> = findings
        .iter()
        .filter(|finding| finding.implicated || finding.severity == Severity::Critical)
        .filter_map(lineage_root)
        .collect();
    for finding in &findings {
        by_root
            .entry(lineage_root(finding).unwrap_or_default())
            .or_default()
            .push(finding);
    }
    // Reasons list the most severe rules first, then by time.
    let mut ranked: Vec<&Finding> = findings.iter().collect();
    ranked.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    for finding in ranked {
        let root = lineage_root(finding);
        if finding.severity >= Severity::High
            && let Some(root) = root.filter(|key| key.starts_with("AKIA") && suspects.contains(key))
        {
            let reason = format!("{} {}", finding.rule_id, finding.title);
            let counts = weight.entry(root.clone()).or_default();
            if finding.severity == Severity::Critical {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
            let reasons = implicating.entry(root).or_default();
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
    }

    let mut groups = Vec::new();
    let mut digests = BTreeMap::new();
    for (root, members) in &by_root {
        digests.insert(root.clone(), digest(members));
        let owned: Vec<Finding> = members.iter().map(|finding| (*finding).clone()).collect();
        let table = findings_table(&owned);
        let table = text_table(&table);
        let title = if root.is_empty() {
            "No known lineage root".to_string()
        } else {
            format!("Lineage of {root}")
        };
        groups.push(Section {
            title,
            note: Some(format!("{} findings", members.len())),
            table: select_columns(&table, GROUP_COLUMNS),
        });
    }
    // Implicated lineages first, the rest after.
    groups.sort_by_key(|group| {
        let root = group.title.trim_start_matches("Lineage of ").to_string();
        (!implicating.contains_key(&root), group.title.clone())
    });

    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for finding in &findings {
        *counts.entry(finding.severity).or_default() += 1;
    }
    let by_severity = counts
        .into_iter()
        .rev()
        .map(|(severity, count)| (severity.name().to_string(), count))
        .collect();
    Ok(HuntResult {
        findings: findings_json,
        groups,
        implicating,
        weight,
        digests,
        by_severity,
    })
}

/// Summarises findings with one row per rule: highest severity, count,
/// first and last time and up to three targets, most severe rule first.
fn digest(findings: &[&Finding]) -> Table {
    struct Row {
        severity: Severity,
        title: String,
        count: usize,
        first: i64,
        last: i64,
        targets: Vec<String>,
    }
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for finding in findings {
        let row = rows.entry(finding.rule_id.as_str()).or_insert_with(|| Row {
            severity: finding.severity,
            title: finding.title.clone(),
            count: 0,
            first: finding.first_event_time,
            last: finding.last_event_time,
            targets: Vec::new(),
        });
        row.severity = row.severity.max(finding.severity);
        row.count += 1;
        row.first = row.first.min(finding.first_event_time);
        row.last = row.last.max(finding.last_event_time);
        if let Some(target) = &finding.target
            && row.targets.len() < 3
            && !row.targets.contains(target)
        {
            row.targets.push(target.clone());
        }
    }
    let mut ordered: Vec<(&str, Row)> = rows.into_iter().collect();
    ordered.sort_by(|a, b| {
        b.1.severity
            .cmp(&a.1.severity)
            .then(a.1.first.cmp(&b.1.first))
    });
    let mut table = Table::new(&[
        "severity", "rule", "title", "count", "first", "last", "targets",
    ]);
    for (rule, row) in ordered {
        table.push(vec![
            row.severity.name().to_string(),
            rule.to_string(),
            row.title,
            row.count.to_string(),
            format_rfc3339(row.first),
            format_rfc3339(row.last),
            row.targets.join(", "),
        ]);
    }
    table
}

/// Returns the long-term key at the top of the finding's lineage, or its own key.
fn lineage_root(finding: &Finding) -> Option<String> {
    finding
        .lineage_root_access_key_id
        .clone()
        .or_else(|| finding.access_key_id.clone())
}

fn select_columns(table: &Table, columns: &[&str]) -> Table {
    let indexes: Vec<usize> = columns
        .iter()
        .filter_map(|name| table.columns.iter().position(|column| column == name))
        .collect();
    Table {
        columns: indexes
            .iter()
            .map(|&index| table.columns[index].clone())
            .collect(),
        rows: table
            .rows
            .iter()
            .map(|row| indexes.iter().map(|&index| row[index].clone()).collect())
            .collect(),
    }
}
