//! Correlations: ordered (or unordered) sequences of findings joined on a
//! key within a time window, such as CreateUser(U) then an admin policy on U.

use std::collections::{BTreeSet, HashMap};

use super::finding::Finding;
use super::rule::{Correlation, JoinKey, Rule, RuleSet, Step, Tactic};

/// Runs every correlation rule over the findings of the other rules and
/// returns one finding per matched chain (one per join-key value).
pub fn correlate(rules: &RuleSet, findings: &[Finding]) -> Vec<Finding> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|finding| finding.first_event_time);
    let mut result = Vec::new();
    for rule in &rules.rules {
        if let Some(correlation) = &rule.correlation {
            result.extend(correlate_rule(rule, correlation, &sorted));
        }
    }
    result
}

fn step_accepts(step: &Step, finding: &Finding) -> bool {
    let named = step.rules.contains(&finding.rule_id) || step.tactics.contains(&finding.tactic);
    named && finding.tactic != Tactic::Correlation && !(step.success_only && finding.failed)
}

fn join_value(key: JoinKey, finding: &Finding) -> Option<&str> {
    match key {
        JoinKey::Target => finding.target.as_deref(),
        JoinKey::ActorUser => finding.actor_user.as_deref(),
        JoinKey::AccessKey => finding.access_key_id.as_deref(),
        JoinKey::MintedKey => finding.minted_key.as_deref(),
        JoinKey::LineageRoot => finding.lineage_root_access_key_id.as_deref(),
    }
}

fn correlate_rule(rule: &Rule, correlation: &Correlation, findings: &[&Finding]) -> Vec<Finding> {
    let window = correlation.window_minutes.saturating_mul(60_000_000);
    let first_step = &correlation.steps[0];
    // Per later step, its accepted findings by join value, in time order, so
    // each lookup is a binary search rather than a pass over every finding.
    let indexes: Vec<HashMap<&str, Vec<&Finding>>> = correlation.steps[1..]
        .iter()
        .map(|step| {
            let mut index: HashMap<&str, Vec<&Finding>> = HashMap::new();
            for finding in findings
                .iter()
                .filter(|finding| step_accepts(step, finding))
            {
                if let Some(value) = join_value(step.key, finding) {
                    index.entry(value).or_default().push(finding);
                }
            }
            index
        })
        .collect();
    let mut seen_keys = BTreeSet::new();
    let mut result = Vec::new();
    for start in findings
        .iter()
        .filter(|finding| step_accepts(first_step, finding))
    {
        let Some(key) = join_value(first_step.key, start) else {
            continue;
        };
        if seen_keys.contains(key) {
            continue;
        }
        let mut chain = vec![*start];
        let mut previous_time = start.first_event_time;
        for index in &indexes {
            let Some(candidates) = index.get(key) else {
                break;
            };
            let lower = if correlation.ordered {
                previous_time
            } else {
                start.first_event_time.saturating_sub(window)
            };
            let upper = start.first_event_time.saturating_add(window);
            let from = candidates.partition_point(|candidate| candidate.first_event_time < lower);
            let next = candidates[from..]
                .iter()
                .take_while(|candidate| candidate.first_event_time <= upper)
                .find(|candidate| {
                    !chain
                        .iter()
                        .any(|linked| std::ptr::eq(*linked, **candidate))
                });
            match next {
                Some(next) => {
                    previous_time = next.first_event_time;
                    chain.push(next);
                }
                None => break,
            }
        }
        if chain.len() == correlation.steps.len() {
            seen_keys.insert(key.to_string());
            result.push(chain_finding(rule, key, &chain));
        }
    }
    result
}

fn chain_finding(rule: &Rule, key: &str, chain: &[&Finding]) -> Finding {
    let start = chain[0];
    let mut severity = rule.severity;
    let mut reasons = Vec::new();
    if chain.iter().all(|finding| finding.automation) {
        severity = severity.shifted(-1);
        reasons.push("-1 IaC or CI principal".to_string());
    } else if start.lowered {
        // The context that lowered the first step (a reset-required
        // password, a conditioned trust) makes the chain less likely too.
        severity = severity.shifted(-1);
        reasons.push(format!(
            "-1 first step lowered: {}",
            start.reasons.join(", ")
        ));
    }
    let steps: Vec<String> = chain
        .iter()
        .map(|finding| finding.rule_id.clone())
        .collect();
    let summary = format!("{} on {}: {}", rule.title, key, steps.join(" → "));
    Finding {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        severity,
        technique: rule.technique.clone(),
        tactic: rule.tactic,
        first_event_time: chain
            .iter()
            .map(|finding| finding.first_event_time)
            .min()
            .unwrap_or(0),
        last_event_time: chain
            .iter()
            .map(|finding| finding.last_event_time)
            .max()
            .unwrap_or(0),
        event_ids: chain
            .iter()
            .flat_map(|finding| finding.event_ids.iter().cloned())
            .collect(),
        principal_arn: start.principal_arn.clone(),
        access_key_id: start.access_key_id.clone(),
        lineage_root_access_key_id: start.lineage_root_access_key_id.clone(),
        target: start.target.clone().or_else(|| Some(key.to_string())),
        account_id: start.account_id.clone(),
        region: start.region.clone(),
        source_ips: chain
            .iter()
            .flat_map(|finding| finding.source_ips.iter().cloned())
            .collect(),
        summary,
        actor_user: start.actor_user.clone(),
        minted_key: start.minted_key.clone(),
        failed: false,
        report: rule.report,
        automation: chain.iter().all(|finding| finding.automation),
        lowered: severity < rule.severity,
        reasons,
        event_name: None,
        client: None,
        principal_key: None,
        automation_tool: false,
        implicated: false,
        follow_up_key: Vec::new(),
    }
}
