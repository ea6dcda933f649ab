//! Generation: runs progenitor on a linted spec and formats the result with
//! prettyplease, deterministically (LF line endings, trailing newline).

use std::panic::{AssertUnwindSafe, catch_unwind};

use openapiv3::OpenAPI;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use quote::quote;

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
        .with_hooks(HooksMode::Expected);
    settings
}

/// Generates the client module's source for `spec` (named `spec_file` in messages),
/// headed by `header` (comment lines, each starting with `//`).
pub fn client_source(
    spec_file: &str,
    spec: &OpenAPI,
    header: &str,
) -> Result<String, CodegenError> {
    let tokens = run_progenitor(spec_file, spec)?;
    // progenitor documents each operation with a usage sketch marked `ignore`; it
    // is not compilable on its own, and an ignored doctest is noise in every test
    // run, so it is shown as text instead.
    let body = format_rust(spec_file, tokens)?.replace("\n```ignore\n", "\n```text\n");
    Ok(normalize_newlines(&format!(
        "{header}\n{GENERATED_ALLOWS}\n{body}"
    )))
}

/// Generates the typed `httpmock` extension (the `sonoran-cms-httpmock` crate's
/// module) for `spec` with the client's settings, so its types are the client's.
pub fn httpmock_source(
    spec_file: &str,
    spec: &OpenAPI,
    header: &str,
) -> Result<String, CodegenError> {
    let tokens = run_generator(spec_file, |generator| {
        generator.httpmock(spec, HTTPMOCK_CLIENT_PATH)
    })?;
    let body = format_rust(spec_file, tokens)?;
    Ok(normalize_newlines(&format!(
        "{header}\n{GENERATED_ALLOWS}\n{body}"
    )))
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

/// Generates the clap command line (the `sonoran-cms-cli` crate's module) for
/// `spec` with the client's settings.
pub fn cli_source(spec_file: &str, spec: &OpenAPI, header: &str) -> Result<String, CodegenError> {
    let tokens = run_generator(spec_file, |generator| generator.cli(spec, CLI_CLIENT_PATH))?;
    let body = format_rust(spec_file, tokens)?;
    let bounds = body.matches(CLI_SCHEMA_BOUND).count();
    if bounds != CLI_SCHEMA_BOUNDS {
        return Err(CodegenError::Generator {
            file: spec_file.to_owned(),
            message: format!(
                "progenitor's CLI wrote `{}` {bounds} times, not {CLI_SCHEMA_BOUNDS}: its output changed; \
                 see CLI_SCHEMA_BOUND in codegen/src/generate.rs",
                CLI_SCHEMA_BOUND.trim_end_matches(" + ")
            ),
        });
    }
    let body = body.replace(CLI_SCHEMA_BOUND, "");
    Ok(normalize_newlines(&format!(
        "{header}\n{GENERATED_ALLOWS}\n{body}"
    )))
}

/// Formats generated tokens as a Rust file with prettyplease (deterministic output).
pub(crate) fn format_rust(
    spec_file: &str,
    tokens: proc_macro2::TokenStream,
) -> Result<String, CodegenError> {
    let file = syn::parse2::<syn::File>(tokens).map_err(|error| CodegenError::Format {
        file: spec_file.to_owned(),
        message: error.to_string(),
    })?;
    Ok(prettyplease::unparse(&file))
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

/// LF line endings and exactly one trailing newline, whatever the platform.
pub fn normalize_newlines(text: &str) -> String {
    let mut normalized = text.replace("\r\n", "\n");
    while normalized.ends_with("\n\n") {
        normalized.pop();
    }
    if !normalized.ends_with('\n') {
        normalized.push('\n');
    }
    normalized
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
