//! The second half of the embedded intrusion and the account's life around
//! it: the attacker's own administrator role, a vendor's administrator role
//! trusted long before the logs start, the rotation of the leaked key the
//! next morning, and benign IAM changes that an audit must tell apart.
//!
//! Offsets are from T0 (see `scenario.rs`); negative offsets fall before the
//! intrusion. Every record here is in account A.
//!
//! | Offset | Caller | What happens |
//! |---|---|---|
//! | −9:00, −5:00, −1:00 | vendor account 318764902215 | `AssumeRole` into `cloudops-vendor-admin` (only the role owner's `AWSAccount` copy is in A's logs), then reads with the session |
//! | −7:00 | admin `alice.nguyen` | `CreateGroup platform-admins`, `AttachGroupPolicy AdministratorAccess`, `AddUserToGroup bogdan.kowalski` |
//! | −6:00 | `terraform-deploy` (CI) | `CreateRole lambda-reports-exec` trusting Lambda, a managed policy and a scoped inline policy |
//! | +33:20 – +33:40 | attacker, `deploy-admin` session | `CreateRole support-automation` trusting 444455556666, `AttachRolePolicy AdministratorAccess` |
//! | +1:15, +16:30 | attacker from 444455556666 | `AssumeRole` into `support-automation` → `ASIAEXAMPLEROLE00007`, then `ASIAEXAMPLEROLE00008`; reads with each |
//! | +13:40 – +14:30 | admin `alice.nguyen` | rotation: `CreateAccessKey` for `ci-deployer` → `AKIAEXAMPLEROTATED06`, `UpdateAccessKey` of the leaked key to `Inactive`, later `DeleteAccessKey` |
//! | +15:00 | admin `alice.nguyen` | `RemoveUserFromGroup platform-admins bogdan.kowalski` |
//! | +15:00, +18:00, +20:30 | vendor account | the vendor role stays in use after the rotation |
//!
//! The CI pipeline switches to the new key at [`ROTATION_OFFSET`].

use serde_json::json;

use super::actors::assume_role;
use super::identities::{self, Role, SessionExtras};
use super::record::{Call, Epoch, format_iam_time};
use super::scenario::{BOTO_AGENT, CLI_AGENT, Caller, EXTERNAL_ACCOUNT, LEAKED_KEY, Writer};
use super::services::{self as s, Op};

pub const ATTACKER_ROLE: &str = "support-automation";
pub const ATTACKER_ROLE_KEY: &str = "ASIAEXAMPLEROLE00007";
pub const ATTACKER_ROLE_KEY_2: &str = "ASIAEXAMPLEROLE00008";
pub const ROTATED_KEY: &str = "AKIAEXAMPLEROTATED06";
pub const VENDOR_ADMIN_ROLE: &str = "cloudops-vendor-admin";
pub const VENDOR_ADMIN_ACCOUNT: &str = "318764902215";
pub const VENDOR_ADMIN_IP: &str = "18.197.44.12";
pub const ADMIN_GROUP: &str = "platform-admins";
pub const ADMIN_IP: &str = "62.74.15.201";
const CI_RUNNER_IP: &str = "52.168.33.7";
const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// Seconds after T0 when the CI pipeline starts using [`ROTATED_KEY`].
pub(crate) const ROTATION_OFFSET: i64 = 13 * 3600 + 45 * 60;

const VENDOR_AGENT: &str = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3 cloudops-runbook/4.2";
const ADMIN_AGENT: &str = "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#iam";
const TERRAFORM_AGENT: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.63.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.4 ua/2.1 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/iam#1.34.3";

fn iam(name: &'static str, request: serde_json::Value) -> Call {
    Call::new("iam.amazonaws.com", name, false)
        .request(request)
        .global()
}

/// Renders a trust policy document as the IAM console and CLI send it, as indented JSON.
fn trust_document(principal_kind: &str, principal: &str) -> String {
    format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Effect\": \"Allow\",\n      \"Principal\": {{\n        \"{principal_kind}\": \"{principal}\"\n      }},\n      \"Action\": \"sts:AssumeRole\"\n    }}\n  ]\n}}"
    )
}

/// Builds `CreateRole` as CloudTrail records it. The request carries the
/// trust policy as a JSON string and the response carries it URL-encoded.
fn create_role(role: &Role, document: &str, time: Epoch) -> Call {
    // Public CreateRole records keep letters, digits, `-` and `.` and write
    // spaces as `%20`, not `+`. NOTE: keeping `_` and `*` is assumed, as no
    // public record at hand shows them.
    const IAM_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'*');
    let encoded = percent_encoding::utf8_percent_encode(document, IAM_ENCODE).to_string();
    iam(
        "CreateRole",
        json!({ "roleName": role.name, "assumeRolePolicyDocument": document }),
    )
    .response(json!({ "role": {
        "path": "/",
        "roleName": role.name,
        "roleId": role.role_id,
        "arn": role.arn,
        "createDate": format_iam_time(time),
        "assumeRolePolicyDocument": encoded
    } }))
}

