//! Identity and secrets calls: IAM, STS, KMS, Secrets Manager and SSM.
//!
//! IAM is a global service, so its calls are marked global and recorded in
//! us-east-1. Policy documents are JSON strings with newlines, as IAM logs them.

use rand::Rng;
use serde_json::json;

use super::Ctx;
use crate::corpus::random::{self, pick};
use crate::corpus::record::Call;

fn iam(name: &'static str, read_only: bool) -> Call {
    Call::new("iam.amazonaws.com", name, read_only).global()
}

pub(crate) fn iam_read(ctx: &mut Ctx) -> Call {
    let account = ctx.account;
    match ctx.rng.random_range(0..12) {
        0 => {
            let user = pick(ctx.rng, &account.humans).name.clone();
            iam("GetUser", true).request(json!({ "userName": user }))
        }
        1 => {
            let role = pick(ctx.rng, &account.roles).name.clone();
            iam("GetRole", true).request(json!({ "roleName": role }))
        }
        2 => iam("ListRoles", true).request(json!({ "maxItems": 1000 })),
        3 => iam("ListUsers", true).request(json!({ "maxItems": 1000 })),
        4 => {
            let role = pick(ctx.rng, &account.roles).name.clone();
            iam("ListAttachedRolePolicies", true).request(json!({ "roleName": role }))
        }
        5 => {
            let role = pick(ctx.rng, &account.roles).name.clone();
            iam("ListRolePolicies", true).request(json!({ "roleName": role }))
        }
        6 => iam("GetPolicy", true).request(json!({ "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess" })),
        7 => iam("GetPolicyVersion", true).request(json!({ "policyArn": format!("arn:aws:iam::{}:policy/ci-deploy", account.id), "versionId": format!("v{}", ctx.rng.random_range(1..9)) })),
        8 => iam("GetAccountSummary", true),
        9 => {
            let user = pick(ctx.rng, &account.humans).name.clone();
            iam("ListAccessKeys", true).request(json!({ "userName": user }))
        }
        10 => iam("ListPolicies", true).request(json!({ "scope": "Local", "onlyAttached": false, "maxItems": 100 })),
        _ => {
            let user = pick(ctx.rng, &account.humans).name.clone();
            iam("ListMFADevices", true).request(json!({ "userName": user }))
        }
    }
}

/// Builds `PutRolePolicy` with an inline policy of a few KB. The policy document is a
/// JSON string inside `requestParameters`, with newlines and indentation.
pub(crate) fn iam_put_role_policy(ctx: &mut Ctx) -> Call {
    let role = pick(ctx.rng, &ctx.account.roles[..5]).name.clone();
    let statements: Vec<String> = (0..ctx.rng.random_range(3..25))
        .map(|index| {
            let bucket = pick(ctx.rng, &ctx.account.buckets);
            format!(
                "    {{\n      \"Sid\": \"Access{index}\",\n      \"Effect\": \"Allow\",\n      \"Action\": [\n        \"s3:GetObject\",\n        \"s3:PutObject\",\n        \"s3:ListBucket\"\n      ],\n      \"Resource\": [\n        \"arn:aws:s3:::{bucket}\",\n        \"arn:aws:s3:::{bucket}/*\"\n      ]\n    }}"
            )
        })
        .collect();
    let document = format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n{}\n  ]\n}}",
        statements.join(",\n")
    );
    iam("PutRolePolicy", false).request(json!({
        "roleName": role,
        "policyName": "data-access",
        "policyDocument": document
    }))
}

pub(crate) fn sts_get_caller_identity(ctx: &mut Ctx) -> Call {
    let call = Call::new("sts.amazonaws.com", "GetCallerIdentity", true);
    // Older SDKs call the global endpoint, which CloudTrail records in us-east-1.
    if ctx.rng.random_bool(0.3) {
        call.global()
    } else {
        call
    }
}

