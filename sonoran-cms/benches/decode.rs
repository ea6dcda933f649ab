//! Reading a success answer: a page of 100 accounts (`get_accounts`), the way
//! the client read it before the operation model (an envelope scan, a decode
//! that tracks the JSON path of every value, then progenitor's own decode:
//! three passes) against the way it reads it now (one plain decode, `success`
//! read from the typed value; the path-tracking pass only when that fails), in
//! one run, so the ratio of the two medians is the gain. Then a page's items
//! taken out of the decoded answer, through JSON (before) and typed (now). Last,
//! the same page through the whole client and a transport that answers at once:
//! the happy path users get, as a stream of 100 items (`.items(100)`).
//!
//! Run with `cargo bench -p sonoran-cms --bench decode`.

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::StreamExt;
use sonoran_cms::rate_limit::RateLimits;
use sonoran_cms::testing::{BoxFuture, Transport};
use sonoran_cms::types::GetAccountsResponse;
use sonoran_cms::{Client, Operation};

/// A `get_accounts` answer of 100 accounts, as the API sends them.
fn page_of_100_accounts() -> Vec<u8> {
    let items: Vec<serde_json::Value> = (0..100)
        .map(|index| {
            serde_json::json!({
                "accId": format!("00000000-0000-4000-8000-{index:012}"),
                "accName": format!("Member {index}"),
                "accStatus": "ACTIVE",
                "uniqueId": index,
                "discord": format!("1234567890123{index:05}"),
                "joinDate": "2026-04-15T00:00:00.000Z",
                "lastLogin": "2026-11-01T12:30:00.000Z",
                "permissions": ["member"],
                "sysStatus": true,
                "teamspeakId": null,
                "ranks": ["0b7c9a51-2f55-4b7e-9a63-5d1e3c2b1a00"]
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "success": true,
        "data": {"items": items, "total": 100, "skip": 0, "take": 100},
        "meta": {"timestamp": "2026-11-01T12:30:00.000Z", "path": "/v2/community/accounts"}
    }))
    .expect("JSON")
}

/// The answer the transport gives every request.
struct Answers(bytes::Bytes);

impl Transport for Answers {
    fn execute(
        &self,
        _request: reqwest::Request,
    ) -> BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        let body = self.0.clone();
        Box::pin(async move { Ok(reqwest::Response::from(http::Response::new(body))) })
    }
}

fn decode_a_page(criterion: &mut Criterion) {
    let body = page_of_100_accounts();
    let mut group = criterion.benchmark_group("decode_100_account_page");
    group.bench_function("before_three_passes", |bencher| {
        bencher.iter(|| {
            // 1. The envelope scan for `"success": false`.
            #[derive(serde::Deserialize)]
            struct Envelope {
                #[allow(dead_code)]
                success: Option<bool>,
            }
            let envelope: Envelope = serde_json::from_slice(&body).expect("an envelope");
            // 2. The check that tracks every value's path.
            sonoran_cms::testing::check_success_body(Operation::GetAccounts, &body)
                .expect("a JSON answer")
                .expect("fits");
            // 3. progenitor's decode.
            let page: GetAccountsResponse = serde_json::from_slice(&body).expect("fits");
            (envelope, page)
        });
    });
    group.bench_function("after_one_pass", |bencher| {
        bencher.iter(|| {
            let page: GetAccountsResponse = serde_json::from_slice(&body).expect("fits");
            assert!(page.success);
            page
        });
    });
    group.finish();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = Client::builder("bench-api-key")
        .base_url("http://127.0.0.1:9")
        .rate_limits(RateLimits::disabled())
        .transport(Answers(bytes::Bytes::from(body)))
        .build()
        .expect("a client");
    // A page's items out of its decoded answer: through `serde_json::Value` as
    // the stream did before (the answer encoded, the items found by JSON
    // pointer, decoded again), and moved out of the typed answer as the
    // generated page reader does now.
    let decoded: GetAccountsResponse =
        serde_json::from_slice(&page_of_100_accounts()).expect("fits");
    let mut group = criterion.benchmark_group("page_items_of_100");
    group.bench_function("before_through_json", |bencher| {
        bencher.iter_batched(
            || decoded.clone(),
            |answer| {
                let json = serde_json::to_value(answer).expect("encodes");
                let items = json.pointer("/data/items").cloned().expect("items");
                let items: Vec<sonoran_cms::types::CommunityAccount> =
                    serde_json::from_value(items).expect("fits");
                assert_eq!(items.len(), 100);
                items
            },
            criterion::BatchSize::SmallInput,
        );
    });
    group.bench_function("after_typed", |bencher| {
        bencher.iter_batched(
            || decoded.clone(),
            |mut answer| {
                let items = std::mem::take(&mut answer.data.items);
                assert_eq!(items.len(), 100);
                items
            },
            criterion::BatchSize::SmallInput,
        );
    });
    group.finish();

    let mut group = criterion.benchmark_group("paged_stream_100_items");
    group.bench_function("client_items_100", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let accounts = client.get_accounts().items(100).collect::<Vec<_>>().await;
            assert_eq!(accounts.len(), 100);
        });
    });
    group.finish();
}

criterion_group!(benches, decode_a_page);
criterion_main!(benches);
