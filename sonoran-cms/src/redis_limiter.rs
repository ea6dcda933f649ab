//! The rate-limit guarantee across processes: slots kept in Redis, shared by every
//! process that uses one API key (several game servers and a bot), with the same
//! rules as the in-process limiter.
//!
//! Each credential, API and operation has one sorted set. A member is a request
//! that counts; its score is the time (Redis's clock, in milliseconds) when it
//! stops counting:
//!
//! - `r:<id>`, admitted and not yet finished: it counts until the longest an
//!   attempt may take plus a window, so a reservation whose release never
//!   arrives (a process killed mid-request) expires on its own, never early;
//! - `c:<id>`, finished: it counts until a window after it *completed*.
//!
//! Admitting is one Lua script (drop what stopped counting, count, admit or say
//! how long to wait), so two processes can never both take the last slot, and
//! every time is Redis's own: the processes' clocks never matter. A release is a
//! second script: an unsent request's reservation is removed, a sent one's is
//! replaced by its completion.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::rate_limit::{
    AcquireError, HeldSlot, InProcessRateLimiter, RateLimitBackend, SlotRequest,
};
use crate::transport::BoxFuture;

/// Admits a request if fewer than the limit count, else says when the earliest
/// finished request stops counting (-1 when every counted request is still in
/// flight: their end is not known yet). Asking again with the same id after a
/// lost answer admits once, not twice.
///
/// KEYS[1]: the set. ARGV: limit, window ms, reservation ms, id.
const ACQUIRE_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local limit = tonumber(ARGV[1])
local reservation = tonumber(ARGV[3])
-- Asked again after an answer was lost (a timeout): already admitted.
if redis.call('ZSCORE', KEYS[1], 'r:' .. ARGV[4]) then
  return {1, 0}
end
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + reservation, 'r:' .. ARGV[4])
  if redis.call('PTTL', KEYS[1]) < reservation then
    redis.call('PEXPIRE', KEYS[1], reservation)
  end
  return {1, 0}
end
local counted = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #counted, 2 do
  if string.sub(counted[i], 1, 2) == 'c:' then
    return {0, tonumber(counted[i + 1]) - now}
  end
end
return {0, -1}
";

/// Releases a slot: removes the reservation; a sent request then counts for a
/// window from when it completed, which was `age` ms before this script runs (a
/// duration the process measured, not a time of its clock: a release that lands
/// late, after Redis restarted, still counts from the real completion).
///
/// KEYS[1]: the set. ARGV: id, 1 if sent, window ms, age ms.
const RELEASE_SCRIPT: &str = r"
redis.call('ZREM', KEYS[1], 'r:' .. ARGV[1])
if ARGV[2] == '1' then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local remaining = tonumber(ARGV[3]) - tonumber(ARGV[4])
  if remaining > 0 then
    redis.call('ZADD', KEYS[1], now + remaining, 'c:' .. ARGV[1])
    if redis.call('PTTL', KEYS[1]) < remaining then
      redis.call('PEXPIRE', KEYS[1], remaining)
    end
  end
end
return 1
";

/// How long a waiter sleeps before asking again when every counted request is
/// still in flight (their completion, and so the next free slot, is not known),
/// give or take a quarter so waiters in many processes do not ask in step.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(20);

/// The longest attempt a reservation allows for: a client timeout beyond it
/// (up to `Duration::MAX`) counts as this, so no arithmetic overflows and no
/// reservation outlives a day.
const LONGEST_ATTEMPT: Duration = Duration::from_secs(24 * 60 * 60);

/// The first pause after Redis failed to answer; it doubles up to a quarter of a
/// second, so calls go on soon after Redis is back (at most a few connection
/// attempts a second per waiting call while it is down).
const FIRST_BACKOFF: Duration = Duration::from_millis(25);
const LONGEST_BACKOFF: Duration = Duration::from_millis(250);

