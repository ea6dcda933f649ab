//! The generated client's public items, made semver-honest and pleasant after
//! progenitor and typify wrote them: types that may grow are
//! `#[non_exhaustive]`, compare with `==`, open value sets are one flat enum
//! each, optional fields take their value without `Some(..)`, ids take any
//! integer and say "must be at least 1", answers of several forms that are
//! one list give it with `into_vec()`, and progenitor's unchecked constructors
//! are not public.

use quote::{ToTokens, format_ident, quote};

use crate::generate::bodies::Union;
use crate::generate::rust_syntax::generic_argument;
use crate::generate::value_sets::OpenValueSet;

/// Applies every change to a parsed client file. `value_sets` are the spec's
/// open value sets (their flat enums live in `generated_value_sets.rs`);
/// Fails, naming what
/// progenitor no longer writes, rather than leave a change half made.
pub fn apply(file: &mut syn::File, value_sets: &[OpenValueSet]) -> Result<(), String> {
    let unions = crate::generate::bodies::unions_in(file);
    hide_unchecked_constructors(file)?;
    let types = module_items(&mut file.items, "types")
        .ok_or("progenitor wrote no `types` module".to_owned())?;
    use_flat_value_sets(types, value_sets)?;
    derive_eq_where_possible(types);
    mark_non_exhaustive(types);
    add_list_readers(types, &unions);
    add_row_readers(types, &unions);
    let json_names = json_names_of(types);
    if let Some(type_builders) = module_items(types, "builder") {
        rewrite_setters(type_builders, &json_names, SetterStyle::Types);
    }
    if let Some(operation_builders) = module_items(&mut file.items, "builder") {
        rewrite_setters(operation_builders, &json_names, SetterStyle::Operations);
    }
    Ok(())
}

/// The items of the inline module `name` among `items`.
fn module_items<'a>(items: &'a mut [syn::Item], name: &str) -> Option<&'a mut Vec<syn::Item>> {
    items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == name => {
            module.content.as_mut().map(|(_, items)| items)
        }
        _ => None,
    })
}

/// The last segment's name of a type written as a path.
pub(crate) fn last_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        syn::Type::Reference(reference) => last_ident(&reference.elem),
        _ => None,
    }
}

/// progenitor's `Client::new` and `Client::new_with_client` take a base URL and
/// send the key wherever it points: `ClientBuilder::build` is the one way in,
/// as it refuses plain HTTP to another host. They stay for the crate itself.
fn hide_unchecked_constructors(file: &mut syn::File) -> Result<(), String> {
    let mut hidden = 0;
    for item in &mut file.items {
        let syn::Item::Impl(implementation) = item else {
            continue;
        };
        if implementation.trait_.is_some()
            || last_ident(&implementation.self_ty).as_deref() != Some("Client")
        {
            continue;
        }
        for member in &mut implementation.items {
            if let syn::ImplItem::Fn(function) = member
                && (function.sig.ident == "new" || function.sig.ident == "new_with_client")
            {
                function.vis = syn::parse_quote!(pub(crate));
                hidden += 1;
            }
        }
    }
    if hidden == 2 {
        Ok(())
    } else {
        Err(format!(
            "progenitor's `Client` has {hidden} of `new` and `new_with_client`, not both: its output \
             changed; see hide_unchecked_constructors in codegen/src/generate/public_api.rs"
        ))
    }
}

