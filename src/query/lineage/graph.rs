//! Walking the lineage: from a seed credential, breadth-first through the
//! mint events each credential made, to every credential derived from it.
//!
//! The walk is pure: it reads mint events from memory and requests from a
//! [`SessionResolver`] for the keys of sessions whose mint event names no
//! key (console sign-ins, and responses CloudTrail left out). Edges found
//! that way are marked inferred.

use std::collections::{HashMap, HashSet};

use super::mints::MintEvent;
use crate::query::QueryError;
use crate::time::{Micros, format_rfc3339};

/// Slack around a credential's validity window, for clock differences
/// between the services that log its events.
pub const CLOCK_SLACK_MICROS: Micros = 60 * 1_000_000;
/// How far a session's creation time may be from its mint event.
pub const SESSION_MATCH_MICROS: Micros = 5 * 1_000_000;
/// Maximum console session length AWS allows (12 hours).
pub const CONSOLE_SESSION_MICROS: Micros = 12 * 3_600 * 1_000_000;

/// Kind of credential of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// An IAM user's or root's access key (`AKIA…`).
    LongTerm,
    /// Temporary credentials from STS (`ASIA…`).
    Temporary,
    /// A console session after a sign-in; its keys are found by inference.
    Console,
    /// A session whose mint event named no key, found by principal and time.
    Session,
}

impl NodeKind {
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::LongTerm => "long-term",
            NodeKind::Temporary => "temporary",
            NodeKind::Console => "console",
            NodeKind::Session => "session",
        }
    }

    /// Kind of a credential from its key id.
    pub fn of_key(key: &str) -> NodeKind {
        if key.starts_with("ASIA") {
            NodeKind::Temporary
        } else {
            NodeKind::LongTerm
        }
    }
}

/// A node of the lineage before its events are counted.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDraft {
    /// The access key id, or a session id (`console:…`, `session:…`) for
    /// keyless nodes.
    pub id: String,
    pub parent: Option<String>,
    pub kind: NodeKind,
    pub depth: u32,
    pub minted_by_event_id: Option<String>,
    pub minted_by_event_name: Option<String>,
    pub minted_at: Option<Micros>,
    /// Other copies of the mint event (the role owner's copy of a
    /// cross-account AssumeRole), joined by `sharedEventID`.
    pub related_event_ids: Vec<String>,
    pub principal_arn: Option<String>,
    pub account_id: Option<String>,
    pub expiration: Option<Micros>,
    pub inferred: bool,
    /// Reason an inferred edge was drawn.
    pub evidence: Option<String>,
    /// Access keys whose events belong to this node.
    pub keys: Vec<String>,
    /// Window in which those keys' events belong to this node.
    pub from: Option<Micros>,
    pub until: Option<Micros>,
    /// Events that belong to the node whatever their key (the sign-in itself).
    pub extra_event_ids: Vec<String>,
}

/// A question about keyless sessions, answered from the store.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionQuery {
    /// Keys used by `principal_arn` sessions created at `created` (within
    /// [`SESSION_MATCH_MICROS`]).
    AssumedSession {
        principal_arn: String,
        created: Micros,
    },
    /// Keys of sessions that carry `source_identity`, first used in the window.
    SourceIdentity {
        source_identity: String,
        from: Micros,
        until: Option<Micros>,
    },
    /// Console keys of `user_arn` first used from `source_ip` in the window.
    Console {
        user_arn: String,
        source_ip: Option<String>,
        from: Micros,
        until: Micros,
    },
}

/// Finds the keys of keyless sessions.
pub trait SessionResolver {
    /// Returns, for each query, the keys it matched, in first-use order.
    fn resolve(&mut self, queries: &[SessionQuery]) -> Result<Vec<Vec<String>>, QueryError>;
}

/// Builds the lineage of `root` from `mints` (sorted by time). The first
/// node is the root.
pub fn build_lineage(
    root: &str,
    mints: &[MintEvent],
    resolver: &mut dyn SessionResolver,
) -> Result<Vec<NodeDraft>, QueryError> {
    let walk = Walk::new(mints);
    walk.run(root, resolver)
}

