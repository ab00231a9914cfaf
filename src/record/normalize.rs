//! Normalisation: one CloudTrail record's JSON text to one [`EventRow`].
//!
//! Every known top-level field goes to its column. The polymorphic blobs keep
//! their JSON text. Identity fields are flattened from `userIdentity` and its
//! `sessionContext`. Derived columns name the credential a call minted and the
//! IAM entity it acted on. Unknown top-level fields go to the `overflow`
//! column. A field with an unexpected JSON type never fails the record: it is
//! kept as text. Only a record that is not a JSON object, or that has no
//! readable time at all, is rejected.

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::json::{JsonObject, object_get, value_bool, value_json, value_str, value_text};
use super::model::EventRow;
use crate::decode::envelope::parse_object_pairs;
use crate::time::{Micros, epoch_to_micros, parse_timestamp};

/// Reasons a record is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("record has no readable eventTime (found {0})")]
    NoEventTime(String),
}

/// Normalises one record. `raw` is the record's JSON text, kept byte-exact in
/// the `raw_record` column.
pub fn normalize(raw: &str, source_uri: &str, source_index: u64) -> Result<EventRow, RecordError> {
    let pairs = parse_object_pairs(raw).map_err(RecordError::NotAnObject)?;
    let mut row = EventRow::default();
    let mut overflow: Vec<(String, &RawValue)> = Vec::new();
    let mut user_identity = None;
    let mut event_time_raw = None;
    let mut time_window = None;
    let mut request_parameters = None;
    let mut response_elements = None;
    let mut insight_details = None;

    for (key, value) in &pairs {
        let value: &RawValue = value;
        match key.as_ref() {
            "eventVersion" => row.event_version = value_text(value),
            "userIdentity" => user_identity = Some(value),
            "eventTime" => event_time_raw = Some(value),
            "eventSource" => row.event_source = value_text(value),
            "eventName" => row.event_name = value_text(value),
            "awsRegion" => row.aws_region = value_text(value),
            "sourceIPAddress" => row.source_ip = value_text(value),
            "userAgent" => row.user_agent = value_text(value),
            "errorCode" => row.error_code = value_text(value),
            "errorMessage" => row.error_message = value_text(value),
            "requestParameters" => {
                request_parameters = Some(value);
                row.request_parameters = value_json(value);
            }
            "responseElements" => {
                response_elements = Some(value);
                row.response_elements = value_json(value);
            }
            "additionalEventData" => row.additional_event_data = value_json(value),
            "requestID" => row.request_id = value_text(value),
            "eventID" | "eventId" => row.event_id = value_text(value),
            "eventType" => row.event_type = value_text(value),
            "apiVersion" => row.api_version = value_text(value),
            "managementEvent" => row.management_event = value_bool(value),
            "readOnly" => row.read_only = value_bool(value),
            "resources" => row.resources = value_json(value),
            "recipientAccountId" => row.recipient_account_id = value_text(value),
            "serviceEventDetails" => row.service_event_details = value_json(value),
            "sharedEventID" | "sharedEventId" => row.shared_event_id = value_text(value),
            "vpcEndpointId" => row.vpc_endpoint_id = value_text(value),
            "vpcEndpointAccountId" => row.vpc_endpoint_account_id = value_text(value),
            "eventCategory" => row.event_category = value_text(value),
            "addendum" => row.addendum = value_json(value),
            "sessionCredentialFromConsole" => {
                row.session_credential_from_console = value_bool(value)
            }
            "tlsDetails" => row.tls_details = value_json(value),
            "edgeDeviceDetails" => row.edge_device_details = value_json(value),
            "eventContext" => row.event_context = value_json(value),
            "insightDetails" => {
                insight_details = Some(value);
                row.insight_details = value_json(value);
            }
            // Aggregated events name the account `accountId`; it is also kept
            // in the overflow so the record's own field name is not lost.
            "accountId" => {
                if row.recipient_account_id.is_none() {
                    row.recipient_account_id = value_text(value);
                }
                overflow.push((key.to_string(), value));
            }
            "timeWindow" => {
                time_window = Some(value);
                overflow.push((key.to_string(), value));
            }
            _ => overflow.push((key.to_string(), value)),
        }
    }

    row.event_time = event_time_raw.and_then(read_time).or_else(|| {
        time_window
            .and_then(|window| object_get(window, "windowStart"))
            .and_then(read_time)
    });
    if row.event_time.is_none() {
        let found = event_time_raw.map_or_else(
            || "no eventTime field".to_string(),
            |raw| truncate(raw.get(), 80),
        );
        return Err(RecordError::NoEventTime(found));
    }

    if let Some(identity) = user_identity {
        row.user_identity = value_json(identity);
        flatten_identity(identity, &mut row);
    }
    if let Some(details) = insight_details {
        fill_insight_names(details, &mut row);
    }
    if let Some(response) = response_elements {
        derive_minted_credential(response, &mut row);
    }
    if let Some(request) = request_parameters {
        derive_targets(request, &mut row);
    }
    // CreateAccessKey without a userName acts on the caller; the response
    // names the user either way.
    if row.target_user_name.is_none() && row.minted_user_name.is_some() {
        row.target_user_name = row.minted_user_name.clone();
    }
    row.caller_key_kind = row
        .access_key_id
        .as_deref()
        .and_then(key_kind)
        .map(str::to_string);

    if !overflow.is_empty() {
        row.overflow = Some(overflow_json(&overflow));
    }
    row.dedup_key = Some(dedup_key(&row, raw));
    row.raw_record = Some(raw.to_string());
    row.source_uri = Some(source_uri.to_string());
    row.source_index = Some(source_index);
    Ok(row)
}

