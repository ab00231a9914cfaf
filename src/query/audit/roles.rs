//! Roles: who assumed each role from other accounts, when each role was
//! last assumed, which roles were never assumed in the window, and which
//! outside accounts the trust policies set in the window let in.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::DataFrame;

use super::columns::{count, text, text_list, time};
use super::grants::{IamChange, PrincipalKey};
use super::{CrossAccountUse, PrincipalKind, RoleActivity};
use crate::detect::policy::{PolicyDocument, analyze_trust};
use crate::query::QueryError;
use crate::time::Micros;

/// One role assumption, as read from [`super::load::assumptions`].
struct Assumption {
    time: Micros,
    role_arn: String,
    role_account: Option<String>,
    caller_account: Option<String>,
    callers: Vec<String>,
}

fn read_assumptions(frame: &DataFrame) -> Result<Vec<Assumption>, QueryError> {
    let times = time(frame, "event_time")?;
    let roles = text(frame, "role_arn")?;
    let role_accounts = text(frame, "role_account")?;
    let caller_accounts = text(frame, "caller_account")?;
    let callers = text_list(frame, "callers")?;
    let mut rows = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let Some(role_arn) = roles[row].clone() else {
            continue;
        };
        rows.push(Assumption {
            time: times[row].unwrap_or_default(),
            role_arn,
            role_account: role_accounts[row].clone(),
            caller_account: caller_accounts[row].clone(),
            callers: callers[row].clone(),
        });
    }
    Ok(rows)
}

/// Splits a role ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`) into account and name.
fn role_key(arn: &str) -> Option<(String, String)> {
    let mut parts = arn.splitn(6, ':');
    let account = parts.nth(4)?;
    let resource = parts.next()?;
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    Some((account.to_string(), name.to_string()))
}

/// Finds, per role, the outside accounts named by the trust policy last set
/// in the window (accounts other than the role's own and `org_accounts`).
fn trusted_outsiders(
    changes: &[IamChange],
    org_accounts: &BTreeSet<String>,
) -> BTreeMap<(String, String), TrustSeen> {
    let mut latest: BTreeMap<(String, String), TrustSeen> = BTreeMap::new();
    for change in changes {
        let document = match change.event_name.as_str() {
            "CreateRole" => &change.request["assumeRolePolicyDocument"],
            "UpdateAssumeRolePolicy" => &change.request["policyDocument"],
            _ => continue,
        };
        let (Some(account), Some(role)) = (change.account_id.clone(), change.role_name.clone())
        else {
            continue;
        };
        let Some(text) = document.as_str() else {
            continue;
        };
        // NOTE: a trust document that does not parse counts as naming no
        // outsider, so the role still shows, but without trust information.
        let outsiders = PolicyDocument::parse(text)
            .map(|document| analyze_trust(&document, Some(&account), org_accounts))
            .map(|analysis| {
                let mut accounts: Vec<String> = analysis.external_accounts.into_iter().collect();
                if analysis.public {
                    accounts.insert(0, "*".to_string());
                }
                accounts
            })
            .unwrap_or_default();
        let entry = latest.entry((account, role)).or_default();
        entry.changed = change.time;
        for outsider in &outsiders {
            if !entry.ever.contains(outsider) {
                entry.ever.push(outsider.clone());
            }
        }
        entry.latest = outsiders;
    }
    latest
}

/// What the trust policies set in the window say about one role.
#[derive(Default)]
struct TrustSeen {
    /// When the trust policy was last set.
    changed: Micros,
    /// Outside accounts of the last trust policy set.
    latest: Vec<String>,
    /// Outside accounts named by any trust policy set in the window.
    ever: Vec<String>,
}

/// Builds the cross-account section: one row per role and calling account
/// other than the role's own.
pub(super) fn cross_account(
    assumptions_frame: &DataFrame,
    admin_principals: &BTreeSet<PrincipalKey>,
    org_accounts: Option<&BTreeSet<String>>,
) -> Result<Vec<CrossAccountUse>, QueryError> {
    let mut groups: BTreeMap<(String, String), CrossAccountUse> = BTreeMap::new();
    for assumption in read_assumptions(assumptions_frame)? {
        let (Some(role_account), Some(caller_account)) = (
            assumption.role_account.clone(),
            assumption.caller_account.clone(),
        ) else {
            continue;
        };
        if role_account == caller_account {
            continue;
        }
        let role_name = role_key(&assumption.role_arn)
            .map(|(_, name)| name)
            .unwrap_or_default();
        let entry = groups
            .entry((assumption.role_arn.clone(), caller_account.clone()))
            .or_insert_with(|| CrossAccountUse {
                role_arn: assumption.role_arn.clone(),
                role_account: role_account.clone(),
                caller_account: caller_account.clone(),
                first_assumed: assumption.time,
                last_assumed: assumption.time,
                assumptions: 0,
                callers: Vec::new(),
                outside_org: org_accounts.map(|accounts| !accounts.contains(&caller_account)),
                role_granted_admin: admin_principals.contains(&(
                    role_account.clone(),
                    PrincipalKind::Role,
                    role_name.clone(),
                )),
            });
        entry.assumptions += 1;
        entry.first_assumed = entry.first_assumed.min(assumption.time);
        entry.last_assumed = entry.last_assumed.max(assumption.time);
        for caller in assumption.callers {
            if !entry.callers.contains(&caller) {
                entry.callers.push(caller);
            }
        }
    }
    let mut rows: Vec<CrossAccountUse> = groups.into_values().collect();
    for row in &mut rows {
        row.callers.sort();
    }
    Ok(rows)
}

