//! Property test: the generator never panics on input. proptest mutates the real
//! spec and enrichment (removing, replacing, renaming and inserting nodes with
//! OpenAPI-shaped values, and corrupting the YAML text) and runs the pipeline on
//! each; any panic fails the test, and so does progenitor panicking behind lint's
//! back (which the generator catches and reports as a lint gap).
//!
//! The cases are drawn from a fixed seed, so a run is reproducible and CI cannot
//! fail on one commit and pass on the next by luck. To explore further, set
//! `PROPTEST_RNG_SEED` to any number (a new seed draws new cases) and
//! `PROPTEST_CASES` to the number of cases per property (default below). Each gap a
//! search finds gets a lint rule and a case in `found_gaps_stay_closed`.

use std::path::PathBuf;

use codegen::{CodegenError, SourceText, Sources};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{Value, json};

const DEFAULT_CASES: u32 = 300;

/// The seed CI draws its cases from (any fixed number would do).
const DEFAULT_SEED: u64 = 0x5072_6f67_656e_6974;

fn openapi_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi")
}

/// The real inputs, cut down to the sessions group (4 operations) so that each
/// case runs progenitor on a small spec: the constructs are the same as in the
/// whole API, and thousands of cases fit in a test run.
fn real_sources() -> Sources {
    let mut sources =
        Sources::read(&openapi_folder().join("..")).expect("the real inputs are readable");
    let mut docs = yaml_value(&sources.docs_spec);
    docs["paths"]
        .as_object_mut()
        .expect("paths")
        .retain(|path, _| path.starts_with("/v2/community/sessions"));
    let derived = codegen::derive::derived_overlay(&docs);
    sources.docs_spec.text = serde_yaml::to_string(&docs).expect("serializes");
    sources.derived.text = serde_yaml::to_string(&derived).expect("serializes");
    sources
}

fn yaml_value(source: &SourceText) -> Value {
    codegen::load::parse_yaml(source).expect("the real inputs are valid YAML")
}

/// Keys and values that mean something in an OpenAPI document or overlay, so
/// mutations reach deep into lint and progenitor rather than failing at the shape.
fn vocabulary_keys() -> Vec<&'static str> {
    vec![
        "type",
        "properties",
        "required",
        "items",
        "$ref",
        "format",
        "minimum",
        "enum",
        "oneOf",
        "allOf",
        "anyOf",
        "not",
        "additionalProperties",
        "nullable",
        "default",
        "content",
        "schema",
        "encoding",
        "application/json",
        "text/plain",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "responses",
        "200",
        "201",
        "204",
        "101",
        "1000",
        "default",
        "4XX",
        "parameters",
        "requestBody",
        "operationId",
        "get",
        "post",
        "delete",
        "patch",
        "/v2/{id}",
        "/v2/{id}/{other}",
        "in",
        "name",
        "style",
        "x-dropshot-websocket",
        "x-dropshot-pagination",
        "serverId",
        "id",
        "target",
        "update",
        "remove",
        "description",
        "openapi",
    ]
}

fn vocabulary_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1000),
        json!(""),
        json!("x"),
        json!("3.1.0"),
        json!("#/components/schemas/Nope"),
        json!("#/components/schemas/Problem"),
        json!("$.paths.*"),
        json!([]),
        json!({}),
        json!(["serverId", "nope"]),
        json!({"type": "object"}),
        json!({"type": "number"}),
        json!({"type": "integer", "minimum": 1}),
        json!({"type": "string", "format": "uuid"}),
        json!({"type": "string", "enum": [1, "a", null]}),
        json!({"type": "array"}),
        json!({"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}),
        json!({"$ref": "#/components/schemas/Problem"}),
        json!({"$ref": "#/components/responses/Unauthorized"}),
        json!({"$ref": "#/paths"}),
        json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
        json!({"allOf": [{"$ref": "#/components/schemas/Problem"}, {"type": "object"}]}),
        json!({"description": "d", "content": {"text/plain": {"schema": {"type": "string"}}}}),
        json!({"description": "d", "content": {"application/json": {}}}),
        json!({"description": "d", "content": {"application/json": {"schema": {"type": "object", "properties": {"a": {"type": "string"}}}}}}),
        json!({"name": "id", "in": "path", "required": false, "schema": {"type": "string"}}),
        json!({"name": "id", "in": "path", "required": true, "schema": {"type": "number"}}),
        json!({"name": "q", "in": "query", "schema": {"type": "string"}}),
        json!({"name": "c", "in": "cookie", "schema": {"type": "string"}}),
        json!({"name": "h", "in": "header", "content": {"application/json": {}}}),
        json!({"operationId": "cancelSession", "responses": {"204": {"description": "x"}}}),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Remove {
        node: usize,
    },
    Replace {
        node: usize,
        value: usize,
    },
    RenameKey {
        node: usize,
        key: usize,
    },
    InsertKey {
        node: usize,
        key: usize,
        value: usize,
    },
    CopyNode {
        from: usize,
        to: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(|node| Mutation::Remove { node }),
        (any::<usize>(), any::<usize>())
            .prop_map(|(node, value)| Mutation::Replace { node, value }),
        (any::<usize>(), any::<usize>()).prop_map(|(node, key)| Mutation::RenameKey { node, key }),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(node, key, value)| Mutation::InsertKey { node, key, value }),
        (any::<usize>(), any::<usize>()).prop_map(|(from, to)| Mutation::CopyNode { from, to }),
    ]
}

