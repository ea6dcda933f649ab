//! Each operation's contract as a user of the crate sees it and as it goes on
//! the wire, one plain-text page per operation: the reviewer's view of a spec
//! or generator change (tests/tests/contracts.rs snapshots them; `cargo xtask
//! upstream sync` lists the pages a change touches).
//!
//! A page is read from what regen writes, not from the spec alone, so a drift
//! of the generator shows as well as a drift of the spec:
//!
//! - from the generated client (`sonoran-cms/src/generated.rs`, parsed with
//!   syn): the Rust method and builder, each setter and its type, where each
//!   input goes (the path's placeholders, the query's names, the JSON body),
//!   the HTTP method and path the request is built with, the answer and error
//!   types and the statuses each is read at, and every request and answer
//!   type expanded (fields, Rust types, JSON names, optionality, forms, what
//!   happens to members the type does not name);
//! - from the open value sets' file (`generated_value_sets.rs`): each set's
//!   known values;
//! - from the spec's model (`check::model`): the rate limit, the retry class,
//!   paging, the groups of alternative fields, and the summary; the API's
//!   names of path placeholders (progenitor's code keeps only the Rust ones).
//!
//! What the page leaves out on purpose: descriptions and examples (not a
//! change for users), and progenitor's plumbing (headers, hooks).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use serde_json::Value;

use crate::error::CodegenError;
use crate::model::{OperationModel, SpecModel};
use crate::one_of::Location;

/// One operation's contract page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// The operation's Rust method name (`cancel_session`): the page's name.
    pub rust_name: String,
    /// The page, plain text ending in a newline.
    pub text: String,
}

/// Every operation's contract, sorted by Rust name.
///
/// `client` and `value_sets` are the generated client and value sets' sources
/// (`file` names them in errors), `enriched` the enriched spec regen writes.
///
/// # Errors
///
/// [`CodegenError::Contract`] naming the generated file when its code does not
/// parse or does not have the shape progenitor writes (an operation without a
/// builder, a builder without its send): a page is never guessed.
pub fn contracts(
    client: &str,
    value_sets: &str,
    enriched: &Value,
    model: &SpecModel,
) -> Result<Vec<Contract>, CodegenError> {
    let client_file = parse(crate::paths::GENERATED_CLIENT_PATH, client)?;
    let value_sets_file = parse(crate::paths::GENERATED_VALUE_SETS_PATH, value_sets)?;
    let generated = Generated::read(&client_file, &value_sets_file)
        .map_err(|message| format_error(crate::paths::GENERATED_CLIENT_PATH, message))?;
    let mut pages = Vec::new();
    for method in &generated.methods {
        let operation = model.operation(&method.rust_name);
        let text = page(&generated, method, operation, enriched).map_err(|message| {
            format_error(
                crate::paths::GENERATED_CLIENT_PATH,
                format!("`{}`: {message}", method.rust_name),
            )
        })?;
        pages.push(Contract {
            rust_name: method.rust_name.clone(),
            text,
        });
    }
    pages.sort_by(|left, right| left.rust_name.cmp(&right.rust_name));
    Ok(pages)
}

fn parse(file: &str, source: &str) -> Result<syn::File, CodegenError> {
    syn::parse_file(source).map_err(|error| format_error(file, error.to_string()))
}

fn format_error(file: &str, message: String) -> CodegenError {
    CodegenError::Contract {
        file: file.to_owned(),
        message,
    }
}

/// What the pages read from the generated code.
struct Generated<'a> {
    /// `impl Client`'s operation methods, in file order.
    methods: Vec<ClientMethod>,
    /// The `builder` module's items.
    builders: &'a [syn::Item],
    /// The `types` module's structs and enums by name.
    types: BTreeMap<String, &'a syn::Item>,
    /// Open value sets (re-exported from `generated_value_sets`) and their
    /// known values.
    value_sets: BTreeMap<String, Vec<String>>,
}

struct ClientMethod {
    rust_name: String,
    builder: String,
}

impl<'a> Generated<'a> {
    fn read(client: &'a syn::File, value_sets: &syn::File) -> Result<Self, String> {
        let builders = module(&client.items, "builder").ok_or("no `builder` module")?;
        let type_items = module(&client.items, "types").ok_or("no `types` module")?;
        let mut types = BTreeMap::new();
        let mut re_exported = BTreeSet::new();
        for item in type_items {
            match item {
                syn::Item::Struct(item_struct) => {
                    types.insert(item_struct.ident.to_string(), item);
                }
                syn::Item::Enum(item_enum) => {
                    types.insert(item_enum.ident.to_string(), item);
                }
                syn::Item::Use(item_use) => {
                    let text = item_use.tree.to_token_stream().to_string().replace(' ', "");
                    if let Some(name) = text.strip_prefix("crate::generated_value_sets::") {
                        re_exported.insert(name.to_owned());
                    }
                }
                _ => {}
            }
        }
        let known = known_values(value_sets);
        let mut value_sets = BTreeMap::new();
        for name in re_exported {
            let values = known.get(&name).cloned().ok_or_else(|| {
                format!("the value set `{name}` is re-exported but has no `as_str` in generated_value_sets.rs")
            })?;
            value_sets.insert(name, values);
        }
        Ok(Self {
            methods: client_methods(&client.items),
            builders,
            types,
            value_sets,
        })
    }

