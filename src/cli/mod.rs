//! The command layer: parses arguments, runs one command, renders its result
//! and maps the outcome to an exit code. Every error ends here, printed once
//! with its whole chain as `trailhound: error: …`.

pub mod args;
mod audit;
mod completions;
mod hunt;
mod ingest;
mod investigate;
mod lineage;
mod man;
mod rules;
mod stats;
mod summary;
mod timeline;

use std::process::ExitCode;

use clap::Parser;

use crate::exit::Outcome;
use crate::render::escape_for_terminal;
pub use args::{Cli, Command};

/// Runs the program: the whole of `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);

    match run(&cli) {
        Ok(outcome) => outcome.into(),
        Err(err) if is_broken_pipe(&err) => Outcome::Success.into(),
        Err(err) => {
            eprintln!(
                "trailhound: error: {}",
                escape_for_terminal(&format!("{err:#}"))
            );
            Outcome::Errors.into()
        }
    }
}

/// Runs the parsed command.
pub fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Ingest(args) => ingest::run(cli, args),
        Command::Timeline(args) => timeline::run(cli, args),
        Command::Stats(args) => stats::run(cli, args),
        Command::Lineage(args) => lineage::run(cli, args),
        Command::Summary(args) => summary::run(cli, args),
        Command::Investigate(args) => investigate::run(cli, args),
        Command::Audit(args) => audit::run(cli, args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(cli, args),
        Command::Hunt(args) => hunt::run(cli, args),
        Command::Rules(command) => rules::run(cli, command),
    }
}

/// Returns true for a closed pipe (`trailhound timeline | head`), which is a
/// normal end, not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Sends `tracing` output to standard error: warnings by default, debug with
/// `-v`, trace with `-vv`. `TRAILHOUND_LOG` overrides with a filter directive.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "trailhound=debug",
        _ => "trailhound=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRAILHOUND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
