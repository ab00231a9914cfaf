//! Analysis of IAM policy documents as CloudTrail records carry them.
//!
//! Policy text reaches the logs in several shapes: a JSON string inside
//! `requestParameters` (often with `\n` and `\t`), a URL-encoded string in
//! the `CreateRole` response (`%7B%0A…`), sometimes a JSON string that contains
//! JSON once more. `Statement` is an object or a list; `Action`, `NotAction`,
//! `Resource` and the principal values are a string or a list. This module
//! turns any of those into a [`PolicyDocument`] and answers the questions the
//! detection rules ask:
//!
//! - [`PolicyDocument::is_admin`]: an `Allow` of `*` or `*:*` on resource `*`;
//! - [`PolicyDocument::is_near_admin`]: admin, or `Allow` with `NotAction`
//!   on resource `*`, which grants everything except the listed actions;
//! - [`PolicyDocument::grants_escalation`]: an `Allow` on `*` of an action
//!   that lets a principal raise its own privileges (`iam:PassRole`,
//!   `iam:AttachUserPolicy`, `sts:AssumeRole`…);
//! - [`PolicyDocument::is_read_only`]: every `Allow` is a read action;
//! - [`is_admin_policy_arn`]: the AWS managed `AdministratorAccess` policy in
//!   any partition (`aws`, `aws-cn`, `aws-us-gov`…);
//! - [`analyze_trust`]: who a role trust policy lets in (public `*`, accounts
//!   other than the owner or an allowlist, services, identity providers) and
//!   whether an `sts:ExternalId` or organization condition limits that.
//!
//! `Deny` statements are parsed but never subtract from a grant: the rules
//! ask "could this document give admin", and a reviewer reading a finding
//! sees the document itself.
//!
//! Parsing never panics on any input (a property test checks this); text
//! that is not a policy yields a [`PolicyError`].

use std::collections::BTreeSet;

use serde_json::Value;

/// Maximum levels of JSON strings around a policy before parsing stops.
/// Records seen so far use at most two: a string that contains the document.
const MAX_STRING_NESTING: usize = 3;

/// Actions that let a principal grant itself more rights when allowed on
/// every resource. From the Rhino Security Labs list of IAM privilege
/// escalation methods.
const ESCALATION_ACTIONS: &[&str] = &[
    "iam:PassRole",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "sts:AssumeRole",
    "lambda:UpdateFunctionCode",
];

/// Verb prefixes of AWS actions that only read.
const READ_ONLY_PREFIXES: &[&str] = &["Get", "List", "Describe", "Head", "BatchGet", "View"];

/// Error for a text that is not a policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("invalid policy JSON: {0}")]
    InvalidJson(String),
    #[error("invalid policy: the document is not a JSON object")]
    NotAnObject,
    #[error("invalid policy: no Statement object or list")]
    MissingStatement,
    #[error("invalid policy: more than {MAX_STRING_NESTING} levels of JSON strings")]
    TooDeeplyNested,
}

/// `Effect` of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// The principals a statement names, by kind. A bare `"*"` principal is
/// stored as `aws: ["*"]`, which is what AWS treats it as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    pub aws: Vec<String>,
    pub service: Vec<String>,
    pub federated: Vec<String>,
    pub canonical_user: Vec<String>,
}

/// One statement of a policy, with list-or-string fields as lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub effect: Effect,
    /// `Action` values; empty when the statement uses `NotAction`.
    pub actions: Vec<String>,
    /// `NotAction` values, when present.
    pub not_actions: Option<Vec<String>>,
    /// `Resource` values; empty in trust policies, which have none.
    pub resources: Vec<String>,
    pub not_resources: Option<Vec<String>>,
    pub principals: Option<Principals>,
    pub not_principals: Option<Principals>,
    /// The `Condition` block as it was, or `Value::Null`.
    pub condition: Value,
}

