//! The request and success body types of every operation, as generated tables:
//! the client's hooks use the success table to say exactly where an answer does
//! not fit its type (the JSON path of the field, via serde_path_to_error, with the
//! status, the request id and the raw body; progenitor's own decoding reports
//! only serde's line and column), and tests, the project's and users', use both
//! to check recorded bodies against the types.

use heck::ToUpperCamelCase;
use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use quote::{ToTokens, format_ident, quote};

use crate::error::CodegenError;
use crate::naming::rust_snake_name;

/// The name progenitor's own `send` gets: it returns progenitor's generic error,
/// which the generated command line handles; users call `send` or `.await`.
pub const GENERATED_SEND: &str = "send_generated";
/// One operation's body: the operation's Rust name and the generated type's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationBody {
    /// The operation's Rust name, as progenitor reports it to hooks.
    pub rust_name: String,
    /// The generated type of the body.
    pub type_name: String,
}

/// The request and success bodies of every operation.
#[derive(Debug, Clone, Default)]
pub struct Bodies {
    /// Operations with a JSON request body given by a `$ref`.
    pub requests: Vec<OperationBody>,
    /// Operations with a JSON success body given by a `$ref`.
    pub successes: Vec<OperationBody>,
    /// Every value of several forms (an untagged enum typify generated): its
    /// name, and each form's variant name and payload type.
    pub unions: Vec<Union>,
    /// Every paged operation (`x-sonoran-paging`).
    pub paged: Vec<Paged>,
}

pub use crate::check::paging::{PAGING_EXTENSION, Paged, paged};

/// A value of several forms: an untagged enum in the generated types.
#[derive(Debug, Clone)]
pub struct Union {
    /// The enum's name.
    pub name: String,
    /// Each form, in the order serde tries them.
    pub forms: Vec<UnionForm>,
    /// How many variants the enum has (a variant that holds no one value is
    /// not a form).
    pub variants: usize,
}

/// One form of a [`Union`].
#[derive(Debug, Clone)]
pub struct UnionForm {
    /// The variant's name.
    pub variant: String,
    /// The type it holds, as a path from the crate root.
    pub payload: syn::Type,
    /// The JSON members the form knows, when it is an object or a list of
    /// objects.
    pub members: FormMembers,
}

/// What JSON members a form names, so that a form is never chosen for a value
/// whose members another form names (it would drop them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormMembers {
    /// An object with these members (a generated struct).
    Object(Vec<String>),
    /// A list of objects with these members.
    ListOf(Vec<String>),
    /// Anything else: a scalar, a map keyed by data, open JSON, another union.
    Other,
}

impl FormMembers {
    /// Whether two forms are read from the same kind of JSON value and so can
    /// be confused.
    pub fn same_kind(&self, other: &FormMembers) -> bool {
        matches!(
            (self, other),
            (FormMembers::Object(_), FormMembers::Object(_))
                | (FormMembers::ListOf(_), FormMembers::ListOf(_))
        )
    }
}

impl Union {
    /// Whether two of its forms read the same kind of value with members (two
    /// object forms, or two lists of objects), so that one could take a value
    /// the other means.
    pub fn has_forms_of_one_kind(&self) -> bool {
        self.forms.iter().enumerate().any(|(index, form)| {
            self.forms[index + 1..]
                .iter()
                .any(|other| form.members.same_kind(&other.members))
        })
    }
}

