//! Schemas derived from the docs' examples, for everything the docs describe only
//! by example. The importer writes them to `openapi/derived.overlay.yaml`, where a
//! reviewer reads them as data and the enrichment overrides any of them.
//!
//! The rules, applied to each example value:
//!
//! | example | schema |
//! | --- | --- |
//! | `true` | boolean |
//! | a whole number | integer (`minimum: 1` for a positive id such as `serverId` in a request; a response's ids accept 0) |
//! | an integer id in a path (`{serverId}`), example or not | `minimum: 1` |
//! | another number | number |
//! | a UUID / an RFC 3339 timestamp / other text | string, `format: uuid` / `date-time` / none |
//! | an object in a request | its fields, each required unless the example shows `null` |
//! | an object in a response | its fields, none required: one example cannot show what the API always sends (the evidence overlays say that), and an unknown field is ignored |
//! | an object whose keys are data (timestamps, UUIDs, numeric ids, Discord snowflakes) | a map (`additionalProperties`) of the values merged, with `x-keyed-by` naming the kind of key; fixed keys beside them stay properties |
//! | a list | its items, merged across every item shown |
//! | `null` for the end of a span whose start is a UUID or timestamp (`endedAt` beside `startedAt`) | the start's type, nullable, with `x-typed-like` naming the start |
//! | `null`, `[]`, `{}` | untyped, with `x-untyped-reason` saying why, until the enrichment decides |

use serde_json::{Map, Value, json};

use crate::naming::is_id_name;

/// Which way a body travels: what the client sends is checked strictly, what it
/// reads is read tolerantly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A request body or parameter: what the example shows is what the API needs.
    Request,
    /// A response body: a field the example shows may be missing or `null` in
    /// another answer, and an id may be 0.
    Response,
}

/// The extension that marks an object as a map keyed by data, naming the kind of
/// key (`timestamp`, `uuid`, `numeric id`).
pub const KEYED_BY: &str = "x-keyed-by";

/// The extension that records why a schema is left untyped.
pub const UNTYPED_REASON: &str = "x-untyped-reason";

/// The schema an example value of a field named `name` suggests, for a body
/// travelling `side`.
pub fn schema_from_example(name: &str, example: &Value, side: Side) -> Value {
    match example {
        Value::Null => untyped("the docs' examples only show `null`"),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(number) if number.is_i64() || number.is_u64() => {
            if side == Side::Request
                && is_id_name(name)
                && number.as_i64().is_some_and(|value| value >= 1)
            {
                json!({"type": "integer", "minimum": 1})
            } else {
                json!({"type": "integer"})
            }
        }
        Value::Number(_) => json!({"type": "number"}),
        Value::String(text) => match string_format(text) {
            Some(format) => json!({"type": "string", "format": format}),
            None => json!({"type": "string"}),
        },
        Value::Array(items) => {
            let item_schema = items
                .iter()
                .map(|item| schema_from_example(&singular(name), item, side))
                .reduce(|merged, next| merge(&merged, &next))
                .unwrap_or_else(|| untyped("the docs' examples only show an empty list"));
            json!({"type": "array", "items": item_schema})
        }
        Value::Object(fields) if fields.is_empty() => {
            let mut schema = json!({"type": "object", "additionalProperties": true});
            schema[UNTYPED_REASON] = json!("the docs' examples only show an empty object");
            schema
        }
        Value::Object(fields) => object_schema(fields, side),
    }
}

/// The schema of an example object: its fixed fields as properties, its
/// data-keyed entries (see [`data_key_kind`]) as one map of their merged values.
fn object_schema(fields: &Map<String, Value>, side: Side) -> Value {
    let (data_keyed, fixed): (Vec<_>, Vec<_>) = fields
        .iter()
        .partition(|(field, _)| data_key_kind(field).is_some());
    let mut properties: Map<String, Value> = fixed
        .iter()
        .map(|(field, value)| ((*field).clone(), schema_from_example(field, value, side)))
        .collect();
    type_like_counterparts(fields, &mut properties);
    let mut schema = json!({"type": "object"});
    if !properties.is_empty() {
        schema["properties"] = Value::Object(properties);
    }
    if side == Side::Request {
        let required: Vec<Value> = fixed
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(field, _)| json!(field))
            .collect();
        if !required.is_empty() {
            schema["required"] = Value::Array(required);
        }
    }
    if let Some((first_key, _)) = data_keyed.first() {
        let values = data_keyed
            .iter()
            .map(|(field, value)| schema_from_example(field, value, side))
            .reduce(|merged, next| merge(&merged, &next))
            .unwrap_or_else(|| untyped("no value"));
        schema["additionalProperties"] = values;
        schema[KEYED_BY] = json!(data_key_kind(first_key).unwrap_or("data"));
    }
    schema
}

