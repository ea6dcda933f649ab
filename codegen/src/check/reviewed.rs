//! Evidence corrections held to the docs they were reviewed against: an
//! evidence action that replaces or restates a docs-derived schema (`remove` of
//! it, or an `update` that sets it again) would otherwise hide every later docs
//! change beneath it. The docs' shape beneath each such action, as a
//! maintainer last reviewed it, is recorded in [`REVIEWED_PATH`] (written by
//! `cargo xtask evidence review`); regen stops when the docs' shape there now
//! differs, naming the operation, the action and the fields added, removed or
//! retyped, until the action is updated and the review recorded again.

use std::collections::BTreeMap;

use roas_overlay::common::apply::{compile_path, locate};
use serde_json::Value;

use crate::error::CodegenError;
use crate::json_pointer;

/// Where the reviewed shapes are kept, beside the evidence overlays (not an
/// overlay: `*.overlay.yaml` files are applied, this one is compared).
pub const REVIEWED_PATH: &str = "openapi/evidence/reviewed-docs.yaml";

/// The docs' shape under one place: each field's path from there (`.` is the
/// place itself, `.items[].name` a member of a list's items) and its type
/// (`string`, `string(uuid)`, `integer?` when nullable, `object`, `array`).
pub type Shape = BTreeMap<String, String>;

/// Every reviewed shape: overlay file name, then the docs' JSON pointer.
pub type Reviewed = BTreeMap<String, BTreeMap<String, Shape>>;

/// One place in the docs an evidence action replaces or restates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restated {
    /// The overlay file's name (`sessions.overlay.yaml`).
    pub file: String,
    /// The action's index in `actions`.
    pub index: usize,
    /// The action's target.
    pub target: String,
    /// The docs' JSON pointer of the schema restated.
    pub pointer: String,
    /// The docs' shape there now.
    pub shape: Shape,
}

/// Whether `value` is a schema (rather than a map of schemas or a plain value).
fn is_schema(value: &Value) -> bool {
    [
        "type",
        "properties",
        "items",
        "$ref",
        "oneOf",
        "anyOf",
        "allOf",
        "enum",
    ]
    .iter()
    .any(|key| value.get(key).is_some())
}

/// The places of `docs` (the docs spec with the derived schemas, before any
/// evidence) that the actions of `overlay` (the file `file`) replace or
/// restate, with the docs' shape at each.
pub fn restated(docs: &Value, file: &str, overlay: &Value) -> Vec<Restated> {
    let mut found: Vec<Restated> = Vec::new();
    for (index, action) in overlay["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(target) = action["target"].as_str() else {
            continue;
        };
        let Ok(path) = compile_path(target) else {
            continue;
        };
        for pointer in locate(docs, &path) {
            let mut places = Vec::new();
            if action["remove"] == Value::Bool(true) {
                places.push(pointer.clone());
            }
            if let Some(update) = action["update"].as_object() {
                places.extend(update.keys().map(|key| json_pointer::child(&pointer, key)));
            }
            for place in places {
                let Some(schema) = docs.pointer(&place).filter(|value| is_schema(value)) else {
                    continue;
                };
                if found.iter().any(|known| known.pointer == place) {
                    continue;
                }
                let mut shape = Shape::new();
                shape_of(docs, schema, ".", 0, &mut shape);
                found.push(Restated {
                    file: file.to_owned(),
                    index,
                    target: target.to_owned(),
                    pointer: place,
                    shape,
                });
            }
        }
    }
    found
}

/// The evidence actions the docs now agree with: each place an action
/// replaces or restates where the docs' schema (`docs`, before any evidence)
/// is now exactly the schema the spec has there after every overlay
/// (`enriched`), descriptions, titles and examples aside. Such an action
/// changes nothing any more: a candidate to retire.
pub fn agreeing(docs: &Value, evidence: &[(String, Value)], enriched: &Value) -> Vec<Restated> {
    evidence
        .iter()
        .flat_map(|(file, overlay)| restated(docs, file, overlay))
        .filter(|place| {
            match (
                docs.pointer(&place.pointer),
                enriched.pointer(&place.pointer),
            ) {
                (Some(before), Some(after)) => contract_of(before) == contract_of(after),
                _ => false,
            }
        })
        .collect()
}

