//! Running a rule set over the store.
//!
//! 1. One lazy scan, filtered by the union of every rule's column predicate
//!    (event source, event name, outcome, columns), so polars pushes the
//!    filter into the Parquet reader and only candidate rows are decoded.
//! 2. Each rule's own predicate runs as a polars expression over the
//!    candidates and returns row numbers.
//! 3. JSON-path conditions run only on those rows.
//! 4. Aggregate analyses, key-use lookups and the lineage edges are polars
//!    group-bys and filters over the same scan.
//! 5. The severity model: follow-up events, the principals' history (usual
//!    findings, trusted clients, key rotations, new addresses), then
//!    correlations, then the lineage raise.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use super::condition::{
    GrantSpan, OrgContext, json_holds, match_expression, value_text, values_at,
};
use super::correlate::correlate;
use super::custom_policies;
use super::event::{EVENT_COLUMNS, Event, events_from_frame};
use super::finding::Finding;
use super::follow_up::apply_follow_ups;
use super::habits::{Habits, client_of, principal_key};
use super::lineage::LineageRoots;
use super::rotation::{SwitchOffs, apply_rotation};
use super::rule::{Analysis, KEY_USE_RULE_ID, Match, Rule, RuleSet, Tactic, Threshold, json_root};
use super::severity::{apply_habits, apply_lineage_raise, apply_new_ip_context, event_severity};
use crate::query::audit::{AuditOptions, group_admin_grants};
use crate::query::timeline::time_literal;
use crate::query::{text_values, time_values};
use crate::store::scan::{distinct_events, empty_events, scan_events};
use crate::store::{Store, StoreError};
use crate::time::Micros;

/// Settings of one hunt.
#[derive(Debug, Clone, Default)]
pub struct HuntOptions {
    pub since: Option<Micros>,
    pub until: Option<Micros>,
    /// Accounts of the organization; `None` takes the accounts seen in the store.
    pub org_accounts: Option<BTreeSet<String>>,
}

