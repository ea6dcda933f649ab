//! `cargo xtask msrv`: whether `sonoran-cms` can build with its declared
//! `rust-version`, as far as this machine can tell without that toolchain:
//! every crate it builds with (normal and build dependencies, all features)
//! must declare a `rust-version` no newer than the library's. (Clippy's
//! `incompatible_msrv` lint, on in CI, checks the library's own use of the
//! standard library against the same version; CI builds with the toolchain
//! itself when it is installed.)

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};
use serde_json::Value;

/// The library whose MSRV is checked.
const LIBRARY: &str = "sonoran-cms";

/// `1.89` or `1.89.0` as numbers, for comparing.
fn version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split('.').map(str::parse::<u64>);
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

/// Checks the dependencies' declared `rust-version`s against the library's.
pub fn check(root: &Path) -> anyhow::Result<()> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--all-features",
        ])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata's JSON")?;
    let packages = metadata["packages"].as_array().context("no packages")?;
    let package = |id: &str| packages.iter().find(|package| package["id"] == id);
    let library = packages
        .iter()
        .find(|package| package["name"] == LIBRARY && package["source"].is_null())
        .context("no sonoran-cms package in the workspace")?;
    let declared = library["rust_version"]
        .as_str()
        .context("sonoran-cms declares no rust-version")?;
    let ours = version(declared).context("a rust-version that is not a version")?;
    let nodes = metadata["resolve"]["nodes"]
        .as_array()
        .context("no resolved graph")?;
    let mut seen = BTreeSet::new();
    let mut pending = VecDeque::from([library["id"].as_str().unwrap_or_default().to_owned()]);
    let mut newer = Vec::new();
    while let Some(id) = pending.pop_front() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(node) = nodes.iter().find(|node| node["id"] == id.as_str()) else {
            continue;
        };
        for dependency in node["deps"].as_array().into_iter().flatten() {
            // Normal and build dependencies: what a user's build compiles.
            let built = dependency["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|kind| kind["kind"].is_null() || kind["kind"] == "build");
            if built && let Some(next) = dependency["pkg"].as_str() {
                pending.push_back(next.to_owned());
            }
        }
        if let Some(found) = package(&id)
            && found["source"].is_string()
            && let Some(theirs) = found["rust_version"].as_str()
            && version(theirs).is_some_and(|theirs| theirs > ours)
        {
            newer.push(format!(
                "{} {} needs Rust {theirs}",
                found["name"].as_str().unwrap_or_default(),
                found["version"].as_str().unwrap_or_default()
            ));
        }
    }
    let dependencies = seen.len().saturating_sub(1);
    if newer.is_empty() {
        println!(
            "sonoran-cms declares rust-version {declared}; none of the {dependencies} crates it builds with \
             (all features) needs a newer Rust"
        );
        Ok(())
    } else {
        bail!(
            "sonoran-cms declares rust-version {declared}, but {} of the {dependencies} crates it builds with \
             need a newer Rust (raise rust-version, or pin an older release with `cargo update --precise`):\n  {}",
            newer.len(),
            newer.join("\n  ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert!(version("1.100").expect("a version") > version("1.89").expect("a version"));
        assert_eq!(version("1.89"), version("1.89.0"));
        assert_eq!(version("one"), None);
    }
}