/// The extension that records which sibling field a `null`-only field was typed
/// after (see the counterpart rule in the module docs).
pub const TYPED_LIKE: &str = "x-typed-like";

/// Fields that close what a sibling field opens: the end of a span is the same
/// kind of value as its start (a timestamp, an account UUID), only still unset.
/// The docs often show the first as `null` and the second filled in.
const COUNTERPARTS: [(&str, &str); 6] = [
    ("end", "start"),
    ("endTime", "startTime"),
    ("endedAt", "startedAt"),
    ("endedBy", "startedBy"),
    ("cancelledBy", "startedBy"),
    ("updatedAt", "createdAt"),
];

/// Gives each field the examples show only as `null` the type of its counterpart
/// (see [`COUNTERPARTS`]), made nullable, when the counterpart is a UUID or a
/// timestamp in the same object.
fn type_like_counterparts(fields: &Map<String, Value>, properties: &mut Map<String, Value>) {
    for (field, counterpart) in COUNTERPARTS {
        if !fields.get(field).is_some_and(Value::is_null) {
            continue;
        }
        let Some(Value::String(example)) = fields.get(counterpart) else {
            continue;
        };
        if let Some(format) = string_format(example) {
            properties.insert(
                field.to_owned(),
                json!({"type": "string", "format": format, "nullable": true, TYPED_LIKE: counterpart}),
            );
        }
    }
}

/// One schema that accepts what either accepts: the union of object fields (each
/// required only where both require it), a widened number, a nullable type where
/// one side only ever showed `null`.
pub fn merge(left: &Value, right: &Value) -> Value {
    if left == right {
        return left.clone();
    }
    let left_untyped = is_untyped(left);
    let right_untyped = is_untyped(right);
    if left_untyped || right_untyped {
        if left_untyped && right_untyped {
            return left.clone();
        }
        let mut typed = if left_untyped {
            right.clone()
        } else {
            left.clone()
        };
        typed["nullable"] = json!(true);
        return typed;
    }
    let mut merged = match (left["type"].as_str(), right["type"].as_str()) {
        (Some("object"), Some("object")) => {
            let mut properties: Map<String, Value> =
                left["properties"].as_object().cloned().unwrap_or_default();
            for (field, schema) in right["properties"].as_object().into_iter().flatten() {
                let merged = match properties.get(field) {
                    Some(existing) => merge(existing, schema),
                    None => schema.clone(),
                };
                properties.insert(field.clone(), merged);
            }
            let required_in = |schema: &Value| -> Vec<Value> {
                schema["required"].as_array().cloned().unwrap_or_default()
            };
            let right_required = required_in(right);
            let required: Vec<Value> = required_in(left)
                .into_iter()
                .filter(|field| right_required.contains(field))
                .collect();
            let mut merged = json!({"type": "object"});
            if !properties.is_empty() {
                merged["properties"] = Value::Object(properties);
            }
            if !required.is_empty() {
                merged["required"] = Value::Array(required);
            }
            // A map on either side stays a map of what both sides' values allow.
            match (
                left.get("additionalProperties"),
                right.get("additionalProperties"),
            ) {
                (Some(left_values), Some(right_values)) => {
                    merged["additionalProperties"] = merge(left_values, right_values);
                }
                (Some(values), None) | (None, Some(values)) => {
                    merged["additionalProperties"] = values.clone();
                }
                (None, None) => {}
            }
            if let Some(kind) = left.get(KEYED_BY).or_else(|| right.get(KEYED_BY)) {
                merged[KEYED_BY] = kind.clone();
            }
            merged
        }
        (Some("array"), Some("array")) => {
            json!({"type": "array", "items": merge(&left["items"], &right["items"])})
        }
        (Some(left_type), Some(right_type)) if left_type == right_type => {
            // The same scalar: keep what both sides agree on (a format, a minimum).
            let mut merged = json!({"type": left_type});
            for keyword in ["format", "minimum", TYPED_LIKE] {
                if left.get(keyword).is_some() && left.get(keyword) == right.get(keyword) {
                    merged[keyword] = left[keyword].clone();
                }
            }
            merged
        }
        (Some("integer" | "number"), Some("integer" | "number")) => json!({"type": "number"}),
        (left_type, right_type) => {
            return untyped(&format!(
                "the docs' examples show both {} and {}",
                left_type.unwrap_or("untyped"),
                right_type.unwrap_or("untyped")
            ));
        }
    };
    // `null` seen on either side stays allowed.
    if [left, right]
        .iter()
        .any(|side| side["nullable"] == json!(true))
    {
        merged["nullable"] = json!(true);
    }
    merged
}

