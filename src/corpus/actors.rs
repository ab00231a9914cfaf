//! The callers of one account in one region: what each calls, how often, from
//! which addresses and user agents, and with which credentials.
//!
//! Callers with temporary credentials renew them when they expire, and the
//! renewal is logged too. Workloads get theirs from `AssumeRole` by
//! `lambda.amazonaws.com`, `ec2.amazonaws.com` or `ecs-tasks.amazonaws.com`.
//! The Terraform role is assumed by `ci-deployer`, the monitoring role by the
//! vendor's account, and Identity Center console sessions start with
//! `AssumeRoleWithSAML`. The `ASIA` key in each response is the key the
//! session then uses, so the background activity has credential lineage too.

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::json;

use super::identities::{self, Account, Role, SessionExtras, User, VENDOR_ACCOUNT};
use super::random::{self, pick};
use super::record::{Call, Epoch};
use super::services::{self as s, Op, sts_credentials};

/// The kinds of caller, each with its own call mix and credential type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    HumanCli,
    SsoConsole,
    Ci,
    Terraform,
    Lambda,
    Ec2Agent,
    EcsTask,
    ConfigRecorder,
    AwsService,
    ServiceEvent,
    Vendor,
    ServiceUser,
    Root,
}

/// The credential a caller currently uses.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    /// The rendered `userIdentity` object.
    pub identity: String,
    /// The caller ARN used in `AccessDenied` messages.
    pub arn: String,
    /// `Epoch::MAX` for long-term credentials.
    pub expires: Epoch,
    pub from_console: bool,
}

/// A caller and its state.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub kind: Kind,
    /// Relative share of the stream's calls.
    pub weight: f64,
    /// Shift the share towards office hours (08:00–19:00 UTC on weekdays).
    pub office_hours: bool,
    pub ops: &'static [(Op, u32)],
    /// Calls per burst, inclusive range.
    pub burst: (u32, u32),
    pub source_ips: Vec<String>,
    pub user_agents: Vec<String>,
    /// Calls go through a VPC endpoint with this id.
    pub vpc_endpoint: Option<String>,
    pub credential: Option<Credential>,
    /// The user behind the caller (IAM user kinds) or the SSO user's e-mail.
    pub user: Option<User>,
    pub role: Option<Role>,
    pub session_name: String,
    /// Fraction of calls that fail with an authorisation error.
    pub deny_rate: f64,
}

/// A minting or sign-in event produced when an actor renews its credentials.
pub(crate) struct Renewal {
    pub identity: String,
    pub source_ip: String,
    pub user_agent: String,
    pub call: Call,
    pub from_console: bool,
}

static HUMAN_OPS: &[(Op, u32)] = &[
    (s::ec2_describe_instances, 14),
    (s::ec2_describe_security_groups, 5),
    (s::ec2_describe_vpcs, 2),
    (s::ec2_describe_subnets, 2),
    (s::ec2_describe_regions, 2),
    (s::sts_get_caller_identity, 10),
    (s::s3_list_buckets, 6),
    (s::s3_bucket_read, 6),
    (s::iam_read, 8),
    (s::logs_call, 8),
    (s::monitoring_read, 5),
    (s::lambda_read, 5),
    (s::ssm_parameter, 4),
    (s::secrets_read, 2),
    (s::ecs_read, 4),
    (s::cloudformation_read, 4),
    (s::dynamodb_read, 3),
    (s::rds_read, 2),
    (s::kms_use, 2),
    (s::ec2_create_tags, 1),
    (s::ec2_stop_start_instances, 1),
    (s::ec2_authorize_security_group_ingress, 1),
    (s::monitoring_put_alarm, 1),
    (s::ec2_run_instances, 1),
];

