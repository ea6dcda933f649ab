//! Client-side rate limiting (what [`ClientBuilder::rate_limits`](crate::ClientBuilder::rate_limits)
//! and [`ClientBuilder::rate_limit_backend`](crate::ClientBuilder::rate_limit_backend)
//! take): never more requests than an operation's limit in any
//! sliding window, per credential, whatever window algorithm the gateway uses.
//!
//! A request holds a slot from the moment it is admitted until its response (or
//! failure) is complete, and a finished request keeps counting for a whole window
//! after it *completed*. The gateway saw the request at some moment between our
//! send and our completion, so counting from completion is the only choice that
//! stays under the limit however the latency of each request varies. A call that
//! is dropped before its request went out gives its slot back.
//!
//! Where the slots are kept is a [`RateLimitBackend`]: this process's memory by
//! default ([`InProcessRateLimiter`]), or Redis, shared by every process that
//! uses the key (`RedisRateLimiter`, feature `redis`). The hooks see only the
//! trait.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

pub use crate::spec::{InvalidRateLimit, RateLimit};
use crate::transport::BoxFuture;

// The shared backend, in Redis: a part of this module, as it keeps the same
// guarantee with the same types.
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::{RedisRateLimiter, RedisSetupError};

/// Where rate-limit slots are kept. [`InProcessRateLimiter`] is the default;
/// `RedisRateLimiter` (feature `redis`) shares them across processes. Set one
/// with [`ClientBuilder::rate_limit_backend`](crate::ClientBuilder::rate_limit_backend).
///
/// A backend must keep the guarantee: never more than `limit` requests of one
/// credential and operation in any sliding window, a request counting from the
/// moment it is admitted until a window after it completed ([`HeldSlot`] is
/// dropped), and an admitted request that was never sent giving its slot back.
pub trait RateLimitBackend: Send + Sync + std::fmt::Debug + 'static {
    /// Waits for a slot and holds it. Cancel-safe: dropping the future takes no
    /// slot. Fails at once with [`AcquireError::NoSlotBeforeDeadline`] when the
    /// next slot opens only after `request.deadline`, and with
    /// [`AcquireError::Unavailable`] when the backend cannot be asked before it.
    fn acquire<'a>(
        &'a self,
        request: SlotRequest<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldSlot>, AcquireError>>;
}

/// A slot held for one request. Dropping it releases the slot: a request that was
/// sent keeps counting for a window from then; one never sent gives it back.
pub trait HeldSlot: Send {
    /// Records that the request is about to go out: from here on it counts.
    fn mark_sent(&mut self);

    /// Records that the request provably never left (no connection could be
    /// made, or the connection closed before the request was written), so the
    /// server saw nothing: dropping the slot then gives it back, as if it had
    /// never been sent. The default keeps counting it, which is safe but slower.
    fn mark_not_sent(&mut self) {}
}

/// One request for a slot: whose budget, under which limit, until when.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SlotRequest<'a> {
    /// The API key's fingerprint (hex SHA-1 of its `Authorization` value), never
    /// the key: every process with the same key has the same fingerprint.
    pub credential: &'a str,
    /// Where the API is (two APIs do not share a budget).
    pub base_url: &'a str,
    /// The key of the count: the operation's Rust name
    /// ([`Operation::as_str`](crate::Operation::as_str), `cancel_session`),
    /// also for a raw call on the operation's route; for a raw call on a route
    /// the spec does not have, `raw:METHOD:/path` with each value as `*`
    /// (`raw:GET:/v2/community/servers/*/vehicles`).
    pub operation: &'a str,
    /// The limit this caller admits against. The count is shared by every
    /// caller with the same credential, API and operation, whatever limit each
    /// one has (during a rolling upgrade from 9 to 10 a minute, the fleet never
    /// sends more than 10).
    pub limit: RateLimit,
    /// The operation's documented limit (`None` for a route the spec does not
    /// have). A backend keeps each completion countable for at least its
    /// window, and for the longest window any caller used, so that a caller
    /// with a shorter window (an override of 9 per second) never forgets what
    /// a caller with the documented window (9 per minute) must still count.
    pub documented: Option<RateLimit>,
    /// The call's deadline: no slot that opens later is waited for.
    pub deadline: Instant,
    /// The longest one attempt may take (the client's timeout, or what remains
    /// of the call's deadline when that is shorter; the client cuts every
    /// attempt off there): a slot whose release never arrives stops counting a
    /// window after that.
    pub longest_attempt: Duration,
}

