//! Every way a call can go wrong, each against a real server on 127.0.0.1 (or a
//! port where nothing listens), each ending in its documented result:
//!
//! | case | result |
//! | --- | --- |
//! | 204 | `Ok` |
//! | 4XX with problem+json, plain text or no body | `Error::Api`, not retried |
//! | 5XX with problem+json, plain text or no body | `Error::Api` after 2 retries of a GET, each earlier attempt kept |
//! | 429 with `Retry-After` seconds, date, garbage or none | retried twice, then `Error::Api` with the body |
//! | a server slower than the timeout | `Error::Timeout` within the deadline |
//! | connection refused | `Error::Connect` after 2 retries |
//! | connection reset mid-response | `Error::Transport` after 2 retries of a GET |
//! | body cut short | `Error::Transport` after 2 retries of a GET |

use std::time::Duration;

use serde_json::json;
use sonoran_cms::Error;
use sonoran_cms_tests::loopback::{
    CannedResponse, LoopbackServer, Misbehaviour, RawServer, refusing_base_url,
};
use sonoran_cms_tests::{serve, test_client_builder};

/// The default policy retries twice: three attempts in all.
const ATTEMPTS_WITH_RETRIES: usize = 3;

async fn cancel(builder: sonoran_cms::ClientBuilder) -> Result<u16, Error> {
    sonoran_cms_tests::cancel(&builder.build().expect("a client")).await
}

/// Cancels a session once against a server answering every request with
/// `response`; returns the server (to count attempts) and the outcome.
async fn cancel_against(response: CannedResponse) -> (LoopbackServer, Result<u16, Error>) {
    let (server, client) = serve(response).await;
    let outcome = sonoran_cms_tests::cancel(&client).await;
    (server, outcome)
}

/// Reads the servers (a GET) once against a server answering every request with
/// `response`; returns the server (to count attempts) and the outcome.
async fn read_against(response: CannedResponse) -> (LoopbackServer, Result<u16, Error>) {
    let (server, client) = serve(response).await;
    let outcome = sonoran_cms_tests::read_servers(&client).await;
    (server, outcome)
}

/// The error body kinds an API or a proxy in front of it sends.
#[derive(Debug, Clone, Copy)]
enum ErrorBody {
    ProblemJson,
    PlainText,
    Empty,
}

fn error_response(status: u16, kind: ErrorBody) -> CannedResponse {
    match kind {
        ErrorBody::ProblemJson => CannedResponse::with_body(
            status,
            "application/problem+json",
            &json!({"type": "about:blank", "title": "Problem title", "status": status,
                    "detail": format!("detail of {status}"), "traceId": "trace-77"})
            .to_string(),
        ),
        ErrorBody::PlainText => {
            CannedResponse::with_body(status, "text/plain", &format!("plain failure {status}"))
        }
        ErrorBody::Empty => CannedResponse::empty(status),
    }
}

#[track_caller]
fn expect_api_error(outcome: Result<u16, Error>, status: u16) -> sonoran_cms::error::ApiError {
    match outcome {
        Err(Error::Api(api)) => {
            assert_eq!(api.status.as_u16(), status);
            *api
        }
        other => panic!("expected Error::Api with {status}, got {other:?}"),
    }
}

async fn check_error_status(status: u16, kind: ErrorBody) {
    let (server, outcome) =
        read_against(error_response(status, kind).header("x-kong-request-id", "kong-1")).await;
    let api = expect_api_error(outcome, status);

    let retried = status >= 500;
    let expected_attempts = if retried { ATTEMPTS_WITH_RETRIES } else { 1 };
    assert_eq!(
        server.requests().len(),
        expected_attempts,
        "{status} {kind:?}: attempts"
    );
    assert_eq!(
        api.history.earlier_attempts.len(),
        expected_attempts - 1,
        "each earlier attempt is kept"
    );
    assert!(
        !api.body.is_empty() || matches!(kind, ErrorBody::Empty),
        "the raw body is kept"
    );
    assert_eq!(
        api.request_id.as_deref(),
        Some("kong-1"),
        "the gateway's request id wins"
    );
    match kind {
        ErrorBody::ProblemJson => {
            assert_eq!(api.problem.title.as_deref(), Some("Problem title"));
            assert_eq!(api.problem.detail, Some(format!("detail of {status}")));
            assert_eq!(api.problem.trace_id.as_deref(), Some("trace-77"));
        }
        ErrorBody::PlainText => {
            assert_eq!(api.problem.detail, Some(format!("plain failure {status}")));
            assert_eq!(api.problem.status, Some(i64::from(status)));
        }
        ErrorBody::Empty => {
            assert_eq!(api.problem.detail, None);
            assert_eq!(api.problem.status, Some(i64::from(status)));
            assert!(
                api.problem.title.is_some(),
                "the status's reason phrase stands in"
            );
        }
    }
    let error = Error::Api(Box::new(api));
    // One rule decides both: what the client retries (a 5XX of a GET) is what
    // `is_retryable` says.
    assert_eq!(error.is_retryable(), retried, "{status}");
    let shown = error.to_string();
    assert!(
        shown.starts_with(&format!("the Sonoran CMS API answered {status}")),
        "{shown}"
    );
}

