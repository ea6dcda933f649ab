//! The rate-limit guarantee across processes: slots kept in Redis, shared by every
//! process that uses one API key (several game servers and a bot), with the same
//! rules as the in-process limiter.
//!
//! Each credential, API and operation has one count, whatever limit each caller
//! has (during a rolling upgrade from 9 to 10 a minute the fleet never sends
//! more than 10): three keys with one hash tag, so they live on one Redis
//! Cluster slot:
//!
//! - `…:r`, the reservations: a sorted set of admitted requests not yet
//!   finished, each scored with when it stops counting if its release never
//!   arrives (a process killed mid-request): the longest an attempt may take
//!   plus a window, so it expires on its own, never early;
//! - `…:c`, the completions: a sorted set of finished requests scored with when
//!   they completed; a caller counts those within its own window;
//! - `…:w`, the longest window any caller counted over lately, so a caller with
//!   a short window does not drop completions that a longer one still counts.
//!
//! Admitting is one Lua script (drop what stopped counting, count, admit or say
//! how long to wait), so two processes can never both take the last slot, and
//! every time is Redis's own: the processes' clocks never matter. A release is a
//! second script: the reservation is removed, and a sent request is recorded as
//! a completion.
//!
//! When Redis cannot be asked, a call waits for it at most
//! `max_unavailable_wait` (never past its deadline), asking again with
//! exponential backoff; after several failures in a row the circuit opens and
//! calls fail (or fall back) at once until it has cooled down.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::{AcquireError, HeldSlot, InProcessRateLimiter, RateLimitBackend, SlotRequest};
use crate::time::millis;
use crate::transport::BoxFuture;

/// Admits a request if fewer than the caller's limit count within the caller's
/// window, else says how long until enough counted requests stop counting (-1
/// when that depends on requests still in flight: their end is not known yet).
/// Asking again with the same id after a lost answer admits once, not twice.
///
/// KEYS: reservations, completions, longest window. ARGV: limit, window ms,
/// reservation ms, id, and the documented window ms (optional: 0).
#[doc(hidden)]
pub const ACQUIRE_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local reservation = tonumber(ARGV[3])
local id = ARGV[4]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- Asked again after an answer was lost (a timeout): already admitted. The
-- reservation counts from now, as the process holds the slot from now.
if redis.call('ZSCORE', KEYS[1], id) then
  redis.call('ZADD', KEYS[1], 'XX', now + reservation, id)
  if redis.call('PTTL', KEYS[1]) < reservation then
    redis.call('PEXPIRE', KEYS[1], reservation)
  end
  return {1, 0}
end
-- The longest window any caller counts over: kept while anyone acquires, so
-- no completion a caller may count is trimmed.
-- At least the operation's documented window (ARGV[5], 0 when it has none),
-- so a caller with a shorter one never trims what a documented caller counts.
local longest = math.max(window, tonumber(ARGV[5] or '0'), tonumber(redis.call('GET', KEYS[3]) or '0'))
redis.call('SET', KEYS[3], longest, 'PX', longest + reservation)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - longest)
local reserved = redis.call('ZCARD', KEYS[1])
local recent = redis.call('ZCOUNT', KEYS[2], '(' .. (now - window), '+inf')
local used = reserved + recent
if used < limit then
  redis.call('ZADD', KEYS[1], now + reservation, id)
  if redis.call('PTTL', KEYS[1]) < reservation then
    redis.call('PEXPIRE', KEYS[1], reservation)
  end
  return {1, 0}
end
local must_leave = used - limit + 1
if must_leave > recent then
  return {0, -1}
end
local leaving = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (now - window), '+inf', 'WITHSCORES', 'LIMIT', must_leave - 1, 1)
return {0, tonumber(leaving[2]) + window - now}
";

