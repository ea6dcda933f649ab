//! The per-operation limits recorded in the spec: the rate limit
//! (`x-sonoran-rate-limit`) and whether a request may be repeated once it may
//! have run (`x-sonoran-retry-after-sending: false`). Reading and checking them,
//! and generating the tables the client's limiter and retry loop read, so a limit
//! is data in `openapi/` rather than code.

use openapiv3::OpenAPI;
use quote::quote;
use serde_json::Value;

use crate::error::{CodegenError, LintFinding};
use crate::json_pointer::child;
use crate::naming::rust_snake_name;
use crate::operations::SpecOperation;

/// The operation extension that carries the documented rate limit.
pub const RATE_LIMIT_EXTENSION: &str = "x-sonoran-rate-limit";

/// The operation extension that, set to `false`, keeps the client from repeating
/// a request that may have run (after a 5XX, a timeout or a reset), although
/// its method is idempotent.
pub const RETRY_AFTER_SENDING_EXTENSION: &str = "x-sonoran-retry-after-sending";

/// The operations (by Rust name, sorted) not repeated once they may have run,
/// or a finding for each extension that is not `true` or `false`.
pub fn not_retried_after_sending(spec: &OpenAPI) -> (Vec<String>, Vec<LintFinding>) {
    let mut operations = Vec::new();
    let mut findings = Vec::new();
    for spec_operation in crate::operations::with_ids(spec) {
        match spec_operation
            .operation
            .extensions
            .get(RETRY_AFTER_SENDING_EXTENSION)
        {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => {
                operations.push(rust_snake_name(spec_operation.operation_id))
            }
            Some(_) => findings.push(LintFinding {
                operation: Some(spec_operation.operation_id.to_owned()),
                pointer: child(&spec_operation.pointer(), RETRY_AFTER_SENDING_EXTENSION),
                message: format!("`{RETRY_AFTER_SENDING_EXTENSION}` must be true or false"),
            }),
        }
    }
    operations.sort();
    (operations, findings)
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

/// The Rust source of the generated rate-limit and retry tables, headed by `header`.
pub fn table_source(
    spec_file: &str,
    limits: &[OperationRateLimit],
    not_retried_after_sending: &[String],
    header: &str,
) -> Result<String, CodegenError> {
    let entries = limits.iter().map(|limit| {
        let name = &limit.rust_name;
        let requests = limit.requests;
        let window_seconds = limit.window_seconds;
        quote! { (#name, RateLimit::new(#requests, #window_seconds)) }
    });
    let tokens = quote! {
        use crate::rate_limit::RateLimit;

        /// The rate limit the docs give each operation, per credential, keyed by the
        /// operation's Rust name (the `operation_id` progenitor reports to hooks).
        pub(crate) const DOCUMENTED_RATE_LIMITS: &[(&str, RateLimit)] = &[#(#entries),*];

        /// The operations not repeated once a request may have run (a 5XX, a
        /// timeout or a reset after sending), by Rust name: repeating them could
        /// report a success as a failure.
        pub(crate) const NOT_RETRIED_AFTER_SENDING: &[&str] = &[#(#not_retried_after_sending),*];
    };
    let body = crate::generate::format_rust(spec_file, tokens)?;
    Ok(crate::generate::normalize_newlines(&format!(
        "{header}\n{body}"
    )))
}