macro_rules! error_status_cases {
    ($($name:ident: $status:expr, $kind:expr;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                check_error_status($status, $kind).await;
            }
        )*
    };
}

error_status_cases! {
    status_400_problem_json: 400, ErrorBody::ProblemJson;
    status_400_plain_text: 400, ErrorBody::PlainText;
    status_400_empty: 400, ErrorBody::Empty;
    status_401_problem_json: 401, ErrorBody::ProblemJson;
    status_401_plain_text: 401, ErrorBody::PlainText;
    status_401_empty: 401, ErrorBody::Empty;
    status_403_problem_json: 403, ErrorBody::ProblemJson;
    status_403_plain_text: 403, ErrorBody::PlainText;
    status_403_empty: 403, ErrorBody::Empty;
    status_404_problem_json: 404, ErrorBody::ProblemJson;
    status_404_plain_text: 404, ErrorBody::PlainText;
    status_404_empty: 404, ErrorBody::Empty;
    status_409_problem_json: 409, ErrorBody::ProblemJson;
    status_409_plain_text: 409, ErrorBody::PlainText;
    status_409_empty: 409, ErrorBody::Empty;
    status_500_problem_json: 500, ErrorBody::ProblemJson;
    status_500_plain_text: 500, ErrorBody::PlainText;
    status_500_empty: 500, ErrorBody::Empty;
    status_502_problem_json: 502, ErrorBody::ProblemJson;
    status_502_plain_text: 502, ErrorBody::PlainText;
    status_502_empty: 502, ErrorBody::Empty;
    status_503_problem_json: 503, ErrorBody::ProblemJson;
    status_503_plain_text: 503, ErrorBody::PlainText;
    status_503_empty: 503, ErrorBody::Empty;
}

#[tokio::test]
async fn status_204_is_success() {
    let (server, outcome) = cancel_against(CannedResponse::empty(204)).await;
    assert_eq!(outcome.expect("success"), 204);
    assert_eq!(server.requests().len(), 1);
}

fn rate_limited(retry_after: Option<&str>) -> CannedResponse {
    let response = CannedResponse::with_body(
        429,
        "application/json",
        &json!({"message": "API rate limit exceeded", "request_id": "req-429"}).to_string(),
    );
    match retry_after {
        Some(value) => response.header("retry-after", value),
        None => response,
    }
}

/// A 429 is retried twice whatever its header says, and the last one comes back
/// with the gateway's body and request id.
async fn check_rate_limited(retry_after: Option<&str>, expected_retry_after: Option<Duration>) {
    let (server, outcome) = cancel_against(rate_limited(retry_after)).await;
    let api = expect_api_error(outcome, 429);
    assert_eq!(server.requests().len(), ATTEMPTS_WITH_RETRIES);
    assert_eq!(
        api.problem.message.as_deref(),
        Some("API rate limit exceeded")
    );
    assert_eq!(api.request_id.as_deref(), Some("req-429"));
    match expected_retry_after {
        Some(expected) => assert!(
            api.retry_after.is_some_and(|given| given <= expected),
            "{:?}",
            api.retry_after
        ),
        None => assert_eq!(api.retry_after, None),
    }
    assert!(Error::Api(Box::new(api)).is_retryable());
}

#[tokio::test]
async fn status_429_with_retry_after_seconds() {
    check_rate_limited(Some("1"), Some(Duration::from_secs(1))).await;
}

#[tokio::test]
async fn status_429_with_retry_after_http_date() {
    let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    check_rate_limited(Some(&soon), Some(Duration::from_secs(1))).await;
}

#[tokio::test]
async fn status_429_with_a_garbage_retry_after() {
    check_rate_limited(Some("whenever"), None).await;
}

#[tokio::test]
async fn status_429_without_retry_after() {
    check_rate_limited(None, None).await;
}

