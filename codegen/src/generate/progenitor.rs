//! Generation: runs progenitor on a linted spec and formats the result with
//! prettyplease, deterministically (LF line endings, trailing newline).

use crate::generate::bodies::GENERATED_SEND;
use crate::generate::rust_syntax::{
    derive_name, edit_derives, format_rust, normalize_newlines, parse_rust, reformat, success_type,
};
use std::panic::{AssertUnwindSafe, catch_unwind};

use openapiv3::OpenAPI;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use quote::{format_ident, quote};

use crate::error::CodegenError;

/// Inner attributes that keep the workspace's lints off code we do not write by hand.
const GENERATED_ALLOWS: &str = "\
#![allow(clippy::all, clippy::pedantic, clippy::nursery, clippy::restriction)]
#![allow(missing_docs, dead_code, unused_imports, unused_qualifications, unused_variables, unreachable_patterns, rust_2018_idioms)]
";

/// The generator settings of the Sonoran client.
///
/// - The Builder interface is the one progenitor's CLI and mock generators expect.
/// - The client carries `crate::ClientState` (key, policies, limiter) as its inner
///   value, and hooks are `Expected`: the hand-written `ClientHooks` impl in the
///   `sonoran-cms` crate is required, so forgetting it is a compile error rather
///   than a client that silently skips auth, rate limits and retries.
pub fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::ClientState))
        .with_hooks(HooksMode::Expected)
        // Users compare answers in their tests; `Eq` is added where no float
        // is held (`public_api`).
        .with_derive("PartialEq");
    settings
}

/// Generates the client module's source for `spec` (named `spec_file` in messages),
/// headed by `header` (comment lines, each starting with `//`).
pub fn client_source(
    spec_file: &str,
    spec: &OpenAPI,
    value_sets: &[crate::generate::value_sets::OpenValueSet],
    header: &str,
) -> Result<String, CodegenError> {
    let tokens = run_progenitor(spec_file, spec)?;
    let mut file = parse_rust(spec_file, tokens)?;
    let builders = sends_the_client_error(&mut file);
    let generator_error = |message| CodegenError::Generator {
        file: spec_file.to_owned(),
        message,
    };
    forms_ranked_by_members(&mut file).map_err(generator_error)?;
    paging_windows(&mut file, &crate::check::paging::paged(spec).0).map_err(generator_error)?;
    crate::generate::public_api::apply(&mut file, value_sets).map_err(generator_error)?;
    crate::generate::public_api::read_other_json_types(
        &mut file,
        &crate::generate::public_api::also_reads(spec),
    )
    .map_err(generator_error)?;
    if builders == 0 {
        return Err(CodegenError::Generator {
            file: spec_file.to_owned(),
            message: "progenitor's builders have no `send` to wrap: its output changed; see \
                      sends_the_client_error in codegen/src/generate/progenitor.rs"
                .to_owned(),
        });
    }
    // progenitor documents each operation with a usage sketch marked `ignore`;
    // it is not compilable on its own, and the operation's docs already hold
    // one example that is (`operation_docs`), so the sketch is left out.
    let body = without_usage_sketches(&prettyplease::unparse(&file));
    let success_bodies = crate::bodies::read(spec).successes.len();
    let arms = body.matches(DECODED_ARM.0).count();
    // An operation whose JSON success body is written inline (not a `$ref`) has
    // the arm too, without a decoder in the table: `take_decoded` decodes it.
    if arms < success_bodies || (success_bodies > 0 && arms == 0) {
        return Err(CodegenError::Generator {
            file: spec_file.to_owned(),
            message: format!(
                "progenitor wrote `{}` {arms} times for {success_bodies} JSON success bodies: its output \
                 changed; see DECODED_ARM in codegen/src/generate/progenitor.rs",
                DECODED_ARM.0
            ),
        });
    }
    let body = body.replace(DECODED_ARM.0, DECODED_ARM.1);
    let body = required_input_messages(&body, spec);
    Ok(normalize_newlines(&format!(
        "{header}\n{GENERATED_ALLOWS}\n{body}"
    )))
}

