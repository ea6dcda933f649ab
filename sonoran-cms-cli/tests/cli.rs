//! The `sonoran-cms` binary run as a user runs it, against a loopback server
//! that records what it is sent: a read, a write with a body file, an API error,
//! a missing key, and the usage errors (a body file beside body flags, a body
//! file that is not the body, an id of 0).

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};

const API_KEY: &str = "cli-test-key-3f9a";
const ACCOUNT: &str = "8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11";
const RANK: &str = "0b7c9a51-2f55-4b7e-9a63-5d1e3c2b1a00";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path_and_query: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

#[derive(Clone)]
struct Canned {
    status: StatusCode,
    body: Value,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn answer(
    State(canned): State<Canned>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    canned.seen.lock().expect("not poisoned").push(Seen {
        method,
        path_and_query: uri
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default(),
        authorization: headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        body: body.to_vec(),
    });
    (
        canned.status,
        [("content-type", "application/json")],
        canned.body.to_string(),
    )
}

/// A server on 127.0.0.1 answering every request with `status` and `body`.
async fn serve(status: u16, body: Value) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let canned = Canned {
        status: StatusCode::from_u16(status).expect("a status"),
        body,
        seen: seen.clone(),
    };
    let app = Router::new().fallback(answer).with_state(canned);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), seen)
}

/// Runs the binary with `arguments`, the key in the environment unless `key` is
/// `None`, and no base URL from the environment.
async fn run(arguments: Vec<String>, key: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sonoran-cms"));
    command
        .args(arguments)
        .env_remove("SONORAN_CMS_API_KEY")
        .env_remove("SONORAN_CMS_BASE_URL");
    if let Some(key) = key {
        command.env("SONORAN_CMS_API_KEY", key);
    }
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the run finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn arguments(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// `set-account-ranks` for [`ACCOUNT`] with the body from `body_file`, the
/// flags in `extra`, against `base_url`.
async fn set_ranks_from_file(
    body_file: &std::path::Path,
    extra: &[&str],
    base_url: &str,
) -> Output {
    let body_file = body_file.display().to_string();
    let mut items = vec![
        "set-account-ranks",
        "--account-id",
        ACCOUNT,
        "--json-body",
        &body_file,
    ];
    items.extend_from_slice(extra);
    items.extend_from_slice(&["--base-url", base_url]);
    run(arguments(&items), Some(API_KEY)).await
}

#[tokio::test]
async fn a_read_prints_the_answer_as_json() {
    let answer = json!({"success": true, "data": {"servers": [{"id": 1, "name": "Main"}]}});
    let (base_url, seen) = serve(200, answer).await;
    let output = run(
        arguments(&["get-servers", "--base-url", &base_url]),
        Some(API_KEY),
    )
    .await;
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(printed["data"]["servers"][0]["id"], 1);
    assert_eq!(printed["data"]["servers"][0]["name"], "Main");
    let seen = seen.lock().expect("not poisoned").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, Method::GET);
    assert_eq!(seen[0].path_and_query, "/v2/community/servers");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert!(!text(&output.stdout).contains(API_KEY));
    assert!(!text(&output.stderr).contains(API_KEY));
}

#[tokio::test]
async fn a_write_sends_the_body_file_as_written() {
    let answer = json!({"success": true, "data": {"accId": ACCOUNT, "ranks": []}});
    let (base_url, seen) = serve(200, answer).await;
    let folder = tempfile::tempdir().expect("a folder");
    let body_file = folder.path().join("remove-rank.json");
    std::fs::write(&body_file, json!({"remove": [RANK]}).to_string()).expect("written");
    let output = set_ranks_from_file(&body_file, &[], &base_url).await;
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(printed["data"]["accId"], ACCOUNT);
    let seen = seen.lock().expect("not poisoned").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, Method::PATCH);
    assert_eq!(
        seen[0].path_and_query,
        format!("/v2/community/accounts/{ACCOUNT}/ranks")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&seen[0].body).expect("a JSON body"),
        json!({"remove": [RANK]})
    );
}

#[tokio::test]
async fn an_api_error_goes_to_stderr_with_a_failing_exit() {
    let problem = json!({"success": false, "error": "INVALID_SERVER", "reason": "no such server"});
    let (base_url, seen) = serve(404, problem).await;
    let output = run(
        arguments(&[
            "get-full-whitelist",
            "--server-id",
            "9",
            "--base-url",
            &base_url,
        ]),
        Some(API_KEY),
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "stdout: {}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("404"), "{stderr}");
    assert!(stderr.contains("INVALID_SERVER"), "{stderr}");
    assert!(!stderr.contains(API_KEY), "{stderr}");
    assert_eq!(
        seen.lock().expect("not poisoned").len(),
        1,
        "a 404 is not retried"
    );
}

#[tokio::test]
async fn a_missing_key_is_refused_before_anything_is_sent() {
    let (base_url, seen) = serve(200, json!({"success": true, "data": {"servers": []}})).await;
    let output = run(arguments(&["get-servers", "--base-url", &base_url]), None).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("SONORAN_CMS_API_KEY"), "{stderr}");
    assert!(
        seen.lock().expect("not poisoned").is_empty(),
        "nothing was sent"
    );
}