/// The untagged enums of a generated client's `types` module, with what each
/// form names, sorted by name: a decode error inside one can say which form
/// came closest.
pub fn unions_in(file: &syn::File) -> Vec<Union> {
    let types_module = file.items.iter().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_ref(),
        _ => None,
    });
    let items = types_module
        .map(|(_, items)| items.as_slice())
        .unwrap_or_default();
    let struct_members = |name: &str| -> Option<Vec<String>> {
        items.iter().find_map(|item| match item {
            syn::Item::Struct(structure) if structure.ident == name => {
                Some(json_members(structure))
            }
            _ => None,
        })
    };
    let mut unions = Vec::new();
    for item in items {
        let syn::Item::Enum(enumeration) = item else {
            continue;
        };
        let untagged = enumeration.attrs.iter().any(|attribute| {
            attribute.path().is_ident("serde")
                && attribute.to_token_stream().to_string().contains("untagged")
        });
        if !untagged {
            continue;
        }
        let forms = enumeration
            .variants
            .iter()
            .filter_map(|variant| match &variant.fields {
                syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                    let written = &fields.unnamed[0].ty;
                    let members = match (single_name(written), list_item_name(written)) {
                        (Some(name), _) => struct_members(&name).map(FormMembers::Object),
                        (None, Some(name)) => struct_members(&name).map(FormMembers::ListOf),
                        (None, None) => None,
                    }
                    .unwrap_or(FormMembers::Other);
                    let mut payload = written.clone();
                    qualify(&mut payload);
                    Some(UnionForm {
                        variant: variant.ident.to_string(),
                        payload,
                        members,
                    })
                }
                _ => None,
            })
            .collect();
        unions.push(Union {
            name: enumeration.ident.to_string(),
            forms,
            variants: enumeration.variants.len(),
        });
    }
    unions.sort_by(|left, right| left.name.cmp(&right.name));
    unions
}

/// The JSON names of a generated struct's fields (`#[serde(rename)]`, else the
/// field's name); a flattened field (the rest of the members) names none.
fn json_members(structure: &syn::ItemStruct) -> Vec<String> {
    let mut names: Vec<String> = json_members_with_fields(structure)
        .into_iter()
        .map(|(json, _, _)| json)
        .collect();
    names.sort();
    names
}

/// `X` of a type written as a bare name `X`.
fn single_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    (path.qself.is_none() && path.path.leading_colon.is_none() && path.path.segments.len() == 1)
        .then(|| path.path.segments[0].ident.to_string())
        .filter(|_| path.path.segments[0].arguments.is_empty())
}

/// `X` of a type written as `Vec<X>` (any path to `Vec`).
fn list_item_name(ty: &syn::Type) -> Option<String> {
    single_name(&crate::generate::rust_syntax::generic_argument(ty, "Vec")?)
}

/// Makes a type written inside the `types` module (`ClockInRow`,
/// `::std::vec::Vec<ActivityRow>`) usable from the crate root.
fn qualify(payload: &mut syn::Type) {
    const PRIMITIVES: [&str; 14] = [
        "bool", "char", "str", "i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "f32",
        "f64",
    ];
    if let syn::Type::Path(type_path) = payload {
        let first = type_path
            .path
            .segments
            .first()
            .map(|segment| segment.ident.to_string());
        let relative = type_path.qself.is_none()
            && type_path.path.leading_colon.is_none()
            && first.is_some_and(|first| !PRIMITIVES.contains(&first.as_str()) && first != "crate");
        if relative {
            let mut qualified: syn::Path = syn::parse_quote!(crate::types);
            qualified.segments.extend(type_path.path.segments.clone());
            type_path.path = qualified;
        }
        for segment in &mut type_path.path.segments {
            if let syn::PathArguments::AngleBracketed(arguments) = &mut segment.arguments {
                for argument in &mut arguments.args {
                    if let syn::GenericArgument::Type(inner) = argument {
                        qualify(inner);
                    }
                }
            }
        }
    }
}

/// Every operation whose request or success body is JSON given by a `$ref` to a
/// component, sorted by Rust name. (Lint makes every body typed; one written
/// inline would simply not be listed, and decode errors for it would lack the
/// field's path.)
pub fn read(spec: &OpenAPI) -> Bodies {
    let mut bodies = Bodies::default();
    for crate::operations::SpecOperation {
        operation_id,
        operation,
        ..
    } in crate::operations::with_ids(spec)
    {
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
            .and_then(component_name);
        if let Some(component) = reference {
            bodies.successes.push(OperationBody {
                rust_name: rust_snake_name(operation_id),
                type_name: component.to_upper_camel_case(),
            });
        }
        let request = match &operation.request_body {
            Some(ReferenceOr::Item(body)) => body
                .content
                .get("application/json")
                .and_then(|media| media.schema.as_ref())
                .and_then(component_name),
            _ => None,
        };
        if let Some(component) = request {
            bodies.requests.push(OperationBody {
                rust_name: rust_snake_name(operation_id),
                type_name: component.to_upper_camel_case(),
            });
        }
    }
    bodies
        .successes
        .sort_by(|left, right| left.rust_name.cmp(&right.rust_name));
    bodies
        .requests
        .sort_by(|left, right| left.rust_name.cmp(&right.rust_name));
    bodies
}