/// A parsed policy document (identity, resource or trust policy).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Parses policy text in any shape CloudTrail records carry: JSON,
    /// URL-encoded JSON, or a JSON string holding either.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        let value = decode_policy_text(text, 0)?;
        PolicyDocument::from_value(&value)
    }

    /// Reads a document from an already parsed JSON value; a string value is
    /// parsed as policy text.
    pub fn from_value(value: &Value) -> Result<PolicyDocument, PolicyError> {
        match value {
            Value::String(text) => PolicyDocument::parse(text),
            Value::Object(object) => {
                let statements = match object.get("Statement") {
                    Some(Value::Array(items)) => items.iter().filter_map(read_statement).collect(),
                    Some(item @ Value::Object(_)) => read_statement(item).into_iter().collect(),
                    _ => return Err(PolicyError::MissingStatement),
                };
                Ok(PolicyDocument { statements })
            }
            _ => Err(PolicyError::NotAnObject),
        }
    }

    fn allows(&self) -> impl Iterator<Item = &Statement> {
        self.statements
            .iter()
            .filter(|statement| statement.effect == Effect::Allow)
    }

    /// True when an `Allow` statement grants every action (`*` or `*:*`) on
    /// every resource.
    pub fn is_admin(&self) -> bool {
        self.allows().any(|statement| {
            statement
                .actions
                .iter()
                .any(|action| action == "*" || action == "*:*")
                && statement.covers_all_resources()
        })
    }

    /// True for [`is_admin`](Self::is_admin) documents and for an `Allow` with
    /// `NotAction` on every resource: that grants all but a few actions.
    pub fn is_near_admin(&self) -> bool {
        self.is_admin()
            || self.allows().any(|statement| {
                statement.not_actions.is_some() && statement.covers_all_resources()
            })
    }

    /// True when an `Allow` on every resource covers an action that lets a
    /// principal raise its own rights (`iam:PassRole`, `iam:Put*Policy`,
    /// `sts:AssumeRole`…), or when the document is near-admin.
    pub fn grants_escalation(&self) -> bool {
        if self.is_near_admin() {
            return true;
        }
        self.allows().any(|statement| {
            statement.covers_all_resources()
                && ESCALATION_ACTIONS
                    .iter()
                    .any(|action| statement.actions.iter().any(|p| action_matches(p, action)))
        })
    }

    /// True when the document has at least one `Allow` and every `Allow`
    /// names only read actions (`Get*`, `List*`, `Describe*`…).
    pub fn is_read_only(&self) -> bool {
        let mut any_allow = false;
        for statement in self.allows() {
            any_allow = true;
            if statement.not_actions.is_some() || statement.actions.is_empty() {
                return false;
            }
            if !statement
                .actions
                .iter()
                .all(|action| is_read_action(action))
            {
                return false;
            }
        }
        any_allow
    }
}

impl Statement {
    /// True when `Resource` includes `*`. Trust policies have no `Resource`,
    /// so they never count; `NotResource` is treated as "everything else",
    /// which is close enough to `*` for the admin question.
    fn covers_all_resources(&self) -> bool {
        self.resources.iter().any(|resource| resource == "*") || self.not_resources.is_some()
    }
}

/// True for the AWS managed `AdministratorAccess` policy ARN in any
/// partition: `arn:aws:…`, `arn:aws-cn:…`, `arn:aws-us-gov:…` and others.
pub fn is_admin_policy_arn(arn: &str) -> bool {
    managed_policy_name(arn) == Some("AdministratorAccess")
}

/// True for AWS managed policies that grant escalation: `AdministratorAccess`
/// and `IAMFullAccess`.
pub fn is_escalation_policy_arn(arn: &str) -> bool {
    matches!(
        managed_policy_name(arn),
        Some("AdministratorAccess" | "IAMFullAccess")
    )
}

/// True for AWS managed policies that only read (`ReadOnlyAccess`,
/// `SecurityAudit`, `ViewOnlyAccess` and the `…ReadOnly…` family).
pub fn is_read_only_policy_arn(arn: &str) -> bool {
    managed_policy_name(arn).is_some_and(|name| {
        name.contains("ReadOnly") || name == "SecurityAudit" || name == "ViewOnlyAccess"
    })
}

