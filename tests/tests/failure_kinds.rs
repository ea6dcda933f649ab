//! Failure kinds other HTTP API clients shipped and their users reported, each
//! fixed as a kind and tested across the statuses, methods, operations and body
//! shapes it can take, on a real loopback server:
//!
//! 1. an error body of any shape keeps the API's message and its raw bytes;
//! 2. no redirect is followed: a 3XX is an error naming the status and
//!    `Location`, and one a caller's `reqwest::Client` followed on a request that
//!    changes state is reported, not taken as success; `Authorization` never
//!    goes to another host;
//! 3. an error after retries says what each earlier attempt ended in, and an
//!    operation marked in the spec is not repeated once it may have run;
//! 4. the docs' base URL (`.../v2`) does not double the path;
//! 5. an idle pooled connection is dropped before the gateway would close it.

use std::sync::Arc;

use serde_json::json;
use sonoran_cms::uuid::Uuid;
use sonoran_cms::{Error, RetryPolicy};
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer, RawServer};
use sonoran_cms_tests::{TEST_ACCOUNT_ID, test_client_builder};

/// The operations the cases run against: one per method the API uses.
#[derive(Debug, Clone, Copy)]
enum Call {
    /// `GET /v2/community/servers`.
    ReadServers,
    /// `POST /v2/community/sessions`.
    StartSession,
    /// `PATCH /v2/community/sessions`.
    StopSession,
    /// `DELETE /v2/community/sessions`.
    CancelSession,
    /// `PUT /v2/community/servers`: changes state, and is idempotent.
    SetServers,
}

const CALLS: [Call; 5] = [
    Call::ReadServers,
    Call::StartSession,
    Call::StopSession,
    Call::CancelSession,
    Call::SetServers,
];

fn account() -> Uuid {
    Uuid::parse_str(TEST_ACCOUNT_ID).expect("a UUID")
}

/// Makes `call` with `client` and returns the status or the error.
async fn make(call: Call, client: &sonoran_cms::Client) -> Result<u16, Error> {
    use sonoran_cms::types::{StartSessionRequest, StopSessionRequest};
    Ok(match call {
        Call::ReadServers => return sonoran_cms_tests::read_servers(client).await,
        Call::StartSession => client
            .start_session()
            .body(
                StartSessionRequest::builder()
                    .server_id(1_u64)
                    .acc_id(account()),
            )
            .send()
            .await?
            .status()
            .as_u16(),
        Call::StopSession => client
            .stop_session()
            .body(
                StopSessionRequest::builder()
                    .server_id(1_u64)
                    .acc_id(account()),
            )
            .send()
            .await?
            .status()
            .as_u16(),
        Call::CancelSession => return sonoran_cms_tests::cancel(client).await,
        Call::SetServers => {
            use sonoran_cms::types::{CommunityServerInput, SetServersRequest};
            let server = CommunityServerInput::builder()
                .name("Main")
                .try_into()
                .expect("a server");
            client
                .set_servers()
                .body(SetServersRequest::builder().servers(vec![server]))
                .send()
                .await?
                .status()
                .as_u16()
        }
    })
}

