//! Findings: one row per detection, and their output table.

use std::collections::BTreeSet;

use crate::render::{Cell, ResultTable};

use super::rule::{Severity, Tactic};

/// One detection.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub technique: String,
    pub tactic: Tactic,
    /// UTC microseconds.
    pub first_event_time: i64,
    pub last_event_time: i64,
    pub event_ids: Vec<String>,
    pub principal_arn: Option<String>,
    pub access_key_id: Option<String>,
    pub lineage_root_access_key_id: Option<String>,
    /// The user, role, policy, trail or resource acted on.
    pub target: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub source_ips: BTreeSet<String>,
    pub summary: String,

    /// Caller's `userIdentity.userName`, a correlation join key.
    pub actor_user: Option<String>,
    /// Access key the event created, a correlation join key.
    pub minted_key: Option<String>,
    /// The call failed (`errorCode` set).
    pub failed: bool,
    /// False for helper findings that only feed correlations.
    pub report: bool,
    /// The severity model lowered this finding for an IaC or CI principal.
    pub automation: bool,
    /// The context lowered this finding below its rule's base severity
    /// (a failure, a condition on the trust, a reset-required password…).
    pub lowered: bool,
    /// Reasons for severity changes, in order.
    pub reasons: Vec<String>,

    /// The call of the finding's first event.
    pub event_name: Option<String>,
    /// The client of the first event (see [`super::habits::client_of`]).
    pub client: Option<String>,
    /// Whose habits the first event counts toward
    /// (see [`super::habits::principal_key`]).
    pub principal_key: Option<String>,
    /// The first event came from an IaC or CI tool, by user agent or
    /// because CloudFormation made it.
    pub automation_tool: bool,
    /// The finding's lineage is implicated (see the lineage raise).
    pub implicated: bool,
    /// Values of the rule's `followed_by.same` columns in the first event.
    pub follow_up_key: Vec<Option<String>>,
}

impl Finding {
    /// Lowers or raises the severity by `change` levels and records why.
    pub fn shift(&mut self, change: i32, reason: impl std::fmt::Display) {
        self.severity = self.severity.shifted(change);
        self.reasons.push(format!("{change:+} {reason}"));
        if change < 0 {
            self.lowered = true;
        }
    }

    /// Appends the severity reasons to the summary, once every change is made.
    pub fn finish_summary(&mut self) {
        if !self.reasons.is_empty() {
            self.summary = format!("{} [{}]", self.summary, self.reasons.join("; "));
        }
    }
}

/// Output columns of `trailhound hunt`, in order.
pub const FINDING_COLUMNS: &[&str] = &[
    "rule_id",
    "title",
    "severity",
    "technique",
    "first_event_time",
    "last_event_time",
    "event_ids",
    "principal_arn",
    "access_key_id",
    "lineage_root_access_key_id",
    "target",
    "account_id",
    "region",
    "source_ips",
    "summary",
];

fn text(value: &Option<String>) -> Cell {
    value.clone().map_or(Cell::Null, Cell::Text)
}

/// Builds the output table; list values are joined with spaces.
pub fn findings_table(findings: &[Finding]) -> ResultTable {
    let rows = findings
        .iter()
        .map(|finding| {
            vec![
                Cell::Text(finding.rule_id.clone()),
                Cell::Text(finding.title.clone()),
                Cell::Text(finding.severity.name().to_string()),
                Cell::Text(finding.technique.clone()),
                Cell::Time(finding.first_event_time),
                Cell::Time(finding.last_event_time),
                Cell::Text(finding.event_ids.join(" ")),
                text(&finding.principal_arn),
                text(&finding.access_key_id),
                text(&finding.lineage_root_access_key_id),
                text(&finding.target),
                text(&finding.account_id),
                text(&finding.region),
                Cell::Text(
                    finding
                        .source_ips
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Cell::Text(finding.summary.clone()),
            ]
        })
        .collect();
    ResultTable {
        columns: FINDING_COLUMNS
            .iter()
            .map(|name| name.to_string())
            .collect(),
        rows,
    }
}
