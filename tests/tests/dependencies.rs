//! The crates users depend on (the client, its mocks, its command line) must not
//! pull in the generator: their dependency trees hold `progenitor-client` and
//! runtime crates only, so users' builds stay light.

use sonoran_cms_tests::workspace_root;

/// Crates that belong to the generator side of the workspace.
const GENERATOR_CRATES: [&str; 6] = [
    "progenitor",
    "progenitor-impl",
    "openapiv3",
    "typify",
    "typify-impl",
    "prettyplease",
];

/// The crates of `package`'s normal dependency tree, each once.
fn normal_dependencies(package: &str) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--package",
            package,
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--offline",
            "--locked",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Every crate users depend on (the client, its mocks, its command line) pulls
/// in the client's runtime and none of the generator.
#[test]
fn no_users_crate_depends_on_a_generator_crate() {
    for package in ["sonoran-cms", "sonoran-cms-httpmock", "sonoran-cms-cli"] {
        let crate_names = normal_dependencies(package);
        assert!(
            crate_names.iter().any(|name| name == "progenitor-client"),
            "{package}: the runtime half is there: {crate_names:?}"
        );
        for generator in GENERATOR_CRATES {
            assert!(
                !crate_names.iter().any(|name| name == generator),
                "{package} depends on the generator crate `{generator}`"
            );
        }
    }
}
