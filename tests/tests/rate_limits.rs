//! The rate-limit guarantee, proved twice against servers that enforce a strict
//! sliding window and count every request over it:
//!
//! - on tokio's virtual clock, through an in-process transport (a real socket
//!   would let the paused clock jump ahead while it waits), at the documented
//!   9 requests per 60 s;
//! - on a real loopback server, with the window scaled down to 3 requests per second.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sonoran_cms::rate_limit::{RateLimit, RateLimits};
use sonoran_cms::testing::{BoxFuture, Transport};
use sonoran_cms::{Client, RetryPolicy};
use sonoran_cms_tests::cancel;
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer};
use tokio::time::Instant;

/// A strict sliding window: a request is rejected when `limit` requests already
/// arrived in the `window` before it (inclusive), whatever the client intended.
#[derive(Debug)]
struct StrictWindow<Clock> {
    limit: usize,
    window: Duration,
    arrivals: Mutex<VecDeque<Clock>>,
    accepted: AtomicUsize,
    rejected: AtomicUsize,
}

impl<Clock: Copy + Ord + std::ops::Sub<Clock, Output = Duration>> StrictWindow<Clock> {
    fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            arrivals: Mutex::new(VecDeque::new()),
            accepted: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
        }
    }

    /// Records an arrival at `now`; `true` when it is within the limit.
    fn admit(&self, now: Clock) -> bool {
        let mut arrivals = self.arrivals.lock().unwrap_or_else(PoisonError::into_inner);
        let in_window = arrivals
            .iter()
            .filter(|arrival| now - **arrival < self.window)
            .count();
        if in_window >= self.limit {
            self.rejected.fetch_add(1, Ordering::SeqCst);
            return false;
        }
        arrivals.push_back(now);
        self.accepted.fetch_add(1, Ordering::SeqCst);
        true
    }
}

/// The strict-window server as an in-process transport, on tokio's clock.
struct InProcessGateway(Arc<StrictWindow<Instant>>);

impl Transport for InProcessGateway {
    fn execute(
        &self,
        _request: reqwest::Request,
    ) -> BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        let admitted = self.0.admit(Instant::now());
        Box::pin(async move {
            let mut response = http::Response::new(Vec::<u8>::new());
            if !admitted {
                *response.status_mut() = http::StatusCode::TOO_MANY_REQUESTS;
            } else {
                *response.status_mut() = http::StatusCode::NO_CONTENT;
            }
            Ok(reqwest::Response::from(response))
        })
    }
}

/// Sends `count` cancels at once through clones of the given clients (round robin)
/// and returns how many succeeded.
async fn burst(clients: &[Client], count: usize) -> usize {
    let mut calls = tokio::task::JoinSet::new();
    for index in 0..count {
        let client = clients[index % clients.len()].clone();
        calls.spawn(async move { cancel(&client).await.is_ok() });
    }
    let mut succeeded = 0;
    while let Some(result) = calls.join_next().await {
        succeeded += usize::from(result.expect("no call panics"));
    }
    succeeded
}

fn virtual_client(api_key: &str, gateway: &Arc<StrictWindow<Instant>>) -> Client {
    Client::builder(api_key)
        .base_url("https://api.sonorancms.com")
        // Any 429 must surface as a failure, not be hidden by a retry.
        .retry_policy(RetryPolicy::none())
        .transport(InProcessGateway(Arc::clone(gateway)))
        .build()
        .expect("a client")
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_30_cancels_meets_the_documented_limit_exactly() {
    let gateway = Arc::new(StrictWindow::new(9, Duration::from_secs(60)));
    let client = virtual_client("burst-of-30-key", &gateway);
    let started = Instant::now();
    let succeeded = burst(&[client], 30).await;
    let makespan = started.elapsed();
    eprintln!("burst of 30: makespan {makespan:?} on the virtual clock (minimum 180 s)");

    assert_eq!(
        gateway.rejected.load(Ordering::SeqCst),
        0,
        "the gateway rejected requests"
    );
    assert_eq!(succeeded, 30);
    // 9 at once, 9 more each 60 s later: the 30th can go no sooner than 180 s.
    let minimum = Duration::from_secs(180);
    assert!(
        makespan >= minimum,
        "{makespan:?} is faster than the limit allows"
    );
    assert!(
        makespan <= minimum.mul_f64(1.01),
        "{makespan:?} is more than 1% over the minimum {minimum:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn two_clients_with_the_same_key_share_one_budget() {
    let gateway = Arc::new(StrictWindow::new(9, Duration::from_secs(60)));
    let clients = [
        virtual_client("shared-key", &gateway),
        virtual_client("shared-key", &gateway),
    ];
    let started = Instant::now();
    let succeeded = burst(&clients, 18).await;
    assert_eq!(gateway.rejected.load(Ordering::SeqCst), 0);
    assert_eq!(succeeded, 18);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(60),
        "18 requests need exactly two windows"
    );
}

#[tokio::test(start_paused = true)]
async fn different_keys_have_their_own_budgets() {
    let gateway = Arc::new(StrictWindow::new(18, Duration::from_secs(60)));
    let clients = [
        virtual_client("first-key", &gateway),
        virtual_client("second-key", &gateway),
    ];
    let started = Instant::now();
    assert_eq!(burst(&clients, 18).await, 18);
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "9 per key fit in the first window"
    );
}

