//! The one write-or-compare helper every generated file goes through: `regen`
//! and `import-docs` write a set of files all or none (temporary files, then
//! renames); `--check` only compares.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::CodegenError;

/// A file the generator produces, held in memory until every file is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the workspace root, with `/` separators.
    pub relative_path: String,
    /// The full contents, LF line endings, trailing newline.
    pub contents: String,
}

/// Whether [`ensure_files`] may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rewrite files whose contents differ.
    Write,
    /// Write nothing; report files whose contents differ as stale.
    Check,
}

/// What [`ensure_files`] found (and did) for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// The file on disk already has these contents.
    Unchanged,
    /// The file differed (or was missing) and has been rewritten.
    Written,
    /// The file differs (or is missing); `diff` is a unified diff from disk to the
    /// expected contents. Only in [`Mode::Check`].
    Stale {
        /// Unified diff, disk → expected.
        diff: String,
    },
}

/// Compares each of `files` with what is on disk below `workspace_root` and, in
/// [`Mode::Write`], replaces those that differ, all or none: every new file is
/// first written in full to a temporary file beside its target, and only then are
/// they renamed into place; if a rename fails, the files already replaced get their
/// old contents back. Line endings on disk are normalized before comparing, so a
/// CRLF checkout is not stale. Returns one status per file, in order.
pub fn ensure_files(
    workspace_root: &Path,
    files: &[GeneratedFile],
    mode: Mode,
) -> Result<Vec<FileStatus>, CodegenError> {
    ensure_files_with(workspace_root, files, mode, persist)
}

/// [`ensure_files`] with the final rename supplied, so a test can make it fail.
fn ensure_files_with(
    workspace_root: &Path,
    files: &[GeneratedFile],
    mode: Mode,
    mut rename_into_place: impl FnMut(tempfile::NamedTempFile, &Path) -> std::io::Result<()>,
) -> Result<Vec<FileStatus>, CodegenError> {
    // 1. Compare everything before touching anything.
    let mut statuses = Vec::with_capacity(files.len());
    let mut changed = Vec::new();
    for file in files {
        let path = workspace_root.join(&file.relative_path);
        let on_disk = read_if_present(&path)?;
        let normalized = on_disk
            .as_deref()
            .map(|bytes| normalize_newlines(&String::from_utf8_lossy(bytes)));
        if normalized.as_deref() == Some(file.contents.as_str()) {
            statuses.push(FileStatus::Unchanged);
            continue;
        }
        match mode {
            Mode::Check => statuses.push(FileStatus::Stale {
                diff: unified_diff(
                    &file.relative_path,
                    normalized.as_deref().unwrap_or_default(),
                    &file.contents,
                ),
            }),
            Mode::Write => {
                statuses.push(FileStatus::Written);
                changed.push((path, on_disk, file.contents.as_str()));
            }
        }
    }

    // 2. Stage every new file in full; a failure here drops the temporary files
    //    (which deletes them) and leaves every target as it was.
    let mut staged = Vec::with_capacity(changed.len());
    for (path, on_disk, contents) in changed {
        let temporary = stage(&path, contents)?;
        staged.push((path, on_disk, temporary));
    }

    // 3. Rename each into place; on a failure, put back what was there before.
    let mut replaced: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    for (path, on_disk, temporary) in staged {
        if let Err(source) = rename_into_place(temporary, &path) {
            let failure = CodegenError::Io {
                path,
                action: "replace",
                source,
            };
            return Err(match restore(&replaced) {
                Ok(()) => failure,
                Err(restore_failure) => CodegenError::Restore {
                    failure: Box::new(failure),
                    restore_failure: Box::new(restore_failure),
                },
            });
        }
        replaced.push((path, on_disk));
    }
    Ok(statuses)
}

fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, CodegenError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        // Not there, or a file stands where a folder of its path should be: either
        // way there is nothing to compare with (and writing will say what is wrong).
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(CodegenError::Io {
            path: path.to_owned(),
            action: "read",
            source,
        }),
    }
}

