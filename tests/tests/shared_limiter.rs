//! The rate-limit guarantee across processes, on a real Redis: three OS
//! processes share one API key and send 15 cancels each at once against a
//! loopback gateway that enforces a strict, scaled-down sliding window (5
//! requests per second) and rejects with 429 what goes over it.
//!
//! With the shared backend there are no rejections, also when Redis is stopped
//! and started again mid-run; without it, the same processes are rejected. The
//! makespans are printed against the minimum the rule allows (run with
//! `--nocapture` to read them); speed is not asserted, only that the makespan is
//! never below the minimum (which would mean the window was broken).

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use sonoran_cms::rate_limit::RedisRateLimiter;
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer};
use sonoran_cms_tests::redis_server::RedisServer;
use sonoran_cms_tests::test_client_builder;

const PROCESSES: usize = 3;
const CALLS_PER_PROCESS: usize = 15;
const LIMIT: usize = 5;
const WINDOW: Duration = Duration::from_secs(1);

/// The gateway's record: when each admitted request arrived, and how many it
/// rejected.
#[derive(Default)]
struct GatewayLog {
    arrivals: Mutex<Vec<Instant>>,
    rejections: AtomicUsize,
    /// Woken each time a request is admitted (for the restart scenario).
    admitted: tokio::sync::Notify,
}

/// Admits a request only while fewer than `LIMIT` were admitted in the last
/// `WINDOW` (strict sliding window on arrival); answers 429 otherwise.
async fn gateway(State(log): State<Arc<GatewayLog>>) -> impl IntoResponse {
    let now = Instant::now();
    let admitted = {
        let mut arrivals = log.arrivals.lock().expect("not poisoned");
        let in_window = arrivals
            .iter()
            .filter(|arrival| now.duration_since(**arrival) < WINDOW)
            .count();
        if in_window < LIMIT {
            arrivals.push(now);
            true
        } else {
            false
        }
    };
    if admitted {
        log.admitted.notify_waiters();
        StatusCode::NO_CONTENT.into_response()
    } else {
        log.rejections.fetch_add(1, Ordering::SeqCst);
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            r#"{"message": "API rate limit exceeded"}"#,
        )
            .into_response()
    }
}

async fn start_gateway() -> (String, Arc<GatewayLog>) {
    let log = Arc::new(GatewayLog::default());
    let app = Router::new().fallback(gateway).with_state(Arc::clone(&log));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), log)
}

/// What one run of the three processes gave.
#[derive(Debug)]
struct Run {
    succeeded: usize,
    failed: usize,
    rejections: usize,
    /// From the first admitted arrival to the last.
    makespan: Duration,
}

/// The shortest span `calls` arrivals can take under the rule: every `LIMIT`
/// arrivals after the first batch need one more window.
fn minimum_makespan(calls: usize) -> Duration {
    WINDOW * u32::try_from((calls - 1) / LIMIT).expect("a small count")
}

/// Runs the three worker processes against the gateway at `base_url`, sharing
/// slots in Redis at `redis` (or not), while `during` runs in this process.
async fn run_workers(
    base_url: &str,
    log: &Arc<GatewayLog>,
    redis: Option<String>,
    during: impl Future<Output = ()>,
) -> Run {
    let workers: Vec<_> = (0..PROCESSES)
        .map(|_| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_limiter_worker"));
            command.args([
                "--base-url",
                base_url,
                "--calls",
                &CALLS_PER_PROCESS.to_string(),
                "--limit",
                &LIMIT.to_string(),
                "--window-ms",
                &WINDOW.as_millis().to_string(),
            ]);
            if let Some(redis) = &redis {
                command.args(["--redis", redis]);
            }
            tokio::task::spawn_blocking(move || command.output().expect("the worker runs"))
        })
        .collect();
    during.await;
    let mut succeeded = 0;
    let mut failed = 0;
    for worker in workers {
        let output = worker.await.expect("the worker finishes");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "a worker failed: {text} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let first = text.lines().next().unwrap_or_default();
        let count = |name: &str| -> usize {
            first
                .split_whitespace()
                .find_map(|part| part.strip_prefix(name))
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("`{name}` in the worker's report: {text}"))
        };
        succeeded += count("succeeded=");
        failed += count("failed=");
    }
    let arrivals = log.arrivals.lock().expect("not poisoned").clone();
    let makespan = match (arrivals.iter().min(), arrivals.iter().max()) {
        (Some(first), Some(last)) => last.duration_since(*first),
        _ => Duration::ZERO,
    };
    Run {
        succeeded,
        failed,
        rejections: log.rejections.load(Ordering::SeqCst),
        makespan,
    }
}

