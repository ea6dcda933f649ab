//! `cargo xtask build-times`: what depending on `sonoran-cms` costs a user's clean
//! debug build, per TLS feature, against the same program written by hand on
//! reqwest + tokio + serde with the same TLS backend, measured side by side.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A TLS backend as both a `sonoran-cms` feature and the reqwest set-up a
/// hand-written client would choose for the same backend.
struct TlsBackend {
    /// The `sonoran-cms` feature.
    feature: &'static str,
    /// The hand-written crate's reqwest TLS feature.
    reqwest_feature: &'static str,
    /// Extra dependency lines the hand-written crate needs (ring for rustls).
    extra_dependencies: &'static str,
}

const BACKENDS: [TlsBackend; 3] = [
    TlsBackend {
        feature: "rustls",
        reqwest_feature: "rustls",
        extra_dependencies: "",
    },
    TlsBackend {
        feature: "rustls-ring",
        reqwest_feature: "rustls-no-provider",
        extra_dependencies: "rustls = { version = \"0.23.27\", default-features = false, features = [\"std\", \"tls12\", \"ring\"] }\n",
    },
    TlsBackend {
        feature: "native-tls",
        reqwest_feature: "native-tls",
        extra_dependencies: "",
    },
];

/// Which of the two crates of a pair.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Depends on `sonoran-cms` (and tokio for its runtime).
    Client,
    /// Depends on reqwest + tokio + serde only: what a hand-written client needs.
    HandWritten,
}

/// The manifest of a fresh user crate.
fn manifest(side: Side, backend: &TlsBackend, sonoran_cms_path: &Path) -> String {
    let mut text = String::from(
        "[package]\nname = \"fresh-user-crate\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\n",
    );
    text.push_str(
        "tokio = { version = \"1.54.1\", features = [\"macros\", \"rt-multi-thread\"] }\n",
    );
    match side {
        Side::Client => {
            let _ = writeln!(
                text,
                "sonoran-cms = {{ path = {:?}, default-features = false, features = [{:?}] }}",
                sonoran_cms_path.display().to_string(),
                backend.feature
            );
        }
        Side::HandWritten => {
            let _ = writeln!(
                text,
                "reqwest = {{ version = \"0.13.5\", default-features = false, features = [\"json\", \"http2\", {:?}] }}",
                backend.reqwest_feature
            );
            text.push_str("serde = { version = \"1.0.226\", features = [\"derive\"] }\n");
            text.push_str(backend.extra_dependencies);
        }
    }
    text
}