/// Releases a slot: removes the reservation; a sent request is then recorded
/// as completed `age` ms before this script runs (a duration the process
/// measured, not a time of its clock: a release that lands late, after Redis
/// restarted, still counts from the real completion), if that is within the
/// longest window any caller counts over.
///
/// KEYS: reservations, completions, longest window. ARGV: id, 1 if sent, age
/// ms, window ms.
#[doc(hidden)]
pub const RELEASE_SCRIPT: &str = r"
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  -- Rounded up to the millisecond (the age is rounded down): a completion is
  -- never recorded before it happened, so its slot never opens early.
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.ceil(tonumber(time[2]) / 1000)
  local age = tonumber(ARGV[3])
  local longest = math.max(tonumber(ARGV[4]), tonumber(redis.call('GET', KEYS[3]) or '0'))
  local remaining = longest - age
  if remaining > 0 then
    redis.call('ZADD', KEYS[2], now - age, ARGV[1])
    if redis.call('PTTL', KEYS[2]) < remaining then
      redis.call('PEXPIRE', KEYS[2], remaining)
    end
  end
end
return 1
";

/// The three keys of one credential, API and operation: reservations,
/// completions and the longest window, under one hash tag. `api` is any
/// stable name of the API (the client uses a hash of its base URL).
#[doc(hidden)]
pub fn keys(prefix: &str, credential: &str, api: &str, operation: &str) -> [String; 3] {
    let tag = format!("{prefix}:{{{credential}:{api}:{operation}}}");
    [format!("{tag}:r"), format!("{tag}:c"), format!("{tag}:w")]
}

/// How long a waiter first sleeps before asking again when every counted
/// request is still in flight (their completion, and so the next free slot, is
/// not known); it doubles while that lasts, up to [`LONGEST_IN_FLIGHT_POLL`],
/// give or take a quarter so waiters in many processes do not ask in step.
const FIRST_IN_FLIGHT_POLL: Duration = Duration::from_millis(20);
const LONGEST_IN_FLIGHT_POLL: Duration = Duration::from_millis(640);

/// The first pause after Redis failed to answer; it doubles up to a quarter of
/// a second, so a call goes on soon after Redis is back (a restart must not
/// outlast the wait for it because a waiter slept through the recovery), asking
/// at most a few times a second while it is down.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const LONGEST_BACKOFF: Duration = Duration::from_millis(250);

/// The longest a dropped slot's release is asked again for.
const LONGEST_RELEASE: Duration = Duration::from_secs(60);

/// The default of [`RedisRateLimiter::max_unavailable_wait`].
const DEFAULT_MAX_UNAVAILABLE_WAIT: Duration = Duration::from_secs(3);

/// The defaults of [`RedisRateLimiter::circuit_breaker`]: after this many failed
/// asks in a row, Redis is not asked for this long.
const DEFAULT_BREAKER_FAILURES: u32 = 5;
const DEFAULT_BREAKER_OPEN_FOR: Duration = Duration::from_secs(10);

