//! The events of a lineage: which stored events each node made, found with
//! one filtered scan, and the keys of keyless sessions the walk requests.

use std::collections::HashMap;

use polars::prelude::*;

use super::graph::{NodeDraft, SESSION_MATCH_MICROS, SessionQuery, SessionResolver};
use crate::query::timeline::time_literal;
use crate::query::{QueryError, is_one_of, time_values};
use crate::store::Store;
use crate::store::scan::{distinct_events, scan_events};
use crate::time::Micros;

/// Name of the column that names the lineage node that made an event.
pub const CREDENTIAL_COLUMN: &str = "credential";

/// A node that owns a key's events inside a time window: (node index, from, until).
type KeyWindow = (usize, Option<Micros>, Option<Micros>);

/// Returns the distinct events made by `nodes`, with `columns` and a
/// [`CREDENTIAL_COLUMN`] naming the node, sorted by event time.
pub fn node_events(
    store: &Store,
    nodes: &[NodeDraft],
    since: Option<Micros>,
    until: Option<Micros>,
    columns: &[&str],
) -> Result<DataFrame, QueryError> {
    let mut windows: HashMap<&str, Vec<KeyWindow>> = HashMap::new();
    let mut extras: HashMap<&str, usize> = HashMap::new();
    for (index, node) in nodes.iter().enumerate() {
        for key in &node.keys {
            windows
                .entry(key.as_str())
                .or_default()
                .push((index, node.from, node.until));
        }
        for event_id in &node.extra_event_ids {
            extras.insert(event_id.as_str(), index);
        }
    }

    let mut wanted: Vec<&str> = columns.to_vec();
    for needed in ["event_time", "access_key_id", "event_id"] {
        if !wanted.contains(&needed) {
            wanted.push(needed);
        }
    }
    let Some(frame) = scan_events(store, since, until)? else {
        return Ok(empty_result(columns));
    };
    let keys: Vec<&str> = windows.keys().copied().collect();
    let ids: Vec<&str> = extras.keys().copied().collect();
    let mut predicate = is_one_of("access_key_id", &keys).or(is_one_of("event_id", &ids));
    if let Some(since) = since {
        predicate = predicate.and(col("event_time").gt_eq(time_literal(since)));
    }
    if let Some(until) = until {
        predicate = predicate.and(col("event_time").lt_eq(time_literal(until)));
    }
    let selected: Vec<Expr> = wanted.iter().map(|name| col(*name)).collect();
    let frame = distinct_events(frame.filter(predicate))
        .select(selected)
        .collect()?;

    // Assign each event to its node in memory: the matching set is small,
    // and a key's node depends on the event's time.
    let times = time_values(&frame, "event_time")?;
    let event_keys = frame.column("access_key_id")?.str()?.clone();
    let event_ids = frame.column("event_id")?.str()?.clone();
    let mut credential: Vec<Option<&str>> = Vec::with_capacity(frame.height());
    for (row, time) in times.iter().enumerate() {
        let by_id = event_ids
            .get(row)
            .and_then(|id| extras.get(id))
            .map(|&index| nodes[index].id.as_str());
        let by_key = || {
            let key = event_keys.get(row)?;
            let time = (*time)?;
            windows.get(key)?.iter().find_map(|&(index, from, until)| {
                let inside =
                    from.is_none_or(|from| time >= from) && until.is_none_or(|until| time <= until);
                inside.then(|| nodes[index].id.as_str())
            })
        };
        credential.push(by_id.or_else(by_key));
    }
    let mask: BooleanChunked = credential
        .iter()
        .map(|value| Some(value.is_some()))
        .collect();
    let mut frame = frame.filter(&mask)?;
    let credential: StringChunked = credential.into_iter().flatten().map(Some).collect();
    frame.with_column(credential.with_name(CREDENTIAL_COLUMN.into()).into_column())?;
    let mut ordered: Vec<&str> = vec![CREDENTIAL_COLUMN];
    ordered.extend(columns.iter().copied());
    Ok(frame.select(ordered)?)
}