#[tokio::test]
async fn a_missing_required_argument_is_a_usage_error_naming_it() {
    let output = run(arguments(&["get-full-whitelist"]), Some(API_KEY)).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--server-id"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn a_body_file_beside_body_flags_is_refused_naming_both() {
    let (base_url, seen) = serve(200, json!({"success": true, "data": {}})).await;
    let folder = tempfile::tempdir().expect("a folder");
    let body_file = folder.path().join("ranks.json");
    std::fs::write(&body_file, json!({"remove": [RANK]}).to_string()).expect("written");
    let output =
        set_ranks_from_file(&body_file, &["--discord", "123456789012345678"], &base_url).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--json-body") && stderr.contains("--discord"),
        "{stderr}"
    );
    assert!(
        seen.lock().expect("not poisoned").is_empty(),
        "nothing is sent"
    );
}

#[tokio::test]
async fn a_body_file_that_is_not_the_body_is_a_usage_error() {
    let (base_url, seen) = serve(200, json!({"success": true, "data": {}})).await;
    let folder = tempfile::tempdir().expect("a folder");
    let malformed = folder.path().join("broken.json");
    std::fs::write(&malformed, "{\"remove\": [").expect("written");
    let missing = folder.path().join("missing.json");
    for file in [&malformed, &missing] {
        let output = set_ranks_from_file(file, &[], &base_url).await;
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        assert!(
            text(&output.stderr).contains(&file.display().to_string()),
            "{}",
            text(&output.stderr)
        );
    }
    assert!(
        seen.lock().expect("not poisoned").is_empty(),
        "nothing is sent"
    );
}

#[tokio::test]
async fn an_id_of_zero_is_a_usage_error_saying_what_an_id_is() {
    let (base_url, seen) = serve(200, json!({"success": true, "data": null})).await;
    let output = run(
        arguments(&[
            "get-current-session",
            "--server-id",
            "0",
            "--base-url",
            &base_url,
        ]),
        Some(API_KEY),
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("an id must be at least 1 (ids count from 1)"),
        "the client's words, not clap's: {}",
        text(&output.stderr)
    );
    assert!(
        seen.lock().expect("not poisoned").is_empty(),
        "nothing is sent"
    );
}

#[tokio::test]
async fn a_whitelist_denial_exits_with_its_own_status_and_an_outage_does_not() {
    let check = |base_url: &str| {
        arguments(&[
            "verify-whitelist",
            "--server-id",
            "1",
            "--discord",
            "123456789012345678",
            "--base-url",
            base_url,
        ])
    };
    let (denying, _) = serve(
        400,
        json!({"status": 400, "detail": "NOT ALLOWED ON WHITELIST"}),
    )
    .await;
    let output = run(check(&denying), Some(API_KEY)).await;
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("NOT ALLOWED ON WHITELIST"));

    let (failing, _) = serve(500, json!({"status": 500, "detail": "INTERNAL"})).await;
    let output = run(check(&failing), Some(API_KEY)).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));

    let (unknown_server, _) =
        serve(400, json!({"status": 400, "detail": "INVALID_SERVER_ID"})).await;
    let output = run(check(&unknown_server), Some(API_KEY)).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
}

#[tokio::test]
async fn help_names_flags_not_library_calls() {
    let output = run(arguments(&["clock-account", "--help"]), None).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let help = text(&output.stdout);
    assert!(help.contains("(`--account-id`)"), "{help}");
    assert!(help.contains("`--acc-id`"), "{help}");
    assert!(
        !help.contains("(..)") && !help.contains(".identity("),
        "{help}"
    );
}

/// Every `--flag` a subcommand's help names is a flag it takes: a list or an
/// object in the body is named as going in the `--json-body` file instead.
#[tokio::test]
async fn every_flag_a_subcommand_names_exists() {
    let listing = run(arguments(&["--help"]), None).await;
    let listing = text(&listing.stdout);
    let subcommands: Vec<String> = listing
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(subcommands.len() >= 60, "{listing}");
    let mut checked = 0;
    for subcommand in &subcommands {
        let output = run(arguments(&[subcommand, "--help"]), None).await;
        let help = text(&output.stdout);
        // The options the subcommand takes, from its "Options:" list.
        let options: Vec<&str> = help
            .lines()
            .filter_map(|line| line.split_whitespace().find(|word| word.starts_with("--")))
            .map(|word| word.trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '-')))
            .collect();
        for named in help.split('`').filter(|word| word.starts_with("--")) {
            assert!(
                options.contains(&named),
                "`{subcommand} --help` names `{named}`, which it does not take:\n{help}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} flags named");
    let ranks = text(
        &run(arguments(&["set-account-ranks", "--help"]), None)
            .await
            .stdout,
    );
    assert!(
        ranks.contains("body `add` (in the `--json-body` file)"),
        "{ranks}"
    );
}
