//! The calls and answers the evidence is about, through the real client on a
//! loopback server: the official clients' everyday calls written with the typed
//! builders (an identity by Discord id, a rank taken away, a toggle with `{}`),
//! calls that lack what the API needs refused before anything is sent, any 2XX
//! taken as success, the answers one example never showed, and decode errors that
//! say where.

use serde_json::{Value, json};
use sonoran_cms::types::{self, AccountIdentity};
use sonoran_cms::uuid::Uuid;
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer};
use sonoran_cms_tests::serve;

const DISCORD_ID: &str = "123456789012345678";
const RANK: &str = "3b1f9c2e-55aa-4c1e-9d6f-0a1b2c3d4e5f";
const ACCOUNT: &str = "8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11";

fn json_answer(status: u16, body: Value) -> CannedResponse {
    CannedResponse::with_body(status, "application/json", &body.to_string())
}

fn ok_answer(data: Value) -> CannedResponse {
    json_answer(
        200,
        json!({"success": true, "data": data, "meta": {"timestamp": "2026-04-15T00:00:00Z", "path": "/v2"}}),
    )
}

fn sent_body(server: &LoopbackServer) -> Value {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "exactly one request went out");
    serde_json::from_slice(&requests[0].body).expect("a JSON body")
}

fn account() -> Uuid {
    Uuid::parse_str(ACCOUNT).expect("a UUID")
}

#[tokio::test]
async fn the_whitelist_is_checked_by_discord_id_as_the_fivem_resource_does() {
    let (server, client) = serve(ok_answer(json!("Jordan"))).await;
    let response = client
        .verify_whitelist()
        .server_id(1_u64)
        .body(
            types::VerifyWhitelistRequest::builder()
                .identity(AccountIdentity::Discord(DISCORD_ID.to_owned())),
        )
        .send()
        .await
        .expect("a whitelisted account");
    assert_eq!(response.into_inner().data, "Jordan");
    assert_eq!(
        server.requests()[0].uri.path(),
        "/v2/community/servers/1/whitelist/check"
    );
    assert_eq!(sent_body(&server), json!({"discord": DISCORD_ID}));
}

#[tokio::test]
async fn a_rank_is_taken_away_and_an_empty_set_is_sent_as_one() {
    let account_answer = ok_answer(json!({"accId": ACCOUNT, "ranks": []}));
    let (server, client) = serve(account_answer.clone()).await;
    let rank = Uuid::parse_str(RANK).expect("a UUID");
    client
        .set_account_ranks()
        .account_id(account())
        .body(types::SetAccountRanksRequest::builder().remove(vec![rank]))
        .send()
        .await
        .expect("the rank is removed");
    assert_eq!(sent_body(&server), json!({"remove": [RANK]}));

    let (server, client) = serve(account_answer).await;
    client
        .set_account_ranks()
        .account_id(account())
        .body(types::SetAccountRanksRequest::builder().set(Vec::<Uuid>::new()))
        .send()
        .await
        .expect("every rank is removed");
    assert_eq!(
        sent_body(&server),
        json!({"set": []}),
        "an empty set takes every rank away"
    );
}

#[tokio::test]
async fn a_clock_toggle_sends_an_empty_body_and_a_no_op_answer_is_true() {
    let (server, client) = serve(json_answer(202, json!({"success": true, "data": true}))).await;
    let response = client
        .clock_account()
        .account_id(account())
        .body(types::ClockAccountRequest::builder())
        .send()
        .await
        .expect("202 is a success too");
    assert_eq!(response.status().as_u16(), 202);
    assert!(matches!(
        response.into_inner().data,
        types::ClockAccountResponseData::NoChange(true)
    ));
    assert_eq!(sent_body(&server), json!({}));
}

#[tokio::test]
async fn an_account_is_searched_by_api_id_through_the_identity_type() {
    let (server, client) = serve(ok_answer(
        json!({"items": [{"accId": ACCOUNT, "ranks": [RANK]}], "total": 1}),
    ))
    .await;
    let response = client
        .search_accounts()
        .identity(AccountIdentity::ApiId("license:0123".to_owned()))
        .send()
        .await
        .expect("one account");
    let types::SearchAccountsResponseData::AccountSearchResult(found) = response.into_inner().data
    else {
        panic!("the documented result object");
    };
    assert_eq!(
        found.items[0].ranks,
        Some(vec![Uuid::parse_str(RANK).expect("a UUID")])
    );
    assert_eq!(
        server.requests()[0].uri.query(),
        Some("apiId=license%3A0123")
    );
}

