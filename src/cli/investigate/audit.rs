//! The audit part of the investigation: the four audit sections as report
//! tables, and the audit data for report.json.

use std::collections::BTreeSet;

use anyhow::Context;
use serde_json::Value;

use super::super::args::AuditSection;
use super::super::audit::{heading, section_table};
use crate::query::audit::{AuditOptions, audit};
use crate::render::ResultTable;
use crate::report::{Section, Table};
use crate::store::Store;

/// The audit as report sections and as data.
pub struct AuditResult {
    pub sections: Vec<Section>,
    pub data: Value,
}

const SECTIONS: [AuditSection; 4] = [
    AuditSection::Grants,
    AuditSection::CrossAccount,
    AuditSection::Roles,
    AuditSection::Keys,
];

/// Runs the audit over the whole store.
pub fn run_audit(
    store: &Store,
    org_accounts: Option<BTreeSet<String>>,
) -> anyhow::Result<AuditResult> {
    let options = AuditOptions {
        org_accounts,
        ..AuditOptions::default()
    };
    let report = audit(store, &options).context("audit failed")?;
    let sections = SECTIONS
        .iter()
        .map(|&section| Section {
            title: heading(section).to_string(),
            note: None,
            table: text_table(&section_table(&report, section)),
        })
        .collect();
    Ok(AuditResult {
        sections,
        data: serde_json::to_value(&report)?,
    })
}

/// Converts typed cells to the report's text cells.
pub fn text_table(table: &ResultTable) -> Table {
    Table {
        columns: table.columns.clone(),
        rows: table
            .rows
            .iter()
            .map(|row| row.iter().map(|cell| cell.text()).collect())
            .collect(),
    }
}
