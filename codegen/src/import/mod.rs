//! Stage 1, import: the docs' pages into an OpenAPI document ([`docs_import`]),
//! schemas derived from their examples ([`derive`](mod@derive)), and YAML read into JSON
//! and typed OpenAPI with errors that say where ([`load`]).

pub mod derive;
pub mod docs_import;
pub mod load;
