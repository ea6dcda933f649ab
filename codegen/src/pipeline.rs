//! The whole pipeline, from the files in `openapi/` to every generated file, in
//! memory: nothing is written until every step has succeeded, so a broken spec or
//! enrichment leaves every file as it was.

use std::path::Path;

use crate::check::reviewed;
use crate::error::CodegenError;
use crate::load::{self, SourceText};
use crate::outputs::GeneratedFile;
use crate::{
    bodies, collections, enrich, generate, lint, model, operation_docs, operation_table, value_sets,
};

// Where each input and output lives, for callers that name them by the
// pipeline (`codegen::pipeline::ENRICHED_SPEC_PATH`).
pub use crate::paths::*;

/// The pipeline's inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// The docs' spec ([`DOCS_SPEC_PATH`]).
    pub docs_spec: SourceText,
    /// The schemas derived from the docs' examples ([`DERIVED_PATH`]).
    pub derived: SourceText,
    /// The evidence overlays ([`EVIDENCE_DIR`]), in the order they apply.
    pub evidence: Vec<SourceText>,
    /// The enrichment overlay ([`ENRICHMENT_PATH`]).
    pub enrichment: SourceText,
    /// The docs' shapes beneath the evidence corrections as last reviewed
    /// ([`reviewed::REVIEWED_PATH`]); `None` when there is no such file (no
    /// review recorded: every restating action then stops regen).
    pub reviewed: Option<SourceText>,
}

impl Sources {
    /// Reads the inputs from their places below `workspace_root`.
    pub fn read(workspace_root: &Path) -> Result<Self, CodegenError> {
        Ok(Self {
            docs_spec: SourceText::read(workspace_root, DOCS_SPEC_PATH)?,
            derived: SourceText::read(workspace_root, DERIVED_PATH)?,
            evidence: read_evidence(workspace_root)?,
            enrichment: SourceText::read(workspace_root, ENRICHMENT_PATH)?,
            reviewed: workspace_root
                .join(reviewed::REVIEWED_PATH)
                .exists()
                .then(|| SourceText::read(workspace_root, reviewed::REVIEWED_PATH))
                .transpose()?,
        })
    }

    /// Every input file's name, in the order the pipeline applies them.
    pub fn names(&self) -> Vec<&str> {
        let mut names = vec![self.docs_spec.name.as_str(), self.derived.name.as_str()];
        names.extend(self.evidence.iter().map(|file| file.name.as_str()));
        names.push(self.enrichment.name.as_str());
        names
    }
}

/// The `*.overlay.yaml` files in [`EVIDENCE_DIR`], sorted by name. A missing
/// folder means no evidence (a cut-down spec in a test).
fn read_evidence(workspace_root: &Path) -> Result<Vec<SourceText>, CodegenError> {
    let folder = workspace_root.join(EVIDENCE_DIR);
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(CodegenError::Io {
                path: folder,
                action: "list",
                source,
            });
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CodegenError::Io {
            path: folder.clone(),
            action: "list",
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".overlay.yaml") {
            names.push(name);
        }
    }
    names.sort();
    names
        .iter()
        .map(|name| SourceText::read(workspace_root, &format!("{EVIDENCE_DIR}/{name}")))
        .collect()
}