/// Error of a hunt.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("hunt query failed: {0}")]
    Polars(#[from] PolarsError),
    #[error(transparent)]
    Lineage(#[from] crate::query::QueryError),
}

/// Runs every rule and returns the reportable findings sorted by time.
///
/// The rules run over the whole store up to `until`, because what happened
/// before `since` is the history the severity model compares with (earlier
/// findings, addresses and clients, key rotations). Findings that ended
/// before `since` are dropped at the end.
pub fn hunt(
    store: &Store,
    rules: &RuleSet,
    options: &HuntOptions,
) -> Result<Vec<Finding>, HuntError> {
    let scan = history_scan(store, options.until)?;
    let accounts = match &options.org_accounts {
        Some(accounts) => accounts.clone(),
        None => accounts_in_store(scan.clone())?,
    };
    let org = OrgContext {
        accounts,
        admin_groups: admin_groups(store, options.until)?,
        powerful_policies: custom_policies::load(scan.clone())?,
    };
    let lineage = LineageRoots::from_store(store, None, options.until)?;

    let matchers: Vec<(&Rule, &Match)> = rules
        .rules
        .iter()
        .filter_map(|rule| rule.matcher.as_ref().map(|matcher| (rule, matcher)))
        .collect();
    let mut findings = Vec::new();
    if let Some(union) = matchers
        .iter()
        .map(|(_, matcher)| match_expression(matcher))
        .reduce(|all, next| all.or(next))
    {
        let columns: Vec<Expr> = EVENT_COLUMNS.iter().map(|name| col(*name)).collect();
        let mut candidates = distinct_events(scan.clone().filter(union))
            .select(columns)
            .collect()?;
        // One chunk per column, so events find their row in constant time.
        candidates.rechunk_mut_par();
        let events = events_from_frame(&candidates)?;
        for (rule, matcher) in &matchers {
            let rows = rule_rows(&candidates, matcher)?;
            let matched: Vec<&Event> = rows
                .into_iter()
                .map(|row| &events[row])
                .filter(|event| {
                    matcher
                        .conditions
                        .iter()
                        .all(|condition| json_holds(condition, event, &org))
                })
                .filter(|event| !matcher.other_user || acts_on_other_user(event))
                .collect();
            match &rule.threshold {
                Some(threshold) => findings.extend(threshold_findings(
                    rule, matcher, threshold, &matched, &org, &lineage,
                )),
                None => findings.extend(
                    matched
                        .iter()
                        .map(|event| event_finding(rule, matcher, event, &org, &lineage)),
                ),
            }
        }
    }

    let new_ips = new_source_ips(scan.clone())?;
    let mut new_ip_rules = BTreeSet::new();
    for rule in rules.rules.iter().filter(|rule| rule.analysis.is_some()) {
        match rule.analysis {
            Some(Analysis::NewSourceIpForLongTermKey) => {
                new_ip_rules.insert(rule.id.clone());
                findings.extend(
                    new_ips
                        .iter()
                        .map(|pair| new_ip_finding(rule, pair, &lineage)),
                );
            }
            None => {}
        }
    }

    apply_follow_ups(&scan, &rules.rules, &mut findings)?;
    let new_ip_principals: Vec<&str> = new_ips
        .iter()
        .filter_map(|pair| pair.principal_arn.as_deref())
        .collect();
    let habits = Habits::load(scan.clone(), &findings, &new_ip_principals)?;
    apply_habits(&mut findings, &habits);
    apply_rotation(&mut findings, &SwitchOffs::load(scan.clone())?);
    apply_new_ip_context(&mut findings, &new_ips, &habits, &new_ip_rules);

    if rules
        .rules
        .iter()
        .filter_map(|rule| rule.correlation.as_ref())
        .any(|correlation| {
            correlation
                .steps
                .iter()
                .any(|step| step.rules.iter().any(|id| id == KEY_USE_RULE_ID))
        })
    {
        findings.extend(key_use_findings(scan.clone(), &findings, &lineage)?);
    }

    let correlated = correlate(rules, &findings);
    findings.extend(correlated);
    apply_lineage_raise(&mut findings);

    findings.retain(|finding| {
        finding.report
            && options
                .since
                .is_none_or(|since| finding.last_event_time >= since)
    });
    for finding in &mut findings {
        finding.finish_summary();
    }
    findings.sort_by(|a, b| {
        (a.first_event_time, &a.rule_id, &a.event_ids).cmp(&(
            b.first_event_time,
            &b.rule_id,
            &b.event_ids,
        ))
    });
    Ok(findings)
}

/// Builds a lazy scan of the store's events up to `until`.
fn history_scan(store: &Store, until: Option<Micros>) -> Result<LazyFrame, HuntError> {
    let mut scan = scan_events(store, None, until)?.unwrap_or_else(empty_events);
    if let Some(until) = until {
        scan = scan.filter(col("event_time").lt_eq(time_literal(until)));
    }
    Ok(scan)
}

/// Reads the administrator grants to groups from the whole store up to
/// `until`, because a group made administrator before `--since` still is.
fn admin_groups(
    store: &Store,
    until: Option<Micros>,
) -> Result<HashMap<(String, String), Vec<GrantSpan>>, HuntError> {
    let options = AuditOptions {
        until,
        ..AuditOptions::default()
    };
    let mut groups: HashMap<(String, String), Vec<GrantSpan>> = HashMap::new();
    for grant in group_admin_grants(store, &options)? {
        groups
            .entry((grant.account_id, grant.principal_name.to_lowercase()))
            .or_default()
            .push((grant.time, grant.removed.map(|removal| removal.time)));
    }
    Ok(groups)
}

fn accounts_in_store(scan: LazyFrame) -> PolarsResult<BTreeSet<String>> {
    let frame = scan
        .select([col("recipient_account_id")])
        .unique(None, UniqueKeepStrategy::First)
        .collect()?;
    let accounts = frame
        .column("recipient_account_id")?
        .str()?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    Ok(accounts)
}

/// Returns the candidate row numbers that pass a rule's column predicate.
fn rule_rows(candidates: &DataFrame, matcher: &Match) -> PolarsResult<Vec<usize>> {
    let rows = candidates
        .clone()
        .lazy()
        .with_row_index("row", None)
        .filter(match_expression(matcher))
        .select([col("row")])
        .collect()?;
    let rows = rows
        .column("row")?
        .idx()?
        .iter()
        .flatten()
        .map(|row| row as usize)
        .collect();
    Ok(rows)
}

/// True when the call acts on a user other than the caller. The target is
/// `requestParameters.userName` (or the minted key's user); with none, the
/// caller acts on itself.
fn acts_on_other_user(event: &Event) -> bool {
    let Some(target) = event
        .column_text("target_user_name")
        .or(event.column_text("minted_user_name"))
    else {
        // A root caller with no target user acts on the root user, which
        // AWS advises against in every case (root access keys, root password).
        return event.column_text("identity_type") == Some("Root");
    };
    let is_self = event
        .column_text("principal_arn")
        .is_some_and(|arn| arn.ends_with(&format!("user/{target}")))
        || event.column_text("user_name") == Some(target);
    !is_self
}

/// Returns the object the event acted on: the first present of the rule's
/// `target` entries, else the target columns.
fn event_target(matcher: &Match, event: &Event) -> Option<String> {
    for entry in matcher.target.values() {
        let value = match json_root(&entry) {
            Some((column, rest)) => event
                .json(column)
                .and_then(|root| {
                    values_at(root, rest)
                        .into_iter()
                        .find(|value| !value.is_null())
                })
                .map(value_text),
            None => event.text(&entry),
        };
        if value.is_some() {
            return value;
        }
    }
    [
        "target_user_name",
        "target_role_name",
        "target_group_name",
        "target_policy_arn",
    ]
    .iter()
    .find_map(|column| event.text(column))
}

fn event_finding(
    rule: &Rule,
    matcher: &Match,
    event: &Event,
    org: &OrgContext,
    lineage: &LineageRoots,
) -> Finding {
    let access_key_id = event.text("access_key_id");
    let (severity, reasons, automation_tool) = event_severity(rule, event, org);
    let target = event_target(matcher, event);
    let mut finding = Finding {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        severity,
        technique: rule.technique.clone(),
        tactic: rule.tactic,
        first_event_time: event.event_time,
        last_event_time: event.event_time,
        event_ids: event.text("event_id").into_iter().collect(),
        principal_arn: event.text("principal_arn"),
        lineage_root_access_key_id: access_key_id.as_deref().and_then(|key| lineage.root(key)),
        access_key_id,
        target,
        account_id: event.text("recipient_account_id"),
        region: event.text("aws_region"),
        source_ips: event.text("source_ip").into_iter().collect(),
        summary: String::new(),
        actor_user: event.text("user_name"),
        minted_key: event.text("minted_access_key_id"),
        failed: event.failed(),
        report: rule.report,
        automation: false,
        lowered: severity < rule.severity,
        reasons,
        event_name: event.text("event_name"),
        client: Some(client_of(event.column_text("user_agent").unwrap_or(""))),
        principal_key: principal_key(event),
        automation_tool,
        implicated: false,
        follow_up_key: rule
            .followed_by
            .iter()
            .flat_map(|follow_up| follow_up.same.iter())
            .map(|column| event.text(column))
            .collect(),
    };
    finding.summary = event_summary(&finding, event);
    finding
}

/// Builds the one-line summary: call, caller, target and outcome; the
/// severity reasons are added once the severity is final.
fn event_summary(finding: &Finding, event: &Event) -> String {
    let mut summary = format!(
        "{} by {}",
        event.column_text("event_name").unwrap_or("?"),
        caller_name(finding, event)
    );
    if let Some(target) = &finding.target {
        summary.push_str(&format!(" on {target}"));
    }
    if let Some(code) = event.column_text("error_code") {
        summary.push_str(&format!(", failed with {code}"));
    }
    summary
}

/// Names the caller: its ARN, else its principal id and account (an outside
/// account's caller in the role owner's copy of an event).
fn caller_name(finding: &Finding, event: &Event) -> String {
    if let Some(arn) = &finding.principal_arn {
        return arn.clone();
    }
    match (
        event.column_text("principal_id"),
        event.column_text("identity_account_id"),
    ) {
        (Some(id), Some(account)) => format!("{id} of account {account}"),
        (Some(id), None) => id.to_string(),
        (None, Some(account)) => format!("account {account}"),
        (None, None) => "unknown principal".to_string(),
    }
}

/// A threshold run's group: the `group_by` values and the lineage root.
type RunKey<'a> = (Vec<Option<&'a str>>, Option<String>);