/// Extracts the policy name of an AWS managed policy ARN
/// (`arn:<partition>:iam::aws:policy/<path/>Name`), or `None`.
fn managed_policy_name(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some("aws"), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if !partition.starts_with("aws") {
        return None;
    }
    let path = resource.strip_prefix("policy/")?;
    path.rsplit('/').next()
}

/// The principals a role trust policy lets assume the role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnalysis {
    /// An `Allow` names principal `*` (or `{"AWS": "*"}`).
    pub public: bool,
    /// Accounts named by `Allow` statements that are neither the role's own
    /// account nor on the allowlist.
    pub external_accounts: BTreeSet<String>,
    /// Accounts named that are the role's own account or on the allowlist.
    pub internal_accounts: BTreeSet<String>,
    /// `Service` principals (`ec2.amazonaws.com`…).
    pub services: BTreeSet<String>,
    /// `Federated` principals (SAML or OIDC providers, `cognito-identity…`).
    pub federated: BTreeSet<String>,
    /// Every `Allow` that names public or external principals carries an
    /// `sts:ExternalId` condition.
    pub external_id_condition: bool,
    /// Every `Allow` that names public or external principals carries an
    /// `aws:PrincipalOrgID` or `aws:PrincipalOrgPaths` condition.
    pub org_condition: bool,
}

/// How far a trust policy opens a role, lowest risk first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrustExposure {
    /// Only the owner account, allowlisted accounts, services or providers.
    Internal,
    /// Outside principals, but limited by an org condition.
    OrgLimited,
    /// Outside principals, but limited by `sts:ExternalId` (the vendor pattern).
    ExternalWithExternalId,
    /// Outside accounts with no limiting condition.
    External,
    /// Anyone (`*`) with no limiting condition.
    Public,
}

impl TrustAnalysis {
    /// True when outsiders (public or external accounts) are let in.
    pub fn lets_outsiders_in(&self) -> bool {
        self.public || !self.external_accounts.is_empty()
    }

    /// Summarises the analysis as one exposure level.
    pub fn exposure(&self) -> TrustExposure {
        if !self.lets_outsiders_in() {
            TrustExposure::Internal
        } else if self.org_condition {
            TrustExposure::OrgLimited
        } else if self.external_id_condition {
            TrustExposure::ExternalWithExternalId
        } else if self.public {
            TrustExposure::Public
        } else {
            TrustExposure::External
        }
    }
}

/// Analyses a trust policy for the role owned by `owner_account` (the
/// record's `recipientAccountId`, when known). Accounts in `allowlist`
/// count as internal, such as the other accounts of the organization.
pub fn analyze_trust(
    document: &PolicyDocument,
    owner_account: Option<&str>,
    allowlist: &BTreeSet<String>,
) -> TrustAnalysis {
    let mut analysis = TrustAnalysis::default();
    let mut outsider_statements = 0usize;
    let mut with_external_id = 0usize;
    let mut with_org = 0usize;

    for statement in document.allows() {
        let Some(principals) = &statement.principals else {
            continue;
        };
        let mut names_outsider = false;
        for principal in &principals.aws {
            if principal == "*" {
                analysis.public = true;
                names_outsider = true;
                continue;
            }
            let Some(account) = principal_account(principal) else {
                continue;
            };
            if owner_account == Some(account) || allowlist.contains(account) {
                analysis.internal_accounts.insert(account.to_string());
            } else {
                analysis.external_accounts.insert(account.to_string());
                names_outsider = true;
            }
        }
        analysis.services.extend(principals.service.iter().cloned());
        analysis
            .federated
            .extend(principals.federated.iter().cloned());

        if names_outsider {
            outsider_statements += 1;
            if condition_has_key(&statement.condition, &["sts:externalid"]) {
                with_external_id += 1;
            }
            if condition_has_key(
                &statement.condition,
                &["aws:principalorgid", "aws:principalorgpaths"],
            ) {
                with_org += 1;
            }
        }
    }

    analysis.external_id_condition =
        outsider_statements > 0 && with_external_id == outsider_statements;
    analysis.org_condition = outsider_statements > 0 && with_org == outsider_statements;
    analysis
}

