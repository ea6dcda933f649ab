//! What the spec says of each operation, as the types of the generated
//! operation table (`generated_operations.rs`): rate limits, safety and
//! idempotency, groups of alternative fields, body checks and paging shapes.
//! Data only: the runtime modules above read it, and this module depends on
//! nothing of the client but time arithmetic and decode failures.

use std::time::Duration;

use std::sync::{Arc, Mutex, PoisonError};

use crate::decode::{DecodeFailure, Decoded, NotDecoded};

/// At most `requests` requests in any window of `window`: at least one request,
/// in a window longer than zero and at most [`RateLimit::LONGEST_WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    requests: u32,
    window: Duration,
}

/// Why a [`RateLimit`] cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRateLimit {
    /// Zero requests per window would refuse every call.
    #[error(
        "a rate limit of 0 requests would refuse every call; to turn client-side limiting off, use RateLimits::disabled()"
    )]
    NoRequests,
    /// A window of zero length limits nothing.
    #[error("a rate limit's window must be longer than zero")]
    EmptyWindow,
}

impl RateLimit {
    /// The longest window a limit keeps (100 years): a longer one, up to
    /// `Duration::MAX`, counts as this, so no time arithmetic can overflow.
    pub const LONGEST_WINDOW: Duration = crate::time::FAR_FUTURE;

    /// `requests` per `window_seconds` seconds, as the docs state limits.
    ///
    /// # Errors
    ///
    /// [`InvalidRateLimit::NoRequests`] for 0 requests,
    /// [`InvalidRateLimit::EmptyWindow`] for 0 seconds.
    pub const fn new(requests: u32, window_seconds: u32) -> Result<Self, InvalidRateLimit> {
        Self::per_window(requests, Duration::from_secs(window_seconds as u64))
    }

    /// `requests` per `window`, for overrides such as a scaled-down test
    /// gateway. A window longer than [`RateLimit::LONGEST_WINDOW`] counts as that.
    ///
    /// # Errors
    ///
    /// [`InvalidRateLimit::NoRequests`] for 0 requests,
    /// [`InvalidRateLimit::EmptyWindow`] for a zero window.
    pub const fn per_window(requests: u32, window: Duration) -> Result<Self, InvalidRateLimit> {
        if requests == 0 {
            return Err(InvalidRateLimit::NoRequests);
        }
        if window.is_zero() {
            return Err(InvalidRateLimit::EmptyWindow);
        }
        let window = if window.as_secs() >= Self::LONGEST_WINDOW.as_secs() {
            Self::LONGEST_WINDOW
        } else {
            window
        };
        Ok(Self { requests, window })
    }

    /// A documented limit of the generated table, which lint has checked
    /// (1 to 100,000 requests, 1 to 86,400 seconds).
    pub(crate) const fn documented(requests: u32, window_seconds: u32) -> Self {
        Self {
            requests: if requests == 0 { 1 } else { requests },
            window: Duration::from_secs(if window_seconds == 0 {
                1
            } else {
                window_seconds as u64
            }),
        }
    }

    /// The most requests allowed in any window (at least 1).
    pub const fn requests(&self) -> u32 {
        self.requests
    }

    /// The window's length (longer than zero).
    pub const fn window(&self) -> Duration {
        self.window
    }
}

/// What repeating an operation does, from the spec (`x-sonoran-safe`,
/// `x-sonoran-idempotent`) or, where it says nothing, from the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OperationSemantics {
    /// It changes nothing on the server: a failed call never "may have taken effect".
    pub(crate) safe: bool,
    /// Running it twice has the effect of running it once, with the same answer:
    /// it may be repeated after an attempt whose outcome is unknown.
    pub(crate) idempotent: bool,
}

/// Where a group's fields travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldLocation {
    /// Top-level fields of the JSON body.
    Body,
    /// Query parameters.
    Query,
}

/// One of an operation's groups of alternative fields (`x-sonoran-one-of` in
/// the spec): fields that name one thing in several ways, such as the five
/// forms of an account identity ([`Operation::one_of_groups`](crate::Operation::one_of_groups)).
#[derive(Debug)]
#[non_exhaustive]
pub struct OneOfGroup {
    /// What the fields name, for messages ("account identity").
    pub group: &'static str,
    /// Where the fields travel.
    pub location: FieldLocation,
    /// The API's names of the fields (`accId`, `discord`), in the spec's order.
    pub fields: &'static [&'static str],
    /// A request must name at least one; one without any is refused before it
    /// is sent.
    pub required: bool,
    /// A request may name at most one.
    pub at_most_one: bool,
}

/// How a paged operation pages, beyond what its generated `.items(..)` reads
/// from the typed answer (`x-sonoran-paging`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageShape {
    /// The most items the API returns in one page (`max-size` in the spec).
    pub(crate) max_size: u64,
    /// The item's member that tells two items apart (`identity` in the
    /// spec: `accId`, `formId`), when the spec names one.
    pub(crate) identity: Option<&'static str>,
}

/// Reads a body as a type, saying where it does not fit, and gives what the
/// type keeps of it, written back as JSON (`crate::decode::read`).
pub(crate) type BodyRead = fn(&[u8]) -> Result<serde_json::Value, DecodeFailure>;

/// The operation's success body: its slow read (with the JSON path of what
/// does not fit, and what the type keeps) and its plain decode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SuccessBody {
    pub(crate) read: BodyRead,
    pub(crate) decode: fn(&[u8]) -> Result<Decoded, NotDecoded>,
}

/// Everything the spec says of one operation that the runtime reads.
#[derive(Debug)]
pub(crate) struct OperationSpec {
    /// The docs' group it is listed in (its first OpenAPI tag: `accounts`,
    /// `servers`); raw calls on routes the spec lacks take their default
    /// limit from their group.
    pub(crate) group: &'static str,
    /// Its documented rate limit, per credential.
    pub(crate) rate_limit: RateLimit,
    /// Whether it is safe and idempotent.
    pub(crate) semantics: OperationSemantics,
    /// Its groups of alternative fields.
    pub(crate) one_of: &'static [OneOfGroup],
    /// Its JSON success body, if it has one.
    pub(crate) success_body: Option<SuccessBody>,
    /// Its JSON request body's read (what the client sends for a body), if
    /// it has one.
    pub(crate) request_body: Option<BodyRead>,
    /// How it pages, if it does.
    pub(crate) paging: Option<PageShape>,
    /// The answer statuses the docs name: the success's own (`200`) and each
    /// error status or class (`401`, `429`, `4XX`).
    pub(crate) documented_statuses: &'static [&'static str],
    /// The positions in its success body that are maps keyed by data
    /// (`data`, `data.items[].fields`): their keys are ids or names, never
    /// member names.
    pub(crate) keyed_by_data: &'static [&'static str],
}

/// A success answer decoded in the hooks, carried on the response to the
/// generated code, which takes it out instead of decoding the body again.
/// (Response extensions must be `Clone`; the value is taken once.)
#[derive(Clone)]
pub(crate) struct DecodedAnswer(Arc<Mutex<Option<Decoded>>>);

impl DecodedAnswer {
    pub(crate) fn new(decoded: Decoded) -> Self {
        Self(Arc::new(Mutex::new(Some(decoded))))
    }

    /// The value, if it is a `T` and was not taken yet (a value of another
    /// type stays).
    pub(crate) fn take<T: 'static>(&self) -> Option<T> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|decoded| decoded.is::<T>()) {
            return None;
        }
        slot.take()?.downcast::<T>().ok().map(|value| *value)
    }
}
