//! The declarative rule format and its loading.
//!
//! A rule is one YAML file (format in `docs/detections.md`). Built-in rules
//! are embedded from `src/detect/rules/` at compile time; user rules come
//! from a folder. Every file is validated on load, and an error names the
//! file and the field path (`match.where[1].test`).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::event::EVENT_COLUMNS;

/// The built-in rule files, embedded at compile time. A unit test checks
/// that every file in `src/detect/rules/` is listed here.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &include!("rules/index.rs");

/// Severity of a finding, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Moves the severity by `steps` levels, staying within info..=critical.
    pub fn shifted(self, steps: i32) -> Severity {
        let index = (self as i32 + steps).clamp(0, 4);
        [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ][index as usize]
    }

    /// Returns the lowercase name used in rules and output.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The tactic a rule belongs to; correlations over "persistence plus
/// evasion" select steps by tactic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tactic {
    Persistence,
    PrivilegeEscalation,
    CredentialAccess,
    DefenseEvasion,
    Exfiltration,
    Discovery,
    Correlation,
}

impl Tactic {
    /// Returns the kebab-case name used in rules.
    pub fn name(self) -> &'static str {
        match self {
            Tactic::Persistence => "persistence",
            Tactic::PrivilegeEscalation => "privilege-escalation",
            Tactic::CredentialAccess => "credential-access",
            Tactic::DefenseEvasion => "defense-evasion",
            Tactic::Exfiltration => "exfiltration",
            Tactic::Discovery => "discovery",
            Tactic::Correlation => "correlation",
        }
    }
}

/// A string or a list of strings in YAML.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// Returns the values as a list.
    pub fn values(&self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(value) => vec![value.clone()],
            OneOrMany::Many(values) => values.clone(),
        }
    }
}

/// One rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Catalog id, e.g. `P01`; unique across all loaded rules.
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    /// MITRE ATT&CK technique id, e.g. `T1136.003`.
    pub technique: String,
    pub tactic: Tactic,
    /// False for helper rules that only feed correlations.
    #[serde(default = "default_true")]
    pub report: bool,
    /// Event selection; required unless the rule is a correlation.
    #[serde(rename = "match", default)]
    pub matcher: Option<Match>,
    /// Count matching events per group before reporting.
    #[serde(default)]
    pub threshold: Option<Threshold>,
    /// Severity changes for matching events, applied in order.
    #[serde(default)]
    pub adjust: Vec<Adjustment>,
    /// A severity change for matching events that a given later event
    /// follows, such as a flow-log deletion followed by deleting its VPC.
    #[serde(default)]
    pub followed_by: Option<FollowUp>,
    #[serde(default)]
    pub correlation: Option<Correlation>,
    /// A built-in aggregate analysis over the whole store, for patterns that
    /// no single event shows.
    #[serde(default)]
    pub analysis: Option<Analysis>,
    /// File the rule came from (`builtin:P01.yaml` or a path); set on load.
    #[serde(skip)]
    pub origin: String,
}

fn default_true() -> bool {
    true
}

/// The event selection of a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// `eventSource` values, e.g. `iam.amazonaws.com`. May be left out only
    /// when `columns` narrows the events instead.
    #[serde(default)]
    pub event_source: OneOrMany,
    /// `eventName` values; a trailing `*` matches a prefix
    /// (`AddPermission*` for the versioned Lambda names).
    #[serde(default)]
    pub event_name: OneOrMany,
    /// `success`, `failure` or `any` (default): whether `errorCode` is set.
    #[serde(default)]
    pub outcome: Outcome,
    /// Further conditions on store columns, evaluated by polars.
    #[serde(default)]
    pub columns: Vec<ColumnCondition>,
    /// Conditions on JSON paths, evaluated on the rows the columns let through.
    #[serde(rename = "where", default)]
    pub conditions: Vec<JsonCondition>,
    /// JSON paths or columns that name the object acted on, first present wins.
    #[serde(default)]
    pub target: OneOrMany,
    /// Only calls on another user: the target user (`requestParameters.userName`,
    /// or `responseElements.accessKey.userName`) is set and is not the caller.
    #[serde(default)]
    pub other_user: bool,
}

