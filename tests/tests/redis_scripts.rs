//! The shared limiter's Lua scripts run directly against a real `redis-server`
//! (a lost answer asked again, a release of a slot never used, callers with
//! different limits on one count), and the limiter's behaviour when Redis
//! fails: a call dropped while its script runs gives its slot back, waiting
//! for an unavailable Redis is bounded, and the circuit opens after an outage.
//!
//! Without `redis-server` the tests that need one print a line and pass (see
//! `sonoran_cms_tests::redis_server`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sonoran_cms::rate_limit::{
    AcquireError, RateLimit, RateLimitBackend, RedisRateLimiter, SlotRequest,
};
use sonoran_cms::redis_scripts::{ACQUIRE_SCRIPT, RELEASE_SCRIPT, keys};
use sonoran_cms_tests::redis_server::RedisServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// The three keys of one test's count.
fn test_keys(test: &str) -> [String; 3] {
    keys("test", "fingerprint", test, "cancel_session")
}

/// Runs the acquire script: `(1, 0)` admitted, `(0, ms)` a slot opens in `ms`,
/// `(0, -1)` every counted request is in flight.
fn acquire(
    connection: &mut redis::Connection,
    keys: &[String; 3],
    limit: u32,
    id: &str,
) -> (i64, i64) {
    acquire_reserving(connection, keys, limit, id, 120_000)
}

/// [`acquire`], with a reservation of `reservation_ms`.
fn acquire_reserving(
    connection: &mut redis::Connection,
    keys: &[String; 3],
    limit: u32,
    id: &str,
    reservation_ms: u64,
) -> (i64, i64) {
    redis::Script::new(ACQUIRE_SCRIPT)
        .key(&keys[0])
        .key(&keys[1])
        .key(&keys[2])
        .arg(limit)
        .arg(60_000)
        .arg(reservation_ms)
        .arg(id)
        .invoke(connection)
        .expect("the acquire script runs")
}

/// Runs the release script for `id`: sent (it counts a window from now) or not.
fn release(connection: &mut redis::Connection, keys: &[String; 3], id: &str, sent: bool) {
    let _: i64 = redis::Script::new(RELEASE_SCRIPT)
        .key(&keys[0])
        .key(&keys[1])
        .key(&keys[2])
        .arg(id)
        .arg(u8::from(sent))
        .arg(0)
        .arg(60_000)
        .invoke(connection)
        .expect("the release script runs");
}

fn count(connection: &mut redis::Connection, key: &str) -> usize {
    redis::cmd("ZCARD")
        .arg(key)
        .query(connection)
        .expect("ZCARD")
}

fn connect(redis: &RedisServer) -> redis::Connection {
    redis::Client::open(redis.url())
        .and_then(|client| client.get_connection())
        .expect("a connection to the test's Redis")
}

#[test]
fn an_admission_asked_again_after_a_lost_answer_counts_once() {
    let Some(redis) =
        RedisServer::start_or_skip("an_admission_asked_again_after_a_lost_answer_counts_once")
    else {
        return;
    };
    let mut connection = connect(&redis);
    let keys = test_keys("lost-answer");
    let expiry = |connection: &mut redis::Connection| -> f64 {
        redis::cmd("ZSCORE")
            .arg(&keys[0])
            .arg("a")
            .query(connection)
            .expect("the reservation's expiry")
    };
    assert_eq!(
        acquire_reserving(&mut connection, &keys, 1, "a", 1_000),
        (1, 0)
    );
    let first = expiry(&mut connection);
    // The answer was lost (a timeout, a dropped connection): the limiter asks
    // again with the same id. It is admitted once, and the reservation counts
    // from this ask, since the process holds the slot from now on.
    assert_eq!(acquire(&mut connection, &keys, 1, "a"), (1, 0));
    assert_eq!(
        count(&mut connection, &keys[0]),
        1,
        "one reservation, not two"
    );
    assert!(
        expiry(&mut connection) >= first + 100_000.0,
        "the reservation was renewed"
    );
    assert_eq!(
        acquire(&mut connection, &keys, 1, "b"),
        (0, -1),
        "the one slot is in flight"
    );
    release(&mut connection, &keys, "a", true);
    assert_eq!(count(&mut connection, &keys[0]), 0);
    assert_eq!(count(&mut connection, &keys[1]), 1, "one completion");
    let (admitted, wait) = acquire(&mut connection, &keys, 1, "b");
    assert_eq!(admitted, 0);
    // A window after completing; the completion is recorded on the
    // millisecond above the moment it happened, so up to 1 ms more.
    assert!(
        (50_000..=60_001).contains(&wait),
        "a window after completing: {wait}"
    );
}

