//! `sonoran-cms probe` against loopback servers: one that answers exactly to
//! the spec, and one that answers like a drifted API (a required member
//! missing, a null, a value of another type, a member the type does not know,
//! another 2XX). The tests check the report, its redaction (no value the
//! server sent appears in it), the exit status, and the stop at a 401.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};

const API_KEY: &str = "probe-test-key-77c1";
/// Values the drifted server sends that a redacted report must never show.
const SECRET_NAME: &str = "Sekrit Server Name";
const SECRET_REGION: &str = "eu-west-hidden";
const SECRET_ID: &str = "9f0c4d1e-1111-4222-8333-444455556666";

/// Answers by path (the query ignored): status and body; anything else 404.
#[derive(Clone)]
struct Routes {
    answers: Arc<BTreeMap<String, (u16, Value)>>,
    seen: Arc<Mutex<Vec<String>>>,
}

async fn answer(State(routes): State<Routes>, uri: Uri) -> impl IntoResponse {
    routes
        .seen
        .lock()
        .expect("not poisoned")
        .push(uri.to_string());
    let (status, body) = routes
        .answers
        .get(uri.path())
        .cloned()
        .unwrap_or((404, json!({"status": 404, "detail": "NOT FOUND"})));
    (
        StatusCode::from_u16(status).expect("a status"),
        [("content-type", "application/json")],
        body.to_string(),
    )
}

async fn serve(answers: BTreeMap<String, (u16, Value)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let routes = Routes {
        answers: Arc::new(answers),
        seen: Arc::clone(&seen),
    };
    let app = Router::new().fallback(answer).with_state(routes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), seen)
}

const OPERATIONS: &str = "getServers,getCurrentSession,getFullWhitelist";

/// Runs the probe on `OPERATIONS` against `base_url`; returns the output and
/// the JSON report.
async fn probe(base_url: &str, extra: &[&str]) -> (Output, Value) {
    let folder = tempfile::tempdir().expect("a folder");
    let report = folder.path().join("report.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sonoran-cms"));
    command
        .args([
            "probe",
            "--operations",
            OPERATIONS,
            "--base-url",
            base_url,
            "--report",
        ])
        .arg(&report)
        .args(extra)
        .env("SONORAN_CMS_API_KEY", API_KEY)
        .env_remove("SONORAN_CMS_BASE_URL");
    let output = tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the run finishes");
    let written = std::fs::read_to_string(&report).unwrap_or_default();
    let json = serde_json::from_str(&written).unwrap_or(Value::Null);
    (output, json)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fitting_server() -> Value {
    json!({"id": 1, "name": "Main", "ip": null, "type": null})
}

fn to_spec() -> BTreeMap<String, (u16, Value)> {
    BTreeMap::from([
        (
            "/v2/community/servers".to_owned(),
            (
                200,
                json!({"success": true, "data": {"servers": [fitting_server()]}}),
            ),
        ),
        (
            "/v2/community/sessions/current".to_owned(),
            (200, json!({"success": true, "data": null})),
        ),
        (
            "/v2/community/servers/1/whitelist".to_owned(),
            (
                200,
                json!({"success": true, "data": [{"name": "Jane", "apiIds": ["license:1"]}]}),
            ),
        ),
    ])
}

