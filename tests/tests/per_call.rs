//! Per-call options (`Client::with_options`) and raw calls (`Client::raw`), end
//! to end on loopback servers: each through the same runtime as every generated
//! operation. (The spans are in `spans.rs`.)

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sonoran_cms::rate_limit::{InProcessRateLimiter, RateLimits};
use sonoran_cms::reqwest::Method;
use sonoran_cms::{CallOptions, Client, Error, Operation, RetryPolicy};
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer, RecordedRequest};
use sonoran_cms_tests::{SlowTransport, TEST_API_KEY, per_minute, test_client_builder};

const SERVERS: &str = r#"{"success": true, "data": {"servers": []}}"#;

/// Quick retries, for views that retry.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().initial_backoff(Duration::from_millis(10))
}

/// A server that answers `first` to request 0, 2, 4, ... and `then` to the
/// others.
async fn alternating(first: CannedResponse, then: CannedResponse) -> LoopbackServer {
    LoopbackServer::start_scripted(Arc::new(move |index, _: &RecordedRequest| {
        if index % 2 == 0 {
            first.clone()
        } else {
            then.clone()
        }
    }))
    .await
    .expect("the server starts")
}

fn header<'a>(request: &'a RecordedRequest, name: &str) -> Vec<&'a str> {
    request
        .headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect()
}

/// A server that lists servers, and a client that may list them twice a minute
/// (a limiter of its own).
async fn servers_with_two_slots_a_minute() -> (LoopbackServer, Client) {
    let server = LoopbackServer::start(CannedResponse::with_body(200, "application/json", SERVERS))
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .rate_limit_backend(InProcessRateLimiter::new())
        .rate_limits(RateLimits::documented().with_override(Operation::GetServers, per_minute(2)))
        .build()
        .expect("a client");
    (server, client)
}

// 1. Per-call options.

#[tokio::test(start_paused = true)]
async fn a_view_keeps_its_own_deadline_and_the_client_keeps_its_own() {
    let client = Client::builder(TEST_API_KEY)
        .base_url("http://127.0.0.1:9")
        .timeout(Duration::from_secs(120))
        .retry_policy(RetryPolicy::none())
        .rate_limits(RateLimits::disabled())
        .transport(SlowTransport::answering_after(Duration::from_secs(60)))
        .build()
        .expect("a client");
    let on_join = client.with_options(CallOptions::new().deadline(Duration::from_secs(3)));

    let error = on_join.get_servers().await.expect_err("3 s is too short");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(error.to_string().contains("3.0 s"), "{error}");

    // The client itself still waits the 60 s the answer takes.
    client.get_servers().await.expect("within 300 s");

    // A view's timeout cuts each attempt.
    let quick = client.with_options(CallOptions::new().timeout(Duration::from_secs(5)));
    let error = quick.get_servers().await.expect_err("5 s per attempt");
    assert!(error.to_string().contains("5.0 s"), "{error}");
}

/// The longest durations a view can hold, for a typed and a raw call: no
/// overflow, no panic. With a 5 s deadline on top (a view of the view), a 503
/// whose backoff is the longest ends with the 503 at once: the wait would end
/// past the deadline. (Without a deadline the call would wait that backoff, as
/// asked.)
#[tokio::test]
async fn a_view_with_the_longest_durations_never_panics() {
    let server = LoopbackServer::start_scripted(Arc::new(|_, request: &RecordedRequest| {
        if request.uri.path().ends_with("/vehicles") {
            CannedResponse::empty(503)
        } else {
            CannedResponse::with_body(200, "application/json", SERVERS)
        }
    }))
    .await
    .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .rate_limit_backend(InProcessRateLimiter::new())
        .build()
        .expect("a client");
    let unbounded = client.with_options(
        CallOptions::new()
            .timeout(Duration::MAX)
            .deadline(Duration::MAX)
            .retry_policy(
                RetryPolicy::default()
                    .max_retries(u32::MAX)
                    .max_retry_wait(Duration::MAX)
                    .initial_backoff(Duration::MAX),
            ),
    );
    unbounded.get_servers().await.expect("the servers");
    let answer = unbounded
        .raw(Method::GET, "/v2/community/servers")
        .await
        .expect("the servers, raw");
    assert_eq!(answer.status(), 200);
    let error = unbounded
        .with_options(CallOptions::new().deadline(Duration::from_secs(5)))
        .raw(Method::GET, "/v2/community/servers/{serverId}/vehicles")
        .path_param("serverId", 1)
        .rate_limit(per_minute(1))
        .await
        .expect_err("a 503");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(503));
    assert_eq!(server.requests().len(), 3, "the 503 was not resent");
}