/// Why no slot was held.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcquireError {
    /// Every slot is used and none opens before the call's deadline.
    NoSlotBeforeDeadline {
        /// When the next slot opens, when that is known.
        opens_in: Option<Duration>,
    },
    /// The backend could not be asked before the deadline (Redis down, slow or
    /// restarting); the message says what failed last, without secrets.
    Unavailable {
        /// What failed.
        message: String,
    },
}

/// The API key's fingerprint for [`SlotRequest::credential`]: hex SHA-1 of its
/// `Authorization` value, stable across processes and Rust versions.
pub(crate) fn credential_fingerprint(authorization: &[u8]) -> String {
    sha1_smol::Sha1::from(authorization).digest().to_string()
}

/// Slots kept in this process's memory; other processes do not see them.
///
/// - [`InProcessRateLimiter::shared`] (and `Default`), the default backend of every client:
///   one count per key, base URL and operation for the whole process, so two
///   clients built with the same key share one budget.
/// - [`InProcessRateLimiter::new`]: a count of its own, shared
///   only by the clients given this value (or a clone of it). For tests that
///   must not wait for each other's slots, and for keys a process keeps apart.
#[derive(Debug, Clone)]
pub struct InProcessRateLimiter {
    registry: Arc<Registry>,
}

/// The limiters of one [`InProcessRateLimiter`], by key, base URL and operation.
type Registry = Mutex<HashMap<LimiterKey, Arc<SlidingWindowLimiter>>>;

impl InProcessRateLimiter {
    /// A limiter with counts of its own: clients built with it (or a clone)
    /// share them; no other client does.
    pub fn new() -> Self {
        Self {
            registry: Arc::default(),
        }
    }

    /// The process-wide limiter every client uses unless told otherwise.
    pub fn shared() -> Self {
        static PROCESS_WIDE: OnceLock<Arc<Registry>> = OnceLock::new();
        Self {
            registry: Arc::clone(PROCESS_WIDE.get_or_init(Arc::default)),
        }
    }

    /// The limiter for `operation` with this key and base URL.
    fn limiter(
        &self,
        credential: &str,
        base_url: &str,
        operation: &str,
    ) -> Arc<SlidingWindowLimiter> {
        let key = LimiterKey {
            credential: credential.to_owned(),
            base_url: base_url.to_owned(),
            operation: operation.to_owned(),
        };
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(registry.entry(key).or_default())
    }
}

impl Default for InProcessRateLimiter {
    /// [`InProcessRateLimiter::shared`]: the default backend of every client.
    fn default() -> Self {
        Self::shared()
    }
}

impl RateLimitBackend for InProcessRateLimiter {
    fn acquire<'a>(
        &'a self,
        request: SlotRequest<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldSlot>, AcquireError>> {
        Box::pin(async move {
            let limiter = self.limiter(request.credential, request.base_url, request.operation);
            if let Some(documented) = request.documented {
                limiter.remember_at_least(documented);
            }
            match limiter.acquire(request.limit, Some(request.deadline)).await {
                Ok(permit) => Ok(Box::new(permit) as Box<dyn HeldSlot>),
                Err(refused) => Err(AcquireError::NoSlotBeforeDeadline {
                    opens_in: refused.opens_in,
                }),
            }
        })
    }
}

/// Which limits a client enforces before sending: the documented ones (the
/// default), one for all, none, and overrides per [`Operation`](crate::Operation)
/// (`with_override` and `limit_for` are beside `Operation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    pub(crate) enabled: bool,
    pub(crate) uniform: Option<RateLimit>,
    /// By the operation's Rust name (`Operation::as_str`).
    pub(crate) overrides: HashMap<&'static str, RateLimit>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::documented()
    }
}

impl RateLimits {
    /// Each operation's documented limit (the default).
    pub fn documented() -> Self {
        Self {
            enabled: true,
            uniform: None,
            overrides: HashMap::new(),
        }
    }

    /// No client-side limiting at all (tests, a self-hosted gateway without limits).
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            uniform: None,
            overrides: HashMap::new(),
        }
    }

    /// The same limit for every operation, instead of the documented ones.
    pub fn uniform(limit: RateLimit) -> Self {
        Self {
            enabled: true,
            uniform: Some(limit),
            overrides: HashMap::new(),
        }
    }
}

