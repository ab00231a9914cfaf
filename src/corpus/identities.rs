//! Accounts, their principals and resources, and the `userIdentity` objects
//! those principals produce.
//!
//! Every account gets the same cast, so that a responder can look for the same
//! names in each. The cast is: human IAM users with long-term keys, the CI user
//! `ci-deployer`, a few programmatic users and workload roles for Lambda, EC2
//! and ECS. Each account also has the Identity Center permission-set roles, a
//! Terraform role that `ci-deployer` assumes, and a read-only role that a
//! monitoring vendor assumes from its own account.

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::random::{self, derive_seed};
use super::record::{Epoch, JsonObject, format_event_time};

/// The monitoring vendor's account, which assumes `vendor-monitoring-readonly`.
pub(crate) const VENDOR_ACCOUNT: &str = "464622987310";

const ENVIRONMENTS: &[&str] = &[
    "prod", "staging", "dev", "shared", "data", "sandbox", "security", "network",
];

const HUMAN_USERS: &[&str] = &[
    "alice.nguyen",
    "bogdan.kowalski",
    "chen.wei",
    "dara.okafor",
    "emil.larsen",
    "fatima.haddad",
    "gustavo.reyes",
    "hana.sato",
];

/// Programmatic users: the long-term keys that real accounts keep for tools.
const SERVICE_USERS: &[&str] = &["metrics-exporter", "backup-agent", "legacy-etl"];

/// The user whose key the attack scenario leaks. Every account has one.
pub(crate) const CI_USER: &str = "ci-deployer";

/// An IAM user with one active access key.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub name: String,
    pub principal_id: String,
    pub arn: String,
    pub access_key: String,
}

/// An IAM role.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub name: String,
    pub role_id: String,
    pub arn: String,
}

/// One account: its principals and the resource names the catalogue draws from.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub id: String,
    /// Eight characters shared by the account's key and principal ids.
    pub marker: String,
    pub environment: &'static str,
    pub humans: Vec<User>,
    pub service_users: Vec<User>,
    pub ci_user: User,
    /// When the CI user's key is replaced, and by which key.
    pub ci_key_rotation: Option<(Epoch, String)>,
    pub roles: Vec<Role>,
    pub buckets: Vec<String>,
    pub kms_keys: Vec<String>,
    pub secrets: Vec<String>,
    pub parameters: Vec<String>,
    pub functions: Vec<String>,
    pub instances: Vec<String>,
    pub amis: Vec<String>,
    pub vpcs: Vec<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub tables: Vec<String>,
    pub clusters: Vec<String>,
    pub databases: Vec<String>,
    pub stacks: Vec<String>,
    pub identity_store: String,
    pub sso_users: Vec<(String, String)>,
}

