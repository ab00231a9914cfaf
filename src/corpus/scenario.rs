//! The embedded intrusion: one leaked CI key turned into admin access,
//! persistence and secret theft.
//!
//! Accounts: A is the first configured account, B the second (when there is
//! only one account, B is A). Times are offsets from T0, which is 40 % of the
//! way into the configured span, rounded down to the hour, plus 17 min 23 s.
//! Global calls (IAM, sign-in) are recorded in us-east-1 and delivered in the
//! folder of us-east-1 (or of the first region when us-east-1 is not
//! configured). Regional calls use us-east-1 when configured, else the first
//! region, except where every region is listed.
//!
//! Attacker addresses are from the documentation ranges: 203.0.113.66 (CLI),
//! 198.51.100.23 (console) and 2001:db8:4f2a::17 (backdoor key). Noise never
//! uses those ranges.
//!
//! | Offset | Credential | What happens |
//! |---|---|---|
//! | +0:00 | `AKIAEXAMPLELEAKED001` (IAM user `ci-deployer` in A, also used by the real CI pipeline all along) | `GetCallerIdentity` from 203.0.113.66 |
//! | +0:35 – +8:00 | same | Discovery: IAM policy reads, `ListUsers` (denied), `ListRoles`, `ListBuckets`, EC2 and Lambda reads in every region, `ListSecrets` (denied) |
//! | +11:00 | same | `GetSessionToken` → `ASIAEXAMPLESESSN0003`, used at +12 – +16 as IAMUser `ci-deployer` |
//! | +18:00 | same | `AssumeRole` into `deploy-admin` (A), session `ci-deploy-7731` → `ASIAEXAMPLEADMIN0001` |
//! | +19:00 – +29:00 | `ASIAEXAMPLEADMIN0001` (AssumedRole `deploy-admin/ci-deploy-7731`) | IAM, CloudTrail and Organizations discovery |
//! | +32:00 – +32:41 | same | `CreateUser svc-backup`, `AttachUserPolicy AdministratorAccess`, `CreateAccessKey` → `AKIAEXAMPLEBACKUP004` |
//! | +35:10 | same | `CreateLoginProfile` for `metrics-exporter` (a programmatic user) |
//! | +38:05 | same | `UpdateAssumeRolePolicy` on `deploy-admin` trusting external account 444455556666 |
//! | +41:00 | same | `AssumeRole` into `OrganizationAccountAccessRole` of B → `ASIAEXAMPLECHAIN0002` (a role chain; logged in A and, as an `AWSAccount` copy with the same `sharedEventID`, in B) |
//! | +42:00 – +46:00 | `ASIAEXAMPLECHAIN0002` in B | `ListSecrets`, then `GetSecretValue` on every secret in every region, and `GetParametersByPath` with decryption |
//! | +50:00 | `ASIAEXAMPLEADMIN0001` | `StopLogging` on the account trail `security-audit` (the organisation trail that produced this corpus keeps logging) |
//! | +55:00 | `metrics-exporter` password | `ConsoleLogin` from 198.51.100.23 without MFA, then console reads with `ASIAEXAMPLECONSOLE05` (`sessionCredentialFromConsole`) |
//! | +1:40, +3:10, +5:45 | `AKIAEXAMPLEBACKUP004` (IAM user `svc-backup`) | Reads from 2001:db8:4f2a::17 |

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

use super::actors::{assume_role, console_login};
use super::identities::{self, Account, SessionExtras, User};
use super::incident;
use super::random::{self, derive_seed};
use super::record::{Call, Envelope, Epoch, format_iam_time, write_record};
use super::services::{self as s, Ctx, Op, sts_credentials};
use super::stream::{Injected, event_version, host_header};

