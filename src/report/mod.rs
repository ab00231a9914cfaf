//! The investigation report: one data model rendered three ways, as a
//! self-contained HTML page, as Markdown and as JSON.
//!
//! The command layer gathers the results (lineages, findings, leftovers,
//! audit) into [`Report`]; every table is shaped here into plain text cells
//! so the HTML and Markdown templates show the same content in the same
//! order. Templates are minijinja files embedded at compile time; HTML
//! output is auto-escaped, and Markdown cells go through [`markdown_cell`],
//! because user agents, session names and request parameters come from the
//! attacker.

use std::path::Path;

use anyhow::Context;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use serde_json::Value;

use crate::render::escape_for_terminal;

const HTML_TEMPLATE: &str = include_str!("templates/report.html.j2");
const MARKDOWN_TEMPLATE: &str = include_str!("templates/report.md.j2");

/// A table of text cells.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|name| name.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Builds a table from a list of JSON objects: the columns are the keys
    /// of the first object, in order. Lists are joined with ", " and nested
    /// objects are shown as JSON.
    pub fn from_objects(items: &[Value]) -> Table {
        let Some(first) = items.iter().find_map(Value::as_object) else {
            return Table::default();
        };
        let columns: Vec<String> = first.keys().cloned().collect();
        let rows = items
            .iter()
            .filter_map(Value::as_object)
            .map(|object| {
                columns
                    .iter()
                    .map(|column| cell_text(object.get(column).unwrap_or(&Value::Null)))
                    .collect()
            })
            .collect();
        Table { columns, rows }
    }
}

/// Text of one JSON value in a table cell.
pub fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(cell_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// One implicated credential: the root of a lineage and everything under it.
#[derive(Debug, Clone, Serialize)]
pub struct ImplicatedCredential {
    pub access_key_id: String,
    /// Why it is implicated: finding titles, or "named on the command line".
    pub reasons: Vec<String>,
    /// The lineage as an indented text tree.
    pub tree_text: String,
    /// One row per credential of the lineage.
    pub nodes: Table,
    pub event_count: u64,
    /// Timeline files, relative to the report folder.
    pub timeline_csv: String,
    pub timeline_timesketch: String,
}

/// A titled table with an optional note.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub note: Option<String>,
    pub table: Table,
}

/// Everything the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub generated_at: String,
    pub version: String,
    /// Key facts: sources read, events, time span, accounts, counts.
    pub overview: Vec<(String, String)>,
    pub implicated: Vec<ImplicatedCredential>,
    /// Findings grouped by the lineage root they belong to.
    pub finding_groups: Vec<Section>,
    /// Things the intruders created that no later event removed.
    pub action_needed: Table,
    /// Everything the lineages created, with its removal.
    pub created: Table,
    pub audit: Vec<Section>,
    /// Source objects that failed or were only partly read.
    pub coverage: Table,
}

/// Writes `report.html`, `report.md` and `report.json` (the latter from
/// `data`, the structured results) into `dir`.
pub fn write_report(dir: &Path, report: &Report, data: &Value) -> anyhow::Result<()> {
    let shown = visible(report);
    let html = render(&shown, "report.html", HTML_TEMPLATE)?;
    let markdown = render(&shown, "report.md", MARKDOWN_TEMPLATE)?;
    crate::export::write_bytes(&dir.join("report.html"), html.as_bytes())?;
    crate::export::write_bytes(&dir.join("report.md"), markdown.as_bytes())?;
    let mut json = serde_json::to_vec_pretty(data)?;
    json.push(b'\n');
    crate::export::write_bytes(&dir.join("report.json"), &json)
}

/// Returns a copy whose text shows control, bidirectional and zero-width
/// characters as escapes, so a name from the logs cannot reorder or hide
/// the text on screen. The tree text is escaped already, line by line.
fn visible(report: &Report) -> Report {
    let text = |value: &str| escape_for_terminal(value).into_owned();
    let table = |table: &Table| Table {
        columns: table.columns.iter().map(|column| text(column)).collect(),
        rows: table
            .rows
            .iter()
            .map(|row| row.iter().map(|cell| text(cell)).collect())
            .collect(),
    };
    let section = |section: &Section| Section {
        title: text(&section.title),
        note: section.note.as_deref().map(text),
        table: table(&section.table),
    };
    Report {
        title: text(&report.title),
        generated_at: report.generated_at.clone(),
        version: report.version.clone(),
        overview: report
            .overview
            .iter()
            .map(|(label, value)| (text(label), text(value)))
            .collect(),
        implicated: report
            .implicated
            .iter()
            .map(|credential| ImplicatedCredential {
                access_key_id: text(&credential.access_key_id),
                reasons: credential
                    .reasons
                    .iter()
                    .map(|reason| text(reason))
                    .collect(),
                tree_text: credential.tree_text.clone(),
                nodes: table(&credential.nodes),
                event_count: credential.event_count,
                timeline_csv: text(&credential.timeline_csv),
                timeline_timesketch: text(&credential.timeline_timesketch),
            })
            .collect(),
        finding_groups: report.finding_groups.iter().map(section).collect(),
        action_needed: table(&report.action_needed),
        created: table(&report.created),
        audit: report.audit.iter().map(section).collect(),
        coverage: table(&report.coverage),
    }
}

fn render(report: &Report, name: &str, source: &str) -> anyhow::Result<String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.add_filter("md", |text: String| markdown_cell(&text));
    env.add_template(name, source)
        .with_context(|| format!("template {name} is invalid"))?;
    let template = env.get_template(name)?;
    template
        .render(minijinja::context! { report => report })
        .with_context(|| format!("cannot render {name}"))
}

/// Escapes text for a Markdown table cell: characters that start links,
/// emphasis, code, HTML or cell breaks are backslash-escaped, line breaks
/// become spaces and control characters are dropped.
pub fn markdown_cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' | '\t' => escaped.push(' '),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_with(cell: &str) -> Report {
        let mut created = Table::new(&["kind", "name"]);
        created.push(vec!["user".into(), cell.into()]);
        Report {
            title: "t".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
            version: "0".into(),
            overview: vec![("events".into(), "1".into())],
            implicated: Vec::new(),
            finding_groups: Vec::new(),
            action_needed: created.clone(),
            created,
            audit: Vec::new(),
            coverage: Table::default(),
        }
    }

    #[test]
    fn html_escapes_attacker_text() {
        let html = render(
            &report_with("<script>alert(1)</script>"),
            "report.html",
            HTML_TEMPLATE,
        )
        .unwrap();
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    }

    #[test]
    fn markdown_escapes_cell_breaks_and_links() {
        let markdown = render(
            &report_with("a|b [x](http://e) `c`\nd"),
            "report.md",
            MARKDOWN_TEMPLATE,
        )
        .unwrap();
        assert!(markdown.contains(r"a\|b \[x\](http://e) \`c\` d"));
    }

    #[test]
    fn bidi_and_escape_characters_are_shown() {
        let shown = visible(&report_with("evil\u{202e}gnp.exe\u{1b}[31m"));
        let html = render(&shown, "report.html", HTML_TEMPLATE).unwrap();
        assert!(!html.contains('\u{202e}'));
        assert!(!html.contains('\u{1b}'));
        assert!(html.contains("evil\\u{202e}gnp.exe"));
    }

    #[test]
    fn table_from_objects_keeps_key_order() {
        let items = vec![serde_json::json!({"b": 1, "a": ["x", "y"], "c": null})];
        let table = Table::from_objects(&items);
        assert_eq!(table.columns, ["b", "a", "c"]);
        assert_eq!(table.rows, [["1", "x, y", ""]]);
    }
}
