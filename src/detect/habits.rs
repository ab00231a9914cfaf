//! The earlier behaviour of each principal, read from the store, so the
//! severity model can tell a principal's routine from a first-time move.
//!
//! A *client* is a user agent with its version numbers and per-call tokens
//! removed: `aws-cli/2.17.18 … os/linux#6.5.0-1025-azure … md/command#s3.ls`
//! and `aws-cli/2.22.4 … os/linux#6.5.0-1025-azure` are the same client, while
//! the same CLI on another operating system, or with `md/distrib#kali`, is
//! another.
//!
//! A *principal* is an IAM user, root, or a role. Every session of a role
//! shares its habits, since Lambda, EC2 and ECS name sessions per function,
//! instance or task. An Identity Center session is its own principal (one
//! person). An outside caller is its principal id without the session name
//! it chose (`AROA…`, unique across accounts).
//!
//! A client is *trusted* for a principal when the principal used it in the
//! store's first [`ESTABLISHED`] (the baseline), or has used it for
//! [`ESTABLISHED`] since, in several distinct hours. Findings count as usual
//! when the same kind came before, spread over distinct hours. So an
//! intruder's own first calls make neither their client nor their moves
//! usual.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use super::event::Event;
use super::finding::Finding;
use crate::query::{is_one_of, successful_calls, text_values, time_values};

/// User-agent tokens that change from call to call of the same tool.
const PER_CALL_TOKENS: &[&str] = &["api/", "md/command#", "m/"];

/// Microseconds in an hour.
const HOUR: i64 = 3_600_000_000;

/// How long before an event a client must have been in use to be part of
/// its principal's or key's history: people move between home, office,
/// laptop and build hosts in a working day.
pub const ESTABLISHED: i64 = 12 * HOUR;

/// Earlier findings, at least an hour apart, that make a finding usual.
pub const USUAL_MIN_HOURS: usize = 2;

/// Distinct earlier hours of use that, with [`ESTABLISHED`] of age, make a
/// client adopted after the baseline trusted: one call long ago is not a
/// habit.
pub const TRUSTED_MIN_HOURS: usize = 3;

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
    event
        .column_text("principal_id")
        .map(|id| id.split(':').next().unwrap_or(id).to_string())
}

/// Computes [`principal_key`] as a polars expression, for the store scan.
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
        .otherwise(coalesce(&[
            col("principal_arn"),
            col("principal_id")
                .str()
                .replace(lit(":.*$"), lit(""), false),
        ]))
        .alias("principal_key")
}

/// Earlier behaviour of the principals that findings name.
#[derive(Debug, Default)]
pub struct Habits {
    /// The store's first event: its first [`ESTABLISHED`] is the baseline.
    store_start: i64,
    /// Principal → its clients, each with the distinct hours it was used in,
    /// ascending.
    principal_clients: HashMap<String, HashMap<String, Vec<i64>>>,
    /// IAM users and roles created in the store: (account, `user/NAME` or
    /// `role/NAME`) → the creation time.
    created: HashMap<(String, String), i64>,
}

impl Habits {
    /// Reads the history the findings need with three filtered scans of
    /// `scan`: the store's first event, the hours each client of a named
    /// principal was used in, and the users and roles created in the store.
    /// The principals are those of findings from IaC or CI tools and of the
    /// long-term keys' new addresses (`new_ip_principals`).
    pub fn load(
        scan: LazyFrame,
        findings: &[Finding],
        new_ip_principals: &[&str],
    ) -> PolarsResult<Habits> {
        let mut principals: BTreeSet<&str> = findings
            .iter()
            .filter(|finding| finding.automation_tool)
            .filter_map(|finding| finding.principal_key.as_deref())
            .collect();
        principals.extend(new_ip_principals.iter().copied());
        let mut habits = Habits::default();
        let start = scan
            .clone()
            .select([col("event_time").min().alias("start")])
            .collect()?;
        habits.store_start = time_values(&start, "start")?
            .first()
            .copied()
            .flatten()
            .unwrap_or(0);
        habits.read_created(scan.clone())?;
        if !principals.is_empty() {
            habits.read_principal_clients(principal_rows(scan, &principals))?;
        }
        Ok(habits)
    }

    fn read_principal_clients(&mut self, scan: LazyFrame) -> PolarsResult<()> {
        let frame = scan
            .select([
                col("principal_key"),
                col("user_agent"),
                col("event_time").dt().truncate(lit("1h")).alias("hour"),
            ])
            .unique(None, UniqueKeepStrategy::First)
            .collect()?;
        let principals = text_values(&frame, "principal_key")?;
        let agents = text_values(&frame, "user_agent")?;
        let hours = time_values(&frame, "hour")?;
        let mut clients: HashMap<String, String> = HashMap::new();
        for row in 0..frame.height() {
            let (Some(principal), Some(hour)) = (principals[row].clone(), hours[row]) else {
                continue;
            };
            let agent = agents[row].clone().unwrap_or_default();
            let client = clients
                .entry(agent)
                .or_insert_with_key(|agent| client_of(agent))
                .clone();
            self.principal_clients
                .entry(principal)
                .or_default()
                .entry(client)
                .or_default()
                .push(hour / HOUR);
        }
        for hours in self
            .principal_clients
            .values_mut()
            .flat_map(HashMap::values_mut)
        {
            hours.sort_unstable();
            hours.dedup();
        }
        Ok(())
    }

