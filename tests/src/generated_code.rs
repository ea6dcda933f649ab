//! Cuts the generated client into reviewable pieces with syn: per operation, the
//! client method and its request builder; per type, the type and its impls. A
//! snapshot of each piece shows exactly which operation a spec change touched.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{ImplItem, Item, ItemImpl, ItemMod, Type};

/// One reviewable piece of generated code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The snapshot name: `<method>-method`, `<method>-builder` or `type-<Name>`.
    pub name: String,
    /// The code, formatted with prettyplease.
    pub code: String,
}

/// Every piece of the generated client, in a stable order: each operation's method
/// and builder (by method name), then each type an operation uses (by type name).
pub fn pieces(generated_source: &str) -> Result<Vec<Piece>, String> {
    let file = syn::parse_file(generated_source)
        .map_err(|error| format!("generated code does not parse: {error}"))?;
    let builder_module = module(&file.items, "builder").ok_or("no `builder` module")?;
    let types_module = module(&file.items, "types").ok_or("no `types` module")?;
    let type_builders = module(types_module, "builder")
        .map(Vec::as_slice)
        .unwrap_or_default();
    let type_names = defined_type_names(types_module);

    let mut pieces = Vec::new();
    let mut used_types = BTreeSet::new();
    let mut methods = client_methods(&file.items);
    methods.sort_by_key(|method| method.sig.ident.to_string());
    for method in methods {
        let method_name = method.sig.ident.to_string();
        let builder_name = last_path_ident(&method.sig.output)
            .ok_or_else(|| format!("`{method_name}` returns no builder"))?;
        let method_item: Item = syn::parse_quote!(impl Client { #method });
        pieces.push(Piece {
            name: format!("{method_name}-method"),
            code: render(vec![method_item]),
        });
        let builder_items = items_for_type(builder_module, &builder_name);
        if builder_items.is_empty() {
            return Err(format!("no builder `{builder_name}` for `{method_name}`"));
        }
        for item in &builder_items {
            collect_type_references(item.to_token_stream(), &type_names, &mut used_types);
        }
        pieces.push(Piece {
            name: format!("{method_name}-builder"),
            code: render(builder_items),
        });
    }

    // Types used by operations, and the types those use, each once.
    let mut pending: Vec<String> = used_types.iter().cloned().collect();
    let mut type_pieces = BTreeMap::new();
    while let Some(type_name) = pending.pop() {
        if type_pieces.contains_key(&type_name) {
            continue;
        }
        let mut items = items_for_type(types_module, &type_name);
        let builder_items = items_for_type(type_builders, &type_name);
        let mut referenced = BTreeSet::new();
        for item in items.iter().chain(&builder_items) {
            collect_type_references(item.to_token_stream(), &type_names, &mut referenced);
        }
        pending.extend(
            referenced
                .into_iter()
                .filter(|name| !type_pieces.contains_key(name)),
        );
        if !builder_items.is_empty() {
            items.push(syn::parse_quote!(pub mod builder { #(#builder_items)* }));
        }
        type_pieces.insert(type_name.clone(), render(items));
    }
    pieces.extend(type_pieces.into_iter().map(|(type_name, code)| Piece {
        name: format!("type-{type_name}"),
        code,
    }));
    Ok(pieces)
}

fn module<'a>(items: &'a [Item], name: &str) -> Option<&'a Vec<Item>> {
    items.iter().find_map(|item| match item {
        Item::Mod(ItemMod {
            ident,
            content: Some((_, items)),
            ..
        }) if ident == name => Some(items),
        _ => None,
    })
}

/// The `pub fn`s of `impl Client { ... }`: one per operation.
fn client_methods(items: &[Item]) -> Vec<syn::ImplItemFn> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Impl(item_impl)
                if item_impl.trait_.is_none()
                    && self_type_name(item_impl).as_deref() == Some("Client") =>
            {
                Some(item_impl)
            }
            _ => None,
        })
        .flat_map(|item_impl| item_impl.items.iter())
        .filter_map(|item| match item {
            ImplItem::Fn(method)
                if matches!(method.vis, syn::Visibility::Public(_)) && !is_constructor(method) =>
            {
                Some(method.clone())
            }
            _ => None,
        })
        .collect()
}

/// `Client::new`, `new_with_client` and friends are not operations.
fn is_constructor(method: &syn::ImplItemFn) -> bool {
    !matches!(&method.sig.output, syn::ReturnType::Type(_, output) if output.to_token_stream().to_string().starts_with("builder ::"))
}

fn self_type_name(item_impl: &ItemImpl) -> Option<String> {
    last_segment_name(&item_impl.self_ty)
}

fn last_path_ident(output: &syn::ReturnType) -> Option<String> {
    match output {
        syn::ReturnType::Type(_, output) => last_segment_name(output),
        syn::ReturnType::Default => None,
    }
}

/// `Client` for `super::Client`, `CancelSession` for `builder::CancelSession<'_>`.
fn last_segment_name(path_type: &Type) -> Option<String> {
    match path_type {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        _ => None,
    }
}

/// The struct or enum named `type_name` and every impl whose self type it is.
fn items_for_type(items: &[Item], type_name: &str) -> Vec<Item> {
    items
        .iter()
        .filter(|item| match item {
            Item::Struct(item) => item.ident == type_name,
            Item::Enum(item) => item.ident == type_name,
            Item::Type(item) => item.ident == type_name,
            Item::Impl(item_impl) => self_type_name(item_impl).as_deref() == Some(type_name),
            _ => false,
        })
        .cloned()
        .collect()
}

fn defined_type_names(items: &[Item]) -> BTreeSet<String> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(item) => Some(item.ident.to_string()),
            Item::Enum(item) => Some(item.ident.to_string()),
            Item::Type(item) => Some(item.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// Every identifier in `tokens` that names a generated type.
fn collect_type_references(
    tokens: TokenStream,
    type_names: &BTreeSet<String>,
    found: &mut BTreeSet<String>,
) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                if type_names.contains(&name) {
                    found.insert(name);
                }
            }
            TokenTree::Group(group) => collect_type_references(group.stream(), type_names, found),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}

fn render(items: Vec<Item>) -> String {
    let mut file: syn::File = syn::parse_quote!();
    file.items = items;
    prettyplease::unparse(&file)
}
