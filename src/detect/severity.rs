//! The severity model: the same API call is an attack in one context and
//! routine in another, so a rule's base severity moves with the context.
//!
//! Per event, in order: the rule's own `adjust` entries (external or `*`
//! trust, admin policies, ExternalId or organization conditions, read-only
//! policies), then -1 for a failed call (the attempt is still evidence) and
//! -2 for an AWS service acting for itself. Then, from the principal's own
//! history, -1 when it acted in its usual way (see [`apply_habits`]), and -1
//! for a key rotation. Then the new source IPs of long-term keys are weighed
//! against the key's history (see [`apply_new_ip_context`]). Last, +1 for
//! every finding in an implicated lineage: one with a high or critical
//! correlation finding, or high findings of two or more rules.

use std::collections::{BTreeSet, HashMap};

use super::condition::{OrgContext, column_holds, json_holds};
use super::engine::NewIpUse;
use super::event::Event;
use super::finding::Finding;
use super::habits::{ESTABLISHED, Habits, USUAL_MIN_HOURS, usual_counts};
use super::rule::{Rule, Severity, Tactic};

/// User-agent fragments of infrastructure-as-code and CI tools, compared
/// without regard to case.
const AUTOMATION_USER_AGENTS: &[&str] = &[
    "terraform",
    "hashicorp",
    "pulumi",
    "aws-cdk",
    "cloudformation",
    "crossplane",
    "ansible",
    "github-actions",
    "gitlab-runner",
    "atlantis",
];

/// Computes an event finding's severity from the rule and the event alone,
/// the reasons for each change, and whether an IaC or CI tool made the call.
pub fn event_severity(
    rule: &Rule,
    event: &Event,
    org: &OrgContext,
) -> (Severity, Vec<String>, bool) {
    let mut severity = rule.severity;
    let mut reasons = Vec::new();
    for adjustment in &rule.adjust {
        let holds = adjustment
            .when
            .iter()
            .all(|condition| json_holds(condition, event, org))
            && adjustment
                .columns
                .iter()
                .all(|condition| column_holds(condition, event));
        if holds {
            severity = severity.shifted(adjustment.change);
            reasons.push(format!("{:+} {}", adjustment.change, adjustment.reason));
        }
    }
    if let Some(code) = event.column_text("error_code") {
        severity = severity.shifted(-1);
        reasons.push(format!("-1 failed attempt ({code})"));
    }
    if is_aws_service(event) {
        severity = severity.shifted(-2);
        reasons.push("-2 AWS service acting for itself".to_string());
    }
    (severity, reasons, is_automation(event))
}

/// True for calls an AWS service makes for itself: `AWSService` identities
/// and service-linked roles.
fn is_aws_service(event: &Event) -> bool {
    event.column_text("identity_type") == Some("AWSService")
        || event.column_text("principal_arn").is_some_and(|arn| {
            arn.contains("/aws-service-role/") || arn.contains(":assumed-role/AWSServiceRole")
        })
}

/// True for calls from IaC or CI tools, by user agent or because
/// CloudFormation made them for a stack.
fn is_automation(event: &Event) -> bool {
    if event.column_text("invoked_by") == Some("cloudformation.amazonaws.com") {
        return true;
    }
    event.column_text("user_agent").is_some_and(|agent| {
        let agent = agent.to_ascii_lowercase();
        AUTOMATION_USER_AGENTS
            .iter()
            .any(|tool| agent.contains(tool))
    })
}

/// Lowers by one level each event finding whose principal acted in its
/// usual way. That is an IaC or CI client trusted for it (see
/// [`Habits::client_trusted`]), or [`USUAL_MIN_HOURS`] earlier successful
/// findings of the same rule by the same principal and client, at least an
/// hour apart.
pub fn apply_habits(findings: &mut [Finding], habits: &Habits) {
    let counts = usual_counts(findings);
    for (finding, earlier) in findings.iter_mut().zip(counts) {
        let (Some(principal), Some(client)) =
            (finding.principal_key.clone(), finding.client.clone())
        else {
            continue;
        };
        let time = finding.first_event_time;
        if finding.automation_tool && habits.client_trusted(&principal, &client, time) {
            finding.automation = true;
            finding.shift(-1, "IaC or CI tool trusted for this principal");
        } else if earlier >= USUAL_MIN_HOURS {
            finding.shift(
                -1,
                format!(
                    "usual for this principal: {earlier} earlier findings of this rule with the same client, an hour or more apart"
                ),
            );
        }
    }
}

