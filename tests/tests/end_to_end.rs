//! End to end: the generated client against a real HTTP server on 127.0.0.1 that
//! the test starts. Checks the exact request `cancelSession` puts on the wire and
//! how each documented answer comes back.

use serde_json::json;
use sonoran_cms::types::{CancelSessionRequest, Problem};
use sonoran_cms::{Client, Error};
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer};
use sonoran_cms_tests::{TEST_ACCOUNT_ID as ACCOUNT_ID, cancel_body, test_client_builder};

async fn client_for(server: &LoopbackServer) -> Client {
    test_client_builder(&server.base_url())
        .build()
        .expect("a client")
}

/// Cancels a session against a server that answers with `response`.
async fn cancel_against(
    response: CannedResponse,
) -> (
    LoopbackServer,
    Result<sonoran_cms::ResponseValue<()>, Error>,
) {
    let server = LoopbackServer::start(response)
        .await
        .expect("the server starts");
    let outcome = client_for(&server)
        .await
        .cancel_session()
        .body(cancel_body())
        .send()
        .await;
    (server, outcome)
}

#[tokio::test]
async fn a_cancel_puts_exactly_the_documented_request_on_the_wire() {
    let (server, outcome) = cancel_against(CannedResponse::empty(204)).await;
    let response = outcome.expect("204 is success");
    assert_eq!(response.status().as_u16(), 204);

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "exactly one request");
    let request = &requests[0];
    assert_eq!(request.method, "DELETE");
    assert_eq!(request.uri.path(), "/v2/community/sessions");
    assert_eq!(request.uri.query(), None);
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("authorization").as_deref(),
        Some("Bearer test-api-key-0123")
    );
    assert_eq!(header("accept").as_deref(), Some("application/json"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("the body is JSON");
    assert_eq!(body, json!({"serverId": 1, "accId": ACCOUNT_ID}));
}

/// The error status and problem a call ended with, through `sonoran_cms::Error`
/// (what `?` gives), with the raw body kept beside the parsed problem.
#[track_caller]
fn assert_problem(outcome: Result<sonoran_cms::ResponseValue<()>, Error>, status: u16) -> Problem {
    let error = outcome.expect_err("an error status");
    match &error {
        Error::Api(api) => {
            assert_eq!(api.status.as_u16(), status);
            let raw: serde_json::Value =
                serde_json::from_slice(&api.body).expect("the raw body is kept");
            assert_eq!(raw["status"], json!(status));
            api.problem.clone()
        }
        other => panic!("expected a typed {status} error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_401_carries_the_parsed_problem() {
    let body = json!({"type": "about:blank", "title": "Unauthorized", "status": 401,
        "detail": "Missing or invalid Bearer token.", "instance": "/v2/community/sessions", "traceId": "t-1"});
    let (_server, outcome) = cancel_against(CannedResponse::with_body(
        401,
        "application/problem+json",
        &body.to_string(),
    ))
    .await;
    let problem = assert_problem(outcome, 401);
    assert_eq!(problem.title.as_deref(), Some("Unauthorized"));
    assert_eq!(problem.status, Some(401));
    assert_eq!(
        problem.detail.as_deref(),
        Some("Missing or invalid Bearer token.")
    );
    assert_eq!(problem.trace_id.as_deref(), Some("t-1"));
}

#[tokio::test]
async fn a_404_carries_the_parsed_problem() {
    let body =
        json!({"title": "Not Found", "status": 404, "detail": "Server 1 is not configured."});
    let (_server, outcome) = cancel_against(CannedResponse::with_body(
        404,
        "application/problem+json",
        &body.to_string(),
    ))
    .await;
    let problem = assert_problem(outcome, 404);
    assert_eq!(
        problem.detail.as_deref(),
        Some("Server 1 is not configured.")
    );
}

#[tokio::test]
async fn a_429_carries_the_gateway_body() {
    let body = json!({"message": "API rate limit exceeded", "request_id": "r-9"});
    let response = CannedResponse::with_body(429, "application/json", &body.to_string())
        .header("retry-after", "7");
    let server = LoopbackServer::start(response)
        .await
        .expect("the server starts");
    // Without retries, so the 429 itself comes back (retries have tests of their own).
    let client = test_client_builder(&server.base_url())
        .retry_policy(sonoran_cms::RetryPolicy::none())
        .build()
        .expect("a client");
    let outcome = client.cancel_session().body(cancel_body()).send().await;
    let error = outcome.expect_err("429 is an error");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(429));
    assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(7)));
    assert_eq!(error.request_id(), Some("r-9"));
    let problem = error.problem().expect("a problem body").clone();
    assert_eq!(problem.message.as_deref(), Some("API rate limit exceeded"));
    assert_eq!(problem.request_id.as_deref(), Some("r-9"));
}

/// Sends `body` and asserts the client refused it, naming `field`, before any byte
/// reached the server.
async fn assert_refused_before_sending(
    body: sonoran_cms::types::builder::CancelSessionRequest,
    field: &str,
) {
    let server = LoopbackServer::start(CannedResponse::empty(204))
        .await
        .expect("the server starts");
    let outcome = client_for(&server)
        .await
        .cancel_session()
        .body(body)
        .send()
        .await;
    assert!(
        matches!(&outcome, Err(Error::InvalidRequest { message }) if message.contains(field)),
        "{outcome:?}"
    );
    assert!(server.requests().is_empty(), "nothing may reach the server");
}

#[tokio::test]
async fn a_missing_field_is_refused_before_anything_is_sent() {
    assert_refused_before_sending(CancelSessionRequest::builder().server_id(1_u64), "acc_id").await;
}

#[tokio::test]
async fn a_malformed_uuid_is_refused_before_anything_is_sent() {
    assert_refused_before_sending(cancel_body().acc_id("not-a-uuid"), "acc_id").await;
}

#[tokio::test]
async fn server_id_zero_is_refused_before_anything_is_sent() {
    // Any integer type is taken, as ids are written; 0 and a negative number
    // are refused with what an id must be, naming the API's field.
    let must_be = "`serverId` must be at least 1";
    assert_refused_before_sending(cancel_body().server_id(0_u64), must_be).await;
    assert_refused_before_sending(cancel_body().server_id(0), must_be).await;
    assert_refused_before_sending(cancel_body().server_id(-3_i64), must_be).await;

    // A parameter in a path or a query says the same.
    let server = LoopbackServer::start(CannedResponse::empty(204))
        .await
        .expect("the server starts");
    let outcome = client_for(&server)
        .await
        .get_current_session()
        .server_id(0)
        .await;
    let Err(Error::InvalidRequest { message }) = &outcome else {
        panic!("refused before sending: {outcome:?}");
    };
    assert!(message.contains(must_be), "{message}");
    assert!(!message.contains("out of range"), "{message}");
    assert!(server.requests().is_empty(), "nothing may reach the server");
}
