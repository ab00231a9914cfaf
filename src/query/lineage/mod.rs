//! Credential lineage: every credential derived from one access key, and
//! what each of them did.
//!
//! A leaked key mints temporary credentials (AssumeRole, GetSessionToken,
//! GetFederationToken), creates long-term keys for other users and gives
//! users console passwords; those credentials mint more in turn. Rotating the
//! leaked key stops none of them. [`lineage`] walks that tree from the mint
//! events in the store ([`graph`]) and counts each node's events
//! ([`events`]); [`follow_events`] returns the events of the whole tree.

pub mod events;
pub mod graph;
pub mod mints;

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::Serialize;

use crate::query::QueryError;
use crate::store::Store;
use crate::time::Micros;
pub use events::CREDENTIAL_COLUMN;
use events::{StoreResolver, node_events};
pub use graph::NodeKind;
use graph::{NodeDraft, build_lineage};
use mints::{MintEvent, load_mints};

/// The lineage of one root credential.
#[derive(Debug, Clone, Serialize)]
pub struct LineageTree {
    pub root: String,
    /// The root first, then its descendants breadth-first.
    pub nodes: Vec<LineageNode>,
}

/// One credential of a lineage and what it did.
#[derive(Debug, Clone, Serialize)]
pub struct LineageNode {
    /// The access key id, or a session id for keyless nodes
    /// (`console:USER@TIME`, `session:ARN@TIME`).
    pub access_key_id: String,
    pub parent_access_key_id: Option<String>,
    pub minted_by_event_id: Option<String>,
    pub minted_by_event_name: Option<String>,
    pub principal_arn: Option<String>,
    /// True when the edge from the parent was inferred rather than read
    /// from a key in the mint event.
    pub inferred: bool,
    #[serde(serialize_with = "crate::query::serialize_micros")]
    pub first_seen: Option<Micros>,
    #[serde(serialize_with = "crate::query::serialize_micros")]
    pub last_seen: Option<Micros>,
    pub event_count: u64,
    /// Source addresses, most used first.
    pub source_ips: Vec<String>,
    pub kind: NodeKind,
    pub depth: u32,
    #[serde(serialize_with = "crate::query::serialize_micros")]
    pub minted_at: Option<Micros>,
    #[serde(serialize_with = "crate::query::serialize_micros")]
    pub expiration: Option<Micros>,
    pub account_id: Option<String>,
    /// Other copies of the mint event, e.g. the role owner's copy of a
    /// cross-account AssumeRole.
    pub related_event_ids: Vec<String>,
    /// Reason an inferred edge was drawn.
    pub evidence: Option<String>,
    /// Keys whose events make up a keyless node.
    pub session_keys: Vec<String>,
}

/// Builds the lineage of `root` from the events in the window.
pub fn lineage(
    store: &Store,
    root: &str,
    since: Option<Micros>,
    until: Option<Micros>,
) -> Result<LineageTree, QueryError> {
    Lineages::load(store, since, until)?.tree(root)
}

/// Returns the events of every credential in the lineages of `roots`, with
/// `columns` after a [`CREDENTIAL_COLUMN`] naming the credential, sorted by
/// time.
pub fn follow_events(
    store: &Store,
    roots: &[String],
    since: Option<Micros>,
    until: Option<Micros>,
    columns: &[&str],
) -> Result<DataFrame, QueryError> {
    Lineages::load(store, since, until)?.follow(roots, columns)
}

/// The mint events of a window, loaded with one scan and walked from any
/// number of roots, so a command that follows several keys reads them once.
pub struct Lineages<'a> {
    store: &'a Store,
    since: Option<Micros>,
    until: Option<Micros>,
    mints: Vec<MintEvent>,
}

impl<'a> Lineages<'a> {
    /// Loads the mint events of the window.
    pub fn load(
        store: &'a Store,
        since: Option<Micros>,
        until: Option<Micros>,
    ) -> Result<Lineages<'a>, QueryError> {
        Ok(Lineages {
            store,
            since,
            until,
            mints: load_mints(store, since, until)?,
        })
    }

    /// Builds the lineage of `root`, with each node's events counted.
    pub fn tree(&self, root: &str) -> Result<LineageTree, QueryError> {
        let drafts = self.walk(root)?;
        let events = node_events(
            self.store,
            &drafts,
            self.since,
            self.until,
            &["event_time", "source_ip", "principal_arn"],
        )?;
        let usage = usage_by_node(&events)?;
        let nodes = drafts
            .into_iter()
            .map(|draft| {
                let usage = usage.get(&draft.id);
                finish_node(draft, usage)
            })
            .collect();
        Ok(LineageTree {
            root: root.to_string(),
            nodes,
        })
    }

    /// Returns the events of every credential in the lineages of `roots`,
    /// as [`follow_events`] does.
    pub fn follow(&self, roots: &[String], columns: &[&str]) -> Result<DataFrame, QueryError> {
        let mut drafts: Vec<NodeDraft> = Vec::new();
        for root in roots {
            for draft in self.walk(root)? {
                if !drafts.iter().any(|known| known.id == draft.id) {
                    drafts.push(draft);
                }
            }
        }
        node_events(self.store, &drafts, self.since, self.until, columns)
    }

    fn walk(&self, root: &str) -> Result<Vec<NodeDraft>, QueryError> {
        let mut resolver = StoreResolver { store: self.store };
        build_lineage(root, &self.mints, &mut resolver)
    }
}