fn component_name(schema: &ReferenceOr<openapiv3::Schema>) -> Option<&str> {
    match schema {
        ReferenceOr::Reference { reference } => reference.strip_prefix("#/components/schemas/"),
        ReferenceOr::Item(_) => None,
    }
}

/// Every builder's hidden `send_generated` in the generated client (parsed
/// once, by the pipeline): the builder's name and its answer's type, for the
/// `send` and `IntoFuture` generated beside it.
pub fn sends_in(file: &syn::File) -> Vec<(String, syn::Type)> {
    let Some((_, items)) = file.items.iter().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "builder" => module.content.as_ref(),
        _ => None,
    }) else {
        return Vec::new();
    };
    let mut sends = Vec::new();
    for item in items {
        let syn::Item::Impl(implementation) = item else {
            continue;
        };
        let syn::Type::Path(self_type) = implementation.self_ty.as_ref() else {
            continue;
        };
        let Some(builder) = self_type
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
        else {
            continue;
        };
        for member in &implementation.items {
            if let syn::ImplItem::Fn(function) = member
                && function.sig.ident == GENERATED_SEND
                && let Some(mut answer) =
                    crate::generate::rust_syntax::success_type(&function.sig.output)
            {
                // Written from the client's root (`types::X`): from the crate's.
                if let syn::Type::Path(path) = &mut answer
                    && path.qself.is_none()
                    && path.path.leading_colon.is_none()
                    && path
                        .path
                        .segments
                        .first()
                        .is_some_and(|segment| segment.ident == "types")
                {
                    path.path.segments.insert(0, syn::parse_quote!(crate));
                }
                sends.push((builder.clone(), answer));
            }
        }
    }
    sends
}

