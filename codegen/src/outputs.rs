//! The one write-or-compare helper every generated file goes through: `regen`
//! writes atomically (temporary file, then rename); `--check` only compares.

use std::io::Write;
use std::path::Path;

use crate::error::CodegenError;
use crate::generate::normalize_newlines;

/// A file the generator produces, held in memory until every file is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the workspace root, with `/` separators.
    pub relative_path: String,
    /// The full contents, LF line endings, trailing newline.
    pub contents: String,
}

/// Whether [`ensure_file_contents`] may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rewrite files whose contents differ.
    Write,
    /// Write nothing; report files whose contents differ as stale.
    Check,
}

/// What [`ensure_file_contents`] found (and did).
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

/// Compares `file` with what is on disk below `workspace_root` and, in
/// [`Mode::Write`], replaces it atomically when it differs. Line endings on disk are
/// normalized before comparing, so a CRLF checkout is not stale.
pub fn ensure_file_contents(
    workspace_root: &Path,
    file: &GeneratedFile,
    mode: Mode,
) -> Result<FileStatus, CodegenError> {
    let path = workspace_root.join(&file.relative_path);
    let on_disk = match std::fs::read_to_string(&path) {
        Ok(text) => Some(normalize_newlines(&text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(CodegenError::Io {
                path,
                action: "read",
                source,
            });
        }
    };
    if on_disk.as_deref() == Some(file.contents.as_str()) {
        return Ok(FileStatus::Unchanged);
    }
    match mode {
        Mode::Check => Ok(FileStatus::Stale {
            diff: unified_diff(
                &file.relative_path,
                on_disk.as_deref().unwrap_or_default(),
                &file.contents,
            ),
        }),
        Mode::Write => {
            write_atomically(&path, &file.contents)?;
            Ok(FileStatus::Written)
        }
    }
}

/// Writes to a temporary file beside `path`, then renames it over `path`, so a
/// reader (or a crash) never sees half a file.
fn write_atomically(path: &Path, contents: &str) -> Result<(), CodegenError> {
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
        .write_all(contents.as_bytes())
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
    temporary.persist(path).map_err(|error| CodegenError::Io {
        path: path.to_owned(),
        action: "replace",
        source: error.error,
    })?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(contents: &str) -> GeneratedFile {
        GeneratedFile {
            relative_path: "out/generated.rs".to_owned(),
            contents: contents.to_owned(),
        }
    }

    #[test]
    fn check_never_writes_and_reports_a_diff() {
        let root = tempfile::tempdir().expect("temporary folder");
        let status =
            ensure_file_contents(root.path(), &file("new\n"), Mode::Check).expect("compares");
        let FileStatus::Stale { diff } = status else {
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
            ensure_file_contents(root.path(), &file("one\n"), Mode::Write).expect("writes"),
            FileStatus::Written
        );
        assert_eq!(
            ensure_file_contents(root.path(), &file("one\n"), Mode::Write).expect("compares"),
            FileStatus::Unchanged
        );
        assert_eq!(
            ensure_file_contents(root.path(), &file("two\n"), Mode::Write).expect("writes"),
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
            ensure_file_contents(root.path(), &file("a\nb\n"), Mode::Check).expect("compares"),
            FileStatus::Unchanged
        );
    }
}
