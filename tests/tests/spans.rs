//! The call and attempt spans of the client, as a `tracing` subscriber sees
//! them: OpenTelemetry's HTTP field names, the operation, the request id, the
//! wait for a slot and why an attempt was resent; never the key, a path value
//! or a query value.
//!
//! One test in this binary, alone in its process: `tracing`'s callsite cache is process-wide, so
//! subscribers set by tests running in parallel would see each other's spans
//! (or none).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sonoran_cms::rate_limit::{InProcessRateLimiter, RateLimit};
use sonoran_cms::reqwest::Method;
use sonoran_cms::{CallOptions, Client};
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer, RecordedRequest};
use sonoran_cms_tests::{TEST_API_KEY, per_minute, test_client_builder};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;

const SERVERS: &str = r#"{"success": true, "data": {"servers": []}}"#;

/// One span as a subscriber saw it: its name, its parent's index and every field
/// recorded on it (at creation or later), as text.
#[derive(Debug, Clone)]
struct SeenSpan {
    name: &'static str,
    parent: Option<u64>,
    id: u64,
    fields: BTreeMap<String, String>,
}

/// Keeps every span and every event's fields.
#[derive(Clone, Default)]
struct SpanRecorder {
    spans: Arc<Mutex<Vec<SeenSpan>>>,
    events: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

struct FieldsVisitor<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for FieldsVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> tracing_subscriber::Layer<S> for SpanRecorder
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attributes: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = BTreeMap::new();
        attributes.record(&mut FieldsVisitor(&mut fields));
        let parent = context
            .span(id)
            .and_then(|span| span.parent().map(|parent| parent.id().into_u64()));
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(SeenSpan {
                name: attributes.metadata().name(),
                parent,
                id: id.into_u64(),
                fields,
            });
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        // Span ids are reused once a span closes: the last span with the id.
        if let Some(span) = spans.iter_mut().rev().find(|span| span.id == id.into_u64()) {
            values.record(&mut FieldsVisitor(&mut span.fields));
        }
    }

    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = BTreeMap::new();
        event.record(&mut FieldsVisitor(&mut fields));
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(fields);
    }
}

impl SpanRecorder {
    /// Forgets everything seen so far (span ids are reused once spans close).
    fn clear(&self) {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn spans(&self, name: &str) -> Vec<SeenSpan> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|span| span.name == name)
            .cloned()
            .collect()
    }

    /// Every value recorded anywhere, span or event.
    fn every_value(&self) -> Vec<String> {
        let spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        spans
            .iter()
            .flat_map(|span| span.fields.values().cloned())
            .chain(events.iter().flat_map(|fields| fields.values().cloned()))
            .collect()
    }
}

fn field<'a>(span: &'a SeenSpan, name: &str) -> Option<&'a str> {
    span.fields.get(name).map(String::as_str)
}

#[tokio::test]
async fn every_call_and_attempt_is_a_span_with_opentelemetrys_http_fields_and_no_secret() {
    let recorder = SpanRecorder::default();
    let _subscriber =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    a_retried_call(&recorder).await;
    values_never_appear(&recorder).await;
    recorder.clear();
    a_failed_call(&recorder).await;
    recorder.clear();
    a_call_that_waited_for_its_slot(&recorder).await;
    recorder.clear();
    a_retry_that_finds_no_slot(&recorder).await;
    drop(_subscriber);

    // A subscriber that keeps call spans and leaves attempt spans out: what
    // an attempt ended in is never written on its call's span.
    let calls_only = SpanRecorder::default();
    let _subscriber = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(calls_only.clone().with_filter(
            tracing_subscriber::filter::filter_fn(|metadata| {
                metadata.name() != "sonoran_cms.attempt"
            }),
        )),
    );
    let (_server, client) = failing_once_then_fine().await;
    client.get_servers().await.expect("retried once");
    assert!(calls_only.spans("sonoran_cms.attempt").is_empty());
    let call = calls_only.spans("sonoran_cms.call").pop().expect("a span");
    assert_eq!(field(&call, "http.response.status_code"), Some("200"));
    assert_eq!(field(&call, "error.type"), None, "{call:?}");
    assert_eq!(field(&call, "otel.status_code"), None, "{call:?}");
    assert_eq!(field(&call, "sonoran_cms.request_id"), Some("kong-second"));
}

