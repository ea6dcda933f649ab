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

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;

use codegen::{CodegenError, SourceText, Sources};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestRunner};
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
    // The shared entities and the sessions group's evidence; the other groups'
    // overlays target operations the cut-down spec does not have.
    sources.evidence.retain(|file| {
        file.name.ends_with("/shared.overlay.yaml") || file.name.ends_with("/sessions.overlay.yaml")
    });
    assert_eq!(
        sources.evidence.len(),
        2,
        "the shared and sessions evidence overlays"
    );
    reviewed_as_they_are(&mut sources);
    sources
}

/// Records the review of the evidence over the docs of `sources` as they are
/// (a maintainer's `cargo xtask evidence review`), so a case goes on past that
/// check to the stages this test explores; inputs the review cannot read keep
/// the real record and stop at the first stage that reads them.
fn reviewed_as_they_are(sources: &mut Sources) {
    if let Ok(file) = codegen::pipeline::reviewed_file(sources) {
        sources.reviewed = Some(SourceText::new(&file.relative_path, file.contents));
    }
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
        "maximum",
        "exclusiveMinimum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "readOnly",
        "writeOnly",
        "deprecated",
        "discriminator",
        "x-rust-type",
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
        json!("["),
        json!("^[a-z]+$"),
        json!(3),
        json!({"propertyName": "type"}),
        json!({"crate": "nope", "version": "1", "path": "nope::Nope"}),
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
        codegen::json_pointer::unescape_token(last),
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
/// `overlay_mutations` applied in turn to the enrichment, the derived overlay and
/// the sessions evidence overlay.
fn mutated_sources(docs_mutations: &[Mutation], overlay_mutations: &[Mutation]) -> Sources {
    let mut sources = real_sources();
    let mut docs = yaml_value(&sources.docs_spec);
    let mut derived = yaml_value(&sources.derived);
    let mut enrichment = yaml_value(&sources.enrichment);
    let sessions_index = sources
        .evidence
        .iter()
        .position(|file| file.name.ends_with("/sessions.overlay.yaml"))
        .expect("the sessions evidence overlay");
    let mut sessions = yaml_value(&sources.evidence[sessions_index]);
    for change in docs_mutations {
        apply(&mut docs, change);
    }
    for (index, change) in overlay_mutations.iter().enumerate() {
        let target = match index % 3 {
            0 => &mut enrichment,
            1 => &mut derived,
            _ => &mut sessions,
        };
        apply(target, change);
    }
    sources.derived.text = serde_yaml::to_string(&derived).expect("serializes");
    sources.docs_spec.text = serde_yaml::to_string(&docs).expect("serializes");
    sources.enrichment.text = serde_yaml::to_string(&enrichment).expect("serializes");
    sources.evidence[sessions_index].text = serde_yaml::to_string(&sessions).expect("serializes");
    reviewed_as_they_are(&mut sources);
    sources
}

/// The enriched spec the real (cut-down) inputs produce.
fn real_enriched_spec() -> Value {
    let files = codegen::generate_files(&real_sources()).expect("the real inputs generate");
    yaml_value(&SourceText::new("enriched.yaml", files[0].contents.clone()))
}

/// Inputs that put `enriched` through lint and generation as it is: it stands in
/// for the docs spec, and both overlays change nothing (an overlay needs one
/// action, so theirs merges an empty object into `info`).
fn enriched_sources(enriched: &Value) -> Sources {
    let no_actions = "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n\
                      - {description: changes nothing, target: $.info, update: {}}\n";
    Sources {
        docs_spec: SourceText::new(
            "enriched.yaml",
            serde_yaml::to_string(enriched).expect("serializes"),
        ),
        derived: SourceText::new("empty-derived.overlay.yaml", no_actions),
        evidence: Vec::new(),
        enrichment: SourceText::new("empty.overlay.yaml", no_actions),
        reviewed: None,
    }
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

/// Where a case's run of the pipeline ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// The YAML or the document's shape was refused.
    Refused,
    /// An overlay action was refused (no match, a contradiction, a bad action).
    EnrichmentRefused,
    /// Lint rejected the enriched spec.
    LintRejected,
    /// progenitor returned an error.
    GeneratorError,
    /// The client was generated.
    Generated,
}

fn outcome(result: &Result<Vec<codegen::GeneratedFile>, CodegenError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Generated,
        Err(CodegenError::Lint { .. }) => Outcome::LintRejected,
        Err(CodegenError::Generator { .. }) => Outcome::GeneratorError,
        Err(CodegenError::Action { .. }) => Outcome::EnrichmentRefused,
        Err(_) => Outcome::Refused,
    }
}

/// Runs `property` on `cases` cases drawn from `strategy` (see [`config`]); a panic
/// or a lint gap fails the test with proptest's shrunk input. Returns how many
/// cases ended where, so each test can check that its mutations reach the stages
/// it is there to exercise (a property whose every case stops at the YAML parser
/// would prove nothing about lint).
fn run_property<S: Strategy<Value: std::fmt::Debug>>(
    name: &str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<Vec<codegen::GeneratedFile>, CodegenError>,
) -> BTreeMap<Outcome, u32> {
    let tally = RefCell::new(BTreeMap::new());
    let mut runner = TestRunner::new(config());
    // A stack overflow aborts the process before proptest can report the input,
    // so `NEVER_PANICS_TRACE=1` prints each input before it runs.
    let trace = std::env::var_os("NEVER_PANICS_TRACE").is_some();
    let result = runner.run(&strategy, |value| {
        if trace {
            eprintln!("{name}: {value:?}");
        }
        let result = property(value);
        *tally.borrow_mut().entry(outcome(&result)).or_insert(0) += 1;
        assert_no_lint_gap(result)
    });
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
    let tally = tally.into_inner();
    eprintln!("{name}: {tally:?}");
    tally
}

