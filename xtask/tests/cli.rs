//! The `cargo xtask regen` command line, run as a program on a copy of this
//! workspace's inputs: what it writes, what `--check` reports, and that a broken
//! input or a stale tree under `--check` changes no file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codegen::pipeline::{
    DERIVED_PATH, DOCS_SPEC_PATH, ENRICHED_SPEC_PATH, ENRICHMENT_PATH, EVIDENCE_DIR,
    GENERATED_CALLS_PATH, GENERATED_CLI_PATH, GENERATED_CLIENT_PATH, GENERATED_HTTPMOCK_PATH,
    GENERATED_ONE_OF_PATH, GENERATED_OPERATIONS_PATH, GENERATED_VALUE_SETS_PATH,
};

const OUTPUTS: [&str; 8] = [
    ENRICHED_SPEC_PATH,
    GENERATED_CLIENT_PATH,
    GENERATED_OPERATIONS_PATH,
    GENERATED_ONE_OF_PATH,
    GENERATED_CALLS_PATH,
    GENERATED_VALUE_SETS_PATH,
    GENERATED_HTTPMOCK_PATH,
    GENERATED_CLI_PATH,
];

/// The pipeline's input files: the docs spec, the derived overlay, every
/// evidence overlay and the enrichment.
fn inputs() -> Vec<String> {
    let mut inputs = vec![DOCS_SPEC_PATH.to_owned(), DERIVED_PATH.to_owned()];
    let mut evidence: Vec<String> = std::fs::read_dir(checkout().join(EVIDENCE_DIR))
        .expect("the evidence folder")
        .map(|entry| {
            format!(
                "{EVIDENCE_DIR}/{}",
                entry.expect("an entry").file_name().to_string_lossy()
            )
        })
        .collect();
    evidence.sort();
    assert!(!evidence.is_empty(), "the evidence overlays are inputs");
    inputs.extend(evidence);
    inputs.push(ENRICHMENT_PATH.to_owned());
    inputs
}

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// A temporary workspace holding the checkout's inputs and, with `outputs`, its
/// generated files too.
fn workspace(outputs: bool) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a temporary folder");
    let mut files = inputs();
    if outputs {
        files.extend(OUTPUTS.iter().map(|output| (*output).to_owned()));
    }
    for relative in &files {
        let target = root.path().join(relative);
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("mkdir");
        std::fs::copy(checkout().join(relative), &target).expect("copies");
    }
    root
}

