//! `cargo xtask upstream status` and `sync` on upstream repositories made here
//! (`git init`, commits with fixed dates, so commits and bodies are the same on
//! every run), each change a kind the docs or Sonoran.js really make, on a copy
//! of this workspace's spec, overlays, generated files and contract pages.
//!
//! The docs repository holds pages this test writes in the docs' layout from
//! the checked-in docs spec (an OpenAPI block per page, the rate limit line):
//! importing them gives that spec back byte for byte (the first test holds
//! that), so each case changes exactly what it names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codegen::pipeline::{DOCS_SPEC_PATH, ENRICHED_SPEC_PATH};
use serde_json::{Value, json};

const DOCS_FOLDER: &str = "developer-api-documentation/api-integration/api-endpoints-v2";
const JS_MANAGER: &str = "src/managers/CMSManager.ts";
const JS_CONSTANTS: &str = "src/libs/rest/src/lib/utils/constants.ts";

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn parse_yaml(name: &str, text: String) -> Value {
    codegen::load::parse_yaml(&codegen::SourceText::new(name, text)).expect("YAML")
}

fn checked_in(relative: &str) -> Value {
    parse_yaml(
        relative,
        std::fs::read_to_string(checkout().join(relative)).expect("reads"),
    )
}

/// Copies what `sync` reads and writes: `openapi/`, the generated files and
/// the contract pages.
fn copy_workspace(root: &Path) {
    let mut files = Vec::new();
    for folder in ["openapi", "tests/tests/snapshots"] {
        collect(&checkout(), &checkout().join(folder), &mut files);
    }
    files.extend(
        [
            codegen::pipeline::GENERATED_CLIENT_PATH,
            codegen::pipeline::GENERATED_OPERATIONS_PATH,
            codegen::pipeline::GENERATED_ONE_OF_PATH,
            codegen::pipeline::GENERATED_CALLS_PATH,
            codegen::pipeline::GENERATED_VALUE_SETS_PATH,
            codegen::pipeline::GENERATED_HTTPMOCK_PATH,
            codegen::pipeline::GENERATED_CLI_PATH,
        ]
        .map(str::to_owned),
    );
    for relative in files {
        let target = root.join(&relative);
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("mkdir");
        std::fs::copy(checkout().join(&relative), &target).expect("copies");
    }
}

fn collect(root: &Path, folder: &Path, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(folder).expect("lists") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            files.push(
                path.strip_prefix(root)
                    .expect("below the root")
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// Every file below `root` with its bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = Vec::new();
    collect(root, root, &mut files);
    files
        .into_iter()
        .map(|file| {
            let bytes = std::fs::read(root.join(&file)).expect("reads");
            (file, bytes)
        })
        .collect()
}

/// The files that differ between two trees.
fn changed_files(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name))
        .cloned()
        .collect()
}

/// `/v2/a/{id}` with each placeholder filled (`/v2/a/1`).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The Type cell of a docs table for a schema the importer reads back as it.
fn table_type(schema: &Value) -> &'static str {
    let types = [
        ("string", json!({"type": "string"})),
        ("string (uuid)", json!({"type": "string", "format": "uuid"})),
        ("number", json!({"type": "number"})),
        ("integer", json!({"type": "integer"})),
        ("boolean", json!({"type": "boolean"})),
        ("array", json!({"type": "array"})),
        ("object", json!({"type": "object"})),
    ];
    types
        .into_iter()
        .find(|(_, known)| known == schema)
        .map(|(cell, _)| cell)
        .unwrap_or_else(|| panic!("no table type reads back as {schema}"))
}

