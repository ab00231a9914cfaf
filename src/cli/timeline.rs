//! `trailhound timeline`.

use anyhow::Context;
use polars::prelude::IntoLazy;

use super::args::{Cli, TimeWindowArgs, TimelineArgs};
use crate::exit::Outcome;
use crate::export::emit;
use crate::query::lineage::{CREDENTIAL_COLUMN, follow_events};
use crate::query::timeline::{TABLE_COLUMNS, TIMELINE_COLUMNS, TimelineFilter, timeline_with};
use crate::store::Store;
use crate::time::{Micros, parse_bound};

/// Columns the timeline filters read, fetched for `--follow` so the
/// filters apply to the lineage's events too.
const FILTER_COLUMNS: &[&str] = &[
    "principal_arn",
    "session_issuer_arn",
    "session_issuer_user_name",
    "user_name",
    "source_ip",
    "event_name",
    "event_time",
];

pub fn run(cli: &Cli, args: &TimelineArgs) -> anyhow::Result<Outcome> {
    let (since, until) = resolve_window(&args.window)?;
    let filter = TimelineFilter {
        access_keys: args.access_keys.clone(),
        principals: args.principals.clone(),
        source_ips: args.ips.clone(),
        event_names: args.event_names.clone(),
        since,
        until,
    };
    let output = args.output.resolve();
    if args.raw && output.is_table() {
        anyhow::bail!(
            "--raw adds the original records to csv, jsonl, json, parquet and timesketch output; choose one with --format"
        );
    }
    let store = Store::open(&cli.store)?;

    let mut columns: Vec<&str> = TIMELINE_COLUMNS.to_vec();
    if args.raw {
        columns.push("raw_record");
    }
    let mut frame = if args.follow {
        // The lineage decides which keys belong; the other filters narrow
        // the events of those keys.
        let mut fetched = columns.clone();
        fetched.extend(
            FILTER_COLUMNS
                .iter()
                .copied()
                .filter(|name| !columns.contains(name)),
        );
        let events = follow_events(&store, &args.access_keys, since, until, &fetched)
            .context("lineage query failed")?;
        let rest = TimelineFilter {
            access_keys: Vec::new(),
            ..filter
        };
        let events = match rest.predicate() {
            Some(predicate) => events.lazy().filter(predicate).collect()?,
            None => events,
        };
        let mut shown = vec![CREDENTIAL_COLUMN];
        shown.extend(columns.iter().copied());
        events.select(shown)?
    } else {
        timeline_with(&store, &filter, &columns).context("timeline query failed")?
    };
    if frame.height() == 0 {
        if !cli.quiet {
            eprintln!("trailhound: no event matches");
        }
        return Ok(Outcome::NothingFound);
    }

    if output.is_table() {
        let mut shown: Vec<&str> = Vec::new();
        if args.follow {
            shown.push(CREDENTIAL_COLUMN);
        }
        shown.extend(
            TABLE_COLUMNS
                .iter()
                .copied()
                .filter(|name| !(args.follow && *name == "access_key_id")),
        );
        frame = frame.select(shown)?;
    }
    let rows = frame.height();
    emit(&mut frame, &output).context("cannot write the timeline")?;
    if !cli.quiet && output.is_table() {
        eprintln!("trailhound: {rows} events");
    }
    Ok(Outcome::Success)
}

/// Parses `--since` and `--until` and checks their order.
pub fn resolve_window(window: &TimeWindowArgs) -> anyhow::Result<(Option<Micros>, Option<Micros>)> {
    let since = window
        .since
        .as_deref()
        .map(|text| parse_bound(text, false))
        .transpose()
        .map_err(|err| anyhow::anyhow!("--since: {err}"))?;
    let until = window
        .until
        .as_deref()
        .map(|text| parse_bound(text, true))
        .transpose()
        .map_err(|err| anyhow::anyhow!("--until: {err}"))?;
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        anyhow::bail!("--since is later than --until");
    }
    Ok((since, until))
}
