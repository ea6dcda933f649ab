//! The runtime reads bottom-up: `sonoran-cms/src/lib.rs` declares its modules
//! in layers, and each module uses only modules declared before it (no import
//! circles). A module's uses are its `crate::module` paths and the items the
//! crate root re-exports from a module (`crate::Error` is `error`'s), outside
//! comments and its `#[cfg(test)]` module.

use std::collections::BTreeMap;

use sonoran_cms_tests::workspace_root;

/// Items of the crate root that stand for a module: the generated client's
/// own, and every `pub use module::{..}` of lib.rs.
fn root_items(lib: &str) -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = [
        ("Client", "generated"),
        ("ResponseValue", "generated"),
        ("types", "generated"),
        ("builder", "generated"),
        ("Result", "error"),
    ]
    .iter()
    .map(|(item, module)| ((*item).to_owned(), (*module).to_owned()))
    .collect();
    for (at, _) in lib.match_indices("pub use ") {
        let rest = &lib[at + "pub use ".len()..];
        let statement = &rest[..rest.find(';').unwrap_or(rest.len())];
        let Some((module, names)) = statement.split_once("::") else {
            continue;
        };
        for name in names
            .split(|character: char| !(character.is_alphanumeric() || character == '_'))
            .filter(|name| !name.is_empty() && *name != "self")
        {
            items.push((name.to_owned(), module.trim().to_owned()));
        }
    }
    items
}

/// The code of a module without comments and without its tests.
fn code_of(source: &str) -> String {
    let source = source
        .find("#[cfg(test)]\nmod tests")
        .map_or(source, |start| &source[..start]);
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `code` names `name` as a path segment after `crate::` (directly, or
/// inside a `use crate::{..}` group).
fn uses(code: &str, name: &str) -> bool {
    let is_boundary = |character: Option<char>| {
        character.is_none_or(|character| !(character.is_alphanumeric() || character == '_'))
    };
    let mentions = |text: &str, prefix: &str| {
        text.match_indices(&format!("{prefix}{name}"))
            .any(|(at, found)| is_boundary(text[at + found.len()..].chars().next()))
    };
    if mentions(code, "crate::") {
        return true;
    }
    code.match_indices("use crate::{").any(|(at, _)| {
        let group = &code[at..];
        let group = &group[..group.find("};").unwrap_or(group.len())];
        group
            .split(|character: char| !(character.is_alphanumeric() || character == '_'))
            .any(|word| word == name)
    })
}

#[test]
fn every_runtime_module_uses_only_modules_declared_before_it() {
    let source_dir = workspace_root().join("sonoran-cms/src");
    let lib = std::fs::read_to_string(source_dir.join("lib.rs")).expect("lib.rs");
    let order: Vec<String> = lib
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let name = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            name.strip_suffix(';').map(str::to_owned)
        })
        .filter(|name| source_dir.join(format!("{name}.rs")).exists())
        .collect();
    assert!(order.len() > 15, "the modules of lib.rs: {order:?}");
    let position: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(index, name)| (name.as_str(), index))
        .collect();
    let items = root_items(&lib);
    assert!(items.len() > 20, "the crate root's items: {items:?}");
    let mut wrong = Vec::new();
    for (index, module) in order.iter().enumerate() {
        let source =
            std::fs::read_to_string(source_dir.join(format!("{module}.rs"))).expect("a module");
        let code = code_of(&source);
        let mut used: Vec<&str> = order
            .iter()
            .map(String::as_str)
            .filter(|other| *other != module && uses(&code, other))
            .collect();
        used.extend(
            items
                .iter()
                .filter(|(_, owner)| owner != module && position.contains_key(owner.as_str()))
                .filter(|(item, _)| uses(&code, item))
                .map(|(_, owner)| owner.as_str()),
        );
        for other in used {
            if position[other] > index {
                wrong.push(format!("`{module}` uses `{other}`, declared after it"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the layers of sonoran-cms/src/lib.rs do not hold:\n{}",
        wrong.join("\n")
    );
}
