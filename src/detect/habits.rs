//! What each principal and each long-term key usually does, read from the
//! store, so the severity model can tell a principal's routine from a
//! first-time move.
//!
//! A *client* is a user agent with its version numbers and per-call tokens
//! removed: `aws-cli/2.17.18 … os/linux#6.5.0-1025-azure … md/command#s3.ls`
//! and `aws-cli/2.22.4 … os/linux#6.5.0-1025-azure` are the same client, while
//! the same CLI on another operating system, or with `md/distrib#kali`, is
//! another. A *principal* is an IAM user, root, a role (every session of a
//! role shares its habits, since Lambda, EC2 and ECS sessions are named per
//! function, instance or task), an Identity Center session (per person), or
//! an outside principal's id (`AROA…:session`, unique across accounts).

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use super::event::Event;
use super::finding::Finding;
use crate::query::{text_values, time_values};

/// User-agent tokens that change from call to call of the same tool.
const PER_CALL_TOKENS: &[&str] = &["api/", "md/command#", "m/"];

/// Microseconds in an hour, the unit habits are counted in.
const HOUR: i64 = 3_600_000_000;

/// Distinct earlier hours in which a principal must have made the same call
/// with the same client for the call to count as its usual one.
pub const USUAL_MIN_HOURS: usize = 2;

