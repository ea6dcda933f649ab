//! The operations of a typed spec, in document order, each with where it is:
//! the one walk the generated tables (rate limits, groups of fields, bodies) share.

use openapiv3::{OpenAPI, Operation, ReferenceOr};

use crate::json_pointer::from_tokens;

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
