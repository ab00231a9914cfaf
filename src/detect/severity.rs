//! The severity model: the same API call is an attack in one context and
//! routine in another, so a rule's base severity moves with the context.
//!
//! Per event, in order: the rule's own `adjust` entries (external or `*`
//! trust, admin policies, ExternalId or organization conditions, read-only
//! policies), then -1 for a failed call (the attempt is still evidence),
//! -2 for an AWS service acting for itself, -1 for an IaC or CI principal.
//! Then +1 for a finding made with a long-term key from a new source IP, and
//! last +1 for every finding in an implicated lineage: one with a high or
//! critical correlation finding, or high findings of two or more rules.

use std::collections::{BTreeSet, HashMap};

use super::condition::{OrgContext, column_holds, json_holds};
use super::engine::NewIpUse;
use super::event::Event;
use super::finding::Finding;
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

/// Computes an event finding's severity, the reasons for each change, and
/// whether the automation discount applied.
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
    let automation = is_automation(event);
    if automation {
        severity = severity.shifted(-1);
        reasons.push("-1 IaC or CI principal".to_string());
    }
    (severity, reasons, automation)
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
///
/// NOTE: "acting in their usual way" is judged from the tool alone; a CI
/// principal's history of the same call is not checked yet.
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

/// Raises findings made with a long-term key from a source IP that key had
/// not used before (+1), except the new-IP findings themselves.
pub fn apply_new_ip_raise(findings: &mut [Finding], new_ips: &[NewIpUse]) {
    let pairs: HashMap<(&str, &str), i64> = new_ips
        .iter()
        .map(|pair| {
            (
                (pair.access_key_id.as_str(), pair.source_ip.as_str()),
                pair.first_seen,
            )
        })
        .collect();
    for finding in findings.iter_mut() {
        let Some(key) = finding.access_key_id.as_deref() else {
            continue;
        };
        if !key.starts_with("AKIA") || finding.target.as_deref() == Some(key) {
            continue;
        }
        let is_new = finding.source_ips.iter().any(|ip| {
            pairs
                .get(&(key, ip.as_str()))
                .is_some_and(|&first| first <= finding.first_event_time)
        });
        if is_new {
            finding.severity = finding.severity.shifted(1);
            finding
                .reasons
                .push("+1 long-term key from a new source IP".to_string());
        }
    }
}

/// Raises every finding in an implicated lineage by one level. A lineage is
/// implicated when it has a high or critical correlation finding, or high or
/// critical findings from two or more rules.
pub fn apply_lineage_raise(findings: &mut [Finding]) {
    let mut high_rules: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut implicated: BTreeSet<String> = BTreeSet::new();
    for finding in findings.iter().filter(|finding| finding.report) {
        let Some(root) = &finding.lineage_root_access_key_id else {
            continue;
        };
        if finding.severity < Severity::High {
            continue;
        }
        if finding.tactic == Tactic::Correlation {
            implicated.insert(root.clone());
        } else {
            high_rules
                .entry(root.clone())
                .or_default()
                .insert(finding.rule_id.clone());
        }
    }
    implicated.extend(
        high_rules
            .into_iter()
            .filter(|(_, rules)| rules.len() >= 2)
            .map(|(root, _)| root),
    );
    for finding in findings.iter_mut() {
        let Some(root) = &finding.lineage_root_access_key_id else {
            continue;
        };
        if implicated.contains(root) && finding.tactic != Tactic::Correlation {
            finding.severity = finding.severity.shifted(1);
            finding
                .reasons
                .push(format!("+1 lineage of {root} implicated"));
            if let Some(start) = finding.summary.find(" [") {
                finding.summary.truncate(start);
            }
            finding
                .summary
                .push_str(&format!(" [{}]", finding.reasons.join("; ")));
        }
    }
}
