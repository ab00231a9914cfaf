//! The `trailhound` command: parses arguments, runs the command and turns the
//! outcome into the process exit code.

use std::process::ExitCode;

// Ingest allocates and frees millions of small strings across threads.
// mimalloc does that faster than the system allocator: the corpus benchmark
// in docs/benchmarks.md measured the difference.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    trailhound::cli::main()
}
