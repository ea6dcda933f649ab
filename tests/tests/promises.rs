//! The runtime's promises, each tested as a kind on loopback (or, with paused
//! time, through a [`Transport`]): the API's message through `?` into any
//! error type; no panic on the longest durations; one budget per key and
//! operation whatever each client's limit; every call ends by its deadline
//! whoever sends it and however slowly the body comes; a request that never
//! left gives its slot back; an answer of several forms never loses members;
//! retries follow the operation's safety and idempotency, not its method.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use sonoran_cms::rate_limit::{RateLimit, RateLimits};
use sonoran_cms::testing::{BoxFuture, Transport};
use sonoran_cms::types::{
    AccountIdentity, LatestActivityType, StartSessionRequest, VerifyWhitelistRequest,
};
use sonoran_cms::{Client, Error, RetryPolicy};
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer, refusing_base_url};
use sonoran_cms_tests::{SlowTransport, TEST_ACCOUNT_ID, TEST_API_KEY, test_client_builder};

fn account() -> uuid::Uuid {
    TEST_ACCOUNT_ID.parse().expect("a UUID")
}

// 1. The natural code (`?` into anyhow, Box<dyn Error>, `unwrap`) shows the API's
//    message, never progenitor's placeholder.

async fn read_account_with_anyhow(client: &Client) -> anyhow::Result<()> {
    client.get_account().account_id(account()).await?;
    Ok(())
}

async fn read_account_boxed(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
    let answer = client.get_account().account_id(account()).send().await?;
    drop(answer);
    Ok(())
}

#[tokio::test]
async fn question_mark_into_any_error_type_keeps_the_apis_message() {
    let (server, client) = sonoran_cms_tests::serve(CannedResponse::with_body(
        404,
        "application/problem+json",
        r#"{"title": "Not Found", "status": 404, "detail": "ACCOUNT_NOT_FOUND"}"#,
    ))
    .await;
    let through_anyhow = read_account_with_anyhow(&client)
        .await
        .expect_err("404")
        .to_string();
    let boxed = read_account_boxed(&client)
        .await
        .expect_err("404")
        .to_string();
    for message in [&through_anyhow, &boxed] {
        assert!(message.contains("ACCOUNT_NOT_FOUND"), "{message}");
        assert!(message.contains("404"), "{message}");
        assert!(!message.contains("Unexpected Response"), "{message}");
        assert!(!message.contains("no.url.provided"), "{message}");
        assert!(!message.contains(TEST_API_KEY), "{message}");
    }
    // What `unwrap` prints is the error's `Debug`: the status and the detail.
    let debug = format!(
        "{:?}",
        client
            .get_account()
            .account_id(account())
            .await
            .expect_err("404")
    );
    assert!(debug.contains("ACCOUNT_NOT_FOUND"), "{debug}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn an_unavailable_shared_limiter_reads_as_such_through_anyhow() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port");
    let limiter =
        sonoran_cms::rate_limit::RedisRateLimiter::new(&format!("redis://127.0.0.1:{port}/"))
            .expect("a URL")
            .max_unavailable_wait(Duration::from_millis(100));
    let server = LoopbackServer::start(CannedResponse::empty(200))
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .rate_limit_backend(limiter)
        .build()
        .expect("a client");
    let message = read_account_with_anyhow(&client)
        .await
        .expect_err("no slot")
        .to_string();
    assert!(message.contains("shared rate limiter"), "{message}");
    assert!(
        !message.contains("504"),
        "not a made-up gateway timeout: {message}"
    );
    assert!(server.requests().is_empty());
}

// 3. The longest durations saturate: no overflow panic anywhere.

/// A server answering every request with an empty list of servers.
async fn servers_server() -> LoopbackServer {
    LoopbackServer::start(CannedResponse::with_body(
        200,
        "application/json",
        r#"{"success": true, "data": {"servers": []}}"#,
    ))
    .await
    .expect("the server starts")
}

