//! `cargo xtask upstream`: the sources the spec learns from, pinned in
//! [`PINS_PATH`] by the commit each was last imported from and a SHA-256 of
//! exactly the files read; `status` says what moved in checkouts of them, and
//! `sync` turns a move into one pull request (the tree, `title.txt` and
//! `body.md`).
//!
//! Change is found by content, not by commit: a checkout need not carry the
//! pinned commit in its history, and a commit that leaves the files read as
//! they were changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context as _;
use codegen::docs_import::DocsPage;
use codegen::pipeline::{DERIVED_PATH, DOCS_SPEC_PATH, ENRICHED_SPEC_PATH};
use codegen::report::contract;
use codegen::{FileStatus, GeneratedFile, Mode, SourceText, Sources};
use serde::Deserialize;
use serde_json::Value;
use sha2::Digest as _;

/// The pins, from the workspace root.
pub const PINS_PATH: &str = "openapi/upstream.toml";

/// The crate's version now (the workspace's), to name the next release.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `sync`'s exit code when regen stopped (the body says why).
pub const EXIT_REGEN_STOPPED: u8 = 1;
/// `status`' and `sync`'s exit code for bad arguments, checkouts or pins.
pub const EXIT_BAD_INPUT: u8 = 2;
/// `sync`'s exit code when the command itself failed (the tree could not be
/// written, an I/O error): the tree may be partly written; see the message.
pub const EXIT_FAILED: u8 = 3;

/// What a checkout or the workspace lacks: the command exits with
/// [`EXIT_BAD_INPUT`] and changes nothing.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

fn bad_input(message: String) -> anyhow::Error {
    anyhow::Error::new(BadInput(message))
}

/// The command itself failed after its checks (the tree could not be
/// written): exit [`EXIT_FAILED`].
#[derive(Debug)]
pub struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

fn failed(message: String) -> anyhow::Error {
    anyhow::Error::new(Failed(message))
}

/// One pinned source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// `owner/name` on GitHub.
    pub repository: String,
    /// The folder read, from the repository's root (the docs).
    #[serde(default)]
    pub folder: Option<String>,
    /// The files read, from the repository's root (the JS client).
    #[serde(default)]
    pub files: Vec<String>,
    /// The commit last imported from (`unknown` when the import came from a
    /// folder outside a git checkout).
    pub commit: String,
    /// SHA-256 of the files read (see [`content_hash`]).
    pub sha256: String,
}

/// Every pinned source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pins {
    /// The docs repository's v2 endpoint pages.
    pub docs: Pin,
    /// Sonoran.js: its CMS v2 calls and the route constants they use.
    pub js: Pin,
}

impl Pins {
    /// Reads [`PINS_PATH`] below `workspace_root`.
    pub fn read(workspace_root: &Path) -> anyhow::Result<Self> {
        let path = workspace_root.join(PINS_PATH);
        let text = std::fs::read_to_string(&path)
            .map_err(|error| bad_input(format!("{}: {error}", path.display())))?;
        Self::parse(&text)
    }

    /// Parses the pins file's text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let pins: Self =
            toml::from_str(text).map_err(|error| bad_input(format!("{PINS_PATH}: {error}")))?;
        if pins.docs.folder.is_none() {
            return Err(bad_input(format!(
                "{PINS_PATH}: [docs] names no `folder` (the v2 endpoint pages' folder)"
            )));
        }
        if pins.js.files.is_empty() {
            return Err(bad_input(format!(
                "{PINS_PATH}: [js] names no `files` (the client's CMS v2 calls)"
            )));
        }
        Ok(pins)
    }

    /// The file's text: a fixed layout with comments, so a pin change is a
    /// two-line diff.
    pub fn render(&self) -> String {
        let strings = |items: &[String]| {
            items
                .iter()
                .map(|item| format!("{item:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "# The upstream sources the spec learns from, each pinned by the commit it was\n\
             # last imported from and a SHA-256 of exactly the files read (each file's path,\n\
             # length and bytes, in path order). Change is found by the hash: a checkout need\n\
             # not carry the pinned commit. Written by `cargo xtask upstream sync` and\n\
             # `cargo xtask import-docs`; compared by `cargo xtask upstream status`.\n\
             \n\
             # The published API docs: every page under this folder is imported.\n\
             [docs]\n\
             repository = {:?}\n\
             folder = {:?}\n\
             commit = {:?}\n\
             sha256 = {:?}\n\
             \n\
             # Sonoran.js: its CMS v2 calls and the route constants they use.\n\
             [js]\n\
             repository = {:?}\n\
             files = [{}]\n\
             commit = {:?}\n\
             sha256 = {:?}\n",
            self.docs.repository,
            self.docs.folder.as_deref().unwrap_or_default(),
            self.docs.commit,
            self.docs.sha256,
            self.js.repository,
            strings(&self.js.files),
            self.js.commit,
            self.js.sha256,
        )
    }

    fn file(&self) -> GeneratedFile {
        GeneratedFile {
            relative_path: PINS_PATH.to_owned(),
            contents: self.render(),
        }
    }
}

/// The SHA-256 of files read, as lower-case hex: for each file in path order,
/// its path, a NUL, its length in bytes, a NUL, and its bytes.
pub fn content_hash<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut sorted: Vec<(&str, &[u8])> = files.into_iter().collect();
    sorted.sort_by(|left, right| left.0.cmp(right.0));
    let mut hasher = sha2::Sha256::new();
    for (path, bytes) in sorted {
        hasher.update(path.as_bytes());
        hasher.update(b"\0");
        hasher.update(bytes.len().to_string().as_bytes());
        hasher.update(b"\0");
        hasher.update(bytes);
    }
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The hash of the docs pages the importer reads.
pub fn docs_hash(pages: &[DocsPage]) -> String {
    content_hash(
        pages
            .iter()
            .map(|page| (page.relative_path.as_str(), page.text.as_bytes())),
    )
}

/// The commit checked out at `folder` (a folder inside a git work tree), or
/// `None` where it is not in one.
pub fn git_head(folder: &Path) -> Option<String> {
    let output = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(folder)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|commit| !commit.is_empty())
}

