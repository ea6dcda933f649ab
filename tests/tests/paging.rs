//! Paged operations as streams, on a loopback server that pages a fixed list by
//! the request's query: every item once and in order for several page sizes,
//! nothing for an empty first page, a cap that fetches no page beyond it, and a
//! failure on page 3 that ends the stream after the items already yielded.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{Value, json};
use sonoran_cms::RetryPolicy;
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer, RecordedRequest};
use sonoran_cms_tests::test_client_builder;

/// `count` accounts, numbered by `uniqueId`.
fn accounts(count: u64) -> Vec<Value> {
    (0..count)
        .map(|index| json!({"accId": format!("00000000-0000-4000-8000-{index:012}"), "uniqueId": index}))
        .collect()
}

/// A query parameter of a recorded request, as a number.
fn query_number(request: &RecordedRequest, name: &str) -> Option<usize> {
    request.uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.parse().ok())?
    })
}

/// A server paging `items` by `skip`/`take` as getAccounts does; the page
/// starting at `fail_at` (when given) answers 404.
async fn paging_server(items: Vec<Value>, fail_at: Option<usize>) -> LoopbackServer {
    capping_server(items, fail_at, usize::MAX).await
}

/// [`paging_server`], answering at most `cap` items a page whatever `take` asks.
async fn capping_server(items: Vec<Value>, fail_at: Option<usize>, cap: usize) -> LoopbackServer {
    let items = Arc::new(items);
    LoopbackServer::start_scripted(Arc::new(move |_, request| {
        let skip = query_number(request, "skip").unwrap_or(0);
        let take = query_number(request, "take").unwrap_or(25).min(cap);
        if fail_at == Some(skip) {
            return CannedResponse::with_body(404, "application/json", r#"{"detail":"page is gone"}"#);
        }
        let page: Vec<Value> = items.iter().skip(skip).take(take).cloned().collect();
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": {"items": page, "total": items.len(), "skip": skip, "take": take}}).to_string(),
        )
    }))
    .await
    .expect("the server starts")
}

fn client_for(server: &LoopbackServer) -> sonoran_cms::Client {
    test_client_builder(&server.base_url())
        .retry_policy(RetryPolicy::none())
        .rate_limits(sonoran_cms::rate_limit::RateLimits::disabled())
        .build()
        .expect("a client")
}

fn unique_ids(accounts: &[sonoran_cms::types::CommunityAccount]) -> Vec<i64> {
    accounts
        .iter()
        .filter_map(|account| account.unique_id)
        .collect()
}

#[tokio::test]
async fn every_item_comes_once_and_in_order_for_any_page_size() {
    for (count, page_size, expected_pages) in [
        (7, 1, 7),
        (7, 3, 3),
        (7, 7, 1),
        (7, 10, 1),
        (6, 3, 2),
        (0, 5, 1),
    ] {
        let server = paging_server(accounts(count), None).await;
        let client = client_for(&server);
        let items: Vec<_> = client.get_accounts().items(page_size).collect().await;
        let items: Vec<_> = items
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("no error");
        let expected: Vec<i64> = (0..count as i64).collect();
        assert_eq!(
            unique_ids(&items),
            expected,
            "{count} items, pages of {page_size}"
        );
        assert_eq!(
            server.requests().len(),
            expected_pages,
            "{count} items, pages of {page_size}: pages fetched"
        );
        let takes: Vec<Option<usize>> = server
            .requests()
            .iter()
            .map(|request| query_number(request, "take"))
            .collect();
        assert!(
            takes.iter().all(|take| *take == Some(page_size as usize)),
            "{takes:?}"
        );
    }
}

/// The ids of every submission `server` lists for template 5, in pages of
/// `page_size`.
async fn submission_ids(server: &LoopbackServer, page_size: u64) -> Vec<i64> {
    client_for(server)
        .get_template_submissions()
        .template_id(5_u64)
        .items(page_size)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|form| form.expect("a form").form_id.expect("an id"))
        .collect()
}

/// The `take` of every request the server saw.
fn takes(server: &LoopbackServer) -> Vec<Option<usize>> {
    server
        .requests()
        .iter()
        .map(|request| query_number(request, "take"))
        .collect()
}

