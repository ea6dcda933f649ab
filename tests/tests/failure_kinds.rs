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
//! 4. the docs' base URL (`.../v2`) does not double the path.

use std::sync::Arc;

use serde_json::json;
use sonoran_cms::uuid::Uuid;
use sonoran_cms::{Error, RetryPolicy};
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer};
use sonoran_cms_tests::{TEST_ACCOUNT_ID, cancel_body, test_client_builder};

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
}

const CALLS: [Call; 4] = [
    Call::ReadServers,
    Call::StartSession,
    Call::StopSession,
    Call::CancelSession,
];

fn account() -> Uuid {
    Uuid::parse_str(TEST_ACCOUNT_ID).expect("a UUID")
}

/// Makes `call` with `client` and returns the status or the error.
async fn make(call: Call, client: &sonoran_cms::Client) -> Result<u16, Error> {
    use sonoran_cms::types::{StartSessionRequest, StopSessionRequest};
    Ok(match call {
        Call::ReadServers => client.get_servers().send().await?.status().as_u16(),
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
        Call::CancelSession => client
            .cancel_session()
            .body(cancel_body())
            .send()
            .await?
            .status()
            .as_u16(),
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
    let bodies: Vec<(&str, String)> = vec![
        (
            "application/json",
            json!({"success": false, "error": {"message": message}}).to_string(),
        ),
        (
            "application/json",
            json!({"success": false, "error": message}).to_string(),
        ),
        ("application/json", json!({"message": message}).to_string()),
        (
            "application/json",
            json!({"reason": message, "code": 17}).to_string(),
        ),
        (
            "application/problem+json",
            json!({"title": "Not Found", "detail": message, "status": 404}).to_string(),
        ),
        ("text/plain", message.to_owned()),
        (
            "text/html",
            format!("<html><body><h1>{message}</h1></body></html>"),
        ),
        ("application/json", json!(message).to_string()),
        ("application/json", json!([message]).to_string()),
    ];
    let mut cases = 0;
    for status in [400, 404, 409, 422, 500] {
        for (content_type, body) in &bodies {
            for call in CALLS {
                let server =
                    LoopbackServer::start(CannedResponse::with_body(status, content_type, body))
                        .await
                        .expect("the server starts");
                let error = make(call, &single_attempt_client(&server))
                    .await
                    .expect_err("an error status");
                let case = format!("{status} {call:?} {body}");
                assert_eq!(
                    error.status().map(|status| status.as_u16()),
                    Some(status),
                    "{case}"
                );
                assert!(error.to_string().contains(message), "{case}: {error}");
                assert_eq!(error.raw_body(), Some(body.as_bytes()), "{case}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 5 * 9 * 4);
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
            cases += 1;
        }
    }
    assert_eq!(cases, 20);
}

#[tokio::test]
async fn a_redirect_a_callers_client_follows_on_a_state_change_is_not_a_success() {
    // The caller's reqwest::Client follows redirects (reqwest's default): the
    // POST comes back as a GET answered 200, which must not read as "started".
    let script: sonoran_cms_tests::loopback::Script = Arc::new(|_, request| {
        if request.method == "POST" {
            CannedResponse::empty(301).header("location", "/v2/community/sessions/elsewhere")
        } else {
            CannedResponse::with_body(
                200,
                "application/json",
                &json!({"success": true, "data": {"id": TEST_ACCOUNT_ID}}).to_string(),
            )
        }
    });
    let server = LoopbackServer::start_scripted(script)
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .http_client(reqwest::Client::new())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("a client");
    let error = make(Call::StartSession, &client)
        .await
        .expect_err("a followed redirect is reported");
    let Error::Redirect(redirect) = &error else {
        panic!("expected Error::Redirect, got {error:?}");
    };
    assert!(redirect.followed_by_http_client);
    assert!(error.to_string().contains("Policy::none()"), "{error}");
    let methods: Vec<String> = server
        .requests()
        .iter()
        .map(|request| request.method.to_string())
        .collect();
    assert_eq!(
        methods,
        ["POST", "GET"],
        "the caller's client replayed the POST as a GET"
    );
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
    for first in [502, 500, 504] {
        let server = answering_in_turn(vec![
            problem(first, "upstream failed"),
            problem(404, "no such server"),
        ])
        .await;
        let client = test_client_builder(&server.base_url())
            .build()
            .expect("a client");
        let error = make(Call::ReadServers, &client)
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
        assert!(error.may_have_taken_effect());
        let shown = error.to_string();
        assert!(shown.contains("no such server"), "{shown}");
        assert!(shown.contains("after 2 attempts"), "{shown}");
        assert!(shown.contains("attempt 1 ended in"), "{shown}");
        assert!(shown.contains("its outcome is unknown"), "{shown}");
    }
    // A refusal (429) did not run anything: the error says how many attempts, no more.
    let server = answering_in_turn(vec![
        CannedResponse::with_body(429, "application/json", r#"{"message":"slow down"}"#)
            .header("retry-after", "0"),
        problem(404, "no such server"),
    ])
    .await;
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let error = make(Call::ReadServers, &client)
        .await
        .expect_err("404 in the end");
    assert!(!error.may_have_taken_effect());
    assert!(!error.to_string().contains("outcome is unknown"), "{error}");
}

#[tokio::test]
async fn an_operation_marked_not_safe_to_repeat_is_not_retried_once_it_may_have_run() {
    // The issue's case: a cancel answered 502 may have cancelled; repeating it
    // would answer 404 and report a success as a failure.
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
    }
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