/// What a checkout holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its checked-out commit, if it is a git checkout.
    pub commit: Option<String>,
    /// The hash of the files read.
    pub sha256: String,
}

impl Found {
    fn commit_or_unknown(&self) -> String {
        self.commit.clone().unwrap_or_else(|| "unknown".to_owned())
    }

    /// `pin` moved to what was found.
    fn pinned(&self, pin: &Pin) -> Pin {
        Pin {
            commit: self.commit_or_unknown(),
            sha256: self.sha256.clone(),
            ..pin.clone()
        }
    }
}

/// A checkout of the docs repository, read as the importer reads it.
pub struct DocsCheckout {
    /// The endpoint pages, by path within the folder.
    pub pages: Vec<DocsPage>,
    /// Its commit and hash.
    pub found: Found,
}

/// Reads the pinned folder of a docs checkout at `checkout`.
pub fn read_docs(checkout: &Path, pin: &Pin) -> anyhow::Result<DocsCheckout> {
    let folder_name = pin.folder.as_deref().unwrap_or_default();
    let folder = checkout.join(folder_name);
    if !checkout.is_dir() {
        return Err(bad_input(format!(
            "--docs {}: no such folder (a checkout of {})",
            checkout.display(),
            pin.repository
        )));
    }
    if !folder.is_dir() {
        return Err(bad_input(format!(
            "--docs {}: the checkout has no folder {folder_name} (where {} keeps the v2 endpoint pages); \
             if upstream moved it, change `folder` in {PINS_PATH}",
            checkout.display(),
            pin.repository
        )));
    }
    let pages = codegen::docs_import::read_docs_folder(&folder)
        .map_err(|error| bad_input(format!("--docs {}: {error}", checkout.display())))?;
    if !pages.iter().any(|page| page.relative_path.contains('/')) {
        return Err(bad_input(format!(
            "--docs {}: {} holds no endpoint pages (section folders of `.md` pages)",
            checkout.display(),
            folder.display()
        )));
    }
    let found = Found {
        commit: git_head(&folder),
        sha256: docs_hash(&pages),
    };
    Ok(DocsCheckout { pages, found })
}

/// A checkout of Sonoran.js, its pinned files read.
pub struct JsCheckout {
    /// Each pinned file's path and text.
    pub files: Vec<(String, String)>,
    /// Its commit and hash.
    pub found: Found,
}

/// Reads the pinned files of a Sonoran.js checkout at `checkout`.
pub fn read_js(checkout: &Path, pin: &Pin) -> anyhow::Result<JsCheckout> {
    if !checkout.is_dir() {
        return Err(bad_input(format!(
            "--js {}: no such folder (a checkout of {})",
            checkout.display(),
            pin.repository
        )));
    }
    let mut files = Vec::new();
    for name in &pin.files {
        let path = checkout.join(name);
        let text = std::fs::read_to_string(&path).map_err(|error| {
            bad_input(format!(
                "--js {}: the checkout has no readable file {name} ({error}); if upstream moved it, change \
                 `files` in {PINS_PATH}",
                checkout.display()
            ))
        })?;
        files.push((name.clone(), text));
    }
    let found = Found {
        commit: git_head(checkout),
        sha256: content_hash(
            files
                .iter()
                .map(|(name, text)| (name.as_str(), text.as_bytes())),
        ),
    };
    Ok(JsCheckout { files, found })
}

/// One route a client calls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClientRoute {
    /// Upper-case HTTP method.
    pub method: String,
    /// The path from `/v2`, a value as `{}`.
    pub path: String,
    /// The client's function that calls it.
    pub function: String,
    /// The file it is in.
    pub file: String,
}