fn report(scenario: &str, run: &Run, minimum: Duration) {
    eprintln!(
        "{scenario}: {} succeeded, {} failed, {} rejected by the gateway; makespan {:.3} s against a minimum of {:.3} s ({:+.2}%)",
        run.succeeded,
        run.failed,
        run.rejections,
        run.makespan.as_secs_f64(),
        minimum.as_secs_f64(),
        (run.makespan.as_secs_f64() / minimum.as_secs_f64() - 1.0) * 100.0
    );
}

const TOTAL: usize = PROCESSES * CALLS_PER_PROCESS;

/// The guarantee, as the gateway saw it: nothing rejected, every call through,
/// and no faster than the rule allows (faster would mean the window broke).
fn assert_no_rejection_and_the_window_held(run: &Run) {
    assert_eq!(run.rejections, 0, "{run:?}");
    assert_eq!((run.succeeded, run.failed), (TOTAL, 0), "{run:?}");
    assert!(
        run.makespan >= minimum_makespan(TOTAL),
        "the window held: {run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_sharing_redis_are_never_rejected() {
    let Some(redis) =
        RedisServer::start_or_skip("three_processes_sharing_redis_are_never_rejected")
    else {
        return;
    };
    let (base_url, log) = start_gateway().await;
    let run = run_workers(&base_url, &log, Some(redis.url()), async {}).await;
    report("shared in Redis", &run, minimum_makespan(TOTAL));
    assert_no_rejection_and_the_window_held(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_run_delays_calls_but_rejects_none() {
    let Some(mut redis) =
        RedisServer::start_or_skip("a_redis_restart_mid_run_delays_calls_but_rejects_none")
    else {
        return;
    };
    let url = redis.url();
    let (base_url, log) = start_gateway().await;
    let outage = Duration::from_millis(1500);
    let mut down_for = Duration::ZERO;
    // Stop Redis once a third of the calls went through, keep it down for the
    // outage, then start it again with its data.
    let during = async {
        loop {
            let admitted = log.admitted.notified();
            if log.arrivals.lock().expect("not poisoned").len() >= TOTAL / 3 {
                break;
            }
            admitted.await;
        }
        let stopped = Instant::now();
        redis.stop();
        tokio::time::sleep(outage).await;
        redis.resume();
        down_for = stopped.elapsed();
    };
    let run = run_workers(&base_url, &log, Some(url), during).await;
    report(
        &format!(
            "shared in Redis, down for {:.3} s mid-run",
            down_for.as_secs_f64()
        ),
        &run,
        minimum_makespan(TOTAL) + down_for,
    );
    assert_no_rejection_and_the_window_held(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_shared_backend_the_same_processes_are_rejected() {
    let (base_url, log) = start_gateway().await;
    let run = run_workers(&base_url, &log, None, async {}).await;
    report("each process alone", &run, minimum_makespan(TOTAL));
    assert!(
        run.rejections > 0,
        "three processes each keeping 5/s send 15/s: the gateway rejects some ({run:?})"
    );
}

// Faults of Redis itself, in one process: every call ends within its deadline,
// with a clear error that says nothing was sent, or through this process's own
// limiter when that fallback was chosen.

/// A Redis URL where nothing listens.
fn unreachable_redis() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port");
    format!("redis://127.0.0.1:{port}/")
}

async fn cancel_through(
    backend: RedisRateLimiter,
) -> (LoopbackServer, Result<u16, sonoran_cms::Error>) {
    let server = LoopbackServer::start(CannedResponse::empty(204))
        .await
        .expect("a server");
    let client = test_client_builder(&server.base_url())
        .deadline(Duration::from_secs(2))
        .rate_limit_backend(backend)
        .build()
        .expect("a client");
    let outcome = sonoran_cms_tests::cancel(&client).await;
    (server, outcome)
}

#[tokio::test]
async fn with_redis_down_a_call_fails_within_its_deadline_and_sends_nothing() {
    let (server, outcome) =
        cancel_through(RedisRateLimiter::new(&unreachable_redis()).expect("a URL")).await;
    let error = outcome.expect_err("no slot without Redis");
    assert!(
        matches!(error, sonoran_cms::Error::RateLimiterUnavailable { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("the request was not sent"), "{message}");
    assert!(message.contains("Redis at 127.0.0.1:"), "{message}");
    assert!(
        !message.contains(sonoran_cms_tests::TEST_API_KEY),
        "{message}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn with_redis_silent_a_call_fails_within_its_deadline() {
    // Accepts connections and never answers: every command times out.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = silent.local_addr().expect("an address").port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    tokio::spawn(async move {
        while let Ok((connection, _)) = silent.accept().await {
            keep.lock().expect("not poisoned").push(connection);
        }
    });
    let limiter = RedisRateLimiter::new(&format!("redis://127.0.0.1:{port}/"))
        .expect("a URL")
        .command_timeout(Duration::from_millis(200));
    let (server, outcome) = cancel_through(limiter).await;
    let error = outcome.expect_err("no slot from a silent Redis");
    assert!(
        matches!(error, sonoran_cms::Error::RateLimiterUnavailable { .. }),
        "{error:?}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn with_the_fallback_chosen_a_call_goes_through_this_processs_limiter_with_a_warning() {
    // The test runs on one thread, so what it calls logs here.
    let (logs, _guard) = sonoran_cms_tests::CapturedLogs::warnings();
    let limiter = RedisRateLimiter::new(&unreachable_redis())
        .expect("a URL")
        .fall_back_to_in_process(true);
    let (server, outcome) = cancel_through(limiter).await;
    assert_eq!(outcome.expect("the in-process limiter admits it"), 204);
    assert_eq!(server.requests().len(), 1);
    let logged = logs.text();
    assert!(logged.contains("WARN"), "{logged}");
    assert!(logged.contains("this process's own limiter"), "{logged}");
    assert!(
        !logged.contains(sonoran_cms_tests::TEST_API_KEY),
        "{logged}"
    );
}

#[tokio::test]
async fn redis_keys_carry_a_fingerprint_of_the_key_never_the_key() {
    let Some(redis) =
        RedisServer::start_or_skip("redis_keys_carry_a_fingerprint_of_the_key_never_the_key")
    else {
        return;
    };
    let (server, outcome) =
        cancel_through(RedisRateLimiter::new(&redis.url()).expect("a URL")).await;
    assert_eq!(outcome.expect("a slot"), 204);
    assert_eq!(server.requests().len(), 1);
    let keys = Command::new("redis-cli")
        .args(["-u", &redis.url(), "--scan"])
        .output()
        .expect("redis-cli runs");
    let keys = String::from_utf8_lossy(&keys.stdout).into_owned();
    assert!(keys.starts_with("sonoran-cms:rate-limit:"), "{keys}");
    assert!(keys.contains(":cancel_session}:"), "{keys}");
    assert!(
        !keys.contains("9/"),
        "the limit is not part of the key: {keys}"
    );
    assert!(!keys.contains(sonoran_cms_tests::TEST_API_KEY), "{keys}");
}

#[tokio::test]
async fn an_unbounded_attempt_timeout_neither_overflows_nor_loses_a_slot() {
    // A reservation allows for the longest attempt; an attempt timeout of
    // `Duration::MAX` must not overflow its arithmetic (a panic, or a wrapped,
    // too short reservation).
    let Some(redis) = RedisServer::start_or_skip(
        "an_unbounded_attempt_timeout_neither_overflows_nor_loses_a_slot",
    ) else {
        return;
    };
    let server = LoopbackServer::start(CannedResponse::empty(204))
        .await
        .expect("a server");
    let client = test_client_builder(&server.base_url())
        .timeout(Duration::MAX)
        .rate_limit_backend(RedisRateLimiter::new(&redis.url()).expect("a URL"))
        .build()
        .expect("a client");
    for _ in 0..3 {
        assert_eq!(
            sonoran_cms_tests::cancel(&client).await.expect("a slot"),
            204
        );
    }
    assert_eq!(server.requests().len(), 3);
}