/// Runs load → derive → evidence → enrich → the rules for lists and maps → each
/// operation's generated docs → lint → generate → format and returns every generated file, in the order they should
/// be written.
pub fn generate_files(sources: &Sources) -> Result<Vec<GeneratedFile>, CodegenError> {
    let (docs_value, docs_with_derived) = docs_with_derived(sources)?;
    let evidence = parsed_evidence(sources)?;
    // An evidence correction that restates the docs must have been reviewed
    // against the docs as they are now: a docs change beneath it stops here.
    reviewed::check(
        &docs_with_derived,
        &evidence,
        &parsed_reviewed(sources)?,
        EVIDENCE_DIR,
    )?;
    let mut typed_value = docs_with_derived;
    for ((_, evidence_value), evidence_file) in evidence.iter().zip(&sources.evidence) {
        typed_value = enrich::apply_overlay(
            &typed_value,
            Some(&docs_value),
            &evidence_file.name,
            evidence_value,
        )?;
    }
    let overlay_value = load::parse_yaml(&sources.enrichment)?;
    let enriched_value = enrich::apply_overlay(
        &typed_value,
        Some(&docs_value),
        &sources.enrichment.name,
        &overlay_value,
    )?;
    let mut enriched_value = enriched_value;
    collections::make_optional_collections_nullable(&mut enriched_value);
    collections::keep_additional_members(&mut enriched_value);
    // Every extension, read once into the model that the docs and every
    // generator use (lint reports what is malformed in it).
    let model = model::read(&load::openapi(ENRICHED_SPEC_PATH, &enriched_value)?);
    operation_docs::describe_operations(&mut enriched_value, &model);
    let enriched_spec = load::openapi(ENRICHED_SPEC_PATH, &enriched_value)?;
    lint::check_with_model(ENRICHED_SPEC_PATH, &enriched_value, &enriched_spec, &model)?;

    let enriched_header = format!(
        "# Generated by `cargo xtask regen` from {}, {EVIDENCE_DIR}/ and {}.\n\
         # Do not edit by hand: change those files and run `cargo xtask regen`.\n",
        sources.docs_spec.name, sources.enrichment.name
    );
    let client_header = format!(
        "// Generated by `cargo xtask regen` (progenitor) from {ENRICHED_SPEC_PATH}.\n\
         // Do not edit by hand: change the files in openapi/ and run `cargo xtask regen`.\n"
    );
    // Rustdoc and the command line's help say what a user needs; where each
    // fact comes from stays in the spec and the overlays.
    let mut documented_value = enriched_value.clone();
    operation_docs::without_provenance(&mut documented_value);
    let documented_spec = load::openapi(ENRICHED_SPEC_PATH, &documented_value)?;
    let open_value_sets = value_sets::read(&documented_value);
    let client = generate::client_source(
        ENRICHED_SPEC_PATH,
        &documented_spec,
        &open_value_sets,
        &client_header,
    )?;
    // The client is parsed once, here; every reader of its items takes the
    // parsed file, and a client that does not parse stops regen.
    let client_file = syn::parse_file(&client).map_err(|error| CodegenError::Format {
        file: GENERATED_CLIENT_PATH.to_owned(),
        message: error.to_string(),
    })?;
    let mut operation_bodies = bodies::read(&enriched_spec);
    operation_bodies.unions = bodies::unions_in(&client_file);
    operation_bodies.paged = model.paged();
    let operations_source = operation_table::source(
        ENRICHED_SPEC_PATH,
        &enriched_value,
        &model,
        &operation_bodies,
        &client_header,
    )?;
    let one_of_source =
        generate::identity_setters::source(ENRICHED_SPEC_PATH, &model.groups(), &client_header)?;
    let calls_source = bodies::source(
        ENRICHED_SPEC_PATH,
        &bodies::sends_in(&client_file),
        &operation_bodies,
        &client_file,
        &client_header,
    )?;
    let value_sets_source =
        value_sets::source(ENRICHED_SPEC_PATH, &open_value_sets, &client_header)?;
    let httpmock_source = generate::httpmock_source(
        ENRICHED_SPEC_PATH,
        &documented_spec,
        &client,
        &client_header,
    )?;
    // The command line's help shows each operation's docs as plain text,
    // without the Rust example, which is for the library.
    let mut cli_value = documented_value.clone();
    operation_docs::for_command_line(&mut cli_value);
    let cli_spec = load::openapi(ENRICHED_SPEC_PATH, &cli_value)?;
    let cli_source = generate::cli_source(
        ENRICHED_SPEC_PATH,
        &cli_spec,
        &open_value_sets,
        &client_header,
    )?;

    Ok(vec![
        yaml_file(ENRICHED_SPEC_PATH, &enriched_header, &enriched_value)?,
        GeneratedFile {
            relative_path: GENERATED_CLIENT_PATH.to_owned(),
            contents: client,
        },
        GeneratedFile {
            relative_path: GENERATED_OPERATIONS_PATH.to_owned(),
            contents: operations_source,
        },
        GeneratedFile {
            relative_path: GENERATED_ONE_OF_PATH.to_owned(),
            contents: one_of_source,
        },
        GeneratedFile {
            relative_path: GENERATED_CALLS_PATH.to_owned(),
            contents: calls_source,
        },
        GeneratedFile {
            relative_path: GENERATED_VALUE_SETS_PATH.to_owned(),
            contents: value_sets_source,
        },
        GeneratedFile {
            relative_path: GENERATED_HTTPMOCK_PATH.to_owned(),
            contents: httpmock_source,
        },
        GeneratedFile {
            relative_path: GENERATED_CLI_PATH.to_owned(),
            contents: cli_source,
        },
    ])
}