    fn read_created(&mut self, scan: LazyFrame) -> PolarsResult<()> {
        let calls = ["CreateUser", "CreateRole"];
        let frame = successful_calls(scan, "iam.amazonaws.com", &calls)
            .select([
                col("event_time"),
                col("recipient_account_id"),
                col("target_user_name"),
                col("target_role_name"),
            ])
            .collect()?;
        let times = time_values(&frame, "event_time")?;
        let accounts = text_values(&frame, "recipient_account_id")?;
        let users = text_values(&frame, "target_user_name")?;
        let roles = text_values(&frame, "target_role_name")?;
        for row in 0..frame.height() {
            let name = match (&users[row], &roles[row]) {
                (Some(user), _) => format!("user/{user}"),
                (None, Some(role)) => format!("role/{role}"),
                (None, None) => continue,
            };
            if let (Some(account), Some(time)) = (accounts[row].clone(), times[row]) {
                let first = self.created.entry((account, name)).or_insert(time);
                *first = (*first).min(time);
            }
        }
        Ok(())
    }

    /// True when `client` is trusted for `principal` at `time`. It is when
    /// the principal used it in the store's first [`ESTABLISHED`] (the
    /// baseline), unless a `CreateUser` or `CreateRole` in the store made
    /// the principal. It is also when the client was first used
    /// [`ESTABLISHED`] or more before `time` and in [`TRUSTED_MIN_HOURS`]
    /// distinct earlier hours.
    pub fn client_trusted(&self, principal: &str, client: &str, time: i64) -> bool {
        let Some(hours) = self
            .principal_clients
            .get(principal)
            .and_then(|clients| clients.get(client))
        else {
            return false;
        };
        let Some(&adopted) = hours.first() else {
            return false;
        };
        let adopted = adopted * HOUR;
        if adopted > time {
            return false;
        }
        let in_baseline =
            adopted < self.store_start + ESTABLISHED && !self.created_in_store(principal);
        let earlier_hours = hours.partition_point(|&hour| hour < time / HOUR);
        in_baseline || (adopted <= time - ESTABLISHED && earlier_hours >= TRUSTED_MIN_HOURS)
    }

    /// True when a `CreateUser` or `CreateRole` in the store made the IAM
    /// user or role `principal` (an ARN).
    fn created_in_store(&self, principal: &str) -> bool {
        let parts: Vec<&str> = principal.splitn(6, ':').collect();
        let [_, _, "iam", _, account, resource] = parts[..] else {
            return false;
        };
        let (kind, path) = resource.split_once('/').unwrap_or((resource, ""));
        let name = path.rsplit('/').next().unwrap_or(path);
        self.created
            .contains_key(&(account.to_string(), format!("{kind}/{name}")))
    }
}

/// Counts, for each finding, the earlier successful findings of the same
/// rule by the same principal with the same client, at least as severe.
/// They are taken oldest first, each only when at least an hour after the
/// last one counted, so calls bunched in a few minutes count once.
pub fn usual_counts(findings: &[Finding]) -> Vec<usize> {
    let mut groups: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (index, finding) in findings.iter().enumerate() {
        if let (Some(principal), Some(client)) = (&finding.principal_key, &finding.client) {
            groups
                .entry((
                    finding.rule_id.as_str(),
                    principal.as_str(),
                    client.as_str(),
                ))
                .or_default()
                .push(index);
        }
    }
    let mut counts = vec![0; findings.len()];
    for indexes in groups.values_mut() {
        indexes.sort_by_key(|&index| findings[index].first_event_time);
        // One greedy count per severity level: a finding is judged only
        // against earlier findings at least as severe as itself, so milder
        // variants of the same rule do not make it usual.
        let mut counted = [0usize; 5];
        let mut last_counted: [Option<i64>; 5] = [None; 5];
        let mut next = 0;
        for &index in indexes.iter() {
            let time = findings[index].first_event_time;
            // Take in every earlier finding before judging this one.
            while next < indexes.len() && findings[indexes[next]].first_event_time < time {
                let earlier = &findings[indexes[next]];
                next += 1;
                if earlier.failed {
                    continue;
                }
                for level in 0..=earlier.severity as usize {
                    let spread = last_counted[level]
                        .is_none_or(|last| earlier.first_event_time >= last + HOUR);
                    if spread {
                        counted[level] += 1;
                        last_counted[level] = Some(earlier.first_event_time);
                    }
                }
            }
            counts[index] = counted[findings[index].severity as usize];
        }
    }
    counts
}

/// Keeps the rows of `principals`, with their key in a `principal_key`
/// column. A cheap test on the source columns runs before the key is
/// computed, so only candidate rows pay for it.
fn principal_rows(scan: LazyFrame, principals: &BTreeSet<&str>) -> LazyFrame {
    // Outside callers have no ARN, and their key drops the session name
    // from `principal_id`, so every row without an ARN is a candidate.
    let principals: Vec<&str> = principals.iter().copied().collect();
    let one_of = |column: &str| is_one_of(column, &principals).fill_null(false);
    let candidate = one_of("session_issuer_arn")
        .or(one_of("principal_arn"))
        .or(col("principal_arn").is_null());
    scan.filter(candidate)
        .with_column(principal_key_expr())
        .filter(one_of("principal_key"))
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