#[tokio::test]
async fn a_server_that_caps_its_pages_still_gives_every_item() {
    // Asked for 250 a page, the client asks for the API's largest page (100,
    // from the spec); a server capping below that (30, 7) gives short pages,
    // and the total, not the short page, ends the stream.
    for (count, page_size, cap, expected_take, expected_pages) in [
        (250, 250, 100, 100, 3),
        (75, 100, 30, 100, 3),
        (15, 10, 7, 10, 3),
        (100, 100, 100, 100, 1),
    ] {
        let server = capping_server(accounts(count), None, cap).await;
        let client = client_for(&server);
        let stream = client.get_accounts().items(page_size);
        assert_eq!(stream.page_size(), expected_take as u64);
        let items: Vec<_> = stream
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("no error");
        assert_eq!(
            unique_ids(&items),
            (0..count as i64).collect::<Vec<_>>(),
            "{count} items, asked {page_size}, capped at {cap}"
        );
        assert_eq!(
            server.requests().len(),
            expected_pages,
            "{count}/{page_size}/{cap}"
        );
        assert!(
            takes(&server)
                .iter()
                .all(|take| *take == Some(expected_take)),
            "{:?}",
            takes(&server)
        );
    }
}

#[tokio::test]
async fn without_a_total_only_an_empty_page_ends_the_stream() {
    // Submissions as bare lists (no count), from a server capping pages at 2:
    // every short page is followed by the next, until an empty one.
    let server = LoopbackServer::start_scripted(Arc::new(|_, request| {
        let skip = query_number(request, "skip").unwrap_or(0);
        let forms: Vec<Value> = (skip..(skip + 2).min(5))
            .map(|id| json!({"formId": id}))
            .collect();
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": forms}).to_string(),
        )
    }))
    .await
    .expect("the server starts");
    let ids = submission_ids(&server, 20).await;
    assert_eq!(ids, [0, 1, 2, 3, 4]);
    assert_eq!(
        takes(&server),
        [Some(20); 4],
        "pages of 2, 2, 1, then an empty one"
    );
}

#[tokio::test]
async fn a_server_that_ignores_the_offset_or_loses_the_list_ends_the_stream_with_an_error() {
    // Bare lists (no total) from a server that ignores `skip`: the same page
    // again would repeat its items forever.
    let server = LoopbackServer::start_scripted(Arc::new(|_, _| {
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": [{"formId": 1}, {"formId": 2}]}).to_string(),
        )
    }))
    .await
    .expect("the server starts");
    let client = client_for(&server);
    let results: Vec<_> = client
        .get_template_submissions()
        .template_id(5_u64)
        .items(20)
        .collect()
        .await;
    assert_eq!(results.len(), 3, "two items, then the error");
    let error = results[2].as_ref().expect_err("the same page again");
    assert!(error.to_string().contains("the same page again"), "{error}");
    assert_eq!(server.requests().len(), 2);

    // A page without its list although the total says more remain.
    let server = LoopbackServer::start_scripted(Arc::new(|_, request| {
        let data = if query_number(request, "skip") == Some(0) {
            json!({"items": accounts(2), "total": 5})
        } else {
            json!({"items": null, "total": 5})
        };
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": data}).to_string(),
        )
    }))
    .await
    .expect("the server starts");
    let client = client_for(&server);
    let results: Vec<_> = client.get_accounts().items(2).collect().await;
    assert_eq!(results.len(), 3, "two items, then the error");
    // Never a silent end: the page's type says the list is always sent, so the
    // answer fails at `data.items`.
    let error = results[2].as_ref().expect_err("no list on page 2");
    assert_eq!(
        error.decode_failure().map(|failure| failure.path.as_str()),
        Some("data.items"),
        "{error}"
    );
}

#[tokio::test]
async fn pages_that_only_look_alike_are_not_taken_for_a_repeat() {
    // Roster rows without ids: divider rows repeat. Pages [D, a, D] and
    // [D, b, D] start and end alike, and both are read.
    let rows = [
        json!({"type": "divider"}),
        json!({"type": "member", "c-1": "a"}),
        json!({"type": "divider"}),
        json!({"type": "divider"}),
        json!({"type": "member", "c-1": "b"}),
        json!({"type": "divider"}),
    ];
    let server = LoopbackServer::start_scripted(Arc::new(move |_, request| {
        let skip = query_number(request, "skip").unwrap_or(0);
        let limit = query_number(request, "limit").unwrap_or(50);
        let page: Vec<Value> = rows.iter().skip(skip).take(limit).cloned().collect();
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": {"rows": page, "total": rows.len()}}).to_string(),
        )
    }))
    .await
    .expect("the server starts");
    let rows: Vec<_> = client_for(&server)
        .get_roster_contents()
        .roster_id(1_u64)
        .items(3)
        .collect()
        .await;
    let rows: Vec<_> = rows
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("no error");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[4].extra.get("c-1"), Some(&json!("b")));
}

