//! Plain `cargo test` fails when a checked-in generated file (the enriched spec or
//! the client) is stale, the same check as `cargo xtask regen --check`.

use sonoran_cms_tests::workspace_root;

#[test]
fn generated_files_are_up_to_date() {
    let root = workspace_root();
    let sources = codegen::Sources::read(&root).expect("the spec and enrichment are readable");
    let files = codegen::generate_files(&sources).expect("the spec generates");
    let statuses = codegen::ensure_files(&root, &files, codegen::Mode::Check)
        .expect("the files can be compared");
    let mut stale = Vec::new();
    for (file, status) in files.iter().zip(statuses) {
        match status {
            codegen::FileStatus::Unchanged => {}
            codegen::FileStatus::Stale { diff } => {
                stale.push(format!("{}\n{diff}", file.relative_path))
            }
            codegen::FileStatus::Written => unreachable!("check mode never writes"),
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are out of date; run `cargo xtask regen` and commit the result:\n{}",
        stale.join("\n")
    );
}
