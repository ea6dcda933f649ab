//! `cancel_session` through the full client (rate limiter off) against a raw
//! `reqwest` DELETE with the same headers and body, on the same loopback server in
//! the same run. The ratio of the two medians is the client's overhead.
//!
//! A second group takes the network out: both sides hand their request to a
//! transport that answers 204 at once, so what is left is the client's own work
//! per call (typed body, validation, JSON, hooks, the copy kept for a retry),
//! which the loopback round trip's noise would hide.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sonoran_cms::Client;
use sonoran_cms::rate_limit::RateLimits;
use sonoran_cms::types::CancelSessionRequest;

const ACCOUNT_ID: &str = "8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11";
const API_KEY: &str = "bench-api-key";

/// A minimal HTTP server on 127.0.0.1 that answers every request with 204. It runs
/// on its own thread and runtime, so the client side measures only itself.
fn start_server() -> String {
    let (address_sender, address_receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a port");
            address_sender
                .send(listener.local_addr().expect("an address"))
                .expect("the benchmark waits for the address");
            let router = axum::Router::new().fallback(|| async { http::StatusCode::NO_CONTENT });
            axum::serve(listener, router)
                .await
                .expect("the server runs");
        });
    });
    let address = address_receiver.recv().expect("the server starts");
    format!("http://{address}")
}

/// A plain reqwest client, the cancel URL below `base_url`, and the JSON body.
fn raw_client(base_url: &str) -> (reqwest::Client, String, String) {
    let url = format!("{base_url}/v2/community/sessions");
    let body = serde_json::json!({"serverId": 1, "accId": ACCOUNT_ID}).to_string();
    (reqwest::Client::new(), url, body)
}

/// The cancel request with the headers the client sends, built by hand.
fn raw_request(raw: &reqwest::Client, url: &str, body: &str) -> reqwest::RequestBuilder {
    raw.delete(url)
        .header("accept", "application/json")
        .header("authorization", format!("Bearer {API_KEY}"))
        .header("content-type", "application/json")
        .header("user-agent", sonoran_cms::config::USER_AGENT)
        .body(body.to_owned())
}

/// The same call through the client.
async fn client_cancel_session(client: &Client) {
    let response = client
        .cancel_session()
        .body(
            CancelSessionRequest::builder()
                .server_id(1_u64)
                .acc_id(ACCOUNT_ID),
        )
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status().as_u16(), 204);
}

/// Which of the two interleaved calls a benchmark times.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Timed {
    Raw,
    Client,
}

/// Makes `iterations` raw calls and as many client calls, alternating, always in
/// that order, and returns the time spent in the `timed` ones.
async fn raw_then_client<Raw, Sent>(
    iterations: u64,
    raw_call: impl Fn() -> Raw,
    client_call: impl Fn() -> Sent,
    timed: Timed,
) -> Duration
where
    Raw: Future<Output = ()>,
    Sent: Future<Output = ()>,
{
    let mut total = Duration::ZERO;
    for _ in 0..iterations {
        let started = Instant::now();
        raw_call().await;
        if timed == Timed::Raw {
            total += started.elapsed();
        }
        let started = Instant::now();
        client_call().await;
        if timed == Timed::Client {
            total += started.elapsed();
        }
    }
    total
}

fn cancel_session(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a client runtime");
    let base_url = start_server();

    let client = Client::builder(API_KEY)
        .base_url(&base_url)
        .rate_limits(RateLimits::disabled())
        .build()
        .expect("a client");
    let (raw, raw_url, raw_body) = raw_client(&base_url);

    let raw_call = || async {
        let response = raw_request(&raw, &raw_url, &raw_body)
            .send()
            .await
            .expect("a response");
        assert_eq!(response.status().as_u16(), 204);
    };
    let client_call = || client_cancel_session(&client);

    // Each benchmark times only its own calls, but runs them interleaved with the
    // other's: whatever else the machine does affects both alike, so the ratio of
    // the two is steadier than two runs one after the other.
    let mut group = criterion.benchmark_group("cancel_session");
    group
        .measurement_time(Duration::from_secs(15))
        .sample_size(200);
    group.bench_function("raw_reqwest", |bencher| {
        bencher.to_async(&runtime).iter_custom(|iterations| {
            raw_then_client(iterations, raw_call, client_call, Timed::Raw)
        });
    });
    group.bench_function("sonoran_cms_client", |bencher| {
        bencher.to_async(&runtime).iter_custom(|iterations| {
            raw_then_client(iterations, raw_call, client_call, Timed::Client)
        });
    });
    group.finish();
}

/// Answers every request with 204 without any I/O.
struct NoContent;

impl sonoran_cms::testing::Transport for NoContent {
    fn execute(
        &self,
        request: reqwest::Request,
    ) -> sonoran_cms::testing::BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        Box::pin(async move {
            std::hint::black_box(request);
            let mut response = http::Response::new(Vec::<u8>::new());
            *response.status_mut() = http::StatusCode::NO_CONTENT;
            Ok(reqwest::Response::from(response))
        })
    }
}

fn cancel_session_without_network(criterion: &mut Criterion) {
    use sonoran_cms::testing::Transport as _;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a client runtime");
    let base_url = "http://127.0.0.1:9";
    let client = Client::builder(API_KEY)
        .base_url(base_url)
        .rate_limits(RateLimits::disabled())
        .transport(NoContent)
        .build()
        .expect("a client");
    let (raw, raw_url, raw_body) = raw_client(base_url);

    let mut group = criterion.benchmark_group("cancel_session_without_network");
    group.bench_function("raw_reqwest", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let request = raw_request(&raw, &raw_url, &raw_body)
                .build()
                .expect("a request");
            let response = NoContent.execute(request).await.expect("a response");
            assert_eq!(response.status().as_u16(), 204);
        });
    });
    group.bench_function("sonoran_cms_client", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| client_cancel_session(&client));
    });
    group.finish();
}

criterion_group!(benches, cancel_session, cancel_session_without_network);
criterion_main!(benches);