fn empty_result(columns: &[&str]) -> DataFrame {
    let schema = crate::record::store_schema();
    let mut fields = vec![Field::new(CREDENTIAL_COLUMN.into(), DataType::String)];
    for name in columns {
        if let Some(dtype) = schema.get(name) {
            fields.push(Field::new((*name).into(), dtype.clone()));
        }
    }
    DataFrame::empty_with_schema(&Schema::from_iter(fields))
}

/// Session resolver that reads the store with one scan per request.
pub struct StoreResolver<'a> {
    pub store: &'a Store,
}

impl SessionResolver for StoreResolver<'_> {
    fn resolve(&mut self, queries: &[SessionQuery]) -> Result<Vec<Vec<String>>, QueryError> {
        let mut answers = vec![Vec::new(); queries.len()];
        let predicates: Vec<Expr> = queries.iter().map(query_predicate).collect();
        let Some(predicate) = predicates.into_iter().reduce(|any, next| any.or(next)) else {
            return Ok(answers);
        };
        let Some(frame) = scan_events(self.store, None, None)? else {
            return Ok(answers);
        };
        let frame = frame
            .filter(predicate.and(col("access_key_id").is_not_null()))
            .select([
                col("event_time"),
                col("access_key_id"),
                col("principal_arn"),
                col("session_creation_time"),
                col("source_identity"),
                col("source_ip"),
                col("session_credential_from_console"),
            ])
            .sort(["event_time"], SortMultipleOptions::default())
            .collect()?;

        let event_time = time_values(&frame, "event_time")?;
        let created = time_values(&frame, "session_creation_time")?;
        let key = frame.column("access_key_id")?.str()?;
        let arn = frame.column("principal_arn")?.str()?;
        let identity = frame.column("source_identity")?.str()?;
        let ip = frame.column("source_ip")?.str()?;
        let console = frame.column("session_credential_from_console")?.bool()?;

        for row in 0..frame.height() {
            let (Some(row_key), Some(row_time)) = (key.get(row), event_time[row]) else {
                continue;
            };
            for (query, answer) in queries.iter().zip(answers.iter_mut()) {
                let matches = match query {
                    SessionQuery::AssumedSession {
                        principal_arn,
                        created: at,
                    } => {
                        arn.get(row) == Some(principal_arn.as_str())
                            && created[row].is_some_and(|c| (c - at).abs() <= SESSION_MATCH_MICROS)
                    }
                    SessionQuery::SourceIdentity {
                        source_identity,
                        from,
                        until,
                    } => {
                        identity.get(row) == Some(source_identity.as_str())
                            && row_time >= *from
                            && until.is_none_or(|until| row_time <= until)
                    }
                    SessionQuery::Console {
                        user_arn,
                        source_ip,
                        from,
                        until,
                    } => {
                        arn.get(row) == Some(user_arn.as_str())
                            && console.get(row) == Some(true)
                            && row_time >= *from
                            && row_time <= *until
                            && (source_ip.is_none() || ip.get(row) == source_ip.as_deref())
                    }
                };
                if matches && !answer.iter().any(|known: &String| known == row_key) {
                    answer.push(row_key.to_string());
                }
            }
        }
        Ok(answers)
    }
}

fn query_predicate(query: &SessionQuery) -> Expr {
    match query {
        SessionQuery::AssumedSession { principal_arn, .. } => {
            col("principal_arn").eq(lit(principal_arn.clone()))
        }
        SessionQuery::SourceIdentity {
            source_identity, ..
        } => col("source_identity").eq(lit(source_identity.clone())),
        SessionQuery::Console {
            user_arn,
            from,
            until,
            ..
        } => col("principal_arn")
            .eq(lit(user_arn.clone()))
            .and(col("session_credential_from_console").eq(lit(true)))
            .and(col("event_time").gt_eq(time_literal(*from)))
            .and(col("event_time").lt_eq(time_literal(*until))),
    }
}