/// Returns the entry of a role, created on first sight.
fn role_entry<'a>(
    roles: &'a mut BTreeMap<(String, String), RoleActivity>,
    account: &str,
    name: &str,
    arn: Option<&str>,
) -> &'a mut RoleActivity {
    let activity = roles
        .entry((account.to_string(), name.to_string()))
        .or_insert_with(|| RoleActivity {
            role_arn: format!("arn:aws:iam::{account}:role/{name}"),
            account_id: account.to_string(),
            role_name: name.to_string(),
            ..RoleActivity::default()
        });
    // Prefer an ARN from the logs, which keeps the role's path.
    if let Some(arn) = arn {
        activity.role_arn = arn.to_string();
    }
    activity
}

/// Builds the role section: every role seen in the window (assumed, used
/// through a session, or changed in IAM), with its last assumption.
pub(super) fn role_activity(
    assumptions_frame: &DataFrame,
    sessions_frame: &DataFrame,
    changes: &[IamChange],
    admin_principals: &BTreeSet<PrincipalKey>,
    org_accounts: Option<&BTreeSet<String>>,
) -> Result<Vec<RoleActivity>, QueryError> {
    let mut roles: BTreeMap<(String, String), RoleActivity> = BTreeMap::new();

    for assumption in read_assumptions(assumptions_frame)? {
        let Some((account, name)) = role_key(&assumption.role_arn) else {
            continue;
        };
        let activity = role_entry(&mut roles, &account, &name, Some(&assumption.role_arn));
        activity.assumptions += 1;
        if activity
            .last_assumed
            .is_none_or(|last| assumption.time >= last)
        {
            activity.last_assumed = Some(assumption.time);
            activity.last_assumed_by = assumption.callers.clone();
            activity.last_assumed_from_account = assumption.caller_account.clone();
        }
    }

    let issuers = text(sessions_frame, "session_issuer_arn")?;
    let calls = count(sessions_frame, "calls")?;
    let last_calls = time(sessions_frame, "last_call")?;
    for row in 0..sessions_frame.height() {
        let Some(arn) = issuers[row].as_deref() else {
            continue;
        };
        let Some((account, name)) = role_key(arn) else {
            continue;
        };
        let activity = role_entry(&mut roles, &account, &name, Some(arn));
        activity.session_calls += calls[row];
        activity.last_session_call = activity.last_session_call.max(last_calls[row]);
    }

    for change in changes {
        if let (Some(account), Some(name)) = (&change.account_id, &change.role_name) {
            let arn = change.response["role"]["arn"].as_str();
            role_entry(&mut roles, account, name, arn);
        }
    }

    let empty = BTreeSet::new();
    let trust = trusted_outsiders(changes, org_accounts.unwrap_or(&empty));
    let mut rows: Vec<RoleActivity> = roles.into_values().collect();
    for row in &mut rows {
        row.never_assumed = row.assumptions == 0;
        row.granted_admin = admin_principals.contains(&(
            row.account_id.clone(),
            PrincipalKind::Role,
            row.role_name.clone(),
        ));
        if let Some(seen) = trust.get(&(row.account_id.clone(), row.role_name.clone())) {
            row.trust_changed = Some(seen.changed);
            row.trusted_outside_accounts = seen.latest.clone();
            row.ever_trusted_outside_accounts = seen.ever.clone();
        }
    }
    // Stale roles first: never assumed, then the oldest last assumption.
    rows.sort_by(|a, b| {
        (a.last_assumed, &a.account_id, &a.role_name).cmp(&(
            b.last_assumed,
            &b.account_id,
            &b.role_name,
        ))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_key_drops_path() {
        assert_eq!(
            role_key(
                "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1"
            ),
            Some((
                "123456789012".to_string(),
                "AWSReservedSSO_Admin_1".to_string()
            ))
        );
        assert_eq!(role_key("arn:aws:iam::123456789012:user/bob"), None);
    }
}
