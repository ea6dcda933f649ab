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

/// Serves `app` on a free loopback port; its base URL.
async fn listen(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}")
}

async fn serve(answers: BTreeMap<String, (u16, Value)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let routes = Routes {
        answers: Arc::new(answers),
        seen: Arc::clone(&seen),
    };
    let app = Router::new().fallback(answer).with_state(routes);
    (listen(app).await, seen)
}

const OPERATIONS: &str = "getServers,getCurrentSession,getFullWhitelist";

/// Runs `sonoran-cms probe` with `arguments` against `base_url`, its report
/// in a temporary file; returns the output and the JSON report.
async fn run_probe(base_url: &str, arguments: &[&str]) -> (Output, Value) {
    let folder = tempfile::tempdir().expect("a folder");
    let report = folder.path().join("report.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sonoran-cms"));
    command
        .args(["probe", "--base-url", base_url, "--report"])
        .arg(&report)
        .args(arguments)
        .env("SONORAN_CMS_API_KEY", API_KEY)
        .env_remove("SONORAN_CMS_BASE_URL");
    let output = tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the run finishes");
    let written = std::fs::read_to_string(&report).unwrap_or_default();
    let json = serde_json::from_str(&written).unwrap_or(Value::Null);
    (output, json)
}

/// Runs the probe on `OPERATIONS` against `base_url`, with `extra` arguments.
async fn probe(base_url: &str, extra: &[&str]) -> (Output, Value) {
    let mut arguments = vec!["--operations", OPERATIONS];
    arguments.extend_from_slice(extra);
    run_probe(base_url, &arguments).await
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

/// Whether `report` lists, for `operation`, a difference of `kind` at `path`.
fn lists(report: &Value, operation: &str, path: &str, kind: &str) -> bool {
    report["operations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["operation"] == operation)
        .flat_map(|entry| entry["differences"].as_array().cloned().unwrap_or_default())
        .any(|difference| difference["path"] == path && difference["kind"] == kind)
}

/// Nothing the server sent (nor the key) is in the summary or the report.
fn assert_redacted(summary: &str, report: &Value) {
    let written = report.to_string();
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
}

#[tokio::test]
async fn a_drifted_api_is_reported_path_by_path_without_its_values() {
    // The client's types read each answer: a value that does not fit is the
    // first one serde meets in that answer; members the types ignore are
    // each reported when the answer reads.
    let mut drifted = to_spec();
    drifted.insert(
        "/v2/community/servers".to_owned(),
        (
            200,
            json!({"success": true, "data": {"servers": [
                // A member the type does not know, in both servers.
                {"id": 1, "name": SECRET_NAME, "region": SECRET_REGION},
                {"id": 2, "name": SECRET_NAME, "region": SECRET_REGION}
            ]}}),
        ),
    );
    drifted.insert(
        "/v2/community/sessions/current".to_owned(),
        (
            200,
            json!({"success": true, "data": {"id": SECRET_ID, "serverId": "one", "sysStatus": true}}),
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
            "data.servers[].region",
            "a member the type does not know",
        ),
        (
            "getCurrentSession",
            "data.serverId",
            "a value of another type",
        ),
        ("getFullWhitelist", "", "a status the docs do not name"),
    ] {
        assert!(
            lists(&report, expected.0, expected.1, expected.2),
            "{expected:?} in {written}"
        );
        if !expected.1.is_empty() {
            assert!(summary.contains(&format!("`{}`", expected.1)), "{summary}");
        }
    }
    // The member the type does not know, in both servers, counts twice at one path.
    assert!(written.contains("\"count\":2"), "{written}");
    assert_redacted(&summary, &report);

    // A required member absent, and a null where the type says no.
    let mut absent = to_spec();
    absent.insert(
        "/v2/community/servers".to_owned(),
        (
            200,
            json!({"success": true, "data": {"servers": [
                {"id": 1, "name": SECRET_NAME}, {"name": SECRET_NAME}
            ]}}),
        ),
    );
    absent.insert(
        "/v2/community/sessions/current".to_owned(),
        (
            200,
            json!({"success": true, "data": {"id": null, "serverId": 1, "sysStatus": true}}),
        ),
    );
    let (base_url, _) = serve(absent).await;
    let (output, report) = probe(&base_url, &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(
        lists(
            &report,
            "getServers",
            "data.servers[].id",
            "a required member absent"
        ),
        "{report}"
    );
    assert!(
        lists(
            &report,
            "getCurrentSession",
            "data.id",
            "null where the type says no"
        ),
        "{report}"
    );
    assert_redacted(&text(&output.stdout), &report);

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

/// Answers every operation at its path template (`{serverId}` takes any
/// segment) with `answer(operation)`, and counts what it was asked.
async fn serve_templates(
    answer: impl Fn(sonoran_cms::Operation, usize) -> (u16, Vec<(&'static str, String)>, Value)
    + Send
    + Sync
    + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let asked = Arc::clone(&seen);
    let answer = Arc::new(answer);
    let app = Router::new().fallback(move |uri: Uri| {
        let asked = Arc::clone(&asked);
        let answer = Arc::clone(&answer);
        async move {
            let matches = |template: &str| {
                let (template, path): (Vec<&str>, Vec<&str>) = (
                    template.split('/').collect(),
                    uri.path().split('/').collect(),
                );
                template.len() == path.len()
                    && template
                        .iter()
                        .zip(&path)
                        .all(|(want, got)| want.starts_with('{') || want == got)
            };
            let operation = sonoran_cms::Operation::ALL
                .iter()
                .copied()
                .filter(|operation| operation.is_safe() && matches(operation.path()))
                // A literal segment beats a placeholder (`accounts/search`
                // over `accounts/{accountId}`).
                .min_by_key(|operation| operation.path().matches('{').count());
            let times = {
                let mut asked = asked.lock().expect("not poisoned");
                asked.push(uri.to_string());
                asked
                    .iter()
                    .filter(|earlier| **earlier == uri.to_string())
                    .count()
            };
            let (status, headers, body) = match operation {
                Some(operation) => answer(operation, times),
                None => (
                    404,
                    Vec::new(),
                    json!({"status": 404, "detail": "NOT FOUND"}),
                ),
            };
            let mut response = (
                StatusCode::from_u16(status).expect("a status"),
                [("content-type", "application/json")],
                body.to_string(),
            )
                .into_response();
            for (name, value) in headers {
                response
                    .headers_mut()
                    .insert(name, value.parse().expect("a header value"));
            }
            response
        }
    });
    (listen(app).await, seen)
}

/// Each operation's success answer with every member its type names.
fn full_answers() -> BTreeMap<String, Value> {
    let spec = sonoran_cms_tests::enriched_spec();
    sonoran_cms_tests::spec_operations(&spec)
        .into_iter()
        .filter_map(|operation| {
            let (_, success) = codegen::operations::json_success(&operation.operation)?;
            let schema = codegen::operations::json_body_schema(success);
            Some((
                operation.operation_id,
                sonoran_cms_tests::full_value(&spec, schema),
            ))
        })
        .collect()
}

/// Runs the probe on every read-only operation (no `--operations`).
async fn probe_all(base_url: &str) -> (Output, Value) {
    run_probe(base_url, &["--budget", "200"]).await
}

#[tokio::test]
async fn answers_built_from_every_generated_type_fit_with_no_difference() {
    let answers = full_answers();
    let (base_url, _) = serve_templates(move |operation, _| {
        (200, Vec::new(), answers[operation.operation_id()].clone())
    })
    .await;
    let (output, report) = probe_all(&base_url).await;
    let summary = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{summary}{}",
        text(&output.stderr)
    );
    assert!(summary.contains("Every answer fits its type."), "{summary}");
    let operations = report["operations"].as_array().expect("operations");
    let differences: usize = operations
        .iter()
        .map(|operation| operation["differences"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(differences, 0, "{report}");
    // Every read-only operation was called: its inputs came from earlier
    // answers, value sets and groups of alternatives. Only a roster's id is
    // in no answer (no operation lists rosters).
    let safe = sonoran_cms::Operation::ALL
        .iter()
        .filter(|operation| operation.is_safe())
        .count();
    assert_eq!(operations.len(), safe - 1, "skipped: {}", report["skipped"]);
    assert_eq!(
        report["skipped"],
        json!({"getRosterContents": "no value for `rosterId` in earlier answers"}),
        "{report}"
    );
}

#[tokio::test]
async fn documented_errors_are_not_drift_and_a_429_is_waited_for() {
    let answers = full_answers();
    let (base_url, seen) =
        serve_templates(move |operation, times| match operation.operation_id() {
            // Rate limited once, then answered.
            "getServers" if times == 1 => (
                429,
                vec![("retry-after", "0".to_owned())],
                json!({"status": 429, "detail": "RATE LIMITED"}),
            ),
            // A documented error class (4XX): reported as a status, not drift.
            "getCommunity" => (
                404,
                Vec::new(),
                json!({"status": 404, "detail": "NOT FOUND"}),
            ),
            id => (200, Vec::new(), answers[id].clone()),
        })
        .await;
    let (output, report) = probe_all(&base_url).await;
    let summary = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    let entry = |id: &str| {
        report["operations"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|operation| operation["operation"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(entry("getServers")["statuses"], json!({"200": 1, "429": 1}));
    assert_eq!(entry("getCommunity")["statuses"], json!({"404": 1}));
    assert_eq!(entry("getCommunity")["differences"], json!([]));
    let servers_asked = seen
        .lock()
        .expect("not poisoned")
        .iter()
        .filter(|uri| *uri == "/v2/community/servers")
        .count();
    assert_eq!(servers_asked, 2, "asked again after the 429");
}

#[tokio::test]
async fn a_map_keyed_by_discord_ids_where_the_type_has_an_object_shows_no_id() {
    let mut answers = to_spec();
    answers.insert(
        "/v2/community/servers".to_owned(),
        (
            200,
            json!({"success": true, "data": {"servers": [{"id": 1, "name": "Main"}],
                "123456789012345678": {"name": SECRET_NAME}}}),
        ),
    );
    let (base_url, _) = serve(answers).await;
    let (output, report) = probe(&base_url, &[]).await;
    let summary = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{summary}");
    assert!(!summary.contains("123456789012345678"), "{summary}");
    assert!(
        !report.to_string().contains("123456789012345678"),
        "{report}"
    );
    assert!(summary.contains("`data.{hash:"), "{summary}");
    let (output, _) = probe(&base_url, &["--include-values"]).await;
    assert!(
        text(&output.stdout).contains("`data.123456789012345678`"),
        "{}",
        text(&output.stdout)
    );
}