#[tokio::test]
async fn pages_are_fetched_lazily_and_a_cap_fetches_nothing_beyond_it() {
    let server = paging_server(accounts(10), None).await;
    let client = client_for(&server);
    let mut stream = client.get_accounts().items(3);
    assert!(
        server.requests().is_empty(),
        "nothing is fetched before the first item is read"
    );
    let first = stream.next().await.expect("an item").expect("no error");
    assert_eq!(first.unique_id, Some(0));
    assert_eq!(server.requests().len(), 1);

    let capped: Vec<_> = client.get_accounts().items(3).max_items(4).collect().await;
    assert_eq!(capped.len(), 4);
    // One page for the first three, then a page of one for the fourth.
    let takes: Vec<Option<usize>> = server.requests()[1..]
        .iter()
        .map(|request| query_number(request, "take"))
        .collect();
    assert_eq!(takes, [Some(3), Some(1)]);
}

#[tokio::test]
async fn a_failure_on_page_3_ends_the_stream_after_the_items_already_yielded() {
    let server = paging_server(accounts(10), Some(4)).await;
    let client = client_for(&server);
    let results: Vec<_> = client.get_accounts().items(2).collect().await;
    assert_eq!(results.len(), 5, "two pages of two, then the error");
    let yielded: Vec<i64> = results[..4]
        .iter()
        .map(|item| item.as_ref().expect("an item").unique_id.expect("an id"))
        .collect();
    assert_eq!(yielded, [0, 1, 2, 3]);
    let error = results[4].as_ref().expect_err("page 3 failed");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
    assert!(error.to_string().contains("page is gone"), "{error}");
    assert_eq!(server.requests().len(), 3, "no page after the failure");
}

#[tokio::test]
async fn submissions_and_roster_rows_page_the_same_way() {
    // Submissions page by skip/take under `forms`, or as a bare list.
    let server = LoopbackServer::start_scripted(Arc::new(|_, request| {
        let skip = query_number(request, "skip").unwrap_or(0);
        let forms: Vec<Value> = (skip..(skip + 2).min(3))
            .map(|id| json!({"formId": id}))
            .collect();
        let body = if skip == 0 {
            json!({"success": true, "data": {"count": 3, "forms": forms}})
        } else {
            json!({"success": true, "data": forms})
        };
        CannedResponse::with_body(200, "application/json", &body.to_string())
    }))
    .await
    .expect("the server starts");
    let ids = submission_ids(&server, 2).await;
    assert_eq!(ids, [0, 1, 2]);

    // Roster rows page by skip/limit, and keep their column values.
    let server = LoopbackServer::start_scripted(Arc::new(|_, request| {
        let skip = query_number(request, "skip").unwrap_or(0);
        let limit = query_number(request, "limit").unwrap_or(50);
        let rows: Vec<Value> = (skip..(skip + limit).min(5))
            .map(|index| json!({"sortPower": index, "c-1": format!("rank {index}")}))
            .collect();
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": {"rows": rows, "total": 5}}).to_string(),
        )
    }))
    .await
    .expect("the server starts");
    let client = client_for(&server);
    let rows: Vec<_> = client
        .get_roster_contents()
        .roster_id(1_u64)
        .items(2)
        .collect()
        .await;
    let rows: Vec<_> = rows
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("no error");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4].extra.get("c-1"), Some(&json!("rank 4")));
    assert_eq!(
        server.requests().len(),
        3,
        "the total tells the third page is the last"
    );
}

/// A server answering the pages of `items` but with `total` as the total,
/// whatever the list holds.
async fn lying_total_server(items: Vec<Value>, total: usize) -> LoopbackServer {
    let items = Arc::new(items);
    LoopbackServer::start_scripted(Arc::new(move |_, request| {
        let skip = query_number(request, "skip").unwrap_or(0);
        let take = query_number(request, "take").unwrap_or(25);
        let page: Vec<Value> = items.iter().skip(skip).take(take).cloned().collect();
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": {"items": page, "total": total}}).to_string(),
        )
    }))
    .await
    .expect("the server starts")
}

