//! `trailhound ingest`.

use anyhow::Context;

use super::args::{Cli, IngestArgs};
use crate::exit::Outcome;
use crate::ingest::{IngestOptions, Reporter, ingest};
use crate::query::stats::stats;
use crate::store::Store;

pub fn run(cli: &Cli, args: &IngestArgs) -> anyhow::Result<Outcome> {
    let options = IngestOptions {
        max_object_size: args.max_object_size,
        threads: args.threads.map(usize::from),
        ..IngestOptions::default()
    };
    let reporter = Reporter::new(cli.quiet);
    let summary = ingest(&cli.store, &args.paths, &options, &reporter)
        .with_context(|| format!("ingest into {} failed", cli.store.display()))?;
    reporter.finish();

    if !reporter.is_quiet() {
        for line in summary.lines() {
            reporter.info(&line);
        }
        let store = Store::open(&cli.store)?;
        let totals = stats(&store).context("cannot count the store's events")?;
        reporter.info(&format!(
            "  store    {}: {} events in {} rows from {} source objects",
            cli.store.display(),
            totals.events,
            totals.rows,
            totals.sources
        ));
    }
    Ok(if summary.had_errors() {
        Outcome::Errors
    } else {
        Outcome::Success
    })
}