/// Groups matched events and reports each run of at least `min` events (or
/// distinct values) within the window once.
fn threshold_findings(
    rule: &Rule,
    matcher: &Match,
    threshold: &Threshold,
    events: &[&Event],
    org: &OrgContext,
    lineage: &LineageRoots,
) -> Vec<Finding> {
    // Runs never mix lineages: one user's calls with a leaked key and with
    // its replacement are two runs, each with its own root.
    let mut groups: HashMap<RunKey, Vec<&Event>> = HashMap::new();
    for event in events {
        let columns = threshold
            .group_by
            .iter()
            .map(|column| event.column_text(column))
            .collect();
        let root = event
            .column_text("access_key_id")
            .and_then(|key| lineage.root(key));
        groups.entry((columns, root)).or_default().push(event);
    }
    let window = threshold.window_minutes.saturating_mul(60_000_000);
    let mut findings = Vec::new();
    let mut keys: Vec<_> = groups.keys().cloned().collect();
    keys.sort();
    for key in keys {
        let mut group = groups.remove(&key).unwrap_or_default();
        group.sort_by_key(|event| event.event_time);
        let mut start = 0;
        while start < group.len() {
            let end = group[start..]
                .iter()
                .position(|event| event.event_time - group[start].event_time > window)
                .map_or(group.len(), |offset| start + offset);
            let run = &group[start..end];
            if distinct_count(threshold, run) >= threshold.min {
                findings.push(run_finding(rule, matcher, run, org, lineage));
                start = end;
            } else {
                start += 1;
            }
        }
    }
    findings
}

