//! Shared helpers of the workspace's tests: where the workspace is, test clients,
//! and a loopback HTTP server.

pub mod loopback;
pub mod redis_server;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The API key every test client uses; tests assert it never leaks.
pub const TEST_API_KEY: &str = "test-api-key-0123";

/// A client for a loopback server: documented rate limits, and the default retry
/// policy with short backoffs so that retried cases finish quickly.
pub fn test_client_builder(base_url: &str) -> sonoran_cms::ClientBuilder {
    sonoran_cms::Client::builder(TEST_API_KEY)
        .base_url(base_url)
        .retry_policy(
            sonoran_cms::RetryPolicy::default().initial_backoff(Duration::from_millis(20)),
        )
}

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// A loopback server answering every request with `response`, and a test client for it.
pub async fn serve(
    response: loopback::CannedResponse,
) -> (loopback::LoopbackServer, sonoran_cms::Client) {
    let server = loopback::LoopbackServer::start(response)
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    (server, client)
}

/// The account id every test cancels a session of.
pub const TEST_ACCOUNT_ID: &str = "8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11";

/// A valid cancel-session body: server 1, [`TEST_ACCOUNT_ID`].
pub fn cancel_body() -> sonoran_cms::types::builder::CancelSessionRequest {
    sonoran_cms::types::CancelSessionRequest::builder()
        .server_id(1_u64)
        .acc_id(TEST_ACCOUNT_ID)
}

/// Cancels a session with [`cancel_body`] and returns the response status.
pub async fn cancel(client: &sonoran_cms::Client) -> Result<u16, sonoran_cms::Error> {
    let response = client.cancel_session().body(cancel_body()).send().await?;
    Ok(response.status().as_u16())
}

/// Reads the community's servers (a GET, so idempotent and retried after a 5XX)
/// and returns the response status.
pub async fn read_servers(client: &sonoran_cms::Client) -> Result<u16, sonoran_cms::Error> {
    let response = client.get_servers().send().await?;
    Ok(response.status().as_u16())
}

/// The README's examples, compiled as doctests so the quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The published crate's README (what crates.io shows), compiled the same way.
#[cfg(doctest)]
#[doc = include_str!("../../sonoran-cms/README.md")]
pub struct CrateReadmeDoctests;

/// The enriched spec as checked in (`openapi/sonoran-cms-v2.enriched.yaml`), as JSON.
pub fn enriched_spec() -> serde_json::Value {
    let source =
        codegen::SourceText::read(&workspace_root(), codegen::pipeline::ENRICHED_SPEC_PATH)
            .expect("the enriched spec is readable");
    codegen::load::parse_yaml(&source).expect("the enriched spec is YAML")
}

/// One operation of a spec: its operationId, method, path and JSON.
#[derive(Debug, Clone)]
pub struct SpecOperation {
    /// The operationId (`getAccount`).
    pub operation_id: String,
    /// The Rust name progenitor gives it (`get_account`).
    pub rust_name: String,
    /// The HTTP method, upper case.
    pub method: String,
    /// The path template.
    pub path: String,
    /// The operation object.
    pub operation: serde_json::Value,
}

/// Every operation of `spec`, in document order.
pub fn spec_operations(spec: &serde_json::Value) -> Vec<SpecOperation> {
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(operation_id) = operation["operationId"].as_str() {
                operations.push(SpecOperation {
                    operation_id: operation_id.to_owned(),
                    rust_name: codegen::naming::rust_snake_name(operation_id),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    operation: operation.clone(),
                });
            }
        }
    }
    operations
}

/// A `tracing` writer that keeps everything written, for tests that read logs:
/// `tracing_subscriber::fmt().with_writer(move || logs.clone())`.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Captures this thread's `tracing` warnings (and errors) until the guard
    /// is dropped: for a test on tokio's current-thread runtime, whose calls
    /// log on this thread.
    pub fn warnings() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(
            &self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }
}

