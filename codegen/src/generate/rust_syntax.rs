//! Reading and writing generated Rust: formatting tokens with prettyplease,
//! parsing them with syn, and the small questions every generator asks of a
//! type or an attribute (`T` of `Name<T>`, a derive's name). A leaf of the
//! generate stage: the generators use it, it uses none of them.

use crate::error::CodegenError;

/// LF line endings and exactly one trailing newline (kept with the writer of
/// files, `outputs`, which every stage may use).
pub use crate::outputs::normalize_newlines;

/// Formats generated tokens as a Rust file with prettyplease (deterministic output).
pub(crate) fn format_rust(
    spec_file: &str,
    tokens: proc_macro2::TokenStream,
) -> Result<String, CodegenError> {
    Ok(prettyplease::unparse(&parse_rust(spec_file, tokens)?))
}

/// Generated Rust text, edited as text, formatted again with prettyplease.
pub(crate) fn reformat(spec_file: &str, text: &str) -> Result<String, CodegenError> {
    let tokens =
        text.parse::<proc_macro2::TokenStream>()
            .map_err(|error| CodegenError::Format {
                file: spec_file.to_owned(),
                message: error.to_string(),
            })?;
    format_rust(spec_file, tokens)
}

pub(crate) fn parse_rust(
    spec_file: &str,
    tokens: proc_macro2::TokenStream,
) -> Result<syn::File, CodegenError> {
    syn::parse2::<syn::File>(tokens).map_err(|error| CodegenError::Format {
        file: spec_file.to_owned(),
        message: error.to_string(),
    })
}

/// `T` of a `send` that returns `Result<ResponseValue<T>, Error<..>>`.
pub(crate) fn success_type(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, output) = output else {
        return None;
    };
    let response = generic_argument(output, "Result")?;
    generic_argument(&response, "ResponseValue")
}

/// Rewrites every `#[derive(..)]` among `attributes`: `edit` gets the derived
/// paths and gives those to derive.
pub(crate) fn edit_derives(
    attributes: &mut [syn::Attribute],
    edit: impl Fn(Vec<syn::Path>) -> Vec<syn::Path>,
) {
    for attribute in attributes.iter_mut() {
        if !attribute.path().is_ident("derive") {
            continue;
        }
        let Ok(derived) = attribute.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        let edited = edit(derived.into_iter().collect());
        *attribute = syn::parse_quote!(#[derive(#(#edited),*)]);
    }
}

/// A derive's name: the last segment of its path (`::serde::Deserialize` is
/// `Deserialize`).
pub(crate) fn derive_name(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default()
}

/// `T` of a type written as `Name<T>` (any path to `Name`).
pub(crate) fn generic_argument(ty: &syn::Type, name: &str) -> Option<syn::Type> {
    generic_arguments(ty, name).into_iter().next()
}

/// The type arguments of a type written as `Name<A, B, ..>` (any path to
/// `Name`); none when it is written otherwise.
pub(crate) fn generic_arguments(ty: &syn::Type, name: &str) -> Vec<syn::Type> {
    let syn::Type::Path(path) = ty else {
        return Vec::new();
    };
    match path.path.segments.last() {
        Some(segment) if segment.ident == name => type_arguments(segment),
        _ => Vec::new(),
    }
}

/// The type arguments of one path segment (`TryInto<X>` gives `X`).
pub(crate) fn type_arguments(segment: &syn::PathSegment) -> Vec<syn::Type> {
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return Vec::new();
    };
    arguments
        .args
        .iter()
        .filter_map(|argument| match argument {
            syn::GenericArgument::Type(ty) => Some(ty.clone()),
            _ => None,
        })
        .collect()
}