pub const LEAKED_KEY: &str = "AKIAEXAMPLELEAKED001";
pub const ADMIN_SESSION_KEY: &str = "ASIAEXAMPLEADMIN0001";
pub const CHAIN_SESSION_KEY: &str = "ASIAEXAMPLECHAIN0002";
pub const SESSION_TOKEN_KEY: &str = "ASIAEXAMPLESESSN0003";
pub const BACKDOOR_KEY: &str = "AKIAEXAMPLEBACKUP004";
pub const CONSOLE_KEY: &str = "ASIAEXAMPLECONSOLE05";
pub const BACKDOOR_USER: &str = "svc-backup";
pub const LOGIN_PROFILE_USER: &str = "metrics-exporter";
pub const EXTERNAL_ACCOUNT: &str = "444455556666";
pub const ATTACKER_CLI_IP: &str = "203.0.113.66";
pub const ATTACKER_CONSOLE_IP: &str = "198.51.100.23";
pub const ATTACKER_BACKDOOR_IP: &str = "2001:db8:4f2a::17";
const SESSION_NAME: &str = "ci-deploy-7731";

pub(super) const CLI_AGENT: &str = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#kali.2024 md/prompt#off";
pub(super) const BOTO_AGENT: &str = "Boto3/1.34.54 md/Botocore#1.34.54 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.54";
const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36";

/// A rendered scenario record and the stream (account and folder region)
/// that delivers it.
pub(crate) struct Placed {
    pub account_index: usize,
    pub folder_region: String,
    pub record: Injected,
}

/// Returns T0, the start of the scenario, for a corpus that starts at
/// `start` and is planned to span `days` days.
pub(crate) fn start_time(start: Epoch, days: u32) -> Epoch {
    let offset = i64::from(days) * 86_400 * 2 / 5;
    let hour = start + offset - offset.rem_euclid(3600);
    hour + 17 * 60 + 23
}

pub(super) struct Writer<'a> {
    pub rng: StdRng,
    pub accounts: &'a [Arc<Account>],
    global_folder: String,
    placed: Vec<Placed>,
}

/// A caller in the scenario: its identity, address and user agent.
#[derive(Clone)]
pub(super) struct Caller {
    pub account_index: usize,
    pub identity: String,
    pub arn: String,
    pub ip: &'static str,
    pub agent: &'static str,
    pub from_console: bool,
}