/// What a call that names no account (or two where one is allowed) must do: fail
/// before sending, saying which fields would do.
async fn assert_refused_before_sending(
    server: &LoopbackServer,
    outcome: Result<impl std::fmt::Debug, sonoran_cms::Error>,
    expected: &[&str],
) {
    let error = outcome.expect_err("the call is refused");
    assert!(
        matches!(error, sonoran_cms::Error::InvalidRequest { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("nothing was sent"), "{message}");
    for text in expected {
        assert!(message.contains(text), "`{text}` not in: {message}");
    }
    assert!(server.requests().is_empty(), "nothing reached the server");
}

#[tokio::test]
async fn a_call_without_a_required_identity_sends_nothing_and_says_which_fields_would_do() {
    let identity_fields = [
        "`accId`",
        "`apiId`",
        "`username`",
        "`discord`",
        "`uniqueId`",
    ];
    let (server, client) = serve(ok_answer(json!(null))).await;

    let outcome = client
        .verify_whitelist()
        .server_id(1_u64)
        .body(types::VerifyWhitelistRequest::builder())
        .send()
        .await;
    assert_refused_before_sending(
        &server,
        outcome,
        &[
            &["`verify_whitelist` needs the account identity"],
            &identity_fields[..],
        ]
        .concat(),
    )
    .await;

    let outcome = client
        .activity_tracker()
        .server_id(1_u64)
        .body(types::ActivityTrackerRequest::builder().force_stop(true))
        .send()
        .await;
    assert_refused_before_sending(&server, outcome, &identity_fields).await;

    let outcome = client
        .create_rsvp()
        .event_id(account())
        .body(types::CreateRsvpRequest::builder())
        .send()
        .await;
    assert_refused_before_sending(&server, outcome, &identity_fields).await;

    let outcome = client
        .change_form_stage()
        .form_id(1_u64)
        .body(types::ChangeFormStageRequest::builder().new_stage_id(account()))
        .send()
        .await;
    assert_refused_before_sending(&server, outcome, &identity_fields).await;

    let outcome = client.search_accounts().send().await;
    assert_refused_before_sending(
        &server,
        outcome,
        &["query parameter", "`accountId`", "`discordId`"],
    )
    .await;

    let outcome = client
        .search_accounts()
        .api_id("license:1")
        .username("jordan")
        .send()
        .await;
    assert_refused_before_sending(
        &server,
        outcome,
        &[
            "takes exactly one account identity",
            "`apiId`",
            "`username`",
        ],
    )
    .await;

    let outcome = client.lookup_community().send().await;
    assert_refused_before_sending(&server, outcome, &["community identity", "`id`", "`uuid`"])
        .await;
}

#[tokio::test]
async fn an_identity_in_the_path_makes_the_body_identity_optional() {
    let (server, client) = serve(ok_answer(json!("synced"))).await;
    client
        .force_sync()
        .account_id(account())
        .body(types::ForceSyncRequest::builder())
        .send()
        .await
        .expect("an empty body is what the official SDKs send");
    assert_eq!(sent_body(&server), json!({}));
}

#[tokio::test]
async fn any_2xx_is_success_for_every_kind_of_operation() {
    // A body operation answered with a status the docs do not name.
    for status in [200, 201, 202, 203] {
        let (_, client) = serve(json_answer(
            status,
            json!({"success": true, "data": {"id": ACCOUNT}}),
        ))
        .await;
        let response = client
            .start_session()
            .body(
                types::StartSessionRequest::builder()
                    .server_id(1_u64)
                    .acc_id(account()),
            )
            .send()
            .await
            .unwrap_or_else(|error| panic!("{status}: {error}"));
        assert_eq!(response.status().as_u16(), status);
    }
    // A bodiless operation answered with a body.
    for status in [200, 202, 204] {
        let answer = if status == 204 {
            CannedResponse::empty(204)
        } else {
            json_answer(status, json!({"success": true}))
        };
        let (_, client) = serve(answer).await;
        let outcome = sonoran_cms_tests::cancel(&client).await;
        assert_eq!(outcome.expect("success"), status);
    }
}

#[tokio::test]
async fn answers_one_example_never_showed_decode() {
    let (_, client) = serve(ok_answer(json!("Not Clocked In"))).await;
    let response = client
        .get_current_clock_in()
        .account_id(account())
        .send()
        .await
        .expect("text data");
    assert!(
        matches!(response.into_inner().data, types::GetCurrentClockInResponseData::NotClockedIn(text) if text == "Not Clocked In")
    );

    let (_, client) = serve(json_answer(200, json!({"success": true, "data": null}))).await;
    let response = client
        .get_current_session()
        .server_id(1_u64)
        .send()
        .await
        .expect("no session");
    assert!(response.into_inner().data.is_none());

    // An account without Discord, with an unknown field and a field the docs show.
    let (_, client) = serve(ok_answer(json!({"items": [{"accId": ACCOUNT, "discordId": null, "newField": {"x": 1}}], "total": 1, "skip": 0, "take": 25}))).await;
    let page = client
        .get_accounts()
        .send()
        .await
        .expect("a page")
        .into_inner()
        .data;
    assert_eq!(page.items[0].discord_id, None);
    assert_eq!(page.total, Some(1));
}

#[tokio::test]
async fn the_routes_the_docs_leave_out_can_be_called() {
    let (server, client) = serve(ok_answer(json!({"accId": ACCOUNT}))).await;
    let response = client
        .resolve_discord_account()
        .discord_id(DISCORD_ID)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.into_inner().data, json!({"accId": ACCOUNT}));
    assert_eq!(
        server.requests()[0].uri.path(),
        format!("/v2/community/accounts/discord/{DISCORD_ID}")
    );

    let (server, client) = serve(ok_answer(
        json!([{"id": 42, "label": "Applications", "description": null, "somethingNew": true}]),
    ))
    .await;
    let templates = client
        .get_form_templates()
        .send()
        .await
        .expect("templates")
        .into_inner()
        .data;
    assert_eq!(templates[0].id, 42);
    assert_eq!(server.requests()[0].uri.path(), "/v2/community/forms");

    let (server, client) = serve(ok_answer(json!({"submissionId": 7}))).await;
    client
        .submit_form_template()
        .template_id(42_u64)
        .body(
            types::SubmitFormTemplateRequest::builder()
                .discord_id(DISCORD_ID.to_owned())
                .fields(vec![
                    types::SubmitFormTemplateRequestFieldsItem::builder()
                        .field_id("reason")
                        .value(json!("Appeal"))
                        .try_into()
                        .expect("a field"),
                ]),
        )
        .send()
        .await
        .expect("submitted");
    assert_eq!(
        sent_body(&server),
        json!({"discordId": DISCORD_ID, "fields": [{"fieldId": "reason", "value": "Appeal"}]})
    );
}

#[tokio::test]
async fn an_answer_that_does_not_fit_names_the_field_the_status_the_request_id_and_keeps_the_body()
{
    let body = json!({"success": true, "data": {"accId": 12}});
    let answer = json_answer(200, body.clone()).header("x-kong-request-id", "kong-7");
    let (_, client) = serve(answer).await;
    let error = client
        .get_account()
        .account_id(account())
        .send()
        .await
        .expect_err("accId is not a UUID");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(200));
    assert_eq!(error.request_id(), Some("kong-7"));
    let failure = error.decode_failure().expect("where it failed");
    assert_eq!(failure.path, "data.accId");
    assert!(
        failure.message.contains("expected UUID") || failure.message.contains("invalid type"),
        "{}",
        failure.message
    );
    assert!(
        failure.context.contains("\"accId\":12"),
        "{}",
        failure.context
    );
    assert_eq!(error.raw_body(), Some(body.to_string().as_bytes()));
    let message = error.to_string();
    assert!(
        message.contains("answered 200 OK in an undocumented form"),
        "{message}"
    );
    assert!(message.contains("at `data.accId`"), "{message}");
    assert!(message.contains("(request id kong-7)"), "{message}");
}