#[test]
fn a_short_window_never_trims_what_the_documented_window_counts() {
    // A caller overriding the operation to 9 a second: its acquire names the
    // documented minute too, and completions are kept for the minute.
    let Some(redis) =
        RedisServer::start_or_skip("a_short_window_never_trims_what_the_documented_window_counts")
    else {
        return;
    };
    let mut connection = connect(&redis);
    let keys = test_keys("documented-floor");
    for index in 0..12 {
        let id = format!("fast-{index}");
        let (admitted, _): (i64, i64) = redis::Script::new(ACQUIRE_SCRIPT)
            .key(&keys[0])
            .key(&keys[1])
            .key(&keys[2])
            .arg(100)
            .arg(1_000)
            .arg(120_000)
            .arg(&id)
            .arg(60_000)
            .invoke(&mut connection)
            .expect("the acquire script runs");
        assert_eq!(admitted, 1);
        release(&mut connection, &keys, &id, true);
    }
    let longest: u64 = redis::cmd("GET")
        .arg(&keys[2])
        .query(&mut connection)
        .expect("the longest window");
    assert_eq!(
        longest, 60_000,
        "the documented minute, not the caller's second"
    );
    // A caller at the documented 9 a minute counts all twelve.
    let (admitted, wait) = acquire(&mut connection, &keys, 9, "documented");
    assert_eq!(admitted, 0);
    assert!(wait > 50_000, "{wait}");
}

/// Redis's `TIME` in microseconds.
fn redis_micros(connection: &mut redis::Connection) -> u64 {
    let (seconds, micros): (u64, u64) = redis::cmd("TIME").query(connection).expect("TIME");
    seconds * 1_000_000 + micros
}

#[test]
fn a_completion_is_never_recorded_before_it_happened() {
    // The scripts count in milliseconds. A completion recorded on the
    // millisecond below the moment it happened would free its slot up to 1 ms
    // early, and a gateway measuring its window strictly would reject the
    // request sent then (the shared-limiter test saw one such rejection).
    let Some(redis) =
        RedisServer::start_or_skip("a_completion_is_never_recorded_before_it_happened")
    else {
        return;
    };
    let mut connection = connect(&redis);
    for round in 0..50 {
        let keys = test_keys(&format!("rounding-{round}"));
        assert_eq!(acquire(&mut connection, &keys, 1, "a"), (1, 0));
        let before = redis_micros(&mut connection);
        // Completed just now (an age of 0 ms).
        release(&mut connection, &keys, "a", true);
        let recorded: f64 = redis::cmd("ZSCORE")
            .arg(&keys[1])
            .arg("a")
            .query(&mut connection)
            .expect("the completion's time");
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let recorded_micros = (recorded as u64) * 1_000;
        assert!(
            recorded_micros >= before,
            "round {round}: recorded at {recorded_micros} µs, before it happened ({before} µs)"
        );
    }
}

#[test]
fn a_slot_released_unsent_is_given_back_at_once() {
    let Some(redis) = RedisServer::start_or_skip("a_slot_released_unsent_is_given_back_at_once")
    else {
        return;
    };
    let mut connection = connect(&redis);
    let keys = test_keys("unsent");
    assert_eq!(acquire(&mut connection, &keys, 1, "a"), (1, 0));
    // The connection failed before the request was written.
    release(&mut connection, &keys, "a", false);
    assert_eq!(
        count(&mut connection, &keys[1]),
        0,
        "no completion recorded"
    );
    assert_eq!(acquire(&mut connection, &keys, 1, "b"), (1, 0));
}

#[test]
fn callers_with_different_limits_share_one_count_in_redis() {
    let Some(redis) =
        RedisServer::start_or_skip("callers_with_different_limits_share_one_count_in_redis")
    else {
        return;
    };
    let mut connection = connect(&redis);
    let keys = test_keys("rolling-upgrade");
    // The old build (2 a window) sends two; the new one (3) may send one more.
    for id in ["old-1", "old-2"] {
        assert_eq!(acquire(&mut connection, &keys, 2, id), (1, 0));
        release(&mut connection, &keys, id, true);
    }
    assert_eq!(acquire(&mut connection, &keys, 2, "old-3").0, 0);
    assert_eq!(acquire(&mut connection, &keys, 3, "new-1"), (1, 0));
    // Three count (two completions, one in flight): the next slot, for either
    // limit, opens when completions leave the window.
    for (limit, id) in [(3, "new-2"), (2, "old-4")] {
        let (admitted, wait) = acquire(&mut connection, &keys, limit, id);
        assert_eq!(admitted, 0, "{id}");
        // Up to 1 ms more: completions are recorded on the millisecond above.
        assert!((50_000..=60_001).contains(&wait), "{id}: {wait}");
    }
    assert_eq!(
        count(&mut connection, &keys[0]),
        1,
        "only new-1 is reserved"
    );
}

