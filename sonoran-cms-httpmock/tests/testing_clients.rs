//! What a user's tests get from the mocks and `ClientBuilder::for_tests`: ids
//! matched as the client sends them, and calls that never wait for a rate-limit
//! slot or a backoff, however many a test makes with one key.

use httpmock::MockServer;
use serde_json::json;
use sonoran_cms::types;
use sonoran_cms_httpmock::MockServerExt;

fn no_session() -> types::GetCurrentSessionResponse {
    serde_json::from_value(json!({"success": true, "data": null})).expect("fits")
}

/// The client of a user's test, as the crate's docs show it.
fn test_client(server: &MockServer, key: &str) -> sonoran_cms::Client {
    sonoran_cms::Client::builder(key)
        .base_url(server.base_url())
        .for_tests()
        .build()
        .expect("a client")
}

#[tokio::test]
async fn a_test_client_makes_more_calls_than_the_limit_without_waiting() {
    // getCurrentSession allows 27 calls a minute per key. With a 1 s deadline,
    // a call that had to wait for a slot would fail (the next one opens in a
    // minute); clients built for tests never wait, each with its own limiter,
    // however many calls they make with one key.
    let server = MockServer::start_async().await;
    let answer = no_session();
    let mock = server.get_current_session(|when, then| {
        when.server_id(1);
        then.success(200, &answer);
    });
    let deadline = std::time::Duration::from_secs(1);
    for _ in 0..2 {
        let client = sonoran_cms::Client::builder("same-key")
            .base_url(server.base_url())
            .for_tests()
            .deadline(deadline)
            .build()
            .expect("a client");
        for _ in 0..40 {
            client
                .get_current_session()
                .server_id(1)
                .await
                .expect("no wait for a slot");
        }
    }
    mock.assert_calls_async(80).await;

    // The same calls from a client with the documented limits run out of slots.
    let limited = sonoran_cms::Client::builder("another-key")
        .base_url(server.base_url())
        .deadline(deadline)
        .build()
        .expect("a client");
    let mut refused = None;
    for _ in 0..40 {
        if let Err(error) = limited.get_current_session().server_id(1).await {
            refused = Some(error);
            break;
        }
    }
    let refused = refused.expect("the documented limit refuses a call within the deadline");
    assert!(
        matches!(refused, sonoran_cms::Error::RateLimited { .. }),
        "{refused}"
    );
}

#[tokio::test]
async fn a_test_client_sees_a_mocked_failure_at_once_without_retrying_it() {
    let server = MockServer::start_async().await;
    let problem: types::Problem =
        serde_json::from_value(json!({"detail": "down for maintenance"})).expect("fits");
    let mock = server.get_current_session(|when, then| {
        when.server_id(2);
        then.server_error(503, &problem);
    });
    let error = test_client(&server, "k")
        .get_current_session()
        .server_id(2)
        .await
        .expect_err("the mocked 503");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(503));
    assert!(
        error.to_string().contains("down for maintenance"),
        "{error}"
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn matchers_take_ids_as_the_client_does() {
    let server = MockServer::start_async().await;
    let answer: types::GetFullWhitelistResponse =
        serde_json::from_value(json!({"success": true, "data": []})).expect("fits");
    // Any integer type, and the client's own NonZeroU64.
    let by_literal = server.get_full_whitelist(|when, then| {
        when.server_id(3);
        then.success(200, &answer);
    });
    let id = std::num::NonZeroU64::new(4).expect("not zero");
    let by_nonzero = server.get_full_whitelist(|when, then| {
        when.server_id(id);
        then.success(200, &answer);
    });
    // An optional query id (getCurrentSession's serverId) takes an integer,
    // or `None` for a request without it.
    let session = no_session();
    let without = server.get_current_session(|when, then| {
        when.server_id(None);
        then.success(200, &session);
    });
    let client = test_client(&server, "k");
    client
        .get_full_whitelist()
        .server_id(3)
        .await
        .expect("matched");
    client
        .get_full_whitelist()
        .server_id(id)
        .await
        .expect("matched");
    client.get_current_session().await.expect("matched");
    by_literal.assert_async().await;
    by_nonzero.assert_async().await;
    without.assert_async().await;
}

#[test]
fn a_path_id_of_zero_names_the_mistake() {
    let server = MockServer::start();
    for id in [0_i64, -1] {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            server.activity_tracker_server_start(|when, _then| {
                when.server_id(id);
            });
        }));
        let payload = outcome.expect_err("an id the client never sends is a test's mistake");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| {
                payload
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
            })
            .unwrap_or_default();
        assert!(message.contains("must be at least 1"), "{message}");
    }
}

#[tokio::test]
async fn matchers_and_answers_take_what_the_clients_setters_take() {
    // A UUID as text, a body and an answer as builders: no `.try_into()`.
    const ACCOUNT: &str = "8d2f0c4e-1111-4222-8333-444455556666";
    let server = MockServer::start_async().await;
    let mock = server.force_sync(|when, then| {
        when.account_id(ACCOUNT)
            .body(types::ForceSyncRequest::builder().discord_id("123456789012345678".to_owned()));
        then.success(
            200,
            types::ForceSyncResponse::builder()
                .success(true)
                .data(types::ForceSyncResponseData::Message("synced".to_owned())),
        );
    });
    let client = test_client(&server, "mock-value-key");
    let account: uuid::Uuid = ACCOUNT.parse().expect("a UUID");
    let answer = client
        .force_sync()
        .account_id(account)
        .body(types::ForceSyncRequest::builder().discord_id("123456789012345678".to_owned()))
        .await
        .expect("the mock answers");
    assert_eq!(
        answer.into_inner().data,
        types::ForceSyncResponseData::Message("synced".to_owned())
    );
    mock.assert_async().await;

    // A reference to a value serves as before.
    let problem: types::Problem = types::Problem::builder()
        .status(404)
        .try_into()
        .expect("a problem");
    let (account_ref, problem_ref) = (&account, &problem);
    let uuid_mock = server.get_account_ranks(|when, then| {
        when.account_id(account_ref);
        then.client_error(404, problem_ref);
    });
    let _ = client.get_account_ranks().account_id(account).await;
    uuid_mock.assert_async().await;
}