/// A server that answers 503 (retry at once, request id `kong-first`) and then
/// the servers list (`kong-second`), and a client of it.
async fn failing_once_then_fine() -> (LoopbackServer, Client) {
    let server = LoopbackServer::start_scripted(Arc::new(|index, _: &RecordedRequest| {
        if index == 0 {
            CannedResponse::empty(503)
                .header("retry-after", "0")
                .header("x-kong-request-id", "kong-first")
        } else {
            CannedResponse::with_body(200, "application/json", SERVERS)
                .header("x-kong-request-id", "kong-second")
        }
    }))
    .await
    .expect("the server starts");
    let client = client_for(&server);
    (server, client)
}

/// A call answered 503 then 200: one call span, two attempt spans inside it.
async fn a_retried_call(recorder: &SpanRecorder) {
    let (server, client) = failing_once_then_fine().await;
    let port = server
        .base_url()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_owned();

    client.get_servers().await.expect("retried once");

    let calls = recorder.spans("sonoran_cms.call");
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    for (name, value) in [
        ("otel.name", "get_servers"),
        ("otel.kind", "internal"),
        ("sonoran_cms.operation", "get_servers"),
        ("sonoran_cms.raw", "false"),
        ("http.request.method", "GET"),
        ("url.template", "/v2/community/servers"),
        ("server.address", "127.0.0.1"),
        ("server.port", port.as_str()),
        ("http.response.status_code", "200"),
        ("http.request.resend_count", "1"),
        ("sonoran_cms.request_id", "kong-second"),
    ] {
        assert_eq!(field(call, name), Some(value), "call {name}: {call:?}");
    }
    assert!(field(call, "sonoran_cms.rate_limit.wait_seconds").is_some());
    assert_eq!(field(call, "error.type"), None);

    let attempts = recorder.spans("sonoran_cms.attempt");
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    for attempt in &attempts {
        assert_eq!(attempt.parent, Some(call.id), "inside the call's span");
        for (name, value) in [
            ("otel.name", "GET /v2/community/servers"),
            ("otel.kind", "client"),
            ("http.request.method", "GET"),
            ("url.template", "/v2/community/servers"),
            ("server.address", "127.0.0.1"),
        ] {
            assert_eq!(
                field(attempt, name),
                Some(value),
                "attempt {name}: {attempt:?}"
            );
        }
        assert!(field(attempt, "sonoran_cms.rate_limit.wait_seconds").is_some());
    }
    let (first, second) = (&attempts[0], &attempts[1]);
    assert_eq!(field(first, "http.response.status_code"), Some("503"));
    assert_eq!(field(first, "error.type"), Some("503"));
    assert_eq!(field(first, "sonoran_cms.request_id"), Some("kong-first"));
    assert_eq!(
        field(first, "http.request.resend_count"),
        None,
        "not on the first"
    );
    assert_eq!(field(first, "sonoran_cms.retry_reason"), None);
    assert_eq!(field(second, "http.request.resend_count"), Some("1"));
    assert_eq!(
        field(second, "sonoran_cms.retry_reason"),
        Some("503 Service Unavailable")
    );
    assert_eq!(field(second, "http.response.status_code"), Some("200"));
    assert_eq!(field(second, "error.type"), None);
}

/// A path value and query values never appear, in a typed call or a raw one.
async fn values_never_appear(recorder: &SpanRecorder) {
    let server = LoopbackServer::start(CannedResponse::empty(404))
        .await
        .expect("the server starts");
    let client = client_for(&server);
    let secret_id = 7_340_033_u64;
    let _ = client.get_full_whitelist().server_id(secret_id).await;
    let _ = client
        .raw(Method::GET, "/v2/community/servers/{serverId}/vehicles")
        .path_param("serverId", "owner-name-secret")
        .query("plate", "PLATE-SECRET")
        .await;
    let _ = client
        .raw(
            Method::GET,
            "/v2/community/accounts/8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11/vehicles/9911",
        )
        .await;
    let calls = recorder.spans("sonoran_cms.call");
    let templates: Vec<_> = calls
        .iter()
        .filter_map(|call| field(call, "url.template"))
        .collect();
    assert_eq!(
        templates[1..],
        [
            "/v2/community/servers/{serverId}/whitelist",
            "/v2/community/servers/{serverId}/vehicles",
            "/v2/community/accounts/{value}/vehicles/{value}",
        ]
    );
    assert_eq!(field(&calls[2], "sonoran_cms.raw"), Some("true"));
    assert_eq!(
        field(&calls[2], "otel.name"),
        Some("raw:GET:/v2/community/servers/*/vehicles")
    );
    let values = recorder.every_value();
    for secret in [
        TEST_API_KEY,
        "Bearer",
        &secret_id.to_string(),
        "owner-name-secret",
        "PLATE-SECRET",
        "8d2f6e2a",
        "9911",
    ] {
        assert!(
            values.iter().all(|value| !value.contains(secret)),
            "`{secret}` was recorded: {values:?}"
        );
    }
}

