//! The change report (`cargo xtask changes`) and `cargo semver-checks` agree on
//! what a spec change does to users: for each kind of change, the report's
//! classification (breaking or additive) and whether semver-checks finds a
//! major change in the generated types are the same. The types are generated
//! by the pipeline's own code (progenitor, then `generate::public_api`), so
//! the test fails if, say, the types stopped being `#[non_exhaustive]` while
//! the report still called a new answer field additive.
//!
//! Needs `cargo-semver-checks` (`cargo install cargo-semver-checks --locked`).
//! Without it the test prints one line saying it did not run and passes, so
//! the README's test command works with only Rust; with
//! `SONORAN_CMS_REQUIRE_SEMVER_CHECKS=1` (CI sets it and installs the tool) it
//! fails instead.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use codegen::changes::Impact;
use serde_json::{Value, json};
use sonoran_cms_tests::workspace_root;

/// Set (to anything but `0` or empty) to make a missing `cargo-semver-checks`
/// fail this test rather than skip it.
const REQUIRE_VARIABLE: &str = "SONORAN_CMS_REQUIRE_SEMVER_CHECKS";

fn semver_checks_available() -> bool {
    Command::new("cargo")
        .args(["semver-checks", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A small spec of one operation, shaped as the real one is: a body with a
/// required field and a closed value set, an answer with an entity.
fn spec() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/v2/accounts/{accountId}/name": {"patch": {
            "operationId": "setAccountName",
            "parameters": [{"name": "accountId", "in": "path", "required": true,
                            "schema": {"type": "string", "format": "uuid"}}],
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Body"}}}},
            "responses": {"2XX": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Answer"}}}}}
        }}},
        "components": {"schemas": {
            "Body": {"type": "object", "required": ["newName"], "properties": {
                "newName": {"type": "string"},
                "kind": {"type": "string", "enum": ["main", "alt"]}}},
            "Answer": {"type": "object", "required": ["success", "data"], "properties": {
                "success": {"type": "boolean"},
                "data": {"$ref": "#/components/schemas/Account"}}},
            "Account": {"type": "object", "required": ["accId"], "properties": {
                "accId": {"type": "string", "format": "uuid"},
                "accName": {"type": "string"},
                "status": {"type": "string", "enum": ["active", "archived"]}}}
        }}
    })
}

/// The generated `types` module of `spec`, as a crate's `lib.rs`.
fn types_crate_source(spec: &Value) -> String {
    let typed = codegen::load::openapi("spec.yaml", spec).expect("a typed spec");
    let value_sets = codegen::value_sets::read(spec);
    let client = codegen::generate::client_source("spec.yaml", &typed, &value_sets, "// test\n")
        .expect("progenitor generates it");
    let file = syn::parse_file(&client).expect("the client parses");
    let types = file
        .items
        .into_iter()
        .find(|item| matches!(item, syn::Item::Mod(module) if module.ident == "types"))
        .expect("a types module");
    let mut crate_file: syn::File = syn::parse_quote! {
        #![allow(clippy::all, dead_code, unused_imports)]
    };
    crate_file.items.push(types);
    prettyplease::unparse(&crate_file)
}

/// Writes a crate holding `spec`'s types at `folder`.
fn write_crate(folder: &Path, spec: &Value) {
    std::fs::create_dir_all(folder.join("src")).expect("a crate folder");
    // The versions the workspace builds with, so nothing new is fetched.
    std::fs::write(
        folder.join("Cargo.toml"),
        r#"[package]
name = "semver-agreement-types"
version = "1.0.0"
edition = "2024"
publish = false

[dependencies]
serde = { version = "1.0.226", features = ["derive"] }
serde_json = "1.0.150"
uuid = { version = "1.29.3", features = ["serde"] }

[workspace]
"#,
    )
    .expect("a manifest");
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        folder.join("Cargo.lock"),
    )
    .expect("the workspace's lock file");
    std::fs::write(folder.join("src/lib.rs"), types_crate_source(spec)).expect("lib.rs");
}