static CONSOLE_OPS: &[(Op, u32)] = &[
    (s::ec2_describe_instances, 10),
    (s::ec2_describe_instance_status, 4),
    (s::ec2_describe_security_groups, 4),
    (s::ec2_describe_account_attributes, 3),
    (s::ec2_describe_availability_zones, 2),
    (s::s3_list_buckets, 5),
    (s::s3_bucket_read, 12),
    (s::iam_read, 6),
    (s::monitoring_read, 8),
    (s::logs_call, 5),
    (s::lambda_read, 5),
    (s::cloudformation_read, 4),
    (s::health_read, 4),
    (s::cost_explorer, 1),
    (s::cloudtrail_read, 2),
    (s::rds_read, 3),
    (s::dynamodb_read, 3),
    (s::sns_sqs_read, 2),
    (s::elb_read, 3),
    (s::autoscaling_read, 2),
    (s::kms_use, 1),
    (s::secrets_read, 1),
];

static CI_OPS: &[(Op, u32)] = &[
    (s::sts_get_caller_identity, 10),
    (s::ecr_call, 8),
    (s::s3_bucket_read, 3),
    (s::lambda_update_code, 2),
    (s::ecs_register_task_definition, 2),
];

static TERRAFORM_OPS: &[(Op, u32)] = &[
    (s::ec2_describe_instances, 6),
    (s::ec2_describe_security_groups, 6),
    (s::ec2_describe_vpcs, 5),
    (s::ec2_describe_subnets, 5),
    (s::ec2_describe_route_tables, 5),
    (s::ec2_describe_network_interfaces, 3),
    (s::ec2_describe_volumes, 2),
    (s::ec2_describe_images, 2),
    (s::ec2_describe_launch_templates, 2),
    (s::ec2_describe_account_attributes, 2),
    (s::ec2_describe_availability_zones, 2),
    (s::ec2_describe_addresses, 2),
    (s::iam_read, 12),
    (s::s3_bucket_read, 14),
    (s::lambda_read, 4),
    (s::logs_call, 2),
    (s::monitoring_read, 2),
    (s::kms_use, 2),
    (s::dynamodb_read, 3),
    (s::rds_read, 3),
    (s::route53_read, 2),
    (s::elb_read, 3),
    (s::ecs_read, 2),
    (s::sns_sqs_read, 2),
    (s::sts_get_caller_identity, 1),
    (s::ec2_create_tags, 1),
    (s::iam_put_role_policy, 1),
    (s::ecs_register_task_definition, 1),
    (s::ec2_run_instances, 1),
    (s::s3_put_bucket_policy, 1),
];

static LAMBDA_OPS: &[(Op, u32)] = &[
    (s::secrets_get, 6),
    (s::kms_use, 6),
    (s::ssm_parameter, 5),
    (s::dynamodb_read, 2),
    (s::sns_sqs_read, 2),
    (s::s3_bucket_read, 1),
];

static EC2_OPS: &[(Op, u32)] = &[
    (s::ssm_agent, 20),
    (s::ec2_describe_tags, 3),
    (s::kms_use, 2),
    (s::ssm_parameter, 2),
    (s::s3_bucket_read, 1),
    (s::sts_get_caller_identity, 1),
];

static ECS_OPS: &[(Op, u32)] = &[
    (s::secrets_get, 4),
    (s::kms_use, 3),
    (s::dynamodb_read, 2),
    (s::sns_sqs_read, 3),
    (s::ssm_parameter, 2),
];

static CONFIG_OPS: &[(Op, u32)] = &[
    (s::ec2_describe_instances, 4),
    (s::ec2_describe_security_groups, 4),
    (s::ec2_describe_vpcs, 2),
    (s::ec2_describe_subnets, 2),
    (s::ec2_describe_network_interfaces, 3),
    (s::ec2_describe_volumes, 3),
    (s::ec2_describe_route_tables, 2),
    (s::s3_bucket_read, 6),
    (s::iam_read, 4),
    (s::lambda_read, 2),
    (s::rds_read, 2),
    (s::config_read, 3),
    (s::kms_use, 1),
];

static SERVICE_OPS: &[(Op, u32)] = &[
    (s::kms_use, 6),
    (s::ec2_create_network_interface, 1),
    (s::ec2_describe_network_interfaces, 2),
    (s::ec2_describe_instances, 2),
];

static SERVICE_EVENT_OPS: &[(Op, u32)] = &[(service_event, 1)];

