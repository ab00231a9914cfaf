//! Administrator grants: who was given administrator access, by whom and
//! when, and whether a later event in the window took it away.
//!
//! A grant is an `Attach*Policy` of an administrator policy (the AWS managed
//! `AdministratorAccess`, or a customer managed policy whose document in the
//! window allows `*` on `*`), a `Put*Policy` whose inline document does, or
//! an `AddUserToGroup` into a group that holds administrator access at that
//! moment. A group that becomes administrator passes the grant to the users
//! added to it earlier in the window. Grants made before the window are not
//! seen: the logs only show what changed.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::DataFrame;
use serde_json::Value;

use super::columns::{text, time};
use super::{AdminGrant, GrantKind, PrincipalKind, Removal};
use crate::detect::policy::{PolicyDocument, is_admin_policy_arn};
use crate::query::QueryError;
use crate::time::Micros;

/// One successful IAM change event, as read from the store.
#[derive(Debug, Clone)]
pub(super) struct IamChange {
    pub time: Micros,
    pub event_id: String,
    pub event_name: String,
    pub account_id: Option<String>,
    pub actor: Option<String>,
    pub access_key_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_name: Option<String>,
    pub role_name: Option<String>,
    pub group_name: Option<String>,
    pub policy_arn: Option<String>,
    pub policy_name: Option<String>,
    pub request: Value,
    pub response: Value,
}

/// Reads the rows of [`super::load::iam_changes`].
pub(super) fn read_changes(frame: &DataFrame) -> Result<Vec<IamChange>, QueryError> {
    let times = time(frame, "event_time")?;
    let ids = text(frame, "event_id")?;
    let names = text(frame, "event_name")?;
    let accounts = text(frame, "recipient_account_id")?;
    let actors = text(frame, "actor")?;
    let keys = text(frame, "access_key_id")?;
    let ips = text(frame, "source_ip")?;
    let users = text(frame, "target_user_name")?;
    let roles = text(frame, "target_role_name")?;
    let groups = text(frame, "target_group_name")?;
    let policy_arns = text(frame, "target_policy_arn")?;
    let policy_names = text(frame, "target_policy_name")?;
    let requests = text(frame, "request_parameters")?;
    let responses = text(frame, "response_elements")?;
    let parse = |json: &Option<String>| {
        json.as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null)
    };
    let mut changes = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        changes.push(IamChange {
            time: times[row].unwrap_or_default(),
            event_id: ids[row].clone().unwrap_or_default(),
            event_name: names[row].clone().unwrap_or_default(),
            account_id: accounts[row].clone(),
            actor: actors[row].clone(),
            access_key_id: keys[row].clone(),
            source_ip: ips[row].clone(),
            user_name: users[row].clone(),
            role_name: roles[row].clone(),
            group_name: groups[row].clone(),
            policy_arn: policy_arns[row].clone(),
            policy_name: policy_names[row].clone(),
            request: parse(&requests[row]),
            response: parse(&responses[row]),
        });
    }
    Ok(changes)
}

/// True when `value` (a policy document as CloudTrail records it: a JSON
/// string, URL-encoded or not) allows every action on every resource.
pub(super) fn is_admin_document(value: &Value) -> bool {
    match value {
        Value::String(text) => PolicyDocument::parse(text).is_ok_and(|doc| doc.is_admin()),
        Value::Object(_) => PolicyDocument::from_value(value).is_ok_and(|doc| doc.is_admin()),
        _ => false,
    }
}

/// Identifies one principal in one account.
pub(super) type PrincipalKey = (String, PrincipalKind, String);

/// Identifies one grant: the principal and what it was granted through.
type GrantKey = (PrincipalKey, GrantKind, String);

#[derive(Default)]
struct Tracker {
    grants: Vec<AdminGrant>,
    open: HashMap<GrantKey, usize>,
    /// Customer managed policies whose default version, as seen in the
    /// window, allows everything.
    admin_policies: BTreeSet<String>,
    /// Users added to each group in the window and not removed since.
    members: HashMap<(String, String), BTreeSet<String>>,
    /// When each principal was created in the window.
    created: HashMap<PrincipalKey, Micros>,
    /// False when only grants to users, roles and groups themselves are
    /// wanted, not the ones group members get through them.
    expand_members: bool,
}

impl Tracker {
    fn is_admin_arn(&self, arn: &str) -> bool {
        is_admin_policy_arn(arn) || self.admin_policies.contains(arn)
    }

    fn group_is_admin(&self, account: &str, group: &str) -> bool {
        self.open
            .keys()
            .any(|((grant_account, kind, name), via, _)| {
                grant_account == account
                    && *kind == PrincipalKind::Group
                    && name == group
                    && *via != GrantKind::GroupMembership
            })
    }