#[tokio::test]
async fn an_api_that_answers_to_spec_fits_and_exits_zero() {
    let (base_url, seen) = serve(to_spec()).await;
    let (output, report) = probe(&base_url, &[]).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let summary = text(&output.stdout);
    assert!(summary.contains("Every answer fits its type."), "{summary}");
    assert!(
        summary.starts_with("# sonoran-cms probe report\n\n> Redacted:"),
        "{summary}"
    );
    assert_eq!(report["redacted"], true);
    assert_eq!(report["calls"], 3);
    // The ids came from the earlier answer: server 1's whitelist and session.
    let seen = seen.lock().expect("not poisoned").clone();
    assert!(
        seen.iter()
            .any(|uri| uri == "/v2/community/sessions/current?serverId=1"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|uri| uri == "/v2/community/servers/1/whitelist"),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_drifted_api_is_reported_path_by_path_without_its_values() {
    let mut drifted = to_spec();
    drifted.insert(
        "/v2/community/servers".to_owned(),
        (
            200,
            json!({"success": true, "data": {"servers": [
                // A member the type does not know in both; `id` missing in the second.
                {"id": 1, "name": SECRET_NAME, "region": SECRET_REGION},
                {"name": SECRET_NAME, "region": SECRET_REGION}
            ]}}),
        ),
    );
    drifted.insert(
        "/v2/community/sessions/current".to_owned(),
        (
            200,
            json!({"success": true, "data": {"id": SECRET_ID, "serverId": "one", "sysStatus": null}}),
        ),
    );
    drifted.insert(
        "/v2/community/servers/1/whitelist".to_owned(),
        (201, json!({"success": true, "data": []})),
    );
    let (base_url, _) = serve(drifted).await;
    let (output, report) = probe(&base_url, &[]).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let summary = text(&output.stdout);
    let written = report.to_string();
    for expected in [
        (
            "getServers",
            "data.servers[].id",
            "a required member absent",
        ),
        (
            "getServers",
            "data.servers[].region",
            "a member the type does not know",
        ),
        (
            "getCurrentSession",
            "data.serverId",
            "a value of another type",
        ),
        (
            "getCurrentSession",
            "data.sysStatus",
            "null where the type says no",
        ),
        ("getFullWhitelist", "", "a status the docs do not name"),
    ] {
        let found = report["operations"]
            .as_array()
            .expect("operations")
            .iter()
            .filter(|operation| operation["operation"] == expected.0)
            .flat_map(|operation| {
                operation["differences"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .any(|difference| difference["path"] == expected.1 && difference["kind"] == expected.2);
        assert!(found, "{expected:?} in {written}");
        if !expected.1.is_empty() {
            assert!(summary.contains(&format!("`{}`", expected.1)), "{summary}");
        }
    }
    // The member the type does not know, in both servers, counts twice at one path.
    assert!(written.contains("\"count\":2"), "{written}");
    // Redacted: nothing the server sent, nor the key.
    for secret in [SECRET_NAME, SECRET_REGION, SECRET_ID, "one", API_KEY] {
        assert!(
            !summary.contains(secret),
            "`{secret}` in the summary:\n{summary}"
        );
        assert!(
            !written.contains(&format!("\"{secret}\"")),
            "`{secret}` in the report: {written}"
        );
    }

    // With --include-values, the values are there, and the summary says so.
    let (output, _) = probe(&base_url, &["--include-values"]).await;
    let summary = text(&output.stdout);
    assert!(summary.contains("**Not redacted**"), "{summary}");
}

#[tokio::test]
async fn the_probe_stops_at_the_first_401() {
    let refused = BTreeMap::from([(
        "/v2/community/servers".to_owned(),
        (401, json!({"status": 401, "detail": "INVALID API KEY"})),
    )]);
    let (base_url, seen) = serve(refused).await;
    let (output, report) = probe(&base_url, &[]).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert_eq!(report["stopped"], "unauthorized", "{report}");
    assert!(
        text(&output.stdout).contains("The key was refused (401)"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(
        seen.lock().expect("not poisoned").len(),
        1,
        "nothing after the 401"
    );
}

#[tokio::test]
async fn no_answer_is_not_a_fit_and_an_unknown_operation_is_a_usage_error() {
    // A port nobody listens on: every call fails to connect.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let base_url = format!("http://{}", listener.local_addr().expect("an address"));
    drop(listener);
    let (output, report) = probe(&base_url, &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(
        text(&output.stdout).contains("No operation answered"),
        "{}",
        text(&output.stdout)
    );
    assert!(report.to_string().contains("no connection"), "{report}");

    let folder = tempfile::tempdir().expect("a folder");
    let output = Command::new(env!("CARGO_BIN_EXE_sonoran-cms"))
        .args([
            "probe",
            "--operations",
            "get-servers",
            "--base-url",
            &base_url,
            "--report",
        ])
        .arg(folder.path().join("r.json"))
        .env("SONORAN_CMS_API_KEY", API_KEY)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("`get-servers`"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn open_objects_and_maps_keyed_by_data_never_show_their_keys() {
    let mut answers = to_spec();
    answers.insert(
        "/v2/community/sessions/current".to_owned(),
        (
            200,
            json!({"success": true, "data": {"id": SECRET_ID, "sysStatus": true, "serverId": 1,
                "community": SECRET_ID, "startedBy": SECRET_ID, "startedAt": "2026-04-15T00:00:00Z",
                "stats": {"Badge | Number": 3}, "metadata": {"secret-column": "x"}}}),
        ),
    );
    let (base_url, _) = serve(answers).await;
    let (output, report) = probe(&base_url, &[]).await;
    let summary = text(&output.stdout);
    assert!(
        !summary.contains("Badge") && !summary.contains("secret-column"),
        "{summary}"
    );
    assert!(!report.to_string().contains("secret-column"), "{report}");
}
