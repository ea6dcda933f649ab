//! The `.identity(AccountIdentity)` setters (`generated_one_of.rs`): one on the
//! builder of every operation whose group of alternative fields
//! (`x-sonoran-one-of`, read by `check::one_of`) maps onto the `AccountIdentity`
//! type, setting the one field the identity stands for.

use heck::ToUpperCamelCase;
use quote::{format_ident, quote};

use crate::check::one_of::{IDENTITY_KINDS, Location, OneOfGroup};
use crate::error::CodegenError;
use crate::naming::rust_snake_name;

/// The Rust variant of an `AccountIdentity` kind and the type it holds.
fn identity_kind(kind: &str) -> (proc_macro2::Ident, proc_macro2::TokenStream) {
    let (variant, rust_type) = IDENTITY_KINDS
        .iter()
        .find(|(known, _, _)| *known == kind)
        .map_or(
            (kind.to_upper_camel_case(), "::std::string::String"),
            |(_, variant, rust_type)| ((*variant).to_owned(), *rust_type),
        );
    let rust_type: proc_macro2::TokenStream = rust_type.parse().unwrap_or_default();
    (format_ident!("{variant}"), rust_type)
}

/// The Rust source of the identity setters (the groups themselves are in the
/// operation table).
pub fn source(
    spec_file: &str,
    groups: &[OneOfGroup],
    header: &str,
) -> Result<String, CodegenError> {
    let setters = groups.iter().filter_map(|group| {
        let pairs = group.account_identity.as_ref()?;
        let arms = pairs.iter().map(|(kind, field)| {
            let (variant, _) = identity_kind(kind);
            let setter = format_ident!("{}", rust_snake_name(field));
            // A body builder can unset a field: the other identities are cleared,
            // so a request names exactly the one given. (progenitor's query
            // setters cannot unset a parameter.)
            let clear_others = pairs
                .iter()
                .filter(|(other, _)| other != kind && group.location == Location::Body)
                .map(|(other, other_field)| {
                    let (_, rust_type) = identity_kind(other);
                    // `maybe_<field>` takes an `Option` (`public_api`).
                    let other_setter = format_ident!(
                        "maybe_{}",
                        rust_snake_name(other_field).trim_start_matches("r#")
                    );
                    quote! { .#other_setter(None::<#rust_type>) }
                });
            quote! { crate::types::AccountIdentity::#variant(value) => self.#setter(value) #(#clear_others)* }
        });
        let field_list = pairs
            .iter()
            .map(|(_, field)| format!("`{field}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (builder_type, doc_target) = match group.location {
            Location::Body => {
                let component = group.body_component.as_deref().unwrap_or_default().to_upper_camel_case();
                let ident = format_ident!("{component}");
                (quote!(crate::types::builder::#ident), format!("the `{component}` body"))
            }
            Location::Query => {
                let ident = format_ident!("{}", group.operation_id.to_upper_camel_case());
                (quote!(crate::builder::#ident<'_>), format!("the `{}` query", group.operation_id))
            }
        };
        let doc = format!(
            " Names the account this request is about, as one [`AccountIdentity`](crate::types::AccountIdentity): \
             sets the one field of {doc_target} it stands for ({field_list}){}.{}",
            if group.location == Location::Body {
                " and unsets the others"
            } else {
                ""
            },
            if group.required {
                " The operation needs one; a request without any is refused before it is sent."
            } else {
                " Optional here: the path already names the account."
            }
        );
        Some(quote! {
            impl #builder_type {
                #[doc = #doc]
                pub fn identity(self, identity: crate::types::AccountIdentity) -> Self {
                    match identity {
                        #(#arms),*
                    }
                }
            }
        })
    });
    let tokens = quote! {
        #(#setters)*
    };
    let body = crate::generate::rust_syntax::format_rust(spec_file, tokens)?;
    Ok(crate::generate::rust_syntax::normalize_newlines(&format!(
        "{header}\n{body}"
    )))
}