/// A query value as the cURL example's URL writes it.
fn query_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One endpoint page in the docs' layout for `operation` at `method path`,
/// such that the importer gives `operation` back with its members in order:
/// what the importer takes from the OpenAPI block is in the block; what it
/// merges in after the block (the members after `tags`: a Request Body or
/// Query Parameters table, the cURL example's body and query, the rate limit)
/// is written where the importer reads it.
fn page(path: &str, method: &str, operation: &Value, version: &Value) -> String {
    let members = operation.as_object().expect("an operation");
    let tags_at = members.keys().position(|key| key == "tags").expect("tags");
    let mut block_operation = serde_json::Map::new();
    let mut merged = serde_json::Map::new();
    for (index, (key, value)) in members.iter().enumerate() {
        if index < tags_at {
            block_operation.insert(key.clone(), value.clone());
        } else if key != "tags" {
            merged.insert(key.clone(), value.clone());
        }
    }
    let block = json!({
        "openapi": "3.0.3",
        "info": {"title": "Sonoran CMS", "version": version},
        "paths": {path: {method: block_operation}},
    });
    let mut text = format!(
        "# {}\n\n<mark style=\"color:green;\">`{}`</mark> `https://api.sonorancms.com{}`\n\n",
        operation["summary"].as_str().unwrap_or("An operation"),
        method.to_uppercase(),
        concrete(path)
    );
    if let Some(requests) = merged
        .remove("x-sonoran-rate-limit")
        .and_then(|limit| limit["requests"].as_u64())
    {
        text.push_str(&format!(
            "> **Rate limit:** `{requests} requests per minute`\n\n"
        ));
    }
    let mut curl_data = None;
    let mut curl_query = Vec::new();
    if let Some(body) = merged.remove("requestBody") {
        let media = &body["content"]["application/json"];
        let schema = &media["schema"];
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        text.push_str("## Request Body\n\n| Name | Type | Required | Description |\n| --- | --- | --- | --- |\n");
        for (name, property) in schema["properties"]
            .as_object()
            .expect("the table's fields")
        {
            let yes = if required.contains(&name.as_str()) {
                "Yes"
            } else {
                "No"
            };
            text.push_str(&format!(
                "| `{name}` | {} | {yes} | A field. |\n",
                table_type(property)
            ));
        }
        text.push('\n');
        curl_data = media.get("example").cloned();
    }
    if let Some(parameters) = merged.remove("parameters") {
        let query: Vec<&Value> = parameters
            .as_array()
            .expect("parameters")
            .iter()
            .filter(|parameter| parameter["in"] == "query")
            .collect();
        if !query.is_empty() {
            text.push_str(
                "## Query Parameters\n\n| Name | Type | Required | Description |\n| --- | --- | --- | --- |\n",
            );
            for parameter in query {
                let name = parameter["name"].as_str().expect("a name");
                let yes = if parameter["required"] == true {
                    "Yes"
                } else {
                    "No"
                };
                text.push_str(&format!(
                    "| `{name}` | {} | {yes} | A parameter. |\n",
                    table_type(&parameter["schema"])
                ));
                if let Some(example) = parameter.get("example") {
                    curl_query.push(format!("{name}={}", query_text(example)));
                }
            }
            text.push('\n');
        }
    }
    assert!(
        merged.is_empty(),
        "{method} {path}: members the page cannot say: {merged:?}"
    );
    text.push_str("## Example Request\n\n{% tabs %}\n{% tab title=\"cURL\" %}\n\n```bash\n");
    let query = if curl_query.is_empty() {
        String::new()
    } else {
        format!("?{}", curl_query.join("&"))
    };
    text.push_str(&format!(
        "curl --request {} \\\n  --url \"https://api.sonorancms.com{}{query}\" \\\n",
        method.to_uppercase(),
        concrete(path)
    ));
    text.push_str("  --header \"Authorization: Bearer YOUR_API_KEY\"");
    // The importer reads `--data '..'` to the line's closing quote.
    if let Some(data) = curl_data {
        text.push_str(&format!(" \\\n  --data '{data}'"));
    }
    text.push_str("\n```\n\n{% endtab %}\n");
    text.push_str(&format!(
        "{{% tab title=\"OpenAPI\" %}}\n\n```yaml\n{}```\n\n{{% endtab %}}\n{{% endtabs %}}\n",
        serde_yaml::to_string(&block).expect("YAML")
    ));
    text
}

