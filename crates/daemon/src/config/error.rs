//! Configuration errors as the operator reads them: `file:line:column: what is wrong — how to
//! fix`, one per mistake, every mistake of the file at once (a compiler's habit, so that one edit
//! round fixes them all).

use core::fmt;
use core::ops::Range;
use std::path::{Path, PathBuf};

/// One mistake in a configuration file, located by line and column (both from 1; columns count
/// characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as named to the loader.
    pub file: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// Every mistake found in one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The errors.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }

    /// The errors as JSON objects `{file, line, column, message}`, as `config check --json`
    /// and the control socket's `reload` answer show them.
    pub fn to_json(&self) -> serde_json::Value {
        self.0
            .iter()
            .map(|e| {
                serde_json::json!({
                    "file": e.file.display().to_string(),
                    "line": e.line,
                    "column": e.column,
                    "message": e.message,
                })
            })
            .collect()
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Why [`Config::load`](super::Config::load) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read (the operator's environment, not the file's content).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file was read and is not a valid configuration.
    #[error("{0}")]
    Invalid(ConfigErrors),
}

/// The source text, to turn byte spans into lines and columns, and the collected errors.
pub(crate) struct Diagnostics<'a> {
    file: &'a Path,
    text: &'a str,
    line_starts: Vec<usize>,
    errors: Vec<(usize, ConfigError)>,
    /// Whether a key was dropped for a schema error (so "missing" errors may be consequences).
    keys_dropped: bool,
    /// Errors about something absent, kept only if no key was dropped.
    absent: Vec<(usize, ConfigError)>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        let line_starts = core::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            file,
            text,
            line_starts,
            errors: Vec::new(),
            keys_dropped: false,
            absent: Vec::new(),
        }
    }

    /// The source text.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// Line and column (from 1, columns in characters) of byte `offset`.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, column)
    }

    fn located(&self, span: &Range<usize>, message: String) -> (usize, ConfigError) {
        let (line, column) = self.line_col(span.start);
        let e = ConfigError {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
        };
        (span.start, e)
    }

    /// Records an error at the start of `span`.
    pub(crate) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let e = self.located(&span, message.into());
        self.errors.push(e);
    }

    /// Records an error about something absent (a required key, a matching secret). When a
    /// misspelt key was dropped, such errors may only be its consequence, and are left out of the
    /// report (the file is still invalid).
    pub(crate) fn absent(&mut self, span: Range<usize>, message: impl Into<String>) {
        let e = self.located(&span, message.into());
        self.absent.push(e);
    }

    /// Notes that a key was dropped after a schema error.
    pub(crate) fn key_dropped(&mut self) {
        self.keys_dropped = true;
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty() || !self.absent.is_empty()
    }

    /// The errors in file order (stable for errors at one place).
    pub(crate) fn finish(mut self) -> ConfigErrors {
        if !self.keys_dropped {
            self.errors.append(&mut self.absent);
        }
        self.errors.sort_by_key(|(at, _)| *at);
        ConfigErrors(self.errors.into_iter().map(|(_, e)| e).collect())
    }
}

/// The closest of `candidates` to `word` (edit distance at most a third of its length, at least
/// 1), for "did you mean" hints.
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment), ASCII
/// case-insensitive.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_ascii_lowercase().chars().collect();
    let b: Vec<char> = b.to_ascii_lowercase().chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// `"a", "b" or "c"`.
pub(crate) fn one_of(options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let d = Diagnostics::new(Path::new("f"), "a\nbé c\n");
        assert_eq!(d.line_col(0), (1, 1));
        assert_eq!(d.line_col(2), (2, 1));
        // "é" is two bytes but one column.
        assert_eq!(d.line_col(5), (2, 3));
        assert_eq!(d.line_col(100), (3, 1));
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("sart", &["start", "trap", "none"]), Some("start"));
        assert_eq!(closest("xyz", &["start", "trap", "none"]), None);
        assert_eq!(one_of(&["a", "b", "c"]), "\"a\", \"b\" or \"c\"");
    }
}
