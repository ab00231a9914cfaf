//! Loading the events that can create a credential ("mint events") from the
//! store: STS calls that return credentials, `CreateAccessKey`, login
//! profile changes and console sign-ins. They are few next to the store, so
//! one filtered scan loads them all and the lineage is walked in memory.

use polars::prelude::*;
use serde_json::Value;

use crate::query::{QueryError, is_one_of, text_values, time_values};
use crate::store::Store;
use crate::store::scan::{distinct_events, scan_events};
use crate::time::Micros;

/// Event names that can create a credential or a console session.
pub const MINT_EVENT_NAMES: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "GetSessionToken",
    "GetFederationToken",
    "CreateAccessKey",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "ConsoleLogin",
];

/// One mint event, with the fields lineage needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MintEvent {
    pub event_id: String,
    pub event_name: String,
    pub event_time: Micros,
    /// The key that made the call (`userIdentity.accessKeyId`).
    pub caller_key: Option<String>,
    pub caller_arn: Option<String>,
    pub caller_type: Option<String>,
    pub caller_user_name: Option<String>,
    pub recipient_account_id: Option<String>,
    pub shared_event_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub minted_key: Option<String>,
    pub minted_principal_arn: Option<String>,
    pub minted_user_name: Option<String>,
    pub minted_expiration: Option<Micros>,
    /// `requestParameters.userName` (login profiles, access keys).
    pub target_user_name: Option<String>,
    pub target_role_arn: Option<String>,
    /// `requestParameters.roleSessionName`.
    pub role_session_name: Option<String>,
    /// `requestParameters.sourceIdentity`, which later sessions carry.
    pub requested_source_identity: Option<String>,
    /// Outcome of a console sign-in: "Success" or "Failure".
    pub console_login_result: Option<String>,
}

impl MintEvent {
    /// True when the call succeeded: no error code, and for console sign-ins
    /// a `Success` result.
    pub fn succeeded(&self) -> bool {
        if self.error_code.is_some() {
            return false;
        }
        if self.event_name == "ConsoleLogin" {
            return self.console_login_result.as_deref() == Some("Success");
        }
        true
    }

    /// True for calls that return temporary credentials from STS.
    pub fn is_sts_mint(&self) -> bool {
        matches!(
            self.event_name.as_str(),
            "AssumeRole"
                | "AssumeRoleWithSAML"
                | "AssumeRoleWithWebIdentity"
                | "AssumeRoot"
                | "GetSessionToken"
                | "GetFederationToken"
        )
    }

    /// True for login profile changes, which let a user sign in to the console.
    pub fn is_login_profile(&self) -> bool {
        matches!(
            self.event_name.as_str(),
            "CreateLoginProfile" | "UpdateLoginProfile"
        )
    }
}

const MINT_COLUMNS: &[&str] = &[
    "event_id",
    "event_name",
    "event_time",
    "access_key_id",
    "principal_arn",
    "identity_type",
    "user_name",
    "recipient_account_id",
    "shared_event_id",
    "source_ip",
    "user_agent",
    "error_code",
    "minted_access_key_id",
    "minted_principal_arn",
    "minted_user_name",
    "minted_expiration",
    "target_user_name",
    "target_role_arn",
    "error_message",
];

/// Loads every distinct mint event in the window, sorted by time.
pub fn load_mints(
    store: &Store,
    since: Option<Micros>,
    until: Option<Micros>,
) -> Result<Vec<MintEvent>, QueryError> {
    let Some(frame) = scan_events(store, since, until)? else {
        return Ok(Vec::new());
    };
    let mut frame = frame.filter(is_one_of("event_name", MINT_EVENT_NAMES));
    if let Some(since) = since {
        frame = frame.filter(col("event_time").gt_eq(crate::query::timeline::time_literal(since)));
    }
    if let Some(until) = until {
        frame = frame.filter(col("event_time").lt_eq(crate::query::timeline::time_literal(until)));
    }
    // The JSON blob columns are the largest in the store, so they are read
    // in a second pass, and only for the rare calls whose response named no
    // key.
    let columns: Vec<Expr> = MINT_COLUMNS.iter().map(|name| col(*name)).collect();
    let frame = distinct_events(frame).select(columns).collect()?;
    let mut mints = mints_from_frame(&frame)?;
    add_requested_session(store, since, until, &mut mints)?;
    Ok(mints)
}