/// Emits the role owner's copy of a cross-account `AssumeRole` by
/// `principal_id` of `caller_account`, and returns the session's caller.
#[allow(clippy::too_many_arguments)]
fn cross_account_assume(
    writer: &mut Writer,
    role: &Role,
    principal_id: &str,
    caller_account: &str,
    session: &str,
    access_key: &str,
    time: Epoch,
    external_id: Option<&str>,
    ip: &'static str,
    agent: &'static str,
    region: &str,
) -> Caller {
    let account = std::sync::Arc::clone(&writer.accounts[0]);
    let (mut call, credential) = assume_role(
        &mut writer.rng,
        &account,
        role,
        session,
        access_key,
        time,
        3600,
        external_id,
        &SessionExtras::default(),
    );
    call.shared_event_id = Some(super::random::uuid(&mut writer.rng));
    let owner_copy = Caller {
        account_index: 0,
        identity: identities::aws_account_identity(principal_id, caller_account),
        arn: String::new(),
        ip,
        agent,
        from_console: false,
    };
    writer.emit(&owner_copy, time, region, call);
    Caller {
        account_index: 0,
        identity: credential.identity,
        arn: credential.arn,
        ip,
        agent,
        from_console: false,
    }
}

/// Emits everything in the table above. `attacker_admin` is the attacker's
/// `deploy-admin` session and `p` the primary region.
pub(super) fn build(
    writer: &mut Writer,
    attacker_admin: &Caller,
    regions: &[String],
    p: &str,
    t0: Epoch,
) {
    let a = std::sync::Arc::clone(&writer.accounts[0]);
    let hour = 3600;
    let role_in_a = |name: &str, writer: &mut Writer| Role {
        name: name.to_string(),
        role_id: super::random::iam_id(&mut writer.rng, "AROA", &a.marker, 21),
        arn: format!("arn:aws:iam::{}:role/{name}", a.id),
    };
    let vendor_role = role_in_a(VENDOR_ADMIN_ROLE, writer);
    let attacker_role = role_in_a(ATTACKER_ROLE, writer);
    let reports_role = role_in_a("lambda-reports-exec", writer);

    let admin_user = a.humans[0].clone();
    let on_call = a.humans[1].clone();
    let admin = Caller {
        account_index: 0,
        identity: identities::iam_user_identity(&a.id, &admin_user, Some(&admin_user.access_key)),
        arn: admin_user.arn.clone(),
        ip: ADMIN_IP,
        agent: ADMIN_AGENT,
        from_console: false,
    };

    // The vendor's runbook automation, before and after the intrusion.
    let vendor_ops: [Op; 4] = [
        s::ec2_describe_instances,
        s::iam_read,
        s::cloudtrail_read,
        s::ssm_parameter,
    ];
    for (index, offset) in [
        -9 * hour,
        -5 * hour,
        -hour,
        15 * hour,
        18 * hour,
        20 * hour + 1800,
    ]
    .into_iter()
    .enumerate()
    {
        let time = t0 + offset + 137;
        let key = super::random::iam_id(&mut writer.rng, "ASIA", &a.marker, 20);
        let session = format!("cloudops-runbook-{}", 4100 + index);
        let caller = cross_account_assume(
            writer,
            &vendor_role,
            "AROAVWXK3CLOUDOPS0091:cloudops-runbook",
            VENDOR_ADMIN_ACCOUNT,
            &session,
            &key,
            time,
            Some("cloudops-2019-7d1e"),
            VENDOR_ADMIN_IP,
            VENDOR_AGENT,
            p,
        );
        let mut call_time = time + 4;
        for region in regions {
            for op in vendor_ops {
                writer.op(&caller, call_time, region, op);
                call_time += 7;
            }
        }
    }

    // A temporary elevation of the on-call engineer, granted and later taken back.
    let group_time = t0 - 7 * hour;
    let group_arn = format!("arn:aws:iam::{}:group/{ADMIN_GROUP}", a.id);
    let group_id = super::random::iam_id(&mut writer.rng, "AGPA", &a.marker, 21);
    writer.emit(
        &admin,
        group_time,
        p,
        iam("CreateGroup", json!({ "groupName": ADMIN_GROUP })).response(json!({ "group": {
            "path": "/", "groupName": ADMIN_GROUP, "groupId": group_id, "arn": group_arn,
            "createDate": format_iam_time(group_time)
        } })),
    );
    writer.emit(
        &admin,
        group_time + 15,
        p,
        iam(
            "AttachGroupPolicy",
            json!({ "groupName": ADMIN_GROUP, "policyArn": ADMIN_POLICY }),
        ),
    );
    writer.emit(
        &admin,
        group_time + 40,
        p,
        iam(
            "AddUserToGroup",
            json!({ "groupName": ADMIN_GROUP, "userName": on_call.name }),
        ),
    );

    // Infrastructure as code: a workload role with scoped permissions.
    let terraform_time = t0 - 6 * hour;
    let deploy = a.role("terraform-deploy").clone();
    let ci = Caller {
        account_index: 0,
        identity: identities::iam_user_identity(&a.id, &a.ci_user, Some(LEAKED_KEY)),
        arn: a.ci_user.arn.clone(),
        ip: CI_RUNNER_IP,
        agent: TERRAFORM_AGENT,
        from_console: false,
    };
    let session_key = super::random::iam_id(&mut writer.rng, "ASIA", &a.marker, 20);
    let (call, credential) = assume_role(
        &mut writer.rng,
        &a,
        &deploy,
        &format!("terraform-{terraform_time}"),
        &session_key,
        terraform_time,
        3600,
        None,
        &SessionExtras::default(),
    );
    writer.emit(&ci, terraform_time, p, call);
    let terraform = Caller {
        identity: credential.identity,
        arn: credential.arn,
        ..ci.clone()
    };
    writer.emit(
        &terraform,
        terraform_time + 9,
        p,
        create_role(
            &reports_role,
            &trust_document("Service", "lambda.amazonaws.com"),
            terraform_time + 9,
        ),
    );
    writer.emit(
        &terraform,
        terraform_time + 11,
        p,
        iam(
            "AttachRolePolicy",
            json!({ "roleName": reports_role.name, "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" }),
        ),
    );
    let bucket = a.buckets[3].clone();
    writer.emit(
        &terraform,
        terraform_time + 12,
        p,
        iam(
            "PutRolePolicy",
            json!({
                "roleName": reports_role.name,
                "policyName": "reports-data",
                "policyDocument": format!("{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:ListBucket\"],\"Resource\":[\"arn:aws:s3:::{bucket}\",\"arn:aws:s3:::{bucket}/*\"]}}]}}")
            }),
        ),
    );

    // The attacker's own administrator role, trusting their account.
    let role_time = t0 + 2000;
    writer.emit(
        attacker_admin,
        role_time,
        p,
        create_role(
            &attacker_role,
            &trust_document("AWS", &format!("arn:aws:iam::{EXTERNAL_ACCOUNT}:root")),
            role_time,
        ),
    );
    writer.emit(
        attacker_admin,
        role_time + 20,
        p,
        iam(
            "AttachRolePolicy",
            json!({ "roleName": ATTACKER_ROLE, "policyArn": ADMIN_POLICY }),
        ),
    );
    let sessions = [
        (hour + 900, CLI_AGENT, ATTACKER_ROLE_KEY),
        (16 * hour + 1800, BOTO_AGENT, ATTACKER_ROLE_KEY_2),
    ];
    for (offset, agent, key) in sessions {
        let time = t0 + offset;
        let caller = cross_account_assume(
            writer,
            &attacker_role,
            "AIDAEXAMPLEOPERATOR07",
            EXTERNAL_ACCOUNT,
            "ops",
            key,
            time,
            None,
            super::scenario::ATTACKER_CLI_IP,
            agent,
            p,
        );
        writer.emit(
            &caller,
            time + 12,
            p,
            Call::new("sts.amazonaws.com", "GetCallerIdentity", true),
        );
        writer.op(&caller, time + 30, p, s::s3_list_buckets);
        writer.op(&caller, time + 55, p, s::iam_read);
    }

    // The next morning: the leaked key is rotated.
    let rotation = t0 + ROTATION_OFFSET;
    let ci_name = a.ci_user.name.clone();
    writer.emit(
        &admin,
        rotation - 300,
        p,
        Call::new("iam.amazonaws.com", "ListAccessKeys", true)
            .request(json!({ "userName": ci_name }))
            .global(),
    );
    writer.emit(
        &admin,
        rotation - 120,
        p,
        iam("CreateAccessKey", json!({ "userName": ci_name })).response(json!({ "accessKey": {
            "accessKeyId": ROTATED_KEY, "status": "Active", "userName": ci_name,
            "createDate": format_iam_time(rotation - 120)
        } })),
    );
    writer.emit(
        &admin,
        rotation + 300,
        p,
        iam(
            "UpdateAccessKey",
            json!({ "userName": ci_name, "accessKeyId": LEAKED_KEY, "status": "Inactive" }),
        ),
    );
    writer.emit(
        &admin,
        rotation + 2700,
        p,
        iam(
            "DeleteAccessKey",
            json!({ "userName": ci_name, "accessKeyId": LEAKED_KEY }),
        ),
    );
    writer.emit(
        &admin,
        t0 + 15 * hour,
        p,
        iam(
            "RemoveUserFromGroup",
            json!({ "groupName": ADMIN_GROUP, "userName": on_call.name }),
        ),
    );
}