fn distinct_count(threshold: &Threshold, run: &[&Event]) -> usize {
    let Some(distinct) = &threshold.distinct else {
        return run.len();
    };
    let mut values = BTreeSet::new();
    for event in run {
        match json_root(distinct) {
            Some((column, rest)) => {
                if let Some(root) = event.json(column) {
                    values.extend(values_at(root, rest).into_iter().map(value_text));
                }
            }
            None => values.extend(event.text(distinct)),
        }
    }
    values.len()
}

fn run_finding(
    rule: &Rule,
    matcher: &Match,
    run: &[&Event],
    org: &OrgContext,
    lineage: &LineageRoots,
) -> Finding {
    let mut finding = event_finding(rule, matcher, run[0], org, lineage);
    finding.last_event_time = run
        .last()
        .map_or(finding.first_event_time, |event| event.event_time);
    finding.event_ids = run
        .iter()
        .filter_map(|event| event.text("event_id"))
        .collect();
    finding.source_ips = run
        .iter()
        .filter_map(|event| event.text("source_ip"))
        .collect();
    finding.failed = run.iter().all(|event| event.failed());
    let failures = run.iter().filter(|event| event.failed()).count();
    finding.summary = format!(
        "{} {} calls by {} within {} min ({} failed)",
        run.len(),
        run[0].column_text("event_name").unwrap_or("?"),
        caller_name(&finding, run[0]),
        rule.threshold
            .as_ref()
            .map_or(0, |threshold| threshold.window_minutes),
        failures
    );
    finding
}