/// Comparison of a long-term key's first use from an address with its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddressChange {
    /// Less than [`ESTABLISHED`] of history before it.
    TooLittleHistory,
    /// From a client trusted for the key's user (see
    /// [`Habits::client_trusted`]): the same tool elsewhere.
    KnownClient,
    /// From a client not trusted for the key either.
    NewClient,
}

/// Weighs the new source IPs of long-term keys. The finding of a pair (from
/// one of the `new_ip_rules`) is lowered by one level unless both the
/// address and the client are new to the key's user. Such a pair raises every
/// later finding of the key from that address by one level instead.
/// A key needs [`ESTABLISHED`] of history before either is judged.
pub fn apply_new_ip_context(
    findings: &mut [Finding],
    new_ips: &[NewIpUse],
    habits: &Habits,
    new_ip_rules: &BTreeSet<String>,
) {
    let mut changes: HashMap<(&str, &str), (AddressChange, i64)> = HashMap::new();
    for pair in new_ips {
        let change = if pair.first_seen - pair.key_first_seen < ESTABLISHED {
            AddressChange::TooLittleHistory
        } else if pair.principal_arn.as_deref().is_some_and(|principal| {
            habits.client_trusted(principal, &pair.client, pair.first_seen)
        }) {
            AddressChange::KnownClient
        } else {
            AddressChange::NewClient
        };
        changes.insert(
            (pair.access_key_id.as_str(), pair.source_ip.as_str()),
            (change, pair.first_seen),
        );
    }
    for finding in findings.iter_mut() {
        let Some(key) = finding.access_key_id.clone() else {
            continue;
        };
        if !key.starts_with("AKIA") {
            continue;
        }
        if new_ip_rules.contains(&finding.rule_id) {
            let ip = finding.source_ips.first().cloned().unwrap_or_default();
            match changes.get(&(key.as_str(), ip.as_str())) {
                Some((AddressChange::TooLittleHistory, _)) => finding.shift(
                    -1,
                    "less than 12 hours of the key's history to compare with",
                ),
                Some((AddressChange::KnownClient, _)) => {
                    finding.shift(-1, "a client trusted for the key's user")
                }
                _ => {}
            }
            continue;
        }
        let is_new = finding.source_ips.iter().any(|ip| {
            changes
                .get(&(key.as_str(), ip.as_str()))
                .is_some_and(|&(change, first)| {
                    change == AddressChange::NewClient && first <= finding.first_event_time
                })
        });
        if is_new {
            finding.shift(1, "long-term key from a new source IP and a new client");
        }
    }
}

/// How long before a lineage's first high finding its findings are still
/// raised, for the reconnaissance that leads up to it.
const RAISE_LEAD: i64 = 3_600_000_000;

/// Marks every finding in an implicated lineage and raises by one level the
/// ones that are not correlations and end at most [`RAISE_LEAD`] before the
/// lineage's first high finding. A lineage is implicated when it has a high
/// or critical correlation finding, or high or critical findings from two or
/// more rules.
pub fn apply_lineage_raise(findings: &mut [Finding]) {
    // Per root: the rules of its high findings, and when its earliest high
    // finding began.
    let mut high_rules: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut correlated: BTreeSet<String> = BTreeSet::new();
    let mut first_high: HashMap<String, i64> = HashMap::new();
    for finding in findings.iter().filter(|finding| finding.report) {
        let Some(root) = &finding.lineage_root_access_key_id else {
            continue;
        };
        if finding.severity < Severity::High {
            continue;
        }
        first_high
            .entry(root.clone())
            .and_modify(|first| *first = (*first).min(finding.first_event_time))
            .or_insert(finding.first_event_time);
        if finding.tactic == Tactic::Correlation {
            correlated.insert(root.clone());
        } else {
            high_rules
                .entry(root.clone())
                .or_default()
                .insert(finding.rule_id.clone());
        }
    }
    let implicated: BTreeSet<String> = high_rules
        .into_iter()
        .filter(|(_, rules)| rules.len() >= 2)
        .map(|(root, _)| root)
        .chain(correlated)
        .collect();
    for finding in findings.iter_mut() {
        let Some(root) = finding.lineage_root_access_key_id.clone() else {
            continue;
        };
        if !implicated.contains(&root) {
            continue;
        }
        finding.implicated = true;
        // The key's routine use long before the first high finding (a CI
        // pipeline deploying before its key leaked) is not raised.
        let since = first_high
            .get(&root)
            .map_or(i64::MIN, |&first| first - RAISE_LEAD);
        if finding.tactic != Tactic::Correlation && finding.last_event_time >= since {
            finding.shift(1, format!("lineage of {root} implicated"));
        }
    }
}