/// Who shares a count: the same credential, against the same API, for the same
/// operation. The limit is not part of it: callers with different limits for
/// one operation (two versions of a program during an upgrade) count together,
/// each admitting against its own limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LimiterKey {
    /// The key's fingerprint: the registry never holds the key itself.
    credential: String,
    base_url: String,
    operation: String,
}

/// A sliding-window count of one credential's requests for one operation:
/// admits a request only while fewer than the caller's limit are in flight or
/// completed within the caller's window.
#[derive(Debug, Default)]
pub(crate) struct SlidingWindowLimiter {
    state: Mutex<WindowState>,
    released: Notify,
}

#[derive(Debug, Default)]
struct WindowState {
    in_flight: u32,
    /// Completion times of the most recent requests, oldest first.
    completed: VecDeque<Instant>,
    /// The most completions any caller's limit, or the documented one, needs
    /// to see (its `requests`).
    keep: usize,
    /// The longest window any caller counted over, and at least the
    /// documented one: completions are pruned only once they left it.
    longest_window: Duration,
}

/// No slot opens before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoSlotBeforeDeadline {
    /// When the next slot opens, if that is known (it is not while every slot is in flight).
    pub(crate) opens_in: Option<Duration>,
}

impl WindowState {
    /// Keeps enough completions, for long enough, for a caller under `limit`.
    fn remember_at_least(&mut self, limit: RateLimit) {
        self.keep = self
            .keep
            .max(usize::try_from(limit.requests()).unwrap_or(usize::MAX));
        self.longest_window = self.longest_window.max(limit.window());
    }

    /// Admits a request under `limit` now, or says when a slot opens for it
    /// (`None` inside when that depends on requests still in flight).
    fn admit(&mut self, limit: RateLimit, now: Instant) -> Result<(), Option<Instant>> {
        self.remember_at_least(limit);
        let longest_window = self.longest_window;
        while self
            .completed
            .front()
            .is_some_and(|completed| crate::time::after(*completed, longest_window) <= now)
        {
            self.completed.pop_front();
        }
        // Completions are in time order: those within this caller's window are
        // the newest ones.
        let in_window = self
            .completed
            .iter()
            .rev()
            .take_while(|completed| crate::time::after(**completed, limit.window()) > now)
            .count();
        let used = self
            .in_flight
            .saturating_add(u32::try_from(in_window).unwrap_or(u32::MAX));
        if used < limit.requests() {
            self.in_flight += 1;
            return Ok(());
        }
        // `must_leave` of the counted requests have to stop counting first: the
        // oldest completions within the window, if there are that many.
        let must_leave = usize::try_from(used - limit.requests() + 1).unwrap_or(usize::MAX);
        if must_leave > in_window {
            return Err(None);
        }
        let oldest_counted = self.completed.len() - in_window;
        Err(self
            .completed
            .get(oldest_counted + must_leave - 1)
            .map(|completed| crate::time::after(*completed, limit.window())))
    }
}

impl SlidingWindowLimiter {
    /// From now on, keeps completions as long and as many as `limit` needs
    /// (the operation's documented limit, before any caller with a shorter
    /// window prunes them).
    pub(crate) fn remember_at_least(&self, limit: RateLimit) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remember_at_least(limit);
    }

    /// Waits for a slot under `limit`. Cancel-safe: dropping the future while
    /// it waits changes nothing. Fails at once when the slot would open only
    /// after `deadline`.
    pub(crate) async fn acquire(
        self: &Arc<Self>,
        limit: RateLimit,
        deadline: Option<Instant>,
    ) -> Result<SlotPermit, NoSlotBeforeDeadline> {
        loop {
            // Register for wake-ups before looking, so a release between the look
            // and the wait is not missed.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();

            let next_opening = {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                match state.admit(limit, Instant::now()) {
                    Ok(()) => {
                        return Ok(SlotPermit {
                            limiter: Arc::clone(self),
                            sent: false,
                        });
                    }
                    Err(next_opening) => next_opening,
                }
            };

            if let Some(deadline) = deadline
                && next_opening.is_some_and(|opening| opening > deadline)
            {
                let now = Instant::now();
                return Err(NoSlotBeforeDeadline {
                    opens_in: next_opening.map(|opening| opening.saturating_duration_since(now)),
                });
            }
            let wake_at = match (next_opening, deadline) {
                (Some(opening), _) => Some(opening),
                (None, deadline) => deadline,
            };
            match wake_at {
                Some(wake_at) => {
                    let timed_out = tokio::time::timeout_at(wake_at, &mut released)
                        .await
                        .is_err();
                    if timed_out && next_opening.is_none() {
                        return Err(NoSlotBeforeDeadline { opens_in: None });
                    }
                }
                None => released.await,
            }
        }
    }
}