/// A schema left untyped, with the reason.
pub fn untyped(reason: &str) -> Value {
    json!({ UNTYPED_REASON: reason })
}

fn is_untyped(schema: &Value) -> bool {
    schema.get("type").is_none() && schema.get(UNTYPED_REASON).is_some()
}

/// What kind of data a JSON object key is, when it is data rather than a field
/// name: `timestamp` (RFC 3339 or a date), `uuid`, or `numeric id` (all digits:
/// record ids and Discord snowflakes). Objects keyed this way are maps; lint
/// refuses such a key as a property name.
pub fn data_key_kind(key: &str) -> Option<&'static str> {
    if is_timestamp(key) || is_date(key) {
        Some("timestamp")
    } else if is_uuid(key) {
        Some("uuid")
    } else if !key.is_empty() && key.bytes().all(|byte| byte.is_ascii_digit()) {
        Some("numeric id")
    } else {
        None
    }
}

/// `2026-04-15`.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit())
}

/// `uuid` for a UUID, `date-time` for an RFC 3339 timestamp.
fn string_format(text: &str) -> Option<&'static str> {
    if is_uuid(text) {
        Some("uuid")
    } else if is_timestamp(text) {
        Some("date-time")
    } else {
        None
    }
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|group| group.chars().all(|character| character.is_ascii_hexdigit()))
}

/// `2026-04-15T00:00:00.000Z`, `2026-04-15T00:00:00+02:00`.
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    bytes.len() >= 20
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && matches!(bytes[10], b'T' | b't')
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19)
        && (text.ends_with('Z') || text.ends_with('z') || text[19..].contains(['+', '-']))
}

/// `servers` → `server`, to name the items of a list after the list.
fn singular(name: &str) -> String {
    name.strip_suffix('s').unwrap_or(name).to_owned()
}