/// A long-term key's first use from a source IP after it had used another.
#[derive(Debug, Clone)]
pub struct NewIpUse {
    pub access_key_id: String,
    pub source_ip: String,
    pub first_seen: i64,
    pub event_id: Option<String>,
    pub principal_arn: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// Client of the first event from the address (see [`client_of`]).
    pub client: String,
    /// The key's first use from any address.
    pub key_first_seen: i64,
}

/// Finds, with one polars group-by over every long-term key event, each
/// (key, IP) pair first seen after the key's first use from another IP.
/// Addresses of AWS services (`*.amazonaws.com`, `AWS Internal`) are skipped.
fn new_source_ips(scan: LazyFrame) -> PolarsResult<Vec<NewIpUse>> {
    let by_time = || SortMultipleOptions::default();
    let pairs = scan
        .filter(
            col("caller_key_kind")
                .eq(lit("long-term"))
                .and(col("source_ip").is_not_null())
                .and(col("access_key_id").is_not_null()),
        )
        .filter(
            col("source_ip")
                .str()
                .ends_with(lit("amazonaws.com"))
                .or(col("source_ip").eq(lit("AWS Internal")))
                .not(),
        )
        .group_by([col("access_key_id"), col("source_ip")])
        .agg([
            col("event_time").min().alias("first_seen"),
            col("event_id")
                .sort_by([col("event_time")], by_time())
                .first()
                .alias("event_id"),
            col("principal_arn")
                .sort_by([col("event_time")], by_time())
                .first()
                .alias("principal_arn"),
            col("recipient_account_id")
                .sort_by([col("event_time")], by_time())
                .first()
                .alias("account_id"),
            col("aws_region")
                .sort_by([col("event_time")], by_time())
                .first()
                .alias("region"),
            col("user_agent")
                .sort_by([col("event_time")], by_time())
                .first()
                .alias("user_agent"),
        ])
        .with_column(
            col("first_seen")
                .min()
                .over([col("access_key_id")])?
                .alias("key_first_seen"),
        )
        .filter(col("first_seen").gt(col("key_first_seen")))
        .sort(
            ["first_seen", "access_key_id"],
            SortMultipleOptions::default(),
        )
        .collect()?;

    let text = |name: &str| text_values(&pairs, name);
    let keys = text("access_key_id")?;
    let ips = text("source_ip")?;
    let event_ids = text("event_id")?;
    let principals = text("principal_arn")?;
    let accounts = text("account_id")?;
    let regions = text("region")?;
    let agents = text("user_agent")?;
    let first_seen = time_values(&pairs, "first_seen")?;
    let key_first_seen = time_values(&pairs, "key_first_seen")?;
    let mut uses = Vec::with_capacity(pairs.height());
    for row in 0..pairs.height() {
        let (Some(key), Some(ip)) = (keys[row].clone(), ips[row].clone()) else {
            continue;
        };
        uses.push(NewIpUse {
            access_key_id: key,
            source_ip: ip,
            first_seen: first_seen[row].unwrap_or(0),
            event_id: event_ids[row].clone(),
            principal_arn: principals[row].clone(),
            account_id: accounts[row].clone(),
            region: regions[row].clone(),
            client: client_of(agents[row].as_deref().unwrap_or("")),
            key_first_seen: key_first_seen[row].unwrap_or(0),
        });
    }
    Ok(uses)
}

