//! The operations of a typed spec, in document order, each with where it is:
//! the one walk the generated tables (rate limits, groups of fields, bodies) share;
//! and the same walk over a spec read as JSON, with each operation's success
//! answer, for the readers that work on JSON (reviews, the probe's spec, imports).

use openapiv3::{OpenAPI, Operation, ReferenceOr};
use serde_json::Value;

use crate::json_pointer::from_tokens;

/// The operation extension that carries the documented rate limit: written
/// by the import (from the docs' rate-limit lines), read by `check::rate_limits`.
pub const RATE_LIMIT_EXTENSION: &str = "x-sonoran-rate-limit";

/// One operation that has an operationId.
#[derive(Debug, Clone, Copy)]
pub struct SpecOperation<'a> {
    /// Its path template.
    pub path: &'a str,
    /// Its HTTP method, lower case as in the spec.
    pub method: &'a str,
    /// Its operationId.
    pub operation_id: &'a str,
    /// The operation.
    pub operation: &'a Operation,
}

impl SpecOperation<'_> {
    /// The JSON pointer of the operation in the spec.
    pub fn pointer(&self) -> String {
        from_tokens(["paths", self.path, self.method])
    }
}

/// Every operation of `spec` that has an operationId (lint reports the others).
pub fn with_ids(spec: &OpenAPI) -> Vec<SpecOperation<'_>> {
    let mut operations = Vec::new();
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, operation) in item.iter() {
            if let Some(operation_id) = operation.operation_id.as_deref() {
                operations.push(SpecOperation {
                    path,
                    method,
                    operation_id,
                    operation,
                });
            }
        }
    }
    operations
}

/// Every operation of `spec` read as JSON (`paths`, then each method) that
/// has an operationId, in document order.
pub fn json_with_ids(spec: &Value) -> impl Iterator<Item = &Value> {
    spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter(|operation| operation["operationId"].is_string())
}

/// An operation's (read as JSON) first 2XX answer: its status key (`2XX`,
/// `200`) and the response, whose JSON body schema is
/// `["content"]["application/json"]["schema"]`.
pub fn json_success(operation: &Value) -> Option<(&str, &Value)> {
    operation["responses"]
        .as_object()?
        .iter()
        .find(|(status, _)| status.starts_with('2'))
        .map(|(status, response)| (status.as_str(), response))
}

/// The JSON body schema of a success answer found by [`json_success`].
pub fn json_body_schema(response: &Value) -> &Value {
    &response["content"]["application/json"]["schema"]
}
