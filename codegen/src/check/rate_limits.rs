//! The per-operation limits recorded in the spec: the rate limit
//! (`x-sonoran-rate-limit`) and what repeating a request does
//! (`x-sonoran-safe`, `x-sonoran-idempotent`, defaulting from the method).
//! Reading and checking them; `operation_table` puts them in the one table the
//! client's limiter and retry loop read, so a limit is data in `openapi/`
//! rather than code.

use openapiv3::OpenAPI;
use serde_json::Value;

use crate::error::LintFinding;
use crate::json_pointer::child;
use crate::naming::rust_snake_name;
use crate::operations::SpecOperation;

pub use crate::operations::RATE_LIMIT_EXTENSION;

/// The operation extension that says the operation changes nothing on the
/// server (default: true for GET and HEAD), so a failed call never "may have
/// taken effect": `verifyWhitelist` is a POST that only reads.
pub const SAFE_EXTENSION: &str = "x-sonoran-safe";

/// The operation extension that says running the operation twice has the
/// effect, and the answer, of running it once (default: true for safe
/// operations, PUT and DELETE), so the client may repeat it after an attempt
/// whose outcome is unknown (a 5XX, a timeout or a reset after sending).
/// `cancelSession` is a DELETE whose repeat answers "no session": `false`.
pub const IDEMPOTENT_EXTENSION: &str = "x-sonoran-idempotent";

/// The extension [`IDEMPOTENT_EXTENSION`] replaced; lint names its successor.
pub const REPLACED_RETRY_EXTENSION: &str = "x-sonoran-retry-after-sending";

/// What repeating one operation does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSemantics {
    /// The operation's Rust name, as progenitor reports it to hooks.
    pub rust_name: String,
    /// It changes nothing on the server.
    pub safe: bool,
    /// Repeating it has the effect and answer of running it once.
    pub idempotent: bool,
}

/// What the HTTP specification says of a method (lower case, as in the spec):
/// (safe, idempotent).
pub fn method_semantics(method: &str) -> (bool, bool) {
    let safe = matches!(method, "get" | "head" | "options" | "trace");
    (safe, safe || matches!(method, "put" | "delete"))
}

/// One operation's (safe, idempotent) from its extensions, else its method:
/// the one reading the generated table, the operation docs and the change
/// report share. Malformed values count as absent here; lint reports them.
pub fn semantics_of(method: &str, operation: &serde_json::Map<String, Value>) -> (bool, bool) {
    let (method_safe, method_idempotent) = method_semantics(method);
    let safe = operation
        .get(SAFE_EXTENSION)
        .and_then(Value::as_bool)
        .unwrap_or(method_safe);
    // A spec from before `x-sonoran-idempotent` (the change report reads old
    // commits) said "not idempotent" with the extension it replaced.
    let replaced = operation
        .get(REPLACED_RETRY_EXTENSION)
        .and_then(Value::as_bool)
        .map(|retried| retried && (safe || method_idempotent));
    let idempotent = operation
        .get(IDEMPOTENT_EXTENSION)
        .and_then(Value::as_bool)
        .or(replaced)
        .unwrap_or(safe || method_idempotent);
    (safe, idempotent)
}

