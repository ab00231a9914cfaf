//! The event catalogue: one function per API call, each returning the
//! service-defined part of a record (`requestParameters`, `responseElements`,
//! `resources`, `additionalEventData`).
//!
//! Shapes follow real CloudTrail records. Read-only calls have a null
//! `responseElements`. Each service keeps its own conventions (see the
//! submodules), and dates inside responses use the service's own text
//! format. The mix of calls per caller is set in `actors.rs`.

mod compute;
mod operations;
mod security;
mod storage;

use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::identities::Account;
use super::random;
use super::record::{Call, Epoch, format_sts_time};

pub(crate) use compute::*;
pub(crate) use operations::*;
pub(crate) use security::*;
pub(crate) use storage::*;

/// Inputs of a catalogue operation: the account, region and time of the call.
pub(crate) struct Ctx<'a> {
    pub rng: &'a mut StdRng,
    pub account: &'a Account,
    pub region: &'a str,
    pub time: Epoch,
}

/// One catalogue entry.
pub(crate) type Op = fn(&mut Ctx) -> Call;

/// Builds the `credentials` object of an STS call that mints temporary credentials.
pub(crate) fn sts_credentials(rng: &mut StdRng, access_key: &str, expiration: Epoch) -> Value {
    json!({
        "accessKeyId": access_key,
        "sessionToken": format!("IQoJb3JpZ2luX2Vj{}", random::base64(rng, 620)),
        "expiration": format_sts_time(expiration)
    })
}

/// Returns the IAM permission name of a call, for `AccessDenied` messages.
pub(crate) fn iam_action(source: &str, name: &str) -> String {
    let service = match source {
        "monitoring.amazonaws.com" => "cloudwatch",
        "tagging.amazonaws.com" => "tag",
        other => other.split('.').next().unwrap_or(other),
    };
    // Lambda event names carry the API version: ListFunctions20150331.
    let action = name
        .trim_end_matches("v2")
        .trim_end_matches(|c: char| c.is_ascii_digit());
    format!("{service}:{action}")
}

/// Turns `call` into an authorisation failure in the form its service uses.
pub(crate) fn deny(mut call: Call, caller_arn: &str) -> Call {
    let action = iam_action(call.source, call.name);
    let reason = format!(
        "User: {caller_arn} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
    );
    let (code, message) = match call.source {
        "ec2.amazonaws.com" => (
            "Client.UnauthorizedOperation",
            format!("You are not authorized to perform this operation. {reason}"),
        ),
        "lambda.amazonaws.com"
        | "kms.amazonaws.com"
        | "secretsmanager.amazonaws.com"
        | "logs.amazonaws.com"
        | "ecs.amazonaws.com" => ("AccessDeniedException", reason),
        _ => ("AccessDenied", reason),
    };
    // Only S3 keeps additionalEventData on a denied call.
    if call.source != "s3.amazonaws.com" {
        call.additional = None;
    }
    call.error(code, message)
}

/// Turns `call` into a throttling failure, as bursts of reads produce.
pub(crate) fn throttle(call: Call) -> Call {
    match call.source {
        "ec2.amazonaws.com" => call.error(
            "Client.RequestLimitExceeded",
            "Request limit exceeded.".to_string(),
        ),
        _ => call.error("ThrottlingException", "Rate exceeded".to_string()),
    }
}

impl Call {
    pub(crate) fn with_request_id(mut self, request_id: String) -> Call {
        self.request_id = Some(request_id);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_action_strips_lambda_version() {
        assert_eq!(
            iam_action("lambda.amazonaws.com", "GetFunction20150331v2"),
            "lambda:GetFunction"
        );
        assert_eq!(
            iam_action("monitoring.amazonaws.com", "DescribeAlarms"),
            "cloudwatch:DescribeAlarms"
        );
        assert_eq!(
            iam_action("ec2.amazonaws.com", "DescribeInstances"),
            "ec2:DescribeInstances"
        );
    }
}