fn xtask(root: &Path, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--workspace-root")
        .arg(root)
        .args(arguments)
        .output()
        .expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file below `root`, with its bytes and modification time.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    fn walk(folder: &Path, found: &mut BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)>) {
        for entry in std::fs::read_dir(folder).expect("lists") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else {
                let modified = std::fs::metadata(&path)
                    .and_then(|metadata| metadata.modified())
                    .expect("a modification time");
                found.insert(
                    path.clone(),
                    (std::fs::read(&path).expect("reads"), modified),
                );
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(root, &mut found);
    found
}

#[test]
fn check_on_a_stale_tree_names_each_file_and_writes_nothing() {
    let root = workspace(false);
    let before = snapshot(root.path());
    let output = xtask(root.path(), &["regen", "--check"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    for relative in OUTPUTS {
        assert!(
            stderr.contains(&format!(
                "error: {relative} is out of date; run `cargo xtask regen` and commit the result"
            )),
            "{stderr}"
        );
    }
    assert_eq!(snapshot(root.path()), before, "--check must not write");
}

#[test]
fn regen_writes_the_checked_in_files_byte_for_byte_then_changes_nothing() {
    let root = workspace(false);
    let output = xtask(root.path(), &["regen"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for relative in OUTPUTS {
        assert!(
            stdout.contains(&format!("updated   {relative}")),
            "{stdout}"
        );
        assert!(
            std::fs::read(root.path().join(relative)).expect("written")
                == std::fs::read(checkout().join(relative)).expect("checked in"),
            "{relative} differs from the checked-in file"
        );
    }

    let written = snapshot(root.path());
    let again = xtask(root.path(), &["regen"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("8 generated files: 0 updated, 8 unchanged"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(
        snapshot(root.path()),
        written,
        "an unchanged tree is not touched"
    );

    let check = xtask(root.path(), &["regen", "--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
}

#[test]
fn check_verbose_prints_the_difference() {
    let root = workspace(true);
    let table = root.path().join(GENERATED_OPERATIONS_PATH);
    let edited = std::fs::read_to_string(&table).expect("reads").replacen(
        r#"Operation::CancelSession => "cancel_session","#,
        r#"Operation::CancelSession => "cancel_sesion","#,
        1,
    );
    std::fs::write(&table, edited).expect("writes");
    let output = xtask(root.path(), &["regen", "--check", "-v"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(r#"-            Operation::CancelSession => "cancel_sesion","#)
            && stderr.contains(r#"+            Operation::CancelSession => "cancel_session","#),
        "the diff goes from disk to the expected contents:\n{stderr}"
    );
}

#[test]
fn a_broken_enrichment_stops_regen_and_changes_no_file() {
    let root = workspace(true);
    let enrichment = root.path().join(ENRICHMENT_PATH);
    let broken = std::fs::read_to_string(&enrichment)
        .expect("reads")
        .replace(
            "$.paths['/v2/community/sessions'].delete.responses",
            "$.paths['/v2/community/session'].delete.responses",
        );
    std::fs::write(&enrichment, broken).expect("writes");
    let before = snapshot(root.path());

    let output = xtask(root.path(), &["regen"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: regen stopped; no file was changed: ")
            && stderr.contains(ENRICHMENT_PATH)
            && stderr.contains("/v2/community/session'"),
        "the error names the file and the action:\n{stderr}"
    );
    assert_eq!(
        snapshot(root.path()),
        before,
        "a failed regen changes no file"
    );
}

#[test]
fn a_docs_change_beneath_an_evidence_correction_stops_regen_until_reviewed() {
    // What `import-docs` writes when getCurrentSession's example gains a
    // member: the derived schema beneath the evidence that replaces it.
    let root = workspace(true);
    let derived_path = root.path().join(DERIVED_PATH);
    let written = std::fs::read_to_string(&derived_path).expect("reads");
    let mut derived = codegen::load::parse_yaml(&codegen::SourceText::new(DERIVED_PATH, written))
        .expect("the derived overlay is YAML");
    derived["actions"][0]["update"]["schemas"]["GetCurrentSessionResponse"]["properties"]["data"]
        ["properties"]["region"] = serde_json::json!({"type": "string"});
    // JSON is YAML.
    std::fs::write(&derived_path, derived.to_string()).expect("writes");
    let before = snapshot(root.path());

    let stopped = xtask(root.path(), &["regen"]);
    assert_eq!(stopped.status.code(), Some(1));
    let stderr = text(&stopped.stderr);
    for part in [
        "openapi/evidence/sessions.overlay.yaml action /actions/6",
        "(getCurrentSession)",
        "field `.region` added (string)",
        "cargo xtask evidence review",
    ] {
        assert!(stderr.contains(part), "`{part}` in:\n{stderr}");
    }
    assert_eq!(
        snapshot(root.path()),
        before,
        "a stopped regen changes no file"
    );

    // A maintainer checks the action, then records the review: regen goes on,
    // and the report lists the docs field the type does not have.
    let reviewed = xtask(root.path(), &["evidence", "review"]);
    assert!(reviewed.status.success(), "{}", text(&reviewed.stderr));
    assert!(
        text(&reviewed.stdout).contains("updated   openapi/evidence/reviewed-docs.yaml"),
        "{}",
        text(&reviewed.stdout)
    );
    let regen = xtask(root.path(), &["regen"]);
    assert!(regen.status.success(), "{}", text(&regen.stderr));
    assert!(
        text(&regen.stdout).contains("- getCurrentSession: .data.region"),
        "{}",
        text(&regen.stdout)
    );
}

#[test]
fn a_probe_report_imports_as_actions_that_make_regen_accept_the_drifted_answers() {
    // What `sonoran-cms probe` reports of a drifted API (see
    // sonoran-cms-cli/tests/probe.rs): a member the type does not know, a
    // required member absent, a null, and two it cannot decide for the
    // maintainer (another type, another 2XX).
    let root = workspace(true);
    let report = serde_json::json!({
        "tool": "sonoran-cms probe", "redacted": true, "crate_version": "0.2.0",
        "spec_hash": "sha1:000000000000", "date": "2026-12-03T12:00:00Z", "calls": 3,
        "stopped": null, "skipped": {},
        "operations": [
            {"operation": "getServers", "calls": 1, "statuses": {"200": 1}, "differences": [
                {"path": "data.servers[].region", "kind": "a member the type does not know", "seen": "string", "count": 2},
                {"path": "data.servers[].id", "kind": "a required member absent", "seen": "absent", "count": 1}
            ]},
            {"operation": "getCurrentSession", "calls": 1, "statuses": {"200": 1}, "differences": [
                {"path": "data.sysStatus", "kind": "null where the type says no", "seen": "null", "count": 1},
                {"path": "data.serverId", "kind": "a value of another type", "seen": "string (the type says integer)", "count": 1}
            ]},
            {"operation": "getFullWhitelist", "calls": 1, "statuses": {"201": 1}, "differences": [
                {"path": "", "kind": "a status the docs do not name", "seen": "201", "count": 1}
            ]}
        ]
    });
    let report_path = root.path().join("probe-report.json");
    std::fs::write(&report_path, report.to_string()).expect("writes");

    let imported = xtask(
        root.path(),
        &["evidence", "import", &report_path.display().to_string()],
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let stdout = text(&imported.stdout);
    assert!(stdout.contains("appended"), "{stdout}");
    assert!(
        stdout.contains(
            "not imported: getCurrentSession: a value of another type at `data.serverId`"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("not imported: getFullWhitelist"),
        "{stdout}"
    );
    // Each action cites the report by hash and date.
    let shared =
        std::fs::read_to_string(root.path().join(EVIDENCE_DIR).join("shared.overlay.yaml"))
            .expect("reads");
    assert!(
        shared.contains("Source: sonoran-cms probe report sha1:")
            && shared.contains("2026-12-03T12:00:00Z"),
        "{shared}"
    );

    // The maintainer reviews the actions; regen then accepts the drifted answers.
    let regen = xtask(root.path(), &["regen"]);
    assert!(
        regen.status.success(),
        "{}{}",
        text(&regen.stdout),
        text(&regen.stderr)
    );
    let enriched = codegen::load::parse_yaml(&codegen::SourceText::new(
        ENRICHED_SPEC_PATH,
        std::fs::read_to_string(root.path().join(ENRICHED_SPEC_PATH)).expect("reads"),
    ))
    .expect("YAML");
    let schemas = &enriched["components"]["schemas"];
    assert_eq!(
        schemas["CommunityServer"]["properties"]["region"]["type"],
        "string"
    );
    assert!(
        !schemas["CommunityServer"]["required"]
            .as_array()
            .is_some_and(|required| required.iter().any(|name| name == "id")),
        "{}",
        schemas["CommunityServer"]
    );
    assert_eq!(
        schemas["CommunityServerSession"]["properties"]["sysStatus"]["nullable"],
        true
    );
}
