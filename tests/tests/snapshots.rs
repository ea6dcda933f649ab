//! insta snapshots of the generated client, one per operation piece (method,
//! request builder) and one per type an operation uses, generated fresh from the
//! spec in `openapi/`. A spec change shows up as exactly the snapshots it touches;
//! `cargo insta review` accepts it.

use std::collections::BTreeSet;

use sonoran_cms_tests::generated_code::pieces;
use sonoran_cms_tests::{generate_client, workspace_root};

const SNAPSHOT_PREFIX: &str = "snapshots__";

fn current_pieces() -> Vec<sonoran_cms_tests::generated_code::Piece> {
    let sources =
        codegen::Sources::read(&workspace_root()).expect("the spec and enrichment are readable");
    let client = generate_client(&sources).expect("the spec generates a client");
    pieces(&client).expect("the generated client can be cut into pieces")
}

#[test]
fn every_operation_matches_its_accepted_snapshot() {
    let pieces = current_pieces();
    for piece in &pieces {
        insta::assert_snapshot!(piece.name.as_str(), piece.code);
    }
}

/// Guards the guard: a snapshot file no test asserts any more (an operation
/// removed from the spec) must be deleted, not left to rot. This is what
/// `cargo insta test --unreferenced=reject` does, without needing cargo-insta.
#[test]
fn no_snapshot_file_is_orphaned() {
    let expected: BTreeSet<String> = current_pieces()
        .iter()
        .map(|piece| format!("{SNAPSHOT_PREFIX}{}.snap", piece.name))
        .collect();
    let folder = workspace_root().join("tests/tests/snapshots");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&folder)
        .expect("the snapshots folder exists")
        .map(|entry| {
            entry
                .expect("a readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with(SNAPSHOT_PREFIX) && name.ends_with(".snap"))
        .collect();
    let orphaned: Vec<_> = on_disk.difference(&expected).collect();
    assert!(
        orphaned.is_empty(),
        "snapshots no operation produces any more (delete them): {orphaned:?}"
    );
}

#[test]
fn cancel_session_has_a_method_a_builder_and_a_typed_body() {
    let names: Vec<String> = current_pieces()
        .into_iter()
        .map(|piece| piece.name)
        .collect();
    for expected in [
        "cancel_session-method",
        "cancel_session-builder",
        "type-CancelSessionRequest",
        "type-Problem",
    ] {
        assert!(
            names.iter().any(|name| name == expected),
            "missing piece {expected} in {names:?}"
        );
    }
}

/// The limiter finds an operation's limit by the `operation_id` progenitor reports
/// to hooks; a name computed differently would silently leave it unlimited.
#[test]
fn every_generated_operation_has_a_rate_limit() {
    let sources =
        codegen::Sources::read(&workspace_root()).expect("the spec and enrichment are readable");
    let client = generate_client(&sources).expect("the spec generates a client");
    let reported: Vec<&str> = client
        .split("operation_id: \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(!reported.is_empty(), "no operation reports an operation_id");
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
