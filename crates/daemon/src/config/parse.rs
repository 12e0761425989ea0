//! TOML text to [`RawConfig`], reporting every schema mistake (unknown key, wrong type), not only
//! the first one serde stops at.
//!
//! Serde stops at the first error. To find the next one, the offending `key = value` is blanked
//! out with spaces — byte offsets, and so every later span, stay as they were — and the text is
//! parsed again, at most [`MAX_SCHEMA_ERRORS`] times. A syntax error, or a mistake in a table
//! header, stops the search (blanking a header would change the meaning of what follows).

use core::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};
use zeroize::Zeroizing;

use super::error::{Diagnostics, closest};
use super::raw::{RawConfig, TABLES};

/// Schema errors reported before giving up.
const MAX_SCHEMA_ERRORS: usize = 50;

/// Parses the text; `None` if even the schema could not be satisfied after blanking.
pub(crate) fn parse(diag: &mut Diagnostics<'_>) -> Option<RawConfig> {
    let mut work = Zeroizing::new(diag.text().to_owned());
    for _ in 0..MAX_SCHEMA_ERRORS {
        let err = match toml::from_str::<RawConfig>(&work) {
            Ok(raw) => return Some(raw),
            Err(e) => e,
        };
        let span = err.span().unwrap_or(0..0);
        let tree = match DeTable::parse(&work) {
            Ok(tree) => tree,
            Err(syntax) => {
                let span = syntax.span().unwrap_or(0..0);
                diag.error(
                    span,
                    format!("TOML syntax error: {}", syntax.message().trim()),
                );
                return None;
            }
        };
        let entry = innermost_entry(tree.get_ref(), &span, &work);
        let key = entry.as_ref().map(|(k, _)| k.clone());
        diag.error(span.clone(), describe(err.message(), key.as_deref()));
        let (_, blank) = entry?;
        blank_out(&mut work, blank);
        diag.key_dropped();
    }
    None
}

/// The key and the `key = value` byte range of the innermost entry around `span` that can be
/// removed without changing the document's structure (not a table header).
fn innermost_entry(
    table: &DeTable<'_>,
    span: &Range<usize>,
    text: &str,
) -> Option<(String, Range<usize>)> {
    for (k, v) in table.iter() {
        if let Some(inner) = innermost_in_value(v, span, text) {
            return Some(inner);
        }
        let whole = k.span().start..v.span().end;
        let inside = whole.start <= span.start && span.end <= whole.end;
        if inside || k.span() == *span {
            return removable(text, &whole).then(|| (k.get_ref().to_string(), whole));
        }
    }
    None
}

fn innermost_in_value(
    v: &Spanned<DeValue<'_>>,
    span: &Range<usize>,
    text: &str,
) -> Option<(String, Range<usize>)> {
    match v.get_ref() {
        DeValue::Table(t) => innermost_entry(t, span, text),
        DeValue::Array(items) => items
            .iter()
            .find_map(|item| innermost_in_value(item, span, text)),
        _ => None,
    }
}

/// Whether `key = value` at `range` is a plain line or an inline-table member (not a header).
fn removable(text: &str, range: &Range<usize>) -> bool {
    let before = &text[..range.start];
    let line = before.rsplit('\n').next().unwrap_or("").trim_end();
    line.is_empty() || line.ends_with('{') || line.ends_with(',')
}

/// Replaces the entry (and a comma after it) with spaces, keeping newlines.
fn blank_out(text: &mut Zeroizing<String>, mut range: Range<usize>) {
    let after = &text[range.end..];
    let ws = after.len() - after.trim_start_matches([' ', '\t']).len();
    if after[ws..].starts_with(',') {
        range.end += ws + 1;
    }
    let blanked: String = text[range.clone()]
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect();
    // Multi-byte characters become one space each: pad to keep the byte length.
    let pad = range.len() - blanked.len();
    let mut replacement = blanked;
    replacement.extend(core::iter::repeat_n(' ', pad));
    text.replace_range(range, &replacement);
}

/// The operator's message for a serde error.
fn describe(message: &str, key: Option<&str>) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or("");
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let table = TABLES
            .iter()
            .find(|(keys, _)| *keys == expected.as_slice())
            .map_or("this table", |(_, name)| *name);
        let hint = closest(field, &expected)
            .map(|c| format!("did you mean \"{c}\"? "))
            .unwrap_or_default();
        return format!(
            "unknown key \"{field}\" in {table} — {hint}valid keys: {}",
            expected.join(", ")
        );
    }
    let message = if message.contains("untagged enum RawPort") {
        "expected a port number or a string such as \"1024-65535\" or \"any\"".to_owned()
    } else if message.contains("untagged enum RawCount") {
        "expected a number or a string with a unit such as \"1GB\"".to_owned()
    } else {
        message.replace("invalid type: ", "found ")
    };
    match key {
        Some(k) => format!("wrong value for \"{k}\": {message}"),
        None => message,
    }
}