/// A schema without the words that are not part of its contract.
fn contract_of(schema: &Value) -> Value {
    match schema {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(key, _)| {
                    !matches!(
                        key.as_str(),
                        "description" | "title" | "example" | "examples"
                    )
                })
                .map(|(key, value)| (key.clone(), contract_of(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(contract_of).collect()),
        other => other.clone(),
    }
}

/// The deepest a shape is followed (a schema nested deeper is not recorded).
const DEEPEST: usize = 32;

/// Records the type of `schema` at `at`, and of every member beneath it,
/// following `$ref`s within `spec`; a `$ref` already followed on the way here
/// (a recursive schema) is recorded as `ref` and not followed again.
fn shape_of(spec: &Value, schema: &Value, at: &str, depth: usize, shape: &mut Shape) {
    shape_within(spec, schema, at, depth, &mut Vec::new(), shape);
}

fn shape_within<'a>(
    spec: &'a Value,
    schema: &'a Value,
    at: &str,
    depth: usize,
    followed: &mut Vec<&'a str>,
    shape: &mut Shape,
) {
    if depth > DEEPEST {
        return;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        if followed.contains(&reference) {
            shape.insert(at.to_owned(), "ref".to_owned());
            return;
        }
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| spec.pointer(pointer))
            .unwrap_or(&Value::Null);
        followed.push(reference);
        shape_within(spec, target, at, depth + 1, followed, shape);
        followed.pop();
        return;
    }
    if let Some([single]) = schema["allOf"].as_array().map(Vec::as_slice) {
        shape_within(spec, single, at, depth + 1, followed, shape);
        return;
    }
    let kind = match schema["type"].as_str() {
        Some(kind) => kind.to_owned(),
        None if schema.get("properties").is_some() => "object".to_owned(),
        None if schema.get("items").is_some() => "array".to_owned(),
        None if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() => {
            "oneOf".to_owned()
        }
        None => "any".to_owned(),
    };
    let mut written = kind;
    if let Some(format) = schema["format"].as_str() {
        written = format!("{written}({format})");
    }
    if schema["nullable"] == Value::Bool(true) {
        written.push('?');
    }
    shape.insert(at.to_owned(), written);
    let member = |name: &str| {
        if at == "." {
            format!(".{name}")
        } else {
            format!("{at}.{name}")
        }
    };
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            shape_within(spec, property, &member(name), depth + 1, followed, shape);
        }
    }
    if let Some(items) = schema.get("items") {
        let at = if at == "." {
            ".[]".to_owned()
        } else {
            format!("{at}[]")
        };
        shape_within(spec, items, &at, depth + 1, followed, shape);
    }
    for key in ["oneOf", "anyOf"] {
        for (position, form) in schema[key].as_array().into_iter().flatten().enumerate() {
            shape_within(
                spec,
                form,
                &format!("{at}|{position}"),
                depth + 1,
                followed,
                shape,
            );
        }
    }
}

/// What changed from `before` to `after`, one line per field, in order.
pub fn differences(before: &Shape, after: &Shape) -> Vec<String> {
    let mut lines = Vec::new();
    for (field, kind) in after {
        match before.get(field) {
            None => lines.push(format!("field `{field}` added ({kind})")),
            Some(was) if was != kind => {
                lines.push(format!("field `{field}` retyped ({was} → {kind})"))
            }
            Some(_) => {}
        }
    }
    for (field, kind) in before {
        if !after.contains_key(field) {
            lines.push(format!("field `{field}` removed (was {kind})"));
        }
    }
    lines
}

/// The operations of `docs` whose bodies name the component a pointer is in
/// (`/components/schemas/Name/..`), by operationId.
fn operations_using(docs: &Value, pointer: &str) -> Vec<String> {
    let Some(name) = pointer
        .strip_prefix("/components/schemas/")
        .and_then(|rest| rest.split('/').next())
    else {
        return Vec::new();
    };
    let reference = format!(
        "\"#/components/schemas/{}\"",
        name.replace("~1", "/").replace("~0", "~")
    );
    let mut operations: Vec<String> = crate::operations::json_with_ids(docs)
        .filter(|operation| operation.to_string().contains(&reference))
        .filter_map(|operation| operation["operationId"].as_str().map(str::to_owned))
        .collect();
    operations.sort();
    operations
}

