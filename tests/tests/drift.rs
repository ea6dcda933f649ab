//! Drift tests: change the docs spec the ways published docs change, and prove that
//! every change either changes the regenerated operation's snapshot (so review sees
//! it) or stops regen with an error naming the enrichment action that no longer fits.

use serde_json::{Value, json};
use sonoran_cms_tests::generated_code::{Piece, pieces};
use sonoran_cms_tests::{generate_client, workspace_root};

const SESSIONS_PATH: &str = "/v2/community/sessions";

fn real_sources() -> codegen::Sources {
    codegen::Sources::read(&workspace_root()).expect("the spec and enrichment are readable")
}

/// Regenerates the client with the docs spec changed by `change`.
fn regenerate_with_docs_change(
    change: impl FnOnce(&mut Value),
) -> Result<Vec<Piece>, codegen::CodegenError> {
    let mut sources = real_sources();
    let mut docs: Value =
        serde_yaml::from_str(&sources.docs_spec.text).expect("the docs spec is YAML");
    change(&mut docs);
    sources.docs_spec.text = serde_yaml::to_string(&docs).expect("serializes");
    let client = generate_client(&sources)?;
    Ok(pieces(&client).expect("the generated client can be cut into pieces"))
}

/// The accepted snapshot of a piece, as `cargo insta review` stored it.
fn accepted_snapshot(piece_name: &str) -> String {
    let path = workspace_root().join(format!(
        "tests/tests/snapshots/snapshots__{piece_name}.snap"
    ));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    // An insta snapshot is a `---`-delimited header, then the contents.
    let contents = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(_, contents)| contents)
        .unwrap_or_else(|| panic!("{} is not an insta snapshot", path.display()));
    contents.trim_end().to_owned()
}

fn cancel_session_operation(docs: &mut Value) -> &mut Value {
    &mut docs["paths"][SESSIONS_PATH]["delete"]
}

fn body_schema(docs: &mut Value) -> &mut Value {
    &mut cancel_session_operation(docs)["requestBody"]["content"]["application/json"]["schema"]
}

#[track_caller]
fn assert_piece_differs(change: impl FnOnce(&mut Value), piece_name: &str) {
    let pieces = regenerate_with_docs_change(change).expect("this docs change still generates");
    let accepted = accepted_snapshot(piece_name);
    let piece = pieces
        .iter()
        .find(|piece| piece.name == piece_name)
        .unwrap_or_else(|| panic!("{piece_name} is no longer generated"));
    assert_ne!(
        piece.code.trim_end(),
        accepted,
        "the snapshot of {piece_name} did not change"
    );
}

#[track_caller]
fn assert_regen_stops(
    change: impl FnOnce(&mut Value),
    action_index: usize,
    expected_message: &str,
) {
    let error = regenerate_with_docs_change(change).expect_err("this docs change must stop regen");
    let message = error.to_string();
    assert!(
        matches!(&error, codegen::CodegenError::Action { index, .. } if *index == action_index),
        "expected enrichment action {action_index} to fail, got: {message}"
    );
    assert!(
        message.starts_with("openapi/enrichment.overlay.yaml: action /actions/"),
        "{message}"
    );
    assert!(message.contains(expected_message), "{message}");
}

/// Index of the enrichment action that replaces the docs' bare body schema.
const REPLACE_BARE_BODY_ACTION: usize = 2;
/// Index of the enrichment action that declares 401 and 429 on every operation.
const COMMON_ERRORS_ACTION: usize = 1;

#[test]
fn the_unchanged_docs_reproduce_every_accepted_snapshot() {
    // Without this control, "differs" below could pass because reading failed.
    let pieces = regenerate_with_docs_change(|_| {}).expect("generates");
    assert!(!pieces.is_empty());
    for piece in pieces {
        assert_eq!(
            piece.code.trim_end(),
            accepted_snapshot(&piece.name),
            "{}",
            piece.name
        );
    }
}

#[test]
fn a_field_renamed_in_the_docs_stops_regen() {
    assert_regen_stops(
        |docs| {
            *body_schema(docs) = json!({"type": "object", "properties": {
                "serverId": {"type": "integer"}, "accountId": {"type": "string"}}});
        },
        REPLACE_BARE_BODY_ACTION,
        "matches nothing in the spec, so the docs have changed under it",
    );
}

#[test]
fn a_field_type_changed_in_the_docs_stops_regen() {
    assert_regen_stops(
        |docs| {
            *body_schema(docs) = json!({"type": "object", "properties": {
                "serverId": {"type": "string"}, "accId": {"type": "string"}}});
        },
        REPLACE_BARE_BODY_ACTION,
        "matches nothing in the spec",
    );
}

#[test]
fn a_field_added_in_the_docs_stops_regen() {
    assert_regen_stops(
        |docs| {
            *body_schema(docs) =
                json!({"type": "object", "properties": {"reason": {"type": "string"}}});
        },
        REPLACE_BARE_BODY_ACTION,
        "matches nothing in the spec",
    );
}

#[test]
fn a_body_schema_given_by_reference_in_the_docs_stops_regen() {
    assert_regen_stops(
        |docs| *body_schema(docs) = json!({"$ref": "#/components/schemas/Elsewhere"}),
        REPLACE_BARE_BODY_ACTION,
        "matches nothing in the spec",
    );
}

#[test]
fn success_status_204_becoming_200_changes_the_builder() {
    assert_piece_differs(
        |docs| {
            cancel_session_operation(docs)["responses"] = json!({"200": {"description": "OK"}});
        },
        "cancel_session-builder",
    );
}

#[test]
fn a_changed_summary_changes_the_method_docs() {
    assert_piece_differs(
        |docs| cancel_session_operation(docs)["summary"] = json!("Cancel a session"),
        "cancel_session-method",
    );
}

#[test]
fn a_renamed_operation_id_removes_the_accepted_method() {
    let pieces = regenerate_with_docs_change(|docs| {
        cancel_session_operation(docs)["operationId"] = json!("cancelCommunitySession");
    })
    .expect("generates");
    let names: Vec<_> = pieces.iter().map(|piece| piece.name.as_str()).collect();
    assert!(!names.contains(&"cancel_session-method"), "{names:?}");
    assert!(
        names.contains(&"cancel_community_session-method"),
        "{names:?}"
    );
}

#[test]
fn a_changed_path_stops_regen() {
    assert_regen_stops(
        |docs| {
            let operation = docs["paths"][SESSIONS_PATH].take();
            docs["paths"] = json!({"/v2/community/session": operation});
        },
        REPLACE_BARE_BODY_ACTION,
        "matches nothing in the spec",
    );
}

#[test]
fn a_changed_method_stops_regen() {
    assert_regen_stops(
        |docs| {
            let operation = cancel_session_operation(docs).take();
            docs["paths"][SESSIONS_PATH] = json!({"post": operation});
        },
        REPLACE_BARE_BODY_ACTION,
        "matches nothing in the spec",
    );
}

#[test]
fn a_removed_operation_stops_regen() {
    assert_regen_stops(
        |docs| docs["paths"] = json!({}),
        COMMON_ERRORS_ACTION,
        "matches nothing in the spec",
    );
}