/// The CMS v2 calls in Sonoran.js's files: each
/// `executeCmsV2Request('METHOD', 'v2/...')` (a template literal's `${..}` is a
/// value), with the `public async name(` it is in.
pub fn js_routes(files: &[(String, String)]) -> Vec<ClientRoute> {
    const CALL: &str = "executeCmsV2Request(";
    let mut routes = Vec::new();
    for (file, text) in files {
        let mut rest = text.as_str();
        let mut offset = 0;
        while let Some(at) = rest.find(CALL) {
            let start = offset + at;
            let after = &text[start + CALL.len()..];
            offset = start + CALL.len();
            rest = &text[offset..];
            let Some((method, after_method)) = quoted(after.trim_start()) else {
                continue;
            };
            let Some(after_comma) = after_method.trim_start().strip_prefix(',') else {
                continue;
            };
            let Some((path, _)) = quoted(after_comma.trim_start()) else {
                continue;
            };
            if !path.starts_with("v2/") && !path.starts_with("/v2/") {
                continue;
            }
            let function = text[..start]
                .rfind("async ")
                .map(|at| {
                    text[at + "async ".len()..]
                        .chars()
                        .take_while(|character| character.is_alphanumeric() || *character == '_')
                        .collect::<String>()
                })
                .unwrap_or_default();
            routes.push(ClientRoute {
                method: method.to_uppercase(),
                path: normalized_path(&path),
                function,
                file: file.clone(),
            });
        }
    }
    routes.sort();
    routes.dedup();
    routes
}

/// The text of a `'..'`, `".."` or `` `..` `` literal at the start of `text`
/// (a template's `${..}` becomes `{}`), and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let body = &text[1..];
    let end = body.find(quote)?;
    let mut value = String::new();
    let mut inner = &body[..end];
    while let Some(at) = inner.find("${") {
        value.push_str(&inner[..at]);
        value.push_str("{}");
        let close = inner[at..]
            .find('}')
            .map_or(inner.len(), |close| at + close + 1);
        inner = &inner[close..];
    }
    value.push_str(inner);
    Some((value, &body[end + 1..]))
}

/// `/v2/a/{}/b` for `v2/a/{accountId}/b` or `/v2/a/${id}/b`: one leading
/// slash, every placeholder `{}`.
pub fn normalized_path(path: &str) -> String {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "{}".to_owned()
            } else {
                segment.to_owned()
            }
        })
        .collect();
    format!("/{}", segments.join("/"))
}

/// Each operation of a spec by (method, normalized path): its operationId.
fn spec_routes(spec: &Value) -> BTreeMap<(String, String), String> {
    let mut routes = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(operation_id) = operation["operationId"].as_str() {
                routes.insert(
                    (method.to_uppercase(), normalized_path(path)),
                    operation_id.to_owned(),
                );
            }
        }
    }
    routes
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn short_hash(sha256: &str) -> &str {
    sha256.get(..16).unwrap_or(sha256)
}

/// One source's line: pinned against found, and what moved.
fn source_line(name: &str, pin: &Pin, found: Option<&Found>) -> String {
    let Some(found) = found else {
        return format!(
            "{name} ({}): pinned {} (sha256 {}); not given, left as pinned",
            pin.repository,
            short(&pin.commit),
            short_hash(&pin.sha256)
        );
    };
    let moved = match (
        found.sha256 == pin.sha256,
        found.commit.as_deref() == Some(pin.commit.as_str()),
    ) {
        (true, true) => "unchanged".to_owned(),
        (true, false) => "the same content at another commit (nothing to import)".to_owned(),
        (false, _) => "content changed".to_owned(),
    };
    format!(
        "{name} ({}): pinned {} (sha256 {}), found {} (sha256 {}): {moved}",
        pin.repository,
        short(&pin.commit),
        short_hash(&pin.sha256),
        short(&found.commit_or_unknown()),
        short_hash(&found.sha256)
    )
}