/// The docs pages of `spec`, by path within the v2 folder: one per operation,
/// numbered in the spec's order inside its section (so the import merges them
/// in that order again), plus the folder's README.
fn pages_of(spec: &Value) -> Vec<(String, String)> {
    let mut pages = vec![("README.md".to_owned(), "# API endpoints (v2)\n".to_owned())];
    let mut index = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            index += 1;
            let section = operation["tags"][0].as_str().expect("a section");
            let name = operation["operationId"].as_str().expect("an operationId");
            pages.push((
                format!("{section}/{index:03}-{name}.md"),
                page(path, method, operation, &spec["info"]["version"]),
            ));
        }
    }
    pages
}

/// A Sonoran.js manager calling each route (`(METHOD, /v2/path)`) as the real
/// one does.
fn js_manager(routes: &[(String, String)]) -> String {
    let mut text = String::from("export class CMSManager {\n");
    for (index, (method, path)) in routes.iter().enumerate() {
        let template: String = path
            .trim_start_matches('/')
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => format!("${{encodeURIComponent({name})}}"),
                    None => segment.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        text.push_str(&format!(
            "  public async call{index}V2(): Promise<unknown> {{\n    return this.executeCmsV2Request('{method}', `{template}`);\n  }}\n"
        ));
    }
    text.push_str("}\n");
    text
}