/// The program: one typed GET, as small as each side allows.
fn program(side: Side, backend: &TlsBackend) -> String {
    match side {
        Side::Client => "#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = sonoran_cms::Client::from_env()?;
    let servers = client.get_servers().send().await?;
    println!(\"{}\", servers.into_inner().data.servers.len());
    Ok(())
}
"
        .to_owned(),
        Side::HandWritten => {
            // Without a provider of its own, reqwest needs one installed first.
            let install_provider = if backend.reqwest_feature == "rustls-no-provider" {
                "    let _ = rustls::crypto::ring::default_provider().install_default();\n"
            } else {
                ""
            };
            format!(
                "#[derive(serde::Deserialize)]
struct Answer {{
    data: Servers,
}}

#[derive(serde::Deserialize)]
struct Servers {{
    servers: Vec<Server>,
}}

#[derive(serde::Deserialize)]
struct Server {{
    #[allow(dead_code)]
    id: u64,
}}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {{
{install_provider}    let key = std::env::var(\"SONORAN_CMS_API_KEY\")?;
    let answer: Answer = reqwest::Client::new()
        .get(\"https://api.sonorancms.com/v2/community/servers\")
        .bearer_auth(key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!(\"{{}}\", answer.data.servers.len());
    Ok(())
}}
"
            )
        }
    }
}

/// One clean debug build: its wall time and how many crates it compiled.
struct Measurement {
    elapsed: Duration,
    crates_compiled: usize,
}

/// Writes the crate into a new folder and builds it from nothing (its own target
/// folder), with the workspace's `Cargo.lock` so both sides resolve the versions
/// this repository tests.
fn measure(
    side: Side,
    backend: &TlsBackend,
    workspace_root: &Path,
    lockfile: &str,
) -> anyhow::Result<Measurement> {
    let folder = tempfile::tempdir().context("creating a folder for the user crate")?;
    let crate_root = folder.path();
    std::fs::create_dir(crate_root.join("src"))?;
    let sonoran_cms_path = workspace_root.join("sonoran-cms");
    std::fs::write(
        crate_root.join("Cargo.toml"),
        manifest(side, backend, &sonoran_cms_path),
    )?;
    std::fs::write(crate_root.join("src/main.rs"), program(side, backend))?;
    std::fs::write(crate_root.join("Cargo.lock"), lockfile)?;
    // Resolve (and download) first, outside the timed build.
    let fetched = Command::new(cargo())
        .arg("fetch")
        .current_dir(crate_root)
        .env("CARGO_TARGET_DIR", crate_root.join("target"))
        .output()
        .context("running cargo fetch")?;
    if !fetched.status.success() {
        bail!(
            "cargo fetch failed for the {} crate:\n{}",
            backend.feature,
            String::from_utf8_lossy(&fetched.stderr)
        );
    }
    let started = Instant::now();
    let built = Command::new(cargo())
        .args(["build", "--color", "never"])
        .current_dir(crate_root)
        .env("CARGO_TARGET_DIR", crate_root.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .context("running cargo build")?;
    let elapsed = started.elapsed();
    let log = String::from_utf8_lossy(&built.stderr);
    if !built.status.success() {
        bail!("the {} user crate did not build:\n{log}", backend.feature);
    }
    let crates_compiled = log
        .lines()
        .filter(|line| line.trim_start().starts_with("Compiling "))
        .count();
    Ok(Measurement {
        elapsed,
        crates_compiled,
    })
}

/// The cargo that runs this command, so the build uses the same toolchain.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// Measures every pair `rounds` times (the two sides of a pair one after the
/// other, so machine drift hits both alike) and prints a Markdown table of the
/// medians.
pub fn build_times(workspace_root: &Path, rounds: usize) -> anyhow::Result<()> {
    if rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let lockfile = std::fs::read_to_string(workspace_root.join("Cargo.lock"))
        .context("reading the workspace's Cargo.lock")?;
    let mut rows = Vec::new();
    for backend in &BACKENDS {
        let mut client_times = Vec::new();
        let mut hand_written_times = Vec::new();
        let mut crates = (0, 0);
        for round in 1..=rounds {
            for side in [Side::HandWritten, Side::Client] {
                let measurement = measure(side, backend, workspace_root, &lockfile)?;
                let name = match side {
                    Side::Client => "sonoran-cms",
                    Side::HandWritten => "reqwest + tokio + serde",
                };
                eprintln!(
                    "round {round}: {} with {name}: {:.1} s, {} crates",
                    backend.feature,
                    measurement.elapsed.as_secs_f64(),
                    measurement.crates_compiled
                );
                match side {
                    Side::Client => {
                        client_times.push(measurement.elapsed);
                        crates.0 = measurement.crates_compiled;
                    }
                    Side::HandWritten => {
                        hand_written_times.push(measurement.elapsed);
                        crates.1 = measurement.crates_compiled;
                    }
                }
            }
        }
        rows.push((
            backend.feature,
            median(client_times),
            median(hand_written_times),
            crates,
        ));
    }
    println!("| TLS | `sonoran-cms` | reqwest + tokio + serde | ratio | crates compiled |");
    println!("| --- | --- | --- | --- | --- |");
    for (feature, client, hand_written, (client_crates, hand_written_crates)) in rows {
        println!(
            "| `{feature}` | {:.1} s | {:.1} s | {:.2} | {client_crates} vs {hand_written_crates} |",
            client.as_secs_f64(),
            hand_written.as_secs_f64(),
            client.as_secs_f64() / hand_written.as_secs_f64()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_names_only_its_own_dependencies_with_the_backend_chosen() {
        let path = Path::new("/checkout/sonoran-cms");
        let ring = &BACKENDS[1];
        let client = manifest(Side::Client, ring, path);
        assert!(client.contains(
            "sonoran-cms = { path = \"/checkout/sonoran-cms\", default-features = false, features = [\"rustls-ring\"] }"
        ));
        assert!(!client.contains("reqwest"));
        let hand_written = manifest(Side::HandWritten, ring, path);
        assert!(hand_written.contains("\"rustls-no-provider\""));
        assert!(hand_written.contains("features = [\"std\", \"tls12\", \"ring\"]"));
        assert!(!hand_written.contains("sonoran-cms"));
        for side in [Side::Client, Side::HandWritten] {
            assert!(manifest(side, ring, path).contains("[workspace]"));
        }
    }

    #[test]
    fn the_median_is_the_middle_value() {
        let seconds = |values: &[u64]| values.iter().map(|&s| Duration::from_secs(s)).collect();
        assert_eq!(median(seconds(&[9, 1, 5])), Duration::from_secs(5));
        assert_eq!(median(seconds(&[4])), Duration::from_secs(4));
    }
}
