//! `trailhound rules list`.

use std::io::Write;

use anyhow::Context;

use super::args::{Cli, HuntFormat, RulesCommand};
use crate::detect::RuleSet;
use crate::exit::Outcome;
use crate::render::{Cell, ResultTable, RowFormat};

pub fn run(_cli: &Cli, command: &RulesCommand) -> anyhow::Result<Outcome> {
    let RulesCommand::List(args) = command;
    let set = RuleSet::load(args.rules.as_deref())?;
    let columns = [
        "id",
        "severity",
        "tactic",
        "technique",
        "kind",
        "title",
        "origin",
    ];
    let rows = set
        .rules
        .iter()
        .map(|rule| {
            let kind = if rule.correlation.is_some() {
                "correlation"
            } else if rule.analysis.is_some() {
                "analysis"
            } else if !rule.report {
                "helper"
            } else {
                "event"
            };
            vec![
                Cell::Text(rule.id.clone()),
                Cell::Text(rule.severity.name().to_string()),
                Cell::Text(rule.tactic.name().to_string()),
                Cell::Text(rule.technique.clone()),
                Cell::Text(kind.to_string()),
                Cell::Text(rule.title.clone()),
                Cell::Text(rule.origin.clone()),
            ]
        })
        .collect();
    let table = ResultTable {
        columns: columns.iter().map(|name| name.to_string()).collect(),
        rows,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let format = match args.format {
        HuntFormat::Table => RowFormat::Table,
        HuntFormat::Jsonl => RowFormat::Jsonl,
        HuntFormat::Json => RowFormat::Json,
        HuntFormat::Csv => RowFormat::Csv,
    };
    table
        .write(format, &mut out)
        .context("cannot write the rule list")?;
    out.flush().context("cannot write the rule list")?;
    Ok(Outcome::Success)
}
