//! The success body type of every operation, as a generated table the client's
//! hooks use to say exactly where an answer does not fit its type: the JSON path
//! of the field (serde_path_to_error), with the status, the request id and the
//! raw body. progenitor's own decoding reports only serde's line and column.

use heck::ToUpperCamelCase;
use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use quote::{format_ident, quote};

use crate::error::CodegenError;
use crate::naming::rust_snake_name;

/// One operation's success body: the operation's Rust name and the generated
/// type's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessBody {
    /// The operation's Rust name, as progenitor reports it to hooks.
    pub rust_name: String,
    /// The generated type of its success body.
    pub type_name: String,
}

/// Every operation whose success response is a JSON body given by a `$ref` to a
/// component, sorted by Rust name. (Lint makes every success body typed; one
/// written inline would simply not be listed, and decode errors for it would
/// lack the field's path.)
pub fn read(spec: &OpenAPI) -> Vec<SuccessBody> {
    let mut bodies = Vec::new();
    for item in spec.paths.paths.values() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (_, operation) in item.iter() {
            let Some(operation_id) = operation.operation_id.as_deref() else {
                continue;
            };
            let success = operation
                .responses
                .responses
                .iter()
                .find_map(|(status, response)| {
                    let is_success = match status {
                        StatusCode::Code(code) => (200..300).contains(code),
                        StatusCode::Range(range) => *range == 2,
                    };
                    match response {
                        ReferenceOr::Item(response) if is_success => Some(response),
                        _ => None,
                    }
                });
            let reference = success
                .and_then(|response| response.content.get("application/json"))
                .and_then(|media| media.schema.as_ref())
                .and_then(|schema| match schema {
                    ReferenceOr::Reference { reference } => {
                        reference.strip_prefix("#/components/schemas/")
                    }
                    ReferenceOr::Item(_) => None,
                });
            if let Some(component) = reference {
                bodies.push(SuccessBody {
                    rust_name: rust_snake_name(operation_id),
                    type_name: component.to_upper_camel_case(),
                });
            }
        }
    }
    bodies.sort_by(|left, right| left.rust_name.cmp(&right.rust_name));
    bodies
}

/// The Rust source of the generated table, headed by `header`.
pub fn source(
    spec_file: &str,
    bodies: &[SuccessBody],
    header: &str,
) -> Result<String, CodegenError> {
    let arms = bodies.iter().map(|body| {
        let operation = &body.rust_name;
        let type_name = format_ident!("{}", body.type_name);
        quote! { #operation => Some(crate::decode::check::<crate::types::#type_name>(body)) }
    });
    let operations = bodies.iter().map(|body| &body.rust_name);
    let tokens = quote! {
        /// Decodes `body`, a success answer of `operation` (its Rust name, such as
        /// `"get_account"`), as the operation's generated type, and says where it does
        /// not fit. `None` for an operation without a JSON success body. The client
        /// runs this on every success answer; your tests can run it on recorded ones.
        pub fn check_success_body(
            operation: &str,
            body: &[u8],
        ) -> Option<Result<(), crate::decode::DecodeFailure>> {
            match operation {
                #(#arms,)*
                _ => None,
            }
        }

        /// The operations (by Rust name) whose success answer has a JSON body, sorted.
        pub const OPERATIONS_WITH_SUCCESS_BODY: &[&str] = &[#(#operations),*];
    };
    let body = crate::generate::format_rust(spec_file, tokens)?;
    Ok(crate::generate::normalize_newlines(&format!(
        "{header}\n{body}"
    )))
}
