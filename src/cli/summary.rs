//! `trailhound summary`.

use anyhow::Context;
use polars::prelude::*;

use super::args::{Cli, SummaryArgs};
use super::timeline::resolve_window;
use crate::exit::Outcome;
use crate::export::emit;
use crate::query::summary::{Counted, CredentialSummary, SummarySelection, summarise};
use crate::store::Store;

/// Columns shown in the terminal table, where width is scarce.
const TABLE_COLUMNS: &[&str] = &[
    "access_key_id",
    "kind",
    "owner",
    "first_seen",
    "last_seen",
    "events",
    "access_denied",
    "source_ips",
    "top_calls",
    "minted",
];

/// Most values of a list shown in a table cell.
const TABLE_LIST_ITEMS: usize = 3;

pub fn run(cli: &Cli, args: &SummaryArgs) -> anyhow::Result<Outcome> {
    if !args.all && args.access_keys.is_empty() && args.principals.is_empty() {
        anyhow::bail!("name what to summarise: --access-key KEY, --principal ARN|NAME or --all");
    }
    let (since, until) = resolve_window(&args.window)?;
    let selection = SummarySelection {
        access_keys: args.access_keys.clone(),
        principals: args.principals.clone(),
        since,
        until,
        top: args.top,
    };
    let store = Store::open(&cli.store)?;
    let summaries = summarise(&store, &selection).context("summary query failed")?;
    if summaries.is_empty() {
        if !cli.quiet {
            eprintln!("trailhound: no credential matches");
        }
        return Ok(Outcome::NothingFound);
    }
    let output = args.output.resolve();
    let list_limit = if output.is_table() {
        TABLE_LIST_ITEMS
    } else {
        usize::MAX
    };
    let mut frame = summaries_frame(&summaries, list_limit)?;
    if output.is_table() {
        frame = frame.select(TABLE_COLUMNS.iter().copied())?;
    }
    emit(&mut frame, &output).context("cannot write the summary")?;
    if !cli.quiet && output.is_table() {
        eprintln!("trailhound: {} credentials", summaries.len());
    }
    Ok(Outcome::Success)
}

/// Builds one row per credential. Counted lists become `value (count); …`.
fn summaries_frame(summaries: &[CredentialSummary], list_limit: usize) -> PolarsResult<DataFrame> {
    let text = |name: &str, values: Vec<Option<String>>| {
        StringChunked::from_iter_options(name.into(), values.into_iter()).into_column()
    };
    let number =
        |name: &str, values: Vec<u64>| UInt64Chunked::from_vec(name.into(), values).into_column();
    let time = |name: &str, values: Vec<i64>| {
        Int64Chunked::from_vec(name.into(), values)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_column()
    };
    let list = |pick: fn(&CredentialSummary) -> &Vec<Counted>| -> Vec<Option<String>> {
        summaries
            .iter()
            .map(|summary| Some(join_counted(pick(summary), list_limit)))
            .collect()
    };
    let columns = vec![
        text(
            "access_key_id",
            summaries
                .iter()
                .map(|s| Some(s.access_key_id.clone()))
                .collect(),
        ),
        text(
            "kind",
            summaries.iter().map(|s| Some(s.kind.to_string())).collect(),
        ),
        text("owner", summaries.iter().map(|s| s.owner.clone()).collect()),
        time(
            "first_seen",
            summaries.iter().map(|s| s.first_seen).collect(),
        ),
        time("last_seen", summaries.iter().map(|s| s.last_seen).collect()),
        number("events", summaries.iter().map(|s| s.events).collect()),
        number("errors", summaries.iter().map(|s| s.errors).collect()),
        number(
            "access_denied",
            summaries.iter().map(|s| s.access_denied).collect(),
        ),
        number(
            "max_denied_in_10_min",
            summaries.iter().map(|s| s.max_denied_in_10_min).collect(),
        ),
        text("source_ips", list(|s| &s.source_ips)),
        text("user_agents", list(|s| &s.user_agents)),
        text("regions", list(|s| &s.regions)),
        text("services", list(|s| &s.services)),
        text("top_calls", list(|s| &s.top_calls)),
        text(
            "minted",
            summaries.iter().map(|s| Some(s.minted.join(" "))).collect(),
        ),
    ];
    DataFrame::new(summaries.len(), columns)
}

fn join_counted(values: &[Counted], limit: usize) -> String {
    let mut text = values
        .iter()
        .take(limit)
        .map(|counted| format!("{} ({})", counted.value, counted.count))
        .collect::<Vec<_>>()
        .join("; ");
    if values.len() > limit {
        text.push_str(&format!("; +{} more", values.len() - limit));
    }
    text
}
