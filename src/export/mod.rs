//! Writing query results to a terminal or a file, in every output format.
//!
//! Every query command hands its result `DataFrame` to [`emit`], so each one
//! offers the same formats and `-o FILE`. Text formats go through
//! [`ResultTable`]; Parquet is written from the frame itself, so column types
//! survive the export.

mod timesketch;

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use polars::prelude::*;

use crate::render::{ResultTable, RowFormat};

pub use timesketch::write_timesketch;

/// Destination and format of a command's rows.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: RowFormat,
    /// A file to write; standard output when `None`.
    pub path: Option<PathBuf>,
}

impl Output {
    /// Returns true when the rows go to a terminal as a table, where a
    /// command may add a count line on standard error.
    pub fn is_table(&self) -> bool {
        self.format == RowFormat::Table
    }
}

/// Writes `frame` in the format and to the destination of `output`. Files are written under a temporary name
/// beside the target and renamed when complete, so a failed export never
/// leaves a half-written file under the requested name.
pub fn emit(frame: &mut DataFrame, output: &Output) -> anyhow::Result<()> {
    match &output.path {
        Some(path) => write_file(frame, output.format, path),
        None => write_stdout(frame, output.format),
    }
}

fn write_stdout(frame: &mut DataFrame, format: RowFormat) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    if format == RowFormat::Parquet && stdout.is_terminal() {
        anyhow::bail!(
            "Parquet output is binary; write it with -o FILE or redirect standard output"
        );
    }
    let mut out = BufWriter::new(stdout.lock());
    write_to(frame, format, &mut out).context("cannot write to standard output")?;
    out.flush().context("cannot write to standard output")
}

fn write_file(frame: &mut DataFrame, format: RowFormat, path: &Path) -> anyhow::Result<()> {
    write_file_with(path, |out| write_to(frame, format, out))
}

/// Writes `bytes` to `path` the same safe way as [`emit`].
pub fn write_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_file_with(path, |out| Ok(out.write_all(bytes)?))
}

fn write_file_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(".partial");
    let temp = path.with_file_name(temp_name);

    let result = (|| -> anyhow::Result<()> {
        let file =
            File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        let file = out.into_inner().map_err(|err| err.into_error())?;
        file.sync_all()?;
        Ok(())
    })();
    if let Err(err) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(err.context(format!("cannot write {}", path.display())));
    }
    std::fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `frame` in `format` to `out`.
pub fn write_to(
    frame: &mut DataFrame,
    format: RowFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if format == RowFormat::Parquet {
        let written = ParquetWriter::new(out)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(frame);
        anyhow::Context::context(written, "cannot encode Parquet")?;
        return Ok(());
    }
    let table = ResultTable::from_dataframe(frame)?;
    match format {
        RowFormat::Timesketch => {
            let left_out = write_timesketch(&table, out)?;
            if left_out > 0 {
                tracing::warn!(
                    "{left_out} rows without a time were left out of the Timesketch output"
                );
            }
        }
        text_format => table.write(text_format, out)?,
    }
    Ok(())
}
