//! Stage 4, generate: progenitor's client, mocks and command line
//! ([`progenitor`], whose items are re-exported here), the operation table
//! ([`operation_table`]), each builder's calls and page readers ([`bodies`]),
//! and the open value sets' `FromStr` ([`value_sets`]).

pub mod bodies;
pub mod operation_table;
pub mod progenitor;
pub mod value_sets;

pub use self::progenitor::*;