/// Rate-limit slots kept in Redis, shared by every process that uses the same
/// API key against the same API: never more than an operation's limit in any
/// sliding window across all of them (feature `redis`).
///
/// ```no_run
/// let limiter = sonoran_cms::rate_limit::RedisRateLimiter::new("redis://127.0.0.1:6379/")?;
/// let client = sonoran_cms::Client::builder("API_KEY").rate_limit_backend(limiter).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// When Redis is down, slow or restarting, a call asks again with exponential
/// backoff for at most [`max_unavailable_wait`](Self::max_unavailable_wait)
/// (3 s by default, never past the call's deadline), then fails with
/// [`Error::RateLimiterUnavailable`](crate::Error::RateLimiterUnavailable);
/// nothing is sent without a slot. Once asks have failed 5 times in a row for
/// longer than that wait, the circuit opens
/// ([`circuit_breaker`](Self::circuit_breaker)): for 10 s calls fail at once
/// without asking Redis, then Redis is asked again. A restart shorter than the
/// wait only delays calls. With
/// [`fall_back_to_in_process`](Self::fall_back_to_in_process), a call that
/// cannot reach Redis uses this process's own limiter instead, with a logged
/// warning: the call goes through, but the processes no longer share the limit.
/// Keys are `<prefix>:{<fingerprint of the key>:<API>:<operation>}:r|c|w`,
/// never the key itself, and not the limit: callers with different limits for
/// one operation share one count, each admitting against its own limit. Run Redis 5 or later with `appendonly yes` and `appendfsync
/// always`, and no asynchronous failover, so a restart keeps every admission; a
/// Redis that forgets some (a crash with `everysec`, a failover to a lagging
/// replica) lets up to a window's worth through again.
#[derive(Clone)]
pub struct RedisRateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    acquire: redis::Script,
    release: redis::Script,
    fallback: Option<InProcessRateLimiter>,
    key_prefix: String,
    command_timeout: Duration,
    max_unavailable_wait: Duration,
    breaker: Breaker,
    /// Where Redis is, for messages: host and port only, never a password.
    address: String,
}

/// The circuit breaker: failed asks in a row, since when Redis has been
/// failing, and until when it is not asked.
struct Breaker {
    opens_after: u32,
    open_for: Duration,
    failures_in_a_row: AtomicU32,
    failing_since: Mutex<Option<Instant>>,
    open_until: Mutex<Option<Instant>>,
}

impl Breaker {
    fn new(opens_after: u32, open_for: Duration) -> Self {
        Self {
            opens_after: opens_after.max(1),
            open_for,
            failures_in_a_row: AtomicU32::new(0),
            failing_since: Mutex::new(None),
            open_until: Mutex::new(None),
        }
    }

    /// How long the circuit stays open, if it is.
    fn open_for(&self, now: Instant) -> Option<Duration> {
        let open_until = *self
            .open_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn succeeded(&self) {
        self.failures_in_a_row.store(0, Ordering::Relaxed);
        *self
            .failing_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        *self
            .open_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Records a failed ask. The circuit opens once asks have failed
    /// `opens_after` times in a row for at least `outage`: a restart shorter
    /// than a call's wait for Redis delays calls, a longer outage fails them
    /// fast (many waiting calls fail many asks in the first milliseconds).
    fn failed(&self, now: Instant, outage: Duration) {
        let failures = self
            .failures_in_a_row
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let since = *self
            .failing_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(now);
        if failures >= self.opens_after && now.saturating_duration_since(since) >= outage {
            *self
                .open_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner) =
                Some(crate::time::after(now, self.open_for));
        }
    }
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisRateLimiter")
            .field("address", &self.inner.address)
            .field("key_prefix", &self.inner.key_prefix)
            .field("command_timeout", &self.inner.command_timeout)
            .field("max_unavailable_wait", &self.inner.max_unavailable_wait)
            .field("breaker_opens_after", &self.inner.breaker.opens_after)
            .field("breaker_open_for", &self.inner.breaker.open_for)
            .field("falls_back", &self.inner.fallback.is_some())
            .finish()
    }
}

/// The default time one Redis command may take before it counts as failed.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a [`RedisRateLimiter`] cannot be made: the URL or the certificate
/// cannot be used. The message never holds the URL's password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Redis rate limiter cannot be set up: {reason}")]
#[non_exhaustive]
pub struct RedisSetupError {
    /// What is wrong, in Redis's words (the password, if any, elided).
    pub reason: String,
}

impl RedisSetupError {
    /// `error`'s message, with `url`'s password (and the URL itself) elided.
    fn new(url: &str, error: &redis::RedisError) -> Self {
        let mut reason = error.to_string();
        if !url.is_empty() {
            reason = reason.replace(url, "<the URL>");
        }
        if let Some(password) = password_of(url) {
            reason = reason.replace(password, "<password>");
        }
        Self { reason }
    }
}