/// progenitor's message for a required path or query input left unset
/// (`account_id was not initialized`), replaced in each builder by one that
/// names the API's input, what it holds and how to set it; an account's UUID
/// also says how to find it from another identity.
fn required_input_messages(body: &str, spec: &OpenAPI) -> String {
    use heck::ToUpperCamelCase as _;
    let mut body = body.to_owned();
    for operation in crate::operations::with_ids(spec) {
        let builder = format!(
            "impl<'a> {}<'a> {{",
            operation.operation_id.to_upper_camel_case()
        );
        let Some(start) = body.find(&builder) else {
            continue;
        };
        // The builder's `new`, up to its next method.
        let end = body[start..]
            .find("\n        pub fn ")
            .and_then(|new| {
                body[start + new + 1..]
                    .find("\n        pub fn ")
                    .map(|next| start + new + 1 + next)
            })
            .unwrap_or(body.len());
        let mut block = body[start..end].to_owned();
        for parameter in &operation.operation.parameters {
            let openapiv3::ReferenceOr::Item(parameter) = parameter else {
                continue;
            };
            let data = parameter.parameter_data_ref();
            let rust = crate::naming::rust_snake_name(&data.name);
            let place = match parameter {
                openapiv3::Parameter::Path { .. } => "in the path",
                _ => "in the query",
            };
            let what = match &data.format {
                openapiv3::ParameterSchemaOrContent::Schema(openapiv3::ReferenceOr::Item(
                    schema,
                )) => match &schema.schema_kind {
                    openapiv3::SchemaKind::Type(openapiv3::Type::String(text)) if matches!(&text.format, openapiv3::VariantOrUnknownOrEmpty::Unknown(format) if format == "uuid") => {
                        "a UUID"
                    }
                    openapiv3::SchemaKind::Type(openapiv3::Type::Integer(_)) => "a whole number",
                    openapiv3::SchemaKind::Type(openapiv3::Type::Number(_)) => "a number",
                    openapiv3::SchemaKind::Type(openapiv3::Type::Boolean(_)) => "true or false",
                    _ => "text",
                },
                _ => "a value",
            };
            let hint = if data.name == "accountId" {
                "; `client.account_uuid(identity)` finds an account's UUID from its Discord id, API id or username"
            } else {
                ""
            };
            let message = format!(
                "`{}` ({what}, {place}) is required: set it with `.{rust}(..)`{hint}",
                data.name
            );
            block = block.replace(
                &format!("Err(\"{rust} was not initialized\".to_string())"),
                &format!("Err({message:?}.to_string())"),
            );
        }
        body.replace_range(start..end, &block);
    }
    body
}

/// `text` without progenitor's ```` ```ignore ```` usage sketches.
fn without_usage_sketches(text: &str) -> String {
    const OPENING: &str = "\n```ignore\n";
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPENING) {
        kept.push_str(&rest[..start]);
        let after = &rest[start + OPENING.len()..];
        rest = match after.find("```") {
            Some(end) => &after[end + 3..],
            None => after,
        };
    }
    kept.push_str(rest);
    kept
}

/// Generates the typed `httpmock` extension (the `sonoran-cms-httpmock` crate's
/// module) for `spec` with the client's settings, so its types are the client's.
pub fn httpmock_source(
    spec_file: &str,
    spec: &OpenAPI,
    client: &str,
    header: &str,
) -> Result<String, CodegenError> {
    let tokens = run_generator(spec_file, |generator| {
        generator.httpmock(spec, HTTPMOCK_CLIENT_PATH)
    })?;
    let body = format_rust(spec_file, tokens)?;
    let body = mocks_take_ids_as_the_client_does(spec_file, &body)?;
    let body = mocks_take_what_setters_take(spec_file, &body, client)?;
    Ok(normalize_newlines(&format!(
        "{header}\n{GENERATED_ALLOWS}\n{body}"
    )))
}