/// The Rust source of `generated_calls.rs`, headed by `header`: each builder's
/// `send` and `IntoFuture` (the client's error), and `.items(page_size)` of
/// each paged operation.
pub fn source(
    spec_file: &str,
    sends: &[(String, syn::Type)],
    bodies: &Bodies,
    client: &syn::File,
    header: &str,
) -> Result<String, CodegenError> {
    let calls = sends.iter().map(|(builder, answer)| {
        let builder = format_ident!("{builder}");
        let generated_send = format_ident!("{}", GENERATED_SEND);
        quote! {
            impl<'a> crate::builder::#builder<'a> {
                /// Sends the request: through the client's rate limiter, retries and
                /// deadline. The builder is a future as well: `.await` it for the
                /// same result. The error is [`crate::Error`], with the API's message.
                pub async fn send(self) -> crate::Result<crate::ResponseValue<#answer>> {
                    self.#generated_send().await.map_err(crate::Error::from)
                }
            }

            impl<'a> ::std::future::IntoFuture for crate::builder::#builder<'a> {
                type Output = crate::Result<crate::ResponseValue<#answer>>;
                type IntoFuture = ::std::pin::Pin<
                    ::std::boxed::Box<dyn ::std::future::Future<Output = Self::Output> + Send + 'a>,
                >;
                /// Sends the request, as [`send`](Self::send) does.
                fn into_future(self) -> Self::IntoFuture {
                    ::std::boxed::Box::pin(self.send())
                }
            }
        }
    });
    let mut pagers = Vec::new();
    for paged in &bodies.paged {
        let rust_name = rust_snake_name(&paged.operation_id);
        let reader = bodies
            .successes
            .iter()
            .find(|body| body.rust_name == rust_name)
            .and_then(|body| page_reader(client, &body.type_name, paged))
            .ok_or_else(|| CodegenError::Generator {
                file: spec_file.to_owned(),
                message: format!(
                    "the paging of `{}` ({}) reaches no list of `{}` in its answer's type, or its total ({}) \
                     no whole number",
                    paged.operation_id,
                    paged.items.join(", "),
                    paged.item,
                    paged.total.as_deref().unwrap_or("none")
                ),
            })?;
        let reader_name = format_ident!("read_{}_page", rust_name);
        let builder = format_ident!("{}", paged.operation_id.to_upper_camel_case());
        let item = format_ident!("{}", paged.item.to_upper_camel_case());
        let offset = format_ident!("{}", rust_snake_name(&paged.offset));
        let size = format_ident!("{}", rust_snake_name(&paged.size));
        let identified =
            identity_reader(client, paged).map(|reader| quote!(.identified_by(#reader)));
        let max_size = paged.max_size;
        let doc = format!(
            " Every item this operation lists, as a stream that fetches pages of `page_size` items lazily \
             (`{}`/`{}`; at most {max_size}, the most the API returns in a page), through the client's rate \
             limiter and retries; it ends when the total is reached or a page is empty, and an error ends it \
             after the items already yielded. A `{}` set on this builder is where it starts, and a `{}` \
             the most items it yields. See [`Items`](crate::paging::Items).",
            paged.offset, paged.size, paged.offset, paged.size
        );
        pagers.push(quote! {
            #reader

            impl<'a> crate::builder::#builder<'a> {
                #[doc = #doc]
                pub fn items(self, page_size: u64) -> crate::paging::Items<'a, crate::types::#item> {
                    let window = self.paging_window();
                    crate::paging::Items::new(
                        page_size,
                        crate::Operation::#builder,
                        move |offset, size| {
                            let page = self.clone().#offset(offset).#size(size);
                            Box::pin(async move {
                                let mut answer = page.await?.into_inner();
                                let (items, total) = #reader_name(&mut answer);
                                Ok(crate::paging::Page { items, total })
                            })
                        },
                    )
                    .within(window)
                    #identified
                }
            }
        });
    }
    let tokens = quote! {
        // A page reader walks every place the spec says the items may be, and
        // some walks end in an unconditional `break`.
        #![allow(unreachable_code)]
        #(#calls)*
        #(#pagers)*
    };
    let body = crate::generate::rust_syntax::format_rust(spec_file, tokens)?;
    Ok(crate::generate::rust_syntax::normalize_newlines(&format!(
        "{header}\n{body}"
    )))
}

/// A function that reads the paged item's identity (`x-sonoran-paging`'s
/// `identity`, a member of the item) as text, when the spec names one.
fn identity_reader(client: &syn::File, paged: &Paged) -> Option<proc_macro2::TokenStream> {
    let identity = paged.identity.as_deref()?;
    let types = GeneratedTypes::of(client);
    let item = paged.item.to_upper_camel_case();
    let (_, fields) = types.structs.iter().find(|(name, _)| *name == item)?;
    let (_, field, ty) = fields.iter().find(|(json, _, _)| json == identity)?;
    let item = format_ident!("{item}");
    let optional = quote!(#ty).to_string().contains("Option");
    Some(if optional {
        quote!(|item: &crate::types::#item| item.#field.as_ref().map(::std::string::ToString::to_string))
    } else {
        quote!(|item: &crate::types::#item| ::std::option::Option::Some(item.#field.to_string()))
    })
}

/// One step from a value of a generated type to a value inside it.
#[derive(Debug, Clone)]
enum Step {
    /// A struct's field (its Rust name).
    Field(syn::Ident),
    /// The value inside an `Option`.
    Some,
    /// A union's variant (`crate::types::Union::Variant`), whose payload continues.
    Variant(syn::Path),
}

/// A generated struct's field: its JSON name, Rust name and type.
pub(crate) type StructField = (String, syn::Ident, syn::Type);

/// The generated types, by name: each struct's fields (JSON name, Rust name,
/// type) and each enum's one-value variants.
struct GeneratedTypes {
    structs: Vec<(String, Vec<StructField>)>,
    enums: Vec<(String, Vec<(syn::Ident, syn::Type)>)>,
}

impl GeneratedTypes {
    fn of(file: &syn::File) -> Self {
        let items = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Mod(module) if module.ident == "types" => module.content.as_ref(),
                _ => None,
            })
            .map(|(_, items)| items.as_slice())
            .unwrap_or_default();
        let mut types = Self {
            structs: Vec::new(),
            enums: Vec::new(),
        };
        for item in items {
            match item {
                syn::Item::Struct(structure) => {
                    let names = json_members_with_fields(structure);
                    types.structs.push((structure.ident.to_string(), names));
                }
                syn::Item::Enum(enumeration) => {
                    let variants = enumeration
                        .variants
                        .iter()
                        .filter_map(|variant| match &variant.fields {
                            syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                                Some((variant.ident.clone(), fields.unnamed[0].ty.clone()))
                            }
                            _ => None,
                        })
                        .collect();
                    types.enums.push((enumeration.ident.to_string(), variants));
                }
                _ => {}
            }
        }
        types
    }

    /// Every way to reach the value at `segments` (a JSON pointer's tokens)
    /// from a value of type `ty`: the steps and the type reached.
    fn resolve(&self, ty: &syn::Type, segments: &[String]) -> Vec<(Vec<Step>, syn::Type)> {
        let syn::Type::Path(path) = ty else {
            return Vec::new();
        };
        let Some(last) = path.path.segments.last() else {
            return Vec::new();
        };
        if let Some(inner) = crate::generate::rust_syntax::generic_argument(ty, "Option") {
            return self
                .resolve(&inner, segments)
                .into_iter()
                .map(|(mut steps, reached)| {
                    steps.insert(0, Step::Some);
                    (steps, reached)
                })
                .collect();
        }
        let name = last.ident.to_string();
        let Some((segment, rest)) = segments.split_first() else {
            // Here, or inside one of the forms of a union here.
            let mut reached = vec![(Vec::new(), ty.clone())];
            if let Some((_, variants)) = self.enums.iter().find(|(known, _)| *known == name) {
                let enum_ident = format_ident!("{name}");
                for (variant, payload) in variants {
                    let pattern: syn::Path = syn::parse_quote!(crate::types::#enum_ident::#variant);
                    reached.extend(self.resolve(payload, &[]).into_iter().map(
                        |(mut steps, inner)| {
                            steps.insert(0, Step::Variant(pattern.clone()));
                            (steps, inner)
                        },
                    ));
                }
            }
            return reached;
        };
        if let Some((_, fields)) = self.structs.iter().find(|(known, _)| *known == name) {
            return fields
                .iter()
                .filter(|(json, _, _)| json == segment)
                .flat_map(|(_, ident, field_type)| {
                    self.resolve(field_type, rest)
                        .into_iter()
                        .map(move |(mut steps, reached)| {
                            steps.insert(0, Step::Field(ident.clone()));
                            (steps, reached)
                        })
                })
                .collect();
        }
        if let Some((_, variants)) = self.enums.iter().find(|(known, _)| *known == name) {
            let enum_ident = format_ident!("{name}");
            return variants
                .iter()
                .flat_map(|(variant, payload)| {
                    let pattern: syn::Path = syn::parse_quote!(crate::types::#enum_ident::#variant);
                    self.resolve(payload, segments)
                        .into_iter()
                        .map(move |(mut steps, reached)| {
                            steps.insert(0, Step::Variant(pattern.clone()));
                            (steps, reached)
                        })
                })
                .collect();
        }
        Vec::new()
    }
}

/// A struct's fields: JSON name (`#[serde(rename)]`, else the field's name),
/// Rust name and type; flattened fields are left out.
pub(crate) fn json_members_with_fields(structure: &syn::ItemStruct) -> Vec<StructField> {
    let mut fields = Vec::new();
    for field in &structure.fields {
        let Some(ident) = &field.ident else {
            continue;
        };
        let mut rename = None;
        let mut flatten = false;
        for attribute in field
            .attrs
            .iter()
            .filter(|attribute| attribute.path().is_ident("serde"))
        {
            let _ = attribute.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let value: syn::LitStr = meta.value()?.parse()?;
                    rename = Some(value.value());
                } else if meta.path.is_ident("flatten") {
                    flatten = true;
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
        }
        if !flatten {
            let json =
                rename.unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
            fields.push((json, ident.clone(), field.ty.clone()));
        }
    }
    fields
}

/// Nested `if let`s that walk `steps` from `place` (a reference, `&mut` when
/// `mutable`) and end in `leaf`, given the reached place's binding.
fn walk(
    steps: &[Step],
    place: proc_macro2::TokenStream,
    depth: usize,
    mutable: bool,
    leaf: &dyn Fn(proc_macro2::TokenStream) -> proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let Some((step, rest)) = steps.split_first() else {
        return leaf(place);
    };
    let next = format_ident!("value{depth}");
    let inner = walk(rest, quote!(#next), depth + 1, mutable, leaf);
    match step {
        Step::Field(field) if mutable => quote! { let #next = &mut #place.#field; #inner },
        Step::Field(field) => quote! { let #next = &#place.#field; #inner },
        Step::Some => quote! { if let Some(#next) = #place { #inner } },
        Step::Variant(pattern) => quote! { if let #pattern(#next) = #place { #inner } },
    }
}

/// The function that takes a paged operation's items and total out of its
/// typed answer, from the paging extension's JSON pointers resolved against
/// the generated types (`client` is the generated client's source): no trip
/// through JSON. `None` when a pointer reaches no list of the item type.
pub fn page_reader(
    client: &syn::File,
    answer_type: &str,
    paged: &Paged,
) -> Option<proc_macro2::TokenStream> {
    let types = GeneratedTypes::of(client);
    let answer_ident = format_ident!("{answer_type}");
    let answer: syn::Type = syn::parse_quote!(#answer_ident);
    let item = format_ident!("{}", paged.item.to_upper_camel_case());
    let tokens_of = |pointer: &str| -> Vec<String> {
        pointer
            .trim_start_matches('/')
            .split('/')
            .filter(|token| !token.is_empty())
            .map(|token| token.replace("~1", "/").replace("~0", "~"))
            .collect()
    };
    let mut item_walks = Vec::new();
    for pointer in &paged.items {
        let found = types.resolve(&answer, &tokens_of(pointer));
        let lists: Vec<_> = found
            .into_iter()
            .filter(|(_, reached)| list_item_name(reached).as_deref() == Some(&item.to_string()))
            .collect();
        if lists.is_empty() {
            return None;
        }
        for (steps, _) in lists {
            let walked = walk(&steps, quote!(answer), 0, true, &|place| {
                quote! { break 'items Some(::std::mem::take(#place)); }
            });
            item_walks.push(quote! { { #walked } });
        }
    }
    let integer = |reached: &syn::Type| {
        single_name(reached).is_some_and(|name| {
            [
                "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
            ]
            .contains(&name.as_str())
        })
    };
    let totals: Vec<_> = paged
        .total
        .iter()
        .flat_map(|pointer| types.resolve(&answer, &tokens_of(pointer)))
        .filter(|(_, reached)| integer(reached))
        .collect();
    if paged.total.is_some() && totals.is_empty() {
        // A total the reader cannot count by would end streams late, or not compile.
        return None;
    }
    let total_walks: Vec<_> = totals
        .into_iter()
        .map(|(steps, _)| {
            let walked = walk(&steps, quote!(answer), 0, false, &|place| {
                quote! { break 'total u64::try_from(*#place).ok(); }
            });
            quote! { { #walked } }
        })
        .collect();
    let type_path = quote!(crate::types::#answer_ident);
    let function = format_ident!("read_{}_page", rust_snake_name(&paged.operation_id));
    Some(quote! {
        /// Takes a page's items and total out of its typed answer, wherever
        /// the spec says they may be.
        fn #function(answer: &mut #type_path) -> (Option<::std::vec::Vec<crate::types::#item>>, Option<u64>) {
            let total = 'total: {
                #(#total_walks)*
                None
            };
            let items = 'items: {
                #(#item_walks)*
                None
            };
            (items, total)
        }
    })
}