/// The password in `url`'s user information (`redis://user:password@host`).
fn password_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let user_information = &rest[..rest.find('@')?];
    user_information
        .split_once(':')
        .map(|(_, password)| password)
        .filter(|password| !password.is_empty())
}

impl RedisRateLimiter {
    /// A limiter on the Redis at `url`: `redis://[[user]:password@]host:port[/db]`,
    /// or `rediss://` for TLS (a managed Redis), trusting the system's root
    /// certificates. A user and password log in with Redis's ACL (`AUTH user
    /// password`); a password alone, as the `default` user. TLS needs one of
    /// the crate's TLS features (`rustls`, `rustls-ring`, `native-tls`): the
    /// Redis connection uses the same one as the client. Nothing connects
    /// until the first call.
    ///
    /// # Errors
    ///
    /// [`RedisSetupError`]: the URL does not parse as a Redis URL, or asks for
    /// TLS in a build without a TLS feature.
    pub fn new(url: &str) -> Result<Self, RedisSetupError> {
        let client = redis::Client::open(url).map_err(|error| RedisSetupError::new(url, &error))?;
        Ok(Self::on(client))
    }

    /// A limiter on the Redis at `url`, a `rediss://` URL, trusting only the
    /// certificate authorities in `root_certificates_pem` (PEM): a Redis with
    /// its own authority (a self-hosted one, a private network's).
    ///
    /// # Errors
    ///
    /// [`RedisSetupError`]: the URL does not parse or is not `rediss://`, the
    /// certificates do not parse, or the build has no TLS feature.
    #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
    pub fn with_root_certificates(
        url: &str,
        root_certificates_pem: &[u8],
    ) -> Result<Self, RedisSetupError> {
        let certificates = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(root_certificates_pem.to_vec()),
        };
        let client = redis::Client::build_with_tls(url, certificates)
            .map_err(|error| RedisSetupError::new(url, &error))?;
        Ok(Self::on(client))
    }

    fn on(client: redis::Client) -> Self {
        let address = client.get_connection_info().addr().to_string();
        Self {
            inner: Arc::new(Inner {
                client,
                connection: OnceCell::new(),
                acquire: redis::Script::new(ACQUIRE_SCRIPT),
                release: redis::Script::new(RELEASE_SCRIPT),
                fallback: None,
                key_prefix: "sonoran-cms:rate-limit".to_owned(),
                command_timeout: DEFAULT_COMMAND_TIMEOUT,
                max_unavailable_wait: DEFAULT_MAX_UNAVAILABLE_WAIT,
                breaker: Breaker::new(DEFAULT_BREAKER_FAILURES, DEFAULT_BREAKER_OPEN_FOR),
                address,
            }),
        }
    }

    /// When Redis cannot be asked, use this process's own limiter for that call
    /// (and log a warning) instead of waiting for Redis until the deadline.
    #[must_use]
    pub fn fall_back_to_in_process(self, fall_back: bool) -> Self {
        self.with(|inner| inner.fallback = fall_back.then(InProcessRateLimiter::shared))
    }

    /// The prefix of every key (default `sonoran-cms:rate-limit`).
    #[must_use]
    pub fn key_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.with(|inner| inner.key_prefix = prefix)
    }

    /// How long one Redis command may take before it counts as failed (default
    /// 1 s).
    #[must_use]
    pub fn command_timeout(self, timeout: Duration) -> Self {
        self.with(|inner| inner.command_timeout = timeout)
    }

    /// The longest a call waits for Redis to answer, counted from the start of
    /// its first failed ask (default 3 s; never past the call's deadline; that
    /// first ask may take its whole command timeout): then it fails with
    /// [`Error::RateLimiterUnavailable`](crate::Error::RateLimiterUnavailable),
    /// or falls back. A player's whitelist check during a Redis outage fails in
    /// seconds, not at its deadline.
    #[must_use]
    pub fn max_unavailable_wait(self, wait: Duration) -> Self {
        self.with(|inner| inner.max_unavailable_wait = wait)
    }

    /// After `failures` failed asks in a row (default 5; at least 1) over at
    /// least [`max_unavailable_wait`](Self::max_unavailable_wait), Redis is not
    /// asked for `open_for` (default 10 s): calls fail, or fall back, at once.
    /// The next ask after that closes the circuit if Redis answers.
    #[must_use]
    pub fn circuit_breaker(self, failures: u32, open_for: Duration) -> Self {
        self.with(|inner| inner.breaker = Breaker::new(failures, open_for))
    }

    fn with(self, change: impl FnOnce(&mut Inner)) -> Self {
        let shared = &self.inner;
        // A fresh connection cell: one made with the old settings is not kept.
        let mut inner = Inner {
            client: shared.client.clone(),
            connection: OnceCell::new(),
            acquire: redis::Script::new(ACQUIRE_SCRIPT),
            release: redis::Script::new(RELEASE_SCRIPT),
            fallback: shared.fallback.clone(),
            key_prefix: shared.key_prefix.clone(),
            command_timeout: shared.command_timeout,
            max_unavailable_wait: shared.max_unavailable_wait,
            breaker: Breaker::new(shared.breaker.opens_after, shared.breaker.open_for),
            address: shared.address.clone(),
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl Inner {
    /// The connection, made on first use; it reconnects by itself after a
    /// failure (a restarted Redis).
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let manager = self
            .connection
            .get_or_try_init(|| async {
                // With `rustls-ring`, rustls' provider is ring, as the client
                // installs it: a `rediss://` connection needs it installed.
                #[cfg(feature = "rustls-ring")]
                let _ = rustls::crypto::ring::default_provider().install_default();
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.command_timeout))
                    .set_response_timeout(Some(self.command_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(LONGEST_BACKOFF);
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await?;
        Ok(manager.clone())
    }

    fn keys(&self, request: &SlotRequest<'_>) -> [String; 3] {
        let api = sha1_smol::Sha1::from(request.base_url).digest().to_string();
        keys(
            &self.key_prefix,
            request.credential,
            &api[..12],
            request.operation,
        )
    }

    /// How long a reservation counts when its release never arrives: the reply
    /// may reach the process up to a command timeout after Redis admitted it,
    /// then the attempt may take its longest (the client cuts it off there),
    /// and it counts a window after that.
    fn reservation(&self, request: &SlotRequest<'_>) -> Duration {
        request
            .longest_attempt
            .saturating_add(self.command_timeout)
            .saturating_add(request.limit.window())
            .min(crate::time::FAR_FUTURE)
    }

    /// One attempt at a slot: admitted, or how long until one may open. Never
    /// waits past `deadline`.
    ///
    /// `stop_at` bounds the ask as well (the end of the wait for an
    /// unavailable Redis). A failure is `(message, counts)`: `counts` is false
    /// when the ask was cut short by the call's own time rather than given a
    /// whole command timeout, so it says nothing of Redis's health.
    async fn try_acquire(
        &self,
        keys: &[String; 3],
        id: &str,
        request: &SlotRequest<'_>,
        stop_at: Instant,
    ) -> Result<Option<Option<Duration>>, (String, bool)> {
        let asked = async {
            let mut connection = self.connection().await?;
            self.acquire
                .key(&keys[0])
                .key(&keys[1])
                .key(&keys[2])
                .arg(request.limit.requests())
                .arg(millis(request.limit.window()))
                .arg(millis(self.reservation(request)))
                .arg(id)
                .arg(
                    request
                        .documented
                        .map_or(0, |documented| millis(documented.window())),
                )
                .invoke_async::<(i64, i64)>(&mut connection)
                .await
        };
        let started = Instant::now();
        let whole = crate::time::after(started, self.command_timeout);
        let give_up_at = whole.min(request.deadline).min(stop_at);
        match tokio::time::timeout_at(give_up_at, asked).await {
            Ok(Ok((1, _))) => Ok(None),
            Ok(Ok((_, wait))) => Ok(Some(u64::try_from(wait).ok().map(Duration::from_millis))),
            Ok(Err(error)) => Err((format!("Redis at {}: {error}", self.address), true)),
            Err(_) => Err((
                format!(
                    "Redis at {} did not answer within {} ms",
                    self.address,
                    give_up_at.saturating_duration_since(started).as_millis()
                ),
                give_up_at >= whole,
            )),
        }
    }
}

impl RateLimitBackend for RedisRateLimiter {
    fn acquire<'a>(
        &'a self,
        request: SlotRequest<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldSlot>, AcquireError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let keys = inner.keys(&request);
            let id = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
            // The slot exists from the first ask: Redis may admit it although
            // the answer is lost (a timeout, this future dropped mid-script, a
            // fallback). Every way out but success drops it unsent, which
            // gives a reservation that was made back at once.
            let mut slot: Option<RedisSlot> = None;
            let mut in_flight_poll = FIRST_IN_FLIGHT_POLL;
            let mut backoff = FIRST_BACKOFF;
            // When the first ask of a run of failed ones failed.
            let mut unavailable_since: Option<Instant> = None;
            let mut last_failure: Option<String> = None;
            loop {
                let now = Instant::now();
                let failure = if let Some(open_for) = inner.breaker.open_for(now) {
                    Some(format!(
                        "Redis at {} failed {} times in a row; not asked again for {:.1} s (circuit open): {}",
                        inner.address,
                        inner.breaker.failures_in_a_row.load(Ordering::Relaxed),
                        open_for.as_secs_f64(),
                        last_failure.as_deref().unwrap_or("it did not answer")
                    ))
                } else if now >= request.deadline {
                    return Err(match last_failure {
                        Some(message) => AcquireError::Unavailable { message },
                        None => AcquireError::NoSlotBeforeDeadline { opens_in: None },
                    });
                } else {
                    let held = slot.get_or_insert_with(|| RedisSlot {
                        inner: Arc::clone(inner),
                        keys: keys.clone(),
                        id: id.clone(),
                        // Kept at least the documented window, as the acquire keeps it.
                        window: millis(
                            request
                                .documented
                                .map_or(request.limit.window(), |documented| {
                                    documented.window().max(request.limit.window())
                                }),
                        ),
                        reservation: inner.reservation(&request),
                        sent: false,
                    });
                    let stop_at = unavailable_since.map_or(request.deadline, |since| {
                        crate::time::after(since, inner.max_unavailable_wait)
                    });
                    match inner.try_acquire(&keys, &held.id, &request, stop_at).await {
                        Ok(None) => {
                            inner.breaker.succeeded();
                            if let Some(admitted) = slot.take() {
                                return Ok(Box::new(admitted) as Box<dyn HeldSlot>);
                            }
                            None
                        }
                        Ok(Some(opens_in)) => {
                            inner.breaker.succeeded();
                            unavailable_since = None;
                            last_failure = None;
                            backoff = FIRST_BACKOFF;
                            if let Some(opens_in) = opens_in
                                && crate::time::after(Instant::now(), opens_in) > request.deadline
                            {
                                return Err(AcquireError::NoSlotBeforeDeadline {
                                    opens_in: Some(opens_in),
                                });
                            }
                            let pause = match opens_in {
                                Some(opens_in) => {
                                    in_flight_poll = FIRST_IN_FLIGHT_POLL;
                                    opens_in
                                }
                                None => {
                                    let pause = jittered(in_flight_poll);
                                    in_flight_poll =
                                        (in_flight_poll * 2).min(LONGEST_IN_FLIGHT_POLL);
                                    pause
                                }
                            };
                            sleep_until_or(pause, request.deadline).await;
                            None
                        }
                        Err((message, counts)) => {
                            if counts {
                                inner
                                    .breaker
                                    .failed(Instant::now(), inner.max_unavailable_wait);
                            }
                            Some(message)
                        }
                    }
                };
                let Some(message) = failure else {
                    continue;
                };
                if let Some(fallback) = &inner.fallback {
                    tracing::warn!(
                        operation = request.operation,
                        %message,
                        "the shared rate limiter is unavailable; this call uses this process's own limiter"
                    );
                    drop(slot.take());
                    return fallback.acquire(request).await;
                }
                let since = *unavailable_since.get_or_insert(now);
                let give_up_at =
                    crate::time::after(since, inner.max_unavailable_wait).min(request.deadline);
                if inner.breaker.open_for(Instant::now()).is_some() || Instant::now() >= give_up_at
                {
                    drop(slot.take());
                    return Err(AcquireError::Unavailable { message });
                }
                tracing::debug!(operation = request.operation, %message, "asking Redis again");
                last_failure = Some(message);
                sleep_until_or(jittered(backoff), give_up_at).await;
                backoff = (backoff * 2).min(LONGEST_BACKOFF);
            }
        })
    }
}

