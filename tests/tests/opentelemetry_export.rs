//! The README's OpenTelemetry export, run: `tracing-opentelemetry`'s layer over
//! an OpenTelemetry SDK tracer provider, with the SDK's in-memory exporter where
//! the README has OTLP. What an OpenTelemetry backend receives is what the
//! client's spans promise: an internal span per call under the caller's own
//! span, a *client* span per attempt named `METHOD /template`, the HTTP
//! semantic-convention attributes with OpenTelemetry's types, an error status
//! on failure, and never the key or a path value.
//!
//! One test in this binary, alone in its process, as in `spans.rs`: `tracing`'s
//! callsite cache is process-wide.

use std::sync::Arc;

use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use sonoran_cms::Client;
use sonoran_cms::rate_limit::InProcessRateLimiter;
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer, RecordedRequest};
use sonoran_cms_tests::{TEST_API_KEY, test_client_builder};
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

const SERVERS: &str = r#"{"success": true, "data": {"servers": []}}"#;
const ACCOUNT_ID: &str = "6f1c2a9e-0d3b-4c55-9a8e-2b7d41e0c3aa";

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|KeyValue { key: name, .. }| name.as_str() == key)
        .map(|KeyValue { value, .. }| value)
}

fn spans_named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|span| span.name == name).collect()
}

#[tokio::test]
async fn an_opentelemetry_backend_receives_a_call_span_and_a_client_span_per_attempt() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    // The README's subscriber, with the test's own target let through too.
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("sonoran-cms-tests")))
        .with(
            "sonoran_cms=info,opentelemetry_export=info"
                .parse::<tracing_subscriber::filter::Targets>()
                .expect("a valid filter"),
        );
    let _subscriber = tracing::subscriber::set_default(subscriber);

    // 503 (retried at once), then the servers list; then a 404 for an account.
    let server =
        LoopbackServer::start_scripted(Arc::new(|index, _: &RecordedRequest| match index {
            0 => CannedResponse::empty(503).header("retry-after", "0"),
            1 => CannedResponse::with_body(200, "application/json", SERVERS)
                .header("x-kong-request-id", "kong-second"),
            _ => CannedResponse::with_body(
                404,
                "application/json",
                r#"{"success": false, "message": "no such account"}"#,
            ),
        }))
        .await
        .expect("the server starts");
    let client: Client = test_client_builder(&server.base_url())
        .rate_limit_backend(InProcessRateLimiter::new())
        .build()
        .expect("a client");

    async {
        client.get_servers().await.expect("retried once");
        let missing = client
            .get_account_ranks()
            .account_id(uuid::Uuid::parse_str(ACCOUNT_ID).expect("a UUID"))
            .await
            .expect_err("404");
        assert_eq!(missing.status().map(|status| status.as_u16()), Some(404));
    }
    .instrument(tracing::info_span!("handle_player_join"))
    .await;
    drop(_subscriber);
    provider.force_flush().expect("the spans are exported");
    let spans = exporter.get_finished_spans().expect("the exported spans");

    // The caller's span is the root; every call of the SDK is inside it, in its trace.
    let root = spans_named(&spans, "handle_player_join");
    let [root] = root.as_slice() else {
        panic!("one root span: {spans:#?}")
    };
    let trace_id = root.span_context.trace_id();
    assert!(
        spans
            .iter()
            .all(|span| span.span_context.trace_id() == trace_id),
        "one trace: {spans:#?}"
    );

    // The first call: internal, named for the operation, with the last attempt's status.
    let calls = spans_named(&spans, "get_servers");
    let [call] = calls.as_slice() else {
        panic!("one span for get_servers: {spans:#?}")
    };
    assert_eq!(call.span_kind, SpanKind::Internal);
    assert_eq!(call.parent_span_id, root.span_context.span_id());
    assert_eq!(call.status, Status::Unset, "it succeeded");
    assert_eq!(
        attribute(call, "http.response.status_code"),
        Some(&Value::I64(200)),
        "an integer, as the semantic conventions type it"
    );
    assert_eq!(
        attribute(call, "http.request.resend_count"),
        Some(&Value::I64(1))
    );
    assert_eq!(
        attribute(call, "sonoran_cms.request_id"),
        Some(&Value::from("kong-second"))
    );
    assert!(
        matches!(
            attribute(call, "sonoran_cms.rate_limit.wait_seconds"),
            Some(Value::F64(seconds)) if *seconds >= 0.0
        ),
        "{call:#?}"
    );

    // Its two attempts: client spans named `METHOD /template`, children of the call.
    let attempts = spans_named(&spans, "GET /v2/community/servers");
    assert_eq!(attempts.len(), 2, "{spans:#?}");
    for attempt in &attempts {
        assert_eq!(attempt.span_kind, SpanKind::Client);
        assert_eq!(attempt.parent_span_id, call.span_context.span_id());
        for (key, value) in [
            ("http.request.method", "GET"),
            ("url.template", "/v2/community/servers"),
            ("server.address", "127.0.0.1"),
            ("sonoran_cms.operation", "get_servers"),
        ] {
            assert_eq!(
                attribute(attempt, key),
                Some(&Value::from(value)),
                "{key}: {attempt:#?}"
            );
        }
    }
    let first = attempts
        .iter()
        .find(|attempt| attribute(attempt, "http.response.status_code") == Some(&Value::I64(503)))
        .expect("the 503 attempt");
    assert!(matches!(first.status, Status::Error { .. }), "{first:#?}");
    assert_eq!(attribute(first, "error.type"), Some(&Value::from("503")));
    let second = attempts
        .iter()
        .find(|attempt| attribute(attempt, "http.response.status_code") == Some(&Value::I64(200)))
        .expect("the 200 attempt");
    assert_eq!(second.status, Status::Unset);
    assert_eq!(
        attribute(second, "sonoran_cms.retry_reason"),
        Some(&Value::from("503 Service Unavailable"))
    );

    // The failed call: an error status on the call and on its attempt, and the
    // path keeps its placeholder.
    let failed = spans_named(&spans, "get_account_ranks");
    let [failed] = failed.as_slice() else {
        panic!("one span for get_account_ranks: {spans:#?}")
    };
    assert!(matches!(failed.status, Status::Error { .. }), "{failed:#?}");
    assert_eq!(attribute(failed, "error.type"), Some(&Value::from("404")));
    let template = attribute(failed, "url.template")
        .expect("a template")
        .as_str()
        .into_owned();
    assert!(template.contains('{'), "a placeholder: {template}");
    let attempts = spans_named(&spans, &format!("GET {template}"));
    let [attempt] = attempts.as_slice() else {
        panic!("one attempt for the 404: {spans:#?}")
    };
    assert_eq!(attempt.span_kind, SpanKind::Client);
    assert!(matches!(attempt.status, Status::Error { .. }));

    // Nothing exported carries the key or the path value, in any attribute or name.
    for span in &spans {
        let mut texts = vec![span.name.to_string()];
        texts.extend(
            span.attributes
                .iter()
                .map(|kv| kv.value.as_str().into_owned()),
        );
        for text in texts {
            for secret in [TEST_API_KEY, "Bearer", ACCOUNT_ID] {
                assert!(!text.contains(secret), "`{secret}` in {span:#?}");
            }
        }
    }
}
