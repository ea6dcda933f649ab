//! The crate users depend on must not pull in the generator: its dependency tree
//! holds `progenitor-client` and runtime crates only, so users' builds stay light.

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

#[test]
fn sonoran_cms_depends_on_no_generator_crate() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--package",
            "sonoran-cms",
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
    let tree = String::from_utf8_lossy(&output.stdout);
    let crate_names: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        crate_names.contains(&"progenitor-client"),
        "the runtime half is there: {crate_names:?}"
    );
    for generator in GENERATOR_CRATES {
        assert!(
            !crate_names.contains(&generator),
            "sonoran-cms depends on the generator crate `{generator}`"
        );
    }
}
