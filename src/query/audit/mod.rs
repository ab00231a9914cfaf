//! The audit: the questions an account owner asks before an incident,
//! answered from the logs alone.
//!
//! - who was granted administrator access, by whom, when, and whether it was
//!   taken away again (`grants.rs`);
//! - which outside accounts assumed which roles (`roles.rs`);
//! - when each role seen was last assumed, and which were never assumed in
//!   the window (`roles.rs`);
//! - which long-term access keys are in use, from where, and which look
//!   stored on a server or in CI (`keys.rs`, `hints.rs`, `ranges.rs`).
//!
//! [`audit`] returns plain serialisable data; the command layer renders it.
//! Polars reduces the store to the relevant events or per-key aggregates
//! (`load.rs`), so Rust only walks small frames.

mod columns;
mod grants;
mod hints;
mod keys;
mod load;
mod org;
mod ranges;
mod roles;

use std::collections::BTreeSet;

use serde::{Serialize, Serializer};

use super::QueryError;
use crate::store::Store;
use crate::time::{Micros, format_rfc3339};
pub use org::{OrgAccountsError, read_org_accounts};
pub use ranges::{AwsRanges, AwsRangesError, read_aws_ranges};

/// Settings of an audit.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Accounts of the organisation. When given, assumptions from other
    /// accounts are marked `outside_org`, and trust policies naming only
    /// these accounts do not count as letting outsiders in.
    pub org_accounts: Option<BTreeSet<String>>,
    /// EC2 prefixes of AWS's `ip-ranges.json`. When given, long-term keys
    /// used from those addresses are flagged as likely hard-coded.
    pub aws_ranges: Option<AwsRanges>,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
}

/// The whole audit. Field names are the keys of `audit --format json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    pub admin_grants: Vec<AdminGrant>,
    pub cross_account: Vec<CrossAccountUse>,
    pub roles: Vec<RoleActivity>,
    pub long_term_keys: Vec<LongTermKey>,
}

/// The kind of IAM principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    User,
    Role,
    Group,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Role => "role",
            PrincipalKind::Group => "group",
        }
    }
}

/// Means by which administrator access was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// An attached managed policy; the source is the policy ARN.
    ManagedPolicy,
    /// An inline policy; the source is the policy name.
    InlinePolicy,
    /// Membership of an administrator group; the source is the group name.
    GroupMembership,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::ManagedPolicy => "managed_policy",
            GrantKind::InlinePolicy => "inline_policy",
            GrantKind::GroupMembership => "group_membership",
        }
    }
}

/// One grant of administrator access seen in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdminGrant {
    #[serde(serialize_with = "rfc3339")]
    pub time: Micros,
    pub account_id: String,
    pub principal_kind: PrincipalKind,
    pub principal_name: String,
    pub via: GrantKind,
    /// Policy ARN, inline policy name or group name, after `via`.
    pub source: String,
    pub event_name: String,
    pub event_id: String,
    /// ARN of the caller (or the calling service, or principal id).
    pub granted_by: Option<String>,
    pub granted_by_access_key: Option<String>,
    pub source_ip: Option<String>,
    /// When the principal was created, if that happened in the window before the grant.
    #[serde(serialize_with = "optional_rfc3339")]
    pub principal_created: Option<Micros>,
    /// The event that took the grant away, if any in the window.
    pub removed: Option<Removal>,
}

/// The event that ended a grant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Removal {
    #[serde(serialize_with = "rfc3339")]
    pub time: Micros,
    pub event_name: String,
    pub removed_by: Option<String>,
}

/// Assumptions of one role by one other account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossAccountUse {
    pub role_arn: String,
    pub role_account: String,
    pub caller_account: String,
    #[serde(serialize_with = "rfc3339")]
    pub first_assumed: Micros,
    #[serde(serialize_with = "rfc3339")]
    pub last_assumed: Micros,
    pub assumptions: u64,
    /// Caller ARNs or principal ids, sorted.
    pub callers: Vec<String>,
    /// `None` without `--org-accounts`.
    pub outside_org: Option<bool>,
    /// The role was granted administrator access in the window.
    pub role_granted_admin: bool,
}

