//! `cancel_session` through the full client (rate limiter off) against a raw
//! `reqwest` DELETE with the same headers and body, on the same loopback server in
//! the same run. The ratio of the two medians is the client's overhead.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sonoran_cms::types::CancelSessionRequest;
use sonoran_cms::{Client, RateLimits};

const ACCOUNT_ID: &str = "8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11";
const API_KEY: &str = "bench-api-key";

/// A minimal HTTP/1.1 server on 127.0.0.1 that answers every request with 204.
async fn start_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    let router = axum::Router::new().fallback(|| async { http::StatusCode::NO_CONTENT });
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

fn cancel_session(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let base_url = runtime.block_on(start_server());

    let client = Client::builder(API_KEY)
        .base_url(&base_url)
        .rate_limits(RateLimits::disabled())
        .build()
        .expect("a client");
    let raw = reqwest::Client::new();
    let raw_url = format!("{base_url}/v2/community/sessions");
    let raw_body = serde_json::json!({"serverId": 1, "accId": ACCOUNT_ID}).to_string();

    let mut group = criterion.benchmark_group("cancel_session");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("raw_reqwest", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let response = raw
                .delete(&raw_url)
                .header("accept", "application/json")
                .header("authorization", format!("Bearer {API_KEY}"))
                .header("content-type", "application/json")
                .header("user-agent", sonoran_cms::USER_AGENT)
                .body(raw_body.clone())
                .send()
                .await
                .expect("a response");
            assert_eq!(response.status().as_u16(), 204);
        });
    });
    group.bench_function("sonoran_cms_client", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
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
        });
    });
    group.finish();
}

criterion_group!(benches, cancel_session);
criterion_main!(benches);