static VENDOR_OPS: &[(Op, u32)] = &[
    (s::monitoring_read, 20),
    (s::ec2_describe_instances, 6),
    (s::ec2_describe_instance_status, 3),
    (s::ec2_describe_volumes, 2),
    (s::rds_read, 4),
    (s::elb_read, 4),
    (s::lambda_read, 3),
    (s::tagging_read, 4),
    (s::autoscaling_read, 2),
    (s::dynamodb_read, 2),
    (s::sns_sqs_read, 2),
    (s::cloudtrail_read, 1),
    (s::s3_list_buckets, 1),
];

static SERVICE_USER_OPS: &[(Op, u32)] = &[
    (s::monitoring_read, 6),
    (s::s3_list_buckets, 3),
    (s::s3_bucket_read, 4),
    (s::rds_read, 2),
    (s::dynamodb_read, 2),
    (s::ec2_describe_instances, 2),
    (s::sts_get_caller_identity, 1),
];

static ROOT_OPS: &[(Op, u32)] = &[
    (s::cost_explorer, 4),
    (s::health_read, 2),
    (s::iam_read, 3),
    (s::s3_list_buckets, 1),
];

/// Builds an `AwsServiceEvent` with no caller: a KMS key or secret rotation.
fn service_event(ctx: &mut s::Ctx) -> Call {
    let key = pick(ctx.rng, &ctx.account.kms_keys).clone();
    let mut call = if ctx.rng.random_bool(0.6) {
        Call::new("kms.amazonaws.com", "RotateKey", false).resources(json!([{
            "accountId": ctx.account.id, "type": "AWS::KMS::Key",
            "ARN": format!("arn:aws:kms:{}:{}:key/{key}", ctx.region, ctx.account.id)
        }]))
    } else {
        let secret = pick(ctx.rng, &ctx.account.secrets).clone();
        Call::new("secretsmanager.amazonaws.com", "RotationSucceeded", false).additional(json!({
            "SecretId": format!("arn:aws:secretsmanager:{}:{}:secret:{secret}", ctx.region, ctx.account.id)
        }))
    };
    call.event_type = "AwsServiceEvent";
    call
}

const CLI_VERSIONS: &[&str] = &["2.15.30", "2.17.18", "2.22.4", "2.27.41"];
const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:141.0) Gecko/20100101 Firefox/141.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15",
];
/// In-house tools with non-ASCII names, as found in real user agents.
const LOCAL_TOOLS: &[&str] = &[
    "Überwachung-Skript/1.4 Boto3/1.34.10 md/Botocore#1.34.10 ua/2.0 os/windows#10 lang/python#3.11.4",
    "rapport-générateur/2.1 aws-sdk-java/2.25.11 Linux/6.1.0 OpenJDK_64-Bit_Server_VM/21.0.2+13-LTS",
    "デプロイ-ツール/0.9 aws-sdk-go-v2/1.24.0 os/linux lang/go#1.22.1",
    "inventário/3.0 (Zé's laptop) aws-sdk-js/3.540.0 os/darwin#23.4.0 lang/js md/nodejs#20.12.0",
    "nightly-sync/5.2 🚀 aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.8.0",
];

fn cli_agent(rng: &mut StdRng, os: &str) -> String {
    format!(
        "aws-cli/{} md/awscrt#0.19.19 ua/2.0 os/{os} md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off",
        pick(rng, CLI_VERSIONS)
    )
}

fn boto3_agent(rng: &mut StdRng, exec_env: &str) -> String {
    let patch = rng.random_range(10..160);
    format!(
        "Boto3/1.34.{patch} md/Botocore#1.34.{patch} ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython {exec_env}cfg/retry-mode#legacy Botocore/1.34.{patch}"
    )
}

fn terraform_agent() -> String {
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.64.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.4 ua/2.1 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.177.0".to_string()
}

/// Draws a public IPv4 address whose first octet is one of `first_octets`.
/// None of them is a documentation range, which only the attack scenario uses.
pub(crate) fn public_ipv4(rng: &mut StdRng, first_octets: &[u8]) -> String {
    format!(
        "{}.{}.{}.{}",
        pick(rng, first_octets),
        rng.random_range(1..255),
        rng.random_range(0..255),
        rng.random_range(1..255)
    )
}

