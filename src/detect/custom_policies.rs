//! Customer managed policies that the store shows granting administrator or
//! escalation rights: a `CreatePolicy`, or a `CreatePolicyVersion` set as
//! default, whose document allows them. Attaching such a policy is as much
//! an escalation as attaching AdministratorAccess.

use std::collections::HashMap;

use polars::prelude::*;
use serde_json::Value;

use super::policy::PolicyDocument;
use crate::query::{successful_calls, text_values, time_values};

/// The rights a customer managed policy grants, from the time a document
/// gave them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerfulPolicy {
    /// UTC microseconds of the first event that gave it the document.
    pub since: i64,
    /// Allows `*` on `*` (or `NotAction` on `*`), not only escalation actions.
    pub admin: bool,
}

/// Reads the powerful customer managed policies, by ARN, with one filter.
pub fn load(scan: LazyFrame) -> PolarsResult<HashMap<String, PowerfulPolicy>> {
    let calls = ["CreatePolicy", "CreatePolicyVersion"];
    let frame = successful_calls(scan, "iam.amazonaws.com", &calls)
        .select([
            col("event_time"),
            col("event_name"),
            col("request_parameters"),
            col("response_elements"),
        ])
        .collect()?;
    let times = time_values(&frame, "event_time")?;
    let names = text_values(&frame, "event_name")?;
    let requests = text_values(&frame, "request_parameters")?;
    let responses = text_values(&frame, "response_elements")?;
    let parse = |text: &Option<String>| {
        text.as_deref()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
            .unwrap_or(Value::Null)
    };
    let mut policies: HashMap<String, PowerfulPolicy> = HashMap::new();
    for row in 0..frame.height() {
        let (request, response) = (parse(&requests[row]), parse(&responses[row]));
        let arn = if names[row].as_deref() == Some("CreatePolicy") {
            response.pointer("/policy/arn")
        } else {
            // A new version only changes the policy when it becomes default.
            let default = request
                .get("setAsDefault")
                .is_some_and(|value| value == true || value == "true");
            default.then(|| request.get("policyArn")).flatten()
        };
        let (Some(arn), Some(time)) = (arn.and_then(Value::as_str), times[row]) else {
            continue;
        };
        let Some(document) = request
            .get("policyDocument")
            .and_then(|document| PolicyDocument::from_value(document).ok())
        else {
            continue;
        };
        let admin = document.is_near_admin();
        if !admin && !document.grants_escalation() {
            continue;
        }
        policies
            .entry(arn.to_string())
            .and_modify(|known| {
                known.since = known.since.min(time);
                known.admin |= admin;
            })
            .or_insert(PowerfulPolicy { since: time, admin });
    }
    Ok(policies)
}
