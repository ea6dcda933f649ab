//! The typed mocks with the real client, one operation or more of each API group
//! (accounts, disciplinary, ER:LC, events, forms, general, rosters, servers,
//! sessions), and the client's runtime on: its headers, its rate limiter and its
//! retries run against the mock server as they would against the API.

// `then.success(200, &answer(..))`: the borrow lets the answer's type be
// inferred from the mock (a reference has one `IntoMockValue` impl that fits);
// clippy's suggested `answer(..)` leaves it ambiguous with the builder's.
#![allow(clippy::needless_borrows_for_generic_args)]

use httpmock::MockServer;
use serde_json::{Value, json};
use sonoran_cms::types;
use sonoran_cms_httpmock::MockServerExt;

const API_KEY: &str = "mock-test-key";
const ACCOUNT: &str = "8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11";
const EVENT: &str = "3c1f2e4d-5b6a-4789-8abc-def012345678";

fn account() -> uuid::Uuid {
    uuid::Uuid::parse_str(ACCOUNT).expect("a UUID")
}

/// A success answer of the type the mock's `then.success` takes, with `data`.
fn answer<T: serde::de::DeserializeOwned>(data: Value) -> T {
    serde_json::from_value(json!({"success": true, "data": data}))
        .expect("the answer fits its type")
}

/// The real client, pointed at `server`, with the documented rate limits.
fn client(server: &MockServer) -> sonoran_cms::Client {
    sonoran_cms::Client::builder(API_KEY)
        .base_url(server.base_url())
        .build()
        .expect("a client")
}

#[tokio::test]
async fn accounts_an_account_is_read_by_its_id() {
    let server = MockServer::start_async().await;
    let mock = server.get_account(|when, then| {
        // The typed matchers, and httpmock's own for the client's headers.
        when.account_id(account())
            .into_inner()
            .header("authorization", format!("Bearer {API_KEY}"))
            .header("accept", "application/json");
        then.success(
            200,
            answer::<types::GetAccountResponse>(json!({"accId": ACCOUNT, "accName": "Jordan"})),
        );
    });
    let account = client(&server)
        .get_account()
        .account_id(account())
        .send()
        .await
        .expect("the account");
    assert_eq!(
        account.into_inner().data.acc_name.as_deref(),
        Some("Jordan")
    );
    mock.assert_async().await;
}

#[tokio::test]
async fn disciplinary_a_record_is_added_with_the_body_as_built() {
    let server = MockServer::start_async().await;
    let body: types::AddMemberRecordRequest = types::AddMemberRecordRequest::builder()
        .points(5_i64)
        .reason("Training violation")
        .try_into()
        .expect("a complete body");
    let mock = server.add_member_record(|when, then| {
        when.account_id(account()).body(&body);
        then.success(
            201,
            answer::<types::AddMemberRecordResponse>(json!({"id": "rec-1", "points": 5})),
        );
    });
    client(&server)
        .add_member_record()
        .account_id(account())
        .body(body.clone())
        .send()
        .await
        .expect("a record added");
    mock.assert_async().await;
}

#[tokio::test]
async fn erlc_online_players_are_read_by_join_code() {
    let server = MockServer::start_async().await;
    let mock = server.get_online_players(|when, then| {
        when.roblox_join_code("ABC123");
        then.success(
            200,
            answer::<types::GetOnlinePlayersResponse>(
                json!([{"Player": "Jordan:1", "Team": "Police"}]),
            ),
        );
    });
    let players = client(&server)
        .get_online_players()
        .roblox_join_code("ABC123")
        .send()
        .await
        .expect("the players");
    assert_eq!(players.into_inner().data.len(), 1);
    mock.assert_async().await;
}

#[tokio::test]
async fn events_an_rsvp_is_made_for_an_account() {
    let server = MockServer::start_async().await;
    let event = uuid::Uuid::parse_str(EVENT).expect("a UUID");
    let mock = server.create_rsvp(|when, then| {
        when.event_id(&event);
        then.success(200, &answer(json!("RSVP_SUCCESS")));
    });
    client(&server)
        .create_rsvp()
        .event_id(event)
        .body(
            types::CreateRsvpRequest::builder().identity(types::AccountIdentity::AccId(account())),
        )
        .send()
        .await
        .expect("an RSVP");
    mock.assert_async().await;
}

