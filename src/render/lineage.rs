//! Rendering a credential lineage as a text tree, Graphviz DOT or Mermaid.
//!
//! Principal ARNs, session names and addresses come from the logs and an
//! attacker chooses some of them (role session names, user names), so every
//! label is escaped for the target: terminal escapes for the tree, quoting
//! for DOT and Mermaid.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::query::lineage::{LineageNode, LineageTree};
use crate::render::escape_for_terminal;
use crate::time::format_rfc3339;

/// Most source addresses listed on one tree line.
const TREE_IPS_SHOWN: usize = 3;

/// Renders the lineage as an indented tree for the terminal.
pub fn render_tree(tree: &LineageTree) -> String {
    let children = children_of(tree);
    let mut out = String::new();
    if let Some(root) = tree.nodes.first() {
        out.push_str(&node_line(root));
        out.push('\n');
        write_children(&mut out, tree, &children, 0, "");
    }
    out
}

fn write_children(
    out: &mut String,
    tree: &LineageTree,
    children: &HashMap<&str, Vec<usize>>,
    parent: usize,
    indent: &str,
) {
    let Some(kids) = children.get(tree.nodes[parent].access_key_id.as_str()) else {
        return;
    };
    for (position, &child) in kids.iter().enumerate() {
        let last = position + 1 == kids.len();
        let node = &tree.nodes[child];
        let branch = if last { "└─ " } else { "├─ " };
        let how = match (&node.minted_by_event_name, node.minted_at) {
            (Some(name), Some(at)) => format!("{name} at {} → ", format_rfc3339(at)),
            (Some(name), None) => format!("{name} → "),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{indent}{branch}{}{}",
            escape_for_terminal(&how),
            node_line(node)
        );
        let deeper = format!("{indent}{}", if last { "   " } else { "│  " });
        if let Some(evidence) = &node.evidence {
            let _ = writeln!(
                out,
                "{deeper}   inferred: {}",
                escape_for_terminal(evidence)
            );
        }
        write_children(out, tree, children, child, &deeper);
    }
}

fn node_line(node: &LineageNode) -> String {
    let mut line = format!("{} [{}]", node.access_key_id, node.kind.label());
    if let Some(arn) = &node.principal_arn {
        let _ = write!(line, " {arn}");
    }
    let _ = write!(line, " · {} events", node.event_count);
    if let (Some(first), Some(last)) = (node.first_seen, node.last_seen) {
        let _ = write!(
            line,
            " {} – {}",
            format_rfc3339(first),
            format_rfc3339(last)
        );
    }
    if !node.source_ips.is_empty() {
        let shown: Vec<&str> = node
            .source_ips
            .iter()
            .take(TREE_IPS_SHOWN)
            .map(String::as_str)
            .collect();
        let more = node.source_ips.len().saturating_sub(TREE_IPS_SHOWN);
        let _ = write!(line, " from {}", shown.join(", "));
        if more > 0 {
            let _ = write!(line, " (+{more})");
        }
    }
    if node.inferred {
        line.push_str(" (inferred)");
    }
    escape_for_terminal(&line).into_owned()
}

/// Renders the lineage as a Graphviz DOT digraph.
pub fn render_dot(tree: &LineageTree) -> String {
    let mut out = String::from(
        "digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for (index, node) in tree.nodes.iter().enumerate() {
        let label = label_lines(node).join("\\n");
        let style = if node.inferred { ", style=dashed" } else { "" };
        let _ = writeln!(
            out,
            "  n{index} [label=\"{}\"{style}];",
            dot_escape_keep_newlines(&label)
        );
    }
    let index_of = index_by_id(tree);
    for (index, node) in tree.nodes.iter().enumerate() {
        if let Some(parent) = node
            .parent_access_key_id
            .as_deref()
            .and_then(|id| index_of.get(id))
        {
            let label = node.minted_by_event_name.as_deref().unwrap_or("");
            let style = if node.inferred { ", style=dashed" } else { "" };
            let _ = writeln!(
                out,
                "  n{parent} -> n{index} [label=\"{}\"{style}];",
                dot_escape(label)
            );
        }
    }
    out.push_str("}\n");
    out
}