/// A slot in a limiter's window. Dropping it releases the slot: a request that was
/// sent keeps counting for a window from now; one that was never sent gives its
/// slot back at once.
#[derive(Debug)]
pub(crate) struct SlotPermit {
    limiter: Arc<SlidingWindowLimiter>,
    sent: bool,
}

impl HeldSlot for SlotPermit {
    fn mark_sent(&mut self) {
        self.sent = true;
    }

    fn mark_not_sent(&mut self) {
        self.sent = false;
    }
}

impl Drop for SlotPermit {
    fn drop(&mut self) {
        {
            let mut state = self
                .limiter
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.in_flight = state.in_flight.saturating_sub(1);
            if self.sent {
                state.completed.push_back(Instant::now());
                while state.completed.len() > state.keep {
                    state.completed.pop_front();
                }
            }
        }
        self.limiter.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_minute(requests: u32) -> RateLimit {
        RateLimit::new(requests, 60).expect("a valid limit")
    }

    fn limiter() -> Arc<SlidingWindowLimiter> {
        Arc::new(SlidingWindowLimiter::default())
    }

    /// Takes a slot under `limit` and completes a request in it, now.
    async fn complete_one_request(limiter: &Arc<SlidingWindowLimiter>, limit: RateLimit) {
        let mut permit = limiter.acquire(limit, None).await.expect("a free slot");
        permit.mark_sent();
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_window_waits_until_the_oldest_completion_leaves_it() {
        let limiter = limiter();
        let start = Instant::now();
        for _ in 0..2 {
            complete_one_request(&limiter, per_minute(2)).await;
        }
        let _third = limiter
            .acquire(per_minute(2), None)
            .await
            .expect("a slot after the window");
        assert_eq!(start.elapsed(), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unsent_permit_gives_its_slot_back_at_once() {
        let limiter = limiter();
        let start = Instant::now();
        drop(
            limiter
                .acquire(per_minute(1), None)
                .await
                .expect("a free slot"),
        );
        let _again = limiter
            .acquire(per_minute(1), None)
            .await
            .expect("the slot came back");
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_never_left_gives_its_slot_back() {
        let limiter = limiter();
        let mut permit = limiter
            .acquire(per_minute(1), None)
            .await
            .expect("a free slot");
        permit.mark_sent();
        // The connection failed before the request was written.
        permit.mark_not_sent();
        drop(permit);
        let start = Instant::now();
        let deadline = start + Duration::from_secs(1);
        let _again = limiter
            .acquire(per_minute(1), Some(deadline))
            .await
            .expect("the slot came back at once");
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_waiter_takes_no_slot() {
        let limiter = limiter();
        complete_one_request(&limiter, per_minute(1)).await;
        // A waiter that gives up (its call was cancelled) must not consume the slot.
        let waiting = limiter.acquire(per_minute(1), None);
        assert!(
            tokio::time::timeout(Duration::from_secs(10), waiting)
                .await
                .is_err()
        );
        let start = Instant::now();
        let _next = limiter
            .acquire(per_minute(1), None)
            .await
            .expect("a slot after the window");
        assert_eq!(start.elapsed(), Duration::from_secs(50));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_beyond_the_deadline_fails_at_once() {
        let limiter = limiter();
        complete_one_request(&limiter, per_minute(1)).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let refused = limiter
            .acquire(per_minute(1), Some(deadline))
            .await
            .expect_err("opens after the deadline");
        assert_eq!(refused.opens_in, Some(Duration::from_secs(60)));
    }

    #[tokio::test(start_paused = true)]
    async fn callers_with_different_limits_share_one_count() {
        // A rolling upgrade: the old version allows 9 a minute, the new one 10.
        let limiter = limiter();
        for _ in 0..9 {
            complete_one_request(&limiter, per_minute(9)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        assert!(
            limiter
                .acquire(per_minute(9), Some(deadline))
                .await
                .is_err(),
            "the old limit is spent"
        );
        complete_one_request(&limiter, per_minute(10)).await;
        let refused = limiter
            .acquire(per_minute(10), Some(deadline))
            .await
            .expect_err("10 in the window: the new limit is spent as well");
        assert_eq!(refused.opens_in, Some(Duration::from_secs(60)));
        let refused = limiter
            .acquire(per_minute(9), Some(deadline))
            .await
            .expect_err("the old limit needs two to leave");
        assert_eq!(refused.opens_in, Some(Duration::from_secs(60)));
    }

    /// Completes `count` requests under `limit`, each as soon as it is admitted.
    async fn complete_requests(
        limiter: &Arc<SlidingWindowLimiter>,
        limit: RateLimit,
        count: usize,
    ) {
        for _ in 0..count {
            complete_one_request(limiter, limit).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_window_caller_never_prunes_what_the_documented_window_counts() {
        // One caller overrides the operation to 9 a second and sends 30 (in
        // about 3 s); another, at the documented 9 a minute, comes 2 s later.
        let limiter = limiter();
        let documented = per_minute(9);
        limiter.remember_at_least(documented);
        let per_second = RateLimit::per_window(9, Duration::from_secs(1)).expect("a valid limit");
        let start = Instant::now();
        complete_requests(&limiter, per_second, 30).await;
        let last_completion = start.elapsed();
        tokio::time::advance(Duration::from_secs(2)).await;
        let deadline = Instant::now() + Duration::from_secs(9);
        let refused = limiter
            .acquire(documented, Some(deadline))
            .await
            .expect_err("the last 9 completions are within the minute");
        // 9 completed at 0 s, 9 at 1 s, 9 at 2 s, 3 at 3 s; it is now 5 s. The
        // minute holds all 30: the ninth newest (at 2 s) leaves it at 62 s.
        assert_eq!(last_completion, Duration::from_secs(3));
        assert_eq!(refused.opens_in, Some(Duration::from_secs(57)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_window_caller_keeps_what_a_short_window_caller_needs() {
        // The other way round: the minute's caller first, then a second's.
        let limiter = limiter();
        let per_second = RateLimit::per_window(2, Duration::from_secs(1)).expect("a valid limit");
        complete_requests(&limiter, per_minute(9), 9).await;
        let refused = limiter
            .acquire(
                per_second,
                Some(Instant::now() + Duration::from_millis(500)),
            )
            .await
            .expect_err("9 completions within the second: 2 a second is spent");
        assert_eq!(refused.opens_in, Some(Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(1)).await;
        let _admitted = limiter
            .acquire(per_second, Some(Instant::now()))
            .await
            .expect("a second later the second's window is empty");
        let refused = limiter
            .acquire(per_minute(9), Some(Instant::now() + Duration::from_secs(1)))
            .await
            .expect_err("the minute still counts all nine and the one in flight");
        // The second oldest of the nine (at 0 s) leaves the minute at 60 s; it is now 1 s.
        assert_eq!(refused.opens_in, Some(Duration::from_secs(59)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_longest_window_neither_panics_nor_admits_twice() {
        let once = RateLimit::per_window(1, Duration::MAX).expect("a valid limit");
        assert_eq!(once.window(), RateLimit::LONGEST_WINDOW);
        let limiter = limiter();
        complete_one_request(&limiter, once).await;
        let refused = limiter
            .acquire(once, Some(Instant::now() + Duration::from_secs(86_400)))
            .await
            .expect_err("one request per hundred years");
        assert_eq!(refused.opens_in, Some(RateLimit::LONGEST_WINDOW));
    }

    #[test]
    fn a_limit_of_nothing_is_refused_with_a_reason() {
        assert_eq!(RateLimit::new(0, 60), Err(InvalidRateLimit::NoRequests));
        assert_eq!(
            RateLimit::per_window(5, Duration::ZERO),
            Err(InvalidRateLimit::EmptyWindow)
        );
        assert!(
            InvalidRateLimit::NoRequests
                .to_string()
                .contains("RateLimits::disabled()")
        );
    }
}
