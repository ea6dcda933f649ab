//! Stage 5, report: what a spec change means for users of the crate
//! ([`changes`]).

pub mod changes;
