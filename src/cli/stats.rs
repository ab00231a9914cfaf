//! `trailhound stats`.

use std::io::Write;

use anyhow::Context;

use super::args::{Cli, StatsArgs, StatsFormat};
use crate::exit::Outcome;
use crate::query::stats::stats;
use crate::store::Store;

pub fn run(cli: &Cli, args: &StatsArgs) -> anyhow::Result<Outcome> {
    let store = Store::open(&cli.store)?;
    let stats = stats(&store).context("cannot compute store statistics")?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        StatsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &stats)?;
            writeln!(out)?;
        }
        StatsFormat::Table => {
            let none = || "-".to_string();
            writeln!(out, "store            {}", cli.store.display())?;
            writeln!(
                out,
                "events           {} distinct ({} rows)",
                stats.events, stats.rows
            )?;
            writeln!(out, "accounts         {}", stats.accounts)?;
            writeln!(out, "regions          {}", stats.regions)?;
            writeln!(
                out,
                "time span        {} to {}",
                stats.first_event_time.clone().unwrap_or_else(none),
                stats.last_event_time.clone().unwrap_or_else(none)
            )?;
            writeln!(
                out,
                "source objects   {} ingested ({} partial), {} failed, {} digest files, {} skipped",
                stats.sources,
                stats.partial_sources,
                stats.failed_sources,
                stats.digest_sources,
                stats.skipped_sources
            )?;
            writeln!(out, "data files       {}", stats.data_files)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Success)
}
