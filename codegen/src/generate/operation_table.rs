//! The operation table: one generated `Operation` enum (every operation of the
//! spec, by its Rust name) and one static `OperationSpec` per operation, indexed
//! by it, with everything the runtime reads from the spec: the rate limit, the
//! safety and idempotency, the groups of alternative fields, the request and
//! success body checks and the paging shape. The runtime maps progenitor's
//! operation id to an `Operation` once per call and reads the rest from there:
//! no table is searched by name.

use heck::{ToSnakeCase, ToUpperCamelCase};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::bodies::{Bodies, FormMembers};
use crate::error::CodegenError;
use crate::model::SpecModel;
use crate::one_of::Location;

/// The Rust source of `generated_operations.rs`, headed by `header`. Lint has
/// checked every input (each operation has a rate limit; extensions are well
/// formed), so an operation missing from a table here is a generator bug.
pub fn source(
    spec_file: &str,
    spec: &Value,
    model: &SpecModel,
    bodies: &Bodies,
    header: &str,
) -> Result<String, CodegenError> {
    // The model is sorted by Rust name: the enum's order, and the table's.
    let rows = &model.operations;
    let missing = |what: &str, rust_name: &str| CodegenError::Generator {
        file: spec_file.to_owned(),
        message: format!("the operation table has no {what} for `{rust_name}`"),
    };
    let variant = |row: &crate::model::OperationModel| {
        format_ident!("{}", row.operation_id.to_upper_camel_case())
    };
    let variants: Vec<_> = rows.iter().map(variant).collect();
    let docs = rows.iter().map(|row| {
        format!(
            " `{}`: `{} {}` (the client's `{}`).",
            row.operation_id, row.method, row.path, row.rust_name
        )
    });
    let rust_names = rows.iter().map(|row| &row.rust_name);
    let operation_ids = rows.iter().map(|row| &row.operation_id);
    let methods = rows.iter().map(|row| &row.method);
    let paths = rows.iter().map(|row| &row.path);
    let count = rows.len();
    let mut specs = Vec::new();
    for row in rows {
        let limit = row
            .rate_limit
            .as_ref()
            .ok_or_else(|| missing("rate limit", &row.rust_name))?;
        let (requests, window_seconds) = (limit.requests, limit.window_seconds);
        let (safe, idempotent) = (row.safe, row.idempotent);
        let group = &row.group;
        let one_of = row.one_of.iter().map(|group| {
            let name = &group.group;
            let location = match group.location {
                Location::Body => quote!(FieldLocation::Body),
                Location::Query => quote!(FieldLocation::Query),
            };
            let fields = &group.fields;
            let (required, at_most_one) = (group.required, group.at_most_one);
            quote! {
                OneOfGroup {
                    group: #name,
                    location: #location,
                    fields: &[#(#fields),*],
                    required: #required,
                    at_most_one: #at_most_one,
                }
            }
        });
        let success_body = match bodies
            .successes
            .iter()
            .find(|body| body.rust_name == row.rust_name)
        {
            Some(body) => {
                let type_name = format_ident!("{}", body.type_name);
                quote!(Some(SuccessBody {
                    read: read::<crate::types::#type_name>,
                    decode: decode::<crate::types::#type_name>,
                }))
            }
            None => quote!(None),
        };
        let request_body = match bodies
            .requests
            .iter()
            .find(|body| body.rust_name == row.rust_name)
        {
            Some(body) => {
                let type_name = format_ident!("{}", body.type_name);
                quote!(Some(read::<crate::types::#type_name>))
            }
            None => quote!(None),
        };
        let paging = match &row.paging {
            Some(paged) => {
                let max_size = paged.max_size;
                let identity = match &paged.identity {
                    Some(identity) => quote!(Some(#identity)),
                    None => quote!(None),
                };
                quote!(Some(PageShape { max_size: #max_size, identity: #identity }))
            }
            None => quote!(None),
        };
        let written = &spec["paths"][&row.path][row.method.to_lowercase().as_str()];
        let documented_statuses = documented_statuses(written);
        let keyed_by_data = crate::operations::json_success(written)
            .map(|(_, response)| keyed_by_data(spec, crate::operations::json_body_schema(response)))
            .unwrap_or_default();
        specs.push(quote! {
            OperationSpec {
                group: #group,
                rate_limit: RateLimit::documented(#requests, #window_seconds),
                semantics: OperationSemantics { safe: #safe, idempotent: #idempotent },
                one_of: &[#(#one_of),*],
                success_body: #success_body,
                request_body: #request_body,
                paging: #paging,
                documented_statuses: &[#(#documented_statuses),*],
                keyed_by_data: &[#(#keyed_by_data),*],
            }
        });
    }
    // A union whose `Deserialize` keeps every member checks each form the same
    // way (`several_forms::check_form`), so its decode error names a member a
    // form would drop as well as a field that does not fit.
    let form_check_name = |union: &crate::bodies::Union, variant: &str| {
        format_ident!(
            "check_{}_{}",
            union.name.to_snake_case(),
            variant.to_snake_case()
        )
    };
    let form_checks = bodies
        .unions
        .iter()
        .filter(|union| union.has_forms_of_one_kind())
        .flat_map(|union| {
            let type_name = format_ident!("{}", union.name);
            union.forms.iter().enumerate().map(move |(index, form)| {
                let function = form_check_name(union, &form.variant);
                let payload = &form.payload;
                quote! {
                    fn #function(body: &[u8]) -> Result<::serde_json::Value, crate::decode::DecodeFailure> {
                        crate::several_forms::check_form(body, crate::types::#type_name::FORMS, #index, read::<#payload>)
                    }
                }
            })
        })
        .collect::<Vec<_>>();
    let union_arms = bodies.unions.iter().map(|union| {
        let name = &union.name;
        let keeps_members = union.has_forms_of_one_kind();
        let forms = union.forms.iter().map(|form| {
            let variant = &form.variant;
            let payload = &form.payload;
            if keeps_members {
                let function = form_check_name(union, &form.variant);
                quote! { (#variant, #function as CheckForm) }
            } else {
                quote! { (#variant, read::<#payload> as CheckForm) }
            }
        });
        quote! {
            #name => {
                const FORMS: &[(&str, CheckForm)] = &[#(#forms),*];
                Some(FORMS)
            }
        }
    });
    // Every success answer is an envelope whose `success` the plain decode reads.
    let mut envelope_types: Vec<&str> = bodies
        .successes
        .iter()
        .map(|body| body.type_name.as_str())
        .collect();
    envelope_types.sort_unstable();
    envelope_types.dedup();
    let envelopes = envelope_types.iter().map(|type_name| {
        let type_name = format_ident!("{type_name}");
        quote! {
            impl crate::decode::Envelope for crate::types::#type_name {
                fn success(&self) -> bool {
                    self.success
                }
            }
        }
    });
    let union_shapes = bodies.unions.iter().map(|union| {
        let name = &union.name;
        let type_name = format_ident!("{}", union.name);
        let forms = union.forms.iter().map(|form| {
            let variant = &form.variant;
            let members = match &form.members {
                FormMembers::Object(names) => {
                    quote! { crate::several_forms::Members::Object(&[#(#names),*]) }
                }
                FormMembers::ListOf(names) => {
                    quote! { crate::several_forms::Members::ListOf(&[#(#names),*]) }
                }
                FormMembers::Other => quote! { crate::several_forms::Members::Other },
            };
            quote! { (#variant, #members) }
        });
        quote! {
            UnionShape {
                name: #name,
                forms: &[#(#forms),*],
                read_and_write: read::<crate::types::#type_name>,
            }
        }
    });
    let progenitor_ids = rows.iter().map(|row| &row.rust_name);
    let tokens = quote! {
        use crate::spec::{
            FieldLocation, OneOfGroup, OperationSemantics, OperationSpec, PageShape, RateLimit,
            SuccessBody,
        };

        /// Every operation of the Sonoran CMS v2 API this client knows, one per
        /// method of [`Client`](crate::Client). New operations are added in
        /// minor releases, so a `match` needs a `_` arm.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            #(#[doc = #docs] #variants,)*
        }

        impl Operation {
            /// Every operation, in the order of their Rust names.
            pub const ALL: &'static [Operation] = &[#(Operation::#variants),*];

            /// The Rust name: the client's method (`cancel_session`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    #(Operation::#variants => #rust_names,)*
                }
            }

            /// The API's operationId (`cancelSession`).
            pub const fn operation_id(self) -> &'static str {
                match self {
                    #(Operation::#variants => #operation_ids,)*
                }
            }

            /// The HTTP method, upper case (`DELETE`).
            pub const fn method(self) -> &'static str {
                match self {
                    #(Operation::#variants => #methods,)*
                }
            }

            /// The path template (`/v2/community/sessions`).
            pub const fn path(self) -> &'static str {
                match self {
                    #(Operation::#variants => #paths,)*
                }
            }

            /// The operation progenitor's generated code reports to the hooks
            /// (its Rust name): the one place that name is read.
            pub(crate) fn from_generated_id(id: &str) -> Option<Operation> {
                match id {
                    #(#progenitor_ids => Some(Operation::#variants),)*
                    _ => None,
                }
            }

            /// What the spec says of it.
            pub(crate) fn spec(self) -> &'static OperationSpec {
                &SPECS[self as usize]
            }
        }

        /// What the spec says of each operation, indexed by [`Operation`].
        static SPECS: [OperationSpec; #count] = [#(#specs),*];

        /// Reads `body` as `T`, saying where it does not fit (naming the
        /// closest form inside a value of several forms), and gives what `T`
        /// keeps of it as JSON.
        fn read<T: ::serde::de::DeserializeOwned + ::serde::Serialize>(
            body: &[u8],
        ) -> Result<::serde_json::Value, crate::decode::DecodeFailure> {
            crate::decode::read::<T>(body, union_forms)
        }

        /// Decodes a success body as `T`, plainly (the happy path: no path
        /// tracking), for the caller to take from the response.
        fn decode<T: ::serde::de::DeserializeOwned + crate::decode::Envelope + Send + Sync + 'static>(
            body: &[u8],
        ) -> Result<crate::decode::Decoded, crate::decode::NotDecoded> {
            crate::decode::decode::<T>(body)
        }

        use crate::decode::CheckForm;

        #(#form_checks)*

        #(#envelopes)*

        /// The forms of the value of several forms (untagged enum) named `name`,
        /// each with its check, so a decode error can say which form came closest.
        fn union_forms(name: &str) -> Option<&'static [(&'static str, CheckForm)]> {
            match name {
                #(#union_arms)*
                _ => None,
            }
        }

        /// A value of several forms: its forms with the members each names, and
        /// a function that reads it from JSON and writes it back.
        #[cfg(test)]
        pub(crate) struct UnionShape {
            pub(crate) name: &'static str,
            pub(crate) forms: &'static [(&'static str, crate::several_forms::Members)],
            pub(crate) read_and_write: fn(&[u8]) -> Result<::serde_json::Value, crate::decode::DecodeFailure>,
        }

        /// Every value of several forms (untagged enum) of the generated types.
        #[cfg(test)]
        pub(crate) const UNION_SHAPES: &[UnionShape] = &[#(#union_shapes),*];
    };
    let body = crate::generate::rust_syntax::format_rust(spec_file, tokens)?;
    Ok(crate::generate::rust_syntax::normalize_newlines(&format!(
        "{header}\n{body}"
    )))
}

/// The answer statuses the docs name for `operation` (read as JSON): the
/// success's own status where the docs name one (`x-documented-status`,
/// `200`) in place of the `2XX` the client reads it at, then every other
/// status or class (`401`, `429`, `4XX`), in the spec's order.
fn documented_statuses(operation: &Value) -> Vec<String> {
    operation["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, response)| {
            response["x-documented-status"]
                .as_str()
                .filter(|_| status.starts_with('2'))
                .unwrap_or(status)
                .to_owned()
        })
        .collect()
}

/// The positions below `schema` (a success body's) that are maps keyed by
/// data: objects whose `additionalProperties` is a typed schema. As JSON
/// paths with `[]` for a list's items and `{key}` for a map's members; every
/// form of a value of several forms is walked, at the same path.
fn keyed_by_data(spec: &Value, schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk_maps(spec, schema, String::new(), &mut Vec::new(), &mut found);
    found.sort();
    found.dedup();
    found
}

fn walk_maps(
    spec: &Value,
    schema: &Value,
    at: String,
    seen: &mut Vec<String>,
    found: &mut Vec<String>,
) {
    let member = |name: &str| {
        if at.is_empty() {
            name.to_owned()
        } else {
            format!("{at}.{name}")
        }
    };
    // A schema met again on the same walk (a recursive type) adds nothing new.
    if let Some(reference) = schema["$ref"].as_str() {
        if seen.iter().any(|known| known == reference) {
            return;
        }
        let Some(target) = spec.pointer(&reference.replacen('#', "", 1)) else {
            return;
        };
        seen.push(reference.to_owned());
        walk_maps(spec, target, at, seen, found);
        seen.pop();
        return;
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for form in schema[key].as_array().into_iter().flatten() {
            walk_maps(spec, form, at.clone(), seen, found);
        }
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        walk_maps(spec, property, member(name), seen, found);
    }
    let values = &schema["additionalProperties"];
    if ["$ref", "type", "oneOf"]
        .iter()
        .any(|key| values.get(key).is_some())
    {
        found.push(at.clone());
        walk_maps(spec, values, member("{key}"), seen, found);
    }
    if schema.get("items").is_some() {
        walk_maps(spec, &schema["items"], format!("{at}[]"), seen, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_keyed_by_data_are_found_below_lists_forms_and_references() {
        let spec = json!({"components": {"schemas": {
            "History": {"oneOf": [
                {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Entry"}},
                {"type": "array", "items": {"$ref": "#/components/schemas/Entry"}}
            ]},
            "Entry": {"type": "object", "properties": {
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "open": {"type": "object", "additionalProperties": {"x-untyped-reason": "kept"}},
                "again": {"$ref": "#/components/schemas/History"}
            }}
        }}});
        let body = json!({"type": "object", "properties": {"data": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "history": {"$ref": "#/components/schemas/History"}
            }}}
        }}}});
        assert_eq!(
            keyed_by_data(&spec, &body),
            [
                "data.items[].history",
                "data.items[].history.{key}.fields",
                "data.items[].history[].fields",
            ]
        );
    }

    #[test]
    fn the_success_status_is_the_one_the_docs_name() {
        let operation = json!({"responses": {
            "2XX": {"x-documented-status": "201"},
            "401": {}, "4XX": {"x-documented-status": "ignored"}
        }});
        assert_eq!(documented_statuses(&operation), ["201", "401", "4XX"]);
    }
}