/// The docs spec as JSON, and the docs with the schemas derived from their
/// examples (the spec the evidence corrects, and its reviews compare against).
fn docs_with_derived(
    sources: &Sources,
) -> Result<(serde_json::Value, serde_json::Value), CodegenError> {
    let docs_value = load::parse_yaml(&sources.docs_spec)?;
    // Type-check the docs spec on its own first, so a shape error names the docs
    // file rather than the enriched one.
    load::openapi(&sources.docs_spec.name, &docs_value)?;
    let derived_value = load::parse_yaml(&sources.derived)?;
    let docs_with_derived =
        enrich::apply_overlay(&docs_value, None, &sources.derived.name, &derived_value)?;
    Ok((docs_value, docs_with_derived))
}

/// Each evidence overlay, parsed, by its file name within [`EVIDENCE_DIR`].
pub fn parsed_evidence(
    sources: &Sources,
) -> Result<Vec<(String, serde_json::Value)>, CodegenError> {
    sources
        .evidence
        .iter()
        .map(|file| {
            let name = file
                .name
                .rsplit('/')
                .next()
                .unwrap_or(file.name.as_str())
                .to_owned();
            Ok((name, load::parse_yaml(file)?))
        })
        .collect()
}

/// The recorded reviews, or none when the file does not exist.
fn parsed_reviewed(sources: &Sources) -> Result<reviewed::Reviewed, CodegenError> {
    let Some(file) = &sources.reviewed else {
        return Ok(reviewed::Reviewed::new());
    };
    let value = load::parse_yaml(file)?;
    if value.is_null() {
        return Ok(reviewed::Reviewed::new());
    }
    serde_path_to_error::deserialize(&value).map_err(|error| CodegenError::Document {
        file: file.name.clone(),
        pointer: json_pointer_of(error.path()),
        message: format!(
            "{}: each overlay file maps docs pointers to shapes (field: type)",
            error.inner()
        ),
    })
}

/// A serde path (`a.b[1]`) as a JSON pointer.
fn json_pointer_of(path: &serde_path_to_error::Path) -> String {
    let mut pointer = String::new();
    for segment in path.iter() {
        let token = match segment {
            serde_path_to_error::Segment::Seq { index } => index.to_string(),
            serde_path_to_error::Segment::Map { key } => key.clone(),
            serde_path_to_error::Segment::Enum { variant } => variant.clone(),
            serde_path_to_error::Segment::Unknown => "?".to_owned(),
        };
        pointer = crate::json_pointer::child(&pointer, &token);
    }
    crate::json_pointer::display(&pointer).to_owned()
}

/// The members the docs show in each operation's success answer that the
/// generated type does not have, for the change report: `enriched` is the
/// enriched spec (as JSON) that `sources` give.
pub fn docs_fields_not_in_types(
    sources: &Sources,
    enriched: &serde_json::Value,
) -> Result<std::collections::BTreeMap<String, Vec<String>>, CodegenError> {
    let (_, docs_with_derived) = docs_with_derived(sources)?;
    Ok(reviewed::docs_fields_not_in_types(
        &docs_with_derived,
        enriched,
    ))
}

