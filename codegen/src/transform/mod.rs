//! Stage 2, transform: the overlays applied to the docs' spec ([`enrich`]),
//! the rules for lists, maps and extra members ([`collections`]), and each
//! operation's docs written from the spec's data ([`operation_docs`]).

pub mod collections;
pub mod enrich;
pub mod operation_docs;
