//! Storage calls: S3 bucket configuration, DynamoDB and RDS.
//!
//! S3 records carry `additionalEventData` (signature version, byte counts)
//! and a 16-character `requestID` instead of a UUID.

use rand::Rng;
use serde_json::{Value, json};

use super::Ctx;
use crate::corpus::random::{self, pick};
use crate::corpus::record::Call;

fn s3_call(ctx: &mut Ctx, name: &'static str, bucket: &str, subresource: &str) -> Call {
    let host = format!("{bucket}.s3.{}.amazonaws.com", ctx.region);
    let mut request = json!({ "bucketName": bucket, "Host": host });
    if !subresource.is_empty() {
        request[subresource] = json!("");
    }
    let bytes_out = ctx.rng.random_range(200..4000);
    Call::new("s3.amazonaws.com", name, true)
        .request(request)
        .additional(s3_additional(ctx, bytes_out))
        .resources(json!([{ "accountId": ctx.account.id, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}") }]))
        .with_request_id(random::upper_alnum(ctx.rng, 16))
}

fn s3_additional(ctx: &mut Ctx, bytes_out: u32) -> Value {
    json!({
        "SignatureVersion": "SigV4",
        "CipherSuite": "TLS_AES_128_GCM_SHA256",
        "bytesTransferredIn": 0,
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": format!("{}=", random::base64(ctx.rng, 75)),
        "bytesTransferredOut": bytes_out
    })
}

pub(crate) fn s3_list_buckets(ctx: &mut Ctx) -> Call {
    let bytes_out = ctx.rng.random_range(1500..9000);
    let additional = s3_additional(ctx, bytes_out);
    Call::new("s3.amazonaws.com", "ListBuckets", true)
        .request(json!({ "Host": format!("s3.{}.amazonaws.com", ctx.region) }))
        .additional(additional)
        .with_request_id(random::upper_alnum(ctx.rng, 16))
}

pub(crate) fn s3_bucket_read(ctx: &mut Ctx) -> Call {
    let bucket = pick(ctx.rng, &ctx.account.buckets).clone();
    let (name, subresource, error): (&'static str, &str, Option<(&'static str, &str)>) =
        match ctx.rng.random_range(0..10) {
            0 => ("GetBucketAcl", "acl", None),
            1 => (
                "GetBucketPolicy",
                "policy",
                Some(("NoSuchBucketPolicy", "The bucket policy does not exist")),
            ),
            2 => ("GetBucketLocation", "location", None),
            3 => ("GetBucketEncryption", "encryption", None),
            4 => ("GetBucketVersioning", "versioning", None),
            5 => (
                "GetBucketTagging",
                "tagging",
                Some(("NoSuchTagSet", "The TagSet does not exist")),
            ),
            6 => ("GetBucketPublicAccessBlock", "publicAccessBlock", None),
            7 => ("GetBucketLogging", "logging", None),
            8 => ("GetBucketOwnershipControls", "ownershipControls", None),
            _ => (
                "GetBucketLifecycle",
                "lifecycle",
                Some((
                    "NoSuchLifecycleConfiguration",
                    "The lifecycle configuration does not exist",
                )),
            ),
        };
    let call = s3_call(ctx, name, &bucket, subresource);
    match error {
        Some((code, message)) if ctx.rng.random_bool(0.4) => call.error(code, message.to_string()),
        _ => call,
    }
}

pub(crate) fn s3_put_bucket_policy(ctx: &mut Ctx) -> Call {
    let bucket = pick(ctx.rng, &ctx.account.buckets).clone();
    let mut call = s3_call(ctx, "PutBucketPolicy", &bucket, "policy");
    call.read_only = false;
    if let Some(request) = call.request.as_mut() {
        // S3 logs the policy as an object, unlike IAM's policy strings.
        request["bucketPolicy"] = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                "Condition": { "Bool": { "aws:SecureTransport": "false" } }
            }]
        });
    }
    call
}

pub(crate) fn dynamodb_read(ctx: &mut Ctx) -> Call {
    let table = pick(ctx.rng, &ctx.account.tables).clone();
    let arn = format!(
        "arn:aws:dynamodb:{}:{}:table/{table}",
        ctx.region, ctx.account.id
    );
    let call = match ctx.rng.random_range(0..4) {
        0 => Call::new("dynamodb.amazonaws.com", "DescribeTable", true)
            .request(json!({ "tableName": table })),
        1 => {
            Call::new("dynamodb.amazonaws.com", "ListTables", true).request(json!({ "limit": 100 }))
        }
        2 => Call::new("dynamodb.amazonaws.com", "DescribeContinuousBackups", true)
            .request(json!({ "tableName": table })),
        _ => Call::new("dynamodb.amazonaws.com", "DescribeTimeToLive", true)
            .request(json!({ "tableName": table })),
    };
    if call.name == "ListTables" {
        call
    } else {
        call.resources(
            json!([{ "accountId": ctx.account.id, "type": "AWS::DynamoDB::Table", "ARN": arn }]),
        )
    }
}

pub(crate) fn rds_read(ctx: &mut Ctx) -> Call {
    let database = pick(ctx.rng, &ctx.account.databases).clone();
    match ctx.rng.random_range(0..4) {
        0 => Call::new("rds.amazonaws.com", "DescribeDBInstances", true).request(json!({ "dBInstanceIdentifier": database })),
        1 => Call::new("rds.amazonaws.com", "DescribeDBClusters", true).request(json!({ "includeShared": false })),
        2 => Call::new("rds.amazonaws.com", "DescribeDBSnapshots", true)
            .request(json!({ "dBInstanceIdentifier": database, "snapshotType": "automated", "includeShared": false, "includePublic": false })),
        _ => Call::new("rds.amazonaws.com", "ListTagsForResource", true)
            .request(json!({ "resourceName": format!("arn:aws:rds:{}:{}:db:{database}", ctx.region, ctx.account.id) })),
    }
}