fn home_ipv6(rng: &mut StdRng) -> String {
    format!(
        "2a02:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
        rng.random_range(0x1000..0xffffu32),
        rng.random_range(0..0xffffu32),
        rng.random_range(0..0xffffu32),
        rng.random_range(0..0xffffu32),
        rng.random_range(0..0xffffu32),
        rng.random_range(0..0xffffu32),
        rng.random_range(1..0xffffu32)
    )
}

/// Builds the callers of `account` in one region. `global` marks the stream
/// that receives the account's IAM, STS-global and sign-in events.
pub(crate) fn cast(rng: &mut StdRng, account: &Account, global: bool) -> Vec<Actor> {
    let office_ips: Vec<String> = (0..2)
        .map(|_| public_ipv4(rng, &[81, 93, 145, 188]))
        .collect();
    let ci_ips: Vec<String> = (0..8).map(|_| public_ipv4(rng, &[4, 20, 40, 52])).collect();
    let aws_ips: Vec<String> = (0..6)
        .map(|_| public_ipv4(rng, &[3, 18, 34, 44, 54]))
        .collect();
    let vendor_ips: Vec<String> = (0..3).map(|_| public_ipv4(rng, &[3, 35, 52])).collect();
    let endpoint = format!("vpce-{}", random::hex(rng, 17));

    let mut actors = Vec::new();
    let base = |kind: Kind, weight: f64, ops: &'static [(Op, u32)], burst: (u32, u32)| Actor {
        kind,
        weight,
        office_hours: false,
        ops,
        burst,
        source_ips: Vec::new(),
        user_agents: Vec::new(),
        vpc_endpoint: None,
        credential: None,
        user: None,
        role: None,
        session_name: String::new(),
        deny_rate: 0.004,
    };

    for (index, user) in account.humans.iter().enumerate() {
        let mut actor = base(Kind::HumanCli, 1.2, HUMAN_OPS, (1, 25));
        actor.office_hours = true;
        actor.user = Some(user.clone());
        actor.deny_rate = 0.02;
        actor.source_ips = office_ips.clone();
        actor.source_ips.push(if index % 3 == 0 {
            home_ipv6(rng)
        } else {
            public_ipv4(rng, &[77, 86, 92, 109, 176])
        });
        actor.user_agents = vec![
            cli_agent(rng, "macos#23.6.0"),
            cli_agent(rng, "linux#6.8.0-45-generic"),
            boto3_agent(rng, ""),
        ];
        if index % 2 == 1 {
            let tool = LOCAL_TOOLS[(index / 2) % LOCAL_TOOLS.len()].to_string();
            actor.user_agents.push(tool);
        }
        actors.push(actor);

        let mut console = base(Kind::SsoConsole, 1.0, CONSOLE_OPS, (5, 60));
        console.office_hours = true;
        console.user = Some(user.clone());
        console.deny_rate = 0.03;
        console.role = Some(
            account
                .role(if index % 2 == 0 {
                    "AWSReservedSSO_AdministratorAccess"
                } else {
                    "AWSReservedSSO_ReadOnlyAccess"
                })
                .clone(),
        );
        console.session_name = format!("{}@example.com", user.name);
        console.source_ips = office_ips.clone();
        console.user_agents = vec![
            "AWS Internal".to_string(),
            BROWSERS[index % BROWSERS.len()].to_string(),
            "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.226-192.879.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]".to_string(),
        ];
        actors.push(console);
    }

    let mut ci = base(Kind::Ci, 1.0, CI_OPS, (3, 20));
    ci.office_hours = true;
    ci.user = Some(account.ci_user.clone());
    ci.source_ips = ci_ips.clone();
    ci.user_agents = vec![cli_agent(rng, "linux#6.5.0-1025-azure"), terraform_agent()];
    actors.push(ci);

    // Terraform also runs in small slices inside the regular volume, so that
    // small corpora have `ci-deployer` → `terraform-deploy` sessions too.
    let mut terraform = base(Kind::Terraform, 0.15, TERRAFORM_OPS, (120, 1200));
    terraform.office_hours = true;
    terraform.user = Some(account.ci_user.clone());
    terraform.role = Some(account.role("terraform-deploy").clone());
    terraform.source_ips = ci_ips;
    terraform.user_agents = vec![terraform_agent()];
    terraform.deny_rate = 0.002;
    actors.push(terraform);

    for function in &account.functions {
        let mut lambda = base(Kind::Lambda, 0.9, LAMBDA_OPS, (1, 6));
        lambda.role = Some(account.role("lambda-orders-exec").clone());
        lambda.session_name = function.clone();
        lambda.source_ips = aws_ips.clone();
        lambda.user_agents = vec![boto3_agent(rng, "exec-env/AWS_Lambda_python3.12 ")];
        actors.push(lambda);
    }

    for instance in account.instances.iter().take(if global { 6 } else { 3 }) {
        let mut agent = base(Kind::Ec2Agent, 1.4, EC2_OPS, (1, 4));
        agent.role = Some(account.role("app-ec2-instance").clone());
        agent.session_name = instance.clone();
        agent.source_ips = vec![format!(
            "10.20.{}.{}",
            rng.random_range(0..64),
            rng.random_range(4..250)
        )];
        agent.vpc_endpoint = Some(endpoint.clone());
        agent.user_agents = vec![
            "aws-sdk-go/1.44.260 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.1142.0".to_string(),
            "aws-sdk-go/1.44.260 (go1.22.7; linux; amd64) amazon-cloudwatch-agent/1.300049.1"
                .to_string(),
        ];
        actors.push(agent);
    }

    let mut ecs = base(Kind::EcsTask, 1.2, ECS_OPS, (1, 5));
    ecs.role = Some(account.role("ecs-task-api").clone());
    ecs.session_name = random::hex(rng, 32);
    ecs.source_ips = aws_ips.clone();
    ecs.user_agents = vec!["aws-sdk-java/2.25.60 Linux/5.10.225-213.878.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.4+7-LTS Java/21.0.4 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy".to_string()];
    actors.push(ecs);

    let mut config = base(Kind::ConfigRecorder, 2.0, CONFIG_OPS, (5, 40));
    config.role = Some(account.role("AWSServiceRoleForConfig").clone());
    config.session_name = "AWSConfig-Describe".to_string();
    config.source_ips = vec!["config.amazonaws.com".to_string()];
    config.user_agents = vec!["config.amazonaws.com".to_string()];
    config.deny_rate = 0.0;
    actors.push(config);

    for service in [
        "secretsmanager.amazonaws.com",
        "lambda.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
    ] {
        let mut aws = base(Kind::AwsService, 0.8, SERVICE_OPS, (1, 3));
        aws.source_ips = vec![service.to_string()];
        aws.user_agents = vec![service.to_string()];
        aws.session_name = service.to_string();
        aws.deny_rate = 0.0;
        actors.push(aws);
    }

    let mut internal = base(Kind::ServiceEvent, 0.3, SERVICE_EVENT_OPS, (1, 1));
    internal.source_ips = vec!["AWS Internal".to_string()];
    internal.user_agents = vec!["AWS Internal".to_string()];
    internal.deny_rate = 0.0;
    actors.push(internal);

    let mut vendor = base(Kind::Vendor, 0.6, VENDOR_OPS, (20, 150));
    vendor.role = Some(account.role("vendor-monitoring-readonly").clone());
    vendor.source_ips = vendor_ips;
    vendor.user_agents = vec!["metrics-collector/7.52.0 (+https://monitoring.example.com) aws-sdk-go-v2/1.26.1 os/linux lang/go#1.21.9 md/GOOS#linux md/GOARCH#amd64".to_string()];
    vendor.deny_rate = 0.01;
    actors.push(vendor);

    for (index, user) in account.service_users.iter().enumerate() {
        let mut service_user = base(Kind::ServiceUser, 0.6, SERVICE_USER_OPS, (2, 12));
        service_user.user = Some(user.clone());
        service_user.source_ips = vec![public_ipv4(rng, &[62, 85, 195, 212])];
        service_user.user_agents = vec![if index == 0 {
            LOCAL_TOOLS[4].to_string()
        } else {
            boto3_agent(rng, "")
        }];
        actors.push(service_user);
    }

    if global {
        let mut root = base(Kind::Root, 0.06, ROOT_OPS, (3, 12));
        root.office_hours = true;
        root.source_ips = office_ips;
        root.user_agents = vec![BROWSERS[0].to_string()];
        root.deny_rate = 0.0;
        actors.push(root);
    }

    // Identity Center console sessions and workloads get their first
    // credentials when they first call; long-term callers have theirs now.
    for actor in &mut actors {
        if let Some(credential) = long_term_credential(actor, account, Epoch::MIN) {
            actor.credential = Some(credential);
        }
    }
    actors
}

