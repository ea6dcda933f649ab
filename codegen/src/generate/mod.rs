//! Stage 4, generate: each operation's docs written from the spec and the
//! model ([`operation_docs`]), progenitor's client, mocks and command line
//! ([`progenitor`], whose items are re-exported here), the operation table
//! ([`operation_table`]), each builder's calls and page readers ([`bodies`]),
//! the `.identity(..)` setters ([`identity_setters`]), the open value sets'
//! flat enums ([`value_sets`]), and the public items made semver-honest and
//! pleasant ([`public_api`]); [`rust_syntax`] is what they share for
//! reading and writing Rust.

pub mod bodies;
pub mod identity_setters;
pub mod operation_docs;
pub mod operation_table;
pub mod progenitor;
pub mod public_api;
pub mod rust_syntax;
pub mod value_sets;

pub use self::progenitor::*;
pub use self::rust_syntax::normalize_newlines;