/// Reads the requested session name and source identity of successful STS
/// calls whose response named no key, which the walk needs to find the
/// session by other means.
fn add_requested_session(
    store: &Store,
    since: Option<Micros>,
    until: Option<Micros>,
    mints: &mut [MintEvent],
) -> Result<(), QueryError> {
    let keyless: Vec<&str> = mints
        .iter()
        .filter(|mint| mint.is_sts_mint() && mint.minted_key.is_none() && mint.succeeded())
        .map(|mint| mint.event_id.as_str())
        .collect();
    if keyless.is_empty() {
        return Ok(());
    }
    let Some(frame) = scan_events(store, since, until)? else {
        return Ok(());
    };
    let frame = frame
        .filter(is_one_of("event_id", &keyless).and(is_one_of("event_name", MINT_EVENT_NAMES)))
        .select([col("event_id"), col("request_parameters")])
        .collect()?;
    let ids = frame.column("event_id")?.str()?;
    let requests = frame.column("request_parameters")?.str()?;
    let mut by_id: std::collections::HashMap<&str, Value> = std::collections::HashMap::new();
    for (id, request) in ids.iter().zip(requests.iter()) {
        if let (Some(id), Some(request)) = (id, request)
            && let Ok(value) = serde_json::from_str::<Value>(request)
        {
            by_id.insert(id, value);
        }
    }
    for mint in mints.iter_mut() {
        if let Some(request) = by_id.get(mint.event_id.as_str()) {
            let text = |key: &str| request.get(key).and_then(Value::as_str).map(str::to_string);
            mint.role_session_name = text("roleSessionName");
            mint.requested_source_identity = text("sourceIdentity");
        }
    }
    Ok(())
}

fn mints_from_frame(frame: &DataFrame) -> PolarsResult<Vec<MintEvent>> {
    let text = |name: &str| text_values(frame, name);
    let time = |name: &str| time_values(frame, name);
    let event_id = text("event_id")?;
    let event_name = text("event_name")?;
    let event_time = time("event_time")?;
    let caller_key = text("access_key_id")?;
    let caller_arn = text("principal_arn")?;
    let caller_type = text("identity_type")?;
    let caller_user_name = text("user_name")?;
    let recipient = text("recipient_account_id")?;
    let shared = text("shared_event_id")?;
    let source_ip = text("source_ip")?;
    let user_agent = text("user_agent")?;
    let error_code = text("error_code")?;
    let minted_key = text("minted_access_key_id")?;
    let minted_arn = text("minted_principal_arn")?;
    let minted_user = text("minted_user_name")?;
    let expiration = time("minted_expiration")?;
    let target_user = text("target_user_name")?;
    let target_role_arn = text("target_role_arn")?;
    let error_message = text("error_message")?;

    let mut mints = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        mints.push(MintEvent {
            event_id: event_id[row].clone().unwrap_or_default(),
            event_name: event_name[row].clone().unwrap_or_default(),
            event_time: event_time[row].unwrap_or_default(),
            caller_key: caller_key[row].clone().filter(|key| !key.is_empty()),
            caller_arn: caller_arn[row].clone(),
            caller_type: caller_type[row].clone(),
            caller_user_name: caller_user_name[row].clone(),
            recipient_account_id: recipient[row].clone(),
            shared_event_id: shared[row].clone(),
            source_ip: source_ip[row].clone(),
            user_agent: user_agent[row].clone(),
            error_code: error_code[row].clone(),
            minted_key: minted_key[row].clone().filter(|key| !key.is_empty()),
            minted_principal_arn: minted_arn[row].clone(),
            minted_user_name: minted_user[row].clone(),
            minted_expiration: expiration[row],
            target_user_name: target_user[row].clone(),
            target_role_arn: target_role_arn[row].clone(),
            role_session_name: None,
            requested_source_identity: None,
            // A failed sign-in carries "Failed authentication" as its error
            // message and no error code.
            console_login_result: Some(
                if error_message[row].is_none() {
                    "Success"
                } else {
                    "Failure"
                }
                .to_string(),
            ),
        });
    }
    Ok(mints)
}