    /// The builder struct `name` and its inherent impl's `send_generated`.
    fn builder(&self, name: &str) -> Result<(&syn::ItemStruct, &syn::ImplItemFn), String> {
        let structure = self
            .builders
            .iter()
            .find_map(|item| match item {
                syn::Item::Struct(item_struct) if item_struct.ident == name => Some(item_struct),
                _ => None,
            })
            .ok_or_else(|| format!("no builder struct `{name}`"))?;
        let send = self
            .builders
            .iter()
            .filter_map(|item| match item {
                syn::Item::Impl(item_impl)
                    if item_impl.trait_.is_none()
                        && crate::generate::public_api::last_ident(&item_impl.self_ty)
                            .as_deref()
                            == Some(name) =>
                {
                    Some(item_impl)
                }
                _ => None,
            })
            .flat_map(|item_impl| &item_impl.items)
            .find_map(|item| match item {
                syn::ImplItem::Fn(function) if function.sig.ident == "send_generated" => {
                    Some(function)
                }
                _ => None,
            })
            .ok_or_else(|| format!("the builder `{name}` has no `send_generated`"))?;
        Ok((structure, send))
    }
}

/// The known values of each flat value set, from its `as_str` match.
fn known_values(file: &syn::File) -> BTreeMap<String, Vec<String>> {
    let mut sets = BTreeMap::new();
    for item in &file.items {
        let syn::Item::Impl(item_impl) = item else {
            continue;
        };
        if item_impl.trait_.is_some() {
            continue;
        }
        let Some(name) = crate::generate::public_api::last_ident(&item_impl.self_ty) else {
            continue;
        };
        for member in &item_impl.items {
            let syn::ImplItem::Fn(function) = member else {
                continue;
            };
            if function.sig.ident != "as_str" {
                continue;
            }
            // `Self::In => "in",`: every string literal after `=>`.
            let tokens = flat_tokens(function.block.to_token_stream());
            let values = tokens
                .windows(3)
                .filter_map(|window| match window {
                    [Token::Punct('='), Token::Punct('>'), Token::Literal(text)] => {
                        string_literal(text)
                    }
                    _ => None,
                })
                .collect();
            sets.insert(name.clone(), values);
        }
    }
    sets
}

fn module<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a [syn::Item]> {
    items.iter().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == name => {
            module.content.as_ref().map(|(_, items)| items.as_slice())
        }
        _ => None,
    })
}

