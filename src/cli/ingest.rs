//! `trailhound ingest`.

use anyhow::Context;

use super::args::{Cli, IngestArgs, S3Args, TimeWindowArgs};
use super::timeline::resolve_window;
use crate::exit::Outcome;
use crate::ingest::{IngestOptions, Reporter, ingest};
use crate::query::stats::stats;
use crate::source::layout::LayoutFilter;
use crate::source::s3::{S3Settings, S3Url, is_s3_url};
use crate::store::Store;

/// Resolves the S3 options shared by `ingest` and `investigate`.
pub(super) fn s3_settings(args: &S3Args) -> S3Settings {
    S3Settings {
        profile: args.profile.clone(),
        bucket_region: args.bucket_region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        path_style: args.path_style,
        no_sign_request: args.no_sign_request,
        concurrency: usize::from(args.concurrency),
    }
}

pub fn run(cli: &Cli, args: &IngestArgs) -> anyhow::Result<Outcome> {
    let (since, until) = resolve_window(&TimeWindowArgs {
        since: args.window.since.clone(),
        until: args.window.until.clone(),
    })?;
    for path in &args.paths {
        if is_s3_url(path) {
            S3Url::parse(path).map_err(|reason| anyhow::anyhow!(reason))?;
        }
    }
    let options = IngestOptions {
        max_object_size: args.max_object_size,
        threads: args.threads.map(usize::from),
        filter: LayoutFilter::new(since, until, args.accounts.clone(), args.regions.clone()),
        s3: s3_settings(&args.s3),
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