    fn grant(&mut self, change: &IamChange, principal: PrincipalKey, via: GrantKind, source: &str) {
        let key = (principal.clone(), via, source.to_string());
        if self.open.contains_key(&key) {
            return;
        }
        let (account, kind, name) = principal;
        self.open.insert(key, self.grants.len());
        self.grants.push(AdminGrant {
            time: change.time,
            account_id: account.clone(),
            principal_kind: kind,
            principal_name: name.clone(),
            via,
            source: source.to_string(),
            event_name: change.event_name.clone(),
            event_id: change.event_id.clone(),
            granted_by: change.actor.clone(),
            granted_by_access_key: change.access_key_id.clone(),
            source_ip: change.source_ip.clone(),
            principal_created: self.created.get(&(account, kind, name)).copied(),
            removed: None,
        });
    }

    /// Closes the open grants for which `matches` is true.
    fn remove(&mut self, change: &IamChange, matches: impl Fn(&GrantKey) -> bool) {
        let keys: Vec<GrantKey> = self
            .open
            .keys()
            .filter(|key| matches(key))
            .cloned()
            .collect();
        for key in keys {
            if let Some(index) = self.open.remove(&key) {
                self.grants[index].removed = Some(Removal {
                    time: change.time,
                    event_name: change.event_name.clone(),
                    removed_by: change.actor.clone(),
                });
            }
        }
    }

    /// Ends the membership grants through `group` once it no longer has
    /// administrator access.
    fn drop_members_if_not_admin(&mut self, change: &IamChange, account: &str, group: &str) {
        if self.group_is_admin(account, group) {
            return;
        }
        self.remove(change, |((grant_account, _, _), via, source)| {
            grant_account == account && *via == GrantKind::GroupMembership && source == group
        });
    }

    /// Gives the administrator grant of `group` to its known members.
    fn grant_members(&mut self, change: &IamChange, account: &str, group: &str) {
        if !self.expand_members {
            return;
        }
        let members: Vec<String> = self
            .members
            .get(&(account.to_string(), group.to_string()))
            .map(|users| users.iter().cloned().collect())
            .unwrap_or_default();
        for user in members {
            let principal = (account.to_string(), PrincipalKind::User, user);
            self.grant(change, principal, GrantKind::GroupMembership, group);
        }
    }
}

/// Finds the principal an IAM change is about, from the event name and the
/// target columns.
fn principal_of(change: &IamChange) -> Option<PrincipalKey> {
    let account = change.account_id.clone().unwrap_or_default();
    let name = &change.event_name;
    let (kind, target) = if name.contains("Group")
        && !name.contains("UserToGroup")
        && !name.contains("UserFromGroup")
    {
        (PrincipalKind::Group, change.group_name.clone())
    } else if name.contains("Role") {
        (PrincipalKind::Role, change.role_name.clone())
    } else if name.contains("User") {
        (PrincipalKind::User, change.user_name.clone())
    } else {
        return None;
    };
    Some((account, kind, target?))
}

/// Replays the IAM changes in time order and returns every administrator
/// grant, with its removal when the window shows one.
pub(super) fn admin_grants(changes: &[IamChange]) -> Vec<AdminGrant> {
    replay(changes, true)
}

/// Like [`admin_grants`] without the grants members get through a group.
/// Each change of a group's access would add one grant per member, so an
/// intruder toggling a policy on a large group could grow the list without
/// bound.
pub(super) fn direct_admin_grants(changes: &[IamChange]) -> Vec<AdminGrant> {
    replay(changes, false)
}