/// Aggregate analyses a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Analysis {
    /// A long-term (AKIA) key used from a source IP it had not used before,
    /// after it had been used from another IP. Grouped by polars over every
    /// event of long-term keys in the window.
    NewSourceIpForLongTermKey,
}

/// Whether the call succeeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    #[default]
    Any,
    Success,
    Failure,
}

/// A condition on one store column. Exactly one test must be given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnCondition {
    pub column: String,
    #[serde(rename = "in", default)]
    pub one_of: OneOrMany,
    #[serde(default)]
    pub not_in: OneOrMany,
    #[serde(default)]
    pub prefix: OneOrMany,
    /// True when the value starts with none of these (or is null).
    #[serde(default)]
    pub not_prefix: OneOrMany,
    #[serde(default)]
    pub contains: OneOrMany,
    #[serde(default)]
    pub not_contains: OneOrMany,
    #[serde(default)]
    pub null: Option<bool>,
}

/// A condition on a JSON path inside the record. A path is dot-separated
/// from one of `requestParameters`, `responseElements`,
/// `additionalEventData`, `userIdentity`; `[]` after a name means "any
/// element of this list". The condition holds when any value at the path
/// passes (for `not_equals` and `exists: false`, when none does).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonCondition {
    pub path: String,
    #[serde(default)]
    pub equals: OneOrMany,
    #[serde(default)]
    pub not_equals: OneOrMany,
    #[serde(default)]
    pub contains: OneOrMany,
    #[serde(default)]
    pub prefix: OneOrMany,
    #[serde(default)]
    pub exists: Option<bool>,
    #[serde(default)]
    pub less_than: Option<f64>,
    #[serde(default)]
    pub greater_than: Option<f64>,
    /// A named analysis of the value, see [`ValueTest`].
    #[serde(default)]
    pub test: Option<ValueTest>,
}

/// Named analyses of a JSON value, backed by `detect::policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueTest {
    /// The AWS managed AdministratorAccess policy ARN, any partition.
    AdminPolicyArn,
    /// AdministratorAccess or IAMFullAccess.
    EscalationPolicyArn,
    /// A policy document that grants admin (or near-admin via NotAction).
    AdminDocument,
    /// A policy document that grants admin or an escalation action on `*`.
    EscalationDocument,
    /// A read-only policy document or managed policy.
    ReadOnlyPolicy,
    /// A trust or resource policy that lets in `*` or outside accounts.
    TrustOutsiders,
    /// Like `trust_outsiders`, with no ExternalId or organization condition.
    TrustUnconditioned,
    /// Outsiders are let in, limited by ExternalId or an organization condition.
    TrustConditioned,
    /// Principal `*` with no limiting condition.
    TrustPublic,
    /// An account id or ARN of an account outside the recipient account and
    /// the organization, or `*`.
    ForeignAccount,
    /// An ARN in an account outside the recipient account and the organization.
    ForeignArn,
    /// `0.0.0.0/0` or `::/0`.
    AnyAddress,
    /// A group name that says admin, or a group an earlier event in the
    /// store made administrator (a grant not taken away by then).
    AdminGroup,
}

/// A later event that changes a finding's severity when it follows the
/// finding's event within the window, with equal values in `same`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    #[serde(default)]
    pub event_source: OneOrMany,
    pub event_name: OneOrMany,
    pub within_minutes: i64,
    /// Columns whose values the two events share, e.g. `principal_arn`.
    #[serde(default)]
    pub same: Vec<String>,
    /// Event names of this rule the follow-up applies to; all when empty.
    #[serde(default)]
    pub only_for: OneOrMany,
    pub change: i32,
    pub reason: String,
}

/// A severity change for events that pass all `when` conditions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    #[serde(default)]
    pub when: Vec<JsonCondition>,
    #[serde(default)]
    pub columns: Vec<ColumnCondition>,
    /// Levels to add (negative to lower).
    pub change: i32,
    /// Why, shown in the finding's summary.
    pub reason: String,
}

/// Counting matched events: report a group once it reaches `min` events
/// (or `min` distinct values of `distinct`) within `window_minutes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Columns that form a group, e.g. `principal_arn`.
    pub group_by: Vec<String>,
    /// A JSON path or column whose distinct values are counted.
    #[serde(default)]
    pub distinct: Option<String>,
    pub min: usize,
    pub window_minutes: i64,
}