/// Every route of a spec as `(METHOD, path)`.
fn routes_of(spec: &Value) -> Vec<(String, String)> {
    spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

fn git(repository: &Path, arguments: &[&str]) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=fixture",
            "-c",
            "user.email=fixture@example.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(arguments)
        .current_dir(repository)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {arguments:?}: {}",
        text(&output.stderr)
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A workspace and the two upstream repositories, each at its first commit.
struct Fixture {
    workspace: tempfile::TempDir,
    docs: tempfile::TempDir,
    js: tempfile::TempDir,
    out: tempfile::TempDir,
    docs_spec: Value,
    js_routes: Vec<(String, String)>,
}

impl Fixture {
    fn new() -> Self {
        let fixture = Self {
            workspace: tempfile::tempdir().expect("a folder"),
            docs: tempfile::tempdir().expect("a folder"),
            js: tempfile::tempdir().expect("a folder"),
            out: tempfile::tempdir().expect("a folder"),
            docs_spec: checked_in(DOCS_SPEC_PATH),
            js_routes: routes_of(&checked_in(ENRICHED_SPEC_PATH)),
        };
        copy_workspace(fixture.workspace.path());
        git(fixture.docs.path(), &["init", "-q"]);
        git(fixture.js.path(), &["init", "-q"]);
        fixture.commit_docs("the v2 endpoint pages");
        fixture.commit_js("the CMS v2 calls");
        fixture
    }

    fn docs_folder(&self) -> PathBuf {
        self.docs.path().join(DOCS_FOLDER)
    }

    /// Writes the pages of `self.docs_spec` and commits them.
    fn commit_docs(&self, message: &str) {
        let folder = self.docs_folder();
        if folder.exists() {
            std::fs::remove_dir_all(&folder).expect("clears the folder");
        }
        for (relative, contents) in pages_of(&self.docs_spec) {
            let path = folder.join(relative);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(path, contents).expect("writes");
        }
        git(self.docs.path(), &["add", "-A"]);
        git(
            self.docs.path(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
    }

    /// Writes Sonoran.js's pinned files for `self.js_routes` and commits them.
    fn commit_js(&self, message: &str) {
        for (relative, contents) in [
            (JS_MANAGER, js_manager(&self.js_routes)),
            (JS_CONSTANTS, "export const CMS_V2 = 'v2';\n".to_owned()),
        ] {
            let path = self.js.path().join(relative);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(path, contents).expect("writes");
        }
        git(self.js.path(), &["add", "-A"]);
        git(
            self.js.path(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
    }

    fn xtask(&self, arguments: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--workspace-root")
            .arg(self.workspace.path())
            .args(arguments)
            .output()
            .expect("the xtask binary runs")
    }

    fn sync(&self) -> Synced {
        let output = self.xtask(&[
            "upstream",
            "sync",
            "--docs",
            &self.docs.path().to_string_lossy(),
            "--js",
            &self.js.path().to_string_lossy(),
            "--out",
            &self.out.path().to_string_lossy(),
        ]);
        let read =
            |name: &str| std::fs::read_to_string(self.out.path().join(name)).unwrap_or_default();
        Synced {
            code: output.status.code(),
            stderr: text(&output.stderr),
            title: read("title.txt"),
            body: read("body.md"),
            outcome: read("outcome").trim().to_owned(),
        }
    }

    fn operation(&mut self, path: &str, method: &str) -> &mut Value {
        let operation = &mut self.docs_spec["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is in the docs");
        operation
    }
}

#[derive(Debug)]
struct Synced {
    code: Option<i32>,
    stderr: String,
    title: String,
    body: String,
    outcome: String,
}

/// The first sync moves the pins to the fixture repositories (their commits
/// and pages are not the real ones): a baseline, nothing for users.
fn synced_baseline() -> Fixture {
    let fixture = Fixture::new();
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(0), "{synced:?}");
    assert_eq!(synced.outcome, "unchanged", "{synced:?}");
    fixture
}

#[test]
fn the_pages_written_here_import_as_the_checked_in_docs_spec() {
    let fixture = Fixture::new();
    let output = fixture.xtask(&["import-docs", &fixture.docs_folder().to_string_lossy()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let imported =
        std::fs::read_to_string(fixture.workspace.path().join(DOCS_SPEC_PATH)).expect("reads");
    let expected = std::fs::read_to_string(checkout().join(DOCS_SPEC_PATH)).expect("reads");
    if imported != expected {
        let first = imported
            .lines()
            .zip(expected.lines())
            .position(|(left, right)| left != right)
            .unwrap_or(0);
        let around = |text: &str| {
            text.lines()
                .skip(first.saturating_sub(3))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "imported:\n{}\nchecked in:\n{}",
            around(&imported),
            around(&expected)
        );
    }
    // The docs pin moved to the pages' content and the checkout's commit...
    let pins = std::fs::read_to_string(fixture.workspace.path().join("openapi/upstream.toml"))
        .expect("reads");
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(fixture.docs.path())
        .output()
        .expect("git runs");
    let head = text(&head.stdout).trim().to_owned();
    assert!(pins.contains(&format!("commit = \"{head}\"")), "{pins}");
    // ...and a second import of the same pages leaves it as it is.
    let again = fixture.xtask(&["import-docs", &fixture.docs_folder().to_string_lossy()]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.path().join("openapi/upstream.toml"))
            .expect("reads"),
        pins
    );
}

#[test]
fn an_unchanged_upstream_changes_nothing_for_users_and_the_second_sync_nothing_at_all() {
    let fixture = Fixture::new();
    let before = tree(fixture.workspace.path());
    let first = fixture.sync();
    assert_eq!(first.code, Some(0), "{first:?}");
    assert_eq!(first.outcome, "unchanged");
    assert_eq!(first.title, "Upstream sources moved: no change for users\n");
    let after = tree(fixture.workspace.path());
    assert_eq!(
        changed_files(&before, &after),
        ["openapi/upstream.toml"],
        "only the pins move"
    );
    insta::assert_snapshot!("unchanged_upstream_body", first.body);

    let second = fixture.sync();
    assert_eq!(second.code, Some(0), "{second:?}");
    assert_eq!(
        second.title,
        "Upstream sources unchanged: no change for users\n"
    );
    assert_eq!(
        second.body.matches("): unchanged").count(),
        2,
        "{}",
        second.body
    );
    assert_eq!(
        tree(fixture.workspace.path()),
        after,
        "nothing is written again"
    );

    let status = fixture.xtask(&[
        "upstream",
        "status",
        "--docs",
        &fixture.docs.path().to_string_lossy(),
        "--js",
        &fixture.js.path().to_string_lossy(),
    ]);
    assert_eq!(status.status.code(), Some(0));
    let printed = text(&status.stdout);
    assert_eq!(printed.matches(": unchanged").count(), 2, "{printed}");
}

#[test]
fn a_new_operation_in_the_docs_is_an_additive_change_with_a_new_contract_page() {
    let mut fixture = synced_baseline();
    let servers = fixture.operation("/v2/community/servers", "get").clone();
    let mut vehicles = servers;
    vehicles["operationId"] = json!("getVehicles");
    vehicles["summary"] = json!("Get Vehicles");
    fixture.docs_spec["paths"]["/v2/community/vehicles"] = json!({"get": vehicles});
    fixture.commit_docs("docs: vehicles");
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(0), "{synced:?}");
    assert_eq!(synced.outcome, "changed");
    assert!(
        synced
            .title
            .starts_with("API update: 0 breaking, 1 additive changes"),
        "{}",
        synced.title
    );
    assert!(
        synced.body.contains("### `get_vehicles` (getVehicles)"),
        "{}",
        synced.body
    );
    assert!(
        synced
            .body
            .contains("- **additive**: new operation (`GET /v2/community/vehicles`)"),
        "{}",
        synced.body
    );
    assert!(
        synced
            .body
            .contains("`tests/tests/snapshots/contracts__get_vehicles.snap` (new)"),
        "{}",
        synced.body
    );
    assert!(
        synced.body.contains("`GET /v2/community/vehicles` (`getVehicles`): the docs have it, Sonoran.js does not call it"),
        "{}",
        synced.body
    );
    let page = std::fs::read_to_string(
        fixture
            .workspace
            .path()
            .join("tests/tests/snapshots/contracts__get_vehicles.snap"),
    )
    .expect("the new page is written");
    assert!(page.contains("GET /v2/community/vehicles"), "{page}");
}

#[test]
fn a_docs_change_beneath_an_evidence_correction_stops_regen_and_changes_no_generated_file() {
    let mut fixture = synced_baseline();
    let before = tree(fixture.workspace.path());
    // getCurrentSession's answer is replaced by a shared entity in the sessions
    // evidence overlay: the docs' example gains a member beneath it.
    fixture.operation("/v2/community/sessions/current", "get")["responses"]["200"]["content"]["application/json"]
        ["example"]["data"]["region"] = json!("eu-west");
    fixture.commit_docs("docs: a reason to cancel");
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(1), "{synced:?}");
    assert_eq!(synced.outcome, "stopped");
    assert!(synced.title.contains("regen stopped"), "{}", synced.title);
    assert!(
        synced.body.contains("## Why regen stopped"),
        "{}",
        synced.body
    );
    assert_eq!(
        synced.stderr, "",
        "a stop is reported in the body, not as a failure of the command"
    );
    assert!(
        synced
            .body
            .contains("the docs changed beneath it since it was reviewed"),
        "{}",
        synced.body
    );
    assert!(
        synced.body.contains("cargo xtask evidence review"),
        "{}",
        synced.body
    );
    assert_eq!(
        changed_files(&before, &tree(fixture.workspace.path())),
        Vec::<String>::new()
    );
}

#[test]
fn a_route_the_js_client_calls_that_the_docs_lack_is_listed_with_its_sources() {
    let mut fixture = synced_baseline();
    fixture.js_routes.push((
        "GET".to_owned(),
        "/v2/community/servers/{serverId}/vehicles".to_owned(),
    ));
    fixture.commit_js("feat: vehicles");
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(0), "{synced:?}");
    assert_eq!(
        synced.outcome, "unchanged",
        "no change for users: {synced:?}"
    );
    let call = format!("call{}V2", fixture.js_routes.len() - 1);
    assert!(
        synced.body.contains(&format!(
            "- `GET /v2/community/servers/{{}}/vehicles`: Sonoran.js calls it (`{call}` in `{JS_MANAGER}`), the docs \
             lack it; the client lacks it"
        )),
        "{}",
        synced.body
    );
    // The routes the client has from evidence are labelled as such.
    assert!(
        synced.body.contains(
            "the docs lack it; the client has it from evidence (`resolve_discord_account`"
        ),
        "{}",
        synced.body
    );
}

#[test]
fn a_missing_or_renamed_docs_folder_is_a_clear_error_and_writes_nothing() {
    let fixture = synced_baseline();
    let before = tree(fixture.workspace.path());
    std::fs::rename(
        fixture.docs_folder(),
        fixture
            .docs
            .path()
            .join("developer-api-documentation/api-integration/endpoints"),
    )
    .expect("renames");
    let out = tempfile::tempdir().expect("a folder");
    let output = fixture.xtask(&[
        "upstream",
        "sync",
        "--docs",
        &fixture.docs.path().to_string_lossy(),
        "--out",
        &out.path().join("pr").to_string_lossy(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("the checkout has no folder {DOCS_FOLDER}")),
        "{stderr}"
    );
    assert!(
        !out.path().join("pr").exists(),
        "no out folder for bad input"
    );
    assert_eq!(
        changed_files(&before, &tree(fixture.workspace.path())),
        Vec::<String>::new()
    );

    // The same for status, and for a Sonoran.js checkout without its files.
    let status = fixture.xtask(&[
        "upstream",
        "status",
        "--docs",
        &fixture.docs.path().to_string_lossy(),
    ]);
    assert_eq!(status.status.code(), Some(2));
    std::fs::rename(
        fixture
            .docs
            .path()
            .join("developer-api-documentation/api-integration/endpoints"),
        fixture.docs_folder(),
    )
    .expect("renames back");
    let empty = tempfile::tempdir().expect("a folder");
    let status = fixture.xtask(&[
        "upstream",
        "status",
        "--docs",
        &fixture.docs.path().to_string_lossy(),
        "--js",
        &empty.path().to_string_lossy(),
    ]);
    assert_eq!(status.status.code(), Some(2));
    let stderr = text(&status.stderr);
    assert!(
        stderr.contains(&format!("the checkout has no readable file {JS_MANAGER}")),
        "{stderr}"
    );
}

#[test]
fn a_removed_request_field_is_a_breaking_change() {
    let mut fixture = synced_baseline();
    let parameters = fixture.operation("/v2/community/accounts", "get")["parameters"]
        .as_array_mut()
        .expect("getAccounts' parameters");
    parameters.retain(|parameter| parameter["name"] != "banned");
    fixture.commit_docs("docs: no banned filter");
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(0), "{synced:?}");
    assert_eq!(synced.outcome, "changed");
    assert!(
        synced
            .title
            .starts_with("API update: 1 breaking, 0 additive"),
        "{}",
        synced.title
    );
    assert!(
        synced
            .body
            .contains("**Verdict: breaking; the release needs a breaking version (0.2.0 → 0.3.0"),
        "{}",
        synced.body
    );
    assert!(
        synced.body.contains("### `get_accounts` (getAccounts)"),
        "{}",
        synced.body
    );
    assert!(
        synced
            .body
            .contains("- **breaking**: query parameter `banned`"),
        "{}",
        synced.body
    );
    assert!(
        synced
            .body
            .contains("contracts__get_accounts.snap` (changed)"),
        "{}",
        synced.body
    );
    assert!(
        synced
            .body
            .contains("-- .banned(bool) -> query `banned`, optional"),
        "{}",
        synced.body
    );
    insta::assert_snapshot!("removed_parameter_body", synced.body);
}

/// The README shows an excerpt of the body above: every line of it must be in
/// the snapshot, so the example cannot drift from what `sync` writes.
#[test]
fn the_readme_example_is_an_excerpt_of_the_snapshot_tested_body() {
    let readme = std::fs::read_to_string(checkout().join("README.md")).expect("the README");
    let marker =
        "<!-- an excerpt of xtask/tests/snapshots/upstream__removed_parameter_body.snap -->";
    let after = readme
        .split_once(marker)
        .map(|(_, after)| after)
        .expect("the README marks its example body");
    // The body's excerpt: up to the next marker (the contract drift's diff is
    // checked by tests/tests/contracts.rs).
    let section = after.split("<!--").next().unwrap_or(after);
    // Every line inside a fenced block of the section.
    let mut lines = Vec::new();
    let mut fenced = false;
    for line in section.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if fenced && !line.trim().is_empty() && !line.starts_with("cargo ") {
            lines.push(line);
        }
    }
    let snapshot = std::fs::read_to_string(
        checkout().join("xtask/tests/snapshots/upstream__removed_parameter_body.snap"),
    )
    .expect("the snapshot");
    assert!(lines.len() >= 4, "{section}");
    for line in lines {
        assert!(
            snapshot.lines().any(|snapshot_line| snapshot_line == line),
            "not in the snapshot: {line}"
        );
    }
}

#[test]
fn a_removed_body_field_beneath_an_evidence_correction_stops_regen_naming_the_action() {
    let mut fixture = synced_baseline();
    let before = tree(fixture.workspace.path());
    let body = &mut fixture.operation("/v2/community/forms/{formId}/stage", "patch")["requestBody"]
        ["content"]["application/json"];
    body["schema"]["properties"]
        .as_object_mut()
        .expect("the body's fields")
        .shift_remove("optionalReason");
    fixture.commit_docs("docs: no reason");
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(1), "{synced:?}");
    assert_eq!(synced.outcome, "stopped");
    assert!(
        synced.body.contains(
            "openapi/evidence/forms.overlay.yaml action /actions/0 (target `$.components.schemas.ChangeFormStageRequest`)"
        ) && synced.body.contains("field `.optionalReason` removed"),
        "{}",
        synced.body
    );
    assert_eq!(
        changed_files(&before, &tree(fixture.workspace.path())),
        Vec::<String>::new()
    );
}