#[tokio::test]
async fn a_field_that_does_not_fit_inside_a_value_of_several_forms_is_named() {
    // clockAccount's `data` is a clock-in row or `true`; the row's `completed` is
    // text here, so neither form fits, and the error names the field.
    let body = json!({"success": true, "data": {"id": 1, "completed": "yes"}});
    let (_, client) = serve(json_answer(200, body.clone())).await;
    let error = client
        .clock_account()
        .account_id(account())
        .body(types::ClockAccountRequest::builder())
        .send()
        .await
        .expect_err("`completed` is not a boolean");
    let failure = error.decode_failure().expect("where it failed");
    assert_eq!(failure.path, "data.completed");
    assert!(
        failure.message.contains("the closest, `ClockInRow`"),
        "{}",
        failure.message
    );
    assert_eq!(error.raw_body(), Some(body.to_string().as_bytes()));
}

#[tokio::test]
async fn an_identity_replaces_any_identity_set_before() {
    let (server, client) = serve(ok_answer(json!("Jordan"))).await;
    client
        .verify_whitelist()
        .server_id(1_u64)
        .body(
            types::VerifyWhitelistRequest::builder()
                .acc_id(account())
                .identity(AccountIdentity::ApiId("license:0123".to_owned()))
                .identity(AccountIdentity::UniqueId(1234)),
        )
        .send()
        .await
        .expect("allowed");
    assert_eq!(
        sent_body(&server),
        json!({"uniqueId": 1234}),
        "exactly the last identity is sent"
    );
}