/// A call that failed says why on its span.
async fn a_failed_call(recorder: &SpanRecorder) {
    let server = LoopbackServer::start(CannedResponse::with_body(
        400,
        "application/json",
        r#"{"message": "INVALID_SERVER_ID"}"#,
    ))
    .await
    .expect("the server starts");
    let client = client_for(&server);
    let _ = client.get_servers().await.expect_err("a 400");
    let call = recorder.spans("sonoran_cms.call").pop().expect("a span");
    assert_eq!(field(&call, "http.response.status_code"), Some("400"));
    assert_eq!(field(&call, "error.type"), Some("400"));
    assert_eq!(field(&call, "otel.status_code"), Some("ERROR"));

    // A 2XX whose envelope says it failed.
    let server = LoopbackServer::start(CannedResponse::with_body(
        200,
        "application/json",
        r#"{"success": false, "message": "NOT ALLOWED"}"#,
    ))
    .await
    .expect("the server starts");
    let _ = client_for(&server)
        .raw(Method::GET, "/v2/community/vehicles")
        .await
        .expect_err("an error answer");
    let call = recorder.spans("sonoran_cms.call").pop().expect("a span");
    assert_eq!(field(&call, "http.response.status_code"), Some("200"));
    assert_eq!(field(&call, "error.type"), Some("api_error"));
}

/// A call that had to wait for its slot says how long, on its span and on
/// the attempt's.
async fn a_call_that_waited_for_its_slot(recorder: &SpanRecorder) {
    let server = LoopbackServer::start(CannedResponse::with_body(200, "application/json", SERVERS))
        .await
        .expect("the server starts");
    let client = client_for(&server);
    let one_in_a_tenth = RateLimit::per_window(1, Duration::from_millis(100)).expect("a limit");
    for _ in 0..2 {
        client
            .raw(Method::GET, "/v2/community/vehicles")
            .rate_limit(one_in_a_tenth)
            .await
            .expect("an answer");
    }
    let seconds = |span: &SeenSpan| -> f64 {
        field(span, "sonoran_cms.rate_limit.wait_seconds")
            .expect("the wait")
            .parse()
            .expect("seconds")
    };
    let second_call = recorder.spans("sonoran_cms.call").pop().expect("a span");
    let second_attempt = recorder.spans("sonoran_cms.attempt").pop().expect("a span");
    assert!(seconds(&second_call) > 0.0, "{second_call:?}");
    assert!(seconds(&second_attempt) > 0.0, "{second_attempt:?}");
}

/// A call whose retry finds no slot before the deadline: one attempt sent, no
/// resend counted, no status for the call, and `rate_limit` as its error.
async fn a_retry_that_finds_no_slot(recorder: &SpanRecorder) {
    let server = LoopbackServer::start(CannedResponse::empty(503).header("retry-after", "0"))
        .await
        .expect("the server starts");
    let _ = client_for(&server)
        .with_options(CallOptions::new().deadline(Duration::from_secs(2)))
        .raw(Method::GET, "/v2/community/vehicles")
        .rate_limit(per_minute(1))
        .await
        .expect_err("no slot for the retry");
    assert_eq!(server.requests().len(), 1);
    let call = recorder.spans("sonoran_cms.call").pop().expect("a span");
    assert_eq!(field(&call, "http.response.status_code"), None);
    assert_eq!(field(&call, "error.type"), Some("rate_limit"));
    assert_eq!(field(&call, "http.request.resend_count"), None);
    let attempts = recorder.spans("sonoran_cms.attempt");
    assert_eq!(
        attempts.len(),
        1,
        "only the attempt that was sent: {attempts:?}"
    );
    assert_eq!(
        field(&attempts[0], "http.response.status_code"),
        Some("503")
    );
}

/// A client of `server` with the documented limits, on a limiter of its own.
fn client_for(server: &LoopbackServer) -> Client {
    test_client_builder(&server.base_url())
        .rate_limit_backend(InProcessRateLimiter::new())
        .build()
        .expect("a client")
}
