//! The Sonoran CMS code generator: turns the docs' OpenAPI spec and our enrichment
//! into the checked-in Rust client.
//!
//! The pipeline runs in five steps, each in its own module:
//!
//! 1. [`load`]: read YAML (errors carry file, line and column) into JSON values.
//! 2. [`enrich`]: apply the OpenAPI Overlay that adds what the docs leave out.
//! 3. [`lint`]: reject, by operation and JSON pointer, whatever would give users an
//!    untyped or broken client, including every construct progenitor panics on.
//! 4. [`generate`]: run progenitor (Builder interface) and format with prettyplease.
//! 5. [`outputs`]: compare the generated files with the tree, or write them all or none.
//!
//! [`pipeline`] ties them together; `cargo xtask regen` is a thin command line over it.
//! Nothing here panics on input: every problem comes back as a [`CodegenError`].

pub mod bodies;
pub mod changes;
pub mod collections;
pub mod derive;
pub mod docs_import;
pub mod enrich;
pub mod error;
pub mod generate;
pub mod json_pointer;
pub mod lint;
pub mod load;
pub mod naming;
pub mod one_of;
pub mod operation_docs;
pub mod operation_table;
pub mod operations;
pub mod outputs;
pub mod pipeline;
pub mod rate_limits;
pub mod value_sets;

pub use error::{CodegenError, LintFinding};
pub use load::SourceText;
pub use outputs::{FileStatus, GeneratedFile, Mode, ensure_files};
pub use pipeline::{Sources, generate_files};