#[tokio::test(start_paused = true)]
async fn a_disabled_limiter_sends_everything_at_once() {
    let gateway = Arc::new(StrictWindow::new(9, Duration::from_secs(60)));
    let client = Client::builder("disabled-key")
        .retry_policy(RetryPolicy::none())
        .rate_limits(RateLimits::disabled())
        .transport(InProcessGateway(Arc::clone(&gateway)))
        .build()
        .expect("a client");
    assert_eq!(
        burst(&[client], 12).await,
        9,
        "without the limiter the gateway rejects 3"
    );
    assert_eq!(gateway.rejected.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn a_slot_beyond_the_deadline_ends_the_call_at_once() {
    let gateway = Arc::new(StrictWindow::new(9, Duration::from_secs(60)));
    let client = Client::builder("deadline-key")
        .retry_policy(RetryPolicy::none())
        .deadline(Duration::from_secs(30))
        .transport(InProcessGateway(Arc::clone(&gateway)))
        .build()
        .expect("a client");
    assert_eq!(burst(std::slice::from_ref(&client), 9).await, 9);
    let started = Instant::now();
    let outcome = cancel(&client).await;
    assert!(
        matches!(
            &outcome,
            Err(sonoran_cms::Error::RateLimited {
                opens_in: Some(opens_in),
                ..
            }) if *opens_in == Duration::from_secs(60)
        ),
        "{outcome:?}"
    );
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "no point waiting for a slot past the deadline"
    );
    assert_eq!(gateway.accepted.load(Ordering::SeqCst), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_loopback_server_with_a_scaled_window_rejects_nothing() {
    let window = Arc::new(StrictWindow::new(3, Duration::from_secs(1)));
    let server_window = Arc::clone(&window);
    let server = LoopbackServer::start_scripted(Arc::new(move |_, _| {
        if server_window.admit(std::time::Instant::now()) {
            CannedResponse::empty(204)
        } else {
            CannedResponse::empty(429)
        }
    }))
    .await
    .expect("the server starts");
    let client = Client::builder("scaled-window-key")
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::none())
        .rate_limits(RateLimits::uniform(
            RateLimit::per_window(3, Duration::from_secs(1)).expect("a valid limit"),
        ))
        .build()
        .expect("a client");
    let succeeded = burst(&[client], 12).await;
    assert_eq!(
        window.rejected.load(Ordering::SeqCst),
        0,
        "the server rejected requests"
    );
    assert_eq!(succeeded, 12);
}

/// Every arrival at the gateway, on tokio's clock, with who sent it.
#[derive(Debug, Default)]
struct ArrivalLog(Mutex<Vec<(Instant, usize)>>);

/// A gateway that accepts everything and records who arrived when.
struct RecordingGateway {
    log: Arc<ArrivalLog>,
    caller: usize,
}

impl Transport for RecordingGateway {
    fn execute(
        &self,
        _request: reqwest::Request,
    ) -> BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        self.log
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((Instant::now(), self.caller));
        Box::pin(async move {
            let mut response = http::Response::new(Vec::<u8>::new());
            *response.status_mut() = http::StatusCode::NO_CONTENT;
            Ok(reqwest::Response::from(response))
        })
    }
}

/// A client of `key` whose `cancel_session` admits against `limit` (each test
/// has a key of its own: the process-wide limiter counts per key).
fn caller(key: &str, log: &Arc<ArrivalLog>, caller: usize, limit: RateLimit) -> Client {
    Client::builder(key)
        .retry_policy(RetryPolicy::none())
        .rate_limits(
            RateLimits::documented().with_override(sonoran_cms::Operation::CancelSession, limit),
        )
        .transport(RecordingGateway {
            log: Arc::clone(log),
            caller,
        })
        .build()
        .expect("a client")
}

/// For each arrival of a caller with `limit`, how many arrivals (anyone's
/// before it, and itself) the window before it holds, at the most. Arrivals
/// after it at the same instant were admitted after it, so they do not count.
fn most_in_a_window(log: &ArrivalLog, caller: usize, limit: RateLimit) -> usize {
    let arrivals = log.0.lock().unwrap_or_else(PoisonError::into_inner);
    arrivals
        .iter()
        .enumerate()
        .filter(|(_, (_, who))| *who == caller)
        .map(|(position, (at, _))| {
            arrivals[..=position]
                .iter()
                .filter(|(other, _)| *at - *other < limit.window())
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn a_short_window_override_never_lets_a_documented_caller_exceed_its_window() {
    // Client A overrides cancel_session to 9 a second and sends 30; client B,
    // in the same process with the same key, keeps the documented 9 a minute
    // and then tries 5 cancels with a 9 s deadline each.
    let log = Arc::new(ArrivalLog::default());
    let per_second = RateLimit::per_window(9, Duration::from_secs(1)).expect("a valid limit");
    let documented = sonoran_cms::Operation::CancelSession.documented_rate_limit();
    let a = caller("short-window-key", &log, 0, per_second);
    let b = caller("short-window-key", &log, 1, documented)
        .with_options(sonoran_cms::CallOptions::new().deadline(Duration::from_secs(9)));
    assert_eq!(
        burst(&[a], 30).await,
        30,
        "A's own limit admits all 30 in about 3 s"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    let mut admitted = 0;
    for _ in 0..5 {
        admitted += usize::from(cancel(&b).await.is_ok());
    }
    // The strict minimum: the minute before B holds A's 30, so a 9-a-minute
    // caller may send nothing within it.
    eprintln!("mixed windows: B admitted {admitted} of 5 within 9 s (strict minimum 0)");
    assert_eq!(admitted, 0, "B counted A's completions over its own minute");
    assert!(most_in_a_window(&log, 1, documented) <= 9);
    // A minute after A's ninth newest completion, B gets through.
    let b_later = caller("short-window-key", &log, 1, documented);
    let started = Instant::now();
    assert!(cancel(&b_later).await.is_ok());
    assert!(
        started.elapsed() <= Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(most_in_a_window(&log, 1, documented) <= 9);
}

#[tokio::test(start_paused = true)]
async fn a_fleet_of_callers_with_different_limits_each_keeps_its_own_limit_over_everyones_requests()
{
    let log = Arc::new(ArrivalLog::default());
    let limits = [
        sonoran_cms::Operation::CancelSession.documented_rate_limit(),
        RateLimit::per_window(9, Duration::from_secs(1)).expect("a valid limit"),
        RateLimit::per_window(12, Duration::from_secs(60)).expect("a valid limit"),
        RateLimit::per_window(5, Duration::from_secs(10)).expect("a valid limit"),
    ];
    let mut calls = tokio::task::JoinSet::new();
    for (index, limit) in limits.iter().enumerate() {
        let client = caller("fleet-key", &log, index, *limit);
        calls.spawn(async move { burst(&[client], 15).await });
    }
    let mut sent = 0;
    while let Some(result) = calls.join_next().await {
        sent += result.expect("no caller panics");
    }
    assert_eq!(sent, 60, "every call is admitted in the end");
    for (index, limit) in limits.iter().enumerate() {
        let most = most_in_a_window(&log, index, *limit);
        assert!(
            most <= usize::try_from(limit.requests()).expect("small"),
            "caller {index} ({limit:?}) saw {most} requests in one of its windows"
        );
    }
}
