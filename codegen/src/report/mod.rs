//! Stage 5, report: what a spec change means for users of the crate
//! ([`changes`]), and each operation's contract page for reviewers
//! ([`contract`]).

pub mod changes;
pub mod contract;