fn long_term_credential(actor: &Actor, account: &Account, time: Epoch) -> Option<Credential> {
    match actor.kind {
        Kind::Ci => {
            // The pipeline's key changes when the scenario rotates it.
            let user = actor.user.as_ref()?;
            let (key, until) = account.ci_key_at(time);
            Some(Credential {
                identity: identities::iam_user_identity(&account.id, user, Some(key)),
                arn: user.arn.clone(),
                expires: until,
                from_console: false,
            })
        }
        Kind::HumanCli | Kind::ServiceUser => {
            let user = actor.user.as_ref()?;
            Some(Credential {
                identity: identities::iam_user_identity(&account.id, user, Some(&user.access_key)),
                arn: user.arn.clone(),
                expires: Epoch::MAX,
                from_console: false,
            })
        }
        Kind::AwsService => Some(Credential {
            identity: identities::aws_service_identity(&actor.session_name),
            arn: String::new(),
            expires: Epoch::MAX,
            from_console: false,
        }),
        Kind::ServiceEvent => Some(Credential {
            identity: identities::internal_identity(&account.id),
            arn: String::new(),
            expires: Epoch::MAX,
            from_console: false,
        }),
        _ => None,
    }
}

impl Actor {
    /// Renews this actor's credentials if they are missing or expire before
    /// `time`, and returns the events that record the renewal (nothing for
    /// long-term credentials).
    pub(crate) fn renew(
        &mut self,
        rng: &mut StdRng,
        account: &Account,
        region: &str,
        time: Epoch,
    ) -> Vec<Renewal> {
        if let Some(credential) = &self.credential
            && credential.expires > time + 60
        {
            return Vec::new();
        }
        let access_key = random::iam_id(rng, "ASIA", &account.marker, 20);
        let mut events = Vec::new();
        match self.kind {
            Kind::Root => {
                let ip = pick(rng, &self.source_ips).clone();
                let agent = self.user_agents[0].clone();
                events.push(console_login(
                    identities::root_identity(&account.id, "", None),
                    &ip,
                    &agent,
                    true,
                ));
                self.credential = Some(Credential {
                    identity: identities::root_identity(&account.id, &access_key, Some(time)),
                    arn: format!("arn:aws:iam::{}:root", account.id),
                    expires: time + 3600,
                    from_console: true,
                });
            }
            Kind::SsoConsole => {
                let Some(role) = self.role.clone() else {
                    return events;
                };
                let (email, user_id) = account
                    .sso_users
                    .iter()
                    .find(|(email, _)| *email == self.session_name)
                    .cloned()
                    .unwrap_or_else(|| (self.session_name.clone(), random::uuid(rng)));
                let ip = pick(rng, &self.source_ips).clone();
                let browser = self.user_agents[1].clone();
                let duration = 8 * 3600;

                // The Identity Center portal hands out the role credentials.
                let mut portal = Call::new("sso.amazonaws.com", "GetRoleCredentials", true);
                portal.event_type = "AwsServiceEvent";
                portal.service_details =
                    Some(json!({ "role_name": role.name, "account_id": account.id }));
                events.push(Renewal {
                    identity: identities::identity_center_identity(
                        &account.id,
                        &account.identity_store,
                        &user_id,
                        &random::uuid(rng),
                    ),
                    source_ip: ip.clone(),
                    user_agent: browser.clone(),
                    call: portal,
                    from_console: false,
                });

                let provider = random::base64(rng, 28).replace(['+', '/'], "A");
                let assumed_arn = identities::assumed_role_arn(&account.id, &role, &email);
                let call = Call::new("sts.amazonaws.com", "AssumeRoleWithSAML", true)
                    .request(json!({
                        "sAMLAssertionID": format!("_{}", random::hex(rng, 32)),
                        "roleSessionName": email,
                        "roleArn": role.arn,
                        "principalArn": format!("arn:aws:iam::{}:saml-provider/AWSSSO_{provider}_DO_NOT_DELETE", account.id),
                        "durationSeconds": duration
                    }))
                    .response(json!({
                        "credentials": sts_credentials(rng, &access_key, time + duration),
                        "assumedRoleUser": { "assumedRoleId": format!("{}:{email}", role.role_id), "arn": assumed_arn },
                        "subject": email, "subjectType": "persistent",
                        "issuer": format!("https://portal.sso.{region}.amazonaws.com/saml/assertion/{}", random::base64(rng, 32).replace(['+', '/'], "x")),
                        "audience": "https://signin.aws.amazon.com/saml",
                        "nameQualifier": format!("{}=", random::base64(rng, 27))
                    }))
                    .resources(json!([
                        { "accountId": account.id, "type": "AWS::IAM::Role", "ARN": role.arn },
                        { "accountId": account.id, "type": "AWS::IAM::SAMLProvider", "ARN": format!("arn:aws:iam::{}:saml-provider/AWSSSO_{provider}_DO_NOT_DELETE", account.id) }
                    ]));
                events.push(Renewal {
                    identity: identities::saml_identity(&account.id, &email, &provider),
                    source_ip: ip.clone(),
                    user_agent: browser.clone(),
                    call,
                    from_console: false,
                });
                let identity = identities::assumed_role_identity(
                    &account.id,
                    &role,
                    &email,
                    &access_key,
                    time,
                    &SessionExtras::default(),
                );
                events.push(console_login(identity.clone(), &ip, &browser, false));
                self.credential = Some(Credential {
                    identity,
                    arn: assumed_arn,
                    expires: time + duration,
                    from_console: true,
                });
            }
            Kind::Terraform => {
                let (Some(role), Some(user)) = (self.role.clone(), self.user.clone()) else {
                    return events;
                };
                let session = format!("terraform-{}", time);
                let ip = pick(rng, &self.source_ips).clone();
                let agent = self.user_agents[0].clone();
                let (key, _) = account.ci_key_at(time);
                let identity = identities::iam_user_identity(&account.id, &user, Some(key));
                let (call, credential) = assume_role(
                    rng,
                    account,
                    &role,
                    &session,
                    &access_key,
                    time,
                    3600,
                    None,
                    &SessionExtras::default(),
                );
                events.push(Renewal {
                    identity,
                    source_ip: ip,
                    user_agent: agent,
                    call,
                    from_console: false,
                });
                self.credential = Some(credential);
            }
            Kind::Vendor => {
                let Some(role) = self.role.clone() else {
                    return events;
                };
                let session = format!("metrics-{}", random::hex(rng, 8));
                let ip = pick(rng, &self.source_ips).clone();
                let agent = self.user_agents[0].clone();
                let identity = identities::aws_account_identity(
                    "AROAWVENDORPOLLER0042:metrics-poller",
                    VENDOR_ACCOUNT,
                );
                let (mut call, credential) = assume_role(
                    rng,
                    account,
                    &role,
                    &session,
                    &access_key,
                    time,
                    3600,
                    Some("mx-7f3a9c"),
                    &SessionExtras::default(),
                );
                call.shared_event_id = Some(random::uuid(rng));
                events.push(Renewal {
                    identity,
                    source_ip: ip,
                    user_agent: agent,
                    call,
                    from_console: false,
                });
                self.credential = Some(credential);
            }
            Kind::Lambda | Kind::Ec2Agent | Kind::EcsTask | Kind::ConfigRecorder => {
                let Some(role) = self.role.clone() else {
                    return events;
                };
                let (service, duration, extras) = match self.kind {
                    Kind::Lambda => ("lambda.amazonaws.com", 12 * 3600, SessionExtras::default()),
                    Kind::Ec2Agent => (
                        "ec2.amazonaws.com",
                        6 * 3600,
                        SessionExtras {
                            ec2_role_delivery: Some("2.0"),
                            ..SessionExtras::default()
                        },
                    ),
                    Kind::EcsTask => (
                        "ecs-tasks.amazonaws.com",
                        6 * 3600,
                        SessionExtras::default(),
                    ),
                    _ => (
                        "config.amazonaws.com",
                        3600,
                        SessionExtras {
                            invoked_by: Some("config.amazonaws.com".to_string()),
                            ..SessionExtras::default()
                        },
                    ),
                };
                let session = self.session_name.clone();
                let (mut call, credential) = assume_role(
                    rng,
                    account,
                    &role,
                    &session,
                    &access_key,
                    time,
                    duration,
                    None,
                    &extras,
                );
                call.shared_event_id = Some(random::uuid(rng));
                events.push(Renewal {
                    identity: identities::aws_service_identity(service),
                    source_ip: service.to_string(),
                    user_agent: service.to_string(),
                    call,
                    from_console: false,
                });
                self.credential = Some(credential);
            }
            Kind::HumanCli
            | Kind::Ci
            | Kind::ServiceUser
            | Kind::AwsService
            | Kind::ServiceEvent => {
                self.credential = long_term_credential(self, account, time);
            }
        }
        events
    }
}

