//! One insta snapshot per operation: its contract as a user sees it and as it
//! goes on the wire (`codegen::report::contract`), made fresh from the spec in
//! `openapi/` through the real pipeline. A spec change, or a generator change,
//! shows up as exactly the pages of the operations it touches; `cargo insta
//! review` (or `cargo xtask upstream sync`) accepts it. Regen never writes
//! these files.

use std::collections::BTreeSet;

use codegen::report::contract::{self, Contract};
use sonoran_cms_tests::workspace_root;

fn regenerated_files() -> Vec<codegen::GeneratedFile> {
    let sources =
        codegen::Sources::read(&workspace_root()).expect("the spec and overlays are readable");
    codegen::generate_files(&sources).expect("the spec generates")
}

fn current_contracts() -> Vec<Contract> {
    contract::from_files(&regenerated_files()).expect("every operation has a contract page")
}

#[test]
fn every_operation_matches_its_accepted_contract() {
    let contracts = current_contracts();
    assert!(contracts.len() >= 60, "{} pages", contracts.len());
    for contract in &contracts {
        insta::assert_snapshot!(contract.rust_name.as_str(), contract.text);
    }
}

/// Guards the guard: a page no operation produces any more (an operation
/// removed from the spec) must be deleted, not left to rot. This is what
/// `cargo insta test --unreferenced=reject` does, without needing cargo-insta.
#[test]
fn no_contract_file_is_orphaned() {
    let expected: BTreeSet<String> = current_contracts()
        .iter()
        .map(|contract| contract::snapshot_file_name(&contract.rust_name))
        .collect();
    let folder = workspace_root().join(contract::SNAPSHOT_DIR);
    let on_disk: BTreeSet<String> = std::fs::read_dir(&folder)
        .expect("the snapshots folder exists")
        .map(|entry| {
            entry
                .expect("a readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".snap") || name.ends_with(".snap.new"))
        .collect();
    let orphaned: Vec<_> = on_disk.difference(&expected).collect();
    assert!(
        orphaned.is_empty(),
        "snapshot files no operation produces (delete them): {orphaned:?}"
    );
}

/// The page `cargo xtask upstream sync` writes is byte for byte the file insta
/// accepted, so a bot's pull request and a maintainer's `cargo insta accept`
/// never disagree about a header.
#[test]
fn sync_writes_the_files_insta_accepts() {
    for contract in current_contracts() {
        let path = workspace_root()
            .join(contract::SNAPSHOT_DIR)
            .join(contract::snapshot_file_name(&contract.rust_name));
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert_eq!(
            contract::snapshot_file(&contract),
            on_disk,
            "{}",
            path.display()
        );
    }
}

/// The limiter finds an operation's limit by the `operation_id` progenitor
/// reports to hooks; a name computed differently would silently leave it
/// unlimited.
#[test]
fn every_generated_operation_has_a_rate_limit() {
    let files = regenerated_files();
    let client = &files
        .iter()
        .find(|file| file.relative_path == codegen::pipeline::GENERATED_CLIENT_PATH)
        .expect("the client is generated")
        .contents;
    let reported: Vec<&str> = client
        .split("operation_id: \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(
        reported.len() >= 60,
        "{} operations report an operation_id",
        reported.len()
    );
    for operation in reported {
        assert!(
            operation
                .parse::<sonoran_cms::Operation>()
                .is_ok_and(
                    |operation| sonoran_cms::rate_limit::RateLimits::documented()
                        .limit_for(operation)
                        .is_some()
                ),
            "`{operation}` is not in the generated operation table"
        );
    }
}

/// The page of `cancel_session` as the checked-in snapshot holds it.
fn accepted_cancel_session() -> String {
    let path = workspace_root()
        .join(contract::SNAPSHOT_DIR)
        .join(contract::snapshot_file_name("cancel_session"));
    let file = std::fs::read_to_string(&path).expect("the accepted page");
    contract::page_of_snapshot(&file)
        .expect("an insta snapshot")
        .to_owned()
}

/// The contract of `cancel_session` read from a generated client changed by
/// `drift` (what a generator that drifted from the spec would write).
fn cancel_session_with_generator_drift(drift: impl Fn(&str) -> String) -> String {
    let mut files = regenerated_files();
    let client = files
        .iter_mut()
        .find(|file| file.relative_path == codegen::pipeline::GENERATED_CLIENT_PATH)
        .expect("the client is generated");
    let drifted = drift(&client.contents);
    assert_ne!(drifted, client.contents, "the drift must change the client");
    client.contents = drifted;
    contract::from_files(&files)
        .expect("the drifted client still reads")
        .into_iter()
        .find(|contract| contract.rust_name == "cancel_session")
        .expect("cancel_session's page")
        .text
}

/// The `send_generated` of `CancelSession`, and the text before and after it.
fn around_cancel_send(client: &str) -> (&str, &str, &str) {
    let start = client
        .find("impl<'a> CancelSession<'a>")
        .expect("the CancelSession builder");
    let end = start
        + client[start..]
            .find("\n    }\n")
            .expect("the end of CancelSession's impl");
    (&client[..start], &client[start..end], &client[end..])
}

#[test]
fn the_cancel_session_page_fails_when_its_generated_operation_drifts_from_the_spec() {
    let accepted = accepted_cancel_session();
    assert_eq!(
        cancel_session_with_generator_drift(|client| format!("{client}\n")),
        accepted,
        "control: an unchanged client reproduces the accepted page"
    );
    let in_cancel_send = |from: &'static str, to: &'static str| {
        move |client: &str| {
            let (before, send, after) = around_cancel_send(client);
            assert!(send.contains(from), "`{from}` is in CancelSession's send");
            format!("{before}{}{after}", send.replacen(from, to, 1))
        }
    };
    // The method: DELETE sent as POST, the drift the README shows.
    let method = cancel_session_with_generator_drift(in_cancel_send(".delete(url)", ".post(url)"));
    assert_ne!(method, accepted);
    assert!(method.contains("POST /v2/community/sessions"), "{method}");
    assert!(method.contains("DRIFT: the spec says DELETE"), "{method}");
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("the README");
    let shown = readme
        .split_once("<!-- a drift that tests/tests/contracts.rs makes -->")
        .and_then(|(_, after)| after.split_once("```diff\n"))
        .and_then(|(_, after)| after.split_once("\n```"))
        .map(|(diff, _)| diff)
        .expect("the README shows the drift's diff");
    for line in shown.lines() {
        let (sign, text) = line.split_at(1);
        let holds = match sign {
            "-" => {
                accepted.lines().any(|accepted| accepted == text)
                    && !method.lines().any(|page| page == text)
            }
            "+" => {
                method.lines().any(|page| page == text)
                    && !accepted.lines().any(|accepted| accepted == text)
            }
            _ => false,
        };
        assert!(
            holds,
            "the README's drift line `{line}` is not what the drifted page shows:\n{method}"
        );
    }
    // The path.
    let path = cancel_session_with_generator_drift(in_cancel_send(
        "/v2/community/sessions\"",
        "/v2/community/session\"",
    ));
    assert_ne!(path, accepted);
    assert!(
        path.contains("DRIFT: the spec says DELETE /v2/community/sessions"),
        "{path}"
    );
    // A body field: `serverId` no longer in the request type.
    let field = cancel_session_with_generator_drift(|client| {
        let start = client
            .find("pub struct CancelSessionRequest {")
            .expect("the request type");
        let field = "        #[serde(rename = \"serverId\")]\n        pub server_id: ::std::num::NonZeroU64,\n";
        let at = start + client[start..].find(field).expect("its serverId field");
        // The field and the doc comment line above it.
        let doc = client[..at]
            .trim_end_matches('\n')
            .rfind('\n')
            .map_or(at, |line| line + 1);
        assert!(
            client[doc..at].trim_start().starts_with("///"),
            "a doc line"
        );
        format!("{}{}", &client[..doc], &client[at + field.len()..])
    });
    assert_ne!(field, accepted);
    assert!(!field.contains("`serverId`"), "{field}");
    // The body no longer sent.
    let body = cancel_session_with_generator_drift(in_cancel_send(".json(&body)", ""));
    assert_ne!(body, accepted);
    assert!(body.contains("(NOT SENT)"), "{body}");
}

#[test]
fn a_client_that_is_not_progenitors_shape_is_an_error_naming_the_file() {
    let mut files = regenerated_files();
    let client = files
        .iter_mut()
        .find(|file| file.relative_path == codegen::pipeline::GENERATED_CLIENT_PATH)
        .expect("the client is generated");
    client.contents = client.contents.replace("send_generated", "send_elsewhere");
    let error = contract::from_files(&files).expect_err("no send, no page");
    let message = error.to_string();
    assert!(
        message.contains("sonoran-cms/src/generated.rs"),
        "{message}"
    );
    assert!(message.contains("has no `send_generated`"), "{message}");
}