/// The Overlay that gives every operation named, typed request and response
/// schemas: each JSON body's schema becomes a component (`<Operation>Request`,
/// `<Operation>Response`) derived from the docs' tables and examples, and the
/// operation refers to it. `spec` is the imported docs spec.
pub fn derived_overlay(spec: &Value) -> Value {
    use heck::ToUpperCamelCase;

    let mut schemas = Map::new();
    let mut actions = Vec::new();
    let mut shared_meta: Option<Value> = None;
    for (path, path_item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in path_item.as_object().into_iter().flatten() {
            let Some(operation_id) = operation["operationId"].as_str() else {
                continue;
            };
            let type_name = operation_id.to_upper_camel_case();
            let operation_target = format!("$.paths['{path}'].{method}");

            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                // An integer id in the path names a record that exists, so it is
                // positive (the official SDKs refuse 0 and negative server ids);
                // the client refuses 0 before sending.
                if let (Some(name), Some("path"), Some("integer"), None) = (
                    parameter["name"].as_str(),
                    parameter["in"].as_str(),
                    parameter["schema"]["type"].as_str(),
                    parameter["schema"].get("minimum"),
                ) && is_id_name(name)
                {
                    actions.push(json!({
                        "description": format!(
                            "The {operation_id} path parameter `{name}` is an id, so a positive integer."
                        ),
                        "target": format!("{operation_target}.parameters[?@.name == '{name}' && @.in == 'path']"),
                        "update": {"schema": {"minimum": 1}},
                    }));
                }
                let (Some(name), Some(example)) =
                    (parameter["name"].as_str(), parameter.get("example"))
                else {
                    continue;
                };
                let derived = schema_from_example(name, example, Side::Request);
                if parameter["in"] == "query"
                    && narrows(&parameter["schema"], &derived)
                    && derived != parameter["schema"]
                {
                    actions.push(json!({
                        "description": format!(
                            "The {operation_id} query parameter `{name}`, narrowed by the docs' example `{example}`."
                        ),
                        "target": format!("{operation_target}.parameters[?@.name == '{name}' && @.in == 'query']"),
                        "update": {"schema": derived},
                    }));
                }
            }

            if let Some(media) = operation.pointer("/requestBody/content/application~1json")
                && let Some(schema) = media.get("schema")
            {
                let component = format!("{type_name}Request");
                schemas.insert(
                    component.clone(),
                    request_schema(schema, media.get("example")),
                );
                actions.extend(replace_schema_actions(
                    &format!("{operation_target}.requestBody.content['application/json']"),
                    &component,
                    &format!("the {operation_id} request body, from the docs' table and example"),
                ));
            }

            let successes: Vec<(&String, &Value)> = operation["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(status, _)| status.starts_with('2'))
                .collect();
            for &(status, response) in &successes {
                let mut widened = response.clone();
                if let Some(example) = response
                    .pointer("/content/application~1json")
                    .and_then(|media| media.get("example"))
                {
                    let component = format!("{type_name}Response");
                    schemas.insert(
                        component.clone(),
                        response_envelope(example, &mut shared_meta),
                    );
                    widened["content"]["application/json"]["schema"] =
                        json!({"$ref": format!("#/components/schemas/{component}")});
                }
                // The docs name one success status per operation, but the API's
                // gateway and versions have answered 200 where the docs say 201
                // and the reverse; the FiveM resource takes any of 200, 201 and
                // 204. So the one documented success stands for every 2XX, and the
                // documented code is kept for the docs.
                if successes.len() == 1 && status != "2XX" {
                    widened[DOCUMENTED_STATUS] = json!(status);
                    actions.push(json!({
                        "description": format!(
                            "Drop the {operation_id} {status} response; `2XX` below replaces it."
                        ),
                        "target": format!("{operation_target}.responses['{status}']"),
                        "remove": true,
                    }));
                    actions.push(json!({
                        "description": format!(
                            "Any 2XX answers {operation_id} with the documented {status} response's body, \
                             {}.",
                            if widened.get("content").is_some() { "derived from the docs' example" } else { "none" }
                        ),
                        "target": format!("{operation_target}.responses"),
                        "update": {"2XX": widened},
                    }));
                } else if widened != *response {
                    actions.extend(replace_schema_actions(
                        &format!(
                            "{operation_target}.responses['{status}'].content['application/json']"
                        ),
                        &format!("{type_name}Response"),
                        &format!("the {operation_id} {status} response, from the docs' example"),
                    ));
                }
            }
        }
    }
    if let Some(mut meta) = shared_meta {
        // `meta` says when and where an answer was made; it must never fail a
        // call: its fields are optional, unknown fields are ignored, and a `meta`
        // of another shape is kept as plain JSON.
        meta["description"] = json!("When and where the API answered (the envelope's `meta`).");
        for (member, description) in [
            (
                "timestamp",
                "When the API answered (ISO 8601, as the docs' README shows it).",
            ),
            ("path", "The path of the request answered (`/v2/...`)."),
        ] {
            if let Some(schema) = meta["properties"].get_mut(member) {
                schema["description"] = json!(description);
            }
        }
        schemas.insert("MetaFields".to_owned(), meta);
        schemas.insert(
            "ResponseMeta".to_owned(),
            json!({
                "description": "The envelope's `meta`: its documented fields, or, in any other shape, the JSON as sent.",
                "oneOf": [
                    {"$ref": "#/components/schemas/MetaFields"},
                    {"title": "Unrecognized", UNTYPED_REASON: "a `meta` that is not the documented object is kept as sent, so it never fails a call"},
                ],
            }),
        );
    }
    let mut all_actions = vec![json!({
        "description": "Schemas derived from the docs' tables and examples (see codegen/src/derive.rs for the \
                        rules). The enrichment overrides any of them.",
        "target": "$.components",
        "update": {"schemas": schemas},
    })];
    all_actions.extend(actions);
    json!({
        "overlay": "1.0.0",
        "info": {"title": "Sonoran CMS v2 schemas derived from the docs' examples", "version": "1.0.0"},
        "actions": all_actions,
    })
}

