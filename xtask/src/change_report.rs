//! The change report: what the enriched spec's changes do to users of the crate,
//! printed by `regen` (against the spec on disk), `import-docs` (the spec the new
//! docs would give) and `changes --from REV` (against a commit).

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};
use codegen::pipeline::{DERIVED_PATH, DOCS_SPEC_PATH, ENRICHED_SPEC_PATH};
use codegen::{GeneratedFile, SourceText, Sources};
use serde_json::Value;

/// The crate's version now (the workspace's), to name the next one.
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn parse(name: &str, text: &str) -> anyhow::Result<Value> {
    Ok(codegen::load::parse_yaml(&SourceText::new(name, text))?)
}

/// The enriched spec among generated `files`.
fn enriched_of(files: &[GeneratedFile]) -> anyhow::Result<Value> {
    let file = files
        .iter()
        .find(|file| file.relative_path == ENRICHED_SPEC_PATH)
        .context("the pipeline wrote no enriched spec")?;
    parse(&format!("{ENRICHED_SPEC_PATH} (new)"), &file.contents)
}

/// Prints the report of `new` against `old` under a heading.
fn print_report(heading: &str, old: (&str, &Value), new: (&str, &Value)) -> anyhow::Result<()> {
    let report = codegen::changes::compare(old, new)?;
    if report.is_empty() {
        println!("{}", report.summary(VERSION));
    } else {
        println!("## {heading}\n\n{}", report.render(VERSION));
    }
    Ok(())
}

/// `regen`: the enriched spec about to be written against the one on disk (none
/// on disk: nothing to compare).
pub fn print_against_disk(
    workspace_root: &Path,
    sources: &Sources,
    files: &[GeneratedFile],
) -> anyhow::Result<()> {
    let new = enriched_of(files)?;
    let path = workspace_root.join(ENRICHED_SPEC_PATH);
    if let Ok(on_disk) = std::fs::read_to_string(&path) {
        let old = parse(ENRICHED_SPEC_PATH, &on_disk)?;
        print_report(
            "Changes for users of the crate",
            (ENRICHED_SPEC_PATH, &old),
            ("the regenerated spec", &new),
        )?;
    }
    print_docs_fields_not_in_types(sources, &new)
}

/// The members the docs show in success answers that the types do not have,
/// one line per operation, so a field the docs added (or the evidence dropped)
/// is seen at every regen.
fn print_docs_fields_not_in_types(sources: &Sources, enriched: &Value) -> anyhow::Result<()> {
    let missing = codegen::pipeline::docs_fields_not_in_types(sources, enriched)?;
    if missing.is_empty() {
        println!("Every member the docs show in a success answer is in its type.");
        return Ok(());
    }
    let fields: usize = missing.values().map(Vec::len).sum();
    println!(
        "Docs fields the types do not have ({fields} in {} operations; the evidence dropped or renamed them, or the docs added them):",
        missing.len()
    );
    for (operation, fields) in &missing {
        println!("- {operation}: {}", fields.join(", "));
    }
    Ok(())
}

/// `import-docs`: the enriched spec the imported docs would give (the pipeline
/// run on them with the overlays on disk) against the one on disk. When the new
/// docs stop the pipeline, says so: `regen` will report why.
pub fn print_for_import(workspace_root: &Path, imported: &[GeneratedFile]) -> anyhow::Result<()> {
    let mut sources = Sources::read(workspace_root)?;
    for file in imported {
        if file.relative_path == DOCS_SPEC_PATH {
            sources.docs_spec = SourceText::new(DOCS_SPEC_PATH, file.contents.clone());
        } else if file.relative_path == DERIVED_PATH {
            sources.derived = SourceText::new(DERIVED_PATH, file.contents.clone());
        }
    }
    match codegen::generate_files(&sources) {
        Ok(files) => print_against_disk(workspace_root, &sources, &files),
        Err(error) => {
            println!(
                "no change report: with the new docs the pipeline stops ({error}); `cargo xtask regen` says where"
            );
            Ok(())
        }
    }
}

/// `changes --from REV`: the enriched spec of commit `revision` against the
/// working tree's.
pub fn since(workspace_root: &Path, revision: &str) -> anyhow::Result<()> {
    let shown = Command::new("git")
        .arg("show")
        .arg(format!("{revision}:{ENRICHED_SPEC_PATH}"))
        .current_dir(workspace_root)
        .output()
        .context("running git show")?;
    if !shown.status.success() {
        bail!(
            "git could not show {ENRICHED_SPEC_PATH} at `{revision}`: {}",
            String::from_utf8_lossy(&shown.stderr).trim()
        );
    }
    let old_name = format!("{ENRICHED_SPEC_PATH} at {revision}");
    let old = parse(&old_name, &String::from_utf8_lossy(&shown.stdout))?;
    let current = std::fs::read_to_string(workspace_root.join(ENRICHED_SPEC_PATH))
        .with_context(|| format!("reading {ENRICHED_SPEC_PATH}"))?;
    let new = parse(ENRICHED_SPEC_PATH, &current)?;
    print_report(
        &format!("Changes for users of the crate since {revision}"),
        (&old_name, &old),
        (ENRICHED_SPEC_PATH, &new),
    )
}