/// Returns `long-term` for AKIA keys and `temporary` for ASIA keys.
pub fn key_kind(access_key_id: &str) -> Option<&'static str> {
    if access_key_id.starts_with("AKIA") {
        Some("long-term")
    } else if access_key_id.starts_with("ASIA") {
        Some("temporary")
    } else {
        None
    }
}

fn read_time(value: &RawValue) -> Option<Micros> {
    let text = value.get();
    if text.starts_with('"') {
        value_str(value).and_then(|text| parse_timestamp(&text))
    } else {
        text.parse::<f64>().ok().and_then(epoch_to_micros)
    }
}

/// Flattens `userIdentity`. Any part may be missing, null, empty or of an
/// unexpected type; each lookup then yields null.
fn flatten_identity(identity: &RawValue, row: &mut EventRow) {
    let Some(identity) = JsonObject::parse(identity) else {
        return;
    };
    row.identity_type = identity.text("type");
    row.principal_id = identity.text("principalId");
    row.principal_arn = identity.text("arn");
    row.identity_account_id = identity.text("accountId");
    row.access_key_id = identity.text("accessKeyId");
    row.user_name = identity.text("userName");
    row.invoked_by = identity.text("invokedBy");
    row.identity_provider = identity.text("identityProvider");
    row.credential_id = identity.text("credentialId");

    if let Some(on_behalf_of) = identity.object("onBehalfOf") {
        row.on_behalf_of_user_id = on_behalf_of.text("userId");
        row.on_behalf_of_identity_store_arn = on_behalf_of.text("identityStoreArn");
    }

    let Some(context) = identity.object("sessionContext") else {
        return;
    };
    if let Some(attributes) = context.object("attributes") {
        row.mfa_authenticated = attributes.get("mfaAuthenticated").and_then(value_bool);
        row.session_creation_time = attributes.get("creationDate").and_then(read_time);
    }
    if let Some(issuer) = context.object("sessionIssuer") {
        row.session_issuer_type = issuer.text("type");
        row.session_issuer_principal_id = issuer.text("principalId");
        row.session_issuer_arn = issuer.text("arn");
        row.session_issuer_account_id = issuer.text("accountId");
        row.session_issuer_user_name = issuer.text("userName");
    }
    if let Some(federation) = context.object("webIdFederationData") {
        row.web_id_federated_provider = federation.text("federatedProvider");
    }
    row.source_identity = context.text("sourceIdentity");
    row.ec2_role_delivery = context.text("ec2RoleDelivery");
    row.assumed_root = context.get("assumedRoot").and_then(value_bool);
}

/// Insight records carry the API they describe inside `insightDetails`.
fn fill_insight_names(details: &RawValue, row: &mut EventRow) {
    if row.event_source.is_none() {
        row.event_source = object_get(details, "eventSource").and_then(value_text);
    }
    if row.event_name.is_none() {
        row.event_name = object_get(details, "eventName").and_then(value_text);
    }
}

