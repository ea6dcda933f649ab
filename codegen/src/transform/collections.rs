//! Two rules for lists and maps, applied to the whole enriched spec.
//!
//! 1. Every property that is not required and holds a list or an open map is
//!    `nullable`.
//! 2. An object with fixed fields that allows more (`additionalProperties:
//!    true`, as a roster row keyed by its columns' ids) keeps the others: they
//!    become a map of open JSON values beside the fields.
//!
//! Why: typify gives an optional list the Rust type `Vec<T>` with
//! `#[serde(default)]`, which reads an absent list as empty but fails on `null`
//! (the API sends `null` for empty lists in places), and leaves an empty list out
//! of what it sends (so `set: []`, "take every rank away", would silently become
//! "change nothing"). As `nullable`, the property becomes `Option<Vec<T>>`: `null`
//! and absent read as `None`, and `Some(vec![])` is sent as `[]`. The same holds
//! for maps (`additionalProperties`) and their `Map` type.

use serde_json::Value;

/// The extension that marks a property this rule made nullable, so a reader of
/// the enriched spec knows the docs did not say it.
pub const NULLABLE_BY_RULE: &str = "x-nullable-because";

/// Marks every optional list or map property in `spec` (components and inline
/// schemas alike) `nullable`, recording why.
pub fn make_optional_collections_nullable(spec: &mut Value) {
    walk(spec);
}

/// The extension that explains why an object's extra members are open values.
const UNTYPED_REASON: &str = crate::derive::UNTYPED_REASON;

/// Makes every object with fixed fields and `additionalProperties: true` keep
/// its other members. (typify drops the members `true` allows, treating it as
/// "ignore"; a schema for them, even an open one, makes it keep them in a
/// flattened `extra` map.)
pub fn keep_additional_members(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let has_fields = object
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|properties| !properties.is_empty());
            if has_fields && object.get("additionalProperties") == Some(&Value::Bool(true)) {
                object.insert(
                    "additionalProperties".to_owned(),
                    serde_json::json!({
                        UNTYPED_REASON: "members beside the fixed fields are kept as sent; nothing describes them"
                    }),
                );
            }
            for (key, child) in object.iter_mut() {
                if holds_schemas(key) {
                    keep_additional_members(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(keep_additional_members),
        _ => {}
    }
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Object(properties)) = object.get("properties") {
                let required: Vec<String> = object
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|required| {
                        required
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                let optional_collections: Vec<String> = properties
                    .iter()
                    .filter(|(name, schema)| !required.contains(name) && is_collection(schema))
                    .map(|(name, _)| name.clone())
                    .collect();
                if let Some(Value::Object(properties)) = object.get_mut("properties") {
                    for name in optional_collections {
                        if let Some(Value::Object(schema)) = properties.get_mut(&name)
                            && schema.get("nullable") != Some(&Value::Bool(true))
                        {
                            schema.insert("nullable".to_owned(), Value::Bool(true));
                            schema.insert(
                                NULLABLE_BY_RULE.to_owned(),
                                Value::String(
                                    "an optional list or map: `null` and absent both read as unset, \
                                     and an empty one is sent as empty"
                                        .to_owned(),
                                ),
                            );
                        }
                    }
                }
            }
            for (key, child) in object.iter_mut() {
                if holds_schemas(key) {
                    walk(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// Whether a member may hold schemas: examples, defaults, enums and extensions
/// are data, and rules about schemas leave them alone.
fn holds_schemas(key: &str) -> bool {
    !(matches!(key, "example" | "examples" | "default" | "enum") || key.starts_with("x-"))
}

/// A list, or an object that is only a map (no fixed properties).
fn is_collection(schema: &Value) -> bool {
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => true,
        Some("object") => {
            schema
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(serde_json::Map::is_empty)
                && schema.get("additionalProperties").is_some()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_with_fields_that_allows_more_keeps_the_rest() {
        let mut spec = json!({"components": {"schemas": {
            "Row": {"type": "object", "additionalProperties": true, "properties": {"uuid": {"type": "string"}}},
            "Open": {"type": "object", "additionalProperties": true},
            "Closed": {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}}
        }}});
        keep_additional_members(&mut spec);
        let schemas = &spec["components"]["schemas"];
        assert!(
            schemas["Row"]["additionalProperties"]
                .get(UNTYPED_REASON)
                .is_some()
        );
        assert_eq!(
            schemas["Open"]["additionalProperties"], true,
            "a plain map stays a map"
        );
        assert_eq!(schemas["Closed"]["additionalProperties"], false);
    }

    #[test]
    fn optional_lists_and_maps_become_nullable_and_nothing_else_changes() {
        let mut spec = json!({"components": {"schemas": {"Row": {
            "type": "object",
            "required": ["ids"],
            "properties": {
                "ids": {"type": "array", "items": {"type": "string"}},
                "tags": {"type": "array", "items": {"type": "string"}},
                "extra": {"type": "object", "additionalProperties": true},
                "fixed": {"type": "object", "properties": {"notes": {"type": "array", "items": {}}}},
                "name": {"type": "string"}
            }
        }}}});
        make_optional_collections_nullable(&mut spec);
        let properties = &spec["components"]["schemas"]["Row"]["properties"];
        assert_eq!(
            properties["ids"].get("nullable"),
            None,
            "a required list stays as it is"
        );
        assert_eq!(properties["tags"]["nullable"], true);
        assert_eq!(properties["extra"]["nullable"], true);
        assert_eq!(
            properties["fixed"].get("nullable"),
            None,
            "an object with fields is not a map"
        );
        assert_eq!(
            properties["fixed"]["properties"]["notes"]["nullable"], true,
            "nested schemas too"
        );
        assert_eq!(properties["name"].get("nullable"), None);
    }
}
