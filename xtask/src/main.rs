//! `cargo xtask`: project automation. `regen` rewrites the enriched spec and the
//! generated client from `openapi/`; `regen --check` only verifies they are fresh;
//! `build-times` measures what the crate costs a user's clean build; `upstream`
//! follows the sources the spec learns from (`status`, and `sync`, which makes a
//! pull request's tree, title and body).

mod build_times;
mod change_report;
mod evidence_import;
mod msrv;
mod upstream;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use codegen::{CodegenError, FileStatus, Mode, Sources};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Automation for the sonoran-cms workspace"
)]
struct Arguments {
    /// The workspace to work on: its `openapi/` is read and its generated files
    /// written. Defaults to the checkout this command was built from.
    #[arg(long, global = true, value_name = "DIR")]
    workspace_root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The evidence corrections: record the docs' shapes they were reviewed against.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Check that every crate `sonoran-cms` builds with declares a
    /// `rust-version` no newer than the library's own.
    Msrv,
    /// Regenerate the enriched spec and the client from the files in `openapi/`.
    Regen {
        /// Write nothing; fail if any generated file is out of date.
        #[arg(long)]
        check: bool,
        /// Print a diff of each out-of-date file and how long generation took.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Rewrite the docs spec in `openapi/` from a checkout of the published API docs.
    ImportDocs {
        /// The docs folder (the layout of `api-endpoints-v2/`: section folders of
        /// endpoint pages, and `rate-limits.md`).
        docs_folder: PathBuf,
        /// Write nothing; fail if the docs spec differs from what the docs say.
        #[arg(long)]
        check: bool,
    },
    /// Measure the clean debug build of a fresh user crate that depends on
    /// `sonoran-cms`, per TLS feature, against the same program on reqwest + tokio +
    /// serde alone, and print a Markdown table of the medians. Slow: two clean
    /// builds per feature and round.
    BuildTimes {
        /// How many times to build each crate (the table gives the medians).
        #[arg(long, default_value_t = 1)]
        rounds: usize,
    },
    /// Print what the enriched spec's changes since a commit do to users of the
    /// crate (breaking or additive, per operation) and the release they need.
    Changes {
        /// The commit (any git revision) whose enriched spec is compared with the
        /// working tree's.
        #[arg(long, value_name = "REV")]
        from: String,
    },
    /// The upstream sources pinned in `openapi/upstream.toml`: what moved, and
    /// the pull request that follows a move.
    Upstream {
        #[command(subcommand)]
        command: UpstreamCommand,
    },
}

/// Exit codes of `upstream status` and `upstream sync`: 0 done (for `sync`,
/// the body was written and regen completed, whether or not anything changed
/// for users); 1 regen stopped (`sync` only: the body says why and what to do,
/// and no generated file changed); 2 bad arguments, checkouts or pins (nothing
/// written); 3 the command failed after its checks (the tree could not be
/// written: the message says what is left).
#[derive(Subcommand)]
enum UpstreamCommand {
    /// Print, per source, what is pinned against what a checkout holds
    /// (commit, content hash) and what moved.
    Status {
        /// A checkout of Sonoran-Software/SonoranCMS-Documentation, laid out as
        /// upstream lays it out.
        #[arg(long, value_name = "DIR")]
        docs: PathBuf,
        /// A checkout of Sonoran-Software/Sonoran.js.
        #[arg(long, value_name = "DIR")]
        js: Option<PathBuf>,
    },
    /// Import the docs, regenerate, report the changes for users, refresh the
    /// contract snapshots and the pins, and write `title.txt` and `body.md`
    /// into `--out`: everything one pull request needs. The tree is written
    /// all or nothing.
    Sync {
        /// A checkout of Sonoran-Software/SonoranCMS-Documentation.
        #[arg(long, value_name = "DIR")]
        docs: PathBuf,
        /// A checkout of Sonoran-Software/Sonoran.js (its routes are compared
        /// with the docs'; without it its pin stays).
        #[arg(long, value_name = "DIR")]
        js: Option<PathBuf>,
        /// Where `title.txt`, `body.md` and `outcome` (one word: `changed`,
        /// `unchanged` or `stopped`) go; created if needed.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Run the workspace's tests on the synced tree and add what they say to
    /// `--out/body.md` (failures by name; the log in `--out/tests.log`).
    /// Exits 0 whatever the tests say: the pull request opens anyway.
    Tests {
        /// The folder `sync` wrote into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Record the docs' shape beneath every evidence action that replaces or
    /// restates a docs-derived schema, as it is now (after checking each action
    /// against the docs): regen stops when the docs there change.
    Review,
    /// Turn a probe report (`sonoran-cms probe`) into proposed overlay actions,
    /// appended to the evidence files, each citing the report.
    Import {
        /// The probe's JSON report.
        report: PathBuf,
    },
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    let root = arguments
        .workspace_root
        .unwrap_or_else(default_workspace_root);
    let outcome = match arguments.command {
        Command::Regen { check, verbose } => regen(&root, check, verbose),
        Command::ImportDocs { docs_folder, check } => import_docs(&root, &docs_folder, check),
        Command::BuildTimes { rounds } => {
            build_times::build_times(&root, rounds).map(|()| ExitCode::SUCCESS)
        }
        Command::Msrv => msrv::check(&root).map(|()| ExitCode::SUCCESS),
        Command::Evidence {
            command: EvidenceCommand::Review,
        } => evidence_review(&root),
        Command::Evidence {
            command: EvidenceCommand::Import { report },
        } => evidence_import::import(&root, &report).map(|()| ExitCode::SUCCESS),
        Command::Changes { from } => change_report::since(&root, &from).map(|()| ExitCode::SUCCESS),
        Command::Upstream {
            command: UpstreamCommand::Status { docs, js },
        } => upstream::status(&root, &docs, js.as_deref()),
        Command::Upstream {
            command: UpstreamCommand::Sync { docs, js, out },
        } => upstream::sync(&root, &docs, js.as_deref(), &out),
        Command::Upstream {
            command: UpstreamCommand::Tests { out },
        } => upstream::tests(&root, &out),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<upstream::BadInput>().is_some() {
                ExitCode::from(upstream::EXIT_BAD_INPUT)
            } else if error.downcast_ref::<upstream::Failed>().is_some() {
                ExitCode::from(upstream::EXIT_FAILED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The workspace root: the parent of this crate's folder.
fn default_workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Says that `command` changed no file, unless the error is the one case where
/// that is not so (putting back the files already replaced failed).
fn stopped(command: &str, error: CodegenError) -> anyhow::Error {
    let left_partly_written = matches!(error, CodegenError::Restore { .. });
    let error = anyhow::Error::new(error);
    if left_partly_written {
        error
    } else {
        error.context(format!("{command} stopped; no file was changed"))
    }
}

/// `cargo xtask evidence review`: rewrites the reviewed shapes from the docs.
fn evidence_review(workspace_root: &Path) -> anyhow::Result<ExitCode> {
    let sources = Sources::read(workspace_root)?;
    let file = codegen::pipeline::reviewed_file(&sources)
        .context("the review was not recorded; no file was changed")?;
    let statuses = codegen::ensure_files(workspace_root, std::slice::from_ref(&file), Mode::Write)
        .map_err(|error| stopped("evidence review", error))?;
    match statuses.first() {
        Some(FileStatus::Written) => println!("updated   {}", file.relative_path),
        _ => println!("unchanged {}", file.relative_path),
    }
    Ok(ExitCode::SUCCESS)
}

fn regen(workspace_root: &Path, check: bool, verbose: bool) -> anyhow::Result<ExitCode> {
    let sources = Sources::read(workspace_root)?;
    let started = Instant::now();
    // Every file is generated in memory before any is written: a failure here
    // leaves the tree exactly as it was.
    let files = codegen::generate_files(&sources).context("regen stopped; no file was changed")?;
    if verbose {
        eprintln!(
            "generated {} files in {:.1} ms (load, enrich, lint, progenitor, format)",
            files.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }

    change_report::print_against_disk(workspace_root, &sources, &files)?;

    let mode = if check { Mode::Check } else { Mode::Write };
    let statuses = codegen::ensure_files(workspace_root, &files, mode)
        .map_err(|error| stopped("regen", error))?;
    let mut stale = Vec::new();
    let mut written = 0;
    for (file, status) in files.iter().zip(statuses) {
        match status {
            FileStatus::Unchanged => {
                if verbose {
                    println!("unchanged {}", file.relative_path);
                }
            }
            FileStatus::Written => {
                println!("updated   {}", file.relative_path);
                written += 1;
            }
            FileStatus::Stale { diff } => {
                eprintln!(
                    "error: {} is out of date; run `cargo xtask regen` and commit the result",
                    file.relative_path
                );
                if verbose {
                    eprintln!("{diff}");
                }
                stale.push(&file.relative_path);
            }
        }
    }
    if stale.is_empty() {
        if check {
            println!("all {} generated files are up to date", files.len());
        } else {
            println!(
                "{} generated files: {written} updated, {} unchanged",
                files.len(),
                files.len() - written
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        if !verbose {
            eprintln!("(run `cargo xtask regen --check -v` to see the differences)");
        }
        Ok(ExitCode::FAILURE)
    }
}

fn import_docs(workspace_root: &Path, docs_folder: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let pages = codegen::docs_import::read_docs_folder(docs_folder)?;
    let imported =
        codegen::docs_import::import(&pages).context("import stopped; no file was changed")?;
    let mut files = codegen::pipeline::imported_files(&imported)?;
    // The docs pin moves with the content it was imported from (left as it is
    // when the pages are the same).
    files.extend(upstream::pins_after_import(
        workspace_root,
        docs_folder,
        &pages,
    )?);
    println!(
        "read {} endpoint pages: {} operations, {} disagreements",
        imported.pages,
        imported.operations,
        imported.disagreements.len()
    );
    for disagreement in &imported.disagreements {
        println!("  disagreement: {disagreement}");
    }
    change_report::print_for_import(workspace_root, &files)?;
    let mode = if check { Mode::Check } else { Mode::Write };
    let statuses = codegen::ensure_files(workspace_root, &files, mode)
        .map_err(|error| stopped("import", error))?;
    let mut stale = false;
    for (file, status) in files.iter().zip(statuses) {
        match status {
            FileStatus::Unchanged => println!("unchanged {}", file.relative_path),
            FileStatus::Written => println!(
                "updated   {} (now run `cargo xtask regen`)",
                file.relative_path
            ),
            FileStatus::Stale { .. } => {
                eprintln!(
                    "error: {} does not match the docs; run `cargo xtask import-docs`",
                    file.relative_path
                );
                stale = true;
            }
        }
    }
    if stale {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
