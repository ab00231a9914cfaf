//! Writing query results to a terminal or a file, in every output format.
//!
//! Every query command hands its result `DataFrame` to [`emit`], so each one
//! offers the same formats and `-o FILE`. Text formats go through
//! [`ResultTable`]; Parquet is written from the frame itself, so column types
//! survive the export.

mod timesketch;

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

/// Writes `frame` in the format and to the destination of `output`. Files
/// are written to a temporary file beside the target and renamed when
/// complete, so a failed export never leaves a half-written file under the
/// requested name. Devices, pipes and symlinks are written through.
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
    // Devices, pipes and symlinks are written through, never replaced: a
    // rename over `/dev/null` or a FIFO would destroy it.
    let existing = std::fs::symlink_metadata(path).ok();
    if existing
        .as_ref()
        .is_some_and(|meta| !meta.file_type().is_file() && !meta.is_dir())
    {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut out = BufWriter::new(file);
        write(&mut out).with_context(|| format!("cannot write {}", path.display()))?;
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(());
    }
    if existing.as_ref().is_some_and(|meta| meta.is_dir()) {
        anyhow::bail!("cannot write {}: it is a folder", path.display());
    }

    // The temporary file gets a random name and is created exclusively beside
    // the target, so a planted symlink cannot redirect the write. It is
    // removed if anything below fails.
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".trailhound-")
        .suffix(".partial")
        .tempfile_in(folder)
        .with_context(|| format!("cannot create a temporary file in {}", folder.display()))?;
    let mut out = BufWriter::new(temp);
    write(&mut out).with_context(|| format!("cannot write {}", path.display()))?;
    let temp = out
        .into_inner()
        .map_err(|err| err.into_error())
        .with_context(|| format!("cannot write {}", path.display()))?;
    temp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    // An existing file keeps its permissions, so a private export stays private.
    if let Some(meta) = &existing {
        let _ = std::fs::set_permissions(temp.path(), meta.permissions());
    }
    temp.persist(path)
        .map_err(|err| err.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
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