#[test]
fn a_new_answer_field_is_an_additive_change() {
    let mut fixture = synced_baseline();
    fixture.operation("/v2/community/sub-version", "get")["responses"]["200"]["content"]["application/json"]
        ["example"]["data"]["renewsAt"] = json!("2026-05-01T00:00:00.000Z");
    fixture.commit_docs("docs: renewal date");
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(0), "{synced:?}");
    assert_eq!(synced.outcome, "changed");
    assert!(
        synced
            .title
            .starts_with("API update: 0 breaking, 1 additive"),
        "{}",
        synced.title
    );
    assert!(
        synced
            .body
            .contains("### `get_sub_version` (getSubVersion)"),
        "{}",
        synced.body
    );
    assert!(synced.body.contains("renewsAt"), "{}", synced.body);
    assert!(
        synced
            .body
            .contains("contracts__get_sub_version.snap` (changed)"),
        "{}",
        synced.body
    );
}

#[test]
fn a_new_value_in_an_answers_value_set_is_flagged_then_classified_as_changing_behaviour() {
    let mut fixture = synced_baseline();
    // The docs' example shows a value `RsvpResult` does not list: no type
    // changes (it reads as `Other`), and the body says so.
    fixture.operation("/v2/community/events/{eventId}/rsvps", "post")["responses"]["200"]["content"]
        ["application/json"]["example"]["data"] = json!("RSVP_WAITLISTED");
    fixture.commit_docs("docs: waitlists");
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(0), "{synced:?}");
    assert_eq!(synced.outcome, "unchanged", "{synced:?}");
    assert!(
        synced.body.contains(
            "- `create_rsvp` (`createRsvp`) `.data`: the docs show \"RSVP_WAITLISTED\", which `RsvpResult` does not list"
        ),
        "{}",
        synced.body
    );
    // A maintainer lists it, as the line says; the next sync classifies it.
    let shared = fixture
        .workspace
        .path()
        .join("openapi/evidence/shared.overlay.yaml");
    let overlay = std::fs::read_to_string(&shared).expect("reads");
    let listed = overlay.replacen(
        "      - UNRSVP_SUCCESS\n",
        "      - UNRSVP_SUCCESS\n      - RSVP_WAITLISTED\n",
        1,
    );
    assert_ne!(listed, overlay, "the value set is in the shared overlay");
    std::fs::write(&shared, listed).expect("writes");
    let synced = fixture.sync();
    assert_eq!(synced.code, Some(0), "{synced:?}");
    assert_eq!(synced.outcome, "changed");
    assert!(
        synced.body.contains("- **additive, changes behaviour**: ")
            && synced.body.contains("new value \"RSVP_WAITLISTED\"")
            && synced
                .body
                .contains("a `match` arm on `Other(\"RSVP_WAITLISTED\")` stops firing"),
        "{}",
        synced.body
    );
    assert!(
        !synced.body.contains("which `RsvpResult` does not list"),
        "{}",
        synced.body
    );
}
