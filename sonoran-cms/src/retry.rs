//! The retry policy: which failures are retried, after how long, and how often.
//!
//! | what happened | retried | wait |
//! | --- | --- | --- |
//! | 429, or 503 with a retry header | any operation | the header's delay |
//! | 429 or 408 without a usable header | any operation | exponential backoff with jitter |
//! | connection failed before the request was sent | any operation | backoff |
//! | timeout, reset, or 5XX after the request was sent | idempotent operations only | backoff (or the header's delay) |
//! | anything else | no | |
//!
//! Whether an operation is idempotent (and whether it is safe, changing
//! nothing) is data in the spec (`x-sonoran-idempotent`, `x-sonoran-safe`),
//! defaulting from its method: `verifyWhitelist` is a POST that only reads, and
//! `cancelSession` a DELETE whose repeat answers "no session". One function,
//! [`retry_rule`], says what is retried; [`retry_delay`] adds the policy's
//! counts and waits, and `Error::is_retryable` asks the same rule.
//!
//! A wait longer than `max_retry_wait`, or one that would end past the call's
//! deadline, is not taken: the call ends with what it has.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// How a client retries failed requests. The defaults match the official SDKs'
/// 429 handling (2 retries, at most 10 s per wait) and add safe retries of
/// connection failures and, for idempotent operations, of timeouts and 5XX.
/// Every duration may be as long as `Duration::MAX`: waits saturate, and a wait
/// past the call's deadline is not taken.
///
/// Its fields are public to read; build one from [`RetryPolicy::default`] or
/// [`RetryPolicy::none`] with the setters of the same names (it may gain
/// fields in a minor release):
///
/// ```
/// use std::time::Duration;
/// let policy = sonoran_cms::RetryPolicy::default()
///     .max_retries(4)
///     .initial_backoff(Duration::from_millis(200));
/// assert_eq!(policy.max_retries, 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 turns retrying off).
    pub max_retries: u32,
    /// The longest single wait; a server asking for more is not retried.
    pub max_retry_wait: Duration,
    /// The first backoff when no header says how long to wait; it doubles each retry.
    pub initial_backoff: Duration,
    /// Retry a request whose connection failed before it was sent.
    pub retry_connection_failures: bool,
    /// Retry timeouts, resets and 5XX of idempotent operations (see the
    /// module's table).
    pub retry_idempotent_failures: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            max_retry_wait: Duration::from_secs(10),
            initial_backoff: Duration::from_secs(1),
            retry_connection_failures: true,
            retry_idempotent_failures: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries after the first attempt (0 turns retrying off; default 2).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The longest single wait; a server asking for more is not retried
    /// (default 10 s).
    pub fn max_retry_wait(mut self, max_retry_wait: Duration) -> Self {
        self.max_retry_wait = max_retry_wait;
        self
    }

    /// The first backoff when no header says how long to wait; it doubles
    /// each retry (default 1 s).
    pub fn initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// Whether a request whose connection failed before it was sent is
    /// retried (default yes).
    pub fn retry_connection_failures(mut self, retry: bool) -> Self {
        self.retry_connection_failures = retry;
        self
    }

    /// Whether timeouts, resets and 5XX of idempotent operations are retried
    /// (default yes).
    pub fn retry_idempotent_failures(mut self, retry: bool) -> Self {
        self.retry_idempotent_failures = retry;
        self
    }
}

/// What one attempt ended with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttemptOutcome {
    /// A response with this status (and the delay its headers ask for, if any).
    Response {
        status: StatusCode,
        requested_delay: Option<Duration>,
    },
    /// No connection was made: nothing was sent.
    ConnectionFailed,
    /// The request may have reached the server (timeout, reset, truncated body).
    FailedAfterSending,
}

/// How long to wait before repeating, when the rule says to repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// What the server asked for (`Retry-After` and its kin).
    Requested(Duration),
    /// Exponential backoff with jitter.
    Backoff,
}

/// Which kind of failure a rule admits, for the policy's switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Because {
    /// The server refused without running it (429, 408, 503 with a delay).
    Refused,
    /// Nothing was sent.
    NotSent,
    /// It may have run, and the operation is idempotent.
    Idempotent,
}

