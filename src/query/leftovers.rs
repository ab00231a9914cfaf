//! Leftovers of an intrusion: the users, keys, passwords, roles, trust
//! changes, policies and group memberships a lineage created, and whether a
//! later event in the store removed each one. Whatever was never removed is
//! what the responder still has to clean up.

use std::collections::HashMap;

use polars::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::lineage::{CREDENTIAL_COLUMN, LineageTree};
use super::{QueryError, is_one_of, text_values, time_values};
use crate::store::Store;
use crate::store::scan::{distinct_events, scan_events};
use crate::time::Micros;

/// Calls that create something an attacker can come back through.
const CREATIONS: &[&str] = &[
    "CreateUser",
    "CreateAccessKey",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "CreateRole",
    "UpdateAssumeRolePolicy",
    "AttachUserPolicy",
    "AttachRolePolicy",
    "AttachGroupPolicy",
    "PutUserPolicy",
    "PutRolePolicy",
    "PutGroupPolicy",
    "AddUserToGroup",
];

/// Calls that undo one of [`CREATIONS`].
const REMOVALS: &[&str] = &[
    "DeleteUser",
    "DeleteAccessKey",
    "UpdateAccessKey",
    "DeleteLoginProfile",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "DetachUserPolicy",
    "DetachRolePolicy",
    "DetachGroupPolicy",
    "DeleteUserPolicy",
    "DeleteRolePolicy",
    "DeleteGroupPolicy",
    "RemoveUserFromGroup",
];

/// One thing the lineage created.
#[derive(Debug, Clone, Serialize)]
pub struct Leftover {
    /// `user`, `access-key`, `login-profile`, `role`, `trust-policy`,
    /// `attached-policy`, `inline-policy`, `group-membership`, `session`.
    pub kind: &'static str,
    /// Display name, e.g. `user/backup`, `AKIA…`, `role/x ← arn:…:policy/AdministratorAccess`.
    pub name: String,
    pub account_id: Option<String>,
    #[serde(serialize_with = "super::serialize_micros")]
    pub created_at: Option<Micros>,
    pub created_by_event_id: Option<String>,
    pub created_by_event_name: Option<String>,
    /// The lineage credential that made it.
    pub created_by_credential: Option<String>,
    /// The later event that removed it, if any.
    pub removed: Option<Removal>,
    /// For sessions: when the credential stops working.
    #[serde(serialize_with = "super::serialize_micros")]
    pub valid_until: Option<Micros>,
}

impl Leftover {
    /// True when nothing in the store removed it (sessions: not yet expired
    /// at the end of the logs).
    pub fn still_present(&self) -> bool {
        self.removed.is_none()
    }
}

/// The event that removed a leftover.
#[derive(Debug, Clone, Serialize)]
pub struct Removal {
    #[serde(serialize_with = "super::serialize_micros")]
    pub at: Option<Micros>,
    pub event_id: String,
    pub event_name: String,
    pub by: Option<String>,
}

/// Thing a removal event undoes, as a matching key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    User(String, String),
    AccessKey(String),
    LoginProfile(String, String),
    Role(String, String),
    Trust(String, String),
    Attached(String, String, String),
    Inline(String, String, String),
    Membership(String, String, String),
}

#[derive(Debug, Clone)]
struct Row {
    credential: Option<String>,
    time: Option<Micros>,
    event_id: String,
    event_name: String,
    account: String,
    principal: Option<String>,
    request: Value,
    minted_key: Option<String>,
    minted_user: Option<String>,
}

/// Store columns [`leftovers`] needs in its `follow` frame, besides the credential.
pub const FOLLOW_COLUMNS: &[&str] = &[
    "event_time",
    "event_id",
    "event_name",
    "recipient_account_id",
    "principal_arn",
    "error_code",
    "request_parameters",
    "minted_access_key_id",
    "minted_user_name",
];