#[tokio::test]
async fn forms_a_templates_lock_status_is_read() {
    let server = MockServer::start_async().await;
    let mock = server.get_form_lock_status(|when, then| {
        when.template_id(std::num::NonZeroU64::new(4).expect("not zero"));
        then.success(200, &answer(json!(true)));
    });
    client(&server)
        .get_form_lock_status()
        .template_id(4_u64)
        .send()
        .await
        .expect("the lock status");
    mock.assert_async().await;
}

#[tokio::test]
async fn general_the_subscription_version_is_read() {
    let server = MockServer::start_async().await;
    let mock = server.get_sub_version(|_when, then| {
        then.success(200, &answer(json!({"subVersion": 3, "tier": "plus"})));
    });
    client(&server)
        .get_sub_version()
        .send()
        .await
        .expect("the version");
    mock.assert_async().await;
}

#[tokio::test]
async fn rosters_a_page_of_a_roster_is_read() {
    let server = MockServer::start_async().await;
    let mock = server.get_roster_contents(|when, then| {
        when.roster_id(std::num::NonZeroU64::new(3).expect("not zero"));
        then.success(200, &answer(json!({"rows": [], "total": 0})));
    });
    let page = client(&server)
        .get_roster_contents()
        .roster_id(3_u64)
        .send()
        .await
        .expect("a page");
    assert!(page.into_inner().data.rows.is_empty());
    mock.assert_async().await;
}

#[tokio::test]
async fn servers_a_whitelist_is_checked_and_an_api_error_is_the_clients_error() {
    let server = MockServer::start_async().await;
    let refused = server.verify_whitelist(|when, then| {
        when.server_id(std::num::NonZeroU64::new(1).expect("not zero"));
        then.client_error(
            404,
            &serde_json::from_value(json!({"success": false, "error": "NOT_WHITELISTED"}))
                .expect("a problem"),
        );
    });
    let error = client(&server)
        .verify_whitelist()
        .server_id(1_u64)
        .body(
            types::VerifyWhitelistRequest::builder()
                .identity(types::AccountIdentity::Discord("123456789012345678".into())),
        )
        .send()
        .await
        .expect_err("not whitelisted");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
    assert!(error.to_string().contains("NOT_WHITELISTED"), "{error}");
    refused.assert_async().await;
}

#[tokio::test]
async fn sessions_a_503_with_retry_after_is_retried_by_the_client() {
    let server = MockServer::start_async().await;
    // Every attempt answers 503 asking to retry at once: the client's policy
    // retries twice, so the mock sees three requests, and the call fails with
    // the last answer.
    let busy = server.get_current_session(|when, then| {
        when.server_id(1);
        then.server_error(
            503,
            &serde_json::from_value(json!({"success": false, "error": "BUSY"})).expect("a problem"),
        )
        .into_inner()
        .header("retry-after", "0");
    });
    let error = client(&server)
        .get_current_session()
        .server_id(1_u64)
        .send()
        .await
        .expect_err("still busy");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(503));
    assert_eq!(busy.calls_async().await, 3);
    assert_eq!(error.earlier_attempts().len(), 2);
}

#[tokio::test]
async fn sessions_with_the_limiter_off_a_burst_goes_straight_through() {
    let server = MockServer::start_async().await;
    let current = server.get_current_session(|_when, then| {
        then.success(200, &answer(Value::Null));
    });
    let client = sonoran_cms::Client::builder(API_KEY)
        .base_url(server.base_url())
        .rate_limits(sonoran_cms::rate_limit::RateLimits::disabled())
        .build()
        .expect("a client");
    for _ in 0..40 {
        client
            .get_current_session()
            .server_id(1_u64)
            .send()
            .await
            .expect("no session");
    }
    assert_eq!(current.calls_async().await, 40);
}