/// Every operation's semantics, sorted by Rust name, or a finding for each
/// extension that is not `true` or `false`, a safe operation marked not
/// idempotent (reading twice reads twice), and the replaced extension.
pub fn semantics(spec: &OpenAPI) -> (Vec<OperationSemantics>, Vec<LintFinding>) {
    let mut table = Vec::new();
    let mut findings = Vec::new();
    for spec_operation in crate::operations::with_ids(spec) {
        let extensions = &spec_operation.operation.extensions;
        let pointer = spec_operation.pointer();
        let mut report = |key: &str, message: String| {
            findings.push(LintFinding {
                operation: Some(spec_operation.operation_id.to_owned()),
                pointer: child(&pointer, key),
                message,
            });
        };
        if extensions.contains_key(REPLACED_RETRY_EXTENSION) {
            report(
                REPLACED_RETRY_EXTENSION,
                format!(
                    "`{REPLACED_RETRY_EXTENSION}` is replaced by `{IDEMPOTENT_EXTENSION}`: an operation not repeated \
                     once it may have run is `{IDEMPOTENT_EXTENSION}: false`"
                ),
            );
        }
        for key in [SAFE_EXTENSION, IDEMPOTENT_EXTENSION] {
            if extensions.get(key).is_some_and(|value| !value.is_boolean()) {
                report(key, format!("`{key}` must be true or false"));
            }
        }
        let object: serde_json::Map<String, Value> = extensions
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let (safe, idempotent) = semantics_of(spec_operation.method, &object);
        if safe && !idempotent {
            report(
                IDEMPOTENT_EXTENSION,
                format!(
                    "a safe operation (`{SAFE_EXTENSION}`) is idempotent: it cannot be `{IDEMPOTENT_EXTENSION}: false`"
                ),
            );
        }
        table.push(OperationSemantics {
            rust_name: rust_snake_name(spec_operation.operation_id),
            safe,
            idempotent,
        });
    }
    table.sort_by(|left, right| left.rust_name.cmp(&right.rust_name));
    (table, findings)
}

/// One operation's documented limit: `requests` per `window_seconds`, per credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRateLimit {
    /// The operation's Rust name, as progenitor reports it to hooks.
    pub rust_name: String,
    /// The most requests allowed in any window.
    pub requests: u32,
    /// The window's length in seconds.
    pub window_seconds: u32,
}

/// Every operation's rate limit, sorted by Rust name, or a finding for each
/// operation whose extension is missing or malformed (the client must know every
/// operation's limit to promise it never exceeds one).
pub fn read(spec: &OpenAPI) -> (Vec<OperationRateLimit>, Vec<LintFinding>) {
    let mut limits = Vec::new();
    let mut findings = Vec::new();
    for spec_operation in crate::operations::with_ids(spec) {
        let SpecOperation {
            operation_id,
            operation,
            ..
        } = spec_operation;
        let pointer = spec_operation.pointer();
        let extension_pointer = child(&pointer, RATE_LIMIT_EXTENSION);
        let mut report = |pointer: &str, message: String| {
            findings.push(LintFinding {
                operation: Some(operation_id.to_owned()),
                pointer: pointer.to_owned(),
                message,
            });
        };
        let Some(extension) = operation.extensions.get(RATE_LIMIT_EXTENSION) else {
            report(
                &pointer,
                format!(
                    "no `{RATE_LIMIT_EXTENSION}`; every operation needs its documented limit \
                     (`requests`, `window-seconds`, `scope: credential`)"
                ),
            );
            continue;
        };
        let whole_number = |key: &str, most: u64| {
            extension
                .get(key)
                .and_then(Value::as_u64)
                .filter(|number| (1..=most).contains(number))
                .and_then(|number| u32::try_from(number).ok())
        };
        let requests = whole_number("requests", 100_000);
        let window_seconds = whole_number("window-seconds", 86_400);
        if requests.is_none() {
            report(
                &child(&extension_pointer, "requests"),
                "`requests` must be a whole number from 1 to 100000".to_owned(),
            );
        }
        if window_seconds.is_none() {
            report(
                &child(&extension_pointer, "window-seconds"),
                "`window-seconds` must be a whole number from 1 to 86400".to_owned(),
            );
        }
        if extension.get("scope").and_then(Value::as_str) != Some("credential") {
            report(
                &child(&extension_pointer, "scope"),
                "`scope` must be `credential` (the API limits each API key, not each IP)"
                    .to_owned(),
            );
        }
        if let (Some(requests), Some(window_seconds)) = (requests, window_seconds) {
            limits.push(OperationRateLimit {
                rust_name: rust_snake_name(operation_id),
                requests,
                window_seconds,
            });
        }
    }
    limits.sort_by(|left, right| left.rust_name.cmp(&right.rust_name));
    (limits, findings)
}