/// A [`Transport`](sonoran_cms::testing::Transport) that answers every request
/// after `delay`, with `status` and the servers list, or with a body that never
/// ends when `endless_body`: for tests of deadlines and timeouts on paused time.
pub struct SlowTransport {
    /// How long before the answer's head comes.
    pub delay: Duration,
    /// Whether the body never ends.
    pub endless_body: bool,
    /// The answer's status.
    pub status: u16,
}

impl SlowTransport {
    /// The servers list, answered with 200 after `delay`.
    pub fn answering_after(delay: Duration) -> Self {
        Self {
            delay,
            endless_body: false,
            status: 200,
        }
    }
}

impl sonoran_cms::testing::Transport for SlowTransport {
    fn execute(
        &self,
        _request: reqwest::Request,
    ) -> sonoran_cms::testing::BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            let body = if self.endless_body {
                let endless = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
                reqwest::Body::wrap_stream(endless)
            } else {
                reqwest::Body::from(r#"{"success": true, "data": {"servers": []}}"#)
            };
            let mut response = http::Response::new(body);
            *response.status_mut() = http::StatusCode::from_u16(self.status).expect("a status");
            Ok(reqwest::Response::from(response))
        })
    }
}

/// `requests` per minute, a limit the rate-limit tests use often.
pub fn per_minute(requests: u32) -> sonoran_cms::rate_limit::RateLimit {
    sonoran_cms::rate_limit::RateLimit::new(requests, 60).expect("a valid limit")
}

/// A value of `schema` (in the enriched spec `spec`, read as JSON) with every
/// member the schema names present: each optional member set, each list
/// with one item, each map keyed by data with one entry, each value of
/// several forms as its first form. What the docs say the API may send, all
/// at once: the client's types must read it and keep every member.
pub fn full_value(spec: &serde_json::Value, schema: &serde_json::Value) -> serde_json::Value {
    full_value_at(spec, schema, 0)
}

fn full_value_at(
    spec: &serde_json::Value,
    schema: &serde_json::Value,
    depth: usize,
) -> serde_json::Value {
    use serde_json::{Value, json};
    // Recursive types stop after a few levels, as real answers do.
    if depth > 64 {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let target = spec
            .pointer(&reference.replacen('#', "", 1))
            .unwrap_or(&Value::Null);
        return full_value_at(spec, target, depth + 1);
    }
    if let Some(forms) = schema["allOf"].as_array() {
        let mut merged = serde_json::Map::new();
        for form in forms {
            match full_value_at(spec, form, depth + 1) {
                Value::Object(members) => merged.extend(members),
                other if forms.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    if let Some(first) = schema["oneOf"]
        .as_array()
        .or_else(|| schema["anyOf"].as_array())
        .and_then(|forms| forms.first())
    {
        return full_value_at(spec, first, depth + 1);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut members = serde_json::Map::new();
            for (name, member) in schema["properties"].as_object().into_iter().flatten() {
                members.insert(name.clone(), full_value_at(spec, member, depth + 1));
            }
            let values = &schema["additionalProperties"];
            if ["$ref", "type", "oneOf"]
                .iter()
                .any(|key| values.get(key).is_some())
            {
                members.insert("key-1".to_owned(), full_value_at(spec, values, depth + 1));
            }
            Value::Object(members)
        }
        Some("object") => {
            let values = &schema["additionalProperties"];
            if ["$ref", "type", "oneOf"]
                .iter()
                .any(|key| values.get(key).is_some())
            {
                json!({"key-1": full_value_at(spec, values, depth + 1)})
            } else {
                json!({"any": "member"})
            }
        }
        Some("array") => json!([full_value_at(spec, &schema["items"], depth + 1)]),
        Some("string") => match schema["format"].as_str() {
            Some("uuid") => json!("8d2f0c4e-1111-4222-8333-444455556666"),
            Some("date-time") => json!("2026-04-15T12:00:00Z"),
            Some("date") => json!("2026-04-15"),
            _ => json!("text"),
        },
        Some("integer") => json!(schema["minimum"].as_i64().unwrap_or(0).max(1)),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        _ => json!("open JSON"),
    }
}