#[tokio::test]
async fn the_longest_durations_never_panic() {
    let servers = servers_server().await;
    let once_ever = RateLimit::per_window(1, Duration::MAX).expect("a valid limit");
    let unbounded = |base_url: String, deadline: Duration, rate_limits: RateLimits| {
        Client::builder(TEST_API_KEY)
            .base_url(base_url)
            .timeout(Duration::MAX)
            .deadline(deadline)
            .retry_policy(
                RetryPolicy::default()
                    .max_retries(u32::MAX)
                    .max_retry_wait(Duration::MAX)
                    .initial_backoff(Duration::MAX),
            )
            .rate_limits(rate_limits)
            .build()
            .expect("a client")
    };
    // No deadline, no attempt timeout, one request a hundred years.
    unbounded(
        servers.base_url(),
        Duration::MAX,
        RateLimits::uniform(once_ever),
    )
    .get_servers()
    .await
    .expect("the one request");
    // That request is spent: a second call fails at once (no slot before its
    // deadline), and says so.
    let error = unbounded(
        servers.base_url(),
        Duration::from_secs(5),
        RateLimits::uniform(once_ever),
    )
    .get_servers()
    .await
    .expect_err("no slot");
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert!(error.to_string().contains("no free slot"), "{error}");
    assert_eq!(servers.requests().len(), 1);

    // A 429 without a delay asks for backoff: a backoff of `Duration::MAX` ends
    // past the deadline, so the call ends with the 429 at once.
    let refusing = LoopbackServer::start(CannedResponse::with_body(
        429,
        "application/json",
        r#"{"message": "API rate limit exceeded"}"#,
    ))
    .await
    .expect("the server starts");
    let error = unbounded(
        refusing.base_url(),
        Duration::from_secs(5),
        RateLimits::disabled(),
    )
    .get_servers()
    .await
    .expect_err("429");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(429));
    assert_eq!(refusing.requests().len(), 1);
    assert!(matches!(
        RateLimit::new(0, 60),
        Err(sonoran_cms::rate_limit::InvalidRateLimit::NoRequests)
    ));
}

// 4. One budget per credential, API and operation, whatever each client's limit.

#[tokio::test]
async fn clients_with_different_limits_for_one_key_share_one_budget() {
    let server = servers_server().await;
    // A rolling upgrade: the old build allows 2 a minute, the new one 3, one key.
    let key = "rolling-upgrade-key";
    let with_limit = |requests| {
        Client::builder(key)
            .base_url(server.base_url())
            .deadline(Duration::from_secs(2))
            .rate_limits(RateLimits::documented().with_override(
                sonoran_cms::Operation::GetServers,
                RateLimit::new(requests, 60).expect("a valid limit"),
            ))
            .build()
            .expect("a client")
    };
    let (old, new) = (with_limit(2), with_limit(3));
    let mut sent = 0;
    for client in [&old, &new, &old, &new, &old, &new] {
        if client.get_servers().await.is_ok() {
            sent += 1;
        }
    }
    assert_eq!(sent, 3, "the larger limit, never the sum");
    assert_eq!(server.requests().len(), 3);
}

// 5. The deadline holds whoever sends and however slowly the answer comes.