/// Every restated place of the evidence overlays `evidence` (file name and
/// parsed overlay) over `docs`, as the reviewed file records them.
pub fn record(docs: &Value, evidence: &[(String, Value)]) -> Reviewed {
    let mut reviewed = Reviewed::new();
    for (file, overlay) in evidence {
        for place in restated(docs, file, overlay) {
            reviewed
                .entry(place.file)
                .or_default()
                .insert(place.pointer, place.shape);
        }
    }
    reviewed
}

/// Stops when the docs beneath an evidence action differ from what was
/// reviewed, or a restated place has no review, or a review names a place no
/// action restates any more. `evidence_dir` prefixes the overlay file names in
/// messages.
pub fn check(
    docs: &Value,
    evidence: &[(String, Value)],
    reviewed: &Reviewed,
    evidence_dir: &str,
) -> Result<(), CodegenError> {
    let mut problems = Vec::new();
    let now = record(docs, evidence);
    for (file, overlay) in evidence {
        for place in restated(docs, file, overlay) {
            let location = format!(
                "{evidence_dir}/{file} action /actions/{} (target `{}`), at {}",
                place.index,
                place.target,
                json_pointer::display(&place.pointer)
            );
            let operations = operations_using(docs, &place.pointer);
            let used_by = if operations.is_empty() {
                String::new()
            } else {
                format!(" ({})", operations.join(", "))
            };
            match reviewed
                .get(file)
                .and_then(|places| places.get(&place.pointer))
            {
                None => problems.push(format!(
                    "{location}{used_by}: restates the docs there, but no review of it is recorded"
                )),
                Some(before) => {
                    let changes = differences(before, &place.shape);
                    if !changes.is_empty() {
                        problems.push(format!(
                            "{location}{used_by}: the docs changed beneath it since it was reviewed: {}",
                            changes.join("; ")
                        ));
                    }
                }
            }
        }
    }
    for (file, places) in reviewed {
        for pointer in places.keys() {
            if !now
                .get(file)
                .is_some_and(|current| current.contains_key(pointer))
            {
                problems.push(format!(
                    "{evidence_dir}/{file}, at {}: a review is recorded, but no action restates the docs there any more",
                    json_pointer::display(pointer)
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(CodegenError::Review {
        file: REVIEWED_PATH.to_owned(),
        problems,
    })
}

/// A value a docs example shows that an open value set does not list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnlistedValue {
    /// Where in the answer (`.data`, `.data.items[].type`).
    pub field: String,
    /// The value the docs show.
    pub value: String,
    /// The value set's name (`RsvpResult`).
    pub set: String,
}

/// The values the docs' answer examples show where the enriched type is an
/// open value set that does not list them (a value set reads them as
/// `Other`, so no type changes), by operationId. Listing such a value (in the value set's `Known*` enum, by an
/// evidence overlay) is additive for the build but changes behaviour: code
/// matching `Other("that value")` stops matching.
pub fn docs_values_not_in_value_sets(
    docs: &Value,
    enriched: &Value,
) -> BTreeMap<String, Vec<UnlistedValue>> {
    let mut found = BTreeMap::new();
    for operation in crate::operations::json_with_ids(docs) {
        let Some(operation_id) = operation["operationId"].as_str() else {
            continue;
        };
        let Some(example) = crate::operations::json_success(operation)
            .and_then(|(_, response)| response.pointer("/content/application~1json/example"))
        else {
            continue;
        };
        let Some(schema) = crate::operations::json_with_ids(enriched)
            .find(|typed| typed["operationId"] == operation_id)
            .and_then(crate::operations::json_success)
            .map(|(_, response)| crate::operations::json_body_schema(response))
        else {
            continue;
        };
        let mut values = Vec::new();
        unlisted_values(enriched, schema, example, ".", 0, &mut values);
        values.sort();
        values.dedup();
        if !values.is_empty() {
            found.insert(operation_id.to_owned(), values);
        }
    }
    found
}

/// The open value set a schema is (`oneOf` of a `$ref` to an `enum` and a
/// plain string), by name, with its known values.
fn open_value_set<'a>(spec: &'a Value, schema: &'a Value) -> Option<(String, Vec<&'a str>)> {
    let forms = schema["oneOf"].as_array()?;
    forms.iter().find_map(|form| {
        let reference = form["$ref"].as_str()?;
        let name = json_pointer::schema_component(reference)?;
        let known = spec.pointer(&format!(
            "/components/schemas/{}",
            json_pointer::escape_token(&name)
        ))?;
        let values: Vec<&str> = known["enum"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        Some((
            name.strip_prefix("Known").unwrap_or(&name).to_owned(),
            values,
        ))
    })
}

fn unlisted_values(
    spec: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    depth: usize,
    found: &mut Vec<UnlistedValue>,
) {
    if depth > DEEPEST {
        return;
    }
    let schema = match schema["$ref"].as_str() {
        Some(reference) => match json_pointer::schema_component(reference).and_then(|name| {
            spec.pointer(&format!(
                "/components/schemas/{}",
                json_pointer::escape_token(&name)
            ))
        }) {
            Some(target) => target,
            None => return,
        },
        None => schema,
    };
    if let Some((set, known)) = open_value_set(spec, schema) {
        if let Some(text) = value.as_str()
            && !known.contains(&text)
        {
            found.push(UnlistedValue {
                field: at.to_owned(),
                value: text.to_owned(),
                set,
            });
        }
        return;
    }
    // `allOf` wraps a `$ref` to describe it; `oneOf` forms are each tried.
    for form in ["allOf", "oneOf"]
        .iter()
        .flat_map(|key| schema[*key].as_array().into_iter().flatten())
    {
        unlisted_values(spec, form, value, at, depth + 1, found);
    }
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                let member_at = if at == "." {
                    format!(".{name}")
                } else {
                    format!("{at}.{name}")
                };
                if let Some(property) = schema["properties"].get(name) {
                    unlisted_values(spec, property, member, &member_at, depth + 1, found);
                } else if schema["additionalProperties"].is_object() {
                    unlisted_values(
                        spec,
                        &schema["additionalProperties"],
                        member,
                        &member_at,
                        depth + 1,
                        found,
                    );
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for item in items {
                unlisted_values(
                    spec,
                    &schema["items"],
                    item,
                    &format!("{at}[]"),
                    depth + 1,
                    found,
                );
            }
        }
        _ => {}
    }
}

/// The shape of each operation's JSON success body in `spec`, by operationId.
fn success_shapes(spec: &Value) -> BTreeMap<String, Shape> {
    let mut shapes = BTreeMap::new();
    for operation in crate::operations::json_with_ids(spec) {
        let Some(operation_id) = operation["operationId"].as_str() else {
            continue;
        };
        let success = crate::operations::json_success(operation)
            .map(|(_, response)| crate::operations::json_body_schema(response));
        if let Some(schema) = success.filter(|schema| !schema.is_null()) {
            let mut shape = Shape::new();
            shape_of(spec, schema, ".", 0, &mut shape);
            shapes.insert(operation_id.to_owned(), shape);
        }
    }
    shapes
}

/// The members the docs show in each operation's success answer that the
/// enriched type does not have (the evidence dropped or renamed them, or the
/// docs added them): operationId, then the fields' paths. A field under a
/// member the type keeps as any JSON (`any`, an open map) is not listed.
pub fn docs_fields_not_in_types(docs: &Value, enriched: &Value) -> BTreeMap<String, Vec<String>> {
    let typed = success_shapes(enriched);
    let mut missing = BTreeMap::new();
    for (operation, docs_shape) in success_shapes(docs) {
        let Some(type_shape) = typed.get(&operation) else {
            continue;
        };
        // Forms (`|n`) are compared by their members alone.
        let type_fields: Vec<String> = type_shape
            .keys()
            .map(|field| without_forms(field))
            .collect();
        let open = |field: &str| {
            type_shape.iter().any(|(known, kind)| {
                (kind.starts_with("any") || kind.starts_with("object"))
                    && field.starts_with(&format!("{}.", without_forms(known)))
                    && !type_fields
                        .iter()
                        .any(|typed| typed.starts_with(&format!("{}.", without_forms(known))))
            })
        };
        let fields: Vec<String> = docs_shape
            .keys()
            .map(|field| without_forms(field))
            .filter(|field| !type_fields.contains(field) && !open(field))
            .collect();
        if !fields.is_empty() {
            missing.insert(operation, fields);
        }
    }
    missing
}

/// A field's path without the forms it passes through (`.data|1.id` is `.data.id`).
fn without_forms(field: &str) -> String {
    let mut plain = String::with_capacity(field.len());
    let mut chars = field.chars().peekable();
    while let Some(character) = chars.next() {
        if character == '|' {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        } else {
            plain.push(character);
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn docs() -> Value {
        json!({"paths": {"/s": {"get": {"operationId": "getSession", "responses": {"200": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Answer"}}}}}}}},
            "components": {"schemas": {"Answer": {"type": "object", "properties": {
                "data": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}}}}}})
    }

    fn overlay() -> Value {
        json!({"actions": [
            {"description": "drop", "target": "$.components.schemas.Answer.properties.data", "remove": true},
            {"description": "restate", "target": "$.components.schemas.Answer.properties", "update": {"data": {"$ref": "#/components/schemas/Session"}}},
            {"description": "new", "target": "$.components.schemas", "update": {"Session": {"type": "object"}}}
        ]})
    }

    #[test]
    fn a_removed_and_restated_schema_is_one_place_with_its_shape() {
        let places = restated(&docs(), "s.overlay.yaml", &overlay());
        assert_eq!(places.len(), 1, "{places:#?}");
        assert_eq!(places[0].index, 0);
        assert_eq!(
            places[0].pointer,
            "/components/schemas/Answer/properties/data"
        );
        assert_eq!(
            places[0].shape.get(".id").map(String::as_str),
            Some("integer")
        );
    }

    #[test]
    fn a_docs_change_beneath_a_reviewed_action_stops_with_what_changed() {
        let evidence = vec![("s.overlay.yaml".to_owned(), overlay())];
        let reviewed = record(&docs(), &evidence);
        check(&docs(), &evidence, &reviewed, "openapi/evidence").expect("as reviewed");

        let mut changed = docs();
        let data =
            &mut changed["components"]["schemas"]["Answer"]["properties"]["data"]["properties"];
        data["region"] = json!({"type": "string"});
        data["id"] = json!({"type": "string"});
        data.as_object_mut().expect("members").remove("name");
        let message = check(&changed, &evidence, &reviewed, "openapi/evidence")
            .expect_err("the docs changed")
            .to_string();
        for expected in [
            "openapi/evidence/s.overlay.yaml action /actions/0",
            "(getSession)",
            "field `.region` added (string)",
            "field `.id` retyped (integer → string)",
            "field `.name` removed (was string)",
            "cargo xtask evidence review",
        ] {
            assert!(message.contains(expected), "{expected} in {message}");
        }
    }

    #[test]
    fn docs_fields_the_type_lacks_are_listed_by_operation() {
        let mut enriched = docs();
        enriched["components"]["schemas"]["Answer"]["properties"]["data"] = json!({"oneOf": [{"type": "object", "properties": {"id": {"type": "integer"}}}, {"type": "string"}]});
        let missing = docs_fields_not_in_types(&docs(), &enriched);
        assert_eq!(
            missing.get("getSession"),
            Some(&vec![".data.name".to_owned()])
        );
    }

    #[test]
    fn an_unreviewed_action_and_a_stale_review_stop_too() {
        let evidence = vec![("s.overlay.yaml".to_owned(), overlay())];
        let message = check(&docs(), &evidence, &Reviewed::new(), "e")
            .expect_err("no review")
            .to_string();
        assert!(message.contains("no review of it is recorded"), "{message}");
        let mut reviewed = record(&docs(), &evidence);
        reviewed
            .entry("s.overlay.yaml".to_owned())
            .or_default()
            .insert("/components/schemas/Gone".to_owned(), Shape::new());
        let message = check(&docs(), &evidence, &reviewed, "e")
            .expect_err("stale")
            .to_string();
        assert!(
            message.contains("no action restates the docs there any more"),
            "{message}"
        );
    }
}
