//! The crate as a user writes it: builders whose setters take values, types
//! that compare with `==`, answers of several forms read as one list, the
//! whitelist check as yes or no, an identity resolved to the account's UUID,
//! and limiters that are isolated or shared as asked.

use std::time::Duration;

use serde_json::json;
use sonoran_cms::rate_limit::{InProcessRateLimiter, RateLimit, RateLimits};
use sonoran_cms::types::{self, AccountIdentity};
use sonoran_cms::whitelist::WhitelistVerdict;
use sonoran_cms::{Client, Error};
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer};

const ACCOUNT: &str = "8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11";
const OTHER_ACCOUNT: &str = "3c1f2e4d-5b6a-4789-8abc-def012345678";

fn account(text: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(text).expect("a UUID")
}

/// A client of `server`, without limits or retries (`for_tests`).
fn client_of(server: &LoopbackServer) -> Client {
    Client::builder("pleasant-key")
        .base_url(server.base_url())
        .for_tests()
        .build()
        .expect("a client")
}

#[test]
fn optional_setters_take_the_value_and_maybe_takes_an_option() {
    let body: types::ActivityTrackerRequest = types::ActivityTrackerRequest::builder()
        .discord("123456789012345678")
        .force_start(true)
        .unique_id(7)
        .try_into()
        .expect("a body");
    assert_eq!(body.discord.as_deref(), Some("123456789012345678"));
    assert_eq!(body.force_start, Some(true));
    assert_eq!(body.unique_id, Some(7));
    let kept: Option<String> = None;
    let cleared: types::ActivityTrackerRequest = types::ActivityTrackerRequest::builder()
        .discord("1")
        .maybe_discord(kept)
        .api_id("license:abc")
        .try_into()
        .expect("a body");
    assert_eq!(cleared.discord, None);
    assert_eq!(cleared.api_id.as_deref(), Some("license:abc"));

    // An optional id takes any integer, as a value or an `Option`, with the
    // same check.
    let server = |builder: types::builder::CommunityServerInput| {
        types::CommunityServerInput::try_from(builder.name("Main"))
    };
    let by_value = server(types::CommunityServerInput::builder().id(5)).expect("an id");
    let by_option =
        server(types::CommunityServerInput::builder().maybe_id(Some(5_u32))).expect("an id");
    assert_eq!(by_value.id.map(u64::from), Some(5));
    assert_eq!(by_value, by_option);
    let zero =
        server(types::CommunityServerInput::builder().maybe_id(Some(0))).expect_err("0 is no id");
    assert!(
        zero.to_string().contains("`id` must be at least 1"),
        "{zero}"
    );
}

#[test]
fn equal_answers_compare_equal() {
    let text = json!({"success": true, "data": {"accId": ACCOUNT, "accName": "Jane"}});
    let first: types::GetAccountResponse = serde_json::from_value(text.clone()).expect("fits");
    let second: types::GetAccountResponse = serde_json::from_value(text).expect("fits");
    assert_eq!(first, second);
    let renamed: types::GetAccountResponse = serde_json::from_value(
        json!({"success": true, "data": {"accId": ACCOUNT, "accName": "Joan"}}),
    )
    .expect("fits");
    assert_ne!(first, renamed);
}

#[test]
fn answers_of_several_forms_of_one_list_read_as_that_list() {
    // A page or a bare list of accounts.
    let account_row = json!({"accId": ACCOUNT, "accName": "Jane"});
    for data in [
        json!({"items": [account_row.clone()], "total": 1}),
        json!([account_row.clone()]),
    ] {
        let read: types::SearchAccountsResponseData =
            serde_json::from_value(data.clone()).expect("fits");
        let accounts = read.into_vec();
        assert_eq!(accounts.len(), 1, "{data}");
        assert_eq!(accounts[0].acc_id, account(ACCOUNT));
    }
    // One record or a list of records.
    let record = json!({"id": "r1", "accId": ACCOUNT});
    for (data, count) in [
        (json!(record.clone()), 1),
        (json!([record.clone(), record]), 2),
    ] {
        let read: types::MemberRecordList = serde_json::from_value(data).expect("fits");
        assert_eq!(read.into_vec().len(), count);
    }
}