/// The response extension that keeps the success status the docs name, where
/// the spec answers `2XX`.
pub const DOCUMENTED_STATUS: &str = "x-documented-status";

/// The schema of a response envelope (`success`, `data`, `meta`) from the docs'
/// example: read tolerantly (see [`Side::Response`]), except that `success` and
/// `data` are always sent (the docs' README gives the envelope); `meta` refers to
/// the one shared `ResponseMeta`, which gathers every example's meta and reads any
/// other shape as plain JSON.
fn response_envelope(example: &Value, shared_meta: &mut Option<Value>) -> Value {
    let mut envelope = schema_from_example("response", example, Side::Response);
    let required: Vec<Value> = ["success", "data"]
        .into_iter()
        .filter(|field| example.get(*field).is_some())
        .map(|field| json!(field))
        .collect();
    if !required.is_empty() {
        envelope["required"] = Value::Array(required);
    }
    // The docs' README describes the envelope once for every operation; its
    // members say so on every answer type.
    for (member, description) in [
        (
            "success",
            "Whether the API did what was asked: `true` in every success answer (one that says `false` is an error).",
        ),
        (
            "data",
            "What the operation answers (the envelope's `data`).",
        ),
    ] {
        if let Some(schema) = envelope["properties"].get_mut(member)
            && schema.get("description").is_none()
        {
            schema["description"] = json!(description);
        }
    }
    if let Some(meta) = example.get("meta") {
        let meta_schema = schema_from_example("meta", meta, Side::Response);
        *shared_meta = Some(
            shared_meta
                .take()
                .map_or(meta_schema.clone(), |known| merge(&known, &meta_schema)),
        );
        envelope["properties"]["meta"] = json!({"$ref": "#/components/schemas/ResponseMeta"});
    }
    envelope
}

/// Replace the inline schema of the media type at `media_target` by a reference
/// to the component `component` (an Overlay update merges, so remove first).
fn replace_schema_actions(media_target: &str, component: &str, what: &str) -> [Value; 2] {
    [
        json!({
            "description": format!("Drop the docs' inline schema of {what}; the component replaces it."),
            "target": format!("{media_target}.schema"),
            "remove": true,
        }),
        json!({
            "description": format!("Refer to the derived schema of {what}."),
            "target": media_target,
            "update": {"schema": {"$ref": format!("#/components/schemas/{component}")}},
        }),
    ]
}

/// The table's schema for a body (its properties and required flags), each
/// property refined by the example where the example only narrows it: a whole
/// number where the table says number, a UUID or timestamp where it says string,
/// the items of a list, the fields of an object.
fn request_schema(table_schema: &Value, example: Option<&Value>) -> Value {
    let Some(table_properties) = table_schema["properties"]
        .as_object()
        .filter(|properties| !properties.is_empty())
    else {
        return example.map_or_else(
            || table_schema.clone(),
            |example| schema_from_example("body", example, Side::Request),
        );
    };
    let mut schema = table_schema.clone();
    let properties: Map<String, Value> = table_properties
        .iter()
        .map(|(name, table_property)| {
            let refined = example
                .and_then(|example| example.get(name))
                .map(|value| schema_from_example(name, value, Side::Request))
                .filter(|derived| narrows(table_property, derived))
                .unwrap_or_else(|| table_property.clone());
            (name.clone(), refined)
        })
        .collect();
    schema["properties"] = Value::Object(properties);
    schema
}

