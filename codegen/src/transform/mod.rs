//! Stage 2, transform: the overlays applied to the docs' spec ([`enrich`]) and
//! the rules for lists, maps and extra members ([`collections`]).

pub mod collections;
pub mod enrich;
