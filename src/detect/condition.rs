//! Evaluation of rule conditions: column conditions become polars
//! expressions, JSON-path conditions run on the parsed blobs of the rows
//! those expressions let through.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;
use serde_json::Value;

use super::custom_policies::PowerfulPolicy;
use super::event::Event;
use super::policy::{self, PolicyDocument, TrustExposure};
use super::rule::{ColumnCondition, JsonCondition, Match, Outcome, ValueTest, json_root};

/// Accounts that count as "inside": the organization's accounts, from
/// `--org-accounts` or the accounts seen in the store.
#[derive(Debug, Clone, Default)]
pub struct OrgContext {
    pub accounts: BTreeSet<String>,
    /// Customer managed policies the store shows granting administrator or
    /// escalation rights, by ARN.
    pub powerful_policies: HashMap<String, PowerfulPolicy>,
    /// Administrator grants to groups, by (account, group name in lower
    /// case, since IAM names ignore case).
    pub admin_groups: HashMap<(String, String), Vec<GrantSpan>>,
}

/// When an administrator grant began and, if a later event took it away,
/// when it ended (UTC microseconds).
pub type GrantSpan = (i64, Option<i64>);

impl OrgContext {
    /// True when a grant made `group` of `account` an administrator group at
    /// `time`.
    fn group_is_admin_at(&self, account: Option<&str>, group: &str, time: i64) -> bool {
        let Some(account) = account else {
            return false;
        };
        self.admin_groups
            .get(&(account.to_string(), group.to_lowercase()))
            .is_some_and(|grants| {
                grants
                    .iter()
                    .any(|&(start, end)| start <= time && end.is_none_or(|end| end > time))
            })
    }
}

/// Builds the polars predicate of a rule's column part: event source,
/// event name, outcome and column conditions.
pub fn match_expression(matcher: &Match) -> Expr {
    let sources = matcher.event_source.values();
    let mut expr = if sources.is_empty() {
        lit(true)
    } else {
        is_in_strings("event_source", &sources)
    };
    let names = matcher.event_name.values();
    if !names.is_empty() {
        let exact: Vec<String> = names
            .iter()
            .filter(|name| !name.ends_with('*'))
            .cloned()
            .collect();
        let mut name_expr = if exact.is_empty() {
            lit(false)
        } else {
            is_in_strings("event_name", &exact)
        };
        for name in names.iter().filter(|name| name.ends_with('*')) {
            let prefix = name.trim_end_matches('*').to_string();
            name_expr = name_expr.or(col("event_name").str().starts_with(lit(prefix)));
        }
        expr = expr.and(name_expr);
    }
    match matcher.outcome {
        Outcome::Any => {}
        Outcome::Success => expr = expr.and(col("error_code").is_null()),
        Outcome::Failure => expr = expr.and(col("error_code").is_not_null()),
    }
    for condition in &matcher.columns {
        expr = expr.and(column_expression(condition));
    }
    expr
}

/// Builds the polars predicate of one column condition. Boolean and time
/// columns are compared as text (`true`, `false`).
pub fn column_expression(condition: &ColumnCondition) -> Expr {
    let column = || col(condition.column.as_str()).cast(DataType::String);
    if let Some(null) = condition.null {
        return if null {
            column().is_null()
        } else {
            column().is_not_null()
        };
    }
    let one_of = condition.one_of.values();
    if !one_of.is_empty() {
        return column()
            .is_in(
                lit(Series::new("values".into(), one_of)).implode(false),
                false,
            )
            .fill_null(false);
    }
    let not_in = condition.not_in.values();
    if !not_in.is_empty() {
        return column()
            .is_in(
                lit(Series::new("values".into(), not_in)).implode(false),
                false,
            )
            .not()
            .fill_null(true);
    }
    let prefixes = condition.prefix.values();
    if !prefixes.is_empty() {
        return any_of(
            prefixes
                .into_iter()
                .map(|prefix| column().str().starts_with(lit(prefix))),
        );
    }
    let not_prefixes = condition.not_prefix.values();
    if !not_prefixes.is_empty() {
        return any_of(
            not_prefixes
                .into_iter()
                .map(|prefix| column().str().starts_with(lit(prefix))),
        )
        .not();
    }
    let excluded = condition.not_contains.values();
    if !excluded.is_empty() {
        let any_excluded = any_of(
            excluded
                .into_iter()
                .map(|needle| column().str().contains_literal(lit(needle))),
        );
        return any_excluded.not();
    }
    let needles = condition.contains.values();
    any_of(
        needles
            .into_iter()
            .map(|needle| column().str().contains_literal(lit(needle))),
    )
}