/// How progenitor's mocks take an id in a path, and in an optional query.
const MOCK_PATH_ID: &str = "(self, value: ::std::num::NonZeroU64) -> Self {";
const MOCK_QUERY_ID: &str = "T: Into<Option<::std::num::NonZeroU64>>,";

/// The mocks' matchers take an id as the client's setters do, any integer
/// (`when.server_id(1)`), not only a `NonZeroU64`: the mock crate's
/// `matched_id` checks it, and an optional query's takes an `Option<u64>`
/// (`None` matches a request without it).
fn mocks_take_ids_as_the_client_does(spec_file: &str, body: &str) -> Result<String, CodegenError> {
    let rewritten = body
        .replace(
            MOCK_PATH_ID,
            "<T: ::std::convert::TryInto<u64>>(self, value: T) -> Self {\n\
             let value = crate::matched_id(value);",
        )
        .replace(MOCK_QUERY_ID, "T: Into<Option<u64>>,");
    // Formatted again, so the inserted line reads as the rest.
    let rewritten = reformat(spec_file, &rewritten)?;
    if rewritten.contains("NonZeroU64") {
        return Err(CodegenError::Generator {
            file: spec_file.to_owned(),
            message: "progenitor's mocks take a `NonZeroU64` in a way not rewritten: its output changed; \
                      see mocks_take_ids_as_the_client_does in codegen/src/generate/progenitor.rs"
                .to_owned(),
        });
    }
    Ok(rewritten)
}

/// How progenitor's mocks take a value by reference (`value: &::uuid::Uuid`,
/// `value: &types::GetServersResponse`): up to the `)` or `,` after it.
const MOCK_VALUE: &str = "value: &";

/// The mocks' matchers and answers take what the client's setters take: a
/// value, a reference to it, its builder, or a UUID's text
/// (`when.account_id("8d2f...")`, `then.success(200, Response::builder()..)`),
/// through the mock crate's `IntoMockValue`; a builder of each type the mocks
/// take gets its impl here. Text (`value: &str`) stays as it is.
fn mocks_take_what_setters_take(
    spec_file: &str,
    body: &str,
    client: &str,
) -> Result<String, CodegenError> {
    let mut rewritten = String::with_capacity(body.len());
    let mut types: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find(MOCK_VALUE) {
        let after = &rest[at + MOCK_VALUE.len()..];
        let end = after.find([')', ',']).unwrap_or(after.len());
        let type_name = after[..end].trim();
        rewritten.push_str(&rest[..at]);
        if type_name == "str" {
            rewritten.push_str(&rest[at..at + MOCK_VALUE.len()]);
            rest = after;
            continue;
        }
        // The parameter, then its conversion as the body's first line.
        let Some(open) = after.find("-> Self {") else {
            return Err(CodegenError::Generator {
                file: spec_file.to_owned(),
                message: format!(
                    "progenitor's mock takes `&{type_name}` outside a method returning Self: its \
                     output changed; see mocks_take_what_setters_take in codegen/src/generate/progenitor.rs"
                ),
            });
        };
        let open = open + "-> Self {".len();
        rewritten.push_str(&format!(
            "value: impl crate::IntoMockValue<{type_name}>{}\nlet value = &crate::IntoMockValue::into_mock_value(value);",
            &after[end..open]
        ));
        if let Some(name) = type_name.strip_prefix("types::")
            && !types.iter().any(|known| known == name)
        {
            types.push(name.to_owned());
        }
        rest = &after[open..];
    }
    rewritten.push_str(rest);
    // The builders the client has for these types (a value set or a union
    // has none).
    let builders = client
        .find("pub mod builder {")
        .map_or("", |start| &client[start..]);
    types.sort();
    let impls: String = types
        .iter()
        .filter(|name| builders.contains(&format!("pub struct {name} {{")))
        .map(|name| {
            format!(
                "impl crate::IntoMockValue<types::{name}> for types::builder::{name} {{\n\
                 fn into_mock_value(self) -> types::{name} {{\n\
                 crate::built(self.try_into(), \"{name}\")\n}}\n}}\n"
            )
        })
        .collect();
    let rewritten = rewritten.replacen(
        "pub mod operations {",
        &format!(
            "/// A builder of each type the mocks take, as the built value.\n\
             mod builders {{\nuse sonoran_cms::types;\n{impls}}}\n\npub mod operations {{"
        ),
        1,
    );
    reformat(spec_file, &rewritten)
}