/// An ordered sequence of steps joined on a key within a time window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correlation {
    pub window_minutes: i64,
    /// When false, the steps may occur in any order within the window.
    #[serde(default = "default_true")]
    pub ordered: bool,
    pub steps: Vec<Step>,
}

/// One step of a correlation: a finding of one of `rules` (or of a rule of
/// one of `tactics`), with its join key taken from `key`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub tactics: Vec<Tactic>,
    pub key: JoinKey,
    /// Only successful calls count for this step.
    #[serde(default)]
    pub success_only: bool,
}

/// The value a correlation step joins on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinKey {
    /// The finding's target (user, role, group name).
    Target,
    /// The user name of the caller (`userIdentity.userName`).
    ActorUser,
    /// The caller's access key.
    AccessKey,
    /// The access key the event created.
    MintedKey,
    /// The long-term key at the root of the caller's lineage.
    LineageRoot,
}

/// Error for a rule that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read rule folder {path}: {reason}")]
    ReadDir {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("cannot read rule file {path}: {reason}")]
    ReadFile {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("invalid rule file {origin}: field `{field}`: {message}")]
    Invalid {
        origin: String,
        field: String,
        message: String,
    },
    #[error("duplicate rule id {id} in {origin} (first defined in {first})")]
    DuplicateId {
        id: String,
        origin: String,
        first: String,
    },
}

/// The pseudo rule id of "first use of a minted key", which correlation
/// steps may name: the engine finds those events with one polars query.
pub const KEY_USE_RULE_ID: &str = "key-use";

/// Column names a rule may test: the store's columns.
fn is_known_column(name: &str) -> bool {
    crate::record::COLUMN_NAMES.contains(&name)
}

/// JSON roots a path may start from.
pub const JSON_ROOTS: &[(&str, &str)] = &[
    ("requestParameters", "request_parameters"),
    ("responseElements", "response_elements"),
    ("additionalEventData", "additional_event_data"),
    ("userIdentity", "user_identity"),
];

/// Parses and validates one rule file's text.
pub fn parse_rule(origin: &str, text: &str) -> Result<Rule, RuleError> {
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    let mut rule: Rule = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let message = error.into_inner().to_string();
        // The YAML error repeats the path the message already names.
        let message = message
            .strip_prefix(&format!("{field}: "))
            .map_or(message.clone(), str::to_string);
        let field = match field.as_str() {
            "." => "(top level)".to_string(),
            "?" => "(YAML syntax)".to_string(),
            _ => field,
        };
        RuleError::Invalid {
            origin: origin.to_string(),
            field,
            message,
        }
    })?;
    rule.origin = origin.to_string();
    validate(&rule)?;
    Ok(rule)
}

fn invalid(rule: &Rule, field: &str, message: impl Into<String>) -> RuleError {
    RuleError::Invalid {
        origin: rule.origin.clone(),
        field: field.to_string(),
        message: message.into(),
    }
}