/// Extracts the account of an `AWS` principal: a 12-digit account id, or the account
/// field of an ARN. Unique ids (`AIDA…`) name no account and return `None`.
pub fn principal_account(principal: &str) -> Option<&str> {
    if is_account_id(principal) {
        return Some(principal);
    }
    let account = principal.strip_prefix("arn:")?.split(':').nth(3)?;
    is_account_id(account).then_some(account)
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// True when an IAM action pattern (with `*` and `?` wildcards, compared
/// without regard to case, as IAM does) matches `action`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(
        pattern.to_ascii_lowercase().as_bytes(),
        action.to_ascii_lowercase().as_bytes(),
    )
}

fn is_read_action(action: &str) -> bool {
    let Some((_, verb)) = action.split_once(':') else {
        return false;
    };
    // `Get*` counts as read-only, `*` and `s3:*` do not.
    READ_ONLY_PREFIXES
        .iter()
        .any(|prefix| verb.len() > prefix.len() && verb.starts_with(prefix))
}

/// Matches `*` (any run) and `?` (one byte) iteratively, so long patterns
/// cannot exhaust the stack.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&byte| byte == b'*')
}

/// Decodes policy text into a JSON value: plain JSON, URL-encoded JSON, or
/// a JSON string holding either (up to [`MAX_STRING_NESTING`] levels).
fn decode_policy_text(text: &str, depth: usize) -> Result<Value, PolicyError> {
    if depth >= MAX_STRING_NESTING {
        return Err(PolicyError::TooDeeplyNested);
    }
    let trimmed = text.trim();
    let value = match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => value,
        Err(json_error) => {
            // IAM URL-encodes the trust policy in CreateRole responses
            // (`%7B%0A%20%20%22Version%22…`).
            if !trimmed.contains('%') {
                return Err(PolicyError::InvalidJson(json_error.to_string()));
            }
            let decoded = percent_encoding::percent_decode_str(trimmed).decode_utf8_lossy();
            serde_json::from_str::<Value>(&decoded)
                .map_err(|error| PolicyError::InvalidJson(error.to_string()))?
        }
    };
    match value {
        Value::String(inner) => decode_policy_text(&inner, depth + 1),
        other => Ok(other),
    }
}

fn read_statement(value: &Value) -> Option<Statement> {
    let object = value.as_object()?;
    let effect = match object.get("Effect").and_then(Value::as_str) {
        Some(text) if text.eq_ignore_ascii_case("allow") => Effect::Allow,
        Some(text) if text.eq_ignore_ascii_case("deny") => Effect::Deny,
        _ => return None,
    };
    Some(Statement {
        effect,
        actions: string_list(object.get("Action")),
        not_actions: object
            .get("NotAction")
            .map(|value| string_list(Some(value))),
        resources: string_list(object.get("Resource")),
        not_resources: object
            .get("NotResource")
            .map(|value| string_list(Some(value))),
        principals: object.get("Principal").map(read_principals),
        not_principals: object.get("NotPrincipal").map(read_principals),
        condition: object.get("Condition").cloned().unwrap_or(Value::Null),
    })
}

/// Reads a string or a list of strings; other values are skipped.
fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn read_principals(value: &Value) -> Principals {
    let mut principals = Principals::default();
    match value {
        Value::String(text) => principals.aws.push(text.clone()),
        Value::Object(object) => {
            for (kind, names) in object {
                let names = string_list(Some(names));
                match kind.as_str() {
                    "AWS" => principals.aws.extend(names),
                    "Service" => principals.service.extend(names),
                    "Federated" => principals.federated.extend(names),
                    "CanonicalUser" => principals.canonical_user.extend(names),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    principals
}

/// True when the `Condition` block (operator → key → values) tests one of
/// `keys` (lowercase; condition keys are case-insensitive).
fn condition_has_key(condition: &Value, keys: &[&str]) -> bool {
    let Some(operators) = condition.as_object() else {
        return false;
    };
    operators.values().any(|tests| {
        tests.as_object().is_some_and(|tests| {
            tests
                .keys()
                .any(|key| keys.contains(&key.to_ascii_lowercase().as_str()))
        })
    })
}

#[cfg(test)]
mod tests;