struct Walk<'a> {
    mints: &'a [MintEvent],
    /// Mint events by the key that made them.
    by_caller: HashMap<&'a str, Vec<usize>>,
    /// Console sign-ins by user name.
    logins_by_user: HashMap<&'a str, Vec<usize>>,
    /// Login profile changes by target user name, to end one password's reign.
    profiles_by_user: HashMap<&'a str, Vec<usize>>,
    /// Event ids sharing a `sharedEventID`.
    by_shared_id: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Walk<'a> {
    fn new(mints: &'a [MintEvent]) -> Walk<'a> {
        let mut walk = Walk {
            mints,
            by_caller: HashMap::new(),
            logins_by_user: HashMap::new(),
            profiles_by_user: HashMap::new(),
            by_shared_id: HashMap::new(),
        };
        for (index, mint) in mints.iter().enumerate() {
            if let Some(key) = mint.caller_key.as_deref() {
                walk.by_caller.entry(key).or_default().push(index);
            }
            if mint.event_name == "ConsoleLogin"
                && let Some(user) = mint.caller_user_name.as_deref()
            {
                walk.logins_by_user.entry(user).or_default().push(index);
            }
            if mint.is_login_profile()
                && mint.succeeded()
                && let Some(user) = mint.target_user_name.as_deref()
            {
                walk.profiles_by_user.entry(user).or_default().push(index);
            }
            if let Some(shared) = mint.shared_event_id.as_deref() {
                walk.by_shared_id.entry(shared).or_default().push(index);
            }
        }
        walk
    }

    fn run(
        &self,
        root: &str,
        resolver: &mut dyn SessionResolver,
    ) -> Result<Vec<NodeDraft>, QueryError> {
        let mut nodes = vec![NodeDraft {
            id: root.to_string(),
            parent: None,
            kind: NodeKind::of_key(root),
            depth: 0,
            minted_by_event_id: None,
            minted_by_event_name: None,
            minted_at: None,
            related_event_ids: Vec::new(),
            principal_arn: None,
            account_id: None,
            expiration: None,
            inferred: false,
            evidence: None,
            keys: vec![root.to_string()],
            from: None,
            until: None,
            extra_event_ids: Vec::new(),
        }];
        let mut node_ids: HashSet<String> = HashSet::from([root.to_string()]);
        let mut claimed_keys: HashSet<String> = HashSet::from([root.to_string()]);
        let mut frontier = vec![0usize];

        while !frontier.is_empty() {
            let mut next = Vec::new();
            let mut pending: Vec<(usize, SessionQuery)> = Vec::new();
            for &parent in &frontier {
                for mint_index in self.mints_of(&nodes[parent]) {
                    let mint = &self.mints[mint_index];
                    if !mint.succeeded() {
                        continue;
                    }
                    for (child, query) in self.children_of(&nodes[parent], mint) {
                        if !node_ids.insert(child.id.clone()) {
                            continue;
                        }
                        if child
                            .keys
                            .iter()
                            .any(|key| !claimed_keys.insert(key.clone()))
                        {
                            continue;
                        }
                        nodes.push(child);
                        let index = nodes.len() - 1;
                        match query {
                            Some(query) => pending.push((index, query)),
                            None => next.push(index),
                        }
                    }
                }
            }
            if !pending.is_empty() {
                let queries: Vec<SessionQuery> =
                    pending.iter().map(|(_, query)| query.clone()).collect();
                let answers = resolver.resolve(&queries)?;
                for ((index, _), keys) in pending.iter().zip(answers) {
                    for key in keys {
                        if claimed_keys.insert(key.clone()) {
                            nodes[*index].keys.push(key);
                        }
                    }
                    next.push(*index);
                }
            }
            frontier = next;
        }
        Ok(nodes)
    }

    /// Mint events made by one of the node's keys inside its window.
    fn mints_of(&self, node: &NodeDraft) -> Vec<usize> {
        let mut found: Vec<usize> = node
            .keys
            .iter()
            .filter_map(|key| self.by_caller.get(key.as_str()))
            .flatten()
            .copied()
            .filter(|&index| within(self.mints[index].event_time, node.from, node.until))
            .collect();
        found.sort_unstable();
        found
    }

    /// Lists the credentials one mint event created, each with the session
    /// query that finds its keys when the event names none.
    fn children_of(
        &self,
        parent: &NodeDraft,
        mint: &MintEvent,
    ) -> Vec<(NodeDraft, Option<SessionQuery>)> {
        let base = NodeDraft {
            id: String::new(),
            parent: Some(parent.id.clone()),
            kind: NodeKind::Temporary,
            depth: parent.depth + 1,
            minted_by_event_id: Some(mint.event_id.clone()),
            minted_by_event_name: Some(mint.event_name.clone()),
            minted_at: Some(mint.event_time),
            related_event_ids: self.related_copies(mint),
            principal_arn: None,
            account_id: mint.recipient_account_id.clone(),
            expiration: mint.minted_expiration,
            inferred: false,
            evidence: None,
            keys: Vec::new(),
            from: Some(mint.event_time - CLOCK_SLACK_MICROS),
            until: mint.minted_expiration.map(|end| end + CLOCK_SLACK_MICROS),
            extra_event_ids: Vec::new(),
        };

        if mint.is_sts_mint() {
            let principal_arn = match mint.event_name.as_str() {
                "GetSessionToken" => mint.caller_arn.clone(),
                _ => mint
                    .minted_principal_arn
                    .clone()
                    .or_else(|| assumed_role_arn(mint)),
            };
            if let Some(key) = &mint.minted_key {
                return vec![(
                    NodeDraft {
                        id: key.clone(),
                        kind: NodeKind::of_key(key),
                        principal_arn,
                        keys: vec![key.clone()],
                        ..base
                    },
                    None,
                )];
            }
            // CloudTrail left the key out: find the session by its ARN and
            // creation time, or by the source identity it was asked to carry.
            let query = if let Some(arn) = &principal_arn {
                SessionQuery::AssumedSession {
                    principal_arn: arn.clone(),
                    created: mint.event_time,
                }
            } else if let Some(identity) = &mint.requested_source_identity {
                SessionQuery::SourceIdentity {
                    source_identity: identity.clone(),
                    from: mint.event_time - CLOCK_SLACK_MICROS,
                    until: base.until,
                }
            } else {
                return Vec::new();
            };
            let evidence = match &query {
                SessionQuery::AssumedSession { .. } => {
                    "the response named no key; matched later events by session ARN and creation time"
                }
                _ => "the response named no key; matched later events by source identity",
            };
            return vec![(
                NodeDraft {
                    id: format!(
                        "session:{}@{}",
                        principal_arn.as_deref().unwrap_or("unknown"),
                        format_rfc3339(mint.event_time)
                    ),
                    kind: NodeKind::Session,
                    principal_arn,
                    inferred: true,
                    evidence: Some(evidence.to_string()),
                    ..base
                },
                Some(query),
            )];
        }

        if mint.event_name == "CreateAccessKey" {
            let Some(key) = &mint.minted_key else {
                return Vec::new();
            };
            let user = mint
                .minted_user_name
                .clone()
                .or_else(|| mint.target_user_name.clone());
            let principal_arn = match &user {
                Some(user) => user_arn(mint, user),
                None => mint.caller_arn.clone(),
            };
            return vec![(
                NodeDraft {
                    id: key.clone(),
                    kind: NodeKind::of_key(key),
                    principal_arn,
                    expiration: None,
                    until: None,
                    keys: vec![key.clone()],
                    ..base
                },
                None,
            )];
        }

        if mint.is_login_profile() {
            return self.console_sessions(mint, &base);
        }
        Vec::new()
    }

    /// Console sign-ins of the user whose password `profile` set, until the
    /// next change of that password.
    fn console_sessions(
        &self,
        profile: &MintEvent,
        base: &NodeDraft,
    ) -> Vec<(NodeDraft, Option<SessionQuery>)> {
        let Some(user) = profile.target_user_name.as_deref() else {
            return Vec::new();
        };
        let next_change = self
            .profiles_by_user
            .get(user)
            .into_iter()
            .flatten()
            .map(|&index| self.mints[index].event_time)
            .filter(|&time| time > profile.event_time)
            .min();
        let mut sessions = Vec::new();
        for &index in self.logins_by_user.get(user).into_iter().flatten() {
            let login = &self.mints[index];
            if !login.succeeded() || login.event_time < profile.event_time {
                continue;
            }
            if next_change.is_some_and(|end| login.event_time >= end) {
                continue;
            }
            if profile.recipient_account_id.is_some()
                && login.recipient_account_id.is_some()
                && profile.recipient_account_id != login.recipient_account_id
            {
                continue;
            }
            let Some(user_arn) = login.caller_arn.clone() else {
                continue;
            };
            let same_ip = login.source_ip.is_some() && login.source_ip == profile.source_ip;
            let same_agent = login.user_agent.is_some() && login.user_agent == profile.user_agent;
            let delay = (login.event_time - profile.event_time) / 1_000_000;
            let evidence = format!(
                "console sign-in by {user} {delay} s after the password was set; {} IP{}",
                if same_ip { "same" } else { "different" },
                if same_agent { ", same user agent" } else { "" }
            );
            let until = login.event_time + CONSOLE_SESSION_MICROS;
            sessions.push((
                NodeDraft {
                    id: format!("console:{user}@{}", format_rfc3339(login.event_time)),
                    kind: NodeKind::Console,
                    principal_arn: Some(user_arn.clone()),
                    account_id: login.recipient_account_id.clone(),
                    inferred: true,
                    evidence: Some(evidence),
                    from: Some(login.event_time - CLOCK_SLACK_MICROS),
                    until: Some(until),
                    expiration: Some(until),
                    extra_event_ids: vec![login.event_id.clone()],
                    ..base.clone()
                },
                Some(SessionQuery::Console {
                    user_arn,
                    source_ip: login.source_ip.clone(),
                    from: login.event_time - CLOCK_SLACK_MICROS,
                    until,
                }),
            ));
        }
        sessions
    }

    /// Event ids of the other copies of `mint` (same `sharedEventID`).
    fn related_copies(&self, mint: &MintEvent) -> Vec<String> {
        let Some(shared) = mint.shared_event_id.as_deref() else {
            return Vec::new();
        };
        self.by_shared_id
            .get(shared)
            .into_iter()
            .flatten()
            .map(|&index| &self.mints[index])
            .filter(|copy| copy.event_id != mint.event_id)
            .map(|copy| copy.event_id.clone())
            .collect()
    }
}

fn within(time: Micros, from: Option<Micros>, until: Option<Micros>) -> bool {
    from.is_none_or(|from| time >= from) && until.is_none_or(|until| time <= until)
}

/// Builds the assumed-role session ARN an AssumeRole call creates, from the
/// role ARN and session name in its request.
fn assumed_role_arn(mint: &MintEvent) -> Option<String> {
    let role_arn = mint.target_role_arn.as_deref()?;
    let session = mint.role_session_name.as_deref()?;
    // arn:PARTITION:iam::ACCOUNT:role/PATH/NAME
    let mut parts = role_arn.splitn(6, ':');
    let (_, partition, _, _, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let role_name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    Some(format!(
        "arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}"
    ))
}

/// Builds the ARN of IAM user `user` in the account and partition of `mint`.
fn user_arn(mint: &MintEvent, user: &str) -> Option<String> {
    let partition = mint
        .caller_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws");
    let account = mint.recipient_account_id.as_deref()?;
    Some(format!("arn:{partition}:iam::{account}:user/{user}"))
}