/// Checks what serde cannot: ids, column names, paths, one test per condition.
fn validate(rule: &Rule) -> Result<(), RuleError> {
    if rule.id.is_empty()
        || !rule
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(rule, "id", "must be letters, digits, `-` or `_`"));
    }
    if !rule.technique.starts_with('T') {
        return Err(invalid(
            rule,
            "technique",
            "must be a MITRE ATT&CK id such as T1098",
        ));
    }
    let kinds = [
        rule.matcher.is_some(),
        rule.correlation.is_some(),
        rule.analysis.is_some(),
    ];
    if kinds.iter().filter(|&&given| given).count() != 1 {
        return Err(invalid(
            rule,
            "match",
            "a rule needs exactly one of `match`, `correlation`, `analysis`",
        ));
    }
    if let Some(matcher) = &rule.matcher {
        if matcher.event_source.values().is_empty() && matcher.columns.is_empty() {
            return Err(invalid(
                rule,
                "match.event_source",
                "missing (required unless `columns` is given)",
            ));
        }
        for (index, condition) in matcher.columns.iter().enumerate() {
            validate_column(rule, &format!("match.columns[{index}]"), condition)?;
        }
        for (index, condition) in matcher.conditions.iter().enumerate() {
            validate_json(rule, &format!("match.where[{index}]"), condition)?;
        }
        for target in matcher.target.values() {
            if !is_known_column(&target) && json_root(&target).is_none() {
                return Err(invalid(
                    rule,
                    "match.target",
                    format!("unknown column or JSON root in `{target}`"),
                ));
            }
        }
    }
    for (index, adjustment) in rule.adjust.iter().enumerate() {
        if !(-4..=4).contains(&adjustment.change) {
            return Err(invalid(
                rule,
                &format!("adjust[{index}].change"),
                "must be between -4 and 4",
            ));
        }
        for (inner, condition) in adjustment.when.iter().enumerate() {
            validate_json(rule, &format!("adjust[{index}].when[{inner}]"), condition)?;
        }
        for (inner, condition) in adjustment.columns.iter().enumerate() {
            validate_column(
                rule,
                &format!("adjust[{index}].columns[{inner}]"),
                condition,
            )?;
        }
    }
    if let Some(follow_up) = &rule.followed_by {
        if rule.matcher.is_none() {
            return Err(invalid(rule, "followed_by", "needs `match`"));
        }
        if follow_up.event_name.values().is_empty() {
            return Err(invalid(rule, "followed_by.event_name", "missing"));
        }
        if follow_up.within_minutes <= 0 {
            return Err(invalid(
                rule,
                "followed_by.within_minutes",
                "must be at least 1",
            ));
        }
        if !(-4..=4).contains(&follow_up.change) {
            return Err(invalid(
                rule,
                "followed_by.change",
                "must be between -4 and 4",
            ));
        }
        // A finding keeps its first event's columns of the hunt's event set
        // only, so `same` is limited to those.
        if let Some(column) = follow_up
            .same
            .iter()
            .find(|column| !EVENT_COLUMNS[1..].contains(&column.as_str()))
        {
            return Err(invalid(
                rule,
                "followed_by.same",
                format!("`{column}` is not one of {}", EVENT_COLUMNS[1..].join(", ")),
            ));
        }
    }
    if let Some(threshold) = &rule.threshold {
        for column in &threshold.group_by {
            if !is_known_column(column) {
                return Err(invalid(
                    rule,
                    "threshold.group_by",
                    format!("unknown column `{column}`"),
                ));
            }
        }
        if threshold.min == 0 || threshold.window_minutes <= 0 {
            return Err(invalid(
                rule,
                "threshold",
                "`min` and `window_minutes` must be positive",
            ));
        }
    }
    if let Some(correlation) = &rule.correlation {
        if correlation.steps.len() < 2 {
            return Err(invalid(
                rule,
                "correlation.steps",
                "needs at least two steps",
            ));
        }
        if correlation.window_minutes <= 0 {
            return Err(invalid(
                rule,
                "correlation.window_minutes",
                "must be positive",
            ));
        }
        for (index, step) in correlation.steps.iter().enumerate() {
            if step.rules.is_empty() && step.tactics.is_empty() {
                return Err(invalid(
                    rule,
                    &format!("correlation.steps[{index}]"),
                    "needs `rules` or `tactics`",
                ));
            }
        }
    }
    Ok(())
}

fn validate_column(rule: &Rule, field: &str, condition: &ColumnCondition) -> Result<(), RuleError> {
    if !is_known_column(&condition.column) {
        return Err(invalid(
            rule,
            &format!("{field}.column"),
            format!("unknown column `{}`", condition.column),
        ));
    }
    let tests = [
        !condition.one_of.values().is_empty(),
        !condition.not_in.values().is_empty(),
        !condition.prefix.values().is_empty(),
        !condition.not_prefix.values().is_empty(),
        !condition.contains.values().is_empty(),
        !condition.not_contains.values().is_empty(),
        condition.null.is_some(),
    ];
    if tests.iter().filter(|&&given| given).count() != 1 {
        return Err(invalid(
            rule,
            field,
            "give exactly one of `in`, `not_in`, `prefix`, `not_prefix`, `contains`, `not_contains`, `null`",
        ));
    }
    Ok(())
}