/// The path, inside the mock crate, that the mocks name the client's types by.
const HTTPMOCK_CLIENT_PATH: &str = "sonoran_cms";

/// The path, inside the CLI crate, of the module that gives progenitor's CLI
/// the names it expects (`Client`, `ResponseValue`, a generic `Error`, `builder`,
/// `types`): `sonoran_cms::Error` is the client's own error type, not
/// progenitor's, so the crate root cannot serve.
const CLI_CLIENT_PATH: &str = "crate::sdk";

/// progenitor's CLI bounds every printed value by `schemars::JsonSchema`, which
/// the client's types do not derive (schemars would be in every user's build,
/// and the CLI prints JSON through serde alone); the bound is dropped.
const CLI_SCHEMA_BOUND: &str = "schemars::JsonSchema + ";

/// How many times progenitor's CLI writes that bound (the `CliConfig` trait's six
/// methods); another count means progenitor changed, and regen stops rather
/// than guess.
const CLI_SCHEMA_BOUNDS: usize = 6;

/// How progenitor's CLI sends each request.
const CLI_SEND: &str = "request.send().await";

/// Generates the clap command line (the `sonoran-cms-cli` crate's module) for
/// `spec` with the client's settings.
pub fn cli_source(
    spec_file: &str,
    spec: &OpenAPI,
    open_value_sets: &[crate::value_sets::OpenValueSet],
    header: &str,
) -> Result<String, CodegenError> {
    let tokens = run_generator(spec_file, |generator| generator.cli(spec, CLI_CLIENT_PATH))?;
    let body = format_rust(spec_file, tokens)?;
    let bounds = body.matches(CLI_SCHEMA_BOUND).count();
    if bounds != CLI_SCHEMA_BOUNDS {
        return Err(CodegenError::Generator {
            file: spec_file.to_owned(),
            message: format!(
                "progenitor's CLI wrote `{}` {bounds} times, not {CLI_SCHEMA_BOUNDS}: its output changed; \
                 see CLI_SCHEMA_BOUND in codegen/src/generate/progenitor.rs",
                CLI_SCHEMA_BOUND.trim_end_matches(" + ")
            ),
        });
    }
    let body = body.replace(CLI_SCHEMA_BOUND, "");
    // Its command handlers read progenitor's generic error; the builders' own
    // `send` is the client's, so they call the one kept under another name.
    let sends = body.matches(CLI_SEND).count();
    if sends == 0 {
        return Err(CodegenError::Generator {
            file: spec_file.to_owned(),
            message: format!(
                "progenitor's CLI no longer writes `{CLI_SEND}`: its output changed; see CLI_SEND in \
                 codegen/src/generate/progenitor.rs"
            ),
        });
    }
    let body = body.replace(CLI_SEND, &format!("request.{GENERATED_SEND}().await"));
    let body = json_body_excludes_body_flags(&body);
    // An open value set's flag takes any text (the API may add values) and
    // shows the known ones in `--help` and to the probe (the command line's
    // `OpenValueSetParser`).
    let body = open_value_sets.iter().fold(body, |body, set| {
        body.replace(
            &format!("::clap::value_parser!(types::{})", set.name),
            &format!(
                "crate::OpenValueSetParser::<types::{0}>::new(types::{0}::KNOWN_VALUES)",
                set.name
            ),
        )
    });
    // An id flag's 0 is refused with the client's own message (the command
    // line's `positive_id`), not clap's "would be zero for non-zero type".
    let body = body.replace(
        "::clap::value_parser!(::std::num::NonZeroU64)",
        "crate::positive_id()",
    );
    let body = reformat(spec_file, &body)?;
    Ok(normalize_newlines(&format!(
        "{header}\n{GENERATED_ALLOWS}\n{body}"
    )))
}