/// Rate-limit slots kept in Redis, shared by every process that uses the same
/// API key against the same API: never more than an operation's limit in any
/// sliding window across all of them (feature `redis`).
///
/// ```no_run
/// let limiter = sonoran_cms::RedisRateLimiter::new("redis://127.0.0.1:6379/")?;
/// let client = sonoran_cms::Client::builder("API_KEY").rate_limit_backend(limiter).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// When Redis is down, slow or restarting, a call waits and asks again (with
/// backoff) until its deadline, then fails with
/// [`Error::RateLimiterUnavailable`](crate::Error::RateLimiterUnavailable);
/// nothing is sent without a slot. With
/// [`fall_back_to_in_process`](Self::fall_back_to_in_process), a call that
/// cannot reach Redis uses this process's own limiter instead, with a logged
/// warning: the call goes through, but the processes no longer share the limit.
/// Keys are `<prefix>:<fingerprint of the key>:<API>:<operation>:<limit>`, never
/// the key itself. Run Redis 5 or later with `appendonly yes` and `appendfsync
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
    /// Where Redis is, for messages: host and port only, never a password.
    address: String,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisRateLimiter")
            .field("address", &self.inner.address)
            .field("key_prefix", &self.inner.key_prefix)
            .field("command_timeout", &self.inner.command_timeout)
            .field("falls_back", &self.inner.fallback.is_some())
            .finish()
    }
}

/// The default time one Redis command may take before it counts as failed.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