/// `pause`, give or take a quarter, so waiters in many processes do not ask
/// Redis in step.
fn jittered(pause: Duration) -> Duration {
    pause.mul_f64(0.75 + fastrand::f64() / 2.0)
}

/// Sleeps for `pause`, or until `deadline` if that comes first.
async fn sleep_until_or(pause: Duration, deadline: Instant) {
    tokio::time::sleep_until(crate::time::after(Instant::now(), pause).min(deadline)).await;
}

/// A slot held in Redis. Dropping it releases it in the background, asking again
/// while Redis is unreachable (a restart) until the reservation would have
/// expired anyway; a release that never lands leaves the reservation to expire
/// on its own, counting a little longer, never less.
struct RedisSlot {
    inner: Arc<Inner>,
    /// Its reservations, completions and longest-window keys.
    keys: [String; 3],
    id: String,
    window: u64,
    /// How long the reservation counts if never released.
    reservation: Duration,
    sent: bool,
}

impl HeldSlot for RedisSlot {
    fn mark_sent(&mut self) {
        self.sent = true;
    }

    fn mark_not_sent(&mut self) {
        self.sent = false;
    }
}

impl Drop for RedisSlot {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let inner = Arc::clone(&self.inner);
        let (keys, id, window, sent) = (
            std::mem::take(&mut self.keys),
            std::mem::take(&mut self.id),
            self.window,
            self.sent,
        );
        let completed = Instant::now();
        // A release that cannot land leaves the reservation to expire on its
        // own (counting longer, never less): asking for longer than that, or
        // than a minute, or while the circuit is open, would only load a Redis
        // that is down.
        let give_up_at = crate::time::after(completed, self.reservation.min(LONGEST_RELEASE));
        runtime.spawn(async move {
            let mut backoff = FIRST_BACKOFF;
            loop {
                let released = async {
                    let mut connection = inner.connection().await?;
                    inner
                        .release
                        .key(&keys[0])
                        .key(&keys[1])
                        .key(&keys[2])
                        .arg(&id)
                        .arg(u8::from(sent))
                        .arg(millis(completed.elapsed()))
                        .arg(window)
                        .invoke_async::<i64>(&mut connection)
                        .await
                };
                match tokio::time::timeout(inner.command_timeout, released).await {
                    Ok(Ok(_)) => return,
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "a rate-limit slot was not released yet");
                    }
                    Err(_) => tracing::debug!("a rate-limit slot release timed out"),
                }
                if crate::time::after(Instant::now(), backoff) >= give_up_at
                    || inner.breaker.open_for(Instant::now()).is_some()
                {
                    tracing::debug!("giving up releasing a rate-limit slot; it expires on its own");
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(LONGEST_BACKOFF);
            }
        });
    }
}