/// progenitor's CLI takes a whole body from `--json-body FILE` and each body
/// field from its own flag, and when both are given it silently sends the
/// file's body alone. Each operation's `--json-body` is made to conflict with
/// its body flags, so clap refuses the mix (exit 2) and says which flags clash.
/// The body flags are those whose value the operation's `execute_` function
/// puts in the body (`request.body_map(..)`).
fn json_body_excludes_body_flags(source: &str) -> String {
    const EXECUTE: &str = "pub async fn execute_";
    const JSON_BODY: &str = "::clap::Arg::new(\"json-body\")";
    let mut body_flags: Vec<(String, Vec<String>)> = Vec::new();
    for block in source.split(EXECUTE).skip(1) {
        let Some(operation) = block.split('(').next() else {
            continue;
        };
        let mut flags = Vec::new();
        for (at, _) in block.match_indices("get_one::<") {
            let rest = &block[at..];
            let Some(name_start) = rest.find(">(\"") else {
                continue;
            };
            let name = &rest[name_start + 3..];
            let Some(name_end) = name.find('"') else {
                continue;
            };
            let statement = &name[name_end..name.find(';').unwrap_or(name.len())];
            if statement.contains("body_map") {
                flags.push(name[..name_end].to_owned());
            }
        }
        body_flags.push((operation.trim().to_owned(), flags));
    }
    let mut written = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find("pub fn cli_") {
        written.push_str(&rest[..at]);
        let function = &rest[at..];
        let end = function[1..]
            .find("pub fn cli_")
            .map_or(function.len(), |next| next + 1);
        let (this, after) = function.split_at(end);
        let operation = this["pub fn cli_".len()..]
            .split('(')
            .next()
            .unwrap_or_default();
        let flags = body_flags
            .iter()
            .find(|(name, _)| name == operation)
            .map(|(_, flags)| flags.as_slice())
            .unwrap_or_default();
        if flags.is_empty() || !this.contains(JSON_BODY) {
            written.push_str(this);
        } else {
            let names = flags
                .iter()
                .map(|flag| format!("\"{flag}\""))
                .collect::<Vec<_>>()
                .join(", ");
            written.push_str(&this.replace(
                JSON_BODY,
                &format!("{JSON_BODY}.conflicts_with_all([{names}])"),
            ));
        }
        rest = after;
    }
    written.push_str(rest);
    written
}

/// Keeps progenitor's `send` of every builder under another name, hidden: the
/// `send` users call, returning the client's own error, and the builder's
/// `IntoFuture` are generated beside it (`generated_calls.rs`) from the same
/// spec, so `client.get_servers().await?` into `anyhow::Result` or
/// `Box<dyn Error>` shows the API's message, never progenitor's placeholder.
/// Adds `take_decoded`, which each `send_generated` uses for a success answer:
/// the hooks decoded it already, once. Returns how many builders were changed.
fn sends_the_client_error(file: &mut syn::File) -> usize {
    let Some((_, items)) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
        _ => None,
    }) else {
        return 0;
    };
    let mut changed = 0;
    for item in items.iter_mut() {
        let syn::Item::Impl(implementation) = item else {
            continue;
        };
        if implementation.trait_.is_some() {
            continue;
        }
        for member in &mut implementation.items {
            let syn::ImplItem::Fn(function) = member else {
                continue;
            };
            if function.sig.ident != "send" || success_type(&function.sig.output).is_none() {
                continue;
            }
            function.sig.ident = syn::Ident::new(GENERATED_SEND, function.sig.ident.span());
            function
                .attrs
                .retain(|attribute| !attribute.path().is_ident("doc"));
            function.attrs.push(syn::parse_quote! {
                #[doc = " progenitor's own send, whose error is progenitor's generic one; call `send` or `.await` the builder instead."]
            });
            function.attrs.push(syn::parse_quote!(#[doc(hidden)]));
            changed += 1;
        }
    }
    file.items.push(syn::parse_quote! {
        /// A success answer as its type: the one the hooks decoded (once, on the
        /// happy path) when the response carries it, else decoded here.
        async fn take_decoded<T: ::serde::de::DeserializeOwned + 'static>(
            response: reqwest::Response,
        ) -> Result<ResponseValue<T>, Error<types::Problem>> {
            let decoded = response
                .extensions()
                .get::<crate::spec::DecodedAnswer>()
                .and_then(crate::spec::DecodedAnswer::take::<T>);
            match decoded {
                Some(value) => Ok(ResponseValue::new(value, response.status(), response.headers().clone())),
                None => ResponseValue::from_response(response).await,
            }
        }
    });
    changed
}