/// Removes typify's two-level enums of each open value set (`Set` holding
/// `KnownSet` or `Other`, and `KnownSet` itself) with their impls, and names
/// the flat enum generated for the set in their place.
fn use_flat_value_sets(
    types: &mut Vec<syn::Item>,
    value_sets: &[OpenValueSet],
) -> Result<(), String> {
    for set in value_sets {
        let removed_names = [set.name.as_str(), set.known.as_str()];
        let mut declarations = 0;
        types.retain(|item| match item {
            syn::Item::Enum(enumeration) => {
                let removed = removed_names.contains(&enumeration.ident.to_string().as_str());
                declarations += usize::from(removed);
                !removed
            }
            syn::Item::Impl(implementation) => !last_ident(&implementation.self_ty)
                .is_some_and(|name| removed_names.contains(&name.as_str())),
            _ => true,
        });
        if declarations != 2 {
            return Err(format!(
                "typify wrote {declarations} of the enums `{}` and `{}`, not both: its output changed; see \
                 use_flat_value_sets in codegen/src/generate/public_api.rs",
                set.name, set.known
            ));
        }
        let name = format_ident!("{}", set.name);
        types.push(syn::parse_quote!(pub use crate::generated_value_sets::#name;));
    }
    Ok(())
}

/// Adds `Eq` beside typify's `PartialEq` on every type that holds no float,
/// directly or through another generated type.
fn derive_eq_where_possible(types: &mut [syn::Item]) {
    let fields_of = |item: &syn::Item| -> Option<(String, String)> {
        match item {
            syn::Item::Struct(structure) => Some((
                structure.ident.to_string(),
                structure.fields.to_token_stream().to_string(),
            )),
            syn::Item::Enum(enumeration) => Some((
                enumeration.ident.to_string(),
                enumeration.variants.to_token_stream().to_string(),
            )),
            _ => None,
        }
    };
    let shapes: Vec<(String, Vec<String>)> = types
        .iter()
        .filter_map(fields_of)
        .map(|(name, fields)| {
            let words = fields
                .split(|character: char| !(character.is_alphanumeric() || character == '_'))
                .filter(|word| !word.is_empty())
                .map(str::to_owned)
                .collect();
            (name, words)
        })
        .collect();
    let mut without_eq: Vec<String> = Vec::new();
    loop {
        let before = without_eq.len();
        for (name, words) in &shapes {
            if without_eq.contains(name) {
                continue;
            }
            if words
                .iter()
                .any(|word| word == "f32" || word == "f64" || without_eq.contains(word))
            {
                without_eq.push(name.clone());
            }
        }
        if without_eq.len() == before {
            break;
        }
    }
    for item in types.iter_mut() {
        let (name, attributes) = match item {
            syn::Item::Struct(structure) => (structure.ident.to_string(), &mut structure.attrs),
            syn::Item::Enum(enumeration) => (enumeration.ident.to_string(), &mut enumeration.attrs),
            _ => continue,
        };
        if without_eq.contains(&name) {
            continue;
        }
        crate::generate::rust_syntax::edit_derives(attributes, |mut derived| {
            let names: Vec<String> = derived
                .iter()
                .map(crate::generate::rust_syntax::derive_name)
                .collect();
            if names.iter().any(|name| name == "PartialEq")
                && !names.iter().any(|name| name == "Eq")
            {
                derived.push(syn::parse_quote!(Eq));
            }
            derived
        });
    }
}

/// Marks every struct with named fields and every enum `#[non_exhaustive]`: an
/// answer may gain a member, a request an optional input and a value set a
/// value, and none of those may break a user's code. Users build them through
/// their builders (`Type::builder()`) and match them with `..` / `_`.
fn mark_non_exhaustive(types: &mut [syn::Item]) {
    for item in types.iter_mut() {
        let attributes = match item {
            syn::Item::Struct(structure)
                if matches!(structure.fields, syn::Fields::Named(_))
                    && matches!(structure.vis, syn::Visibility::Public(_)) =>
            {
                &mut structure.attrs
            }
            syn::Item::Enum(enumeration)
                if matches!(enumeration.vis, syn::Visibility::Public(_)) =>
            {
                &mut enumeration.attrs
            }
            _ => continue,
        };
        if !attributes
            .iter()
            .any(|attribute| attribute.path().is_ident("non_exhaustive"))
        {
            attributes.push(syn::parse_quote!(#[non_exhaustive]));
        }
    }
}

/// Each struct among `items` with its named fields (name and type).
fn struct_fields(items: &[syn::Item]) -> Vec<(String, Vec<(syn::Ident, syn::Type)>)> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(structure) => Some((
                structure.ident.to_string(),
                structure
                    .fields
                    .iter()
                    .filter_map(|field| Some((field.ident.clone()?, field.ty.clone())))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// Whether two types are written alike (token for token).
fn same(left: &syn::Type, right: &syn::Type) -> bool {
    left.to_token_stream().to_string() == right.to_token_stream().to_string()
}

/// How a form of a union gives its items, when the union is one list.
enum ListForm {
    /// `Vec<T>`: the list itself.
    List,
    /// `T`: one item.
    One,
    /// A map of `T` by some key: its values, in key order.
    Map,
    /// A struct with one list of `T` (a page): that field, `Option` or not.
    Field(syn::Ident, bool),
}

/// Adds `into_vec()` to every union whose forms are one kind of item in
/// different wrappings (a list, one item, a map of items, a page holding the
/// list), so users need not match forms to get the items.
fn add_list_readers(types: &mut Vec<syn::Item>, unions: &[Union]) {
    let struct_fields = struct_fields(types);
    let mut readers = Vec::new();
    for union in unions {
        let local_payloads: Vec<syn::Type> = union
            .forms
            .iter()
            .map(|form| unqualified(&form.payload))
            .collect();
        let Some(item) = local_payloads
            .iter()
            .find_map(|payload| generic_argument(payload, "Vec"))
        else {
            continue;
        };
        let list_of =
            |ty: &syn::Type| generic_argument(ty, "Vec").is_some_and(|inner| same(&inner, &item));
        let ways: Option<Vec<ListForm>> = local_payloads
            .iter()
            .map(|payload| {
                if list_of(payload) {
                    return Some(ListForm::List);
                }
                if same(payload, &item) {
                    return Some(ListForm::One);
                }
                if last_ident(payload).as_deref() == Some("HashMap")
                    && map_value(payload).is_some_and(|value| same(&value, &item))
                {
                    return Some(ListForm::Map);
                }
                let name = last_ident(payload)?;
                let (_, fields) = struct_fields.iter().find(|(known, _)| *known == name)?;
                let lists: Vec<ListForm> = fields
                    .iter()
                    .filter_map(|(ident, ty)| {
                        if list_of(ty) {
                            Some(ListForm::Field(ident.clone(), false))
                        } else {
                            generic_argument(ty, "Option")
                                .filter(|inner| list_of(inner))
                                .map(|_| ListForm::Field(ident.clone(), true))
                        }
                    })
                    .collect();
                match <[ListForm; 1]>::try_from(lists) {
                    Ok([only]) => Some(only),
                    Err(_) => None,
                }
            })
            .collect();
        let Some(ways) = ways else {
            continue;
        };
        let name = format_ident!("{}", union.name);
        let arms = union.forms.iter().zip(&ways).map(|(form, way)| {
            let variant = format_ident!("{}", form.variant);
            match way {
                ListForm::List => quote!(Self::#variant(items) => items),
                ListForm::One => quote!(Self::#variant(item) => vec![item]),
                ListForm::Map => quote! {
                    Self::#variant(by_key) => {
                        let mut entries: Vec<_> = by_key.into_iter().collect();
                        entries.sort_by(|left, right| left.0.cmp(&right.0));
                        entries.into_iter().map(|(_, item)| item).collect()
                    }
                },
                ListForm::Field(field, false) => quote!(Self::#variant(page) => page.#field),
                ListForm::Field(field, true) => {
                    quote!(Self::#variant(page) => page.#field.unwrap_or_default())
                }
            }
        });
        let doc = format!(
            " Every `{}` this answer holds, whichever of its forms it came in (a list, one item, a \
             map's values in the text order of its keys, or a page's list), lists in the order sent.",
            item.to_token_stream().to_string().replace(' ', "")
        );
        readers.push(syn::parse_quote! {
            impl #name {
                #[doc = #doc]
                pub fn into_vec(self) -> ::std::vec::Vec<#item> {
                    match self {
                        #(#arms,)*
                    }
                }
            }
        });
    }
    types.extend(readers);
}

/// Gives each answer of two forms, one a generated struct (a row) and the
/// other a plain value that says there is none (`NotClockedIn(String)`,
/// `NoChange(bool)`), an `into_<row>()` that returns the row or `None`, as
/// `into_vec()` does for lists.
fn add_row_readers(types: &mut Vec<syn::Item>, unions: &[Union]) {
    use heck::ToSnakeCase as _;
    let struct_names: Vec<String> = struct_fields(types)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let plain = ["bool", "String", "i64", "u64", "f64"];
    let mut readers = Vec::new();
    for union in unions {
        let [first, second] = union.forms.as_slice() else {
            continue;
        };
        let kind = |form: &crate::generate::bodies::UnionForm| {
            let payload = unqualified(&form.payload);
            let name = last_ident(&payload).unwrap_or_default();
            let is_plain = matches!(&payload, syn::Type::Path(path) if path.path.segments.len() <= 3)
                && plain.contains(&name.as_str());
            (struct_names.contains(&name).then_some(payload), is_plain)
        };
        let (row, nothing) = match (kind(first), kind(second)) {
            ((Some(row), _), (None, true)) => ((first, row), second),
            ((None, true), (Some(row), _)) => ((second, row), first),
            _ => continue,
        };
        let ((row_form, row_type), nothing_form) = (row, nothing);
        let name = format_ident!("{}", union.name);
        let variant = format_ident!("{}", row_form.variant);
        let reader = format_ident!("into_{}", row_form.variant.to_snake_case());
        let doc = format!(
            " The `{}` this answer holds, or `None` for its other form (`{}`), which says there is none.",
            row_type.to_token_stream().to_string().replace(' ', ""),
            nothing_form.variant
        );
        readers.push(syn::parse_quote! {
            impl #name {
                #[doc = #doc]
                pub fn #reader(self) -> ::std::option::Option<#row_type> {
                    match self {
                        Self::#variant(row) => ::std::option::Option::Some(row),
                        _ => ::std::option::Option::None,
                    }
                }
            }
        });
    }
    types.extend(readers);
}

/// `V` of a type written as `HashMap<K, V>`.
fn map_value(ty: &syn::Type) -> Option<syn::Type> {
    crate::generate::rust_syntax::generic_arguments(ty, "HashMap")
        .into_iter()
        .nth(1)
}

/// A payload written from the crate root (`crate::types::X`) as the `types`
/// module writes it (`X`).
fn unqualified(ty: &syn::Type) -> syn::Type {
    let text = ty
        .to_token_stream()
        .to_string()
        .replace("crate :: types :: ", "");
    syn::parse_str(&text).unwrap_or_else(|_| ty.clone())
}

/// Each struct's fields' JSON names: (struct, field, JSON name).
fn json_names_of(types: &[syn::Item]) -> Vec<(String, String, String)> {
    types
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(structure) => Some(structure),
            _ => None,
        })
        .flat_map(|structure| {
            crate::generate::bodies::json_members_with_fields(structure)
                .into_iter()
                .map(|(json, ident, _)| (structure.ident.to_string(), ident.to_string(), json))
        })
        .collect()
}

/// Whose builders a module holds: typify's (bodies, JSON names from serde) or
/// progenitor's (operations, parameters named in camelCase).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetterStyle {
    Types,
    Operations,
}

/// The unsigned integer an id type holds (`NonZeroU64` holds `u64`).
fn nonzero_base(ty: &syn::Type) -> Option<syn::Ident> {
    let name = last_ident(ty)?;
    let base = name.strip_prefix("NonZeroU")?;
    Some(format_ident!("u{base}"))
}

/// Rewrites the builders' setters so that:
/// - an optional field's setter takes the value itself (`.acc_name("Jane")`, a
///   nested builder), and `maybe_<field>` takes an `Option` (typify's setter);
/// - an id (`NonZeroU64`) takes any integer (`.server_id(1)`) and, for 0 or a
///   negative number, fails the call with "`serverId` must be at least 1".
fn rewrite_setters(
    builders: &mut [syn::Item],
    json_names: &[(String, String, String)],
    style: SetterStyle,
) {
    // A builder stores each field as `Result<T, String>`: the field's type is `T`.
    let struct_fields: Vec<(String, Vec<(String, syn::Type)>)> = struct_fields(builders)
        .into_iter()
        .map(|(builder, fields)| {
            let stored = fields
                .into_iter()
                .filter_map(|(ident, ty)| {
                    Some((ident.to_string(), generic_argument(&ty, "Result")?))
                })
                .collect();
            (builder, stored)
        })
        .collect();
    for item in builders.iter_mut() {
        let syn::Item::Impl(implementation) = item else {
            continue;
        };
        if implementation.trait_.is_some() {
            continue;
        }
        let Some(builder) = last_ident(&implementation.self_ty) else {
            continue;
        };
        let Some((_, fields)) = struct_fields.iter().find(|(name, _)| *name == builder) else {
            continue;
        };
        let mut added = Vec::new();
        for member in &mut implementation.items {
            let syn::ImplItem::Fn(function) = member else {
                continue;
            };
            let field = function.sig.ident.to_string();
            let Some((_, stored)) = fields.iter().find(|(name, _)| *name == field) else {
                continue;
            };
            let Some(target) = conversion_target(function) else {
                continue;
            };
            let optional_inner = generic_argument(stored, "Option");
            let json = match style {
                SetterStyle::Types => json_names
                    .iter()
                    .find(|(owner, rust, _)| *owner == builder && *rust == field)
                    .map(|(_, _, json)| json.clone())
                    .unwrap_or_else(|| field.clone()),
                SetterStyle::Operations => {
                    heck::ToLowerCamelCase::to_lower_camel_case(field.trim_start_matches("r#"))
                }
            };
            let ident = function.sig.ident.clone();
            // typify's optional setter converts into the `Option`: it becomes
            // `maybe_<field>`, and the field's name takes the value itself.
            let takes_option = optional_inner.is_some() && same(&target, stored);
            let value_type = optional_inner.clone().unwrap_or_else(|| stored.clone());
            let wrap = if optional_inner.is_some() {
                quote!(.map(Some))
            } else {
                quote!()
            };
            let replacement: Option<syn::ImplItemFn> = if let Some(base) = nonzero_base(&value_type)
            {
                let message = format!("`{json}` must be at least 1 (ids count from 1)");
                let doc = format!(
                    " Sets `{json}`: any integer from 1 (`1`, `1_u64`, a `{}`); 0 or a negative \
                     number fails the call before anything is sent.",
                    last_ident(&value_type).unwrap_or_default()
                );
                Some(syn::parse_quote! {
                    #[doc = #doc]
                    pub fn #ident<T>(mut self, value: T) -> Self
                    where
                        T: ::std::convert::TryInto<#base>,
                    {
                        self.#ident = value
                            .try_into()
                            .ok()
                            .and_then(<#value_type>::new)
                            #wrap
                            .ok_or_else(|| #message.to_string());
                        self
                    }
                })
            } else if takes_option {
                let doc = format!(" Sets `{json}` (`maybe_{ident}` takes an `Option`).");
                Some(syn::parse_quote! {
                    #[doc = #doc]
                    pub fn #ident<T>(mut self, value: T) -> Self
                    where
                        T: ::std::convert::TryInto<#value_type>,
                        T::Error: ::std::fmt::Display,
                    {
                        self.#ident = value
                            .try_into()
                            .map(Some)
                            .map_err(|e| format!("error converting supplied value for {}: {e}", #json));
                        self
                    }
                })
            } else {
                None
            };
            let Some(replacement) = replacement else {
                continue;
            };
            if takes_option && style == SetterStyle::Types {
                let maybe = format_ident!("maybe_{}", ident.to_string().trim_start_matches("r#"));
                let doc =
                    format!(" Sets or clears `{json}` from an `Option` (`None` leaves it out).");
                let maybe: syn::ImplItemFn = match nonzero_base(&value_type) {
                    // An id from any integer, with the same check as the setter.
                    Some(base) => {
                        let message = format!("`{json}` must be at least 1 (ids count from 1)");
                        syn::parse_quote! {
                            #[doc = #doc]
                            pub fn #maybe<T>(mut self, value: ::std::option::Option<T>) -> Self
                            where
                                T: ::std::convert::TryInto<#base>,
                            {
                                self.#ident = match value {
                                    None => Ok(None),
                                    Some(value) => value
                                        .try_into()
                                        .ok()
                                        .and_then(<#value_type>::new)
                                        .map(Some)
                                        .ok_or_else(|| #message.to_string()),
                                };
                                self
                            }
                        }
                    }
                    None => syn::parse_quote! {
                        #[doc = #doc]
                        pub fn #maybe<T>(mut self, value: T) -> Self
                        where
                            T: ::std::convert::TryInto<::std::option::Option<#value_type>>,
                            T::Error: ::std::fmt::Display,
                        {
                            self.#ident = value
                                .try_into()
                                .map_err(|e| format!("error converting supplied value for {}: {e}", #json));
                            self
                        }
                    },
                };
                added.push(syn::ImplItem::Fn(maybe));
            }
            *function = replacement;
        }
        implementation.items.extend(added);
    }
}

/// `X` of a setter bounded by `T: TryInto<X>`.
fn conversion_target(function: &syn::ImplItemFn) -> Option<syn::Type> {
    let clause = function.sig.generics.where_clause.as_ref()?;
    clause.predicates.iter().find_map(|predicate| {
        let syn::WherePredicate::Type(bound) = predicate else {
            return None;
        };
        bound.bounds.iter().find_map(|bound| {
            let syn::TypeParamBound::Trait(bound) = bound else {
                return None;
            };
            let segment = bound.path.segments.last()?;
            if segment.ident != "TryInto" {
                return None;
            }
            crate::generate::rust_syntax::type_arguments(segment)
                .into_iter()
                .next()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(source: &str) -> syn::File {
        syn::parse_str(source).expect("parses")
    }

    fn unparse(items: Vec<syn::Item>) -> String {
        let mut whole = file("");
        whole.items = items;
        prettyplease::unparse(&whole)
    }

    #[test]
    fn an_optional_setter_takes_the_value_and_maybe_takes_an_option() {
        let mut items = file(
            r#"
            pub struct Body { server_id: Result<Option<::std::num::NonZeroU64>, String>, name: Result<Option<String>, String> }
            impl Body {
                pub fn name<T>(mut self, value: T) -> Self where T: ::std::convert::TryInto<Option<String>>, T::Error: ::std::fmt::Display {
                    self.name = value.try_into().map_err(|e| format!("{e}")); self
                }
                pub fn server_id<T>(mut self, value: T) -> Self where T: ::std::convert::TryInto<Option<::std::num::NonZeroU64>>, T::Error: ::std::fmt::Display {
                    self.server_id = value.try_into().map_err(|e| format!("{e}")); self
                }
            }
            "#,
        )
        .items;
        let names = vec![(
            "Body".to_owned(),
            "server_id".to_owned(),
            "serverId".to_owned(),
        )];
        rewrite_setters(&mut items, &names, SetterStyle::Types);
        let text = unparse(items);
        assert!(
            text.contains("T: ::std::convert::TryInto<String>"),
            "{text}"
        );
        assert!(text.contains("pub fn maybe_name<T>"), "{text}");
        assert!(text.contains("TryInto<u64>"), "{text}");
        assert!(text.contains("`serverId` must be at least 1"), "{text}");
        assert!(text.contains("pub fn maybe_server_id<T>"), "{text}");
    }

    #[test]
    fn a_union_of_one_item_kind_reads_as_one_list() {
        let mut items = file(
            r#"
            pub struct Page { pub count: i64, pub forms: Vec<Form> }
            pub struct Form { pub id: i64 }
            pub enum Answer { Page(Page), List(Vec<Form>), One(Form), ByKey(::std::collections::HashMap<String, Form>) }
            pub enum Mixed { Count(i64), List(Vec<Form>) }
            "#,
        )
        .items;
        let parsed = file(
            "mod types { pub struct Page { pub count: i64, pub forms: Vec<Form> } pub struct Form { pub id: i64 } #[serde(untagged)] pub enum Answer { Page(Page), List(Vec<Form>), One(Form), ByKey(::std::collections::HashMap<String, Form>) } #[serde(untagged)] pub enum Mixed { Count(i64), List(Vec<Form>) } }",
        );
        let unions = crate::generate::bodies::unions_in(&parsed);
        add_list_readers(&mut items, &unions);
        let text = unparse(items);
        assert!(text.contains("impl Answer"), "{text}");
        assert!(text.contains("Self::Page(page) => page.forms"), "{text}");
        assert!(text.contains("Self::One(item) => vec![item]"), "{text}");
        assert!(
            !text.contains("impl Mixed"),
            "a count is not a list of forms: {text}"
        );
    }

    #[test]
    fn eq_is_derived_only_where_no_float_is_held() {
        let mut items = file(
            r#"
            #[derive(Clone, PartialEq)] pub struct Point { pub x: f64 }
            #[derive(Clone, PartialEq)] pub struct Shape { pub at: Point }
            #[derive(Clone, PartialEq)] pub struct Name { pub text: String }
            "#,
        )
        .items;
        derive_eq_where_possible(&mut items);
        mark_non_exhaustive(&mut items);
        let text = unparse(items);
        assert!(
            text.contains("#[derive(Clone, PartialEq, Eq)]\n#[non_exhaustive]\npub struct Name"),
            "{text}"
        );
        assert!(
            text.contains("#[derive(Clone, PartialEq)]\n#[non_exhaustive]\npub struct Shape"),
            "{text}"
        );
    }
}

/// A member the spec says is also read from another JSON type
/// (`x-sonoran-also-reads`): its schema, its JSON name, and which reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlsoReads {
    /// The component (and Rust type) name.
    pub schema: String,
    /// The member's JSON name.
    pub member: String,
    /// `number` (text also read from a JSON number) or `digits` (an integer
    /// also read from text of digits).
    pub reads: String,
}

/// Every member of `spec`'s components marked `x-sonoran-also-reads`.
pub fn also_reads(spec: &openapiv3::OpenAPI) -> Vec<AlsoReads> {
    let mut found = Vec::new();
    let Some(components) = &spec.components else {
        return found;
    };
    for (name, schema) in &components.schemas {
        let openapiv3::ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &schema.schema_kind
        else {
            continue;
        };
        for (member, property) in &object.properties {
            let openapiv3::ReferenceOr::Item(property) = property else {
                continue;
            };
            if let Some(reads) = property
                .schema_data
                .extensions
                .get("x-sonoran-also-reads")
                .and_then(serde_json::Value::as_str)
            {
                found.push(AlsoReads {
                    schema: name.clone(),
                    member: member.clone(),
                    reads: reads.to_owned(),
                });
            }
        }
    }
    found
}

/// Gives each member in `members` the runtime's reader of its other JSON
/// type (`crate::other_json_types`): `#[serde(default, deserialize_with = ..)]`
/// on its field, picked by the field's Rust type, and a line of docs.
pub fn read_other_json_types(file: &mut syn::File, members: &[AlsoReads]) -> Result<(), String> {
    let types = module_items(&mut file.items, "types")
        .ok_or("progenitor wrote no `types` module".to_owned())?;
    let json_names = json_names_of(types);
    for member in members {
        let Some((_, field_name, _)) = json_names
            .iter()
            .find(|(structure, _, json)| *structure == member.schema && *json == member.member)
        else {
            return Err(format!(
                "`{}.{}` is marked x-sonoran-also-reads, but the generated `{}` has no such field",
                member.schema, member.member, member.schema
            ));
        };
        let field = types
            .iter_mut()
            .find_map(|item| match item {
                syn::Item::Struct(structure) if structure.ident == member.schema => Some(structure),
                _ => None,
            })
            .and_then(|structure| {
                structure.fields.iter_mut().find(|field| {
                    field
                        .ident
                        .as_ref()
                        .is_some_and(|ident| ident == field_name)
                })
            })
            .ok_or_else(|| format!("no field `{field_name}` in `{}`", member.schema))?;
        let optional = last_ident(&field.ty).is_some_and(|ident| ident == "Option");
        let (reader, doc) = match (member.reads.as_str(), optional) {
            ("number", false) => ("text_or_number", " Also read from a JSON number."),
            ("number", true) => ("optional_text_or_number", " Also read from a JSON number."),
            // No required integer member is marked today; its reader would
            // join `optional_integer_or_digits` in the runtime.
            ("digits", false) => {
                return Err(format!(
                    "`{}.{}` is a required integer marked x-sonoran-also-reads: the runtime has no \
                     reader for it yet (crate::other_json_types)",
                    member.schema, member.member
                ));
            }
            ("digits", true) => (
                "optional_integer_or_digits",
                " Also read from text of digits.",
            ),
            (other, _) => {
                return Err(format!(
                    "`{}.{}`: x-sonoran-also-reads is `number` or `digits`, not `{other}`",
                    member.schema, member.member
                ));
            }
        };
        let path = format!("crate::other_json_types::{reader}");
        field.attrs.push(syn::parse_quote!(#[doc = #doc]));
        // An absent optional member stays `None` (serde's own default for an
        // `Option` does not hold with a reader of one's own).
        let has_default = field.attrs.iter().any(|attribute| {
            attribute.path().is_ident("serde")
                && attribute.to_token_stream().to_string().contains("default")
        });
        if optional && !has_default {
            field.attrs.push(syn::parse_quote!(#[serde(default)]));
        }
        field
            .attrs
            .push(syn::parse_quote!(#[serde(deserialize_with = #path)]));
    }
    Ok(())
}