/// The one retry rule: whether an attempt that ended in `outcome` is repeated
/// (before counting retries and waits), and why.
pub(crate) fn retry_rule(outcome: AttemptOutcome, idempotent: bool) -> Option<(Wait, Because)> {
    let requested_or_backoff =
        |requested: Option<Duration>| requested.map_or(Wait::Backoff, Wait::Requested);
    match outcome {
        AttemptOutcome::Response {
            status,
            requested_delay,
        } => match (status.as_u16(), requested_delay) {
            // The gateway refused it, or the server says it did not get all of it
            // in time (408): it did not run.
            (429 | 408, requested) => Some((requested_or_backoff(requested), Because::Refused)),
            (503, Some(requested)) => Some((Wait::Requested(requested), Because::Refused)),
            (500..=599, requested) if idempotent => {
                Some((requested_or_backoff(requested), Because::Idempotent))
            }
            _ => None,
        },
        AttemptOutcome::ConnectionFailed => Some((Wait::Backoff, Because::NotSent)),
        AttemptOutcome::FailedAfterSending if idempotent => {
            Some((Wait::Backoff, Because::Idempotent))
        }
        AttemptOutcome::FailedAfterSending => None,
    }
}

/// Whether to try again, and after how long: [`retry_rule`], within the
/// policy's switches, retry count and longest wait. `retries_done` counts
/// retries so far.
pub(crate) fn retry_delay(
    policy: &RetryPolicy,
    idempotent: bool,
    outcome: AttemptOutcome,
    retries_done: u32,
    jitter_fraction: f64,
) -> Option<Duration> {
    if retries_done >= policy.max_retries {
        return None;
    }
    let (wait, because) = retry_rule(outcome, idempotent)?;
    let allowed = match because {
        Because::Refused => true,
        Because::NotSent => policy.retry_connection_failures,
        Because::Idempotent => policy.retry_idempotent_failures,
    };
    if !allowed {
        return None;
    }
    let delay = match wait {
        Wait::Requested(delay) => delay,
        Wait::Backoff => backoff(policy, retries_done, jitter_fraction),
    };
    (delay <= policy.max_retry_wait).then_some(delay)
}

/// `initial_backoff × 2^retries`, capped at `max_retry_wait`, then scaled into
/// [50 %, 100 %] by `jitter_fraction` (0..1) so clients that failed together do
/// not retry together. Saturates instead of overflowing for any durations.
fn backoff(policy: &RetryPolicy, retries_done: u32, jitter_fraction: f64) -> Duration {
    let exponential = policy
        .initial_backoff
        .saturating_mul(2_u32.saturating_pow(retries_done))
        .min(policy.max_retry_wait)
        .min(crate::time::FAR_FUTURE);
    // Within FAR_FUTURE, the product of a fraction of at most 1 always fits.
    Duration::try_from_secs_f64(
        exponential.as_secs_f64() * (0.5 + 0.5 * jitter_fraction.clamp(0.0, 1.0)),
    )
    .unwrap_or(exponential)
}

/// The delay a response asks for: `Retry-After` (seconds or an HTTP date), else
/// `RateLimit-Reset` (seconds), else `X-RateLimit-Reset` (seconds, or a Unix time).
/// A value that is none of these is ignored.
pub(crate) fn requested_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    header("retry-after")
        .and_then(|value| delay_in_seconds(value).or_else(|| delay_until_http_date(value, now)))
        .or_else(|| header("ratelimit-reset").and_then(delay_in_seconds))
        .or_else(|| {
            header("x-ratelimit-reset").and_then(|value| delay_in_seconds_or_unix_time(value, now))
        })
}

fn delay_in_seconds(value: &str) -> Option<Duration> {
    let seconds: f64 = value.parse().ok()?;
    (0.0..1e9)
        .contains(&seconds)
        .then(|| Duration::from_secs_f64(seconds))
}