/// Whether `derived` says the same as `table`, only more precisely.
fn narrows(table: &Value, derived: &Value) -> bool {
    let same_format = table.get("format").is_none() || table.get("format") == derived.get("format");
    match (table["type"].as_str(), derived["type"].as_str()) {
        (Some("number"), Some("integer" | "number")) => true,
        (Some(table_type), Some(derived_type)) => table_type == derived_type && same_format,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_become_the_narrowest_type() {
        assert_eq!(
            schema_from_example("serverId", &json!(1), Side::Request),
            json!({"type": "integer", "minimum": 1})
        );
        assert_eq!(
            schema_from_example("points", &json!(0), Side::Request),
            json!({"type": "integer"})
        );
        assert_eq!(
            schema_from_example("ratio", &json!(0.5), Side::Request),
            json!({"type": "number"})
        );
        assert_eq!(
            schema_from_example(
                "accId",
                &json!("00000000-0000-0000-0000-000000000000"),
                Side::Request
            ),
            json!({"type": "string", "format": "uuid"})
        );
        assert_eq!(
            schema_from_example(
                "startedAt",
                &json!("2026-04-15T00:00:00.000Z"),
                Side::Request
            ),
            json!({"type": "string", "format": "date-time"})
        );
        assert_eq!(
            schema_from_example("name", &json!("rank-1"), Side::Request),
            json!({"type": "string"})
        );
        assert_eq!(
            schema_from_example("active", &json!(true), Side::Request),
            json!({"type": "boolean"})
        );
    }

    #[test]
    fn objects_require_what_the_example_shows_and_nulls_stay_open() {
        let schema = schema_from_example("data", &json!({"id": 1, "endedBy": null}), Side::Request);
        assert_eq!(
            schema,
            json!({"type": "object",
                   "properties": {"id": {"type": "integer", "minimum": 1},
                                  "endedBy": {"x-untyped-reason": "the docs' examples only show `null`"}},
                   "required": ["id"]})
        );
    }

    #[test]
    fn the_end_of_a_span_is_typed_like_its_start() {
        let schema = schema_from_example(
            "data",
            &json!({"startTime": "2026-04-15T00:00:00.000Z", "endTime": null,
                    "startedBy": "0b7c9a5e-8f3a-4d9b-9a77-2f1e6c1d2b3a", "cancelledBy": null,
                    "start": "not a timestamp", "end": null}),
            Side::Request,
        );
        assert_eq!(
            schema["properties"]["endTime"],
            json!({"type": "string", "format": "date-time", "nullable": true, "x-typed-like": "startTime"})
        );
        assert_eq!(
            schema["properties"]["cancelledBy"],
            json!({"type": "string", "format": "uuid", "nullable": true, "x-typed-like": "startedBy"})
        );
        assert_eq!(
            schema["properties"]["end"],
            json!({"x-untyped-reason": "the docs' examples only show `null`"}),
            "a start that is neither a UUID nor a timestamp says nothing about the end"
        );
        assert_eq!(
            schema["required"],
            json!(["startTime", "startedBy", "start"]),
            "a field shown as null stays optional"
        );
    }

    #[test]
    fn merging_keeps_what_both_sides_agree_on() {
        let timestamp = json!({"type": "string", "format": "date-time"});
        let nullable_timestamp = json!({"type": "string", "format": "date-time", "nullable": true});
        assert_eq!(merge(&timestamp, &nullable_timestamp), nullable_timestamp);
        assert_eq!(
            merge(&timestamp, &json!({"type": "string", "format": "uuid"})),
            json!({"type": "string"})
        );
        assert_eq!(
            merge(
                &json!({"type": "integer", "minimum": 1}),
                &json!({"type": "integer", "nullable": true})
            ),
            json!({"type": "integer", "nullable": true})
        );
        assert_eq!(
            merge(&json!({"type": "integer"}), &json!({"type": "boolean"})),
            json!({"x-untyped-reason": "the docs' examples show both integer and boolean"})
        );
    }

    #[test]
    fn list_items_merge_across_the_example() {
        let schema = schema_from_example(
            "rows",
            &json!([{"a": 1, "b": null}, {"a": 2.5, "b": "x"}]),
            Side::Request,
        );
        assert_eq!(
            schema,
            json!({"type": "array", "items": {"type": "object",
                   "properties": {"a": {"type": "number"}, "b": {"type": "string", "nullable": true}},
                   "required": ["a"]}})
        );
        assert_eq!(
            schema_from_example("rows", &json!([]), Side::Request),
            json!({"type": "array", "items": {"x-untyped-reason": "the docs' examples only show an empty list"}})
        );
    }
}
