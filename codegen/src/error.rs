//! The generator's one error type: every variant says what is wrong and where
//! (file, then line and column or a JSON pointer), so a maintainer can go straight to it.

use std::fmt;
use std::path::PathBuf;

/// Everything that can stop the generator. None of it is a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// Replacing a generated file failed, and so did putting back the files
    /// replaced before it: the tree is left part old, part new.
    #[error(
        "{}; putting back the files already replaced failed too ({}), so some generated files \
         are new and some old: run the command again, or `git checkout` them",
        with_causes(failure.as_ref()),
        with_causes(restore_failure.as_ref())
    )]
    Restore {
        /// The failure that stopped the writing.
        failure: Box<CodegenError>,
        /// The failure that stopped the restoring.
        restore_failure: Box<CodegenError>,
    },

    /// Reading or writing a file failed.
    #[error("{path}: cannot {action}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What was being done, as a verb phrase ("read", "write").
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The text is not valid YAML.
    #[error("{file}:{line}:{column}: invalid YAML: {message}")]
    Yaml {
        /// The file, relative to the workspace root.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the YAML parser said.
        message: String,
    },

    /// The YAML parsed, but a value in it is not what the document's format allows.
    #[error("{file}: at {pointer}: {message}")]
    Document {
        /// The file, relative to the workspace root.
        file: String,
        /// JSON pointer of the offending value.
        pointer: String,
        /// What is wrong with it.
        message: String,
    },

    /// An enrichment action could not be applied as written.
    #[error("{file}: action /actions/{index} (target `{target}`): {message}")]
    Action {
        /// The overlay file.
        file: String,
        /// 0-based index of the action in `actions`.
        index: usize,
        /// The action's JSONPath target.
        target: String,
        /// What went wrong, and what to do about it.
        message: String,
    },

    /// A docs page could not be read as an endpoint page.
    #[error("docs page {page}: {reason}")]
    DocsPage {
        /// The page, relative to the docs folder.
        page: String,
        /// Why it could not be read.
        reason: String,
    },

    /// The enriched spec would give users an untyped or broken client.
    #[error("{file}: {} problem(s) would give users an untyped or broken client:{}", findings.len(), FindingList(findings))]
    Lint {
        /// The spec that was linted.
        file: String,
        /// Every problem found, in document order.
        findings: Vec<LintFinding>,
    },

    /// The docs changed beneath evidence actions since they were reviewed (or a
    /// review is missing or stale).
    #[error(
        "{} evidence correction(s) no longer match the docs they were reviewed against:\n  {}\n\
         Check each action against the docs and update it, then record the review with \
         `cargo xtask evidence review` (it rewrites {file}).",
        problems.len(),
        problems.join("\n  ")
    )]
    Review {
        /// The file of recorded reviews.
        file: String,
        /// Every place whose docs differ from its review, with what changed.
        problems: Vec<String>,
    },

    /// progenitor refused the spec with an error of its own.
    #[error("{file}: progenitor could not generate a client: {message}")]
    Generator {
        /// The spec handed to progenitor.
        file: String,
        /// progenitor's message.
        message: String,
    },

    /// progenitor panicked. Lint exists to make this impossible, so this is a lint gap.
    #[error(
        "{file}: progenitor panicked ({message}); lint accepted a construct progenitor cannot \
         handle, so lint needs a rule for it"
    )]
    GeneratorPanicked {
        /// The spec handed to progenitor.
        file: String,
        /// The panic message.
        message: String,
    },

    /// progenitor produced tokens that do not parse as a Rust file.
    #[error("{file}: the generated client is not valid Rust: {message}")]
    Format {
        /// The spec the code was generated from.
        file: String,
        /// syn's message.
        message: String,
    },

    /// A generated file does not have the shape the contract pages are read
    /// from (`report::contract`): a page is never guessed.
    #[error("{file}: the contract pages cannot be read from it: {message}")]
    Contract {
        /// The generated file, from the workspace root.
        file: String,
        /// What is missing or unexpected, naming the operation.
        message: String,
    },
}

/// One reason the spec would make a bad client, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintFinding {
    /// The operationId (or, lacking one, the method and path) the problem belongs to.
    pub operation: Option<String>,
    /// JSON pointer of the offending value in the enriched spec.
    pub pointer: String,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl fmt::Display for LintFinding {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.operation {
            Some(operation) => write!(
                formatter,
                "operation `{operation}` at {}: {}",
                crate::json_pointer::display(&self.pointer),
                self.message
            ),
            None => write!(
                formatter,
                "at {}: {}",
                crate::json_pointer::display(&self.pointer),
                self.message
            ),
        }
    }
}

/// Renders findings one per line under the error's headline.
struct FindingList<'a>(&'a [LintFinding]);

impl fmt::Display for FindingList<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in self.0 {
            write!(formatter, "\n  - {finding}")?;
        }
        Ok(())
    }
}

/// An error's message followed by those of its causes, for an error that is
/// itself shown inside another's message (where no error chain would print them).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}
