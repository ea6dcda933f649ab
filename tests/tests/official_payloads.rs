//! Every call an official client sends can be written: each payload below is
//! one an official client (Sonoran.js, Sonoran.py, Sonoran.Net, the Lua and
//! FiveM resources) sends, with where it comes from, and the client's request
//! types read it (`check_request_body`) and send the docs' form of it
//! (`request_body_as_sent`). The evidence overlays cite the same sources.

use serde_json::{Value, json};
use sonoran_cms::Operation;
use sonoran_cms::testing::{check_request_body, request_body_as_sent};

/// What the client sends for `payload` as `operation`'s body.
fn as_sent(operation: Operation, payload: &str) -> Value {
    assert!(
        matches!(
            check_request_body(operation, payload.as_bytes()),
            Some(Ok(()))
        ),
        "{operation}: {:?}",
        check_request_body(operation, payload.as_bytes())
    );
    request_body_as_sent(operation, payload.as_bytes())
        .expect("a body")
        .expect("it reads")
}

#[test]
fn ids_sent_as_json_numbers_by_javascript_are_read_and_sent_as_text() {
    // Sonoran.js src/constants.ts: CMSERLCExecuteCommandPayload's discordId is
    // `string | number`.
    let sent = as_sent(
        Operation::ExecuteErlcCommand,
        r#"{"robloxJoinCode": "ABC123", "discordId": 123456789012345678, "type": "h", "args": "hi"}"#,
    );
    assert_eq!(sent["discordId"], json!("123456789012345678"));
    // erlcAddNewRecord's executerDiscordId, playerDiscordId, playerRobloxId.
    let sent = as_sent(
        Operation::AddErlcRecord,
        r#"{"robloxJoinCode": "ABC123", "executerDiscordId": 1, "playerRobloxId": 998877,
            "playerDiscordId": "42", "type": "warning", "reason": "spam"}"#,
    );
    assert_eq!(
        (
            &sent["executerDiscordId"],
            &sent["playerRobloxId"],
            &sent["playerDiscordId"]
        ),
        (&json!("1"), &json!("998877"), &json!("42"))
    );
}

#[test]
fn a_unique_id_sent_as_text_is_read_and_sent_as_an_integer() {
    // Sonoran.js src/constants.ts: CMSClockInOutParams' uniqueId is `string`.
    let sent = as_sent(
        Operation::ClockAccount,
        r#"{"uniqueId": "1234", "forceClockIn": true}"#,
    );
    assert_eq!(sent["uniqueId"], json!(1234));
    // Text that is no number is still refused, at its path.
    let refused = check_request_body(Operation::ClockAccount, br#"{"uniqueId": "12a"}"#)
        .expect("a body")
        .expect_err("not digits");
    assert_eq!(refused.path, "uniqueId");
}

#[test]
fn the_lua_resources_empty_table_and_unset_framework_are_written() {
    // FiveM's and Roblox's JSON encoders write an empty Lua table as `[]`:
    // the Lua client's default body (forceSync, undoRankChange) and the FiveM
    // resource's setServerType with `Config.framework = 'none'`.
    for operation in [
        Operation::ForceSync,
        Operation::UndoRankChange,
        Operation::SetServerType,
    ] {
        assert_eq!(as_sent(operation, "[]"), json!({}), "{operation}");
        assert_eq!(as_sent(operation, " [ ] "), json!({}), "{operation}");
    }
    // `type: null` where a framework is unset reads as no framework.
    assert_eq!(
        as_sent(Operation::SetServerType, r#"{"type": null}"#),
        json!({})
    );
    // A list that is not empty is not a body.
    assert!(matches!(
        check_request_body(Operation::SetServerType, br#"[{"type": "esx"}]"#),
        Some(Err(_))
    ));
    // The FiveM resource's addServers: `ip` always null, `type` null or `"none"`.
    let sent = as_sent(
        Operation::AddServers,
        r#"{"servers": [{"id": 1, "name": "Main", "description": "d", "ip": null, "port": 30120, "type": "none"}]}"#,
    );
    assert_eq!(sent["servers"][0]["type"], json!("none"));
}

#[tokio::test]
async fn the_current_session_is_asked_without_a_server_as_sonoran_net_does() {
    // Sonoran.Net getCurrentSessionV2(int? serverId = null) sends no query.
    let server = sonoran_cms_tests::loopback::LoopbackServer::start(
        sonoran_cms_tests::loopback::CannedResponse::with_body(
            200,
            "application/json",
            r#"{"success": true, "data": null}"#,
        ),
    )
    .await
    .expect("a server");
    let client = sonoran_cms_tests::test_client_builder(&server.base_url())
        .build()
        .expect("a client");
    let answer = client
        .get_current_session()
        .await
        .expect("sent without a server id");
    assert_eq!(answer.into_inner().data, None);
    let requests = server.requests();
    assert_eq!(requests[0].uri.path(), "/v2/community/sessions/current");
    assert_eq!(requests[0].uri.query(), None);
}

#[test]
fn every_id_the_official_clients_send_in_either_json_type_reads_both() {
    // An overlay that restates a schema after the evidence marked its ids
    // would drop the mark silently: every such member carries it.
    let spec = sonoran_cms_tests::enriched_spec();
    let mut marked = 0;
    for (schema, body) in spec["components"]["schemas"].as_object().expect("schemas") {
        for (member, property) in body["properties"].as_object().into_iter().flatten() {
            let expected = match member.as_str() {
                "uniqueId" => "digits",
                "discord" | "discordId" | "executerDiscordId" | "playerDiscordId"
                | "playerRobloxId" | "robloxId" => "number",
                _ => continue,
            };
            assert_eq!(
                property["x-sonoran-also-reads"], expected,
                "{schema}.{member} reads only the docs' JSON type"
            );
            marked += 1;
        }
    }
    assert_eq!(marked, 28);
}