/// Reads the credential a call created from its response elements:
/// `credentials` (AssumeRole*, GetSessionToken, GetFederationToken) or
/// `accessKey` (CreateAccessKey).
fn derive_minted_credential(response: &RawValue, row: &mut EventRow) {
    // Most responses mint nothing; a substring test is far cheaper than
    // parsing them.
    if !response.get().contains("\"accessKeyId\"") {
        return;
    }
    let Some(response) = JsonObject::parse(response) else {
        return;
    };

    if let Some(credentials) = response.object("credentials") {
        row.minted_access_key_id = credentials.get("accessKeyId").and_then(value_str);
        row.minted_expiration = credentials.get("expiration").and_then(read_time);
        row.minted_principal_arn = response
            .object("assumedRoleUser")
            .or_else(|| response.object("federatedUser"))
            .and_then(|user| user.get("arn"))
            .and_then(value_str);
    } else if let Some(access_key) = response.object("accessKey") {
        row.minted_access_key_id = access_key.get("accessKeyId").and_then(value_str);
        row.minted_user_name = access_key.get("userName").and_then(value_str);
    }
}

/// Reads the IAM entity a call acted on from its request parameters.
fn derive_targets(request: &RawValue, row: &mut EventRow) {
    const TARGET_KEYS: [&str; 6] = [
        "\"userName\"",
        "\"roleName\"",
        "\"roleArn\"",
        "\"groupName\"",
        "\"policyArn\"",
        "\"policyName\"",
    ];
    let text = request.get();
    if !TARGET_KEYS.iter().any(|key| text.contains(key)) {
        return;
    }
    let Some(request) = JsonObject::parse(request) else {
        return;
    };
    let text = |key: &str| request.get(key).and_then(value_str);
    row.target_user_name = text("userName");
    row.target_role_name = text("roleName");
    row.target_role_arn = text("roleArn");
    row.target_group_name = text("groupName");
    row.target_policy_arn = text("policyArn");
    row.target_policy_name = text("policyName");
}

fn overflow_json(fields: &[(String, &RawValue)]) -> String {
    let mut out = String::from("{");
    for (index, (key, value)) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key).unwrap_or_else(|_| "\"\"".to_string()));
        out.push(':');
        out.push_str(value.get());
    }
    out.push('}');
    out
}