/// A call through `transport` with a 5 s deadline, on paused time: whether it
/// ended, and how much (virtual) time it took.
async fn call_through(transport: impl Transport) -> (Error, Duration) {
    let client = Client::builder(TEST_API_KEY)
        .base_url("http://127.0.0.1:9")
        .deadline(Duration::from_secs(5))
        .retry_policy(RetryPolicy::none())
        .transport(transport)
        .build()
        .expect("a client");
    let started = tokio::time::Instant::now();
    let error = client.get_servers().await.expect_err("no answer in time");
    (error, started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_transport_that_takes_an_hour_ends_at_the_deadline() {
    let (error, took) = call_through(SlowTransport {
        delay: Duration::from_secs(3_600),
        endless_body: false,
        status: 200,
    })
    .await;
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(
        error.to_string().contains("no whole answer within 5.0 s"),
        "{error}"
    );
    assert_eq!(took, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_ends_ends_at_the_deadline() {
    for status in [200, 503] {
        let (error, took) = call_through(SlowTransport {
            delay: Duration::ZERO,
            endless_body: true,
            status,
        })
        .await;
        assert!(
            matches!(error, Error::Timeout { .. }),
            "{status}: {error:?}"
        );
        assert_eq!(took, Duration::from_secs(5), "{status}");
    }
}

/// A rate-limit backend that never answers (one that ignores the deadline).
#[derive(Debug)]
struct NeverAnswers;

impl sonoran_cms::rate_limit::RateLimitBackend for NeverAnswers {
    fn acquire<'a>(
        &'a self,
        _request: sonoran_cms::rate_limit::SlotRequest<'a>,
    ) -> BoxFuture<
        'a,
        Result<Box<dyn sonoran_cms::rate_limit::HeldSlot>, sonoran_cms::rate_limit::AcquireError>,
    > {
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_backend_that_never_answers_ends_at_the_deadline() {
    let client = Client::builder(TEST_API_KEY)
        .base_url("http://127.0.0.1:9")
        .deadline(Duration::from_secs(5))
        .rate_limit_backend(NeverAnswers)
        .transport(SlowTransport {
            delay: Duration::ZERO,
            endless_body: false,
            status: 200,
        })
        .build()
        .expect("a client");
    let started = tokio::time::Instant::now();
    let error = client.get_servers().await.expect_err("no slot");
    assert!(
        matches!(error, Error::RateLimiterUnavailable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("did not answer"), "{error}");
    assert_eq!(started.elapsed(), Duration::from_secs(5));
}

// 5b. No send without time to finish: an attempt that waited (for a slot, or
//     before a retry) goes out only with the minimum attempt time left.

/// A client of `cancel_session` at one call a minute, with `deadline`,
/// answering through a transport that counts what it is sent.
fn one_a_minute(deadline: Duration, sent: &Arc<AtomicUsize>) -> sonoran_cms::ClientBuilder {
    Client::builder(format!("one-a-minute-{}", deadline.as_millis()))
        .base_url("http://127.0.0.1:9")
        .deadline(deadline)
        .retry_policy(RetryPolicy::none())
        .rate_limit_backend(sonoran_cms::rate_limit::InProcessRateLimiter::new())
        .rate_limits(RateLimits::documented().with_override(
            sonoran_cms::Operation::CancelSession,
            RateLimit::new(1, 60).expect("a valid limit"),
        ))
        .transport(CountingTransport(Arc::clone(sent)))
}

/// Answers 204 at once and counts the requests.
struct CountingTransport(Arc<AtomicUsize>);

impl Transport for CountingTransport {
    fn execute(
        &self,
        _request: reqwest::Request,
    ) -> BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            let mut response = http::Response::new(Vec::<u8>::new());
            *response.status_mut() = http::StatusCode::NO_CONTENT;
            Ok(reqwest::Response::from(response))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_slot_that_opens_with_milliseconds_left_is_not_taken_and_the_call_says_rate_limited() {
    // The slot opens at 60.00 s; the deadline is 60.01 s.
    let sent = Arc::new(AtomicUsize::new(0));
    let client = one_a_minute(Duration::from_millis(60_010), &sent)
        .build()
        .expect("a client");
    sonoran_cms_tests::cancel(&client)
        .await
        .expect("the minute's one call");
    let started = tokio::time::Instant::now();
    let error = sonoran_cms_tests::cancel(&client)
        .await
        .expect_err("no time to send after the slot");
    assert!(
        matches!(
            error,
            Error::RateLimited {
                opens_in: Some(opens_in),
                ..
            } if opens_in == Duration::from_secs(60)
        ),
        "{error:?}"
    );
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "ended at once, without waiting"
    );
    assert!(error.is_retryable());
    assert!(!error.may_have_taken_effect());
    assert!(
        error.to_string().contains("the request was not sent"),
        "{error}"
    );
    assert_eq!(
        sent.load(Ordering::SeqCst),
        1,
        "the second call sent nothing"
    );

    // With no minimum, the same call waits and sends with 10 ms left.
    let hurried = one_a_minute(Duration::from_millis(60_010), &sent)
        .min_attempt_time(Duration::ZERO)
        .build()
        .expect("a client");
    sonoran_cms_tests::cancel(&hurried)
        .await
        .expect("its own minute's call");
    sonoran_cms_tests::cancel(&hurried)
        .await
        .expect("sent at 60.00 s with 10 ms left");
    assert_eq!(sent.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn a_short_deadline_still_sends_its_first_attempt() {
    // The default minimum is at most half the deadline: a 100 ms deadline
    // sends (the minimum is 50 ms), and so does a view's 10 ms one.
    let sent = Arc::new(AtomicUsize::new(0));
    let client = one_a_minute(Duration::from_millis(100), &sent)
        .rate_limits(RateLimits::disabled())
        .build()
        .expect("a client");
    sonoran_cms_tests::cancel(&client).await.expect("sent");
    let view =
        client.with_options(sonoran_cms::CallOptions::new().deadline(Duration::from_millis(10)));
    sonoran_cms_tests::cancel(&view).await.expect("sent");
    assert_eq!(sent.load(Ordering::SeqCst), 2);
}

/// A backend that grants every slot after `after`, whatever the deadline
/// (one that ignores it), and counts the slots sent on.
#[derive(Debug)]
struct LateGrant {
    after: Duration,
    sent: Arc<AtomicUsize>,
}

struct CountedSlot(Arc<AtomicUsize>);

impl sonoran_cms::rate_limit::HeldSlot for CountedSlot {
    fn mark_sent(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl sonoran_cms::rate_limit::RateLimitBackend for LateGrant {
    fn acquire<'a>(
        &'a self,
        _request: sonoran_cms::rate_limit::SlotRequest<'a>,
    ) -> BoxFuture<
        'a,
        Result<Box<dyn sonoran_cms::rate_limit::HeldSlot>, sonoran_cms::rate_limit::AcquireError>,
    > {
        Box::pin(async move {
            tokio::time::sleep(self.after).await;
            Ok(Box::new(CountedSlot(Arc::clone(&self.sent)))
                as Box<dyn sonoran_cms::rate_limit::HeldSlot>)
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_slot_granted_late_by_any_backend_is_given_back_unsent() {
    let sent = Arc::new(AtomicUsize::new(0));
    let slots_sent = Arc::new(AtomicUsize::new(0));
    let client = one_a_minute(Duration::from_secs(5), &sent)
        .rate_limit_backend(LateGrant {
            after: Duration::from_millis(4_500),
            sent: Arc::clone(&slots_sent),
        })
        .build()
        .expect("a client");
    let error = sonoran_cms_tests::cancel(&client)
        .await
        .expect_err("500 ms left, less than the 1 s minimum");
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert!(
        error.to_string().contains("left no time to send"),
        "{error}"
    );
    assert_eq!(sent.load(Ordering::SeqCst), 0);
    assert_eq!(
        slots_sent.load(Ordering::SeqCst),
        0,
        "the slot was never marked sent"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_is_not_sent_when_its_delay_leaves_less_than_the_minimum() {
    // A 503 asking to come back after `retry_after` under a 6.5 s deadline
    // (a 1 s minimum): 3 s leaves time for one retry (at 3 s; a second at 6 s
    // would have 0.5 s), 6 s for none (it would have 0.5 s).
    let seen = Arc::new(AtomicUsize::new(0));
    for (retry_after, attempts) in [(3_u64, 2), (6, 1)] {
        let counter = Arc::clone(&seen);
        counter.store(0, Ordering::SeqCst);
        let client = Client::builder(format!("retry-after-{retry_after}"))
            .base_url("http://127.0.0.1:9")
            .deadline(Duration::from_millis(6_500))
            .rate_limits(RateLimits::disabled())
            .transport(RetryAfterTransport {
                seconds: retry_after,
                seen: Arc::clone(&counter),
            })
            .build()
            .expect("a client");
        let error = client.get_servers().await.expect_err("503 each time");
        assert!(matches!(error, Error::Api(_)), "{error:?}");
        assert_eq!(
            counter.load(Ordering::SeqCst),
            attempts,
            "Retry-After {retry_after} s under a 6.5 s deadline with a 1 s minimum"
        );
    }
}

/// Answers 503 with `Retry-After: seconds`, counting requests.
struct RetryAfterTransport {
    seconds: u64,
    seen: Arc<AtomicUsize>,
}

impl Transport for RetryAfterTransport {
    fn execute(
        &self,
        _request: reqwest::Request,
    ) -> BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        self.seen.fetch_add(1, Ordering::SeqCst);
        let seconds = self.seconds;
        Box::pin(async move {
            let mut response = http::Response::new(Vec::<u8>::new());
            *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_str(&seconds.to_string()).expect("digits"),
            );
            Ok(reqwest::Response::from(response))
        })
    }
}

// 6. A request that never left gives its slot back.

#[tokio::test]
async fn a_connection_that_failed_before_sending_does_not_spend_the_budget() {
    let base_url = refusing_base_url().await.expect("a refusing port");
    let client = Client::builder("never-left-key")
        .base_url(&base_url)
        .deadline(Duration::from_secs(2))
        .retry_policy(RetryPolicy::none())
        .rate_limits(RateLimits::uniform(
            RateLimit::new(1, 60).expect("a valid limit"),
        ))
        .build()
        .expect("a client");
    for attempt in 0..3 {
        let error = client.get_servers().await.expect_err("nothing listens");
        // Had the first attempt counted, the next would find no slot for 60 s
        // and end as a timeout before connecting.
        assert!(
            matches!(error, Error::Connect { .. }),
            "call {attempt}: {error:?}"
        );
        assert!(!error.may_have_taken_effect());
    }
}

/// A loopback port whose connections never open: its listener's accept queue
/// is full and nothing accepts, so the kernel drops each new SYN and the
/// caller's socket stays in SYN-SENT, as when packets are dropped on the way.
/// Returns its base URL and the connections that fill the queue (keep them).
async fn port_that_never_opens() -> (String, tokio::net::TcpListener, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("binds");
    let listener = socket.listen(0).expect("listens with the shortest queue");
    let address = listener.local_addr().expect("an address");
    let mut filling = Vec::new();
    for _ in 0..64 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(address),
        )
        .await
        {
            Ok(Ok(stream)) => filling.push(stream),
            // The queue is full: this connect stayed in SYN-SENT.
            Err(_) => return (format!("http://{address}"), listener, filling),
            Ok(Err(error)) => panic!("connecting to the listener failed: {error}"),
        }
    }
    panic!("64 connections and the accept queue is still not full");
}

#[tokio::test]
async fn a_connection_that_never_opens_is_a_connection_failure_that_gives_its_slot_back() {
    let (base_url, _listener, _filling) = port_that_never_opens().await;
    let client = Client::builder("never-opens-key")
        .base_url(&base_url)
        .connect_timeout(Duration::from_millis(200))
        .timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(20))
        .retry_policy(
            RetryPolicy::default()
                .max_retries(1)
                .initial_backoff(Duration::from_millis(10)),
        )
        .rate_limits(RateLimits::uniform(
            RateLimit::new(1, 60).expect("a valid limit"),
        ))
        .build()
        .expect("a client");
    // A POST that changes state, as the issue's cancel_session: retried all the
    // same, because it never left.
    for call in 0..2 {
        let error = sonoran_cms_tests::cancel(&client)
            .await
            .expect_err("the connection never opens");
        assert!(
            matches!(error, Error::Connect { .. }),
            "call {call}: {error:?}"
        );
        assert!(!error.may_have_taken_effect(), "call {call}: {error}");
        assert!(error.is_retryable(), "call {call}");
        assert_eq!(
            error.earlier_attempts().len(),
            1,
            "call {call}: retried once"
        );
        assert_eq!(
            error.history().last_attempt,
            Some(sonoran_cms::error::AttemptReach::NotSent),
            "call {call}"
        );
        // Had an attempt kept its slot, the next call would find none for 60 s.
        assert!(
            !error.to_string().contains("no free slot"),
            "call {call}: {error}"
        );
    }
}

// 7. An answer of several forms never loses members: a clock-in list with one
//    odd field fails, naming the field, instead of becoming activity rows.

/// `get_latest_activity` of `kind` against a server answering `rows` as its data.
async fn latest_activity(
    rows: &serde_json::Value,
    kind: LatestActivityType,
) -> Result<sonoran_cms::types::GetLatestActivityResponseData, Error> {
    let body = json!({"success": true, "data": rows}).to_string();
    let (_server, client) =
        sonoran_cms_tests::serve(CannedResponse::with_body(200, "application/json", &body)).await;
    client
        .get_latest_activity()
        .account_id(account())
        .type_(kind)
        .await
        .map(|answer| answer.into_inner().data)
}

#[tokio::test]
async fn a_clock_in_list_with_an_odd_field_fails_at_that_field() {
    let row = json!({"id": "55555555-5555-5555-5555-555555555555", "startTime": "2026-04-15T00:00:00.000Z",
        "endTime": null, "completed": false, "notes": [], "type": "patrol"});
    let mut odd_completed = row.clone();
    odd_completed["completed"] = json!(0);
    let mut no_offset = row.clone();
    no_offset["startTime"] = json!("2026-04-15T00:00:00");
    for (rows, path) in [
        (json!([row.clone(), odd_completed]), "data[1].completed"),
        (json!([no_offset]), "data[0].startTime"),
    ] {
        let error = latest_activity(&rows, LatestActivityType::Clockin)
            .await
            .expect_err("no form keeps every member");
        let failure = error.decode_failure().expect("a decode failure");
        assert_eq!(failure.path, path, "{error}");
        assert!(
            failure.message.contains("the closest, `ClockIns`"),
            "{error}"
        );
    }
    // A row whose members the forms name equally (one each), so that either
    // would drop the other's: ambiguous, and refused, naming the member.
    let ambiguous =
        json!([{"startTime": "2026-04-15T00:00:00.000Z", "start": "2026-04-15T00:00:00.000Z"}]);
    let error = latest_activity(&ambiguous, LatestActivityType::Activity)
        .await
        .expect_err("either form would drop a member");
    let failure = error.decode_failure().expect("a decode failure");
    assert!(failure.message.contains("ambiguous"), "{error}");
    assert!(failure.message.contains("would drop it"), "{error}");
    // Well-formed rows of either form are read as that form.
    for (rows, clock_ins) in [
        (json!([row]), true),
        (
            json!([{"id": 7, "accId": TEST_ACCOUNT_ID, "start": "2026-04-15T00:00:00.000Z", "status": true}]),
            false,
        ),
    ] {
        let data = latest_activity(&rows, LatestActivityType::Activity)
            .await
            .expect("a well-formed answer");
        assert_eq!(
            matches!(
                data,
                sonoran_cms::types::GetLatestActivityResponseData::ClockIns(_)
            ),
            clock_ins,
            "{data:?}"
        );
    }
}

#[tokio::test]
async fn a_member_the_api_adds_to_one_form_never_fails_the_read_and_is_named_in_a_warning() {
    // The test runs on one thread, so what it calls logs here.
    let (logs, _guard) = sonoran_cms_tests::CapturedLogs::warnings();
    // Clock-in rows gain `serverId`, a member the activity form names; an
    // activity row gains `type`, a member the clock-in form names.
    let clock_in = json!({"id": "55555555-5555-5555-5555-555555555555", "startTime": "2026-04-15T00:00:00.000Z",
        "endTime": null, "completed": false, "notes": [], "type": "patrol", "serverId": 2});
    let activity = json!({"id": 7, "accId": TEST_ACCOUNT_ID, "start": "2026-04-15T00:00:00.000Z", "status": true,
        "type": "patrol"});
    for (rows, clock_ins, member) in [
        (json!([clock_in.clone(), clock_in]), true, "[0].serverId"),
        (json!([activity]), false, "[0].type"),
    ] {
        let data = latest_activity(&rows, LatestActivityType::Clockin)
            .await
            .expect("the form that keeps the most members is read");
        assert_eq!(
            matches!(
                data,
                sonoran_cms::types::GetLatestActivityResponseData::ClockIns(_)
            ),
            clock_ins,
            "{data:?}"
        );
        let logged = logs.text();
        assert!(logged.contains("GetLatestActivityResponseData"), "{logged}");
        assert!(logged.contains(member), "{logged}");
    }
}

// Decode once: a success answer that fits its type but says it failed.

#[tokio::test]
async fn an_answer_that_fits_and_says_it_failed_is_the_apis_error() {
    let (_server, client) = sonoran_cms_tests::serve(CannedResponse::with_body(
        200,
        "application/json",
        r#"{"success": false, "data": null, "message": "SESSION_ERROR"}"#,
    ))
    .await;
    let error = client
        .get_current_session()
        .server_id(1_u64)
        .await
        .expect_err("success is false");
    assert!(matches!(error, Error::Api(_)), "{error:?}");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(200));
    assert!(error.to_string().contains("SESSION_ERROR"), "{error}");
    assert_eq!(
        error.raw_body(),
        Some(&br#"{"success": false, "data": null, "message": "SESSION_ERROR"}"#[..])
    );
}

// 9. Retries follow what the operation does, not its method.

/// A server answering 502 to the first `failures` requests, then `then`.
async fn failing_then(failures: usize, then: CannedResponse) -> LoopbackServer {
    let seen = Arc::new(AtomicUsize::new(0));
    LoopbackServer::start_scripted(Arc::new(move |_, _| {
        if seen.fetch_add(1, Ordering::SeqCst) < failures {
            CannedResponse::with_body(502, "text/html", "<html>Bad Gateway</html>")
        } else {
            then.clone()
        }
    }))
    .await
    .expect("the server starts")
}

fn whitelist_check(client: &Client) -> sonoran_cms::builder::VerifyWhitelist<'_> {
    client.verify_whitelist().server_id(1_u64).body(
        VerifyWhitelistRequest::builder()
            .identity(AccountIdentity::Discord("123456789012345678".into())),
    )
}

#[tokio::test]
async fn a_post_that_only_reads_is_retried_and_never_may_have_taken_effect() {
    let allowed = CannedResponse::with_body(
        200,
        "application/json",
        r#"{"success": true, "data": "Jane"}"#,
    );
    let server = failing_then(2, allowed).await;
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let answer = whitelist_check(&client)
        .await
        .expect("retried after the 502s");
    assert_eq!(answer.into_inner().data, "Jane");
    assert_eq!(server.requests().len(), 3);

    let server = failing_then(usize::MAX, CannedResponse::empty(200)).await;
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let error = whitelist_check(&client).await.expect_err("always 502");
    assert_eq!(
        server.requests().len(),
        3,
        "retried as far as the policy allows"
    );
    assert!(!error.may_have_taken_effect(), "{error}");
    assert!(
        !error.to_string().contains("may have taken effect"),
        "{error}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_post_that_changes_state_is_not_repeated_once_it_may_have_run() {
    let server = failing_then(usize::MAX, CannedResponse::empty(201)).await;
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let error = client
        .start_session()
        .body(
            StartSessionRequest::builder()
                .server_id(1_u64)
                .acc_id(account()),
        )
        .await
        .expect_err("502");
    assert_eq!(server.requests().len(), 1);
    assert!(error.may_have_taken_effect());
    // The one rule: what is not retried is not "retryable" either.
    assert!(!error.is_retryable(), "{error}");
}

#[tokio::test]
async fn a_408_is_retried_for_any_operation_and_called_retryable() {
    let started = CannedResponse::with_body(
        201,
        "application/json",
        r#"{"success": true, "data": {"id": "0b7c9a51-2f55-4b7e-9a63-5d1e3c2b1a00", "serverId": 1}}"#,
    );
    let seen = Arc::new(AtomicUsize::new(0));
    let server = LoopbackServer::start_scripted(Arc::new(move |_, _| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            CannedResponse::empty(408)
        } else {
            started.clone()
        }
    }))
    .await
    .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    client
        .start_session()
        .body(
            StartSessionRequest::builder()
                .server_id(1_u64)
                .acc_id(account()),
        )
        .await
        .expect("retried after the 408");
    assert_eq!(server.requests().len(), 2);

    let (_server, client) = sonoran_cms_tests::serve(CannedResponse::empty(408)).await;
    let error = client
        .start_session()
        .body(
            StartSessionRequest::builder()
                .server_id(1_u64)
                .acc_id(account()),
        )
        .await
        .expect_err("408");
    assert!(error.is_retryable(), "{error}");
    assert!(
        !error.may_have_taken_effect(),
        "the server did not get it whole"
    );
}
