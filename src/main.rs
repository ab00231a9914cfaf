//! The `trailhound` command: parses arguments, runs the command and turns the
//! outcome into the process exit code.

use std::process::ExitCode;

// Ingest allocates and frees millions of small strings across threads;
// mimalloc does that markedly faster than the system allocator (measured
// with the corpus benchmark, see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    trailhound::cli::main()
}