impl RedisRateLimiter {
    /// A limiter on the Redis at `url` (`redis://[:password@]host:port[/db]`).
    /// Nothing connects until the first call.
    ///
    /// # Errors
    ///
    /// The URL does not parse as a Redis URL.
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let address = client.get_connection_info().addr().to_string();
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                connection: OnceCell::new(),
                acquire: redis::Script::new(ACQUIRE_SCRIPT),
                release: redis::Script::new(RELEASE_SCRIPT),
                fallback: None,
                key_prefix: "sonoran-cms:rate-limit".to_owned(),
                command_timeout: DEFAULT_COMMAND_TIMEOUT,
                address,
            }),
        })
    }

    /// When Redis cannot be asked, use this process's own limiter for that call
    /// (and log a warning) instead of waiting for Redis until the deadline.
    #[must_use]
    pub fn fall_back_to_in_process(self, fall_back: bool) -> Self {
        self.with(|inner| inner.fallback = fall_back.then_some(InProcessRateLimiter))
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

    fn with(self, change: impl FnOnce(&mut Inner)) -> Self {
        let shared = &self.inner;
        // A fresh connection cell: one made with the old settings is not kept.
        let mut inner = Inner {
            client: shared.client.clone(),
            connection: OnceCell::new(),
            acquire: redis::Script::new(ACQUIRE_SCRIPT),
            release: redis::Script::new(RELEASE_SCRIPT),
            fallback: shared.fallback,
            key_prefix: shared.key_prefix.clone(),
            command_timeout: shared.command_timeout,
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

    fn key(&self, request: &SlotRequest<'_>) -> String {
        let api = sha1_smol::Sha1::from(request.base_url).digest().to_string();
        format!(
            "{}:{}:{}:{}:{}/{}ms",
            self.key_prefix,
            request.credential,
            &api[..12],
            request.operation,
            request.limit.requests(),
            request.limit.window().as_millis()
        )
    }

    /// How long a reservation counts when its release never arrives: the reply
    /// may reach the process up to a command timeout after Redis admitted it,
    /// then the attempt may take its longest, and it counts a window after that.
    fn reservation(&self, request: &SlotRequest<'_>) -> Duration {
        request
            .longest_attempt
            .min(LONGEST_ATTEMPT)
            .saturating_add(self.command_timeout)
            .saturating_add(request.limit.window())
    }

    /// One attempt at a slot: admitted, or how long until one may open. Never
    /// waits past `deadline`.
    async fn try_acquire(
        &self,
        key: &str,
        id: &str,
        request: &SlotRequest<'_>,
    ) -> Result<Option<Option<Duration>>, String> {
        let window = millis(request.limit.window());
        let reservation = millis(self.reservation(request));
        let asked = async {
            let mut connection = self.connection().await?;
            self.acquire
                .key(key)
                .arg(request.limit.requests())
                .arg(window)
                .arg(reservation)
                .arg(id)
                .invoke_async::<(i64, i64)>(&mut connection)
                .await
        };
        let started = Instant::now();
        let give_up_at = started
            .checked_add(self.command_timeout)
            .map_or(request.deadline, |at| at.min(request.deadline));
        match tokio::time::timeout_at(give_up_at, asked).await {
            Ok(Ok((1, _))) => Ok(None),
            Ok(Ok((_, wait))) => Ok(Some(u64::try_from(wait).ok().map(Duration::from_millis))),
            Ok(Err(error)) => Err(format!("Redis at {}: {error}", self.address)),
            Err(_) => Err(format!(
                "Redis at {} did not answer within {} ms",
                self.address,
                give_up_at.saturating_duration_since(started).as_millis()
            )),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl RateLimitBackend for RedisRateLimiter {
    fn acquire<'a>(
        &'a self,
        request: SlotRequest<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldSlot>, AcquireError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let key = inner.key(&request);
            let id = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
            // The slot exists from the first ask: Redis may admit it although
            // the answer is lost (a timeout, this future dropped mid-script, a
            // fallback). Every way out but success drops it unsent, which
            // gives a reservation that was made back at once.
            let mut slot: Option<RedisSlot> = None;
            let mut backoff = FIRST_BACKOFF;
            let mut last_failure: Option<String> = None;
            loop {
                if Instant::now() >= request.deadline {
                    return Err(match last_failure {
                        Some(message) => AcquireError::Unavailable { message },
                        None => AcquireError::NoSlotBeforeDeadline { opens_in: None },
                    });
                }
                let held = slot.get_or_insert_with(|| RedisSlot {
                    inner: Arc::clone(inner),
                    key: key.clone(),
                    id: id.clone(),
                    window: millis(request.limit.window()),
                    reservation: inner.reservation(&request),
                    sent: false,
                });
                match inner.try_acquire(&held.key, &held.id, &request).await {
                    Ok(None) => {
                        if let Some(admitted) = slot.take() {
                            return Ok(Box::new(admitted) as Box<dyn HeldSlot>);
                        }
                    }
                    Ok(Some(opens_in)) => {
                        last_failure = None;
                        backoff = FIRST_BACKOFF;
                        if let Some(opens_in) = opens_in
                            && Instant::now()
                                .checked_add(opens_in)
                                .is_none_or(|opening| opening > request.deadline)
                        {
                            return Err(AcquireError::NoSlotBeforeDeadline {
                                opens_in: Some(opens_in),
                            });
                        }
                        let pause = opens_in.unwrap_or_else(|| {
                            IN_FLIGHT_POLL.mul_f64(0.75 + fastrand::f64() / 2.0)
                        });
                        sleep_until_or(pause, request.deadline).await;
                    }
                    Err(message) => {
                        if let Some(fallback) = &inner.fallback {
                            tracing::warn!(
                                operation = request.operation,
                                %message,
                                "the shared rate limiter is unavailable; this call uses this process's own limiter"
                            );
                            drop(slot.take());
                            return fallback.acquire(request).await;
                        }
                        tracing::debug!(operation = request.operation, %message, "asking Redis again");
                        last_failure = Some(message);
                        sleep_until_or(backoff, request.deadline).await;
                        backoff = (backoff * 2).min(LONGEST_BACKOFF);
                    }
                }
            }
        })
    }
}

/// Sleeps for `pause`, or until `deadline` if that comes first.
async fn sleep_until_or(pause: Duration, deadline: Instant) {
    let wake = Instant::now()
        .checked_add(pause)
        .map_or(deadline, |wake| wake.min(deadline));
    tokio::time::sleep_until(wake).await;
}

/// A slot held in Redis. Dropping it releases it in the background, asking again
/// while Redis is unreachable (a restart) until the reservation would have
/// expired anyway; a release that never lands leaves the reservation to expire
/// on its own, counting a little longer, never less.
struct RedisSlot {
    inner: Arc<Inner>,
    key: String,
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
}

impl Drop for RedisSlot {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let inner = Arc::clone(&self.inner);
        let (key, id, window, sent) = (
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.id),
            self.window,
            self.sent,
        );
        let completed = Instant::now();
        let give_up_at = completed.checked_add(self.reservation).unwrap_or(completed);
        runtime.spawn(async move {
            let mut backoff = FIRST_BACKOFF;
            loop {
                let released = async {
                    let mut connection = inner.connection().await?;
                    inner
                        .release
                        .key(&key)
                        .arg(&id)
                        .arg(u8::from(sent))
                        .arg(window)
                        .arg(millis(completed.elapsed()))
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
                if Instant::now()
                    .checked_add(backoff)
                    .is_none_or(|next| next >= give_up_at)
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