fn any_of(exprs: impl Iterator<Item = Expr>) -> Expr {
    exprs
        .map(|expr| expr.fill_null(false))
        .reduce(|all, next| all.or(next))
        .unwrap_or(lit(false))
}

fn is_in_strings(column: &str, values: &[String]) -> Expr {
    col(column)
        .is_in(
            lit(Series::new("values".into(), values.to_vec())).implode(false),
            false,
        )
        .fill_null(false)
}

/// Evaluates a column condition on one event in Rust, for severity
/// adjustments, which run on few rows.
pub fn column_holds(condition: &ColumnCondition, event: &Event) -> bool {
    let value = event.column_text(&condition.column);
    if let Some(null) = condition.null {
        return value.is_none() == null;
    }
    let one_of = condition.one_of.values();
    if !one_of.is_empty() {
        return value.is_some_and(|value| one_of.iter().any(|candidate| *candidate == value));
    }
    let not_in = condition.not_in.values();
    if !not_in.is_empty() {
        return value.is_none_or(|value| !not_in.iter().any(|candidate| *candidate == value));
    }
    let prefixes = condition.prefix.values();
    if !prefixes.is_empty() {
        return value.is_some_and(|value| {
            prefixes
                .iter()
                .any(|prefix| value.starts_with(prefix.as_str()))
        });
    }
    let not_prefixes = condition.not_prefix.values();
    if !not_prefixes.is_empty() {
        return value.is_none_or(|value| {
            !not_prefixes
                .iter()
                .any(|prefix| value.starts_with(prefix.as_str()))
        });
    }
    let excluded = condition.not_contains.values();
    if !excluded.is_empty() {
        return value.is_none_or(|value| {
            !excluded
                .iter()
                .any(|needle| value.contains(needle.as_str()))
        });
    }
    let needles = condition.contains.values();
    value.is_some_and(|value| needles.iter().any(|needle| value.contains(needle.as_str())))
}

/// Returns the values at a dot path (`a.b[].c`) below `root`. `[]` after a
/// name walks every element of a list; a list met without `[]` is walked too,
/// since CloudTrail turns one-element lists into objects and back.
pub fn values_at<'a>(root: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![root];
    if path.is_empty() {
        return current;
    }
    for segment in path.split('.') {
        let name = segment.strip_suffix("[]").unwrap_or(segment);
        let mut next = Vec::new();
        for value in current {
            let children: Vec<&Value> = match value {
                Value::Array(items) => items.iter().filter_map(|item| item.get(name)).collect(),
                other => other.get(name).into_iter().collect(),
            };
            for child in children {
                match child {
                    Value::Array(items) if segment.ends_with("[]") => next.extend(items.iter()),
                    other => next.push(other),
                }
            }
        }
        current = next;
    }
    current
}

/// Returns the text form of a JSON value: strings as they are, other
/// values as JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Evaluates one JSON-path condition on an event.
pub fn json_holds(condition: &JsonCondition, event: &Event, org: &OrgContext) -> bool {
    let Some((column, rest)) = json_root(&condition.path) else {
        return false;
    };
    let Some(root) = event.json(column) else {
        return condition.exists == Some(false) || !condition.not_equals.values().is_empty();
    };
    let values = values_at(root, rest);

    if let Some(exists) = condition.exists {
        let present = values.iter().any(|value| !value.is_null());
        return present == exists;
    }
    let not_equals = condition.not_equals.values();
    if !not_equals.is_empty() {
        return !values
            .iter()
            .any(|value| not_equals.contains(&value_text(value)));
    }
    values
        .iter()
        .any(|value| value_passes(condition, value, event, org))
}