/// Runs `stream` to its end with a `tracing` subscriber capturing warnings.
async fn collect_with_logs<S, T>(stream: S) -> (Vec<Result<T, sonoran_cms::Error>>, String)
where
    S: futures_util::Stream<Item = Result<T, sonoran_cms::Error>>,
{
    // The test runs on one thread, so what it calls logs here.
    let (logs, _guard) = sonoran_cms_tests::CapturedLogs::warnings();
    let items = stream.collect::<Vec<_>>().await;
    (items, logs.text())
}

#[tokio::test]
async fn the_stream_starts_at_the_builders_offset_and_yields_at_most_its_size() {
    let server = paging_server(accounts(300), None).await;
    let client = client_for(&server);
    let from_200: Vec<_> = client
        .get_accounts()
        .skip(200_u64)
        .items(50)
        .map(|item| item.expect("an account"))
        .collect()
        .await;
    assert_eq!(unique_ids(&from_200), (200..300).collect::<Vec<i64>>());
    let window: Vec<_> = client
        .get_accounts()
        .skip(10_u64)
        .take(5_u64)
        .items(2)
        .map(|item| item.expect("an account"))
        .collect()
        .await;
    assert_eq!(
        unique_ids(&window),
        (10..15).collect::<Vec<i64>>(),
        "skip 10, take 5"
    );
    let capped: Vec<_> = client
        .get_accounts()
        .take(5_u64)
        .items(100)
        .max_items(3)
        .map(|item| item.expect("an account"))
        .collect()
        .await;
    assert_eq!(unique_ids(&capped), vec![0, 1, 2], "the smaller cap wins");
}

#[tokio::test]
async fn a_total_smaller_than_what_was_received_is_not_believed_and_is_logged() {
    // 12 accounts, but every page says the total is 4.
    let server = lying_total_server(accounts(12), 4).await;
    let client = client_for(&server);
    let (items, logs) = collect_with_logs(client.get_accounts().items(5)).await;
    let accounts: Vec<_> = items
        .into_iter()
        .map(|item| item.expect("an account"))
        .collect();
    assert_eq!(
        unique_ids(&accounts),
        (0..12).collect::<Vec<i64>>(),
        "no item is lost"
    );
    assert!(logs.contains("get_accounts"), "{logs}");
    assert!(
        logs.contains("total=4") && logs.contains("received=5"),
        "{logs}"
    );
}

#[tokio::test]
async fn an_empty_page_before_the_total_ends_the_stream_with_a_warning() {
    let server = lying_total_server(accounts(6), 40).await;
    let client = client_for(&server);
    let (items, logs) = collect_with_logs(client.get_accounts().items(5)).await;
    assert_eq!(items.len(), 6);
    assert!(logs.contains("an empty page before the total"), "{logs}");
    assert!(
        logs.contains("offset=6") && logs.contains("total=40"),
        "{logs}"
    );
}

#[tokio::test]
async fn items_repeated_by_a_list_that_moved_are_not_yielded_twice() {
    // Between the pages an account is added at the front: the second page
    // starts one item early and repeats the first page's last.
    let items = Arc::new(accounts(8));
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = LoopbackServer::start_scripted(Arc::new(move |_, request| {
        let skip = query_number(request, "skip").unwrap_or(0);
        let take = query_number(request, "take").unwrap_or(25);
        let shift = usize::from(asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0);
        let start = skip.saturating_sub(shift);
        let page: Vec<Value> = items.iter().skip(start).take(take).cloned().collect();
        CannedResponse::with_body(
            200,
            "application/json",
            &json!({"success": true, "data": {"items": page}}).to_string(),
        )
    }))
    .await
    .expect("the server starts");
    let client = client_for(&server);
    let (items, logs) = collect_with_logs(client.get_accounts().items(4)).await;
    let accounts: Vec<_> = items
        .into_iter()
        .map(|item| item.expect("an account"))
        .collect();
    let ids = unique_ids(&accounts);
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "no account twice: {ids:?}");
    assert_eq!(ids, (0..8).collect::<Vec<i64>>());
    assert!(logs.contains("repeated=1"), "{logs}");
}