#[track_caller]
fn assert_reached(tally: &BTreeMap<Outcome, u32>, stages: &[Outcome]) {
    let cases: u32 = tally.values().sum();
    for stage in stages {
        let reached = tally.get(stage).copied().unwrap_or(0);
        // One case in fifty is far below what the fixed seed gives (8 percent
        // or more for every checked stage) and above zero: it catches a harness
        // that stopped reaching the stage, not a change of luck.
        assert!(
            reached * 50 >= cases,
            "only {reached} of {cases} cases reached {stage:?}: {tally:?}"
        );
    }
}

/// Mutations of the docs spec and of both overlays, through the whole pipeline.
#[test]
fn mutated_inputs_never_panic() {
    let strategy = (
        prop::collection::vec(mutation(), 0..4),
        prop::collection::vec(mutation(), 0..3),
    );
    let tally = run_property(
        "mutated_inputs_never_panic",
        strategy,
        |(docs_mutations, overlay_mutations)| {
            codegen::generate_files(&mutated_sources(&docs_mutations, &overlay_mutations))
        },
    );
    assert_reached(
        &tally,
        &[
            Outcome::EnrichmentRefused,
            Outcome::LintRejected,
            Outcome::Generated,
        ],
    );
}

/// Mutations of the enriched spec itself: the widest reach into lint and progenitor.
#[test]
fn mutated_enriched_specs_never_panic() {
    let enriched = real_enriched_spec();
    let tally = run_property(
        "mutated_enriched_specs_never_panic",
        prop::collection::vec(mutation(), 1..5),
        |mutations| {
            let mut mutated = enriched.clone();
            for change in &mutations {
                apply(&mut mutated, change);
            }
            codegen::generate_files(&enriched_sources(&mutated))
        },
    );
    assert_reached(&tally, &[Outcome::LintRejected, Outcome::Generated]);
}

/// Corrupted YAML text: syntax errors must come back as errors.
#[test]
fn corrupted_yaml_never_panics() {
    let sources = real_sources();
    let strategy = (any::<usize>(), "[ -~\n\t]{0,6}", 0usize..4);
    let tally = run_property(
        "corrupted_yaml_never_panics",
        strategy,
        |(position, replacement, cut)| {
            let mut sources = sources.clone();
            let text = &sources.docs_spec.text;
            let at = position % text.len();
            let at = (0..=at)
                .rev()
                .find(|&index| text.is_char_boundary(index))
                .unwrap_or(0);
            let end = (at + cut).min(text.len());
            let end = (end..=text.len())
                .find(|&index| text.is_char_boundary(index))
                .unwrap_or(text.len());
            sources.docs_spec.text = format!("{}{}{}", &text[..at], replacement, &text[end..]);
            codegen::generate_files(&sources)
        },
    );
    assert_reached(&tally, &[Outcome::Refused]);
}

/// Specs that once reached a progenitor panic past lint, each now rejected by a
/// lint rule. A gap is recorded as the change to the real enriched spec it comes
/// down to (proptest's shrunk mutations name nodes by index, which any edit of the
/// inputs moves), and it must stay a lint error, never a panic.
#[test]
fn found_gaps_stay_closed() {
    // The harness itself: the unchanged enriched spec goes through and generates,
    // so a mutation's error (or panic) comes from the mutation.
    let unchanged = real_enriched_spec();
    let files = codegen::generate_files(&enriched_sources(&unchanged))
        .unwrap_or_else(|error| panic!("the unchanged enriched spec must generate: {error}"));
    assert_eq!(
        yaml_value(&SourceText::new(
            "regenerated.yaml",
            files[0].contents.clone()
        )),
        unchanged,
        "the pass-through overlays must change nothing"
    );

    let found = [
        (
            // progenitor asserts that only the body has a builder type.
            "a query parameter whose schema is an object",
            "/paths/~1v2~1community~1sessions~1current/get/parameters/0/schema",
            json!({"$ref": "#/components/schemas/CommunityServerSession"}),
        ),
        (
            // typify cannot render the default, and panics.
            "a string schema with a list as its default",
            "/components/schemas/Problem/properties/title/default",
            json!([]),
        ),
        (
            // typify recursed until the stack overflowed (an abort, not a panic).
            "a schema that is its own allOf member",
            "/components/schemas/Problem",
            json!({"allOf": [{"$ref": "#/components/schemas/Problem"}, {"type": "object"}]}),
        ),
    ];
    for (what, pointer, value) in found {
        let mut enriched = unchanged.clone();
        let (parent, key) = split_last(pointer).expect("a pointer below the root");
        match enriched.pointer_mut(&parent) {
            Some(Value::Object(object)) => {
                object.insert(key, value);
            }
            _ => panic!("{what}: the real spec has no object at {parent}"),
        }
        match codegen::generate_files(&enriched_sources(&enriched)) {
            Err(CodegenError::Lint { .. }) => {}
            Err(other) => panic!("{what}: expected a lint error, got: {other}"),
            Ok(_) => panic!("{what}: expected a lint error, but the spec generated"),
        }
    }
}