fn value_passes(condition: &JsonCondition, value: &Value, event: &Event, org: &OrgContext) -> bool {
    let text = value_text(value);
    let equals = condition.equals.values();
    if !equals.is_empty() {
        return equals.contains(&text);
    }
    let needles = condition.contains.values();
    if !needles.is_empty() {
        return needles.iter().any(|needle| text.contains(needle.as_str()));
    }
    let prefixes = condition.prefix.values();
    if !prefixes.is_empty() {
        return prefixes
            .iter()
            .any(|prefix| text.starts_with(prefix.as_str()));
    }
    let number = || value.as_f64().or_else(|| text.parse::<f64>().ok());
    if let Some(limit) = condition.less_than {
        return number().is_some_and(|number| number < limit);
    }
    if let Some(limit) = condition.greater_than {
        return number().is_some_and(|number| number > limit);
    }
    match condition.test {
        Some(test) => value_test(test, value, &text, event, org),
        None => false,
    }
}

fn value_test(test: ValueTest, value: &Value, text: &str, event: &Event, org: &OrgContext) -> bool {
    let owner = event.recipient_account_id.as_deref();
    let document = || PolicyDocument::from_value(value).ok();
    let trust =
        || document().map(|document| policy::analyze_trust(&document, owner, &org.accounts));
    match test {
        ValueTest::AdminPolicyArn => {
            policy::is_admin_policy_arn(text)
                || org
                    .powerful_policies
                    .get(text)
                    .is_some_and(|known| known.admin && known.since <= event.event_time)
        }
        ValueTest::EscalationPolicyArn => {
            policy::is_escalation_policy_arn(text)
                || org
                    .powerful_policies
                    .get(text)
                    .is_some_and(|known| known.since <= event.event_time)
        }
        ValueTest::AdminDocument => document().is_some_and(|document| document.is_near_admin()),
        ValueTest::EscalationDocument => {
            document().is_some_and(|document| document.grants_escalation())
        }
        ValueTest::ReadOnlyPolicy => {
            policy::is_read_only_policy_arn(text)
                || document().is_some_and(|document| document.is_read_only())
        }
        ValueTest::TrustOutsiders => trust().is_some_and(|trust| trust.lets_outsiders_in()),
        ValueTest::TrustUnconditioned => trust().is_some_and(|trust| {
            matches!(
                trust.exposure(),
                TrustExposure::External | TrustExposure::Public
            )
        }),
        ValueTest::TrustConditioned => trust().is_some_and(|trust| {
            matches!(
                trust.exposure(),
                TrustExposure::OrgLimited | TrustExposure::ExternalWithExternalId
            )
        }),
        ValueTest::TrustPublic => {
            trust().is_some_and(|trust| trust.exposure() == TrustExposure::Public)
        }
        ValueTest::ForeignAccount => {
            text == "*" || is_foreign(policy::principal_account(text), owner, org)
        }
        ValueTest::ForeignArn => {
            text.starts_with("arn:") && is_foreign(policy::principal_account(text), owner, org)
        }
        ValueTest::AnyAddress => text == "0.0.0.0/0" || text == "::/0",
        ValueTest::AdminGroup => {
            text.to_ascii_lowercase().contains("admin")
                || org.group_is_admin_at(owner, text, event.event_time)
        }
    }
}

fn is_foreign(account: Option<&str>, owner: Option<&str>, org: &OrgContext) -> bool {
    account.is_some_and(|account| Some(account) != owner && !org.accounts.contains(account))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_at_walks_lists() {
        let value = json!({"ipPermissions": {"items": [
            {"ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}, {"cidrIp": "0.0.0.0/0"}]}},
            {"ipRanges": {"items": [{"cidrIp": "1.2.3.4/32"}]}}
        ]}});
        let found = values_at(&value, "ipPermissions.items[].ipRanges.items[].cidrIp");
        let texts: Vec<String> = found.into_iter().map(value_text).collect();
        assert_eq!(texts, ["10.0.0.0/8", "0.0.0.0/0", "1.2.3.4/32"]);
    }

    #[test]
    fn values_at_missing_path_is_empty() {
        let value = json!({"a": {"b": 1}});
        assert!(values_at(&value, "a.c").is_empty());
        assert!(values_at(&value, "x.y.z").is_empty());
        assert_eq!(values_at(&value, "a.b"), [&json!(1)]);
    }
}