#[tokio::test]
async fn a_view_has_its_own_retry_policy_and_headers() {
    // Requests 2 and 5 (the retries of the views) succeed; every other is a 503.
    let server = LoopbackServer::start_scripted(Arc::new(|index, _: &RecordedRequest| {
        if index == 2 || index == 5 {
            CannedResponse::with_body(200, "application/json", SERVERS)
        } else {
            CannedResponse::empty(503).header("retry-after", "0")
        }
    }))
    .await
    .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .retry_policy(RetryPolicy::none())
        .header("X-App", "base")
        .build()
        .expect("a client");

    let error = client.get_servers().await.expect_err("no retries");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(503));
    assert_eq!(server.requests().len(), 1);

    let nightly = client.with_options(
        CallOptions::new()
            .retry_policy(quick_retries())
            .header("X-App", "nightly-sync")
            .header("X-Call", "7"),
    );
    nightly.get_servers().await.expect("retried after the 503");
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "the view retried once");
    for request in &requests[1..] {
        assert_eq!(
            header(request, "x-app"),
            ["nightly-sync"],
            "replaced, not added"
        );
        assert_eq!(header(request, "x-call"), ["7"]);
        assert_eq!(
            header(request, "authorization"),
            [format!("Bearer {TEST_API_KEY}").as_str()]
        );
    }

    // The client is unchanged by its view.
    let error = client.get_servers().await.expect_err("still no retries");
    assert!(error.is_retryable(), "{error}");
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(header(&requests[3], "x-app"), ["base"]);
    assert!(header(&requests[3], "x-call").is_empty());

    // A view of a view applies both.
    let both = nightly.with_options(CallOptions::new().header("X-Call", "8"));
    both.get_servers().await.expect("the first view's retries");
    let requests = server.requests();
    assert_eq!(header(&requests[5], "x-app"), ["nightly-sync"]);
    assert_eq!(header(&requests[5], "x-call"), ["8"]);
}