/// Builds an `AssumeRole` call and the credential it mints.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assume_role(
    rng: &mut StdRng,
    account: &Account,
    role: &Role,
    session: &str,
    access_key: &str,
    time: Epoch,
    duration: i64,
    external_id: Option<&str>,
    extras: &SessionExtras,
) -> (Call, Credential) {
    let assumed_arn = identities::assumed_role_arn(&account.id, role, session);
    let mut request =
        json!({ "roleArn": role.arn, "roleSessionName": session, "durationSeconds": duration });
    if let Some(external_id) = external_id {
        request["externalId"] = json!(external_id);
    }
    let call = Call::new("sts.amazonaws.com", "AssumeRole", true)
        .request(request)
        .response(json!({
            "credentials": sts_credentials(rng, access_key, time + duration),
            "assumedRoleUser": { "assumedRoleId": format!("{}:{session}", role.role_id), "arn": assumed_arn }
        }))
        .resources(json!([{ "accountId": account.id, "type": "AWS::IAM::Role", "ARN": role.arn }]));
    let credential = Credential {
        identity: identities::assumed_role_identity(
            &account.id,
            role,
            session,
            access_key,
            time,
            extras,
        ),
        arn: assumed_arn,
        expires: time + duration,
        from_console: false,
    };
    (call, credential)
}