fn delay_until_http_date(value: &str, now: SystemTime) -> Option<Duration> {
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Some gateways send a count of seconds, others the Unix time of the reset;
/// anything past a billion seconds can only be the latter.
fn delay_in_seconds_or_unix_time(value: &str, now: SystemTime) -> Option<Duration> {
    let number: u64 = value.parse().ok()?;
    if number < 1_000_000_000 {
        return Some(Duration::from_secs(number));
    }
    let when = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(number))?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).expect("a header value"));
        headers
    }

    fn now() -> SystemTime {
        httpdate::parse_http_date("Sun, 06 Nov 2022 08:49:37 GMT").expect("a date")
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(
            requested_delay(&headers("retry-after", "7"), now()),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            requested_delay(
                &headers("retry-after", "Sun, 06 Nov 2022 08:49:40 GMT"),
                now()
            ),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            requested_delay(
                &headers("retry-after", "Sun, 06 Nov 2022 08:40:00 GMT"),
                now()
            ),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(
            requested_delay(&headers("retry-after", "soon"), now()),
            None
        );
        assert_eq!(requested_delay(&headers("retry-after", "-3"), now()), None);
    }

    #[test]
    fn rate_limit_reset_headers_are_understood() {
        assert_eq!(
            requested_delay(&headers("ratelimit-reset", "4"), now()),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            requested_delay(&headers("x-ratelimit-reset", "5"), now()),
            Some(Duration::from_secs(5))
        );
        let unix_now = now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        assert_eq!(
            requested_delay(
                &headers("x-ratelimit-reset", &(unix_now + 6).to_string()),
                now()
            ),
            Some(Duration::from_secs(6))
        );
    }

    fn response(status: u16, requested_delay: Option<u64>) -> AttemptOutcome {
        AttemptOutcome::Response {
            status: StatusCode::from_u16(status).expect("a status"),
            requested_delay: requested_delay.map(Duration::from_secs),
        }
    }

    #[test]
    fn what_is_retried_and_after_how_long() {
        let policy = RetryPolicy::default();
        // `true`: an idempotent operation (a GET, a PUT, verifyWhitelist).
        let check = |idempotent: bool, outcome, expected: Option<u64>| {
            assert_eq!(
                retry_delay(&policy, idempotent, outcome, 0, 1.0),
                expected.map(Duration::from_secs),
                "idempotent {idempotent}, {outcome:?}"
            );
        };
        check(false, response(429, Some(3)), Some(3));
        check(false, response(429, None), Some(1));
        check(false, response(429, Some(11)), None);
        check(false, response(408, None), Some(1));
        check(false, response(503, Some(2)), Some(2));
        check(false, response(503, None), None);
        check(true, response(503, None), Some(1));
        check(true, response(502, None), Some(1));
        check(false, response(502, None), None);
        check(true, response(404, None), None);
        check(false, AttemptOutcome::ConnectionFailed, Some(1));
        check(true, AttemptOutcome::FailedAfterSending, Some(1));
        check(false, AttemptOutcome::FailedAfterSending, None);
    }

    #[test]
    fn semantics_default_from_the_method_and_the_spec_overrides_them() {
        let get = crate::Operation::GetServers.spec().semantics;
        assert!(get.safe && get.idempotent);
        let put = crate::Operation::SetServers.spec().semantics;
        assert!(!put.safe && put.idempotent);
        let post = crate::Operation::StartSession.spec().semantics;
        assert!(!post.safe && !post.idempotent);
        // A POST that only reads (the FiveM join check).
        let verify = crate::Operation::VerifyWhitelist.spec().semantics;
        assert!(verify.safe && verify.idempotent);
        // A DELETE whose repeat answers "no session".
        let cancel = crate::Operation::CancelSession.spec().semantics;
        assert!(!cancel.safe && !cancel.idempotent);
    }

    #[test]
    fn the_longest_durations_saturate_instead_of_panicking() {
        let policy = RetryPolicy {
            max_retries: u32::MAX,
            max_retry_wait: Duration::MAX,
            initial_backoff: Duration::MAX,
            ..RetryPolicy::default()
        };
        for retries_done in [0, 1, 40, u32::MAX - 1] {
            for jitter in [0.0, 0.5, 1.0] {
                let delay = retry_delay(&policy, true, response(502, None), retries_done, jitter)
                    .expect("retried");
                assert!(delay <= crate::time::FAR_FUTURE);
            }
        }
    }

    #[test]
    fn retries_stop_at_the_limit_and_back_off_exponentially_with_jitter() {
        let policy = RetryPolicy::default();
        let retry = |done, jitter| retry_delay(&policy, true, response(503, None), done, jitter);
        assert_eq!(retry(1, 1.0), Some(Duration::from_secs(2)));
        assert_eq!(retry(1, 0.0), Some(Duration::from_secs(1)));
        assert_eq!(retry(2, 1.0), None);
        assert_eq!(
            retry_delay(&RetryPolicy::none(), true, response(503, None), 0, 1.0),
            None
        );
    }
}
