//! `trailhound man`: manual pages generated from the clap definition by
//! `clap_mangen`.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use super::args::{Cli, ManArgs};
use crate::exit::Outcome;

pub fn run(cli: &Cli, args: &ManArgs) -> anyhow::Result<Outcome> {
    let command = Cli::command();
    let Some(dir) = &args.out_dir else {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        clap_mangen::Man::new(command)
            .render(&mut out)
            .context("cannot write the manual page")?;
        out.flush().context("cannot write the manual page")?;
        return Ok(Outcome::Success);
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    clap_mangen::generate_to(command, dir)
        .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
    if !cli.quiet {
        eprintln!("trailhound: manual pages written to {}", dir.display());
    }
    Ok(Outcome::Success)
}