fn replay(changes: &[IamChange], expand_members: bool) -> Vec<AdminGrant> {
    let mut tracker = Tracker {
        expand_members,
        ..Tracker::default()
    };
    for change in changes {
        let principal = principal_of(change);
        let account = change.account_id.clone().unwrap_or_default();
        match change.event_name.as_str() {
            "CreatePolicy" => {
                let arn = change.response["policy"]["arn"].as_str();
                if let Some(arn) = arn
                    && is_admin_document(&change.request["policyDocument"])
                {
                    tracker.admin_policies.insert(arn.to_string());
                }
            }
            "CreatePolicyVersion" => {
                // Only a version made the default changes what the policy grants.
                let is_default = change.request["setAsDefault"].as_bool() == Some(true)
                    || change.request["setAsDefault"].as_str() == Some("true");
                if let Some(arn) = change.policy_arn.clone()
                    && is_default
                {
                    if is_admin_document(&change.request["policyDocument"]) {
                        tracker.admin_policies.insert(arn);
                    } else {
                        tracker.admin_policies.remove(&arn);
                    }
                }
            }
            "CreateUser" | "CreateRole" => {
                if let Some(principal) = principal {
                    tracker.created.insert(principal, change.time);
                }
            }
            "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy" => {
                let (Some(principal), Some(arn)) = (principal, change.policy_arn.clone()) else {
                    continue;
                };
                if tracker.is_admin_arn(&arn) {
                    let group = (principal.1 == PrincipalKind::Group).then(|| principal.2.clone());
                    tracker.grant(change, principal, GrantKind::ManagedPolicy, &arn);
                    if let Some(group) = group {
                        tracker.grant_members(change, &account, &group);
                    }
                }
            }
            "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy" => {
                let (Some(principal), Some(policy)) = (principal, change.policy_name.clone())
                else {
                    continue;
                };
                let group = (principal.1 == PrincipalKind::Group).then(|| principal.2.clone());
                if is_admin_document(&change.request["policyDocument"]) {
                    tracker.grant(change, principal, GrantKind::InlinePolicy, &policy);
                    if let Some(group) = group {
                        tracker.grant_members(change, &account, &group);
                    }
                } else {
                    // A new document under the same name replaces the old one.
                    tracker.remove(change, |key| {
                        key.0 == principal && key.1 == GrantKind::InlinePolicy && key.2 == policy
                    });
                    if let Some(group) = group {
                        tracker.drop_members_if_not_admin(change, &account, &group);
                    }
                }
            }
            "AddUserToGroup" => {
                let (Some(user), Some(group)) =
                    (change.user_name.clone(), change.group_name.clone())
                else {
                    continue;
                };
                tracker
                    .members
                    .entry((account.clone(), group.clone()))
                    .or_default()
                    .insert(user.clone());
                if tracker.group_is_admin(&account, &group) {
                    let principal = (account.clone(), PrincipalKind::User, user);
                    tracker.grant(change, principal, GrantKind::GroupMembership, &group);
                }
            }
            "RemoveUserFromGroup" => {
                let (Some(user), Some(group)) =
                    (change.user_name.clone(), change.group_name.clone())
                else {
                    continue;
                };
                if let Some(users) = tracker.members.get_mut(&(account.clone(), group.clone())) {
                    users.remove(&user);
                }
                let principal = (account.clone(), PrincipalKind::User, user);
                tracker.remove(change, |key| {
                    key.0 == principal && key.1 == GrantKind::GroupMembership && key.2 == group
                });
            }
            "DetachUserPolicy" | "DetachRolePolicy" | "DetachGroupPolicy" => {
                let (Some(principal), Some(arn)) = (principal, change.policy_arn.clone()) else {
                    continue;
                };
                let group = (principal.1 == PrincipalKind::Group).then(|| principal.2.clone());
                tracker.remove(change, |key| {
                    key.0 == principal && key.1 == GrantKind::ManagedPolicy && key.2 == arn
                });
                if let Some(group) = group {
                    tracker.drop_members_if_not_admin(change, &account, &group);
                }
            }
            "DeleteUserPolicy" | "DeleteRolePolicy" | "DeleteGroupPolicy" => {
                let (Some(principal), Some(policy)) = (principal, change.policy_name.clone())
                else {
                    continue;
                };
                let group = (principal.1 == PrincipalKind::Group).then(|| principal.2.clone());
                tracker.remove(change, |key| {
                    key.0 == principal && key.1 == GrantKind::InlinePolicy && key.2 == policy
                });
                if let Some(group) = group {
                    tracker.drop_members_if_not_admin(change, &account, &group);
                }
            }
            "DeleteUser" | "DeleteRole" | "DeleteGroup" => {
                let Some(principal) = principal else {
                    continue;
                };
                tracker.remove(change, |key| key.0 == principal);
                if principal.1 == PrincipalKind::Group {
                    let group = principal.2.clone();
                    tracker.members.remove(&(account.clone(), group.clone()));
                    tracker.remove(change, |((grant_account, _, _), via, source)| {
                        *grant_account == account
                            && *via == GrantKind::GroupMembership
                            && *source == group
                    });
                }
            }
            _ => {}
        }
    }
    tracker.grants
}

/// Collects the principals granted administrator access at any time in the
/// window, by account, kind and name.
pub(super) fn granted_principals(grants: &[AdminGrant]) -> BTreeSet<PrincipalKey> {
    grants
        .iter()
        .map(|grant| {
            (
                grant.account_id.clone(),
                grant.principal_kind,
                grant.principal_name.clone(),
            )
        })
        .collect()
}