/// One role seen in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RoleActivity {
    pub role_arn: String,
    pub account_id: String,
    pub role_name: String,
    /// Successful `AssumeRole*` calls for this role (cross-account copies once).
    pub assumptions: u64,
    #[serde(serialize_with = "optional_rfc3339")]
    pub last_assumed: Option<Micros>,
    /// Caller ARNs, services or principal ids of the last assumption.
    pub last_assumed_by: Vec<String>,
    pub last_assumed_from_account: Option<String>,
    pub never_assumed: bool,
    /// Calls made with the role's sessions.
    pub session_calls: u64,
    #[serde(serialize_with = "optional_rfc3339")]
    pub last_session_call: Option<Micros>,
    /// Granted administrator access in the window.
    pub granted_admin: bool,
    /// When the trust policy was last set in the window (`CreateRole` or
    /// `UpdateAssumeRolePolicy`).
    #[serde(serialize_with = "optional_rfc3339")]
    pub trust_changed: Option<Micros>,
    /// Outside accounts (or `*`) that trust policy lets in.
    pub trusted_outside_accounts: Vec<String>,
    /// Outside accounts named by any trust policy set in the window, also
    /// those a later policy removed again.
    pub ever_trusted_outside_accounts: Vec<String>,
}

/// One long-term access key used in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongTermKey {
    pub access_key_id: String,
    /// The user name, or the principal ARN when there is no user name (root).
    pub owner: Option<String>,
    pub owner_arn: Option<String>,
    pub identity_type: Option<String>,
    pub account_id: Option<String>,
    pub calls: u64,
    #[serde(serialize_with = "rfc3339")]
    pub first_used: Micros,
    #[serde(serialize_with = "rfc3339")]
    pub last_used: Micros,
    pub source_ips: Vec<String>,
    pub user_agents: Vec<String>,
    /// Event sources (`s3.amazonaws.com`…).
    pub services: Vec<String>,
    pub likely_hardcoded: bool,
    pub hardcoded_hints: Vec<String>,
}

fn rfc3339<S: Serializer>(micros: &Micros, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_rfc3339(*micros))
}

fn optional_rfc3339<S: Serializer>(
    micros: &Option<Micros>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match micros {
        Some(micros) => serializer.serialize_str(&format_rfc3339(*micros)),
        None => serializer.serialize_none(),
    }
}

/// Returns the administrator grants to IAM groups, with their removal,
/// from the IAM changes in the window.
pub fn group_admin_grants(
    store: &Store,
    options: &AuditOptions,
) -> Result<Vec<AdminGrant>, QueryError> {
    let Some(frame) = load::scan(store, options)? else {
        return Ok(Vec::new());
    };
    let changes = grants::read_changes(&load::iam_changes(frame)?)?;
    Ok(grants::direct_admin_grants(&changes)
        .into_iter()
        .filter(|grant| grant.principal_kind == PrincipalKind::Group)
        .collect())
}

/// Runs every section of the audit over `store`.
pub fn audit(store: &Store, options: &AuditOptions) -> Result<AuditReport, QueryError> {
    let Some(frame) = load::scan(store, options)? else {
        return Ok(AuditReport::default());
    };
    let changes = grants::read_changes(&load::iam_changes(frame.clone())?)?;
    let admin_grants = grants::admin_grants(&changes);
    let admin_principals = grants::granted_principals(&admin_grants);

    let assumptions = load::assumptions(frame.clone())?;
    let sessions = load::role_sessions(frame.clone())?;
    let org = options.org_accounts.as_ref();
    let cross_account = roles::cross_account(&assumptions, &admin_principals, org)?;
    let roles = roles::role_activity(&assumptions, &sessions, &changes, &admin_principals, org)?;

    let long_term_keys =
        keys::long_term_keys(&load::long_term_keys(frame)?, options.aws_ranges.as_ref())?;
    Ok(AuditReport {
        admin_grants,
        cross_account,
        roles,
        long_term_keys,
    })
}
