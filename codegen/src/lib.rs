//! The Sonoran CMS code generator: turns the docs' OpenAPI spec and our enrichment
//! into the checked-in Rust client.
//!
//! The pipeline runs in five stages, each a folder of its own:
//!
//! 1. [`import`]: the docs' pages into an OpenAPI document; YAML read into JSON
//!    (errors carry file, line and column) and typed OpenAPI.
//! 2. [`transform`]: the overlays that correct and complete the docs, the rules
//!    for lists and maps, each operation's docs.
//! 3. [`check`]: the `x-sonoran-*` extensions read once into one typed model;
//!    lint refuses, by operation and JSON pointer, whatever would give users an
//!    untyped or broken client, including every construct progenitor panics on.
//! 4. [`generate`]: progenitor (Builder interface) formatted with prettyplease,
//!    and the client's tables and calls from the model.
//! 5. [`report`]: the change report, for users of the crate.
//!
//! [`pipeline`] ties them together and [`outputs`] writes the files all or none;
//! `cargo xtask regen` is a thin command line over it. Nothing here panics on
//! input: every problem comes back as a [`CodegenError`].

pub mod check;
pub mod generate;
pub mod import;
pub mod report;
pub mod transform;

pub mod error;
pub mod json_pointer;
pub mod naming;
pub mod operations;
pub mod outputs;
pub mod paths;
pub mod pipeline;

// Each stage's modules by their plain names as well (`codegen::load`).
pub use check::{lint, model, one_of, paging, rate_limits};
pub use generate::{bodies, operation_docs, operation_table, value_sets};
pub use import::{derive, docs_import, load};
pub use report::changes;
pub use transform::{collections, enrich};

pub use error::{CodegenError, LintFinding};
pub use load::SourceText;
pub use outputs::{FileStatus, GeneratedFile, Mode, ensure_files};
pub use pipeline::{Sources, generate_files};
