//! Neutralising attacker-controlled strings for the places they are shown.
//!
//! userAgent, requestParameters, error messages, S3 keys and file names come
//! from the requester or from the writer of the file. On a terminal they could
//! carry escape sequences that rewrite the screen, or bidirectional and
//! zero-width characters that make text read differently from what it is. In a
//! spreadsheet, a cell that starts with `=`, `+`, `-` or `@` can run as a
//! formula. Files and pipes in JSON formats get the exact text.

use std::borrow::Cow;
use std::fmt::Write;

/// Returns true for characters that must not reach a terminal raw. These are
/// C0 and C1 controls, DEL, bidirectional controls, the line and paragraph
/// separators and the byte-order mark. Also included are zero-width and other
/// invisible characters: soft hyphen, Hangul fillers, tag characters and
/// interlinear annotation marks.
fn is_dangerous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}'
        | '\u{00ad}'
        | '\u{034f}'
        | '\u{115f}'..='\u{1160}'
        | '\u{180e}'
        | '\u{3164}'
        | '\u{ffa0}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{e0000}'..='\u{e007f}'
    )
}

/// Escapes dangerous characters as `\u{XXXX}` (and the usual `\n`, `\r`,
/// `\t`), leaving everything else, including other non-ASCII text, as it is.
pub fn escape_for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_dangerous(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Prefixes a CSV cell with `'` when a spreadsheet would read it as a formula:
/// it starts with `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn neutralise_csv_formula(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escape_covers_controls_bidi_and_zero_width() {
        assert_eq!(escape_for_terminal("a\u{1b}[31mb"), "a\\u{001b}[31mb");
        assert_eq!(escape_for_terminal("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape_for_terminal("x\u{200b}y"), "x\\u{200b}y");
        assert_eq!(escape_for_terminal("line\nnext"), "line\\nnext");
        assert_eq!(escape_for_terminal("\u{9b}"), "\\u{009b}");
        assert_eq!(escape_for_terminal("a\u{e0041}b"), "a\\u{e0041}b");
        assert_eq!(
            escape_for_terminal("soft\u{ad}hyphen"),
            "soft\\u{00ad}hyphen"
        );
    }

    #[test]
    fn terminal_escape_keeps_plain_unicode() {
        assert!(matches!(
            escape_for_terminal("Grüße 日本 😀"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn csv_guard_prefixes_formula_starts() {
        for text in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise_csv_formula(text), format!("'{text}"));
        }
        assert_eq!(neutralise_csv_formula("aws-cli/2"), "aws-cli/2");
        assert_eq!(neutralise_csv_formula(""), "");
    }
}