/// A TCP proxy to `target` that delays every answer by `delay`.
async fn delaying_proxy(target: String, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&target).await else {
                continue;
            };
            let (mut from_client, mut to_client) = client.into_split();
            let (mut from_server, mut to_server) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
            });
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 16 * 1024];
                while let Ok(read) = from_server.read(&mut buffer).await {
                    if read == 0 {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    if to_client.write_all(&buffer[..read]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("redis://{address}/")
}

fn slot_request(deadline: Instant) -> SlotRequest<'static> {
    SlotRequest::new(
        "fingerprint",
        "http://127.0.0.1:1",
        sonoran_cms::Operation::CancelSession,
        RateLimit::new(1, 60).expect("a valid limit"),
        deadline,
        Duration::from_secs(1),
    )
}

#[tokio::test]
async fn a_call_dropped_while_its_script_runs_gives_its_slot_back() {
    let Some(redis) =
        RedisServer::start_or_skip("a_call_dropped_while_its_script_runs_gives_its_slot_back")
    else {
        return;
    };
    let address = redis
        .url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let slow = RedisRateLimiter::new(&delaying_proxy(address, Duration::from_millis(500)).await)
        .expect("a URL")
        .command_timeout(Duration::from_secs(5));
    let direct = RedisRateLimiter::new(&redis.url()).expect("a URL");
    let deadline = Instant::now() + Duration::from_secs(10);
    // Both connections are set up and Redis has the scripts cached (another
    // operation's calls loaded them), so the slow client's next ask runs the
    // script at once and only its answer is late.
    let warm_up = SlotRequest::new(
        "fingerprint",
        "http://127.0.0.1:1",
        sonoran_cms::Operation::GetServers,
        RateLimit::new(100, 60).expect("a valid limit"),
        deadline,
        Duration::from_secs(1),
    );
    drop(direct.acquire(warm_up).await.expect("a slot"));
    drop(slow.acquire(warm_up).await.expect("a slot"));
    let mut redis_view = connect(&redis);
    let reservations = keys(
        "sonoran-cms:rate-limit",
        "fingerprint",
        &api_hash("http://127.0.0.1:1"),
        "cancel_session",
    );
    // A boxed future: dropping it drops the call.
    let mut asking = slow.acquire(slot_request(deadline));
    // Drive the call until Redis holds its reservation, then drop it.
    let held = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            tokio::select! {
                _ = &mut asking => return false,
                () = tokio::time::sleep(Duration::from_millis(10)) => {
                    if count(&mut redis_view, &reservations[0]) == 1 {
                        return true;
                    }
                }
            }
        }
    })
    .await;
    assert_eq!(
        held,
        Ok(true),
        "the script ran and its answer is still on its way"
    );
    drop(asking);
    // The only slot of the window was reserved by Redis for the dropped call;
    // it must come back, or this waits for its deadline in vain.
    let admitted = direct.acquire(slot_request(deadline)).await;
    assert!(admitted.is_ok(), "{:?}", admitted.err());
}

/// The API part of the client's Redis keys for `base_url`.
fn api_hash(base_url: &str) -> String {
    sha1_smol::Sha1::from(base_url).digest().to_string()[..12].to_owned()
}

/// A port that accepts connections and closes them at once, counting them:
/// a Redis that fails every ask.
async fn failing_redis() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((connection, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(connection);
        }
    });
    (format!("redis://{address}/"), accepted)
}

#[tokio::test(start_paused = true)]
async fn waiting_for_an_unavailable_redis_is_bounded_well_before_the_deadline() {
    let (url, _) = failing_redis().await;
    let limiter = RedisRateLimiter::new(&url)
        .expect("a URL")
        .max_unavailable_wait(Duration::from_secs(2));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    let outcome = limiter.acquire(slot_request(deadline)).await;
    assert!(
        matches!(outcome, Err(AcquireError::Unavailable { .. })),
        "{:?}",
        outcome.err()
    );
    // A player's whitelist check fails in seconds, not at its 300 s deadline.
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
}

#[tokio::test]
async fn after_an_outage_the_circuit_opens_and_calls_fail_without_asking() {
    let (url, accepted) = failing_redis().await;
    let limiter = RedisRateLimiter::new(&url)
        .expect("a URL")
        .max_unavailable_wait(Duration::ZERO)
        .circuit_breaker(1, Duration::from_secs(60));
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = limiter.acquire(slot_request(deadline)).await;
    assert!(matches!(first, Err(AcquireError::Unavailable { .. })));
    let asked = accepted.load(Ordering::SeqCst);
    assert!(asked >= 1, "the first call asked Redis");
    let second = limiter.acquire(slot_request(deadline)).await;
    match second {
        Err(AcquireError::Unavailable { message }) => {
            assert!(message.contains("circuit open"), "{message}");
        }
        other => panic!("expected the open circuit, got {:?}", other.err()),
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        asked,
        "the open circuit asks nobody"
    );
}