pub(crate) fn kms_use(ctx: &mut Ctx) -> Call {
    let key = pick(ctx.rng, &ctx.account.kms_keys).clone();
    let key_arn = format!("arn:aws:kms:{}:{}:key/{key}", ctx.region, ctx.account.id);
    let resources =
        json!([{ "accountId": ctx.account.id, "type": "AWS::KMS::Key", "ARN": key_arn }]);
    let (name, request) = match ctx.rng.random_range(0..6) {
        0..=2 => {
            let secret = pick(ctx.rng, &ctx.account.secrets).clone();
            (
                "Decrypt",
                json!({
                    "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                    "encryptionContext": { "SecretARN": format!("arn:aws:secretsmanager:{}:{}:secret:{secret}", ctx.region, ctx.account.id), "SecretVersionId": random::uuid(ctx.rng).to_uppercase() }
                }),
            )
        }
        3 => {
            let bucket = pick(ctx.rng, &ctx.account.buckets).clone();
            (
                "GenerateDataKey",
                json!({ "keyId": key_arn, "keySpec": "AES_256", "encryptionContext": { "aws:s3:arn": format!("arn:aws:s3:::{bucket}") } }),
            )
        }
        4 => (
            "DescribeKey",
            json!({ "keyId": format!("alias/{}-data", ctx.account.environment) }),
        ),
        _ => (
            "Encrypt",
            json!({ "keyId": key_arn, "encryptionAlgorithm": "SYMMETRIC_DEFAULT" }),
        ),
    };
    Call::new("kms.amazonaws.com", name, true)
        .request(request)
        .resources(resources)
}

pub(crate) fn ssm_parameter(ctx: &mut Ctx) -> Call {
    let parameter = pick(ctx.rng, &ctx.account.parameters).clone();
    match ctx.rng.random_range(0..4) {
        0 | 1 => Call::new("ssm.amazonaws.com", "GetParameter", true).request(
            json!({ "name": parameter, "withDecryption": parameter.ends_with("password") }),
        ),
        2 => Call::new("ssm.amazonaws.com", "GetParametersByPath", true)
            .request(json!({ "path": "/app/", "recursive": true, "withDecryption": true })),
        _ => Call::new("ssm.amazonaws.com", "DescribeParameters", true)
            .request(json!({ "maxResults": 50 })),
    }
}

pub(crate) fn ssm_agent(ctx: &mut Ctx) -> Call {
    let instance = pick(ctx.rng, &ctx.account.instances).clone();
    match ctx.rng.random_range(0..5) {
        0 | 1 => Call::new("ssm.amazonaws.com", "UpdateInstanceInformation", false).request(json!({
            "instanceId": instance, "agentVersion": "3.3.1142.0", "agentStatus": "Active",
            "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
            "iPAddress": format!("10.20.{}.{}", ctx.rng.random_range(0..64), ctx.rng.random_range(4..250)),
            "computerName": format!("ip-10-20-{}-{}.{}.compute.internal", ctx.rng.random_range(0..64), ctx.rng.random_range(4..250), ctx.region),
            "agentName": "amazon-ssm-agent", "availabilityZone": format!("{}a", ctx.region),
            "availabilityZoneId": "use1-az4", "sSMConnectionChannel": "ssmmessages"
        })),
        2 => Call::new("ssm.amazonaws.com", "ListInstanceAssociations", true)
            .request(json!({ "instanceId": instance, "maxResults": 20 })),
        _ => Call::new("ec2messages.amazonaws.com", "GetMessages", true).request(json!({
            "destination": instance, "messagesRequestId": random::uuid(ctx.rng), "visibilityTimeoutInSeconds": 10
        })),
    }
}

pub(crate) fn secrets_get(ctx: &mut Ctx) -> Call {
    let secret = pick(ctx.rng, &ctx.account.secrets).clone();
    secret_value(ctx, &secret)
}

pub(crate) fn secret_value(ctx: &mut Ctx, secret: &str) -> Call {
    let arn = format!(
        "arn:aws:secretsmanager:{}:{}:secret:{secret}",
        ctx.region, ctx.account.id
    );
    Call::new("secretsmanager.amazonaws.com", "GetSecretValue", true)
        .request(json!({ "secretId": arn }))
}

pub(crate) fn secrets_read(ctx: &mut Ctx) -> Call {
    let secret = pick(ctx.rng, &ctx.account.secrets).clone();
    let arn = format!(
        "arn:aws:secretsmanager:{}:{}:secret:{secret}",
        ctx.region, ctx.account.id
    );
    match ctx.rng.random_range(0..3) {
        0 => Call::new("secretsmanager.amazonaws.com", "ListSecrets", true)
            .request(json!({ "maxResults": 100 })),
        1 => Call::new("secretsmanager.amazonaws.com", "DescribeSecret", true)
            .request(json!({ "secretId": arn })),
        _ => Call::new("secretsmanager.amazonaws.com", "GetResourcePolicy", true)
            .request(json!({ "secretId": arn })),
    }
}