/// The values the docs' answer examples show that an open value set of the
/// enriched spec (`enriched`, the one `sources` give) does not list, per
/// operationId.
pub fn docs_values_not_in_value_sets(
    sources: &Sources,
    enriched: &serde_json::Value,
) -> Result<std::collections::BTreeMap<String, Vec<reviewed::UnlistedValue>>, CodegenError> {
    let (_, docs_with_derived) = docs_with_derived(sources)?;
    Ok(reviewed::docs_values_not_in_value_sets(
        &docs_with_derived,
        enriched,
    ))
}

/// The evidence actions the docs (as `sources` give them) now agree with,
/// against `enriched`, the enriched spec they give: candidates to retire.
pub fn evidence_the_docs_agree_with(
    sources: &Sources,
    enriched: &serde_json::Value,
) -> Result<Vec<reviewed::Restated>, CodegenError> {
    let (_, docs_with_derived) = docs_with_derived(sources)?;
    Ok(reviewed::agreeing(
        &docs_with_derived,
        &parsed_evidence(sources)?,
        enriched,
    ))
}

/// The file `cargo xtask evidence review` writes: the docs' shape beneath every
/// evidence action that restates the docs, as they are now, for a maintainer
/// who has checked each action against them.
pub fn reviewed_file(sources: &Sources) -> Result<GeneratedFile, CodegenError> {
    let (_, docs_with_derived) = docs_with_derived(sources)?;
    let recorded = reviewed::record(&docs_with_derived, &parsed_evidence(sources)?);
    let value = serde_json::to_value(&recorded).map_err(|error| CodegenError::Format {
        file: reviewed::REVIEWED_PATH.to_owned(),
        message: error.to_string(),
    })?;
    yaml_file(
        reviewed::REVIEWED_PATH,
        "# The docs' shape beneath each evidence action that replaces or restates a docs-derived\n\
         # schema, as a maintainer last reviewed it: overlay file, the docs' JSON pointer, then each\n\
         # field's path and type. `cargo xtask regen` stops when the docs there change; check the\n\
         # action against the docs, update it, then rewrite this file with `cargo xtask evidence review`.\n",
        &value,
    )
}

/// The files `cargo xtask import-docs` writes: the docs spec and the overlay of
/// schemas derived from its examples.
pub fn imported_files(
    imported: &crate::docs_import::ImportedDocs,
) -> Result<Vec<GeneratedFile>, CodegenError> {
    Ok(vec![
        docs_spec_file(&imported.spec)?,
        derived_overlay_file(&imported.derived)?,
    ])
}

/// A generated YAML file: `header` (comment lines), then `value`.
fn yaml_file(
    relative_path: &str,
    header: &str,
    value: &serde_json::Value,
) -> Result<GeneratedFile, CodegenError> {
    let yaml = serde_yaml::to_string(value).map_err(|error| CodegenError::Document {
        file: relative_path.to_owned(),
        pointer: "/".to_owned(),
        message: format!("cannot be written as YAML: {error}"),
    })?;
    Ok(GeneratedFile {
        relative_path: relative_path.to_owned(),
        contents: generate::normalize_newlines(&format!("{header}{yaml}")),
    })
}

fn derived_overlay_file(overlay: &serde_json::Value) -> Result<GeneratedFile, CodegenError> {
    let header = "# Schemas derived from the docs' tables and examples, written by\n\
                  # `cargo xtask import-docs <docs folder>` (rules: codegen/src/derive.rs).\n\
                  # Do not edit by hand: override a derived schema in enrichment.overlay.yaml.\n";
    yaml_file(DERIVED_PATH, header, overlay)
}

/// The docs spec file `cargo xtask import-docs` writes, from the merged document.
pub fn docs_spec_file(spec: &serde_json::Value) -> Result<GeneratedFile, CodegenError> {
    let header = "# The Sonoran CMS v2 API as its published docs describe it, written by\n\
                  # `cargo xtask import-docs <docs folder>`: every endpoint page's OpenAPI block,\n\
                  # completed by the page's tables, response example and rate limit.\n\
                  # Do not edit by hand: what the docs leave out belongs in enrichment.overlay.yaml.\n";
    yaml_file(DOCS_SPEC_PATH, header, spec)
}