/// Renders the lineage as a Mermaid flowchart.
pub fn render_mermaid(tree: &LineageTree) -> String {
    let mut out = String::from("flowchart LR\n");
    for (index, node) in tree.nodes.iter().enumerate() {
        let label = label_lines(node)
            .iter()
            .map(|line| mermaid_escape(line))
            .collect::<Vec<_>>()
            .join("<br/>");
        let _ = writeln!(out, "  n{index}[\"{label}\"]");
    }
    let index_of = index_by_id(tree);
    for (index, node) in tree.nodes.iter().enumerate() {
        if let Some(parent) = node
            .parent_access_key_id
            .as_deref()
            .and_then(|id| index_of.get(id))
        {
            let label = mermaid_escape(node.minted_by_event_name.as_deref().unwrap_or("mint"));
            let arrow = if node.inferred { "-.->" } else { "-->" };
            let _ = writeln!(out, "  n{parent} {arrow}|\"{label}\"| n{index}");
        }
    }
    out
}

fn label_lines(node: &LineageNode) -> Vec<String> {
    let mut lines = vec![format!("{} ({})", node.access_key_id, node.kind.label())];
    if let Some(arn) = &node.principal_arn {
        lines.push(arn.clone());
    }
    lines.push(format!("{} events", node.event_count));
    lines
}

fn children_of(tree: &LineageTree) -> HashMap<&str, Vec<usize>> {
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, node) in tree.nodes.iter().enumerate() {
        if let Some(parent) = node.parent_access_key_id.as_deref() {
            children.entry(parent).or_default().push(index);
        }
    }
    children
}

fn index_by_id(tree: &LineageTree) -> HashMap<&str, usize> {
    tree.nodes
        .iter()
        .enumerate()
        .map(|(index, node)| (node.access_key_id.as_str(), index))
        .collect()
}

/// Escapes text for a quoted DOT string: backslashes, quotes and line breaks.
fn dot_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' | '\r' => escaped.push(' '),
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Like [`dot_escape`], but keeps the `\n` separators the label builder put in.
fn dot_escape_keep_newlines(label: &str) -> String {
    label
        .split("\\n")
        .map(dot_escape)
        .collect::<Vec<_>>()
        .join("\\n")
}

/// Escapes text for a quoted Mermaid label, using its entity codes.
fn mermaid_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => escaped.push_str("#quot;"),
            '#' => escaped.push_str("#35;"),
            '<' => escaped.push_str("#lt;"),
            '>' => escaped.push_str("#gt;"),
            '|' => escaped.push_str("#124;"),
            '`' => escaped.push_str("#96;"),
            // `%%` starts a Mermaid comment or directive anywhere on a line.
            '%' => escaped.push_str("#37;"),
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::lineage::NodeKind;

    fn node(id: &str, parent: Option<&str>, arn: &str) -> LineageNode {
        LineageNode {
            access_key_id: id.into(),
            parent_access_key_id: parent.map(Into::into),
            minted_by_event_id: parent.map(|_| "e1".into()),
            minted_by_event_name: parent.map(|_| "AssumeRole".into()),
            principal_arn: Some(arn.into()),
            inferred: false,
            first_seen: None,
            last_seen: None,
            event_count: 2,
            source_ips: vec!["192.0.2.1".into()],
            kind: NodeKind::of_key(id),
            depth: u32::from(parent.is_some()),
            minted_at: None,
            expiration: None,
            account_id: None,
            related_event_ids: Vec::new(),
            evidence: None,
            session_keys: Vec::new(),
        }
    }

    fn tree() -> LineageTree {
        LineageTree {
            root: "AKIA1".into(),
            nodes: vec![
                node("AKIA1", None, "arn:aws:iam::1:user/a"),
                node(
                    "ASIA2",
                    Some("AKIA1"),
                    "arn:aws:sts::1:assumed-role/r/\"x\"|<b>\u{1b}[31m",
                ),
            ],
        }
    }

    #[test]
    fn tree_nests_children_and_escapes() {
        let text = render_tree(&tree());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("AKIA1 [long-term]"));
        assert!(lines[1].starts_with("└─ AssumeRole → ASIA2 [temporary]"));
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn dot_quotes_attacker_text() {
        let dot = render_dot(&tree());
        assert!(dot.contains("n0 -> n1 [label=\"AssumeRole\"]"));
        assert!(dot.contains("r/\\\"x\\\"|<b> [31m"));
    }

    #[test]
    fn mermaid_escapes_directive_markers() {
        assert_eq!(mermaid_escape("%%{init}%%"), "#37;#37;{init}#37;#37;");
    }

    #[test]
    fn mermaid_uses_entity_codes() {
        let mermaid = render_mermaid(&tree());
        assert!(mermaid.contains("n0 -->|\"AssumeRole\"| n1"));
        assert!(mermaid.contains("r/#quot;x#quot;#124;#lt;b#gt; [31m"));
    }
}