#[tokio::test]
async fn a_view_spends_the_clients_rate_limit_budget() {
    let (server, client) = servers_with_two_slots_a_minute().await;
    let view = client.with_options(CallOptions::new().deadline(Duration::from_millis(300)));

    client.get_servers().await.expect("the first slot");
    view.get_servers().await.expect("the second slot");
    let error = view.get_servers().await.expect_err("the budget is spent");
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert!(error.to_string().contains("no free slot"), "{error}");
    let error = client
        .with_options(CallOptions::new().deadline(Duration::from_millis(300)))
        .get_servers()
        .await
        .expect_err("for every view");
    assert!(error.to_string().contains("no free slot"), "{error}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn options_that_cannot_be_used_refuse_every_call_of_the_view_before_sending() {
    let server = LoopbackServer::start(CannedResponse::with_body(200, "application/json", SERVERS))
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let cases = [
        (
            CallOptions::new().header("Authorization", "Bearer secret-value"),
            "`Authorization` cannot be used: the client sets it itself",
        ),
        (
            CallOptions::new().header("bad name", "secret-value"),
            "`bad name` cannot be used: not a valid header name",
        ),
        (
            CallOptions::new().header("X-Token", "secret\nvalue"),
            "`X-Token` cannot be used: its value cannot be sent",
        ),
        (
            CallOptions::new().deadline(Duration::ZERO),
            "the deadline must be longer than zero",
        ),
        (
            CallOptions::new().timeout(Duration::ZERO),
            "the timeout must be longer than zero",
        ),
    ];
    for (options, says) in cases {
        let debug = format!("{options:?}");
        assert!(!debug.contains("secret"), "{debug}");
        let view = client.with_options(options);
        for error in [
            view.get_servers().await.expect_err("refused"),
            view.raw(Method::GET, "/v2/community/servers")
                .await
                .expect_err("refused"),
        ] {
            assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
            let message = error.to_string();
            assert!(message.contains(says), "{message}");
            assert!(message.contains("call options"), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

// 2. Raw calls.

/// Headers that decide where or how a request goes (routing, framing,
/// hop-by-hop), in the spellings a caller might use.
const ROUTING_HEADERS: [&str; 10] = [
    "Host",
    "content-length",
    "Transfer-Encoding",
    "CONNECTION",
    "Keep-Alive",
    "Proxy-Connection",
    "TE",
    "Trailer",
    "Upgrade",
    "Proxy-Authorization",
];

#[tokio::test]
async fn headers_that_decide_where_or_how_a_request_goes_are_refused_by_the_builder_and_the_view() {
    let server = LoopbackServer::start(CannedResponse::with_body(200, "application/json", SERVERS))
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    for name in ROUTING_HEADERS {
        let built = test_client_builder(&server.base_url())
            .header(name, "secret-value")
            .build();
        let error = built.expect_err("the builder refuses it");
        let message = error.to_string();
        assert!(
            message.contains(&format!("`{name}` cannot be used")),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");

        let view = client.with_options(CallOptions::new().header(name, "secret-value"));
        for error in [
            view.get_servers().await.expect_err("refused"),
            view.raw(Method::GET, "/v2/community/servers")
                .await
                .expect_err("refused"),
        ] {
            assert!(
                matches!(error, Error::InvalidRequest { .. }),
                "{name}: {error:?}"
            );
            assert!(
                error
                    .to_string()
                    .contains(&format!("`{name}` cannot be used")),
                "{error}"
            );
        }
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_raw_call_is_sent_as_the_client_sends_every_call_and_reads_any_json() {
    let server = LoopbackServer::start(
        CannedResponse::with_body(
            200,
            "application/json",
            r#"{"success": true, "data": {"vehicles": [{"plate": "SONORAN1"}]}}"#,
        )
        .header("x-kong-request-id", "kong-7"),
    )
    .await
    .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .header("X-App", "bot")
        .build()
        .expect("a client");
    let answer = client
        .with_options(CallOptions::new().header("X-Call", "1"))
        .raw(Method::GET, "/v2/community/servers/{serverId}/vehicles")
        .path_param("serverId", 12)
        .query("plate", "A B&C")
        .query("limit", 50)
        .await
        .expect("an answer");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(
        answer
            .headers()
            .get("x-kong-request-id")
            .map(|value| value.as_bytes()),
        Some(&b"kong-7"[..])
    );
    assert_eq!(
        answer.into_inner(),
        json!({"success": true, "data": {"vehicles": [{"plate": "SONORAN1"}]}})
    );
    let requests = server.requests();
    let request = &requests[0];
    assert_eq!(request.method, Method::GET);
    assert_eq!(
        request.uri.to_string(),
        "/v2/community/servers/12/vehicles?plate=A+B%26C&limit=50"
    );
    assert_eq!(
        header(request, "authorization"),
        [format!("Bearer {TEST_API_KEY}").as_str()]
    );
    assert!(header(request, "user-agent")[0].starts_with("sonoran-cms/"));
    assert_eq!(header(request, "accept"), ["application/json"]);
    assert_eq!(header(request, "x-app"), ["bot"]);
    assert_eq!(header(request, "x-call"), ["1"]);
}

#[tokio::test]
async fn a_raw_call_sends_a_json_body_and_an_empty_answer_is_null() {
    let server = LoopbackServer::start(CannedResponse::empty(204))
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let answer = client
        .raw(Method::POST, "/v2/community/vehicles")
        .json(&json!({"plate": "SONORAN1", "ownerId": 4}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status().as_u16(), 204);
    assert_eq!(answer.into_inner(), serde_json::Value::Null);
    let request = &server.requests()[0];
    assert_eq!(header(request, "content-type"), ["application/json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&request.body).expect("JSON"),
        json!({"plate": "SONORAN1", "ownerId": 4})
    );
}

#[tokio::test]
async fn a_raw_call_fails_as_every_operation_fails() {
    let cases = [
        (
            CannedResponse::with_body(400, "application/json", r#"{"message": "PLATE TAKEN"}"#),
            "PLATE TAKEN",
        ),
        (
            CannedResponse::with_body(
                200,
                "application/json",
                r#"{"success": false, "message": "NOT ALLOWED"}"#,
            ),
            "NOT ALLOWED",
        ),
        (
            CannedResponse::with_body(200, "text/html", "<html>gateway</html>"),
            "does not fit JSON",
        ),
        (
            CannedResponse::empty(302).header("location", "https://elsewhere.example/"),
            "302",
        ),
    ];
    for (canned, says) in cases {
        let server = LoopbackServer::start(canned)
            .await
            .expect("the server starts");
        let client = test_client_builder(&server.base_url())
            .build()
            .expect("a client");
        let error = client
            .raw(Method::POST, "/v2/community/vehicles")
            .json(&json!({"plate": "SONORAN1"}))
            .await
            .expect_err("an error");
        let message = error.to_string();
        assert!(message.contains(says), "{says}: {message}");
        for shown in [message, format!("{error:?}")] {
            assert!(!shown.contains(TEST_API_KEY), "{shown}");
        }
        assert_eq!(
            server.requests().len(),
            1,
            "{says}: never followed or repeated"
        );
        match says {
            "PLATE TAKEN" | "NOT ALLOWED" => assert!(matches!(error, Error::Api(_)), "{error:?}"),
            "302" => assert!(matches!(error, Error::Redirect(_)), "{error:?}"),
            _ => assert!(matches!(error, Error::InvalidResponse(_)), "{error:?}"),
        }
    }
}

/// A server that answers 502 and then 200, again and again, and a client of it.
async fn flaky() -> (LoopbackServer, Client) {
    let server = alternating(
        CannedResponse::empty(502),
        CannedResponse::with_body(200, "application/json", r#"{"success": true}"#),
    )
    .await;
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    (server, client)
}

#[tokio::test]
async fn a_raw_call_is_retried_as_its_method_or_the_caller_says() {
    // A GET is idempotent: retried after a 502.
    let (server, client) = flaky().await;
    client
        .raw(Method::GET, "/v2/community/vehicles")
        .await
        .expect("retried");
    assert_eq!(server.requests().len(), 2);

    // A POST is not: it may have run.
    let (server, client) = flaky().await;
    let error = client
        .raw(Method::POST, "/v2/community/vehicles")
        .await
        .expect_err("not repeated");
    assert!(error.may_have_taken_effect(), "{error}");
    assert_eq!(server.requests().len(), 1);

    // Unless the caller says it is idempotent, or safe.
    type Says = fn(sonoran_cms::raw::RawRequest<'_>) -> sonoran_cms::raw::RawRequest<'_>;
    let says: [Says; 2] = [
        |request| request.idempotent(true),
        |request| request.safe(true),
    ];
    for say in says {
        let (server, client) = flaky().await;
        say(client.raw(Method::POST, "/v2/community/vehicles/lookup"))
            .await
            .expect("retried");
        assert_eq!(server.requests().len(), 2);
    }

    // A route of the spec repeats as its operation: verifyWhitelist is a POST that only reads.
    let (server, client) = flaky().await;
    client
        .raw(
            Method::POST,
            "/v2/community/servers/{serverId}/whitelist/check",
        )
        .path_param("serverId", 1)
        .json(&json!({"discord": "1"}))
        .await
        .expect("retried");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_raw_path_that_could_leave_the_base_url_or_lacks_a_value_sends_nothing() {
    let server = LoopbackServer::start(CannedResponse::empty(200))
        .await
        .expect("the server starts");
    let client = test_client_builder(&format!("{}/gateway", server.base_url()))
        .build()
        .expect("a client");
    let cases = [
        (
            client.raw(Method::GET, "community/servers"),
            "must start with `/v2/`",
        ),
        (
            client.raw(Method::GET, "//elsewhere.example/v2/x"),
            "must start with `/v2/`",
        ),
        (client.raw(Method::GET, "/v2/community/../../admin"), "`..`"),
        (
            client.raw(Method::GET, "/v2/community?limit=5"),
            "`.query(..)`",
        ),
        (
            client.raw(Method::GET, "/v2/community//servers"),
            "empty segment",
        ),
        (
            client.raw(Method::GET, "/v2/community/a b"),
            "`.path_param`",
        ),
        (
            client.raw(Method::GET, "/v2/community/servers/{serverId}"),
            "has no value",
        ),
        (
            client
                .raw(Method::GET, "/v2/community/servers")
                .path_param("serverId", 1),
            "names no `{serverId}`",
        ),
        (
            client
                .raw(Method::GET, "/v2/community/servers/{serverId}")
                .path_param("serverId", ""),
            "is empty",
        ),
        (
            client
                .raw(
                    Method::DELETE,
                    "/v2/community/servers/{serverId}/whitelist/{discordId}",
                )
                .path_param("serverId", 1)
                .path_param("discordId", ".."),
            "a step along the path",
        ),
        (
            client.raw(Method::GET, "/v2/community/servers/1/%2e%2E"),
            "`.` or `..` segment",
        ),
    ];
    for (request, says) in cases {
        let error = request.await.expect_err("refused");
        assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(says), "{says}: {message}");
        assert!(message.contains("nothing was sent"), "{message}");
    }
    assert!(server.requests().is_empty());

    // A value cannot leave its segment, whatever it holds.
    client
        .raw(Method::GET, "/v2/community/accounts/{accountId}")
        .path_param("accountId", "../../admin?x=1#y")
        .await
        .expect("sent");
    assert_eq!(
        server.requests()[0].uri.path(),
        "/gateway/v2/community/accounts/..%2F..%2Fadmin%3Fx%3D1%23y"
    );
}

#[tokio::test]
async fn a_raw_call_is_rate_limited_by_its_route() {
    let (server, client) = servers_with_two_slots_a_minute().await;
    let hurried = client.with_options(CallOptions::new().deadline(Duration::from_millis(300)));

    // A route of the spec is its operation: one count with the typed method.
    let servers = client.raw(Method::GET, "/v2/community/servers");
    assert_eq!(servers.documented_operation(), Some(Operation::GetServers));
    assert_eq!(servers.rate_limit_in_effect(), Some(per_minute(2)));
    client.get_servers().await.expect("the first slot");
    servers.await.expect("the second slot");
    let error = hurried
        .raw(Method::GET, "/v2/community/servers")
        .await
        .expect_err("the operation's budget is spent");
    assert!(error.to_string().contains("no free slot"), "{error}");
    assert_eq!(server.requests().len(), 2);

    // Another route: the lowest documented limit of its group, or the caller's.
    let vehicles = "/v2/community/servers/{serverId}/vehicles";
    assert_eq!(
        client.raw(Method::GET, vehicles).rate_limit_in_effect(),
        Some(per_minute(9)),
        "the servers group's lowest"
    );
    assert_eq!(
        client
            .raw(Method::GET, "/v2/community/accounts/{accountId}/vehicles")
            .rate_limit_in_effect(),
        Some(per_minute(22)),
        "the accounts group's lowest"
    );
    assert_eq!(
        client
            .raw(Method::GET, "/v2/community/vehicles")
            .rate_limit_in_effect(),
        Some(per_minute(9)),
        "a new group: the lowest of all"
    );
    let once = || {
        hurried
            .raw(Method::GET, vehicles)
            .path_param("serverId", 3)
            .rate_limit(per_minute(1))
    };
    assert_eq!(once().rate_limit_in_effect(), Some(per_minute(1)));
    once().await.expect("the caller's one slot");
    let error = hurried
        .raw(Method::GET, vehicles)
        .path_param("serverId", 4)
        .rate_limit(per_minute(1))
        .await
        .expect_err("one count for the route, whatever the id");
    assert!(error.to_string().contains("no free slot"), "{error}");
    assert_eq!(server.requests().len(), 3);

    let unlimited = test_client_builder(&server.base_url())
        .for_tests()
        .build()
        .expect("a client");
    assert_eq!(
        unlimited.raw(Method::GET, vehicles).rate_limit_in_effect(),
        None
    );
}

#[tokio::test]
async fn a_failed_connection_keeps_no_path_or_query_value() {
    let base_url = sonoran_cms_tests::loopback::refusing_base_url()
        .await
        .expect("a free port");
    let client = test_client_builder(&base_url)
        .for_tests()
        .build()
        .expect("a client");
    let secret_id = 987_654_321_u64;
    let errors = [
        client
            .get_full_whitelist()
            .server_id(secret_id)
            .await
            .expect_err("nobody listens"),
        client
            .raw(Method::GET, "/v2/community/vehicles/{owner}")
            .path_param("owner", "secret-owner")
            .query("plate", "secret-plate")
            .await
            .expect_err("nobody listens"),
    ];
    for error in errors {
        assert!(matches!(error, Error::Connect { .. }), "{error:?}");
        let mut shown = vec![error.to_string(), format!("{error:?}")];
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            shown.push(format!("{cause} {cause:?}"));
            source = cause.source();
        }
        for text in shown {
            for secret in [
                &secret_id.to_string(),
                "secret-owner",
                "secret-plate",
                TEST_API_KEY,
            ] {
                assert!(!text.contains(secret), "`{secret}` in {text}");
            }
        }
    }
}
