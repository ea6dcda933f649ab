//! The operation table: one generated `Operation` enum (every operation of the
//! spec, by its Rust name) and one static `OperationSpec` per operation, indexed
//! by it, with everything the runtime reads from the spec: the rate limit, the
//! safety and idempotency, the groups of alternative fields, the request and
//! success body checks and the paging shape. The runtime maps progenitor's
//! operation id to an `Operation` once per call and reads the rest from there:
//! no table is searched by name.

use heck::{ToSnakeCase, ToUpperCamelCase};
use quote::{format_ident, quote};

use crate::bodies::{Bodies, FormMembers};
use crate::error::CodegenError;
use crate::model::SpecModel;
use crate::one_of::Location;

/// The Rust source of `generated_operations.rs`, headed by `header`. Lint has
/// checked every input (each operation has a rate limit; extensions are well
/// formed), so an operation missing from a table here is a generator bug.
pub fn source(
    spec_file: &str,
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
                    check: check::<crate::types::#type_name>,
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
                quote!(Some(RequestBody {
                    check: check::<crate::types::#type_name>,
                    as_sent: crate::decode::as_sent::<crate::types::#type_name>,
                }))
            }
            None => quote!(None),
        };
        let paging = match &row.paging {
            Some(paged) => {
                let max_size = paged.max_size;
                quote!(Some(PageShape { max_size: #max_size }))
            }
            None => quote!(None),
        };
        specs.push(quote! {
            OperationSpec {
                group: #group,
                rate_limit: RateLimit::documented(#requests, #window_seconds),
                semantics: OperationSemantics { safe: #safe, idempotent: #idempotent },
                one_of: &[#(#one_of),*],
                success_body: #success_body,
                request_body: #request_body,
                paging: #paging,
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
                    fn #function(body: &[u8]) -> Result<(), crate::decode::DecodeFailure> {
                        crate::several_forms::check_form(body, crate::types::#type_name::FORMS, #index, check::<#payload>)
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
                quote! { (#variant, check::<#payload> as CheckForm) }
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
                read_and_write: crate::decode::as_sent::<crate::types::#type_name>,
            }
        }
    });
    let progenitor_ids = rows.iter().map(|row| &row.rust_name);
    let tokens = quote! {
        use crate::spec::{
            FieldLocation, OneOfGroup, OperationSemantics, OperationSpec, PageShape, RateLimit,
            RequestBody, SuccessBody,
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

        /// Decodes `body` as `T`, saying where it does not fit, and naming the
        /// closest form inside a value of several forms.
        fn check<T: ::serde::de::DeserializeOwned>(body: &[u8]) -> Result<(), crate::decode::DecodeFailure> {
            crate::decode::check::<T>(body, union_forms)
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
    let body = crate::generate::format_rust(spec_file, tokens)?;
    Ok(crate::generate::normalize_newlines(&format!(
        "{header}\n{body}"
    )))
}