fn new_ip_finding(rule: &Rule, pair: &NewIpUse, lineage: &LineageRoots) -> Finding {
    Finding {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        technique: rule.technique.clone(),
        tactic: rule.tactic,
        first_event_time: pair.first_seen,
        last_event_time: pair.first_seen,
        event_ids: pair.event_id.clone().into_iter().collect(),
        principal_arn: pair.principal_arn.clone(),
        access_key_id: Some(pair.access_key_id.clone()),
        lineage_root_access_key_id: lineage.root(&pair.access_key_id),
        target: Some(pair.access_key_id.clone()),
        account_id: pair.account_id.clone(),
        region: pair.region.clone(),
        source_ips: BTreeSet::from([pair.source_ip.clone()]),
        summary: format!(
            "long-term key {} first used from {} after using another address",
            pair.access_key_id, pair.source_ip
        ),
        actor_user: None,
        minted_key: None,
        failed: false,
        report: rule.report,
        automation: false,
        lowered: false,
        reasons: Vec::new(),
        event_name: None,
        client: Some(pair.client.clone()),
        principal_key: None,
        automation_tool: false,
        implicated: false,
        follow_up_key: Vec::new(),
    }
}

/// Finds the first use of every key that a finding minted, with one polars
/// filter and group-by; the results feed correlation steps named `key-use`.
fn key_use_findings(
    scan: LazyFrame,
    findings: &[Finding],
    lineage: &LineageRoots,
) -> PolarsResult<Vec<Finding>> {
    let minted: BTreeSet<String> = findings
        .iter()
        .filter_map(|finding| finding.minted_key.clone())
        .collect();
    if minted.is_empty() {
        return Ok(Vec::new());
    }
    let keys = Series::new("keys".into(), minted.into_iter().collect::<Vec<_>>());
    let by_time = || SortMultipleOptions::default();
    let first = |name: &str| {
        col(name)
            .sort_by([col("event_time")], by_time())
            .first()
            .alias(name)
    };
    let uses = scan
        .filter(
            col("access_key_id")
                .is_in(lit(keys).implode(false), false)
                .fill_null(false),
        )
        .group_by([col("access_key_id")])
        .agg([
            col("event_time").min().alias("event_time"),
            first("event_id"),
            first("principal_arn"),
            first("source_ip"),
            first("recipient_account_id"),
            first("aws_region"),
            first("event_name"),
        ])
        .collect()?;
    let text = |name: &str| text_values(&uses, name);
    let keys = text("access_key_id")?;
    let event_ids = text("event_id")?;
    let principals = text("principal_arn")?;
    let ips = text("source_ip")?;
    let accounts = text("recipient_account_id")?;
    let regions = text("aws_region")?;
    let names = text("event_name")?;
    let times = time_values(&uses, "event_time")?;
    let mut result = Vec::new();
    for row in 0..uses.height() {
        let Some(key) = keys[row].clone() else {
            continue;
        };
        let time = times[row].unwrap_or(0);
        result.push(Finding {
            rule_id: KEY_USE_RULE_ID.to_string(),
            title: "First use of a minted key".to_string(),
            severity: super::rule::Severity::Info,
            technique: "T1078.004".to_string(),
            tactic: Tactic::CredentialAccess,
            first_event_time: time,
            last_event_time: time,
            event_ids: event_ids[row].clone().into_iter().collect(),
            principal_arn: principals[row].clone(),
            lineage_root_access_key_id: lineage.root(&key),
            target: None,
            account_id: accounts[row].clone(),
            region: regions[row].clone(),
            source_ips: ips[row].clone().into_iter().collect(),
            summary: format!(
                "{} first used in {}",
                key,
                names[row].as_deref().unwrap_or("?")
            ),
            access_key_id: Some(key),
            actor_user: None,
            minted_key: None,
            failed: false,
            report: false,
            automation: false,
            lowered: false,
            reasons: Vec::new(),
            event_name: names[row].clone(),
            client: None,
            principal_key: None,
            automation_tool: false,
            implicated: false,
            follow_up_key: Vec::new(),
        });
    }
    Ok(result)
}