impl Account {
    /// Builds the account at `index` deterministically from `seed`.
    pub(crate) fn build(seed: u64, index: usize, id: &str) -> Account {
        let mut rng = StdRng::seed_from_u64(derive_seed(seed, &[0xacc0, index as u64]));
        let marker = random::upper_alnum(&mut rng, 8);
        let environment = ENVIRONMENTS[index % ENVIRONMENTS.len()];

        let make_user = |rng: &mut StdRng, name: &str| User {
            name: name.to_string(),
            principal_id: random::iam_id(rng, "AIDA", &marker, 21),
            arn: format!("arn:aws:iam::{id}:user/{name}"),
            access_key: random::iam_id(rng, "AKIA", &marker, 20),
        };
        let human_count = rng.random_range(3..=6);
        let humans: Vec<User> = HUMAN_USERS
            .iter()
            .skip(index % 3)
            .take(human_count)
            .map(|name| make_user(&mut rng, name))
            .collect();
        let service_users = SERVICE_USERS
            .iter()
            .map(|name| make_user(&mut rng, name))
            .collect();
        let ci_user = make_user(&mut rng, CI_USER);

        let role_names = [
            "terraform-deploy".to_string(),
            "lambda-orders-exec".to_string(),
            "app-ec2-instance".to_string(),
            "ecs-task-api".to_string(),
            "vendor-monitoring-readonly".to_string(),
            format!(
                "AWSReservedSSO_AdministratorAccess_{}",
                random::hex(&mut rng, 16)
            ),
            format!(
                "AWSReservedSSO_ReadOnlyAccess_{}",
                random::hex(&mut rng, 16)
            ),
            "AWSServiceRoleForConfig".to_string(),
            "OrganizationAccountAccessRole".to_string(),
            "deploy-admin".to_string(),
        ];
        let roles = role_names
            .iter()
            .map(|name| {
                let path = if name.starts_with("AWSReservedSSO") {
                    "aws-reserved/sso.amazonaws.com/"
                } else if name == "AWSServiceRoleForConfig" {
                    "aws-service-role/config.amazonaws.com/"
                } else {
                    ""
                };
                Role {
                    name: name.clone(),
                    role_id: random::iam_id(&mut rng, "AROA", &marker, 21),
                    arn: format!("arn:aws:iam::{id}:role/{path}{name}"),
                }
            })
            .collect();

        let buckets = [
            "artifacts",
            "backups",
            "static-assets",
            "data-lake-raw",
            "terraform-state",
            "access-logs",
        ]
        .iter()
        .map(|purpose| format!("{environment}-{purpose}-{id}"))
        .collect();
        let secrets = [
            "prod/orders/db-password",
            "api/stripe-key",
            "ci/github-token",
            "app/jwt-signing-key",
            "rds/reporting/readonly",
            "vendor/pagerduty-token",
            "app/session-secret",
            "analytics/warehouse-password",
        ]
        .iter()
        .map(|name| format!("{name}-{}", random::alnum(&mut rng, 6)))
        .collect();
        let functions: Vec<String> = [
            "orders-api",
            "thumbnail-resize",
            "nightly-report",
            "slack-notifier",
            "cost-exporter",
        ]
        .iter()
        .map(|name| format!("{environment}-{name}"))
        .collect();

        let ids = |rng: &mut StdRng, prefix: &str, count: usize, len: usize| -> Vec<String> {
            (0..count)
                .map(|_| format!("{prefix}-{}", random::hex(rng, len)))
                .collect()
        };
        let instances = ids(&mut rng, "i", 12, 17);
        let amis = ids(&mut rng, "ami", 4, 17);
        let vpcs = ids(&mut rng, "vpc", 2, 17);
        let subnets = ids(&mut rng, "subnet", 6, 17);
        let security_groups = ids(&mut rng, "sg", 8, 17);
        let kms_keys = (0..4).map(|_| random::uuid(&mut rng)).collect();
        let identity_store = format!("d-{}", random::hex(&mut rng, 10));
        let sso_users = humans
            .iter()
            .map(|user| {
                let email = format!("{}@example.com", user.name);
                (email, random::uuid(&mut rng))
            })
            .collect();

        Account {
            id: id.to_string(),
            marker,
            environment,
            humans,
            service_users,
            ci_user,
            ci_key_rotation: None,
            roles,
            buckets,
            kms_keys,
            secrets,
            parameters: [
                "/app/config/feature-flags",
                "/app/db/host",
                "/app/db/password",
                "/ci/deploy/artifact-bucket",
                "/cloudwatch-agent/config",
            ]
            .iter()
            .map(|name| name.to_string())
            .collect(),
            functions,
            instances,
            amis,
            vpcs,
            subnets,
            security_groups,
            tables: ["orders", "sessions", "inventory", "audit-events"]
                .iter()
                .map(|name| format!("{environment}-{name}"))
                .collect(),
            clusters: vec![
                format!("{environment}-api"),
                format!("{environment}-workers"),
            ],
            databases: vec![
                format!("{environment}-orders-db"),
                format!("{environment}-reporting"),
            ],
            stacks: ["network", "api", "data", "monitoring"]
                .iter()
                .map(|name| format!("{environment}-{name}"))
                .collect(),
            identity_store,
            sso_users,
        }
    }

    /// Returns the role whose name is or starts with `name`. Every account has
    /// the same role names, so this finds one unless `name` is misspelt.
    pub(crate) fn role(&self, name: &str) -> &Role {
        self.roles
            .iter()
            .find(|role| role.name == name || role.name.starts_with(name))
            .unwrap_or(&self.roles[0])
    }

    /// The CI user's key in use at `time`, and when it stops being used.
    pub(crate) fn ci_key_at(&self, time: Epoch) -> (&str, Epoch) {
        match &self.ci_key_rotation {
            Some((at, key)) if time >= *at => (key, Epoch::MAX),
            Some((at, _)) => (&self.ci_user.access_key, *at),
            None => (&self.ci_user.access_key, Epoch::MAX),
        }
    }