#[tokio::test]
async fn a_roster_rows_column_values_keyed_by_column_id_are_kept() {
    // Roster rows carry one value per roster column, keyed by the column's id,
    // beside their fixed fields: none of them may be dropped.
    let column = "c0a8e3f2-1111-4a2b-9c3d-5e6f7a8b9c0d";
    let (_, client) = serve(ok_answer(json!({
        "rows": [{"uuid": ACCOUNT, "sortPower": 1, column: "Sergeant", "6a1b": ["a", "b"]}],
        "total": 1, "skip": 0, "limit": 50,
        "columns": [{"field": column, "type": "text", "label": "Rank"}]
    })))
    .await;
    let page = client
        .get_roster_contents()
        .roster_id(3_u64)
        .send()
        .await
        .expect("a page")
        .into_inner()
        .data;
    let row = &page.rows[0];
    assert_eq!(row.sort_power, Some(1));
    assert_eq!(row.extra.get(column), Some(&json!("Sergeant")));
    assert_eq!(row.extra.get("6a1b"), Some(&json!(["a", "b"])));
    assert_eq!(
        page.columns
            .as_deref()
            .map(|columns| columns[0].field.as_deref()),
        Some(Some(column))
    );
}

#[tokio::test]
async fn a_records_id_is_text_so_a_v1_numeric_id_can_be_sent() {
    // The v1 docs show numeric record ids; the v2 docs say UUIDs. The id is text,
    // so both can be written, for each of the three record updates.
    for record_id in ["123", "11111111-1111-1111-1111-111111111111"] {
        let (server, client) = serve(ok_answer(json!([]))).await;
        client
            .update_member_record_points()
            .record_id(record_id)
            .body(types::UpdateMemberRecordPointsRequest::builder().points(10_i64))
            .send()
            .await
            .expect("points updated");
        client
            .update_member_record_reason()
            .record_id(record_id)
            .body(types::UpdateMemberRecordReasonRequest::builder().reason("Updated"))
            .send()
            .await
            .expect("reason updated");
        client
            .update_member_record_status()
            .record_id(record_id)
            .body(types::UpdateMemberRecordStatusRequest::builder().status(false))
            .send()
            .await
            .expect("status updated");
        let paths: Vec<String> = server
            .requests()
            .iter()
            .map(|request| request.uri.path().to_owned())
            .collect();
        assert_eq!(
            paths,
            ["points", "reason", "status"]
                .map(|what| format!("/v2/community/disciplinary/records/{record_id}/{what}"))
        );
    }
}

#[test]
fn an_open_value_set_reads_any_text_as_a_known_value_or_other() {
    // Generated for every open value set: the command line parses arguments with
    // it, and users can too.
    let known: types::LatestActivityType = "clockin".parse().expect("never an error");
    assert_eq!(known.to_string(), "clockin");
    assert_eq!(known, types::LatestActivityType::Clockin);
    assert!(known.is_known());
    let other: types::ErlcTeam = "Police".parse().expect("never an error");
    assert!(matches!(other, types::ErlcTeam::Other(ref text) if text == "Police"));
    assert_eq!(other.as_str(), "Police");
    // One flat enum: a known value is a variant, whatever way it was made, and
    // equal values are equal however they were written.
    assert_eq!(
        types::ServerFramework::from("qb-core"),
        types::ServerFramework::QbCore
    );
    assert_eq!(
        types::IdentifierType::Other("discord".to_owned()),
        types::IdentifierType::Discord
    );
    let written = serde_json::to_string(&types::IdentifierType::License2).expect("serializes");
    assert_eq!(written, "\"license2\"");
    let read: types::RsvpResult = serde_json::from_str("\"RSVP_SUCCESS\"").expect("reads");
    assert_eq!(read, types::RsvpResult::RsvpSuccess);
}

#[tokio::test]
async fn a_path_value_that_would_reach_another_route_sends_nothing() {
    // URL parsers read `..` as a step up and `\` as `/`: unchecked, these would
    // send `GET /v2/community/accounts/` (the account list) and the like.
    for value in ["..", ".", "", "a\\..\\..", "%2e%2e"] {
        let (server, client) = serve(ok_answer(json!({"accId": ACCOUNT}))).await;
        let outcome = client
            .resolve_discord_account()
            .discord_id(value)
            .send()
            .await;
        if value == "%2e%2e" {
            // `%` is encoded: the value stays in its segment.
            outcome.expect("sent as text");
            assert_eq!(
                server.requests()[0].uri.path(),
                "/v2/community/accounts/discord/%252e%252e"
            );
            continue;
        }
        assert_refused_before_sending(&server, outcome, &["another route"]).await;
    }
    let (server, client) = serve(ok_answer(json!(null))).await;
    let outcome = client
        .update_member_record_points()
        .record_id("..")
        .body(types::UpdateMemberRecordPointsRequest::builder().points(1))
        .send()
        .await;
    assert_refused_before_sending(
        &server,
        outcome,
        &["`/v2/community/disciplinary/records/{recordId}/points`"],
    )
    .await;
}