/// Puts back the earlier contents of files already replaced (removing those that
/// did not exist before), newest first.
fn restore(replaced: &[(PathBuf, Option<Vec<u8>>)]) -> Result<(), CodegenError> {
    for (path, earlier) in replaced.iter().rev() {
        match earlier {
            Some(bytes) => {
                persist(stage(path, bytes)?, path).map_err(|source| CodegenError::Io {
                    path: path.clone(),
                    action: "restore",
                    source,
                })?
            }
            None => std::fs::remove_file(path).map_err(|source| CodegenError::Io {
                path: path.clone(),
                action: "remove",
                source,
            })?,
        }
    }
    Ok(())
}

fn persist(temporary: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    temporary
        .persist(path)
        .map(drop)
        .map_err(|error| error.error)
}

/// Writes `contents` in full to a temporary file beside `path`, flushed to disk
/// and with the permissions the file has (or an ordinary file's), ready to be
/// renamed over it: a reader (or a crash) never sees half a file.
fn stage(path: &Path, contents: impl AsRef<[u8]>) -> Result<tempfile::NamedTempFile, CodegenError> {
    let io_error = |action: &'static str| {
        move |source| CodegenError::Io {
            path: path.to_owned(),
            action,
            source,
        }
    };
    let directory = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(directory).map_err(io_error("create the folder of"))?;
    let mut temporary = tempfile::NamedTempFile::new_in(directory)
        .map_err(io_error("create a temporary file beside"))?;
    temporary
        .write_all(contents.as_ref())
        .map_err(io_error("write"))?;
    // A temporary file is created private (0600); give the result the permissions
    // the file had, or an ordinary file's, so regen does not hide it from others.
    let permissions = match std::fs::metadata(path) {
        Ok(metadata) => metadata.permissions(),
        Err(_) => ordinary_file_permissions(temporary.as_file())
            .map_err(io_error("read the permissions of"))?,
    };
    temporary
        .as_file()
        .set_permissions(permissions)
        .map_err(io_error("set the permissions of"))?;
    temporary.as_file().sync_all().map_err(io_error("flush"))?;
    Ok(temporary)
}

#[cfg(unix)]
fn ordinary_file_permissions(_: &std::fs::File) -> std::io::Result<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn ordinary_file_permissions(file: &std::fs::File) -> std::io::Result<std::fs::Permissions> {
    Ok(file.metadata()?.permissions())
}