    pub(crate) fn user(&self, name: &str) -> Option<&User> {
        self.humans
            .iter()
            .chain(&self.service_users)
            .chain(std::iter::once(&self.ci_user))
            .find(|user| user.name == name)
    }
}

/// Generates `count` distinct 12-digit account ids. About a third start with
/// `0`, and when there are two or more the second always does, so that tools
/// which turn account ids into numbers are caught.
pub fn generate_account_ids(seed: u64, count: usize) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(derive_seed(seed, &[0xacc1d]));
    let mut ids: Vec<String> = Vec::with_capacity(count);
    while ids.len() < count {
        let leading_zero = ids.len() == 1 || rng.random_bool(0.3);
        let first = if leading_zero {
            0
        } else {
            rng.random_range(1..10)
        };
        let rest: u64 = rng.random_range(0..100_000_000_000);
        let id = format!("{first}{rest:011}");
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Renders the `userIdentity` of an IAM user calling with a long-term key.
pub(crate) fn iam_user_identity(account: &str, user: &User, access_key: Option<&str>) -> String {
    let mut out = Vec::with_capacity(200);
    let mut object = JsonObject::open(&mut out);
    object.string("type", "IAMUser");
    object.string("principalId", &user.principal_id);
    object.string("arn", &user.arn);
    object.string("accountId", account);
    if let Some(key) = access_key {
        object.string("accessKeyId", key);
    }
    object.string("userName", &user.name);
    object.close();
    into_string(out)
}

/// Renders the `userIdentity` of an IAM user calling with temporary
/// credentials: a console session or a `GetSessionToken` key.
pub(crate) fn iam_user_session_identity(
    account: &str,
    user: &User,
    access_key: &str,
    created: Epoch,
    mfa: bool,
) -> String {
    let mut out = Vec::with_capacity(320);
    let mut object = JsonObject::open(&mut out);
    object.string("type", "IAMUser");
    object.string("principalId", &user.principal_id);
    object.string("arn", &user.arn);
    object.string("accountId", account);
    object.string("accessKeyId", access_key);
    object.string("userName", &user.name);
    object.key("sessionContext");
    write_session_context(object.out, None, created, mfa, None);
    object.close();
    into_string(out)
}

/// Optional parts of an assumed-role `userIdentity`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionExtras {
    pub invoked_by: Option<String>,
    /// `sessionContext.ec2RoleDelivery` for instance-profile credentials.
    pub ec2_role_delivery: Option<&'static str>,
    pub source_identity: Option<String>,
    pub mfa: bool,
}

/// Renders the `userIdentity` of a caller using assumed-role credentials.
pub(crate) fn assumed_role_identity(
    account: &str,
    role: &Role,
    session_name: &str,
    access_key: &str,
    created: Epoch,
    extras: &SessionExtras,
) -> String {
    let mut out = Vec::with_capacity(520);
    let mut object = JsonObject::open(&mut out);
    object.string("type", "AssumedRole");
    object.string("principalId", &format!("{}:{session_name}", role.role_id));
    object.string("arn", &assumed_role_arn(account, role, session_name));
    object.string("accountId", account);
    object.string("accessKeyId", access_key);
    object.key("sessionContext");
    write_session_context(
        object.out,
        Some((account, role)),
        created,
        extras.mfa,
        Some(extras),
    );
    if let Some(invoked_by) = &extras.invoked_by {
        object.string("invokedBy", invoked_by);
    }
    object.close();
    into_string(out)
}

/// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` (the role path is dropped).
pub(crate) fn assumed_role_arn(account: &str, role: &Role, session_name: &str) -> String {
    format!(
        "arn:aws:sts::{account}:assumed-role/{}/{session_name}",
        role.name
    )
}

fn write_session_context(
    out: &mut Vec<u8>,
    issuer: Option<(&str, &Role)>,
    created: Epoch,
    mfa: bool,
    extras: Option<&SessionExtras>,
) {
    let mut context = JsonObject::open(out);
    context.key("sessionIssuer");
    match issuer {
        Some((account, role)) => {
            let mut session_issuer = JsonObject::open(context.out);
            session_issuer.string("type", "Role");
            session_issuer.string("principalId", &role.role_id);
            session_issuer.string("arn", &role.arn);
            session_issuer.string("accountId", account);
            session_issuer.string("userName", &role.name);
            session_issuer.close();
        }
        None => context.out.extend_from_slice(b"{}"),
    }
    context.raw("webIdFederationData", "{}");
    context.key("attributes");
    let mut attributes = JsonObject::open(context.out);
    attributes.string("creationDate", &format_event_time(created));
    attributes.string("mfaAuthenticated", if mfa { "true" } else { "false" });
    attributes.close();
    if let Some(extras) = extras {
        if let Some(identity) = &extras.source_identity {
            context.string("sourceIdentity", identity);
        }
        if let Some(delivery) = extras.ec2_role_delivery {
            context.string("ec2RoleDelivery", delivery);
        }
    }
    context.close();
}

