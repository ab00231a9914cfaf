//! `trailhound lineage`.

use std::io::Write;

use anyhow::Context;

use super::args::{Cli, LineageArgs, LineageFormat};
use super::timeline::resolve_window;
use crate::exit::Outcome;
use crate::query::lineage::{LineageTree, lineage};
use crate::render::lineage::{render_dot, render_mermaid, render_tree};
use crate::render::{Cell, ResultTable, RowFormat};
use crate::store::Store;

pub fn run(cli: &Cli, args: &LineageArgs) -> anyhow::Result<Outcome> {
    let (since, until) = resolve_window(&args.window)?;
    let store = Store::open(&cli.store)?;
    let tree = lineage(&store, &args.access_key, since, until).context("lineage query failed")?;
    let root_seen = tree.nodes.first().is_some_and(|root| root.event_count > 0);
    if !root_seen && tree.nodes.len() == 1 {
        if !cli.quiet {
            eprintln!(
                "trailhound: no event in the store was made with {}",
                crate::render::escape_for_terminal(&args.access_key)
            );
        }
        return Ok(Outcome::NothingFound);
    }

    let mut bytes = Vec::new();
    match args.format {
        LineageFormat::Tree => bytes.extend_from_slice(render_tree(&tree).as_bytes()),
        LineageFormat::Dot => bytes.extend_from_slice(render_dot(&tree).as_bytes()),
        LineageFormat::Mermaid => bytes.extend_from_slice(render_mermaid(&tree).as_bytes()),
        LineageFormat::Json => {
            serde_json::to_writer_pretty(&mut bytes, &tree)?;
            bytes.push(b'\n');
        }
        LineageFormat::Jsonl => node_table(&tree)?.write(RowFormat::Jsonl, &mut bytes)?,
        LineageFormat::Csv => node_table(&tree)?.write(RowFormat::Csv, &mut bytes)?,
    }
    match &args.output {
        Some(path) => crate::export::write_bytes(path, &bytes)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .context("cannot write to standard output")?;
            out.flush().context("cannot write to standard output")?;
        }
    }
    if !cli.quiet && args.format == LineageFormat::Tree {
        let inferred = tree.nodes.iter().filter(|node| node.inferred).count();
        eprintln!(
            "trailhound: {} credentials in the lineage of {} ({inferred} inferred)",
            tree.nodes.len(),
            crate::render::escape_for_terminal(&args.access_key)
        );
    }
    Ok(Outcome::Success)
}

/// Builds one row per credential, with lists joined by spaces.
fn node_table(tree: &LineageTree) -> anyhow::Result<ResultTable> {
    let mut table = ResultTable::default();
    for node in &tree.nodes {
        let value = serde_json::to_value(node)?;
        let object = value.as_object().context("node is not an object")?;
        if table.columns.is_empty() {
            table.columns = object.keys().cloned().collect();
        }
        let row = object
            .values()
            .map(|value| match value {
                serde_json::Value::Null => Cell::Null,
                serde_json::Value::Bool(flag) => Cell::Bool(*flag),
                serde_json::Value::Number(number) => number.as_u64().map_or(Cell::Null, Cell::UInt),
                serde_json::Value::String(text) => Cell::Text(text.clone()),
                serde_json::Value::Array(items) => Cell::Text(
                    items
                        .iter()
                        .filter_map(|item| item.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                other => Cell::Text(other.to_string()),
            })
            .collect();
        table.rows.push(row);
    }
    Ok(table)
}