/// `cargo xtask upstream status`.
pub fn status(workspace_root: &Path, docs: &Path, js: Option<&Path>) -> anyhow::Result<ExitCode> {
    let pins = Pins::read(workspace_root)?;
    let docs_checkout = read_docs(docs, &pins.docs)?;
    let js_checkout = js.map(|js| read_js(js, &pins.js)).transpose()?;
    println!(
        "{}",
        source_line("docs", &pins.docs, Some(&docs_checkout.found))
    );
    println!(
        "{}",
        source_line(
            "js",
            &pins.js,
            js_checkout.as_ref().map(|checkout| &checkout.found)
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// `import-docs`' pins: the docs pin moved to the pages' content when it
/// changed (the commit of the folder's checkout, or `unknown`), else `None`.
pub fn pins_after_import(
    workspace_root: &Path,
    docs_folder: &Path,
    pages: &[DocsPage],
) -> anyhow::Result<Option<GeneratedFile>> {
    if !workspace_root.join(PINS_PATH).exists() {
        return Ok(None);
    }
    let mut pins = Pins::read(workspace_root)?;
    let sha256 = docs_hash(pages);
    if sha256 == pins.docs.sha256 {
        return Ok(None);
    }
    pins.docs = Found {
        commit: git_head(docs_folder),
        sha256,
    }
    .pinned(&pins.docs);
    Ok(Some(pins.file()))
}

/// What `sync` found, for the body.
struct SyncReport {
    pins: Pins,
    new_pins: Pins,
    docs_found: Found,
    js_found: Option<Found>,
    outcome: Outcome,
    /// Routes a client calls that the docs lack, and the docs' operations no
    /// client calls; `None` when they were not compared (the docs did not import).
    route_lines: Option<Vec<String>>,
}

/// Why regen stopped, and what a maintainer does about it.
struct Stop {
    error: String,
    what_to_do: String,
}

enum Outcome {
    /// Regen stopped.
    Stopped(Stop),
    /// Regen completed.
    Completed {
        report: codegen::changes::ChangeReport,
        /// (page, "new"/"changed"/"removed", diff)
        pages: Vec<(String, &'static str, String)>,
        /// Evidence actions the docs came to agree with in this sync.
        retire: Vec<String>,
        /// How many agreed already before it.
        retire_before: usize,
        docs_fields: Vec<String>,
        /// Values the docs' examples show that a value set does not list.
        unlisted_values: Vec<String>,
    },
}

impl Outcome {
    /// One word for a workflow: `changed` (open or update the pull request),
    /// `unchanged` (nothing for users: close an open one, and commit nothing,
    /// so pins that moved without a change for users advance with the next
    /// pull request), `stopped`.
    fn word(&self) -> &'static str {
        match self {
            Outcome::Stopped(_) => "stopped",
            Outcome::Completed { report, .. } if report.is_empty() => "unchanged",
            Outcome::Completed { .. } => "changed",
        }
    }
}

/// `cargo xtask upstream sync`: everything a pull request needs.
pub fn sync(
    workspace_root: &Path,
    docs: &Path,
    js: Option<&Path>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let pins = Pins::read(workspace_root)?;
    let docs_checkout = read_docs(docs, &pins.docs)?;
    let js_checkout = js.map(|js| read_js(js, &pins.js)).transpose()?;
    std::fs::create_dir_all(out)
        .map_err(|error| bad_input(format!("--out {}: {error}", out.display())))?;
    let new_pins = Pins {
        docs: docs_checkout.found.pinned(&pins.docs),
        js: js_checkout.as_ref().map_or_else(
            || pins.js.clone(),
            |checkout| checkout.found.pinned(&pins.js),
        ),
    };
    let sources = Sources::read(workspace_root)?;

    let (outcome, files, route_lines) = match prepare(
        workspace_root,
        &sources,
        &docs_checkout,
        js_checkout.as_ref(),
    ) {
        Ok(prepared) => prepared,
        Err((stop, route_lines)) => (Outcome::Stopped(stop), Vec::new(), route_lines),
    };
    let stopped = matches!(outcome, Outcome::Stopped(_));
    let report = SyncReport {
        pins,
        new_pins: new_pins.clone(),
        docs_found: docs_checkout.found.clone(),
        js_found: js_checkout.as_ref().map(|checkout| checkout.found.clone()),
        outcome,
        route_lines,
    };
    // The pull request's files first: a tree written without its body would
    // be a change nobody can review.
    let (title, body) = render(&report);
    write_out(out, "title.txt", &format!("{title}\n"))?;
    write_out(out, "body.md", &body)?;
    write_out(out, "outcome", &format!("{}\n", report.outcome.word()))?;
    if !stopped {
        let mut files = files;
        files.push(new_pins.file());
        let statuses =
            codegen::ensure_files(workspace_root, &files, Mode::Write).map_err(|error| {
                failed(format!(
                    "sync could not write the tree ({error}); no file was changed"
                ))
            })?;
        let written = statuses
            .iter()
            .filter(|status| matches!(status, FileStatus::Written))
            .count();
        if let Outcome::Completed { pages, .. } = &report.outcome {
            for (page, kind, _) in pages {
                if *kind == "removed" {
                    let path = workspace_root
                        .join(contract::SNAPSHOT_DIR)
                        .join(contract::snapshot_file_name(page));
                    std::fs::remove_file(&path).map_err(|error| {
                        failed(format!(
                            "the tree was written, but the page of the removed operation {} could not be \
                             deleted ({error}); delete it by hand",
                            path.display()
                        ))
                    })?;
                }
            }
        }
        println!("{} files checked, {written} written", files.len());
    }
    println!("{title}");
    println!(
        "wrote {} and {}",
        out.join("title.txt").display(),
        out.join("body.md").display()
    );
    Ok(if stopped {
        ExitCode::from(EXIT_REGEN_STOPPED)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_out(out: &Path, name: &str, contents: &str) -> anyhow::Result<()> {
    let path: PathBuf = out.join(name);
    std::fs::write(&path, contents)
        .map_err(|error| bad_input(format!("{}: {error}", path.display())))
}

type Prepared = (Outcome, Vec<GeneratedFile>, Option<Vec<String>>);

/// Import, regen, the change report and the contract pages, in memory.
fn prepare(
    workspace_root: &Path,
    sources: &Sources,
    docs: &DocsCheckout,
    js: Option<&JsCheckout>,
) -> Result<Prepared, (Stop, Option<Vec<String>>)> {
    let imported = codegen::docs_import::import(&docs.pages).map_err(|error| {
        let stop = Stop {
            error: error.to_string(),
            what_to_do: "A docs page no longer reads as the importer expects: fix the importer \
                         (codegen/src/import/docs_import.rs) for the new layout, or wait for the docs to be \
                         fixed; then run this sync again."
                .to_owned(),
        };
        (stop, None)
    })?;
    let imported_files =
        codegen::pipeline::imported_files(&imported).map_err(|error| (stopped_by(error), None))?;
    let mut new_sources = sources.clone();
    for file in &imported_files {
        if file.relative_path == DOCS_SPEC_PATH {
            new_sources.docs_spec = SourceText::new(DOCS_SPEC_PATH, file.contents.clone());
        } else if file.relative_path == DERIVED_PATH {
            new_sources.derived = SourceText::new(DERIVED_PATH, file.contents.clone());
        }
    }
    let docs_spec = codegen::load::parse_yaml(&new_sources.docs_spec)
        .map_err(|error| (stopped_by(error), None))?;
    let old_enriched = std::fs::read_to_string(workspace_root.join(ENRICHED_SPEC_PATH))
        .ok()
        .and_then(|text| {
            codegen::load::parse_yaml(&SourceText::new(ENRICHED_SPEC_PATH, text)).ok()
        });
    let generated = match codegen::generate_files(&new_sources) {
        Ok(generated) => generated,
        Err(error) => {
            // The routes are still compared, against the client as it is.
            let lines = route_lines(
                &docs_spec,
                old_enriched.as_ref().unwrap_or(&Value::Null),
                js,
            );
            return Err((stopped_by(error), Some(lines)));
        }
    };
    let new_enriched = enriched_of(&generated).map_err(|error| (stopped_by(error), None))?;
    let route_lines = route_lines(&docs_spec, &new_enriched, js);
    let stop = |error: codegen::CodegenError| (stopped_by(error), Some(route_lines.clone()));
    let report = match &old_enriched {
        Some(old) => codegen::changes::compare(
            (ENRICHED_SPEC_PATH, old),
            ("the regenerated spec", &new_enriched),
        )
        .map_err(stop)?,
        None => codegen::changes::ChangeReport::default(),
    };
    let contracts = contract::from_files(&generated).map_err(stop)?;
    let (pages, snapshot_files) = changed_pages(workspace_root, &contracts);
    // Only what this sync makes agree is news; what agreed before is counted.
    let agreed_before: BTreeSet<(String, usize, String)> = old_enriched
        .as_ref()
        .map(|old| codegen::pipeline::evidence_the_docs_agree_with(sources, old))
        .transpose()
        .map_err(stop)?
        .unwrap_or_default()
        .into_iter()
        .map(|place| (place.file, place.index, place.pointer))
        .collect();
    let agreeing = codegen::pipeline::evidence_the_docs_agree_with(&new_sources, &new_enriched)
        .map_err(stop)?;
    let retire_before = agreeing
        .iter()
        .filter(|place| {
            agreed_before.contains(&(place.file.clone(), place.index, place.pointer.clone()))
        })
        .count();
    let retire = agreeing
        .into_iter()
        .filter(|place| !agreed_before.contains(&(place.file.clone(), place.index, place.pointer.clone())))
        .map(|place| {
            format!(
                "`{}/{}` action {} (target `{}`): the docs now say the same at `{}`; its type decision no \
                 longer needs the evidence (keep it for its descriptions, or remove it and run `cargo xtask \
                 evidence review`)",
                codegen::pipeline::EVIDENCE_DIR,
                place.file,
                place.index,
                place.target,
                place.pointer
            )
        })
        .collect();
    let docs_fields = codegen::pipeline::docs_fields_not_in_types(&new_sources, &new_enriched)
        .map_err(stop)?
        .into_iter()
        .map(|(operation, fields)| format!("`{operation}`: {}", fields.join(", ")))
        .collect();
    let unlisted_values = codegen::pipeline::docs_values_not_in_value_sets(&new_sources, &new_enriched)
        .map_err(stop)?
        .into_iter()
        .flat_map(|(operation, values)| {
            values.into_iter().map(move |codegen::check::reviewed::UnlistedValue { field, value, set }| {
                format!(
                    "`{}` (`{operation}`) `{field}`: the docs show \"{value}\", which `{set}` does not list (it reads \
                     as `{set}::Other(\"{value}\")`). Listing it (in `Known{set}`, by an evidence overlay citing the \
                     page) is additive for the build but changes behaviour: a `match` arm on `Other(\"{value}\")` \
                     stops firing.",
                    rust_name(&operation)
                )
            })
        })
        .collect();
    let mut files = imported_files;
    files.extend(generated);
    files.extend(snapshot_files);
    Ok((
        Outcome::Completed {
            report,
            pages,
            retire,
            retire_before,
            docs_fields,
            unlisted_values,
        },
        files,
        Some(route_lines),
    ))
}

/// The name progenitor gives an operation (`cancel_session` for `cancelSession`).
fn rust_name(operation_id: &str) -> String {
    codegen::naming::rust_snake_name(operation_id)
}

fn stopped_by(error: codegen::CodegenError) -> Stop {
    let what_to_do = match &error {
        codegen::CodegenError::Review { .. } => {
            "The docs changed beneath an evidence correction. For each place named: read the docs' new \
             shape against the evidence the action cites, then update or remove the action in \
             `openapi/evidence/` and record the review with `cargo xtask evidence review`; run this sync again."
        }
        codegen::CodegenError::Lint { .. } => {
            "The new docs would give users an untyped or broken client at the places named. Type them in an \
             evidence overlay (`openapi/evidence/`, citing the source) or the enrichment, then run this sync again."
        }
        _ => "Fix what the error names in `openapi/` (or the generator), then run this sync again.",
    };
    Stop {
        error: error.to_string(),
        what_to_do: what_to_do.to_owned(),
    }
}

fn enriched_of(files: &[GeneratedFile]) -> Result<Value, codegen::CodegenError> {
    let text = files
        .iter()
        .find(|file| file.relative_path == ENRICHED_SPEC_PATH)
        .map(|file| file.contents.clone())
        .unwrap_or_default();
    codegen::load::parse_yaml(&SourceText::new(ENRICHED_SPEC_PATH, text))
}

/// Each page that is new, changed or removed against the accepted snapshot
/// files, with its diff, and the snapshot files to write.
fn changed_pages(
    workspace_root: &Path,
    contracts: &[contract::Contract],
) -> (Vec<(String, &'static str, String)>, Vec<GeneratedFile>) {
    let folder = workspace_root.join(contract::SNAPSHOT_DIR);
    let mut pages = Vec::new();
    let mut files = Vec::new();
    let mut current = BTreeSet::new();
    for page in contracts {
        current.insert(contract::snapshot_file_name(&page.rust_name));
        let relative_path = format!(
            "{}/{}",
            contract::SNAPSHOT_DIR,
            contract::snapshot_file_name(&page.rust_name)
        );
        let accepted =
            std::fs::read_to_string(folder.join(contract::snapshot_file_name(&page.rust_name)))
                .ok();
        let accepted_page = accepted
            .as_deref()
            .and_then(contract::page_of_snapshot)
            .map(str::to_owned);
        match accepted_page {
            Some(accepted_page) if accepted_page == page.text => {}
            Some(accepted_page) => pages.push((
                page.rust_name.clone(),
                "changed",
                codegen::outputs::unified_diff(&relative_path, &accepted_page, &page.text),
            )),
            None => pages.push((
                page.rust_name.clone(),
                "new",
                codegen::outputs::unified_diff(&relative_path, "", &page.text),
            )),
        }
        files.push(GeneratedFile {
            relative_path,
            contents: contract::snapshot_file(page),
        });
    }
    let mut removed: Vec<String> = std::fs::read_dir(&folder)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.starts_with(contract::SNAPSHOT_PREFIX)
                && name.ends_with(".snap")
                && !current.contains(name)
        })
        .collect();
    removed.sort();
    for name in removed {
        let rust_name = name
            .trim_start_matches(contract::SNAPSHOT_PREFIX)
            .trim_end_matches(".snap")
            .to_owned();
        pages.push((rust_name, "removed", String::new()));
    }
    (pages, files)
}

/// The routes the sources disagree on: each a client calls that the docs lack
/// (and whether the client has it from evidence), each the docs have that no
/// client calls.
fn route_lines(docs_spec: &Value, enriched: &Value, js: Option<&JsCheckout>) -> Vec<String> {
    let Some(js) = js else {
        return vec!["Sonoran.js was not given (`--js`): its routes were not compared.".to_owned()];
    };
    let docs_routes = spec_routes(docs_spec);
    // The routes the client has beyond the docs come from evidence overlays.
    let client_routes = spec_routes(enriched);
    let js_routes = js_routes(&js.files);
    let mut lines = Vec::new();
    let called: BTreeSet<(String, String)> = js_routes
        .iter()
        .map(|route| (route.method.clone(), route.path.clone()))
        .collect();
    for route in &js_routes {
        let key = (route.method.clone(), route.path.clone());
        if docs_routes.contains_key(&key) {
            continue;
        }
        let in_client = match client_routes.get(&key) {
            Some(operation_id) => format!(
                "the client has it from evidence (`{}`, `{operation_id}`)",
                rust_name(operation_id)
            ),
            None => "the client lacks it: add it through an evidence overlay citing this call, or call it with \
                     `client.raw(..)`"
                .to_owned(),
        };
        lines.push(format!(
            "`{} {}`: Sonoran.js calls it (`{}` in `{}`), the docs lack it; {in_client}",
            route.method, route.path, route.function, route.file
        ));
    }
    for ((method, path), operation_id) in &docs_routes {
        if !called.contains(&(method.clone(), path.clone())) {
            lines.push(format!(
                "`{method} {path}` (`{operation_id}`): the docs have it, Sonoran.js does not call it"
            ));
        }
    }
    lines
}

/// The pull request's title and body.
fn render(report: &SyncReport) -> (String, String) {
    let mut body = String::new();
    body.push_str(
        "<!-- Written by `cargo xtask upstream sync`; rerun it rather than edit this. -->\n",
    );
    let title = match &report.outcome {
        Outcome::Stopped(_) => {
            body.push_str(
                "**Verdict: regen stopped; nothing was regenerated.** The upstream sources moved in a way the spec \
                 cannot follow on its own: see \"Why regen stopped\".\n",
            );
            "Upstream API docs changed: regen stopped, a maintainer must act".to_owned()
        }
        Outcome::Completed {
            report: changes, ..
        } => {
            let verdict = verdict(changes);
            let _ = writeln!(body, "**Verdict: {verdict}**");
            match changes.bump() {
                codegen::changes::Bump::None if report.new_pins == report.pins => {
                    "Upstream sources unchanged: no change for users".to_owned()
                }
                codegen::changes::Bump::None => {
                    "Upstream sources moved: no change for users".to_owned()
                }
                _ => format!(
                    "API update: {} breaking, {} additive changes ({})",
                    changes.count(codegen::changes::Impact::Breaking),
                    changes.count(codegen::changes::Impact::Additive),
                    release_name(changes)
                ),
            }
        }
    };

    body.push_str("\n## Sources\n\n");
    let _ = writeln!(
        body,
        "- {}",
        source_line("docs", &report.pins.docs, Some(&report.docs_found))
    );
    let _ = writeln!(
        body,
        "- {}",
        source_line("js", &report.pins.js, report.js_found.as_ref())
    );
    if report.new_pins != report.pins {
        let _ = writeln!(body, "\nThe pins in `{PINS_PATH}` move to what was found.");
    }

    match &report.outcome {
        Outcome::Stopped(Stop { error, what_to_do }) => {
            body.push_str("\n## Why regen stopped\n\n```text\n");
            body.push_str(error.trim_end());
            body.push_str("\n```\n\n## What to do\n\n");
            body.push_str(what_to_do);
            body.push('\n');
            body.push_str("\n## Routes the sources disagree on\n\n");
            routes(&mut body, report.route_lines.as_deref());
        }
        Outcome::Completed {
            report: changes,
            pages,
            retire,
            retire_before,
            docs_fields,
            unlisted_values,
        } => {
            body.push_str("\n## Changes for users\n\n");
            if changes.is_empty() {
                body.push_str("No change for users of the crate.\n");
            } else {
                body.push_str(&changes.render(VERSION));
            }
            body.push_str("\n## Routes the sources disagree on\n\n");
            routes(&mut body, report.route_lines.as_deref());
            body.push_str("\n## Evidence overlays\n\n");
            body.push_str(
                "Candidates to retire (the docs came to agree with them in this change):\n\n",
            );
            list(&mut body, retire, "None.");
            if *retire_before > 0 {
                let _ = writeln!(
                    body,
                    "\n({retire_before} more agreed with the docs before this change.)"
                );
            }
            body.push_str(
                "\nContradicted by the docs: none (a docs change beneath an evidence correction stops regen).\n",
            );
            if !unlisted_values.is_empty() {
                body.push_str("\nValues the docs show that a value set does not list:\n\n");
                list(&mut body, unlisted_values, "");
            }
            if !docs_fields.is_empty() {
                body.push_str(
                    "\nMembers the docs show in an answer that its type does not have:\n\n",
                );
                list(&mut body, docs_fields, "");
            }
            body.push_str("\n## Contract snapshots\n\n");
            if pages.is_empty() {
                body.push_str("No contract page changed.\n");
            } else {
                for (page, kind, _) in pages {
                    let _ = writeln!(
                        body,
                        "- `{}/{}` ({kind})",
                        contract::SNAPSHOT_DIR,
                        contract::snapshot_file_name(page)
                    );
                }
                for (page, kind, diff) in pages {
                    if diff.is_empty() {
                        continue;
                    }
                    let _ = write!(
                        body,
                        "\n<details><summary>{page} ({kind})</summary>\n\n```diff\n{}\n```\n\n</details>\n",
                        diff.trim_end()
                    );
                }
            }
        }
    }
    (title, body)
}

/// The routes section: each disagreement, or why there is none to show.
fn routes(body: &mut String, lines: Option<&[String]>) {
    match lines {
        Some(lines) => list(body, lines, "None: every route is in both."),
        None => body.push_str("Not compared: the docs did not import.\n"),
    }
}

fn list(body: &mut String, lines: &[String], empty: &str) {
    if lines.is_empty() {
        let _ = writeln!(body, "{empty}");
    }
    for line in lines {
        let _ = writeln!(body, "- {line}");
    }
}

fn release_name(changes: &codegen::changes::ChangeReport) -> String {
    changes.next_release(VERSION)
}

fn verdict(changes: &codegen::changes::ChangeReport) -> String {
    match changes.bump() {
        codegen::changes::Bump::None => {
            "no change for users; no release needed (the sources moved, the contract did not)."
                .to_owned()
        }
        codegen::changes::Bump::Breaking => format!(
            "breaking; the release needs a breaking version ({}).",
            release_name(changes)
        ),
        codegen::changes::Bump::Additive => format!(
            "additive; the release needs a compatible version ({}).",
            release_name(changes)
        ),
    }
}

/// `cargo xtask upstream tests`: runs the workspace's tests on the synced
/// tree and adds what they say to `--out/body.md`, so the pull request opens
/// even when they fail and lists the failures. Exits 0 whatever the tests
/// say; the full log goes to `--out/tests.log`.
pub fn tests(workspace_root: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["test", "--workspace", "--locked", "--no-fail-fast"])
        .current_dir(workspace_root)
        .output()
        .context("running cargo test")?;
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    write_out(out, "tests.log", &log)?;
    let body_path = out.join("body.md");
    let body = std::fs::read_to_string(&body_path).map_err(|error| {
        bad_input(format!(
            "{}: {error} (run `upstream sync` first)",
            body_path.display()
        ))
    })?;
    let section = tests_section(&log, output.status.success());
    // Before the contract diffs, which may be long: a host that cuts a long
    // body keeps the failures.
    let body = match body.split_once("\n## Contract snapshots") {
        Some((before, after)) => format!("{before}{section}\n## Contract snapshots{after}"),
        None => format!("{body}{section}"),
    };
    write_out(out, "body.md", &body)?;
    println!("{}", section.trim());
    Ok(ExitCode::SUCCESS)
}

/// The body's tests section from a `cargo test` log: every failing test by
/// name, and each test target that failed to build or run.
pub fn tests_section(log: &str, passed: bool) -> String {
    let failed: Vec<&str> = log
        .lines()
        .filter_map(|line| line.strip_prefix("test ")?.strip_suffix(" ... FAILED"))
        .collect();
    let targets: Vec<&str> = log
        .lines()
        .filter_map(|line| {
            line.strip_prefix("error: test failed, to rerun pass `")
                .or_else(|| line.strip_prefix("error: could not compile `"))
        })
        .map(|rest| rest.split('`').next().unwrap_or(rest))
        .collect();
    let mut section = String::from("\n## Tests\n\n");
    if passed {
        section.push_str("`cargo test --workspace --locked` passed on this tree.\n");
        return section;
    }
    section.push_str(
        "`cargo test --workspace --locked` **failed** on this tree; the pull request is open so the change can be \
         read and fixed here.\n\n",
    );
    for test in &failed {
        let _ = writeln!(section, "- test `{test}` failed");
    }
    for target in &targets {
        let _ = writeln!(section, "- `{target}` failed");
    }
    if failed.is_empty() && targets.is_empty() {
        section.push_str("- no failing test was named: see the job's `tests.log`\n");
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_js_client_routes_are_read_with_their_values_as_placeholders() {
        let text = "  public async getCommunityV2(): Promise<X> {\n    return this.executeCmsV2Request('GET', 'v2/community');\n  }\n  public async undoRankChangeV2(undoId: string) {\n    return this.executeCmsV2Request('POST', `v2/community/rank-changes/${encodeURIComponent(undoId)}/undo`, { body: {} });\n  }\n  private async executeCmsV2Request<T = any>(\n    method: CMSV2HttpMethod,\n";
        let routes = js_routes(&[("CMSManager.ts".to_owned(), text.to_owned())]);
        let found: Vec<(&str, &str, &str)> = routes
            .iter()
            .map(|route| {
                (
                    route.method.as_str(),
                    route.path.as_str(),
                    route.function.as_str(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("GET", "/v2/community", "getCommunityV2"),
                (
                    "POST",
                    "/v2/community/rank-changes/{}/undo",
                    "undoRankChangeV2"
                ),
            ]
        );
    }

    #[test]
    fn the_hash_covers_paths_lengths_and_bytes_in_path_order() {
        let one = content_hash([("a", b"xy".as_slice()), ("b", b"z".as_slice())]);
        assert_eq!(
            one,
            content_hash([("b", b"z".as_slice()), ("a", b"xy".as_slice())])
        );
        assert_ne!(
            one,
            content_hash([("a", b"x".as_slice()), ("b", b"yz".as_slice())])
        );
        assert_ne!(
            one,
            content_hash([("a", b"xy".as_slice()), ("c", b"z".as_slice())])
        );
        assert_eq!(one.len(), 64);
    }

    #[test]
    fn the_pins_file_reads_back_what_it_renders() {
        let pins = Pins {
            docs: Pin {
                repository: "o/docs".to_owned(),
                folder: Some("a/b".to_owned()),
                files: Vec::new(),
                commit: "abc".to_owned(),
                sha256: "00".to_owned(),
            },
            js: Pin {
                repository: "o/js".to_owned(),
                folder: None,
                files: vec!["src/x.ts".to_owned(), "src/y.ts".to_owned()],
                commit: "def".to_owned(),
                sha256: "11".to_owned(),
            },
        };
        assert_eq!(Pins::parse(&pins.render()).expect("parses"), pins);
    }

    #[test]
    fn the_tests_section_names_each_failure() {
        let log = "running 2 tests\ntest drift::a ... ok\ntest contracts::every_operation_matches ... FAILED\n\
                   error: test failed, to rerun pass `-p sonoran-cms-tests --test contracts`\n\
                   error: could not compile `sonoran-cms` (lib) due to 1 previous error\n";
        let section = tests_section(log, false);
        assert!(section.contains("**failed**"), "{section}");
        assert!(
            section.contains("- test `contracts::every_operation_matches` failed"),
            "{section}"
        );
        assert!(
            section.contains("- `-p sonoran-cms-tests --test contracts` failed"),
            "{section}"
        );
        assert!(section.contains("- `sonoran-cms` failed"), "{section}");
        assert!(!section.contains("drift::a"), "{section}");
        assert!(tests_section("test a ... ok\n", true).contains("passed on this tree"));
        assert!(tests_section("killed\n", false).contains("no failing test was named"));
    }
}