/// Lists what the lineages in `trees` created, with the removal of each.
/// `end_of_logs` (the last event time in the store) decides whether a
/// session may still be valid.
pub fn leftovers(
    store: &Store,
    trees: &[LineageTree],
    follow: &DataFrame,
    end_of_logs: Option<Micros>,
) -> Result<Vec<Leftover>, QueryError> {
    let created = rows_of(
        &follow
            .clone()
            .lazy()
            .filter(is_one_of("event_name", CREATIONS).and(col("error_code").is_null()))
            .collect()?,
    )?;
    let lineage_credentials: std::collections::HashSet<String> = trees
        .iter()
        .flat_map(|tree| tree.nodes.iter().map(|node| node.access_key_id.clone()))
        .collect();

    let removals = match scan_events(store, None, None)? {
        Some(frame) => {
            let selected: Vec<Expr> = FOLLOW_COLUMNS
                .iter()
                .map(|name| col(*name))
                .chain([col("access_key_id").alias(CREDENTIAL_COLUMN)])
                .collect();
            rows_of(
                &distinct_events(
                    frame
                        .filter(is_one_of("event_name", REMOVALS).and(col("error_code").is_null())),
                )
                .select(selected)
                .collect()?,
            )?
        }
        None => Vec::new(),
    };
    let mut removed_by: HashMap<Target, Vec<&Row>> = HashMap::new();
    for row in &removals {
        for target in removal_targets(row) {
            removed_by.entry(target).or_default().push(row);
        }
    }

    let mut found = Vec::new();
    for row in &created {
        for (kind, name, undo) in creation_targets(row) {
            let removal = undo.iter().find_map(|target| {
                removed_by.get(target)?.iter().find(|removal| {
                    removal.time >= row.time
                        && removal.event_id != row.event_id
                        // A trust policy rewritten by the intruder again is
                        // not a clean-up; deleting the role is.
                        && !(kind == "trust-policy"
                            && removal.event_name == "UpdateAssumeRolePolicy"
                            && removal.credential.as_ref().is_some_and(|c| lineage_credentials.contains(c)))
                })
            });
            found.push(Leftover {
                kind,
                name,
                account_id: Some(row.account.clone()),
                created_at: row.time,
                created_by_event_id: Some(row.event_id.clone()),
                created_by_event_name: Some(row.event_name.clone()),
                created_by_credential: row.credential.clone(),
                removed: removal.map(|removal| Removal {
                    at: removal.time,
                    event_id: removal.event_id.clone(),
                    event_name: removal.event_name.clone(),
                    by: removal.principal.clone(),
                }),
                valid_until: None,
            });
        }
    }

    // Sessions cannot be deleted; they stay valid until they expire.
    for tree in trees {
        for node in tree.nodes.iter().skip(1) {
            let (Some(expiration), "temporary" | "console" | "session") =
                (node.expiration, node.kind.label())
            else {
                continue;
            };
            let expired = end_of_logs.is_some_and(|end| expiration <= end);
            if expired {
                continue;
            }
            found.push(Leftover {
                kind: "session",
                name: node.access_key_id.clone(),
                account_id: node.account_id.clone(),
                created_at: node.minted_at,
                created_by_event_id: node.minted_by_event_id.clone(),
                created_by_event_name: node.minted_by_event_name.clone(),
                created_by_credential: node.parent_access_key_id.clone(),
                removed: None,
                valid_until: Some(expiration),
            });
        }
    }
    found.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(found)
}

fn rows_of(frame: &DataFrame) -> PolarsResult<Vec<Row>> {
    let text = |name: &str| text_values(frame, name);
    let times = time_values(frame, "event_time")?;
    let credential = text(CREDENTIAL_COLUMN)?;
    let event_id = text("event_id")?;
    let event_name = text("event_name")?;
    let account = text("recipient_account_id")?;
    let principal = text("principal_arn")?;
    let request = text("request_parameters")?;
    let minted_key = text("minted_access_key_id")?;
    let minted_user = text("minted_user_name")?;
    Ok((0..frame.height())
        .map(|row| Row {
            credential: credential[row].clone(),
            time: times[row],
            event_id: event_id[row].clone().unwrap_or_default(),
            event_name: event_name[row].clone().unwrap_or_default(),
            account: account[row].clone().unwrap_or_default(),
            principal: principal[row].clone(),
            request: request[row]
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or(Value::Null),
            minted_key: minted_key[row].clone(),
            minted_user: minted_user[row].clone(),
        })
        .collect())
}