/// A client of `server` that does not retry, so each case is one exchange.
fn single_attempt_client(server: &LoopbackServer) -> sonoran_cms::Client {
    test_client_builder(&server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("a client")
}

#[tokio::test]
async fn an_error_body_of_any_shape_keeps_the_apis_message_and_its_bytes() {
    let message = "Account not found";
    // (content type, body, whether `Display` ends with exactly the message)
    let bodies: Vec<(&str, String, bool)> = vec![
        (
            "application/json",
            json!({"success": false, "error": {"message": message}}).to_string(),
            true,
        ),
        (
            "application/json",
            json!({"success": false, "error": message}).to_string(),
            true,
        ),
        (
            "application/json",
            json!({"message": message}).to_string(),
            true,
        ),
        (
            "application/json",
            json!({"reason": message, "code": 17}).to_string(),
            true,
        ),
        (
            "application/problem+json",
            json!({"title": "Not Found", "detail": message, "status": 404}).to_string(),
            true,
        ),
        // Fields of unexpected types lose nothing else.
        (
            "application/json",
            json!({"status": "error", "message": message}).to_string(),
            true,
        ),
        (
            "application/json",
            json!({"message": [message], "error": "Bad Request", "statusCode": 404}).to_string(),
            true,
        ),
        (
            "application/json",
            json!({"detail": [{"msg": message, "loc": ["path"]}]}).to_string(),
            true,
        ),
        (
            "application/json",
            json!({"request_id": 7, "message": message}).to_string(),
            true,
        ),
        ("text/plain", message.to_owned(), true),
        ("application/json", json!(message).to_string(), true),
        ("application/json", json!([message]).to_string(), true),
        // A shape no field above names: its texts still reach the user.
        (
            "application/json",
            json!({"errors": [{"code": 17, "message": message}]}).to_string(),
            true,
        ),
        (
            "text/html",
            format!("<html><body><h1>{message}</h1></body></html>"),
            false,
        ),
    ];
    let mut cases = 0;
    for status in [400, 404, 409, 422, 500] {
        for (content_type, body, exact) in &bodies {
            for call in CALLS {
                let server =
                    LoopbackServer::start(CannedResponse::with_body(status, content_type, body))
                        .await
                        .expect("the server starts");
                let error = make(call, &single_attempt_client(&server))
                    .await
                    .expect_err("an error status");
                let case = format!("{status} {call:?} {body}");
                let reason = reqwest::StatusCode::from_u16(status).expect("a status");
                assert_eq!(error.status(), Some(reason), "{case}");
                let shown = error.to_string();
                let expected_start = format!("the Sonoran CMS API answered {reason}: ");
                assert!(shown.starts_with(&expected_start), "{case}: {shown}");
                if *exact {
                    // The message, and after it only the note on a request that
                    // may have run (a 500 to a request that changes state).
                    let rest = &shown[expected_start.len()..];
                    assert!(
                        rest == message || rest.starts_with(&format!("{message} (")),
                        "{case}: {shown}"
                    );
                } else {
                    assert!(shown.contains(message), "{case}: {shown}");
                }
                assert_eq!(error.raw_body(), Some(body.as_bytes()), "{case}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 5 * 14 * 5);
}

#[tokio::test]
async fn an_envelope_that_says_success_false_is_an_error_whatever_its_status() {
    for status in [200, 201] {
        let body = json!({"success": false, "error": {"message": "Account not found"}}).to_string();
        let server =
            LoopbackServer::start(CannedResponse::with_body(status, "application/json", &body))
                .await
                .expect("the server starts");
        let error = make(Call::ReadServers, &single_attempt_client(&server))
            .await
            .expect_err("success: false");
        assert!(matches!(error, Error::Api(_)), "{error:?}");
        assert_eq!(error.status().map(|status| status.as_u16()), Some(status));
        assert!(
            error.to_string().ends_with(": Account not found"),
            "{error}"
        );
        assert_eq!(error.raw_body(), Some(body.as_bytes()));
    }
}

#[tokio::test]
async fn no_redirect_is_followed_and_each_is_an_error_naming_where_it_pointed() {
    let mut cases = 0;
    for status in [301, 302, 303, 307, 308] {
        for call in CALLS {
            let answer =
                CannedResponse::empty(status).header("location", "/v2/community/sessions/");
            let server = LoopbackServer::start(answer)
                .await
                .expect("the server starts");
            let error = make(call, &single_attempt_client(&server))
                .await
                .expect_err("a redirect is an error");
            let case = format!("{status} {call:?}");
            let Error::Redirect(redirect) = &error else {
                panic!("{case}: expected Error::Redirect, got {error:?}");
            };
            assert_eq!(redirect.status.as_u16(), status, "{case}");
            assert_eq!(
                redirect.location.as_deref(),
                Some("/v2/community/sessions/"),
                "{case}"
            );
            assert!(
                error.to_string().contains("`/v2/community/sessions/`"),
                "{case}: {error}"
            );
            assert_eq!(
                server.requests().len(),
                1,
                "{case}: exactly one request went out"
            );
            assert!(
                !error.may_have_taken_effect(),
                "{case}: a redirect that is not followed runs nothing"
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 25);
}

#[tokio::test]
async fn a_redirect_a_callers_client_follows_on_a_state_change_is_not_taken_as_its_answer() {
    // The caller's reqwest::Client follows redirects (reqwest's default): the
    // POST is replayed elsewhere (as a GET after 301, as a POST after 307), and
    // whatever that answers, success or error, is not this call's answer.
    for (status, replayed_as) in [
        (301, "GET"),
        (302, "GET"),
        (303, "GET"),
        (307, "POST"),
        (308, "POST"),
    ] {
        for target_answer in [200, 404, 500] {
            let script: sonoran_cms_tests::loopback::Script = Arc::new(move |_, request| {
                if request.uri.path() == "/v2/community/sessions" {
                    CannedResponse::empty(status)
                        .header("location", "/v2/community/sessions/elsewhere")
                } else {
                    CannedResponse::with_body(
                        target_answer,
                        "application/json",
                        &json!({"success": target_answer == 200, "data": {"id": TEST_ACCOUNT_ID}})
                            .to_string(),
                    )
                }
            });
            let server = LoopbackServer::start_scripted(script)
                .await
                .expect("the server starts");
            let client = test_client_builder(&server.base_url())
                .http_client(reqwest::Client::new())
                .build()
                .expect("a client");
            let case = format!("{status} then {target_answer}");
            let error = make(Call::StartSession, &client)
                .await
                .expect_err("a followed redirect is reported");
            let Error::Redirect(redirect) = &error else {
                panic!("{case}: expected Error::Redirect, got {error:?}");
            };
            assert!(redirect.followed_by_http_client, "{case}");
            assert!(
                error.may_have_taken_effect(),
                "{case}: the replay may have run"
            );
            assert!(
                error.to_string().contains("Policy::none()"),
                "{case}: {error}"
            );
            let methods: Vec<String> = server
                .requests()
                .iter()
                .map(|request| request.method.to_string())
                .collect();
            assert_eq!(
                methods,
                ["POST", replayed_as],
                "{case}: one replay, not retried"
            );
        }
    }
}

#[tokio::test]
async fn authorization_never_follows_a_redirect_to_another_host() {
    let elsewhere = LoopbackServer::start(CannedResponse::with_body(
        200,
        "application/json",
        &json!({"success": true, "data": {"servers": []}}).to_string(),
    ))
    .await
    .expect("the other server starts");
    // The same machine under another host name is another host to a client.
    let target = elsewhere.base_url().replace("127.0.0.1", "localhost");
    let first = LoopbackServer::start(
        CannedResponse::empty(302).header("location", &format!("{target}/v2/community/servers")),
    )
    .await
    .expect("the server starts");

    // The default client stops at the redirect.
    let error = make(Call::ReadServers, &single_attempt_client(&first))
        .await
        .expect_err("not followed");
    assert!(matches!(error, Error::Redirect(_)), "{error:?}");
    assert!(elsewhere.requests().is_empty());

    // A caller's client that follows redirects still does not carry the key there.
    let client = test_client_builder(&first.base_url())
        .http_client(reqwest::Client::new())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("a client");
    let status = make(Call::ReadServers, &client)
        .await
        .expect("a GET may follow");
    assert_eq!(status, 200);
    let followed = elsewhere.requests();
    assert_eq!(followed.len(), 1);
    assert!(
        !followed[0].headers.contains_key("authorization"),
        "the key went to another host: {:?}",
        followed[0].headers
    );
}

/// A server answering the `n`-th request with `answers[n]` (the last one after that).
async fn answering_in_turn(answers: Vec<CannedResponse>) -> LoopbackServer {
    let script: sonoran_cms_tests::loopback::Script =
        Arc::new(move |index, _| answers[index.min(answers.len() - 1)].clone());
    LoopbackServer::start_scripted(script)
        .await
        .expect("the server starts")
}

fn problem(status: u16, detail: &str) -> CannedResponse {
    CannedResponse::with_body(
        status,
        "application/problem+json",
        &json!({"status": status, "detail": detail}).to_string(),
    )
}

#[tokio::test]
async fn an_error_after_retries_says_an_earlier_attempt_may_have_taken_effect() {
    // `setServers` (PUT) changes state and is idempotent: retried after a 5XX.
    for first in [502, 500, 504] {
        let server = answering_in_turn(vec![
            problem(first, "upstream failed"),
            problem(404, "no such community"),
        ])
        .await;
        let client = test_client_builder(&server.base_url())
            .build()
            .expect("a client");
        let error = make(Call::SetServers, &client)
            .await
            .expect_err("404 in the end");
        assert_eq!(server.requests().len(), 2);
        assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
        assert_eq!(error.earlier_attempts().len(), 1);
        assert_eq!(
            error.earlier_attempts()[0]
                .status
                .map(|status| status.as_u16()),
            Some(first)
        );
        assert_eq!(
            error.earlier_attempts()[0].reach,
            sonoran_cms::error::AttemptReach::OutcomeUnknown
        );
        assert!(error.may_have_taken_effect());
        let shown = error.to_string();
        assert!(
            shown.ends_with(&format!(
                ": no such community (after 2 attempts; attempt 1 ended in {}: that request reached the server \
                 and its outcome is unknown; the operation may have taken effect)",
                reqwest::StatusCode::from_u16(first).expect("a status")
            )),
            "{shown}"
        );
    }
    // A refusal (429) ran nothing: the error says how many attempts, no more.
    let server = answering_in_turn(vec![
        CannedResponse::with_body(429, "application/json", r#"{"message":"slow down"}"#)
            .header("retry-after", "0"),
        problem(404, "no such community"),
    ])
    .await;
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let error = make(Call::SetServers, &client)
        .await
        .expect_err("404 in the end");
    assert!(!error.may_have_taken_effect());
    assert!(
        error
            .to_string()
            .ends_with(": no such community (after 2 attempts)"),
        "{error}"
    );
    // A retry that succeeds is a success.
    let server = answering_in_turn(vec![
        problem(502, "upstream failed"),
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": {"servers": []}}).to_string(),
        ),
    ])
    .await;
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    assert_eq!(
        make(Call::SetServers, &client)
            .await
            .expect("the retry succeeds"),
        200
    );
}

#[tokio::test]
async fn an_operation_marked_not_safe_to_repeat_is_not_retried_once_it_may_have_run() {
    // The issue's case: a cancel answered 502 may have cancelled; repeating it
    // would answer 404 and report a success as a failure. It is not repeated,
    // and the error says it may have taken effect.
    for first in [
        problem(502, "upstream failed"),
        problem(500, "boom"),
        CannedResponse::with_body(503, "text/plain", "unavailable"),
    ] {
        let server = answering_in_turn(vec![first, problem(404, "no active session")]).await;
        let client = test_client_builder(&server.base_url())
            .build()
            .expect("a client");
        let error = make(Call::CancelSession, &client)
            .await
            .expect_err("the first answer");
        assert_eq!(server.requests().len(), 1, "not repeated");
        assert!(
            error
                .status()
                .is_some_and(|status| status.is_server_error()),
            "{error}"
        );
        assert!(error.may_have_taken_effect());
        assert!(
            error.to_string().ends_with(
                " (the request reached the server and its outcome is unknown; the operation may have taken effect)"
            ),
            "{error}"
        );
    }
    // A reset after sending: not repeated either, and said so.
    let server = RawServer::start(sonoran_cms_tests::loopback::Misbehaviour::WriteThenReset(
        b"HTTP/1.1 20",
    ))
    .await
    .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let error = make(Call::CancelSession, &client).await.expect_err("reset");
    assert_eq!(server.connections(), 1);
    assert!(error.may_have_taken_effect(), "{error:?}");
    // What cannot have run is still retried: a 429, and a 503 that asks to wait.
    for refusal in [
        CannedResponse::with_body(429, "application/json", r#"{"message":"slow down"}"#)
            .header("retry-after", "0"),
        CannedResponse::with_body(503, "text/plain", "later").header("retry-after", "0"),
    ] {
        let server = answering_in_turn(vec![refusal, CannedResponse::empty(204)]).await;
        let client = test_client_builder(&server.base_url())
            .build()
            .expect("a client");
        assert_eq!(
            make(Call::CancelSession, &client).await.expect("retried"),
            204
        );
        assert_eq!(server.requests().len(), 2);
    }
}

#[tokio::test]
async fn the_docs_base_url_with_v2_sends_each_path_once_and_other_prefixes_are_kept() {
    for (suffix, expected_path) in [
        ("/v2", "/v2/community/sessions"),
        ("/v2/", "/v2/community/sessions"),
        ("", "/v2/community/sessions"),
        ("/sonoran", "/sonoran/v2/community/sessions"),
        ("/sonoran/v2", "/sonoran/v2/community/sessions"),
    ] {
        let server = LoopbackServer::start(CannedResponse::empty(204))
            .await
            .expect("the server starts");
        let client = test_client_builder(&format!("{}{suffix}", server.base_url()))
            .build()
            .expect("a client");
        assert_eq!(
            make(Call::CancelSession, &client).await.expect("cancelled"),
            204,
            "{suffix}"
        );
        assert_eq!(
            server.requests()[0].uri.path(),
            expected_path,
            "base URL ending `{suffix}`"
        );
    }
}

/// Lets `idle` pass on tokio's clock, which the connection pool and the test
/// gateway measure idleness by, without waiting for it.
async fn stay_idle(idle: std::time::Duration) {
    tokio::time::pause();
    tokio::time::advance(idle).await;
    tokio::time::resume();
}

#[tokio::test]
async fn an_idle_connection_is_dropped_before_the_gateway_would_close_it() {
    // Kong closes a connection idle for 60 s; reqwest's own default keeps one 90 s.
    let gateway = RawServer::keep_alive(std::time::Duration::from_secs(60))
        .await
        .expect("the gateway starts");
    let client = test_client_builder(&gateway.base_url())
        .build()
        .expect("a client");
    let cancel = || async { make(Call::CancelSession, &client).await.expect("cancelled") };

    assert_eq!(cancel().await, 204);
    assert_eq!(gateway.connections(), 1);
    // Idle briefly: the pooled connection is reused (so the test can see reuse).
    stay_idle(std::time::Duration::from_secs(10)).await;
    assert_eq!(cancel().await, 204);
    assert_eq!(gateway.connections(), 1, "a connection idle 10 s is reused");
    // Idle 55 s: the gateway still holds the connection but would close it in
    // 5 s; the client has dropped it (after 50 s) and opens a new one, so no
    // request is written to a connection the gateway is closing.
    stay_idle(std::time::Duration::from_secs(55)).await;
    assert_eq!(cancel().await, 204);
    assert_eq!(
        gateway.connections(),
        2,
        "a connection idle 55 s is not reused"
    );
}

#[tokio::test]
async fn a_connection_the_server_closed_is_not_used_again() {
    // The gateway closes a kept-alive connection; once the client has seen the
    // close, the next request, a cancel that is never repeated once it may
    // have run, goes out on a new connection and succeeds.
    let gateway = RawServer::closing_after_each_answer()
        .await
        .expect("the gateway starts");
    let client = test_client_builder(&gateway.base_url())
        .build()
        .expect("a client");
    assert_eq!(
        make(Call::CancelSession, &client).await.expect("cancelled"),
        204
    );
    gateway.client_saw_a_close().await;
    assert_eq!(
        make(Call::CancelSession, &client)
            .await
            .expect("cancelled again"),
        204
    );
    assert_eq!(gateway.connections(), 2);
}
