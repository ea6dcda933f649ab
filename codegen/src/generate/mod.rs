//! Stage 4, generate: progenitor's client, mocks and command line
//! ([`progenitor`], whose items are re-exported here), the operation table
//! ([`operation_table`]), each builder's calls and page readers ([`bodies`]),
//! the open value sets' flat enums ([`value_sets`]), and the public items made
//! semver-honest and pleasant ([`public_api`]).

pub mod bodies;
pub mod operation_table;
pub mod progenitor;
pub mod public_api;
pub mod value_sets;

pub use self::progenitor::*;