/// A unified diff between two texts, headed with the file's path.
pub fn unified_diff(relative_path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{relative_path}"), &format!("b/{relative_path}"))
        .to_string()
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

    fn file(relative_path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            relative_path: relative_path.to_owned(),
            contents: contents.to_owned(),
        }
    }

    fn ensure_one(root: &Path, contents: &str, mode: Mode) -> FileStatus {
        let mut statuses = ensure_files(root, &[file("out/generated.rs", contents)], mode)
            .expect("compares or writes");
        statuses.remove(0)
    }

    #[test]
    fn check_never_writes_and_reports_a_diff() {
        let root = tempfile::tempdir().expect("temporary folder");
        let FileStatus::Stale { diff } = ensure_one(root.path(), "new\n", Mode::Check) else {
            panic!("a missing file is stale")
        };
        assert!(diff.contains("+new"), "{diff}");
        assert!(
            !root.path().join("out").exists(),
            "check mode must not create anything"
        );
    }

    #[test]
    fn write_replaces_then_reports_unchanged() {
        let root = tempfile::tempdir().expect("temporary folder");
        assert_eq!(
            ensure_one(root.path(), "one\n", Mode::Write),
            FileStatus::Written
        );
        assert_eq!(
            ensure_one(root.path(), "one\n", Mode::Write),
            FileStatus::Unchanged
        );
        assert_eq!(
            ensure_one(root.path(), "two\n", Mode::Write),
            FileStatus::Written
        );
        let on_disk = std::fs::read_to_string(root.path().join("out/generated.rs")).expect("reads");
        assert_eq!(on_disk, "two\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(root.path().join("out/generated.rs"))
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o777,
                0o644,
                "a written file is readable by others, like any source file"
            );
        }
        let leftovers = std::fs::read_dir(root.path().join("out"))
            .expect("lists")
            .count();
        assert_eq!(leftovers, 1, "no temporary file may be left behind");
    }

    #[test]
    fn crlf_on_disk_is_not_stale() {
        let root = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir_all(root.path().join("out")).expect("mkdir");
        std::fs::write(root.path().join("out/generated.rs"), "a\r\nb\r\n").expect("writes");
        assert_eq!(
            ensure_one(root.path(), "a\nb\n", Mode::Check),
            FileStatus::Unchanged
        );
    }

    /// Three files on disk (the second unchanged) and new contents for all three.
    fn three_files(root: &Path) -> [GeneratedFile; 3] {
        std::fs::create_dir_all(root.join("out")).expect("mkdir");
        std::fs::write(root.join("out/a.yaml"), "old a\r\n").expect("writes");
        std::fs::write(root.join("out/b.rs"), "same b\n").expect("writes");
        [
            file("out/a.yaml", "new a\n"),
            file("out/b.rs", "same b\n"),
            file("out/c.rs", "new c\n"),
        ]
    }

    fn listing(root: &Path) -> Vec<(String, Vec<u8>)> {
        let mut found: Vec<_> = std::fs::read_dir(root.join("out"))
            .expect("lists")
            .map(|entry| {
                let path = entry.expect("entry").path();
                let name = path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&path).expect("reads"))
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_set_is_written_in_order_with_one_status_each() {
        let root = tempfile::tempdir().expect("temporary folder");
        let files = three_files(root.path());
        let statuses = ensure_files(root.path(), &files, Mode::Write).expect("writes");
        assert_eq!(
            statuses,
            [
                FileStatus::Written,
                FileStatus::Unchanged,
                FileStatus::Written
            ]
        );
        assert_eq!(
            listing(root.path()),
            [
                ("a.yaml".to_owned(), b"new a\n".to_vec()),
                ("b.rs".to_owned(), b"same b\n".to_vec()),
                ("c.rs".to_owned(), b"new c\n".to_vec()),
            ]
        );
    }

    #[test]
    fn a_failed_rename_puts_back_the_files_already_replaced() {
        let root = tempfile::tempdir().expect("temporary folder");
        let files = three_files(root.path());
        let before = listing(root.path());
        let mut renames = 0;
        // The first rename (a.yaml) succeeds, the second (c.rs) fails.
        let result = ensure_files_with(root.path(), &files, Mode::Write, |temporary, path| {
            renames += 1;
            if renames == 2 {
                return Err(std::io::Error::other("disk full"));
            }
            persist(temporary, path)
        });
        let Err(CodegenError::Io { path, action, .. }) = result else {
            panic!("the failed rename is the error: {result:?}")
        };
        assert_eq!((path, action), (root.path().join("out/c.rs"), "replace"));
        assert_eq!(
            listing(root.path()),
            before,
            "every file is as it was, byte for byte (CRLF kept), and no temporary file is left"
        );
    }

    #[test]
    fn a_failed_restore_says_the_tree_is_mixed_and_why() {
        let root = tempfile::tempdir().expect("temporary folder");
        let files = three_files(root.path());
        let mut renames = 0;
        let result = ensure_files_with(root.path(), &files, Mode::Write, |temporary, path| {
            renames += 1;
            if renames == 2 {
                // Something else takes a.yaml's place, so it cannot be put back.
                let replaced = root.path().join("out/a.yaml");
                std::fs::remove_file(&replaced).expect("removes");
                std::fs::create_dir_all(replaced.join("in-the-way")).expect("mkdir");
                return Err(std::io::Error::other("disk full"));
            }
            persist(temporary, path)
        });
        let Err(error @ CodegenError::Restore { .. }) = result else {
            panic!("a failed restore is reported as such: {result:?}")
        };
        let message = error.to_string();
        assert!(
            message.contains("out/c.rs: cannot replace: disk full")
                && message.contains("out/a.yaml: cannot restore: ")
                && message.contains("some generated files are new and some old"),
            "{message}"
        );
    }

    #[test]
    fn a_failure_while_staging_changes_nothing() {
        let root = tempfile::tempdir().expect("temporary folder");
        let mut files = three_files(root.path()).to_vec();
        // `blocked` is a file, so no folder can be created below it.
        std::fs::write(root.path().join("blocked"), "").expect("writes");
        files.push(file("blocked/d.rs", "new d\n"));
        let before = listing(root.path());
        let error = ensure_files(root.path(), &files, Mode::Write).expect_err("cannot stage d.rs");
        assert!(
            error
                .to_string()
                .contains("blocked/d.rs: cannot create the folder of"),
            "{error}"
        );
        assert_eq!(listing(root.path()), before);
    }
}
