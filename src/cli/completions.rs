//! `trailhound completions SHELL`: shell completion scripts generated from
//! the clap definition by `clap_complete`, so they never drift from it.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs};
use crate::exit::Outcome;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    clap_complete::generate(args.shell, &mut command, "trailhound", &mut out);
    out.flush().context("cannot write the completion script")?;
    Ok(Outcome::Success)
}