/// Every node's JSON pointer, in document order (the root is "").
fn pointers(value: &Value, pointer: String, found: &mut Vec<String>) {
    found.push(pointer.clone());
    match value {
        Value::Object(object) => {
            for (key, nested) in object {
                pointers(nested, codegen::json_pointer::child(&pointer, key), found);
            }
        }
        Value::Array(items) => {
            for (index, nested) in items.iter().enumerate() {
                pointers(
                    nested,
                    codegen::json_pointer::child(&pointer, &index.to_string()),
                    found,
                );
            }
        }
        _ => {}
    }
}

fn split_last(pointer: &str) -> Option<(String, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((
        parent.to_owned(),
        last.replace("~1", "/").replace("~0", "~"),
    ))
}

fn apply(document: &mut Value, mutation: &Mutation) {
    let mut all = Vec::new();
    pointers(document, String::new(), &mut all);
    let pick = |index: usize| all[index % all.len()].clone();
    let keys = vocabulary_keys();
    let values = vocabulary_values();
    match mutation {
        Mutation::Remove { node } => {
            let Some((parent, last)) = split_last(&pick(*node)) else {
                return;
            };
            match document.pointer_mut(&parent) {
                Some(Value::Object(object)) => {
                    object.shift_remove(&last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(index) = last.parse::<usize>()
                        && index < items.len()
                    {
                        items.remove(index);
                    }
                }
                _ => {}
            }
        }
        Mutation::Replace { node, value } => {
            if let Some(slot) = document.pointer_mut(&pick(*node)) {
                *slot = values[value % values.len()].clone();
            }
        }
        Mutation::RenameKey { node, key } => {
            let Some((parent, last)) = split_last(&pick(*node)) else {
                return;
            };
            if let Some(Value::Object(object)) = document.pointer_mut(&parent)
                && let Some(moved) = object.shift_remove(&last)
            {
                object.insert(keys[key % keys.len()].to_owned(), moved);
            }
        }
        Mutation::InsertKey { node, key, value } => {
            if let Some(Value::Object(object)) = document.pointer_mut(&pick(*node)) {
                object.insert(
                    keys[key % keys.len()].to_owned(),
                    values[value % values.len()].clone(),
                );
            }
        }
        Mutation::CopyNode { from, to } => {
            let copied = document.pointer(&pick(*from)).cloned();
            if let (Some(copied), Some(slot)) = (copied, document.pointer_mut(&pick(*to))) {
                *slot = copied;
            }
        }
    }
}

/// The real inputs with `docs_mutations` applied to the docs spec and
/// `overlay_mutations` applied alternately to the enrichment and the derived overlay.
fn mutated_sources(docs_mutations: &[Mutation], overlay_mutations: &[Mutation]) -> Sources {
    let mut sources = real_sources();
    let mut docs = yaml_value(&sources.docs_spec);
    let mut derived = yaml_value(&sources.derived);
    let mut enrichment = yaml_value(&sources.enrichment);
    for change in docs_mutations {
        apply(&mut docs, change);
    }
    for (index, change) in overlay_mutations.iter().enumerate() {
        apply(
            if index % 2 == 0 {
                &mut enrichment
            } else {
                &mut derived
            },
            change,
        );
    }
    sources.derived.text = serde_yaml::to_string(&derived).expect("serializes");
    sources.docs_spec.text = serde_yaml::to_string(&docs).expect("serializes");
    sources.enrichment.text = serde_yaml::to_string(&enrichment).expect("serializes");
    sources
}

#[track_caller]
fn assert_no_lint_gap(
    result: Result<Vec<codegen::GeneratedFile>, CodegenError>,
) -> Result<(), TestCaseError> {
    if let Err(error @ CodegenError::GeneratorPanicked { .. }) = result {
        return Err(TestCaseError::fail(error.to_string()));
    }
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    // `ProptestConfig::default()` has already read `PROPTEST_RNG_SEED` when it is set.
    let rng_seed = match std::env::var_os("PROPTEST_RNG_SEED") {
        Some(_) => ProptestConfig::default().rng_seed,
        None => RngSeed::Fixed(DEFAULT_SEED),
    };
    ProptestConfig {
        cases,
        rng_seed,
        // Shrinking is what makes a failure readable; keep it, but bounded.
        max_shrink_iters: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Mutations of the docs spec and the enrichment, through the whole pipeline.
    #[test]
    fn mutated_inputs_never_panic(
        docs_mutations in prop::collection::vec(mutation(), 0..4),
        enrichment_mutations in prop::collection::vec(mutation(), 0..3),
    ) {
        let sources = mutated_sources(&docs_mutations, &enrichment_mutations);
        assert_no_lint_gap(codegen::generate_files(&sources))?;
    }

    /// Mutations of the enriched spec itself: the widest reach into lint and progenitor.
    #[test]
    fn mutated_enriched_specs_never_panic(mutations in prop::collection::vec(mutation(), 1..5)) {
        let sources = real_sources();
        let files = codegen::generate_files(&sources).expect("the real inputs generate");
        let enriched_text = &files[0].contents;
        let mut enriched = yaml_value(&SourceText::new("enriched.yaml", enriched_text.clone()));
        for change in &mutations {
            apply(&mut enriched, change);
        }
        // An overlay that changes nothing, so the enriched spec goes through as is.
        let no_actions = "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions: []\n";
        let sources = Sources {
            docs_spec: SourceText::new("enriched.yaml", serde_yaml::to_string(&enriched).expect("serializes")),
            derived: SourceText::new("empty-derived.overlay.yaml", no_actions),
            enrichment: SourceText::new("empty.overlay.yaml", no_actions),
        };
        assert_no_lint_gap(codegen::generate_files(&sources))?;
    }

    /// Corrupted YAML text: syntax errors must come back as errors.
    #[test]
    fn corrupted_yaml_never_panics(position in any::<usize>(), replacement in "[ -~\n\t]{0,6}", cut in 0usize..4) {
        let mut sources = real_sources();
        let text = &sources.docs_spec.text;
        let at = (position % text.len()).min(text.len());
        let at = (0..=at).rev().find(|&index| text.is_char_boundary(index)).unwrap_or(0);
        let end = (at + cut).min(text.len());
        let end = (end..=text.len()).find(|&index| text.is_char_boundary(index)).unwrap_or(text.len());
        sources.docs_spec.text = format!("{}{}{}", &text[..at], replacement, &text[end..]);
        assert_no_lint_gap(codegen::generate_files(&sources))?;
    }
}

/// Inputs that once reached a progenitor panic past lint, as proptest shrank them,
/// each now rejected by a lint rule. They must stay errors, never panics.
#[test]
fn found_gaps_stay_closed() {
    let found: [(&str, Vec<Mutation>, Vec<Mutation>); 1] = [(
        // A query parameter's schema replaced by an object: progenitor asserts
        // that only the body has a builder type.
        "object query parameter",
        vec![],
        vec![
            Mutation::InsertKey {
                node: 14335450380526216,
                key: 5815729205158650515,
                value: 2164448678929,
            },
            Mutation::CopyNode {
                from: 17872783853291396327,
                to: 11069189664197630147,
            },
        ],
    )];
    for (what, docs_mutations, overlay_mutations) in found {
        let result = codegen::generate_files(&mutated_sources(&docs_mutations, &overlay_mutations));
        match result {
            Err(CodegenError::Lint { .. }) => {}
            Err(other) => panic!("{what}: expected a lint error, got: {other}"),
            Ok(_) => panic!("{what}: expected a lint error, but the spec generated"),
        }
    }
}