#[tokio::test]
async fn a_429_that_asks_for_too_long_a_wait_is_not_retried() {
    let (server, outcome) = cancel_against(rate_limited(Some("600"))).await;
    let api = expect_api_error(outcome, 429);
    assert_eq!(
        server.requests().len(),
        1,
        "600 s is longer than the 10 s the policy waits"
    );
    assert_eq!(api.retry_after, Some(Duration::from_secs(600)));
}

#[tokio::test]
async fn retries_exhausted_return_the_last_answer() {
    let server = LoopbackServer::start_scripted(std::sync::Arc::new(|index, _| {
        CannedResponse::with_body(503, "text/plain", &format!("attempt {index}"))
            .header("retry-after", "0")
    }))
    .await
    .expect("the server starts");
    let api = expect_api_error(cancel(test_client_builder(&server.base_url())).await, 503);
    assert_eq!(server.requests().len(), ATTEMPTS_WITH_RETRIES);
    assert_eq!(
        api.problem.detail.as_deref(),
        Some("attempt 2"),
        "the last attempt's answer"
    );
}

#[tokio::test]
async fn a_retry_that_succeeds_is_success() {
    let server = LoopbackServer::start_scripted(std::sync::Arc::new(|index, _| match index {
        0 => rate_limited(Some("0")),
        _ => CannedResponse::empty(204),
    }))
    .await
    .expect("the server starts");
    assert_eq!(
        cancel(test_client_builder(&server.base_url()))
            .await
            .expect("the retry succeeds"),
        204
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_server_slower_than_the_timeout_times_out_within_the_deadline() {
    // The clock is paused: it advances only when every task waits, so the delays
    // below cost no real time and the elapsed time is exact.
    let server =
        LoopbackServer::start(CannedResponse::empty(204).delayed(Duration::from_secs(600)))
            .await
            .expect("the server starts");
    let deadline = Duration::from_secs(5);
    let started = tokio::time::Instant::now();
    let outcome = cancel(
        test_client_builder(&server.base_url())
            .timeout(Duration::from_secs(2))
            .deadline(deadline),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(matches!(outcome, Err(Error::Timeout { .. })), "{outcome:?}");
    assert!(
        elapsed <= deadline,
        "the call took {elapsed:?}, past its {deadline:?} deadline"
    );
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let base_url = refusing_base_url().await.expect("a free port");
    let outcome = cancel(test_client_builder(&base_url)).await;
    let Err(error @ Error::Connect { .. }) = outcome else {
        panic!("expected Error::Connect, got {outcome:?}")
    };
    assert!(error.is_retryable());
    assert!(
        error
            .to_string()
            .starts_with("could not connect to the Sonoran CMS API"),
        "{error}"
    );
}

/// A server that misbehaves after reading the request ends the call in
/// `Error::Transport`, after every retry the idempotent GET allows, and the
/// error says the earlier attempts may have run.
async fn check_transport_failure(misbehaviour: Misbehaviour) {
    let server = RawServer::start(misbehaviour)
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let outcome = sonoran_cms_tests::read_servers(&client).await;
    let Err(error @ Error::Transport { .. }) = outcome else {
        panic!("expected Error::Transport, got {outcome:?}");
    };
    assert_eq!(
        server.connections(),
        ATTEMPTS_WITH_RETRIES,
        "GET is idempotent, so it is retried"
    );
    assert_eq!(error.earlier_attempts().len(), ATTEMPTS_WITH_RETRIES - 1);
    assert!(
        error.to_string().contains("its outcome is unknown"),
        "{error}"
    );
    assert!(!error.may_have_taken_effect(), "a GET changes nothing");
}

#[tokio::test]
async fn a_connection_reset_mid_response_is_a_transport_error() {
    check_transport_failure(Misbehaviour::WriteThenReset(
        b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 64\r\n\r\n{\"tit",
    ))
    .await;
}

#[tokio::test]
async fn a_truncated_body_is_a_transport_error() {
    check_transport_failure(Misbehaviour::WriteThenClose(
        b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"title\":\"Not",
    ))
    .await;
}

#[tokio::test]
async fn a_reset_is_not_retried_when_idempotent_retries_are_off() {
    // A failure after sending is retried only for idempotent methods, and only
    // while the policy allows it: with it off, exactly one attempt. (The reset
    // comes before a whole status line: once a 2XX status has arrived, an
    // operation without a body has its answer.)
    let server = RawServer::start(Misbehaviour::WriteThenReset(b"HTTP/1.1 20"))
        .await
        .expect("the server starts");
    let policy = sonoran_cms::RetryPolicy::default().retry_idempotent_failures(false);
    let outcome = cancel(test_client_builder(&server.base_url()).retry_policy(policy)).await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(server.connections(), 1);
}