fn validate_json(rule: &Rule, field: &str, condition: &JsonCondition) -> Result<(), RuleError> {
    if json_root(&condition.path).is_none() {
        let roots: Vec<&str> = JSON_ROOTS.iter().map(|(root, _)| *root).collect();
        return Err(invalid(
            rule,
            &format!("{field}.path"),
            format!(
                "`{}` must start with one of {}",
                condition.path,
                roots.join(", ")
            ),
        ));
    }
    let tests = [
        !condition.equals.values().is_empty(),
        !condition.not_equals.values().is_empty(),
        !condition.contains.values().is_empty(),
        !condition.prefix.values().is_empty(),
        condition.exists.is_some(),
        condition.less_than.is_some(),
        condition.greater_than.is_some(),
        condition.test.is_some(),
    ];
    if tests.iter().filter(|&&given| given).count() != 1 {
        return Err(invalid(
            rule,
            field,
            "give exactly one of `equals`, `not_equals`, `contains`, `prefix`, `exists`, `less_than`, `greater_than`, `test`",
        ));
    }
    Ok(())
}

/// Splits `requestParameters.a.b` into the store column and the rest of the path.
pub fn json_root(path: &str) -> Option<(&'static str, &str)> {
    let (root, rest) = path.split_once('.').unwrap_or((path, ""));
    let root = root.strip_suffix("[]").unwrap_or(root);
    JSON_ROOTS
        .iter()
        .find(|(name, _)| *name == root)
        .map(|(_, column)| (*column, rest))
}

/// The loaded rule set, in load order (built-in first).
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// Loads the built-in rules and, if given, every `.yaml`/`.yml` file in
    /// `user_dir` (not recursive). A user rule may not reuse a built-in id.
    pub fn load(user_dir: Option<&Path>) -> Result<RuleSet, RuleError> {
        let mut rules = Vec::new();
        for (name, text) in BUILTIN_RULE_FILES {
            rules.push(parse_rule(&format!("builtin:{name}"), text)?);
        }
        if let Some(dir) = user_dir {
            let entries = std::fs::read_dir(dir).map_err(|reason| RuleError::ReadDir {
                path: dir.to_path_buf(),
                reason,
            })?;
            let mut paths = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|reason| RuleError::ReadDir {
                    path: dir.to_path_buf(),
                    reason,
                })?;
                let path = entry.path();
                let is_yaml = path
                    .extension()
                    .is_some_and(|extension| extension == "yaml" || extension == "yml");
                if is_yaml && path.is_file() {
                    paths.push(path);
                }
            }
            paths.sort();
            for path in paths {
                let text =
                    std::fs::read_to_string(&path).map_err(|reason| RuleError::ReadFile {
                        path: path.clone(),
                        reason,
                    })?;
                rules.push(parse_rule(&path.display().to_string(), &text)?);
            }
        }
        let set = RuleSet { rules };
        set.check_references()?;
        Ok(set)
    }

    /// Checks unique ids and that correlation steps name loaded rules.
    fn check_references(&self) -> Result<(), RuleError> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for rule in &self.rules {
            if let Some((_, first)) = seen.iter().find(|(id, _)| *id == rule.id) {
                return Err(RuleError::DuplicateId {
                    id: rule.id.clone(),
                    origin: rule.origin.clone(),
                    first: first.to_string(),
                });
            }
            seen.push((&rule.id, &rule.origin));
        }
        let ids: BTreeSet<&str> = self.rules.iter().map(|rule| rule.id.as_str()).collect();
        for rule in &self.rules {
            let Some(correlation) = &rule.correlation else {
                continue;
            };
            for (index, step) in correlation.steps.iter().enumerate() {
                for id in &step.rules {
                    // Correlations join the findings of other rules only, so
                    // one naming itself would never match.
                    if *id == rule.id {
                        return Err(invalid(
                            rule,
                            &format!("correlation.steps[{index}].rules"),
                            "a correlation cannot name itself",
                        ));
                    }
                    if !ids.contains(id.as_str()) && id != KEY_USE_RULE_ID {
                        return Err(invalid(
                            rule,
                            &format!("correlation.steps[{index}].rules"),
                            format!("unknown rule id `{id}`"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Finds a rule by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

#[cfg(test)]
mod tests;