/// Maps every access key minted in the window to the key at the top of its
/// lineage (the key that started the chain, when the store contains its mint
/// events). Keys that minted nothing and were minted by nothing are absent.
pub fn lineage_roots(
    store: &Store,
    since: Option<Micros>,
    until: Option<Micros>,
) -> Result<HashMap<String, String>, QueryError> {
    let mints = load_mints(store, since, until)?;
    let mut parent: HashMap<String, String> = HashMap::new();
    for mint in &mints {
        if !mint.succeeded() {
            continue;
        }
        if let (Some(caller), Some(minted)) = (&mint.caller_key, &mint.minted_key)
            && caller != minted
        {
            parent
                .entry(minted.clone())
                .or_insert_with(|| caller.clone());
        }
    }
    let mut roots = HashMap::new();
    for key in parent.keys() {
        let mut top = key.as_str();
        // A chain longer than the number of keys has a cycle; stop there.
        for _ in 0..=parent.len() {
            match parent.get(top) {
                Some(up) => top = up,
                None => break,
            }
        }
        roots.insert(key.clone(), top.to_string());
        roots
            .entry(top.to_string())
            .or_insert_with(|| top.to_string());
    }
    Ok(roots)
}

#[derive(Debug, Default)]
struct Usage {
    first: Option<Micros>,
    last: Option<Micros>,
    count: u64,
    ips: BTreeMap<String, u64>,
    principal_arn: Option<String>,
}

fn usage_by_node(events: &DataFrame) -> PolarsResult<HashMap<String, Usage>> {
    let credential = events.column(CREDENTIAL_COLUMN)?.str()?;
    let times = events
        .column("event_time")?
        .as_materialized_series()
        .datetime()?
        .physical()
        .clone();
    let ips = events.column("source_ip")?.str()?;
    let arns = events.column("principal_arn")?.str()?;
    let mut usage: HashMap<String, Usage> = HashMap::new();
    for row in 0..events.height() {
        let Some(node) = credential.get(row) else {
            continue;
        };
        let entry = usage.entry(node.to_string()).or_default();
        entry.count += 1;
        if let Some(time) = times.get(row) {
            entry.first = Some(entry.first.map_or(time, |first| first.min(time)));
            entry.last = Some(entry.last.map_or(time, |last| last.max(time)));
        }
        if let Some(ip) = ips.get(row) {
            *entry.ips.entry(ip.to_string()).or_default() += 1;
        }
        if entry.principal_arn.is_none() {
            entry.principal_arn = arns.get(row).map(str::to_string);
        }
    }
    Ok(usage)
}

fn finish_node(draft: NodeDraft, usage: Option<&Usage>) -> LineageNode {
    let mut source_ips: Vec<(&String, &u64)> = usage
        .map(|usage| usage.ips.iter().collect())
        .unwrap_or_default();
    source_ips.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let keyless = matches!(draft.kind, NodeKind::Console | NodeKind::Session);
    LineageNode {
        principal_arn: usage
            .and_then(|usage| usage.principal_arn.clone())
            .or(draft.principal_arn),
        first_seen: usage.and_then(|usage| usage.first),
        last_seen: usage.and_then(|usage| usage.last),
        event_count: usage.map_or(0, |usage| usage.count),
        source_ips: source_ips.into_iter().map(|(ip, _)| ip.clone()).collect(),
        session_keys: if keyless { draft.keys } else { Vec::new() },
        access_key_id: draft.id,
        parent_access_key_id: draft.parent,
        minted_by_event_id: draft.minted_by_event_id,
        minted_by_event_name: draft.minted_by_event_name,
        inferred: draft.inferred,
        kind: draft.kind,
        depth: draft.depth,
        minted_at: draft.minted_at,
        expiration: draft.expiration,
        account_id: draft.account_id,
        related_event_ids: draft.related_event_ids,
        evidence: draft.evidence,
    }
}
