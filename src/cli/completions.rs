//! `trailhound completions SHELL`: shell completion scripts generated from
//! the clap definition by `clap_complete`, so they never drift from it.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs};
use crate::exit::Outcome;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    // clap_complete panics when its writer fails, so the script is built in
    // memory and written here, where a full disk or closed pipe is an error.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "trailhound", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("cannot write the completion script to standard output")?;
    Ok(Outcome::Success)
}
