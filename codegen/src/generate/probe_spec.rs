//! The conformance probe's copy of the spec (`sonoran-cms probe`, in the command
//! line): for each operation its method, path, parameters, whether it is safe
//! (read-only, `x-sonoran-safe`), its documented success status and success
//! schema, and every component schema, without descriptions or examples. The
//! probe checks real answers against it, member by member.

use serde_json::{Map, Value, json};

use crate::error::CodegenError;
use crate::model::SpecModel;

/// Keys that say nothing about a value's shape.
const NOT_SHAPE: [&str; 5] = [
    "description",
    "example",
    "examples",
    "externalDocs",
    "summary",
];

/// `schema` without what does not describe a shape (descriptions, examples).
fn shape_only(schema: &Value) -> Value {
    match schema {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(key, _)| !NOT_SHAPE.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), shape_only(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shape_only).collect()),
        other => other.clone(),
    }
}

/// The probe's spec as JSON text, from the enriched spec `spec` (as JSON) and
/// its model.
pub fn source(spec: &Value, model: &SpecModel) -> Result<String, CodegenError> {
    let mut operations = Vec::new();
    for operation in &model.operations {
        let written = &spec["paths"][&operation.path][operation.method.to_lowercase().as_str()];
        let success = crate::operations::json_success(written);
        let documented_status = success
            .and_then(|(status, response)| {
                response["x-documented-status"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| Some(status.to_owned()))
            })
            .unwrap_or_default();
        let success_schema = success
            .map(|(_, response)| shape_only(crate::operations::json_body_schema(response)))
            .unwrap_or(Value::Null);
        let parameters: Vec<Value> = written["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|parameter| {
                json!({
                    "name": parameter["name"],
                    "in": parameter["in"],
                    "required": parameter["required"].as_bool().unwrap_or(false),
                    "schema": shape_only(&parameter["schema"]),
                })
            })
            .collect();
        operations.push(json!({
            "operationId": operation.operation_id,
            "method": operation.method.to_uppercase(),
            "path": operation.path,
            "safe": operation.safe,
            "parameters": parameters,
            "documentedStatus": documented_status,
            "success": success_schema,
        }));
    }
    let schemas: Map<String, Value> = spec["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| (name.clone(), shape_only(schema)))
        .collect();
    let probe = json!({
        "generated": "by `cargo xtask regen` from openapi/sonoran-cms-v2.enriched.yaml; do not edit by hand",
        "operations": operations,
        "schemas": schemas,
    });
    serde_json::to_string_pretty(&probe)
        .map(|text| crate::generate::normalize_newlines(&text))
        .map_err(|error| CodegenError::Format {
            file: crate::pipeline::PROBE_SPEC_PATH.to_owned(),
            message: error.to_string(),
        })
}