/// Returns the client a user agent names: its tokens without the per-call
/// ones, with every digit removed.
pub fn client_of(user_agent: &str) -> String {
    user_agent
        .split_whitespace()
        .filter(|token| {
            !PER_CALL_TOKENS
                .iter()
                .any(|prefix| token.starts_with(prefix))
        })
        .map(|token| {
            token
                .chars()
                .filter(|character| !character.is_ascii_digit())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whose habits an event counts toward: see the module header.
pub fn principal_key(event: &Event) -> Option<String> {
    let arn = event.column_text("principal_arn");
    if event.column_text("identity_type") == Some("AssumedRole")
        && !arn.is_some_and(|arn| arn.contains(":assumed-role/AWSReservedSSO_"))
        && let Some(role) = event.column_text("session_issuer_arn")
    {
        return Some(role.to_string());
    }
    if let Some(arn) = arn {
        return Some(arn.to_string());
    }
    event.text("principal_id")
}

/// The polars form of [`principal_key`], for the store scan.
fn principal_key_expr() -> Expr {
    let per_role = col("identity_type")
        .eq(lit("AssumedRole"))
        .and(
            col("principal_arn")
                .str()
                .contains_literal(lit(":assumed-role/AWSReservedSSO_"))
                .fill_null(false)
                .not(),
        )
        .and(col("session_issuer_arn").is_not_null());
    when(per_role)
        .then(col("session_issuer_arn"))
        .otherwise(coalesce(&[col("principal_arn"), col("principal_id")]))
        .alias("principal_key")
}

/// Earlier behaviour of the principals and keys that findings name.
#[derive(Debug, Default)]
pub struct Habits {
    /// (principal, event name, client) → the distinct hours of successful
    /// calls, ascending.
    call_hours: HashMap<(String, String, String), Vec<i64>>,
    /// (principal, client) → the principal's first use of the client.
    principal_clients: HashMap<(String, String), i64>,
    /// Principal → its first event.
    principal_first: HashMap<String, i64>,
    /// (long-term key, client) → the key's first use of the client.
    key_clients: HashMap<(String, String), i64>,
}

impl Habits {
    /// Reads the history the findings need with three filtered group-bys
    /// over `scan`. They give the hours of each finding's call by its
    /// principal, the clients of principals whose finding came from an IaC or
    /// CI tool, and the clients of long-term keys.
    pub fn load(scan: LazyFrame, findings: &[Finding]) -> PolarsResult<Habits> {
        let calls: BTreeSet<(&str, &str)> = findings
            .iter()
            .filter_map(|finding| {
                Some((
                    finding.principal_key.as_deref()?,
                    finding.event_name.as_deref()?,
                ))
            })
            .collect();
        let automated: BTreeSet<&str> = findings
            .iter()
            .filter(|finding| finding.automation_tool)
            .filter_map(|finding| finding.principal_key.as_deref())
            .collect();
        let keys: BTreeSet<&str> = findings
            .iter()
            .filter_map(|finding| finding.access_key_id.as_deref())
            .filter(|key| key.starts_with("AKIA"))
            .collect();
        let mut habits = Habits::default();
        if !calls.is_empty() {
            habits.read_call_hours(scan.clone(), &calls)?;
        }
        if !automated.is_empty() {
            habits.read_principal_clients(principal_rows(scan.clone(), &automated))?;
        }
        if !keys.is_empty() {
            habits.read_key_clients(scan.filter(one_of("access_key_id", &keys)))?;
        }
        Ok(habits)
    }

    fn read_call_hours(
        &mut self,
        scan: LazyFrame,
        calls: &BTreeSet<(&str, &str)>,
    ) -> PolarsResult<()> {
        let names: BTreeSet<&str> = calls.iter().map(|(_, name)| *name).collect();
        let principals: BTreeSet<&str> = calls.iter().map(|(principal, _)| *principal).collect();

        // The event-name filter is cheap and leaves few rows, so it runs first.
        let scan = scan.filter(one_of("event_name", &names).and(col("error_code").is_null()));
        let frame = principal_rows(scan, &principals)
            .select([
                col("principal_key"),
                col("event_name"),
                col("user_agent"),
                col("event_time").dt().truncate(lit("1h")).alias("hour"),
            ])
            .unique(None, UniqueKeepStrategy::First)
            .collect()?;
        let principal_column = text_values(&frame, "principal_key")?;
        let names = text_values(&frame, "event_name")?;
        let agents = text_values(&frame, "user_agent")?;
        let hours = time_values(&frame, "hour")?;
        let mut clients: HashMap<&str, String> = HashMap::new();
        for row in 0..frame.height() {
            let (Some(principal), Some(name), Some(hour)) = (
                principal_column[row].as_deref(),
                names[row].as_deref(),
                hours[row],
            ) else {
                continue;
            };
            if !calls.contains(&(principal, name)) {
                continue;
            }
            let agent = agents[row].as_deref().unwrap_or("");
            let client = clients
                .entry(agent)
                .or_insert_with(|| client_of(agent))
                .clone();
            self.call_hours
                .entry((principal.to_string(), name.to_string(), client))
                .or_default()
                .push(hour / HOUR);
        }
        for hours in self.call_hours.values_mut() {
            hours.sort_unstable();
            hours.dedup();
        }
        Ok(())
    }

    fn read_principal_clients(&mut self, scan: LazyFrame) -> PolarsResult<()> {
        for (principal, client, first) in first_client_uses(scan, "principal_key")? {
            keep_earliest(&mut self.principal_first, principal.clone(), first);
            keep_earliest(&mut self.principal_clients, (principal, client), first);
        }
        Ok(())
    }

    fn read_key_clients(&mut self, scan: LazyFrame) -> PolarsResult<()> {
        for (key, client, first) in first_client_uses(scan, "access_key_id")? {
            keep_earliest(&mut self.key_clients, (key, client), first);
        }
        Ok(())
    }

    /// Counts the distinct hours before `time`'s hour in which `principal`
    /// made the call `event_name` with `client` and it succeeded.
    pub fn earlier_call_hours(
        &self,
        principal: &str,
        event_name: &str,
        client: &str,
        time: i64,
    ) -> usize {
        let key = (
            principal.to_string(),
            event_name.to_string(),
            client.to_string(),
        );
        self.call_hours
            .get(&key)
            .map_or(0, |hours| hours.partition_point(|&hour| hour < time / HOUR))
    }

    /// True when `principal` used `client` before `time`, or had no event at
    /// all before `time`, so no history contradicts the client. Only
    /// principals of findings from IaC or CI tools are loaded.
    pub fn client_is_usual(&self, principal: &str, client: &str, time: i64) -> bool {
        let no_history = self
            .principal_first
            .get(principal)
            .is_none_or(|&first| first >= time);
        let used_before = self
            .principal_clients
            .get(&(principal.to_string(), client.to_string()))
            .is_some_and(|&first| first < time);
        no_history || used_before
    }

    /// True when the long-term key had used `client` before `time`.
    pub fn key_used_client_before(&self, key: &str, client: &str, time: i64) -> bool {
        self.key_clients
            .get(&(key.to_string(), client.to_string()))
            .is_some_and(|&first| first < time)
    }
}

/// Returns, per value of `column` and client, the first use, from a
/// group-by on the column and the user agent.
fn first_client_uses(scan: LazyFrame, column: &str) -> PolarsResult<Vec<(String, String, i64)>> {
    let frame = scan
        .group_by([col(column), col("user_agent")])
        .agg([col("event_time").min().alias("first")])
        .collect()?;
    let values = text_values(&frame, column)?;
    let agents = text_values(&frame, "user_agent")?;
    let firsts = time_values(&frame, "first")?;
    let mut uses = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        if let (Some(value), Some(first)) = (values[row].clone(), firsts[row]) {
            let client = client_of(agents[row].as_deref().unwrap_or(""));
            uses.push((value, client, first));
        }
    }
    Ok(uses)
}

/// Keeps the rows of `principals`, with their key in a `principal_key`
/// column. A cheap test on the three source columns runs before the key is
/// computed, so only candidate rows pay for it.
fn principal_rows(scan: LazyFrame, principals: &BTreeSet<&str>) -> LazyFrame {
    let candidate = one_of("session_issuer_arn", principals)
        .or(one_of("principal_arn", principals))
        .or(one_of("principal_id", principals));
    scan.filter(candidate)
        .with_column(principal_key_expr())
        .filter(one_of("principal_key", principals))
}

fn one_of(column: &str, values: &BTreeSet<&str>) -> Expr {
    let values = Series::new(
        "values".into(),
        values
            .iter()
            .map(|value| value.to_string())
            .collect::<Vec<_>>(),
    );
    col(column)
        .is_in(lit(values).implode(false), false)
        .fill_null(false)
}

fn keep_earliest<K: std::hash::Hash + Eq>(map: &mut HashMap<K, i64>, key: K, time: i64) {
    map.entry(key)
        .and_modify(|first| *first = (*first).min(time))
        .or_insert(time);
}

#[cfg(test)]
mod tests {
    use super::client_of;

    #[test]
    fn client_ignores_versions_and_call_tokens() {
        let older = "aws-cli/2.17.18 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1025-azure md/arch#x86_64 md/command#s3.ls";
        let newer = "aws-cli/2.22.4 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1025-azure md/arch#x86_64 md/command#iam.list-users";
        assert_eq!(client_of(older), client_of(newer));
    }

    #[test]
    fn client_differs_by_system_and_distribution() {
        let runner = "aws-cli/2.17.18 ua/2.0 os/linux#6.5.0-1025-azure md/prompt#off";
        let laptop = "aws-cli/2.17.18 ua/2.0 os/macos#23.6.0 md/prompt#off";
        let kali = "aws-cli/2.15.30 ua/2.0 os/linux#6.6.9-amd64 md/distrib#kali.2024 md/prompt#off";
        assert_ne!(client_of(runner), client_of(laptop));
        assert_ne!(client_of(runner), client_of(kali));
    }

    #[test]
    fn client_drops_sdk_feature_tokens() {
        assert_eq!(
            client_of("aws-sdk-go-v2/1.30.4 api/iam#1.34.3 m/E,b"),
            "aws-sdk-go-v/.."
        );
    }
}
