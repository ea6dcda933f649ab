//! Stage 3, check: the spec's `x-sonoran-*` extensions read once into one typed
//! model ([`model`], from the readers [`rate_limits`] and [`one_of`]), and
//! everything that would give users an untyped or broken client refused,
//! by operation and JSON pointer ([`lint`]); and the evidence corrections held
//! to the docs they were reviewed against ([`reviewed`]).

pub mod lint;
pub mod model;
pub mod one_of;
pub mod paging;
pub mod rate_limits;
pub mod reviewed;