/// The arm progenitor writes for a JSON success answer, and what it becomes.
const DECODED_ARM: (&str, &str) = (
    "200..=299 => ResponseValue::from_response(response).await,",
    "200..=299 => super::take_decoded(response).await,",
);

/// Makes every value of several forms that has two forms of one kind (two
/// objects, two lists of objects) read the form that names the most of the
/// body's members: serde's untagged derive takes the first form that decodes,
/// and a form whose members are all optional decodes anything, silently
/// dropping what another form means (a clock-in list with one odd field read
/// as activity rows, its `startTime` gone). The derived `Deserialize` is
/// replaced by one that ranks the forms (`crate::several_forms::ranks_first`),
/// names in a warning a member the chosen form cannot keep
/// (`note_dropped`), and fails as serde does when the first form does not
/// fit, so the decode error names that form's field.
fn forms_ranked_by_members(file: &mut syn::File) -> Result<(), String> {
    // Every union: each form is then read through `crate::objects_only` (a
    // struct only from an object), which serde's own untagged derive, reading
    // its forms from buffered content, would bypass.
    let unions: Vec<crate::bodies::Union> = crate::bodies::unions_in(file);
    if let Some(union) = unions
        .iter()
        .find(|union| union.forms.len() != union.variants)
    {
        // The replacement reads forms only: a variant that holds no one value
        // could never be produced, so regen stops rather than drop it.
        return Err(format!(
            "the value of several forms `{}` has a variant that is not one value; its members cannot be kept \
             (see forms_ranked_by_members in codegen/src/generate/progenitor.rs)",
            union.name
        ));
    }
    let Some((_, items)) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    }) else {
        return Ok(());
    };
    let mut readers: Vec<syn::Item> = Vec::new();
    for item in items.iter_mut() {
        let syn::Item::Enum(enumeration) = item else {
            continue;
        };
        let Some(union) = unions.iter().find(|union| enumeration.ident == union.name) else {
            continue;
        };
        edit_derives(&mut enumeration.attrs, |derived| {
            derived
                .into_iter()
                .filter(|path| derive_name(path) != "Deserialize")
                .collect()
        });
        let name = &enumeration.ident;
        let shapes = union.forms.iter().map(|form| match &form.members {
            crate::bodies::FormMembers::Object(names) => {
                quote!(crate::several_forms::Members::Object(&[#(#names),*]))
            }
            crate::bodies::FormMembers::ListOf(names) => {
                quote!(crate::several_forms::Members::ListOf(&[#(#names),*]))
            }
            crate::bodies::FormMembers::Other => quote!(crate::several_forms::Members::Other),
        });
        let union_name = name.to_string();
        let attempts = union.forms.iter().enumerate().map(|(index, form)| {
            let variant = syn::Ident::new(&form.variant, proc_macro2::Span::call_site());
            let payload = &form.payload;
            quote! {
                if crate::several_forms::ranks_first(&value, Self::FORMS, #index) {
                    if let Ok(form) = crate::objects_only::from_value::<#payload>(&value) {
                        crate::several_forms::note_dropped(&value, Self::FORMS, #index, #union_name);
                        return Ok(Self::#variant(form));
                    }
                }
            }
        });
        let no_form = format!("data did not match any variant of untagged enum {name}");
        readers.push(syn::parse_quote! {
            impl #name {
                /// What each form names, in the order they are tried.
                pub(crate) const FORMS: &'static [crate::several_forms::Members] = &[#(#shapes),*];
            }
        });
        readers.push(syn::parse_quote! {
            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
                where
                    D: ::serde::Deserializer<'de>,
                {
                    let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                    #(#attempts)*
                    Err(<D::Error as ::serde::de::Error>::custom(#no_form))
                }
            }
        });
    }
    items.extend(readers);
    Ok(())
}

/// Gives each paged operation's builder `paging_window()`: the offset and
/// size its setters hold (`.skip(..)`, `.take(..)`), so that `.items(..)`
/// streams the window the caller set rather than ignore it (the builder's
/// fields are private to progenitor's module).
fn paging_windows(
    file: &mut syn::File,
    paged: &[crate::check::paging::Paged],
) -> Result<(), String> {
    use heck::ToUpperCamelCase as _;
    let Some((_, items)) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
        _ => None,
    }) else {
        return if paged.is_empty() {
            Ok(())
        } else {
            Err("progenitor wrote no `builder` module for the paged operations".to_owned())
        };
    };
    for paged in paged {
        let builder = format_ident!("{}", paged.operation_id.to_upper_camel_case());
        let has_builder = items
            .iter()
            .any(|item| matches!(item, syn::Item::Struct(structure) if structure.ident == builder));
        if !has_builder {
            return Err(format!(
                "no builder `{builder}` for the paged operation `{}` (see paging_windows in \
                 codegen/src/generate/progenitor.rs)",
                paged.operation_id
            ));
        }
        let offset = format_ident!("{}", crate::naming::rust_snake_name(&paged.offset));
        let size = format_ident!("{}", crate::naming::rust_snake_name(&paged.size));
        items.push(syn::parse_quote! {
            impl<'a> #builder<'a> {
                /// The offset and size set on this builder, for `.items(..)`:
                /// where the stream starts and how many items it yields at most.
                pub(crate) fn paging_window(&self) -> Result<(Option<u64>, Option<u64>), String> {
                    Ok((self.#offset.clone()?.map(u64::from), self.#size.clone()?.map(u64::from)))
                }
            }
        });
    }
    Ok(())
}

/// Runs progenitor. Lint should make a panic impossible; if one happens anyway it is
/// caught and reported as a lint gap rather than taking the caller down.
fn run_progenitor(
    spec_file: &str,
    spec: &OpenAPI,
) -> Result<proc_macro2::TokenStream, CodegenError> {
    run_generator(spec_file, |generator| generator.generate_tokens(spec))
}

/// Runs one of progenitor's generators with the client's settings, turning an
/// error or a panic into a `CodegenError` naming `spec_file`.
fn run_generator(
    spec_file: &str,
    generate: impl FnOnce(&mut Generator) -> Result<proc_macro2::TokenStream, progenitor::Error>,
) -> Result<proc_macro2::TokenStream, CodegenError> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        generate(&mut Generator::new(&settings()))
    }));
    match outcome {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(error)) => Err(CodegenError::Generator {
            file: spec_file.to_owned(),
            message: error.to_string(),
        }),
        Err(payload) => Err(CodegenError::GeneratorPanicked {
            file: spec_file.to_owned(),
            message: panic_message(payload.as_ref()),
        }),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|message| (*message).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_are_normalized() {
        assert_eq!(normalize_newlines("a\r\nb"), "a\nb\n");
        assert_eq!(normalize_newlines("a\n\n\n"), "a\n");
    }
}