/// Builds the key that makes a record count once: the recipient account and
/// event id, or a hash of the raw text for records without an event id.
fn dedup_key(row: &EventRow, raw: &str) -> String {
    match row.event_id.as_deref().filter(|id| !id.is_empty()) {
        Some(event_id) => format!(
            "{}:{event_id}",
            row.recipient_account_id.as_deref().unwrap_or("")
        ),
        None => {
            let digest = Sha256::digest(raw.as_bytes());
            let hex: String = digest[..16]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            format!("raw:{hex}")
        }
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    let mut out: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSUME_ROLE: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA1","arn":"arn:aws:iam::012345678901:user/alice","accountId":"012345678901","accessKeyId":"AKIAEXAMPLE1","userName":"alice"},"eventTime":"2023-07-10T11:42:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2","requestParameters":{"roleArn":"arn:aws:iam::012345678901:role/admin","roleSessionName":"s"},"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE2","sessionToken":"x","expiration":"Jul 10, 2023, 12:42:00 PM"},"assumedRoleUser":{"assumedRoleId":"AROA1:s","arn":"arn:aws:sts::012345678901:assumed-role/admin/s"}},"requestID":"r1","eventID":"e1","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"012345678901","futureField":{"x":1}}"#;

    #[test]
    fn assume_role_fills_identity_and_minted_key() {
        let row = normalize(ASSUME_ROLE, "file.json", 3).unwrap();
        assert_eq!(row.identity_type.as_deref(), Some("IAMUser"));
        assert_eq!(row.access_key_id.as_deref(), Some("AKIAEXAMPLE1"));
        assert_eq!(row.caller_key_kind.as_deref(), Some("long-term"));
        assert_eq!(row.minted_access_key_id.as_deref(), Some("ASIAEXAMPLE2"));
        assert_eq!(
            row.minted_principal_arn.as_deref(),
            Some("arn:aws:sts::012345678901:assumed-role/admin/s")
        );
        assert!(row.minted_expiration.is_some());
        assert_eq!(
            row.target_role_arn.as_deref(),
            Some("arn:aws:iam::012345678901:role/admin")
        );
        assert_eq!(row.recipient_account_id.as_deref(), Some("012345678901"));
        assert_eq!(row.dedup_key.as_deref(), Some("012345678901:e1"));
        assert_eq!(row.raw_record.as_deref(), Some(ASSUME_ROLE));
        assert_eq!(row.source_index, Some(3));
    }

    #[test]
    fn unknown_field_goes_to_overflow() {
        let row = normalize(ASSUME_ROLE, "f", 0).unwrap();
        assert_eq!(row.overflow.as_deref(), Some(r#"{"futureField":{"x":1}}"#));
    }

    #[test]
    fn null_and_odd_types_do_not_fail() {
        let raw = r#"{"eventTime":"2023-07-10T11:42:00Z","userIdentity":null,"requestParameters":null,"responseElements":"text","readOnly":"true","errorCode":42}"#;
        let row = normalize(raw, "f", 0).unwrap();
        assert_eq!(row.identity_type, None);
        assert_eq!(row.request_parameters, None);
        assert_eq!(row.response_elements.as_deref(), Some("\"text\""));
        assert_eq!(row.read_only, Some(true));
        assert_eq!(row.error_code.as_deref(), Some("42"));
        assert!(row.dedup_key.unwrap().starts_with("raw:"));
    }

    #[test]
    fn empty_session_issuer_leaves_nulls() {
        let raw = r#"{"eventTime":"2023-07-10T11:42:00Z","eventID":"e","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{},"attributes":{"mfaAuthenticated":"false","creationDate":"20230710T114200Z"}}}}"#;
        let row = normalize(raw, "f", 0).unwrap();
        assert_eq!(row.session_issuer_arn, None);
        assert_eq!(row.mfa_authenticated, Some(false));
        assert_eq!(row.session_creation_time, row.event_time);
    }

    #[test]
    fn aggregated_event_uses_account_id() {
        let raw = r#"{"eventVersion":"1.0","eventId":"agg-1","accountId":"111122223333","eventTime":"2025-11-01T00:05:00Z","timeWindow":{"windowStart":"2025-11-01T00:00:00Z"}}"#;
        let row = normalize(raw, "f", 0).unwrap();
        assert_eq!(row.event_id.as_deref(), Some("agg-1"));
        assert_eq!(row.recipient_account_id.as_deref(), Some("111122223333"));
        assert_eq!(row.dedup_key.as_deref(), Some("111122223333:agg-1"));
    }

    #[test]
    fn insight_takes_names_from_details() {
        let raw = r#"{"eventVersion":"1.07","eventTime":"2023-07-10T11:42:00Z","eventType":"AwsCloudTrailInsight","eventID":"i1","insightDetails":{"state":"Start","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}}"#;
        let row = normalize(raw, "f", 0).unwrap();
        assert_eq!(row.event_name.as_deref(), Some("CreateUser"));
        assert_eq!(row.event_type.as_deref(), Some("AwsCloudTrailInsight"));
    }

    #[test]
    fn missing_time_is_rejected() {
        let err = normalize(r#"{"eventID":"x"}"#, "f", 0).unwrap_err();
        assert!(matches!(err, RecordError::NoEventTime(_)));
        let err = normalize(r#"{"eventTime":"soon"}"#, "f", 0).unwrap_err();
        assert_eq!(err, RecordError::NoEventTime("\"soon\"".into()));
    }

    #[test]
    fn create_access_key_names_target_from_response() {
        let raw = r#"{"eventTime":"2023-07-10T11:42:00Z","eventName":"CreateAccessKey","requestParameters":null,"responseElements":{"accessKey":{"userName":"bob","accessKeyId":"AKIANEW","status":"Active"}}}"#;
        let row = normalize(raw, "f", 0).unwrap();
        assert_eq!(row.minted_access_key_id.as_deref(), Some("AKIANEW"));
        assert_eq!(row.target_user_name.as_deref(), Some("bob"));
    }
}