impl Writer<'_> {
    pub(super) fn emit(&mut self, caller: &Caller, time: Epoch, region: &str, call: Call) {
        let recipient = self.accounts[caller.account_index].id.clone();
        self.emit_in(
            caller,
            caller.account_index,
            &recipient,
            time,
            region,
            call,
            None,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_in(
        &mut self,
        caller: &Caller,
        account_index: usize,
        recipient: &str,
        time: Epoch,
        region: &str,
        call: Call,
        request_id: Option<String>,
    ) {
        let aws_region = if call.global {
            "us-east-1".to_string()
        } else {
            region.to_string()
        };
        let folder_region = if call.global {
            self.global_folder.clone()
        } else {
            region.to_string()
        };
        let request_id = request_id.unwrap_or_else(|| match (&call.request_id, call.event_type) {
            (Some(id), _) => id.clone(),
            (None, "AwsConsoleSignIn") => String::new(),
            _ => random::uuid(&mut self.rng),
        });
        let envelope = Envelope {
            event_version: event_version(call.source),
            identity: caller.identity.clone(),
            time,
            region: aws_region.clone(),
            source_ip: caller.ip.to_string(),
            user_agent: caller.agent.to_string(),
            escape_user_agent: false,
            event_id: random::uuid(&mut self.rng),
            recipient_account: recipient.to_string(),
            vpc_endpoint_id: None,
            tls_host: (caller.agent != "AWS Internal").then(|| host_header(&call, &aws_region)),
            tls13: true,
            from_console: caller.from_console,
            delivery_delay: false,
        };
        let mut bytes = Vec::with_capacity(2048);
        write_record(&mut bytes, &envelope, &call, &request_id);
        self.placed.push(Placed {
            account_index,
            folder_region,
            record: Injected { time, bytes },
        });
    }

    /// Emits the catalogue call `op` as `caller` in `region`.
    pub(super) fn op(&mut self, caller: &Caller, time: Epoch, region: &str, op: Op) {
        let account = Arc::clone(&self.accounts[caller.account_index]);
        let call = {
            let mut ctx = Ctx {
                rng: &mut self.rng,
                account: &account,
                region,
                time,
            };
            op(&mut ctx)
        };
        self.emit(caller, time, region, call);
    }

    fn denied(&mut self, caller: &Caller, time: Epoch, region: &str, call: Call) {
        let call = s::deny(call, &caller.arn);
        self.emit(caller, time, region, call);
    }
}

/// Builds every scenario record. `regions` are the configured regions, and
/// `global_folder` is the region folder that receives global events.
pub(crate) fn build(
    seed: u64,
    accounts: &[Arc<Account>],
    regions: &[String],
    global_folder: &str,
    t0: Epoch,
) -> Vec<Placed> {
    let primary = if regions.iter().any(|region| region == "us-east-1") {
        "us-east-1".to_string()
    } else {
        regions[0].clone()
    };
    let mut writer = Writer {
        rng: StdRng::seed_from_u64(derive_seed(seed, &[0x5ce7a210])),
        accounts,
        global_folder: global_folder.to_string(),
        placed: Vec::new(),
    };
    let a = Arc::clone(&accounts[0]);
    let b_index = usize::from(accounts.len() > 1);
    let b = Arc::clone(&accounts[b_index]);
    let ci = a.ci_user.clone();

    // Stage 1: the leaked long-term key.
    let leaked = Caller {
        account_index: 0,
        identity: identities::iam_user_identity(&a.id, &ci, Some(LEAKED_KEY)),
        arn: ci.arn.clone(),
        ip: ATTACKER_CLI_IP,
        agent: CLI_AGENT,
        from_console: false,
    };
    let p = primary.as_str();
    writer.emit(
        &leaked,
        t0,
        p,
        Call::new("sts.amazonaws.com", "GetCallerIdentity", true),
    );
    let iam = |name: &'static str, request: serde_json::Value| {
        Call::new("iam.amazonaws.com", name, true)
            .request(request)
            .global()
    };
    writer.emit(
        &leaked,
        t0 + 35,
        p,
        iam("ListAttachedUserPolicies", json!({ "userName": ci.name })),
    );
    writer.emit(
        &leaked,
        t0 + 50,
        p,
        iam("ListUserPolicies", json!({ "userName": ci.name })),
    );
    writer.emit(&leaked, t0 + 70, p, iam("GetPolicyVersion", json!({ "policyArn": format!("arn:aws:iam::{}:policy/ci-deploy", a.id), "versionId": "v3" })));
    writer.denied(
        &leaked,
        t0 + 95,
        p,
        iam("ListUsers", json!({ "maxItems": 1000 })),
    );
    writer.emit(
        &leaked,
        t0 + 110,
        p,
        iam("ListRoles", json!({ "maxItems": 1000 })),
    );
    writer.op(&leaked, t0 + 130, p, s::s3_list_buckets);
    writer.op(&leaked, t0 + 140, p, s::ec2_describe_regions);
    let mut time = t0 + 150;
    for region in regions {
        for op in [
            s::ec2_describe_instances as Op,
            s::ec2_describe_security_groups,
            s::lambda_read,
        ] {
            writer.op(&leaked, time, region, op);
            time += 9;
        }
    }
    writer.denied(
        &leaked,
        t0 + 480,
        p,
        Call::new("secretsmanager.amazonaws.com", "ListSecrets", true)
            .request(json!({ "maxResults": 100 })),
    );

    // GetSessionToken: a temporary key that still acts as the IAM user.
    let session_created = t0 + 660;
    let credentials = sts_credentials(&mut writer.rng, SESSION_TOKEN_KEY, session_created + 43_200);
    writer.emit(
        &leaked,
        session_created,
        p,
        Call::new("sts.amazonaws.com", "GetSessionToken", true)
            .request(json!({ "durationSeconds": 43_200 }))
            .response(json!({ "credentials": credentials })),
    );
    let session_user = Caller {
        identity: identities::iam_user_session_identity(
            &a.id,
            &ci,
            SESSION_TOKEN_KEY,
            session_created,
            false,
        ),
        ..leaked.clone()
    };
    writer.emit(
        &session_user,
        t0 + 720,
        p,
        Call::new("sts.amazonaws.com", "GetCallerIdentity", true),
    );
    writer.op(&session_user, t0 + 760, p, s::s3_list_buckets);
    writer.op(&session_user, t0 + 830, p, s::ec2_describe_instances);
    writer.op(&session_user, t0 + 960, p, s::ec2_describe_snapshots);

    // AssumeRole into deploy-admin.
    let admin_created = t0 + 1080;
    let deploy_admin = a.role("deploy-admin").clone();
    let (call, credential) = assume_role(
        &mut writer.rng,
        &a,
        &deploy_admin,
        SESSION_NAME,
        ADMIN_SESSION_KEY,
        admin_created,
        3600,
        None,
        &SessionExtras::default(),
    );
    writer.emit(&leaked, admin_created, p, call);
    let admin = Caller {
        account_index: 0,
        identity: credential.identity,
        arn: credential.arn,
        ip: ATTACKER_CLI_IP,
        agent: CLI_AGENT,
        from_console: false,
    };

    // Stage 2: admin discovery and persistence.
    writer.emit(
        &admin,
        t0 + 1140,
        p,
        iam(
            "GetAccountAuthorizationDetails",
            json!({ "filter": ["User", "Role", "LocalManagedPolicy"], "maxItems": 1000 }),
        ),
    );
    writer.emit(
        &admin,
        t0 + 1190,
        p,
        iam("ListUsers", json!({ "maxItems": 1000 })),
    );
    let mut time = t0 + 1220;
    for user in a.humans.iter().chain(&a.service_users) {
        writer.emit(
            &admin,
            time,
            p,
            iam("ListAccessKeys", json!({ "userName": user.name })),
        );
        time += 6;
    }
    writer.emit(
        &admin,
        t0 + 1380,
        p,
        Call::new("cloudtrail.amazonaws.com", "DescribeTrails", true)
            .request(json!({ "includeShadowTrails": true })),
    );
    writer.emit(&admin, t0 + 1400, p, Call::new("cloudtrail.amazonaws.com", "GetTrailStatus", true).request(json!({ "name": format!("arn:aws:cloudtrail:us-east-1:{}:trail/security-audit", a.id) })));
    writer.emit(
        &admin,
        t0 + 1500,
        p,
        Call::new("organizations.amazonaws.com", "DescribeOrganization", true).global(),
    );
    writer.emit(
        &admin,
        t0 + 1620,
        p,
        Call::new("guardduty.amazonaws.com", "ListDetectors", true)
            .request(json!({ "maxResults": 50 })),
    );
    writer.emit(
        &admin,
        t0 + 1740,
        p,
        iam("ListRoles", json!({ "maxItems": 1000 })),
    );

    let backdoor = User {
        name: BACKDOOR_USER.to_string(),
        principal_id: random::iam_id(&mut writer.rng, "AIDA", &a.marker, 21),
        arn: format!("arn:aws:iam::{}:user/{BACKDOOR_USER}", a.id),
        access_key: BACKDOOR_KEY.to_string(),
    };
    let created = t0 + 1920;
    writer.emit(
        &admin,
        created,
        p,
        Call::new("iam.amazonaws.com", "CreateUser", false)
            .request(json!({ "userName": BACKDOOR_USER }))
            .response(json!({ "user": { "path": "/", "userName": BACKDOOR_USER, "userId": backdoor.principal_id, "arn": backdoor.arn, "createDate": format_iam_time(created) } }))
            .global(),
    );
    writer.emit(
        &admin,
        created + 20,
        p,
        Call::new("iam.amazonaws.com", "AttachUserPolicy", false)
            .request(json!({ "userName": BACKDOOR_USER, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess" }))
            .global(),
    );
    writer.emit(
        &admin,
        created + 41,
        p,
        Call::new("iam.amazonaws.com", "CreateAccessKey", false)
            .request(json!({ "userName": BACKDOOR_USER }))
            .response(json!({ "accessKey": { "accessKeyId": BACKDOOR_KEY, "status": "Active", "userName": BACKDOOR_USER, "createDate": format_iam_time(created + 41) } }))
            .global(),
    );
    let profile_time = t0 + 2110;
    writer.emit(
        &admin,
        profile_time,
        p,
        Call::new("iam.amazonaws.com", "CreateLoginProfile", false)
            .request(json!({ "userName": LOGIN_PROFILE_USER, "passwordResetRequired": false }))
            .response(json!({ "loginProfile": { "userName": LOGIN_PROFILE_USER, "createDate": format_iam_time(profile_time), "passwordResetRequired": false } }))
            .global(),
    );
    let trust = format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Effect\": \"Allow\",\n      \"Principal\": {{\n        \"AWS\": \"{}\"\n      }},\n      \"Action\": \"sts:AssumeRole\"\n    }},\n    {{\n      \"Effect\": \"Allow\",\n      \"Principal\": {{\n        \"AWS\": \"arn:aws:iam::{EXTERNAL_ACCOUNT}:root\"\n      }},\n      \"Action\": \"sts:AssumeRole\"\n    }}\n  ]\n}}",
        ci.arn
    );
    writer.emit(
        &admin,
        t0 + 2285,
        p,
        Call::new("iam.amazonaws.com", "UpdateAssumeRolePolicy", false)
            .request(json!({ "roleName": deploy_admin.name, "policyDocument": trust }))
            .global(),
    );

    // Role chain into account B.
    let chain_created = t0 + 2460;
    let target_role = b.role("OrganizationAccountAccessRole").clone();
    let (mut chain_call, chain_credential) = assume_role(
        &mut writer.rng,
        &b,
        &target_role,
        SESSION_NAME,
        CHAIN_SESSION_KEY,
        chain_created,
        3600,
        None,
        &SessionExtras::default(),
    );
    let request_id = random::uuid(&mut writer.rng);
    if b_index != 0 {
        chain_call.shared_event_id = Some(random::uuid(&mut writer.rng));
        let owner_copy = Caller {
            account_index: b_index,
            identity: identities::aws_account_identity(
                &format!("{}:{SESSION_NAME}", deploy_admin.role_id),
                &a.id,
            ),
            ..admin.clone()
        };
        writer.emit_in(
            &owner_copy,
            b_index,
            &b.id,
            chain_created,
            p,
            chain_call.clone(),
            Some(request_id.clone()),
        );
    }
    writer.emit_in(
        &admin,
        0,
        &a.id,
        chain_created,
        p,
        chain_call,
        Some(request_id),
    );
    let chain = Caller {
        account_index: b_index,
        identity: chain_credential.identity,
        arn: chain_credential.arn,
        ip: ATTACKER_CLI_IP,
        agent: BOTO_AGENT,
        from_console: false,
    };
    writer.emit(
        &chain,
        t0 + 2520,
        p,
        Call::new("sts.amazonaws.com", "GetCallerIdentity", true),
    );
    writer.emit(
        &chain,
        t0 + 2550,
        p,
        Call::new("secretsmanager.amazonaws.com", "ListSecrets", true)
            .request(json!({ "maxResults": 100 })),
    );
    let mut time = t0 + 2580;
    for region in regions {
        for secret in &b.secrets {
            let account = Arc::clone(&b);
            let call = {
                let mut ctx = Ctx {
                    rng: &mut writer.rng,
                    account: &account,
                    region,
                    time,
                };
                s::secret_value(&mut ctx, secret)
            };
            writer.emit(&chain, time, region, call);
            time += 2;
        }
    }
    writer.emit(
        &chain,
        t0 + 2760,
        p,
        Call::new("ssm.amazonaws.com", "GetParametersByPath", true)
            .request(json!({ "path": "/", "recursive": true, "withDecryption": true })),
    );

    // Defence evasion.
    writer.emit(
        &admin,
        t0 + 3000,
        p,
        Call::new("cloudtrail.amazonaws.com", "StopLogging", false)
            .request(json!({ "name": format!("arn:aws:cloudtrail:us-east-1:{}:trail/security-audit", a.id) })),
    );
    writer.emit(
        &admin,
        t0 + 3030,
        p,
        Call::new("cloudtrail.amazonaws.com", "GetTrailStatus", true)
            .request(json!({ "name": "security-audit" })),
    );

    // Stage 4: console sign-in with the password the attacker set.
    if let Some(victim) = a.user(LOGIN_PROFILE_USER).cloned() {
        let login_time = t0 + 3300;
        let sign_in = console_login(
            identities::iam_user_identity(&a.id, &victim, None),
            ATTACKER_CONSOLE_IP,
            BROWSER,
            false,
        );
        let console_caller = Caller {
            account_index: 0,
            identity: sign_in.identity.clone(),
            arn: victim.arn.clone(),
            ip: ATTACKER_CONSOLE_IP,
            agent: BROWSER,
            from_console: false,
        };
        writer.emit(&console_caller, login_time, p, sign_in.call);
        let console = Caller {
            identity: identities::iam_user_session_identity(
                &a.id,
                &victim,
                CONSOLE_KEY,
                login_time,
                false,
            ),
            from_console: true,
            ..console_caller
        };
        let ops: [(i64, Op); 8] = [
            (30, s::health_read),
            (45, s::iam_read),
            (70, s::iam_read),
            (120, s::s3_list_buckets),
            (150, s::s3_bucket_read),
            (200, s::ec2_describe_instances),
            (260, s::cloudtrail_read),
            (400, s::secrets_read),
        ];
        for (offset, op) in ops {
            writer.op(&console, login_time + offset, p, op);
        }
    }

    // Stage 5: the backdoor key, hours later.
    let backdoor_caller = Caller {
        account_index: 0,
        identity: identities::iam_user_identity(&a.id, &backdoor, Some(BACKDOOR_KEY)),
        arn: backdoor.arn.clone(),
        ip: ATTACKER_BACKDOOR_IP,
        agent: BOTO_AGENT,
        from_console: false,
    };
    let first_use = t0 + 6000;
    writer.emit(
        &backdoor_caller,
        first_use,
        p,
        Call::new("sts.amazonaws.com", "GetCallerIdentity", true),
    );
    writer.op(&backdoor_caller, first_use + 20, p, s::s3_list_buckets);
    let mut time = first_use + 40;
    for region in regions {
        writer.op(&backdoor_caller, time, region, s::ec2_describe_instances);
        time += 15;
    }
    writer.emit(
        &backdoor_caller,
        first_use + 200,
        p,
        iam("ListUsers", json!({ "maxItems": 1000 })),
    );
    let second_use = t0 + 11_400;
    writer.emit(
        &backdoor_caller,
        second_use,
        p,
        Call::new("sts.amazonaws.com", "GetCallerIdentity", true),
    );
    writer.op(&backdoor_caller, second_use + 30, p, s::s3_list_buckets);
    writer.op(&backdoor_caller, second_use + 60, p, s::s3_bucket_read);
    let third_use = t0 + 20_700;
    writer.op(&backdoor_caller, third_use, p, s::ec2_describe_snapshots);
    writer.op(&backdoor_caller, third_use + 40, p, s::rds_read);
    writer.emit(
        &backdoor_caller,
        t0 + 5 * 3600 + 50 * 60,
        p,
        Call::new("sts.amazonaws.com", "GetCallerIdentity", true),
    );

    incident::build(&mut writer, &admin, regions, p, t0);
    writer.placed
}