/// Renders the identity of an AWS service acting on the account's behalf.
pub(crate) fn aws_service_identity(service: &str) -> String {
    format!(r#"{{"type":"AWSService","invokedBy":"{service}"}}"#)
}

/// Renders the identity of a service event (`AwsServiceEvent`) that has no
/// caller: only `accountId` and `invokedBy`, and no `type`.
pub(crate) fn internal_identity(account: &str) -> String {
    format!(r#"{{"accountId":"{account}","invokedBy":"AWS Internal"}}"#)
}

/// Renders the role owner's copy of a cross-account call: only the caller's
/// principal id and account, with no ARN.
pub(crate) fn aws_account_identity(principal_id: &str, caller_account: &str) -> String {
    format!(
        r#"{{"type":"AWSAccount","principalId":"{principal_id}","accountId":"{caller_account}"}}"#
    )
}

/// Renders the root identity. `access_key` is empty for sign-in events.
pub(crate) fn root_identity(account: &str, access_key: &str, session: Option<Epoch>) -> String {
    let mut out = Vec::with_capacity(300);
    let mut object = JsonObject::open(&mut out);
    object.string("type", "Root");
    object.string("principalId", account);
    object.string("arn", &format!("arn:aws:iam::{account}:root"));
    object.string("accountId", account);
    object.string("accessKeyId", access_key);
    if let Some(created) = session {
        object.key("sessionContext");
        write_session_context(object.out, None, created, true, None);
    }
    object.close();
    into_string(out)
}

/// Renders an IAM Identity Center user (the shape used since July 2025): no
/// `userName` or `principalId`, and the directory user in `onBehalfOf`.
pub(crate) fn identity_center_identity(
    account: &str,
    identity_store: &str,
    user_id: &str,
    credential_id: &str,
) -> String {
    let mut out = Vec::with_capacity(300);
    let mut object = JsonObject::open(&mut out);
    object.string("type", "IdentityCenterUser");
    object.string("accountId", account);
    object.key("onBehalfOf");
    let mut on_behalf_of = JsonObject::open(object.out);
    on_behalf_of.string("userId", user_id);
    on_behalf_of.string(
        "identityStoreArn",
        &format!("arn:aws:identitystore::{account}:identitystore/{identity_store}"),
    );
    on_behalf_of.close();
    object.string("credentialId", credential_id);
    object.close();
    into_string(out)
}

/// Renders the SAML identity that calls `AssumeRoleWithSAML` for an Identity
/// Center permission set.
pub(crate) fn saml_identity(account: &str, email: &str, provider_hash: &str) -> String {
    let mut out = Vec::with_capacity(300);
    let mut object = JsonObject::open(&mut out);
    object.string("type", "SAMLUser");
    object.string("principalId", &format!("{provider_hash}:{email}"));
    object.string("userName", email);
    object.string(
        "identityProvider",
        &format!("arn:aws:iam::{account}:saml-provider/AWSSSO_{provider_hash}_DO_NOT_DELETE"),
    );
    object.close();
    into_string(out)
}

fn into_string(bytes: Vec<u8>) -> String {
    // The writer only appends valid UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_have_twelve_digits() {
        let ids = generate_account_ids(7, 10);
        assert_eq!(ids.len(), 10);
        for id in &ids {
            assert_eq!(id.len(), 12, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
        }
        assert!(ids[1].starts_with('0'));
    }

    #[test]
    fn assumed_role_identity_is_valid_json() {
        let account = Account::build(3, 0, "012345678901");
        let role = account.role("terraform-deploy");
        let text = assumed_role_identity(
            &account.id,
            role,
            "session-1",
            "ASIAEXAMPLE000000001",
            1_700_000_000,
            &SessionExtras::default(),
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value["sessionContext"]["sessionIssuer"]["userName"],
            "terraform-deploy"
        );
        assert_eq!(value["accountId"], "012345678901");
    }
}