/// What semver-checks says of going from `before` to `after`: `None` when no
/// major change is needed, else the lints that failed.
fn semver_checks(before: &Value, after: &Value, work: &Path) -> Option<String> {
    let (old, new) = (work.join("old"), work.join("new"));
    write_crate(&old, before);
    write_crate(&new, after);
    let output = Command::new("cargo")
        .args(["semver-checks", "check-release", "--manifest-path"])
        .arg(new.join("Cargo.toml"))
        .arg("--baseline-root")
        .arg(&old)
        .args(["--release-type", "minor"])
        // The dependencies are built once, beside the workspace's own.
        .env(
            "CARGO_TARGET_DIR",
            workspace_root().join("target/semver-agreement"),
        )
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .expect("cargo semver-checks runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        return None;
    }
    assert!(
        text.contains("--- failure "),
        "semver-checks failed without a lint (a build error?):\n{text}"
    );
    Some(
        text.lines()
            .filter(|line| line.starts_with("--- failure "))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

type Change = fn(&mut Value);

#[test]
fn the_change_report_and_semver_checks_agree_on_breaking_and_additive_changes() {
    if !semver_checks_available() {
        let required =
            std::env::var(REQUIRE_VARIABLE).is_ok_and(|value| !value.is_empty() && value != "0");
        assert!(
            !required,
            "`cargo semver-checks` is not installed, and {REQUIRE_VARIABLE} says this test must run \
             (cargo install cargo-semver-checks --locked)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the_change_report_and_semver_checks_agree_on_breaking_and_additive_changes did not \
             run: `cargo semver-checks` is not installed (cargo install cargo-semver-checks --locked); \
             set {REQUIRE_VARIABLE}=1 to make this a failure"
        );
        return;
    }
    let cases: [(&str, Change, Impact); 5] = [
        (
            "a new answer field",
            |spec| {
                spec.pointer_mut("/components/schemas/Account/properties")
                    .and_then(Value::as_object_mut)
                    .expect("properties")
                    .insert("region".into(), json!({"type": "string"}));
            },
            Impact::Additive,
        ),
        (
            "a new optional body input",
            |spec| {
                spec.pointer_mut("/components/schemas/Body/properties")
                    .and_then(Value::as_object_mut)
                    .expect("properties")
                    .insert("note".into(), json!({"type": "string"}));
            },
            Impact::Additive,
        ),
        (
            "a new value in an answer",
            |spec| {
                spec.pointer_mut("/components/schemas/Account/properties/status/enum")
                    .and_then(Value::as_array_mut)
                    .expect("values")
                    .push(json!("banned"));
            },
            Impact::Additive,
        ),
        (
            "an answer field removed",
            |spec| {
                spec.pointer_mut("/components/schemas/Account/properties")
                    .and_then(Value::as_object_mut)
                    .expect("properties")
                    .remove("accName");
            },
            Impact::Breaking,
        ),
        (
            "a value removed",
            |spec| {
                *spec
                    .pointer_mut("/components/schemas/Account/properties/status/enum")
                    .expect("values") = json!(["active"]);
            },
            Impact::Breaking,
        ),
    ];
    let work = tempfile::tempdir().expect("a work folder");
    let mut disagreements = Vec::new();
    for (index, (case, change, expected)) in cases.into_iter().enumerate() {
        let before = spec();
        let mut after = spec();
        change(&mut after);
        let report = codegen::changes::compare(("before", &before), ("after", &after))
            .expect("the report reads both specs");
        let impacts: Vec<Impact> = report
            .operations
            .values()
            .flatten()
            .map(|change| change.impact)
            .collect();
        assert!(!impacts.is_empty(), "{case}: the report lists the change");
        let report_says = if impacts.contains(&Impact::Breaking) {
            Impact::Breaking
        } else {
            Impact::Additive
        };
        assert_eq!(report_says, expected, "{case}: the report's classification");
        let lints = semver_checks(&before, &after, &work.path().join(index.to_string()));
        let semver_says = if lints.is_some() {
            Impact::Breaking
        } else {
            Impact::Additive
        };
        if semver_says != report_says {
            disagreements.push(format!(
                "{case}: the report says {report_says:?}, semver-checks {semver_says:?} ({})",
                lints.unwrap_or_else(|| "no lint failed".to_owned())
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "the change report and cargo semver-checks disagree:\n{}",
        disagreements.join("\n")
    );
}