/// The operation methods of `impl Client`: public, returning a builder.
fn client_methods(items: &[syn::Item]) -> Vec<ClientMethod> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(item_impl)
                if item_impl.trait_.is_none()
                    && crate::generate::public_api::last_ident(&item_impl.self_ty).as_deref()
                        == Some("Client") =>
            {
                Some(item_impl)
            }
            _ => None,
        })
        .flat_map(|item_impl| &item_impl.items)
        .filter_map(|item| match item {
            syn::ImplItem::Fn(method) if matches!(method.vis, syn::Visibility::Public(_)) => {
                let syn::ReturnType::Type(_, output) = &method.sig.output else {
                    return None;
                };
                let syn::Type::Path(path) = output.as_ref() else {
                    return None;
                };
                let segments: Vec<String> = path
                    .path
                    .segments
                    .iter()
                    .map(|segment| segment.ident.to_string())
                    .collect();
                match segments.as_slice() {
                    [module, builder] if module == "builder" => Some(ClientMethod {
                        rust_name: method.sig.ident.to_string(),
                        builder: builder.clone(),
                    }),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

/// A token of a flattened stream: groups become their delimiters.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Punct(char),
    Literal(String),
    Open(char),
    Close(char),
}

fn flat_tokens(stream: TokenStream) -> Vec<Token> {
    let mut tokens = Vec::new();
    flatten_into(stream, &mut tokens);
    tokens
}

fn flatten_into(stream: TokenStream, tokens: &mut Vec<Token>) {
    for tree in stream {
        match tree {
            TokenTree::Ident(ident) => tokens.push(Token::Ident(ident.to_string())),
            TokenTree::Punct(punct) => tokens.push(Token::Punct(punct.as_char())),
            TokenTree::Literal(literal) => tokens.push(Token::Literal(literal.to_string())),
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::None => (' ', ' '),
                };
                tokens.push(Token::Open(open));
                flatten_into(group.stream(), tokens);
                tokens.push(Token::Close(close));
            }
        }
    }
}

/// The text of a plain string literal token (`"in"` → `in`).
fn string_literal(token: &str) -> Option<String> {
    syn::parse_str::<syn::LitStr>(token)
        .ok()
        .map(|literal| literal.value())
}

/// What `send_generated` builds: the request's method, path and inputs, and
/// how it reads the answer.
#[derive(Debug, Default)]
struct Wire {
    method: String,
    /// The path with `{rust_name}` in each placeholder.
    path: String,
    /// The Rust names of the path's values, in order.
    path_values: Vec<String>,
    /// (API name, Rust name) of each query parameter.
    query: Vec<(String, String)>,
    body: bool,
    /// Each match arm's status pattern and whether it is a success.
    arms: Vec<(String, ArmOutcome)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArmOutcome {
    Success,
    Error,
    Unexpected,
}

fn wire(send: &syn::ImplItemFn) -> Result<Wire, String> {
    let tokens = flat_tokens(send.block.to_token_stream());
    let mut wire = Wire::default();
    for (index, token) in tokens.iter().enumerate() {
        let rest = &tokens[index..];
        match (token, rest.get(1..)) {
            // `client.client.delete(url)`
            (
                Token::Ident(first),
                Some(
                    [
                        Token::Punct('.'),
                        Token::Ident(second),
                        Token::Punct('.'),
                        Token::Ident(method),
                        Token::Open('('),
                        Token::Ident(url),
                        ..,
                    ],
                ),
            ) if first == "client" && second == "client" && url == "url" => {
                wire.method = method.to_uppercase();
            }
            // `let url = format!("{}/v2/...", client.baseurl, encode_path(&x.to_string()), ..)`
            (
                Token::Ident(format),
                Some(
                    [
                        Token::Punct('!'),
                        Token::Open('('),
                        Token::Literal(template),
                        ..,
                    ],
                ),
            ) if format == "format" && wire.path.is_empty() => {
                let template =
                    string_literal(template).ok_or("the URL's format string is not a string")?;
                wire.path = template
                    .strip_prefix("{}")
                    .ok_or("the URL does not start with the base URL")?
                    .to_owned();
            }
            // `encode_path(&account_id.to_string())`
            (
                Token::Ident(encode),
                Some([Token::Open('('), Token::Punct('&'), Token::Ident(value), ..]),
            ) if encode == "encode_path" => {
                wire.path_values.push(value.clone());
            }
            // `QueryParam::new("serverId", &server_id)`
            (
                Token::Ident(query),
                Some(
                    [
                        Token::Punct(':'),
                        Token::Punct(':'),
                        Token::Ident(new),
                        Token::Open('('),
                        Token::Literal(name),
                        Token::Punct(','),
                        Token::Punct('&'),
                        Token::Ident(value),
                        ..,
                    ],
                ),
            ) if query == "QueryParam" && new == "new" => {
                let name = string_literal(name).ok_or("a query name is not a string")?;
                wire.query.push((name, value.clone()));
            }
            // `.json(&body)`
            (
                Token::Punct('.'),
                Some(
                    [
                        Token::Ident(json),
                        Token::Open('('),
                        Token::Punct('&'),
                        Token::Ident(body),
                        ..,
                    ],
                ),
            ) if json == "json" && body == "body" => {
                wire.body = true;
            }
            _ => {}
        }
    }
    if wire.method.is_empty() {
        return Err("its send builds no request with a method".to_owned());
    }
    let placeholders = wire.path.matches("{}").count();
    if placeholders != wire.path_values.len() {
        return Err(format!(
            "its path `{}` has {placeholders} placeholders for {} values",
            wire.path,
            wire.path_values.len()
        ));
    }
    for value in &wire.path_values {
        wire.path = wire.path.replacen("{}", &format!("{{{value}}}"), 1);
    }
    wire.arms = status_arms(send)?;
    Ok(wire)
}

/// The arms of the final `match response.status().as_u16() { .. }`.
fn status_arms(send: &syn::ImplItemFn) -> Result<Vec<(String, ArmOutcome)>, String> {
    let Some(syn::Stmt::Expr(syn::Expr::Match(status_match), None)) = send.block.stmts.last()
    else {
        return Err("its send does not end in a match on the status".to_owned());
    };
    Ok(status_match
        .arms
        .iter()
        .map(|arm| {
            let pattern = arm
                .pat
                .to_token_stream()
                .to_string()
                .replace("u16", "")
                .replace(' ', "");
            let body = arm.body.to_token_stream().to_string().replace(' ', "");
            let outcome = if body.contains("UnexpectedResponse") {
                ArmOutcome::Unexpected
            } else if body.contains("Err(") {
                ArmOutcome::Error
            } else {
                ArmOutcome::Success
            };
            (pattern, outcome)
        })
        .collect())
}

/// `Result<ResponseValue<A>, Error<E>>` → (A, E), as written.
fn answer_types(send: &syn::ImplItemFn) -> Result<(syn::Type, Option<syn::Type>), String> {
    let syn::ReturnType::Type(_, output) = &send.sig.output else {
        return Err("its send returns nothing".to_owned());
    };
    let arguments = generic_arguments(output);
    let (Some(answer), error) = (arguments.first(), arguments.get(1)) else {
        return Err("its send does not return a Result".to_owned());
    };
    let answer = generic_arguments(answer)
        .into_iter()
        .next()
        .ok_or("its send's success is not a ResponseValue<..>")?;
    let error = error.and_then(|error| generic_arguments(error).into_iter().next());
    Ok((answer, error))
}

/// The type arguments of a path type's last segment.
fn generic_arguments(ty: &syn::Type) -> Vec<syn::Type> {
    match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map(crate::generate::rust_syntax::type_arguments)
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// A type as a user writes it: each path by its last segment, with its
/// arguments (`Option<Vec<Uuid>>`, `Map<String, Value>`, `DateTime<Utc>`).
fn plain_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => {
            let Some(segment) = path.path.segments.last() else {
                return String::new();
            };
            let arguments = generic_arguments(ty);
            if arguments.is_empty() {
                segment.ident.to_string()
            } else {
                let inner: Vec<String> = arguments.iter().map(plain_type).collect();
                format!("{}<{}>", segment.ident, inner.join(", "))
            }
        }
        syn::Type::Tuple(tuple) if tuple.elems.is_empty() => "()".to_owned(),
        syn::Type::Reference(reference) => format!("&{}", plain_type(&reference.elem)),
        other => other.to_token_stream().to_string().replace(' ', ""),
    }
}

/// The inner type of `Result<T, String>` (a builder field), and whether `T`
/// is an `Option`.
fn builder_field_type(ty: &syn::Type) -> Option<(syn::Type, bool)> {
    let inner = generic_arguments(ty).into_iter().next()?;
    if crate::generate::public_api::last_ident(&inner).as_deref() == Some("Option") {
        Some((generic_arguments(&inner).into_iter().next()?, true))
    } else {
        Some((inner, false))
    }
}

/// Every generated type name in `ty` (through `Option`, `Vec`, maps).
fn referenced_types(ty: &syn::Type, generated: &Generated<'_>, found: &mut Vec<String>) {
    let mut names = BTreeSet::new();
    collect_idents(ty.to_token_stream(), &mut names);
    for name in names {
        if generated.types.contains_key(&name) || generated.value_sets.contains_key(&name) {
            found.push(name);
        }
    }
}

fn collect_idents(stream: TokenStream, found: &mut BTreeSet<String>) {
    for tree in stream {
        match tree {
            TokenTree::Ident(ident) => {
                found.insert(ident.to_string());
            }
            TokenTree::Group(group) => collect_idents(group.stream(), found),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}

/// One operation's page.
fn page(
    generated: &Generated<'_>,
    method: &ClientMethod,
    operation: Option<&OperationModel>,
    enriched: &Value,
) -> Result<String, String> {
    let (builder, send) = generated.builder(&method.builder)?;
    let wire = wire(send)?;
    let (answer, error) = answer_types(send)?;
    let spec_operation = operation.and_then(|operation| {
        enriched
            .pointer(&crate::json_pointer::from_tokens([
                "paths",
                operation.path.as_str(),
                operation.method.to_lowercase().as_str(),
            ]))
            .filter(|value| value.is_object())
    });
    let mut text = String::new();
    let operation_id = operation.map_or("?", |operation| operation.operation_id.as_str());
    let _ = writeln!(text, "# {} ({operation_id})", method.rust_name);
    if let Some(summary) = spec_operation
        .and_then(|operation| operation["summary"].as_str())
        .filter(|summary| !summary.trim().is_empty())
    {
        let _ = writeln!(text, "{}", summary.trim());
    }
    text.push('\n');
    // The path with the API's names in its placeholders; the inputs below say
    // which setter fills each.
    let path_names = path_parameter_names(operation, &wire);
    let mut shown_path = wire.path.clone();
    for (rust_name, api_name) in wire.path_values.iter().zip(&path_names) {
        shown_path =
            shown_path.replacen(&format!("{{{rust_name}}}"), &format!("{{{api_name}}}"), 1);
    }
    let _ = writeln!(text, "{} {shown_path}", wire.method);
    let _ = writeln!(
        text,
        "Rust: client.{}() -> builder::{}; .send() or .await",
        method.rust_name, method.builder
    );
    if let Some(operation) = operation
        && (operation.method != wire.method || !same_route(&operation.path, &wire.path))
    {
        let _ = writeln!(
            text,
            "DRIFT: the spec says {} {}, the generated request is {} {}",
            operation.method, operation.path, wire.method, wire.path
        );
    }

    // Inputs: the builder's fields, each where the send puts it.
    let mut roots: Vec<String> = Vec::new();
    text.push_str("\n## Inputs\n");
    let fields = builder_fields(builder)?;
    for (rust_name, ty, optional) in &fields {
        let requirement = if *optional { "optional" } else { "required" };
        if rust_name == "body" {
            let body_type = crate::generate::public_api::last_ident(ty).unwrap_or_default();
            let _ = writeln!(
                text,
                "- .body({body_type}): the JSON body{}",
                if wire.body { "" } else { " (NOT SENT)" }
            );
            referenced_types(ty, generated, &mut roots);
            if let Some(syn::Item::Struct(structure)) = generated.types.get(&body_type) {
                for field in struct_fields(structure) {
                    let _ = writeln!(
                        text,
                        "  - .{}({}) -> body `{}`, {}",
                        field.rust_name,
                        plain_type(&field.setter_type),
                        field.json_name,
                        if field.optional {
                            "optional"
                        } else {
                            "required"
                        }
                    );
                }
            }
            continue;
        }
        let place = if let Some(index) =
            wire.path_values.iter().position(|value| value == rust_name)
        {
            format!(
                "path `{}`",
                path_names
                    .get(index)
                    .map_or(rust_name.as_str(), String::as_str)
            )
        } else if let Some((api_name, _)) = wire.query.iter().find(|(_, value)| value == rust_name)
        {
            format!("query `{api_name}`")
        } else {
            "NOT SENT".to_owned()
        };
        let _ = writeln!(
            text,
            "- .{rust_name}({}) -> {place}, {requirement}",
            plain_type(ty)
        );
        referenced_types(ty, generated, &mut roots);
    }
    if fields.is_empty() {
        text.push_str("- none\n");
    }
    for group in operation
        .map(|operation| operation.one_of.as_slice())
        .unwrap_or_default()
    {
        let place = match group.location {
            Location::Body => "body",
            Location::Query => "query",
        };
        let how_many = match (group.required, group.at_most_one) {
            (true, true) => "exactly one",
            (true, false) => "at least one",
            (false, true) => "at most one",
            (false, false) => "optionally any",
        };
        let setter = if group.account_identity.is_some() {
            " (.identity(AccountIdentity) sets one)"
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "- {how_many} of the {} in {place}: {}{setter}",
            group.group,
            group
                .fields
                .iter()
                .map(|field| format!("`{field}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // The answer.
    text.push_str("\n## Answer\n");
    let success: Vec<&str> = wire
        .arms
        .iter()
        .filter(|(_, outcome)| *outcome == ArmOutcome::Success)
        .map(|(pattern, _)| pattern.as_str())
        .collect();
    let documented = spec_operation
        .and_then(|operation| operation.pointer("/responses/2XX/x-documented-status"))
        .and_then(Value::as_str)
        .map(|status| format!(" (the docs name {status})"))
        .unwrap_or_default();
    let _ = writeln!(
        text,
        "- success: {}{documented} -> ResponseValue<{}>",
        statuses(&success),
        plain_type(&answer)
    );
    referenced_types(&answer, generated, &mut roots);
    let errors: Vec<&str> = wire
        .arms
        .iter()
        .filter(|(_, outcome)| *outcome == ArmOutcome::Error)
        .map(|(pattern, _)| pattern.as_str())
        .collect();
    if let Some(error) = &error {
        let _ = writeln!(
            text,
            "- error answer: {} read as {}",
            statuses(&errors),
            plain_type(error)
        );
    }
    if wire
        .arms
        .iter()
        .any(|(_, outcome)| *outcome == ArmOutcome::Unexpected)
    {
        text.push_str("- any other status: unexpected\n");
    }

    // How the client calls it.
    text.push_str("\n## Calling\n");
    match operation {
        Some(operation) => {
            let _ = writeln!(
                text,
                "- rate limit: {}",
                operation.rate_limit.as_ref().map_or_else(
                    || "none documented".to_owned(),
                    |limit| format!(
                        "{} requests per {} s per API key",
                        limit.requests, limit.window_seconds
                    )
                )
            );
            let class = if operation.safe {
                "safe (it changes nothing): also resent after a 5XX, a timeout or a reset"
            } else if operation.idempotent {
                "idempotent: also resent after a 5XX, a timeout or a reset"
            } else {
                "not idempotent: resent only where it cannot have run (429, 408 or 503 with Retry-After, \
                 a connection failure)"
            };
            let _ = writeln!(text, "- retries: {class}");
            match &operation.paging {
                Some(paged) => {
                    let _ = writeln!(
                        text,
                        "- paging: query `{}` and `{}`, at most {} a page; items at {}{}; .items(page_size) streams {}{}",
                        paged.offset,
                        paged.size,
                        paged.max_size,
                        paged.items.join(" or "),
                        paged
                            .total
                            .as_ref()
                            .map(|total| format!(", total at {total}"))
                            .unwrap_or_default(),
                        component_name(&paged.item),
                        paged
                            .identity
                            .as_ref()
                            .map(|identity| format!(", each once by `{identity}`"))
                            .unwrap_or_default()
                    );
                }
                None => text.push_str("- paging: none\n"),
            }
        }
        None => text.push_str("- not in the spec's operation table\n"),
    }

    // Every request and answer type, each once, in the order first named.
    text.push_str("\n## Types\n");
    let mut seen = BTreeSet::new();
    let mut pending: VecDeque<String> = roots.into_iter().collect();
    let mut any = false;
    while let Some(name) = pending.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        any = true;
        let mut referenced = Vec::new();
        text.push('\n');
        text.push_str(&type_page(generated, &name, &mut referenced));
        pending.extend(referenced.into_iter().filter(|name| !seen.contains(name)));
    }
    if !any {
        text.push_str("- none\n");
    }
    Ok(text)
}

/// `#/components/schemas/AccountSummary` → `AccountSummary`.
fn component_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// Whether a generated path (`/a/{x}/b`) has the spec template's shape
/// (`/a/{accountId}/b`): the same literal segments, a value where it has one.
fn same_route(spec_path: &str, generated_path: &str) -> bool {
    let spec: Vec<&str> = spec_path.split('/').collect();
    let generated: Vec<&str> = generated_path.split('/').collect();
    spec.len() == generated.len()
        && spec.iter().zip(&generated).all(|(spec, generated)| {
            let placeholder = |segment: &str| segment.starts_with('{') && segment.ends_with('}');
            if placeholder(spec) || placeholder(generated) {
                placeholder(spec) && placeholder(generated)
            } else {
                spec == generated
            }
        })
}

/// The API's names of the path's placeholders, in order: the spec's template
/// where it has the generated path's shape, else the Rust names.
fn path_parameter_names(operation: Option<&OperationModel>, wire: &Wire) -> Vec<String> {
    match operation {
        Some(operation) if same_route(&operation.path, &wire.path) => operation
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_owned)
            .collect(),
        _ => wire.path_values.clone(),
    }
}

/// A list of status patterns, in the order the match tries them (`200..=299`
/// is 2XX).
fn statuses(patterns: &[&str]) -> String {
    if patterns.is_empty() {
        return "none".to_owned();
    }
    patterns
        .iter()
        .map(|pattern| match *pattern {
            "200..=299" => "2XX".to_owned(),
            "400..=499" => "4XX".to_owned(),
            "500..=599" => "5XX".to_owned(),
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The builder's input fields (not its client), with their types and whether
/// each is optional.
fn builder_fields(builder: &syn::ItemStruct) -> Result<Vec<(String, syn::Type, bool)>, String> {
    let mut fields = Vec::new();
    for field in &builder.fields {
        let Some(ident) = &field.ident else {
            return Err(format!(
                "the builder `{}` has an unnamed field",
                builder.ident
            ));
        };
        if ident == "client" {
            continue;
        }
        let (inner, optional) = builder_field_type(&field.ty).ok_or_else(|| {
            format!(
                "the builder field `{}::{ident}` is not a `Result<T, String>`",
                builder.ident
            )
        })?;
        fields.push((ident.to_string(), inner, optional));
    }
    Ok(fields)
}

/// One field of a generated struct, as its page shows it.
struct Field {
    rust_name: String,
    json_name: String,
    ty: syn::Type,
    /// The type its builder setter takes (without `Option`).
    setter_type: syn::Type,
    optional: bool,
    flatten: bool,
    /// The other JSON type it is also read from (`a JSON number`), when the
    /// spec says so (`x-sonoran-also-reads`).
    also_reads: Option<&'static str>,
}

fn struct_fields(structure: &syn::ItemStruct) -> Vec<Field> {
    structure
        .fields
        .iter()
        .map(|field| {
            let rust_name = field
                .ident
                .as_ref()
                .map_or_else(String::new, ToString::to_string);
            let serde = serde_attributes(&field.attrs);
            let is_option =
                crate::generate::public_api::last_ident(&field.ty).as_deref() == Some("Option");
            let setter_type = if is_option {
                generic_arguments(&field.ty)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| field.ty.clone())
            } else {
                field.ty.clone()
            };
            Field {
                json_name: serde
                    .rename
                    .clone()
                    .unwrap_or_else(|| rust_name.trim_start_matches("r#").to_owned()),
                rust_name,
                ty: field.ty.clone(),
                setter_type,
                optional: is_option || serde.default,
                flatten: serde.flatten,
                also_reads: serde.deserialize_with.as_deref().and_then(|reader| {
                    if reader.ends_with("text_or_number") {
                        Some("a JSON number")
                    } else if reader.ends_with("integer_or_digits") {
                        Some("text of digits")
                    } else {
                        None
                    }
                }),
            }
        })
        .collect()
}

/// What a field's or container's `#[serde(..)]` says.
#[derive(Debug, Default)]
struct Serde {
    rename: Option<String>,
    deserialize_with: Option<String>,
    default: bool,
    flatten: bool,
    untagged: bool,
    deny_unknown_fields: bool,
    transparent: bool,
}

fn serde_attributes(attributes: &[syn::Attribute]) -> Serde {
    let mut serde = Serde::default();
    for attribute in attributes {
        if !attribute.path().is_ident("serde") {
            continue;
        }
        let tokens = match &attribute.meta {
            syn::Meta::List(list) => flat_tokens(list.tokens.clone()),
            _ => continue,
        };
        for (index, token) in tokens.iter().enumerate() {
            let Token::Ident(word) = token else {
                continue;
            };
            // Only words that stand as a key (after `(`, `,` or at the start).
            if index > 0 && !matches!(tokens[index - 1], Token::Punct(',') | Token::Open(_)) {
                continue;
            }
            match word.as_str() {
                "rename" => {
                    if let (Some(Token::Punct('=')), Some(Token::Literal(text))) =
                        (tokens.get(index + 1), tokens.get(index + 2))
                    {
                        serde.rename = string_literal(text);
                    }
                }
                "deserialize_with" => {
                    if let (Some(Token::Punct('=')), Some(Token::Literal(text))) =
                        (tokens.get(index + 1), tokens.get(index + 2))
                    {
                        serde.deserialize_with = string_literal(text);
                    }
                }
                "default" => serde.default = true,
                "flatten" => serde.flatten = true,
                "untagged" => serde.untagged = true,
                "deny_unknown_fields" => serde.deny_unknown_fields = true,
                "transparent" => serde.transparent = true,
                _ => {}
            }
        }
    }
    serde
}

/// One type's part of a page, and the generated types it names.
fn type_page(generated: &Generated<'_>, name: &str, referenced: &mut Vec<String>) -> String {
    let mut text = String::new();
    if let Some(values) = generated.value_sets.get(name) {
        let _ = writeln!(
            text,
            "### {name}: text, one of {}; any other text is kept as Other(String)",
            values
                .iter()
                .map(|value| format!("\"{value}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return text;
    }
    match generated.types.get(name) {
        Some(syn::Item::Struct(structure)) => {
            let serde = serde_attributes(&structure.attrs);
            match &structure.fields {
                syn::Fields::Unnamed(unnamed) => {
                    let inner: Vec<String> = unnamed
                        .unnamed
                        .iter()
                        .map(|field| {
                            referenced_types(&field.ty, generated, referenced);
                            plain_type(&field.ty)
                        })
                        .collect();
                    let _ = writeln!(
                        text,
                        "### {name}: a JSON value read as ({})",
                        inner.join(", ")
                    );
                }
                _ => {
                    let fields = struct_fields(structure);
                    let unknown = if serde.deny_unknown_fields {
                        "members it does not name are refused"
                    } else if fields.iter().any(|field| field.flatten) {
                        "members it does not name are kept"
                    } else {
                        "members it does not name are ignored"
                    };
                    let _ = writeln!(text, "### {name}: JSON object; {unknown}");
                    for field in &fields {
                        referenced_types(&field.ty, generated, referenced);
                        if field.flatten {
                            let _ = writeln!(
                                text,
                                "- {}: {} holds the members not named above",
                                field.rust_name,
                                plain_type(&field.ty)
                            );
                        } else {
                            let _ = writeln!(
                                text,
                                "- {}: {} as `{}`, {}{}",
                                field.rust_name,
                                plain_type(&field.ty),
                                field.json_name,
                                if field.optional {
                                    "optional"
                                } else {
                                    "required"
                                },
                                field
                                    .also_reads
                                    .map(|other| format!(", also read from {other}"))
                                    .unwrap_or_default()
                            );
                        }
                    }
                }
            }
        }
        Some(syn::Item::Enum(enumeration)) => {
            let serde = serde_attributes(&enumeration.attrs);
            let all_unit = enumeration
                .variants
                .iter()
                .all(|variant| matches!(variant.fields, syn::Fields::Unit));
            if all_unit {
                let values: Vec<String> = enumeration
                    .variants
                    .iter()
                    .map(|variant| {
                        let json = serde_attributes(&variant.attrs)
                            .rename
                            .unwrap_or_else(|| variant.ident.to_string());
                        format!("{} = \"{json}\"", variant.ident)
                    })
                    .collect();
                let _ = writeln!(
                    text,
                    "### {name}: text, exactly one of {}",
                    values.join(", ")
                );
            } else {
                let heading = if serde.untagged {
                    "one of these forms; the one that names the most of the value's members is read (a tie \
                     that would drop a member is refused), forms of another kind in this order"
                } else {
                    "an object of one member, one of"
                };
                let _ = writeln!(text, "### {name}: {heading}");
                for variant in &enumeration.variants {
                    let json = serde_attributes(&variant.attrs).rename;
                    let shape = match &variant.fields {
                        syn::Fields::Unit => "nothing".to_owned(),
                        syn::Fields::Unnamed(unnamed) => unnamed
                            .unnamed
                            .iter()
                            .map(|field| {
                                referenced_types(&field.ty, generated, referenced);
                                plain_type(&field.ty)
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        syn::Fields::Named(named) => {
                            let members: Vec<String> = named
                                .named
                                .iter()
                                .map(|field| {
                                    referenced_types(&field.ty, generated, referenced);
                                    format!(
                                        "{}: {}",
                                        field
                                            .ident
                                            .as_ref()
                                            .map_or_else(String::new, ToString::to_string),
                                        plain_type(&field.ty)
                                    )
                                })
                                .collect();
                            format!("{{ {} }}", members.join(", "))
                        }
                    };
                    match json {
                        Some(json) if !serde.untagged => {
                            let _ = writeln!(text, "- {}({shape}) as `{json}`", variant.ident);
                        }
                        _ => {
                            let _ = writeln!(text, "- {}({shape})", variant.ident);
                        }
                    }
                }
            }
        }
        _ => {
            let _ = writeln!(text, "### {name}: not generated");
        }
    }
    text
}

/// The page's name in `tests/tests/snapshots/` (insta's name for the snapshot
/// `contracts.rs` asserts).
pub fn snapshot_file_name(rust_name: &str) -> String {
    format!("{SNAPSHOT_PREFIX}{rust_name}.snap")
}

/// The folder of the accepted pages, from the workspace root.
pub const SNAPSHOT_DIR: &str = "tests/tests/snapshots";

/// What every page's file name starts with (insta names it for the test file).
pub const SNAPSHOT_PREFIX: &str = "contracts__";

/// A page as insta stores it (its header, then the page).
pub fn snapshot_file(contract: &Contract) -> String {
    format!(
        "---\nsource: tests/tests/contracts.rs\nexpression: contract.text\n---\n{}",
        contract.text
    )
}

/// The page inside an insta snapshot file, `None` when it is not one.
pub fn page_of_snapshot(file: &str) -> Option<&str> {
    file.strip_prefix("---\n")?
        .split_once("\n---\n")
        .map(|(_, page)| page)
}

/// Every contract, by Rust name, from the pipeline's files.
///
/// # Errors
///
/// As [`contracts`]; a missing file is a [`CodegenError::Contract`] too.
pub fn from_files(files: &[crate::outputs::GeneratedFile]) -> Result<Vec<Contract>, CodegenError> {
    let find = |path: &str| {
        files
            .iter()
            .find(|file| file.relative_path == path)
            .map(|file| file.contents.as_str())
            .ok_or_else(|| format_error(path, "regen did not produce it".to_owned()))
    };
    let enriched_text = find(crate::paths::ENRICHED_SPEC_PATH)?;
    let enriched = crate::load::parse_yaml(&crate::load::SourceText::new(
        crate::paths::ENRICHED_SPEC_PATH,
        enriched_text.to_owned(),
    ))?;
    let model = crate::model::read(&crate::load::openapi(
        crate::paths::ENRICHED_SPEC_PATH,
        &enriched,
    )?);
    contracts(
        find(crate::paths::GENERATED_CLIENT_PATH)?,
        find(crate::paths::GENERATED_VALUE_SETS_PATH)?,
        &enriched,
        &model,
    )
}