/// `verify_whitelist` against a server answering `response`.
async fn verdict_for(response: CannedResponse) -> sonoran_cms::Result<WhitelistVerdict> {
    let server = LoopbackServer::start(response)
        .await
        .expect("the server starts");
    client_of(&server)
        .verify_whitelist()
        .server_id(1)
        .body(
            types::VerifyWhitelistRequest::builder()
                .identity(AccountIdentity::Discord("123456789012345678".into())),
        )
        .verdict()
        .await
}

#[tokio::test]
async fn the_whitelist_check_says_yes_or_no_and_other_failures_stay_errors() {
    let json = "application/json";
    let allowed = verdict_for(CannedResponse::with_body(
        200,
        json,
        r#"{"success": true, "data": "Jane"}"#,
    ))
    .await
    .expect("a verdict");
    assert_eq!(
        allowed,
        WhitelistVerdict::Allowed {
            name: "Jane".into()
        }
    );
    assert!(allowed.is_allowed());

    // A denial as a problem (v2), as a 404 text (v1), and as `success: false`
    // at status 200: each a typed no, with the API's code.
    for (status, content_type, body, code) in [
        (
            403,
            "application/problem+json",
            r#"{"status": 403, "title": "Forbidden", "detail": "NOT ALLOWED ON WHITELIST"}"#,
            "NOT ALLOWED ON WHITELIST",
        ),
        (
            404,
            "text/plain",
            "NOT ALLOWED ON WHITELIST",
            "NOT ALLOWED ON WHITELIST",
        ),
        (
            200,
            json,
            r#"{"success": false, "data": "BLOCKED FOR WHITELIST"}"#,
            "BLOCKED FOR WHITELIST",
        ),
        (
            400,
            "application/problem+json",
            r#"{"status": 400, "detail": "unknown_acc_api_id"}"#,
            "UNKNOWN_ACC_API_ID",
        ),
    ] {
        let verdict = verdict_for(CannedResponse::with_body(status, content_type, body))
            .await
            .unwrap_or_else(|error| panic!("{status} {body}: a verdict, not {error}"));
        assert_eq!(
            verdict,
            WhitelistVerdict::Denied {
                reason: code.into()
            },
            "{status} {body}"
        );
    }

    // A server the API does not know, and an outage: errors, not a verdict.
    for (status, body) in [
        (400, r#"{"status": 400, "detail": "INVALID_SERVER_ID"}"#),
        (500, r#"{"status": 500, "detail": "SERVER_CONFIG_ERROR"}"#),
    ] {
        let outcome = verdict_for(CannedResponse::with_body(
            status,
            "application/problem+json",
            body,
        ))
        .await;
        let error = outcome.expect_err("not a denial");
        assert_eq!(error.status().map(|status| status.as_u16()), Some(status));
    }
}

#[tokio::test]
async fn an_identity_resolves_to_the_accounts_uuid_with_one_search() {
    // Two accounts found; the one whose Discord id is the identity's wins.
    let found = json!({"success": true, "data": [
        {"accId": OTHER_ACCOUNT, "discordId": "999"},
        {"accId": ACCOUNT, "discordId": "123456789012345678"}
    ]})
    .to_string();
    let server = LoopbackServer::start(CannedResponse::with_body(200, "application/json", &found))
        .await
        .expect("the server starts");
    let client = client_of(&server);
    let resolved = client
        .account_uuid(AccountIdentity::Discord("123456789012345678".into()))
        .await
        .expect("the search answers");
    assert_eq!(resolved, Some(account(ACCOUNT)));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one call");
    assert_eq!(requests[0].uri.path(), "/v2/community/accounts/search");
    assert_eq!(requests[0].uri.query(), Some("discord=123456789012345678"));

    // A UUID is its own answer: no call.
    let given = client
        .account_uuid(AccountIdentity::AccId(account(OTHER_ACCOUNT)))
        .await
        .expect("no call to fail");
    assert_eq!(given, Some(account(OTHER_ACCOUNT)));
    assert_eq!(server.requests().len(), 1, "no second call");

    // Several found and none named exactly: no guess.
    let ambiguous = client
        .account_uuid(AccountIdentity::Username("jan".into()))
        .await
        .expect("the search answers");
    assert_eq!(ambiguous, None);

    let nobody = LoopbackServer::start(CannedResponse::with_body(
        200,
        "application/json",
        r#"{"success": true, "data": []}"#,
    ))
    .await
    .expect("the server starts");
    let none = client_of(&nobody)
        .account_uuid(AccountIdentity::ApiId("license:abc".into()))
        .await
        .expect("the search answers");
    assert_eq!(none, None);
}

/// A client with one call a minute for every operation, a 1 s deadline and
/// `backend`: a second call inside the minute finds no slot before its
/// deadline.
fn one_a_minute(server: &LoopbackServer, key: &str, backend: InProcessRateLimiter) -> Client {
    let limit = RateLimit::new(1, 60).expect("a limit");
    Client::builder(key)
        .base_url(server.base_url())
        .rate_limits(RateLimits::uniform(limit))
        .rate_limit_backend(backend)
        .deadline(Duration::from_secs(1))
        .build()
        .expect("a client")
}

#[tokio::test]
async fn a_new_in_process_limiter_counts_alone_and_the_shared_one_for_the_process() {
    let server = LoopbackServer::start(CannedResponse::with_body(
        200,
        "application/json",
        r#"{"success": true, "data": null}"#,
    ))
    .await
    .expect("the server starts");
    let call = |client: Client| async move { client.get_current_session().server_id(1).await };

    // Two clients with one key, each with its own limiter: each has its slot.
    for _ in 0..2 {
        let isolated = one_a_minute(&server, "isolated-key", InProcessRateLimiter::new());
        call(isolated).await.expect("a slot of its own");
    }

    // Two clients with one key on the process-wide limiter: one budget.
    let shared_key = "shared-key-of-pleasant-api";
    call(one_a_minute(
        &server,
        shared_key,
        InProcessRateLimiter::shared(),
    ))
    .await
    .expect("the first slot");
    let refused = call(one_a_minute(
        &server,
        shared_key,
        InProcessRateLimiter::shared(),
    ))
    .await
    .expect_err("the budget is spent");
    assert!(matches!(refused, Error::RateLimited { .. }), "{refused}");
    assert_eq!(server.requests().len(), 3, "the refused call sent nothing");
}

#[tokio::test]
async fn a_missing_path_input_names_the_api_input_and_how_to_get_it() {
    let server = LoopbackServer::start(CannedResponse::with_body(200, "application/json", "{}"))
        .await
        .expect("the server starts");
    let error = client_of(&server)
        .get_account()
        .await
        .expect_err("no account id");
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(
            "`accountId` (a UUID, in the path) is required: set it with `.account_id(..)`"
        ),
        "{message}"
    );
    assert!(
        message.contains("client.account_uuid(identity)"),
        "{message}"
    );
    let error = client_of(&server)
        .get_roster_contents()
        .await
        .expect_err("no roster id");
    assert!(
        error
            .to_string()
            .contains("`rosterId` (a whole number, in the path) is required"),
        "{error}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[test]
fn an_answer_that_says_there_is_none_gives_its_row_or_none() {
    let row: types::ClockInRow = serde_json::from_value(json!({"completed": true})).expect("a row");
    let current = types::GetCurrentClockInResponseData::ClockInRow(row.clone());
    assert_eq!(current.into_clock_in_row(), Some(row.clone()));
    let none = types::GetCurrentClockInResponseData::NotClockedIn("NOT_CLOCKED_IN".to_owned());
    assert_eq!(none.into_clock_in_row(), None);
    assert_eq!(
        types::ClockAccountResponseData::NoChange(true).into_clock_in_row(),
        None
    );
    assert_eq!(
        types::ClockAccountResponseData::ClockInRow(row.clone()).into_clock_in_row(),
        Some(row)
    );
}

#[tokio::test]
async fn an_array_where_an_object_is_expected_is_refused_at_its_path() {
    // serde reads a struct from an array by position: `[[], 1, 0, 25]` would
    // be a page with skip 1, take 0 and total 25.
    for (body, path) in [
        (json!({"success": true, "data": [[], 1, 0, 25]}), "data"),
        (json!([true, {"items": []}]), "."),
        (
            json!({"success": true, "data": {"items": [["8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11"]]}}),
            "data.items[0]",
        ),
    ] {
        let server = LoopbackServer::start(CannedResponse::with_body(
            200,
            "application/json",
            &body.to_string(),
        ))
        .await
        .expect("the server starts");
        let error = client_of(&server)
            .get_accounts()
            .await
            .expect_err("an array is not an object");
        let failure = error.decode_failure().expect("a decode failure");
        assert_eq!(failure.path, path, "{error}");
        assert!(
            failure.message.contains("invalid type: sequence"),
            "{error}"
        );
    }
}

/// Answers every request with `body` (200), counting the requests.
struct CountingTransport {
    body: &'static str,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl sonoran_cms::testing::Transport for CountingTransport {
    fn execute(
        &self,
        _request: reqwest::Request,
    ) -> sonoran_cms::testing::BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut response = http::Response::new(reqwest::Body::from(self.body));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Box::pin(async move { Ok(reqwest::Response::from(response)) })
    }
}

#[tokio::test(start_paused = true)]
async fn a_cached_identity_costs_one_search_until_its_time_to_live_ends() {
    const FOUND: &str = r#"{"success": true, "data": [{"accId": "0b9c0a56-3c0e-4b5e-9d8a-8b6f4c1d2e3f", "discordId": "123456789012345678", "accName": "Jan"}]}"#;
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = || requests.load(std::sync::atomic::Ordering::SeqCst);
    let client = |time_to_live: Option<Duration>| {
        let builder = Client::builder("cache-test-key").transport(CountingTransport {
            body: FOUND,
            requests: std::sync::Arc::clone(&requests),
        });
        match time_to_live {
            Some(time_to_live) => builder.cache_account_uuids(time_to_live),
            None => builder,
        }
        .build()
        .expect("a client")
    };
    let discord = || AccountIdentity::Discord("123456789012345678".into());
    let expected = Some(account("0b9c0a56-3c0e-4b5e-9d8a-8b6f4c1d2e3f"));

    let cached = client(Some(Duration::from_secs(300)));
    assert_eq!(
        cached.account_uuid(discord()).await.expect("found"),
        expected
    );
    // A clone and a call view share the cache; a name matches in any case.
    let view = cached.clone().with_options(sonoran_cms::CallOptions::new());
    assert_eq!(view.account_uuid(discord()).await.expect("kept"), expected);
    assert_eq!(count(), 1, "one search for two lookups");
    assert_eq!(
        cached
            .account_uuid(AccountIdentity::Username("JAN".into()))
            .await
            .expect("found"),
        expected
    );
    assert_eq!(
        cached
            .account_uuid(AccountIdentity::Username("jan".into()))
            .await
            .expect("kept"),
        expected
    );
    assert_eq!(count(), 2, "a name is kept without regard to case");
    tokio::time::advance(Duration::from_secs(300)).await;
    assert_eq!(
        cached.account_uuid(discord()).await.expect("found"),
        expected
    );
    assert_eq!(count(), 3, "asked again once the time to live ended");

    // Without a cache, every lookup searches; an identity nobody has is not kept.
    let uncached = client(None);
    uncached.account_uuid(discord()).await.expect("found");
    uncached.account_uuid(discord()).await.expect("found");
    assert_eq!(count(), 5);
    let nobody = cached
        .account_uuid(AccountIdentity::Discord("1".into()))
        .await
        .expect("searched");
    assert_eq!(nobody, None);
    cached
        .account_uuid(AccountIdentity::Discord("1".into()))
        .await
        .expect("searched");
    assert_eq!(count(), 7, "nothing found is not kept");

    let zero = Client::builder("cache-test-key")
        .cache_account_uuids(Duration::ZERO)
        .build()
        .expect_err("a zero time to live keeps nothing");
    assert!(zero.to_string().contains("time to live"), "{zero}");
}
