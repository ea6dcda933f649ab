//! End to end for the sessions group: start (201), stop (200), current (200, with
//! the `serverId` query parameter) and cancel (204) against a loopback server that
//! answers with the docs' session row, decoded into typed fields.

use serde_json::{Value, json};
use sonoran_cms::types::{StartSessionRequest, StartSessionResponse, StopSessionRequest};
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer};
use sonoran_cms_tests::{TEST_ACCOUNT_ID, cancel, serve};

const SESSION_ID: &str = "55555555-5555-5555-5555-555555555555";
const COMMUNITY_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The session row as the API sends it, with the envelope.
fn session_envelope(path: &str, ended: bool) -> String {
    let (ended_by, ended_at): (Value, Value) = if ended {
        (json!(TEST_ACCOUNT_ID), json!("2026-04-15T01:30:00.000Z"))
    } else {
        (Value::Null, Value::Null)
    };
    json!({
        "success": true,
        "data": {
            "id": SESSION_ID,
            "sysStatus": true,
            "community": COMMUNITY_ID,
            "serverId": 2,
            "startedBy": TEST_ACCOUNT_ID,
            "startedAt": "2026-04-15T00:00:00.000Z",
            "endedBy": ended_by,
            "endedAt": ended_at,
            "cancelledBy": null,
            "stats": {"players": 12},
            "metadata": {}
        },
        "meta": {"timestamp": "2026-04-15T01:30:00.000Z", "path": path}
    })
    .to_string()
}

fn timestamp(text: &str) -> sonoran_cms::chrono::DateTime<sonoran_cms::chrono::Utc> {
    text.parse().expect("an RFC 3339 timestamp")
}

fn parse_uuid(text: &str) -> uuid::Uuid {
    text.parse().expect("a UUID")
}

/// A loopback server answering every request with `status` and the session row
/// (ended or not), and a client for it.
async fn serve_session_row(
    status: u16,
    path: &str,
    ended: bool,
) -> (LoopbackServer, sonoran_cms::Client) {
    serve(CannedResponse::with_body(
        status,
        "application/json",
        &session_envelope(path, ended),
    ))
    .await
}

/// Starts a session on server 2 for [`TEST_ACCOUNT_ID`].
async fn start_session(
    client: &sonoran_cms::Client,
) -> sonoran_cms::Result<sonoran_cms::ResponseValue<StartSessionResponse>> {
    client
        .start_session()
        .body(
            StartSessionRequest::builder()
                .server_id(2_u64)
                .acc_id(TEST_ACCOUNT_ID),
        )
        .await
}

#[tokio::test]
async fn start_session_posts_the_body_and_decodes_the_row() {
    let (server, client) = serve_session_row(201, "/v2/community/sessions", false).await;
    let response = start_session(&client).await.expect("201 is success");
    assert_eq!(response.status().as_u16(), 201);

    let session = response.into_inner().data;
    assert_eq!(session.id, parse_uuid(SESSION_ID));
    assert_eq!(session.server_id, Some(2));
    assert_eq!(session.started_by, Some(parse_uuid(TEST_ACCOUNT_ID)));
    assert_eq!(session.started_at, Some(timestamp("2026-04-15T00:00:00Z")));
    assert_eq!(session.ended_by, None);
    assert_eq!(session.ended_at, None);
    assert_eq!(
        session
            .stats
            .as_ref()
            .and_then(|stats| stats.get("players")),
        Some(&json!(12))
    );

    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri.path(), "/v2/community/sessions");
    let body: Value = serde_json::from_slice(&request.body).expect("JSON");
    assert_eq!(body, json!({"serverId": 2, "accId": TEST_ACCOUNT_ID}));
}

#[tokio::test]
async fn stop_session_patches_and_decodes_the_ended_row() {
    let (server, client) = serve_session_row(200, "/v2/community/sessions", true).await;
    let response = client
        .stop_session()
        .body(
            StopSessionRequest::builder()
                .server_id(2_u64)
                .acc_id(TEST_ACCOUNT_ID),
        )
        .send()
        .await
        .expect("200 is success");
    let envelope = response.into_inner();
    assert!(envelope.success);
    assert_eq!(envelope.data.ended_by, Some(parse_uuid(TEST_ACCOUNT_ID)));
    assert_eq!(
        envelope.data.ended_at,
        Some(timestamp("2026-04-15T01:30:00Z"))
    );
    let Some(sonoran_cms::types::ResponseMeta::MetaFields(meta)) = envelope.meta else {
        panic!("the documented meta: {:?}", envelope.meta);
    };
    assert_eq!(meta.timestamp, Some(timestamp("2026-04-15T01:30:00Z")));
    assert_eq!(server.requests()[0].method, "PATCH");
}

#[tokio::test]
async fn current_session_sends_the_server_id_as_a_query_parameter() {
    let (server, client) = serve_session_row(200, "/v2/community/sessions/current", false).await;
    let response = client
        .get_current_session()
        .server_id(2_u64)
        .send()
        .await
        .expect("200 is success");
    assert_eq!(
        response
            .into_inner()
            .data
            .and_then(|session| session.community),
        Some(parse_uuid(COMMUNITY_ID))
    );

    let request = &server.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.uri.path(), "/v2/community/sessions/current");
    assert_eq!(request.uri.query(), Some("serverId=2"));
    assert!(
        request.headers.get("content-type").is_none(),
        "a GET carries no body"
    );
}

#[tokio::test]
async fn a_whitelist_without_its_server_id_is_refused_before_sending() {
    // The current session may be asked without a server (Sonoran.Net does,
    // tests/tests/official_payloads.rs); a server's whitelist needs its id.
    let (server, client) = serve(CannedResponse::empty(200)).await;
    let outcome = client.get_full_whitelist().send().await;
    assert!(
        matches!(&outcome, Err(sonoran_cms::Error::InvalidRequest { message }) if message.contains("serverId")),
        "{outcome:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn cancel_session_answers_204() {
    let (server, client) = serve(CannedResponse::empty(204)).await;
    assert_eq!(cancel(&client).await.expect("204 is success"), 204);
    assert_eq!(server.requests()[0].method, "DELETE");
}

#[tokio::test]
async fn a_session_row_that_breaks_its_type_is_an_invalid_response() {
    let broken =
        session_envelope("/v2/community/sessions", false).replace(SESSION_ID, "not-a-uuid");
    let (_server, client) =
        serve(CannedResponse::with_body(201, "application/json", &broken)).await;
    let outcome = start_session(&client).await;
    assert!(
        matches!(&outcome, Err(sonoran_cms::Error::InvalidResponse { .. })),
        "{outcome:?}"
    );
}
