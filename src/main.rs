//! The `trailhound` command: parses arguments, runs the command and turns the
//! outcome into the process exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    trailhound::cli::main()
}