fn field(row: &Row, key: &str) -> Option<String> {
    row.request
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Lists what a creation made: (kind, display name, targets whose removal undoes it).
fn creation_targets(row: &Row) -> Vec<(&'static str, String, Vec<Target>)> {
    let account = row.account.clone();
    let user = field(row, "userName");
    let role = field(row, "roleName");
    let group = field(row, "groupName");
    match row.event_name.as_str() {
        "CreateUser" => user
            .map(|user| {
                vec![(
                    "user",
                    format!("user/{user}"),
                    vec![Target::User(account, user)],
                )]
            })
            .unwrap_or_default(),
        "CreateAccessKey" => {
            let Some(key) = row.minted_key.clone() else {
                return Vec::new();
            };
            let owner = row.minted_user.clone().or(user);
            let mut undo = vec![Target::AccessKey(key.clone())];
            if let Some(owner) = &owner {
                undo.push(Target::User(account, owner.clone()));
            }
            let name = match owner {
                Some(owner) => format!("{key} (user/{owner})"),
                None => key,
            };
            vec![("access-key", name, undo)]
        }
        "CreateLoginProfile" | "UpdateLoginProfile" => user
            .map(|user| {
                vec![(
                    "login-profile",
                    format!("user/{user}"),
                    vec![
                        Target::LoginProfile(account.clone(), user.clone()),
                        Target::User(account, user),
                    ],
                )]
            })
            .unwrap_or_default(),
        "CreateRole" => role
            .map(|role| {
                vec![(
                    "role",
                    format!("role/{role}"),
                    vec![Target::Role(account, role)],
                )]
            })
            .unwrap_or_default(),
        "UpdateAssumeRolePolicy" => role
            .map(|role| {
                vec![(
                    "trust-policy",
                    format!("role/{role}"),
                    vec![
                        Target::Trust(account.clone(), role.clone()),
                        Target::Role(account, role),
                    ],
                )]
            })
            .unwrap_or_default(),
        name @ ("AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy") => {
            let Some(policy) = field(row, "policyArn") else {
                return Vec::new();
            };
            let Some((kind, principal)) = principal_of(name, user, role, group) else {
                return Vec::new();
            };
            vec![(
                "attached-policy",
                format!("{kind}/{principal} ← {policy}"),
                vec![
                    Target::Attached(account.clone(), format!("{kind}/{principal}"), policy),
                    owner_target(kind, account, principal),
                ],
            )]
        }
        name @ ("PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy") => {
            let Some(policy) = field(row, "policyName") else {
                return Vec::new();
            };
            let Some((kind, principal)) = principal_of(name, user, role, group) else {
                return Vec::new();
            };
            vec![(
                "inline-policy",
                format!("{kind}/{principal} ← {policy}"),
                vec![
                    Target::Inline(account.clone(), format!("{kind}/{principal}"), policy),
                    owner_target(kind, account, principal),
                ],
            )]
        }
        "AddUserToGroup" => match (user, group) {
            (Some(user), Some(group)) => vec![(
                "group-membership",
                format!("user/{user} ∈ group/{group}"),
                vec![
                    Target::Membership(account.clone(), user.clone(), group),
                    Target::User(account, user),
                ],
            )],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Lists the targets a removal event undoes.
fn removal_targets(row: &Row) -> Vec<Target> {
    let account = row.account.clone();
    let user = field(row, "userName");
    let role = field(row, "roleName");
    let group = field(row, "groupName");
    match row.event_name.as_str() {
        "DeleteUser" => user
            .map(|user| Target::User(account, user))
            .into_iter()
            .collect(),
        "DeleteAccessKey" => field(row, "accessKeyId")
            .map(Target::AccessKey)
            .into_iter()
            .collect(),
        "UpdateAccessKey" if field(row, "status").as_deref() == Some("Inactive") => {
            field(row, "accessKeyId")
                .map(Target::AccessKey)
                .into_iter()
                .collect()
        }
        "DeleteLoginProfile" => user
            .map(|user| Target::LoginProfile(account, user))
            .into_iter()
            .collect(),
        "DeleteRole" => role
            .map(|role| Target::Role(account, role))
            .into_iter()
            .collect(),
        "UpdateAssumeRolePolicy" => role
            .map(|role| Target::Trust(account, role))
            .into_iter()
            .collect(),
        name @ ("DetachUserPolicy" | "DetachRolePolicy" | "DetachGroupPolicy") => {
            match (
                field(row, "policyArn"),
                principal_of(name, user, role, group),
            ) {
                (Some(policy), Some((kind, principal))) => {
                    vec![Target::Attached(
                        account,
                        format!("{kind}/{principal}"),
                        policy,
                    )]
                }
                _ => Vec::new(),
            }
        }
        name @ ("DeleteUserPolicy" | "DeleteRolePolicy" | "DeleteGroupPolicy") => {
            match (
                field(row, "policyName"),
                principal_of(name, user, role, group),
            ) {
                (Some(policy), Some((kind, principal))) => {
                    vec![Target::Inline(
                        account,
                        format!("{kind}/{principal}"),
                        policy,
                    )]
                }
                _ => Vec::new(),
            }
        }
        "RemoveUserFromGroup" => match (user, group) {
            (Some(user), Some(group)) => vec![Target::Membership(account, user, group)],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Returns the IAM principal a policy call names: ("user" | "role" | "group", name).
fn principal_of(
    event_name: &str,
    user: Option<String>,
    role: Option<String>,
    group: Option<String>,
) -> Option<(&'static str, String)> {
    if event_name.contains("User") {
        user.map(|name| ("user", name))
    } else if event_name.contains("Role") {
        role.map(|name| ("role", name))
    } else {
        group.map(|name| ("group", name))
    }
}

/// Returns the target of deleting the principal itself, which removes its policies too.
fn owner_target(kind: &str, account: String, name: String) -> Target {
    match kind {
        "user" => Target::User(account, name),
        "role" => Target::Role(account, name),
        // Deleting a group is rare in intrusions; a user target that never
        // matches keeps the shape simple.
        _ => Target::Membership(account, String::new(), name),
    }
}
