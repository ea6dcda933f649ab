//! The retry policy: which failures are retried, after how long, and how often.
//!
//! | what happened | retried | wait |
//! | --- | --- | --- |
//! | 429, or 503 with a retry header | any method | the header's delay |
//! | 429 without a usable header | any method | exponential backoff with jitter |
//! | connection failed before the request was sent | any method | backoff |
//! | timeout, reset, or 5XX after the request was sent | idempotent methods only | backoff (or the header's delay) |
//! | anything else | no | |
//!
//! A wait longer than `max_retry_wait`, or one that would end past the call's
//! deadline, is not taken: the call ends with what it has.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

/// How a client retries failed requests. The defaults match the official SDKs'
/// 429 handling (2 retries, at most 10 s per wait) and add safe retries of
/// connection failures and, for idempotent methods, of timeouts and 5XX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 turns retrying off).
    pub max_retries: u32,
    /// The longest single wait; a server asking for more is not retried.
    pub max_retry_wait: Duration,
    /// The first backoff when no header says how long to wait; it doubles each retry.
    pub initial_backoff: Duration,
    /// Retry a request whose connection failed before it was sent.
    pub retry_connection_failures: bool,
    /// Retry timeouts, resets and 5XX of idempotent methods (GET, PUT, DELETE, ...).
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

/// Whether to try again, and after how long. `retries_done` counts retries so far.
pub(crate) fn retry_delay(
    policy: &RetryPolicy,
    method: &Method,
    outcome: AttemptOutcome,
    retries_done: u32,
    jitter_fraction: f64,
) -> Option<Duration> {
    if retries_done >= policy.max_retries {
        return None;
    }
    let backoff = || backoff(policy, retries_done, jitter_fraction);
    let idempotent = policy.retry_idempotent_failures && is_idempotent(method);
    let delay = match outcome {
        AttemptOutcome::Response {
            status,
            requested_delay,
        } => match (status.as_u16(), requested_delay) {
            (429, requested) => requested.unwrap_or_else(backoff),
            (503, Some(requested)) => requested,
            (500..=599, requested) if idempotent => requested.unwrap_or_else(backoff),
            _ => return None,
        },
        AttemptOutcome::ConnectionFailed if policy.retry_connection_failures => backoff(),
        AttemptOutcome::FailedAfterSending if idempotent => backoff(),
        AttemptOutcome::ConnectionFailed | AttemptOutcome::FailedAfterSending => return None,
    };
    (delay <= policy.max_retry_wait).then_some(delay)
}

/// `initial_backoff × 2^retries`, capped at `max_retry_wait`, then scaled into
/// [50 %, 100 %] by `jitter_fraction` (0..1) so clients that failed together do
/// not retry together.
fn backoff(policy: &RetryPolicy, retries_done: u32, jitter_fraction: f64) -> Duration {
    let exponential = policy
        .initial_backoff
        .saturating_mul(2_u32.saturating_pow(retries_done))
        .min(policy.max_retry_wait);
    exponential.mul_f64(0.5 + 0.5 * jitter_fraction.clamp(0.0, 1.0))
}

/// Methods that the HTTP specification makes safe to repeat.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
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
        let check = |method: Method, outcome, expected: Option<u64>| {
            assert_eq!(
                retry_delay(&policy, &method, outcome, 0, 1.0),
                expected.map(Duration::from_secs),
                "{method} {outcome:?}"
            );
        };
        check(Method::POST, response(429, Some(3)), Some(3));
        check(Method::POST, response(429, None), Some(1));
        check(Method::POST, response(429, Some(11)), None);
        check(Method::POST, response(503, Some(2)), Some(2));
        check(Method::POST, response(503, None), None);
        check(Method::DELETE, response(503, None), Some(1));
        check(Method::DELETE, response(502, None), Some(1));
        check(Method::POST, response(502, None), None);
        check(Method::DELETE, response(404, None), None);
        check(Method::POST, AttemptOutcome::ConnectionFailed, Some(1));
        check(Method::DELETE, AttemptOutcome::FailedAfterSending, Some(1));
        check(Method::POST, AttemptOutcome::FailedAfterSending, None);
    }

    #[test]
    fn retries_stop_at_the_limit_and_back_off_exponentially_with_jitter() {
        let policy = RetryPolicy::default();
        let retry =
            |done, jitter| retry_delay(&policy, &Method::DELETE, response(503, None), done, jitter);
        assert_eq!(retry(1, 1.0), Some(Duration::from_secs(2)));
        assert_eq!(retry(1, 0.0), Some(Duration::from_secs(1)));
        assert_eq!(retry(2, 1.0), None);
        assert_eq!(
            retry_delay(
                &RetryPolicy::none(),
                &Method::DELETE,
                response(503, None),
                0,
                1.0
            ),
            None
        );
    }
}
