//! `trailhound timeline`.

use std::io::Write;

use anyhow::Context;

use super::args::{Cli, TimeWindowArgs, TimelineArgs};
use crate::exit::Outcome;
use crate::query::timeline::{TABLE_COLUMNS, TimelineFilter, timeline};
use crate::render::{ResultTable, RowFormat};
use crate::store::Store;
use crate::time::{Micros, parse_bound};

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
    let store = Store::open(&cli.store)?;
    let mut frame = timeline(&store, &filter).context("timeline query failed")?;
    if frame.height() == 0 {
        if !cli.quiet {
            eprintln!("trailhound: no event matches");
        }
        return Ok(Outcome::NothingFound);
    }

    if args.format == RowFormat::Table {
        frame = frame.select(TABLE_COLUMNS.iter().copied())?;
    }
    let table = ResultTable::from_dataframe(&frame)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    table
        .write(args.format, &mut out)
        .context("cannot write the timeline")?;
    out.flush().context("cannot write the timeline")?;
    if !cli.quiet && args.format == RowFormat::Table {
        eprintln!("trailhound: {} events", table.rows.len());
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
