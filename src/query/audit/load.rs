//! The lazy scans behind the audit. Each one filters the store to the few
//! events a section needs (or aggregates them per key) inside polars, so
//! only small frames reach Rust.

use polars::prelude::*;

use super::AuditOptions;
use crate::query::QueryError;
use crate::query::timeline::time_literal;
use crate::store::Store;
use crate::store::scan::{distinct_events, scan_events};

/// IAM calls that grant, remove or frame administrator access, or that
/// create, delete or change the trust of the principals that hold it.
pub(super) const IAM_CHANGE_EVENTS: &[&str] = &[
    "AttachUserPolicy",
    "AttachRolePolicy",
    "AttachGroupPolicy",
    "PutUserPolicy",
    "PutRolePolicy",
    "PutGroupPolicy",
    "AddUserToGroup",
    "DetachUserPolicy",
    "DetachRolePolicy",
    "DetachGroupPolicy",
    "DeleteUserPolicy",
    "DeleteRolePolicy",
    "DeleteGroupPolicy",
    "RemoveUserFromGroup",
    "CreateUser",
    "DeleteUser",
    "CreateRole",
    "DeleteRole",
    "DeleteGroup",
    "UpdateAssumeRolePolicy",
    "CreatePolicy",
    "CreatePolicyVersion",
];

/// STS calls whose target is a role.
const ASSUME_EVENTS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
];

/// Scans the store within the options' time window, or `None` when the
/// store has no data there.
pub(super) fn scan(store: &Store, options: &AuditOptions) -> Result<Option<LazyFrame>, QueryError> {
    let Some(frame) = scan_events(store, options.since, options.until)? else {
        return Ok(None);
    };
    let mut frame = frame;
    if let Some(since) = options.since {
        frame = frame.filter(col("event_time").gt_eq(time_literal(since)));
    }
    if let Some(until) = options.until {
        frame = frame.filter(col("event_time").lt_eq(time_literal(until)));
    }
    Ok(Some(frame))
}

fn any_name(names: &[&str]) -> Expr {
    names
        .iter()
        .map(|name| col("event_name").eq(lit(*name)))
        .reduce(|any, next| any.or(next))
        .unwrap_or(lit(false))
}

/// Successful IAM change events, one row per event, oldest first.
pub(super) fn iam_changes(frame: LazyFrame) -> Result<DataFrame, QueryError> {
    let filtered = frame.filter(
        col("event_source")
            .eq(lit("iam.amazonaws.com"))
            .and(any_name(IAM_CHANGE_EVENTS))
            .and(col("error_code").is_null()),
    );
    Ok(distinct_events(filtered)
        .select([
            col("event_time"),
            col("event_id"),
            col("event_name"),
            col("recipient_account_id"),
            actor().alias("actor"),
            col("access_key_id"),
            col("source_ip"),
            col("target_user_name"),
            col("target_role_name"),
            col("target_group_name"),
            col("target_policy_arn"),
            col("target_policy_name"),
            col("request_parameters"),
            col("response_elements"),
        ])
        .collect()?)
}

/// Names who made a call: the principal ARN, else the calling service, else
/// the principal id (the role owner's copy of a cross-account call has no ARN).
fn actor() -> Expr {
    coalesce(&[
        col("principal_arn"),
        col("invoked_by"),
        col("principal_id"),
        col("identity_account_id"),
    ])
}

/// Successful role assumptions, one row per assumption: the caller's and
/// the role owner's copies of a cross-account call share a
/// `sharedEventID` and count once, with the callers named by either copy.
pub(super) fn assumptions(frame: LazyFrame) -> Result<DataFrame, QueryError> {
    let filtered = frame.filter(
        col("event_source")
            .eq(lit("sts.amazonaws.com"))
            .and(any_name(ASSUME_EVENTS))
            .and(col("error_code").is_null())
            .and(col("target_role_arn").is_not_null()),
    );
    Ok(distinct_events(filtered)
        .with_columns([
            coalesce(&[col("shared_event_id"), col("dedup_key")]).alias("assumption_key"),
            actor().alias("caller"),
        ])
        .group_by_stable([col("assumption_key")])
        .agg([
            col("event_time").min(),
            col("target_role_arn").first().alias("role_arn"),
            col("identity_account_id").max().alias("caller_account"),
            col("caller")
                .unique()
                .sort(SortOptions::default())
                .alias("callers"),
        ])
        .with_column(
            col("role_arn")
                .str()
                .extract(lit(r"^arn:[^:]*:iam::(\d{12}):"), 1)
                .alias("role_account"),
        )
        .sort(["event_time"], SortMultipleOptions::default())
        .collect()?)
}

/// Calls made with each role's sessions: count and last call, per session
/// issuer (role) ARN.
pub(super) fn role_sessions(frame: LazyFrame) -> Result<DataFrame, QueryError> {
    let filtered = frame.filter(
        col("identity_type")
            .eq(lit("AssumedRole"))
            .and(col("session_issuer_arn").is_not_null()),
    );
    let distinct =
        filtered.unique_stable_generic(Some(vec![col("dedup_key")]), UniqueKeepStrategy::First);
    Ok(distinct
        .group_by([col("session_issuer_arn")])
        .agg([
            len().cast(DataType::UInt64).alias("calls"),
            col("event_time").max().alias("last_call"),
        ])
        .sort(["session_issuer_arn"], SortMultipleOptions::default())
        .collect()?)
}

/// Aggregates one row per long-term access key (`AKIA…`) used in the window, with its
/// owner, first and last use, call count and the distinct addresses, user
/// agents, services and VPC endpoints it was used from.
pub(super) fn long_term_keys(frame: LazyFrame) -> Result<DataFrame, QueryError> {
    let filtered = frame.filter(col("caller_key_kind").eq(lit("long-term")));
    let distinct =
        filtered.unique_stable_generic(Some(vec![col("dedup_key")]), UniqueKeepStrategy::First);
    // `max` skips nulls. Nulls stay in the lists and `columns::text_list`
    // drops them, because `drop_nulls` inside an aggregation makes polars
    // print a warning about group bounds.
    let distinct_sorted = |name: &str| col(name).unique().sort(SortOptions::default());
    Ok(distinct
        .group_by([col("access_key_id")])
        .agg([
            col("user_name").max().alias("user_name"),
            col("principal_arn").max().alias("principal_arn"),
            col("identity_type").max().alias("identity_type"),
            col("recipient_account_id").max().alias("account_id"),
            len().cast(DataType::UInt64).alias("calls"),
            col("event_time").min().alias("first_used"),
            col("event_time").max().alias("last_used"),
            distinct_sorted("source_ip").alias("source_ips"),
            distinct_sorted("user_agent").alias("user_agents"),
            distinct_sorted("event_source").alias("services"),
            distinct_sorted("vpc_endpoint_id").alias("vpc_endpoints"),
        ])
        .sort(["access_key_id"], SortMultipleOptions::default())
        .collect()?)
}