/// Builds a successful `ConsoleLogin`.
pub(crate) fn console_login(identity: String, ip: &str, agent: &str, mfa: bool) -> Renewal {
    let mut additional = json!({
        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        "MobileVersion": "No",
        "MFAUsed": if mfa { "Yes" } else { "No" }
    });
    if mfa {
        additional["MFAIdentifier"] = json!("arn:aws:iam::root-account-mfa-device");
    }
    let mut call = Call::new("signin.amazonaws.com", "ConsoleLogin", false)
        .response(json!({ "ConsoleLogin": "Success" }))
        .additional(additional)
        .global();
    call.event_type = "AwsConsoleSignIn";
    Renewal {
        identity,
        source_ip: ip.to_string(),
        user_agent: agent.to_string(),
        call,
        from_console: false,
    }
}

/// Share of a caller's activity at `time`: 1 in office hours on weekdays,
/// less at night and at weekends.
pub(crate) fn office_factor(time: Epoch) -> f64 {
    let hour = (time.rem_euclid(86_400)) / 3600;
    // 1970-01-01 was a Thursday, so day 0 is weekday index 3 (Monday = 0).
    let weekday = (time.div_euclid(86_400) + 3).rem_euclid(7);
    let by_hour = if (8..19).contains(&hour) {
        1.0
    } else if (6..8).contains(&hour) || (19..22).contains(&hour) {
        0.35
    } else {
        0.06
    };
    if weekday >= 5 { by_hour * 0.2 } else { by_hour }
}
