//! The runtime reads bottom-up, and the code generator's stages are layers
//! (`codegen_stages`, below). The runtime: `sonoran-cms/src/lib.rs` declares its modules
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

// The code generator's stages are layers: each module of a stage folder
// (`import`, `transform`, `check`, `generate`, `report`, in that order) uses
// only modules of its own stage, of earlier stages, and the shared leaves
// (`error`, `json_pointer`, `naming`, `operations`, `outputs`, `paths`),
// which use no stage; only `pipeline` ties all stages together. And no
// module's uses lead back to it (no import circles). A module's uses are its
// `crate::..` paths, outside comments and its `#[cfg(test)]` module, with the
// crate root's aliases (`crate::model` is `check::model`) resolved.
mod codegen_stages {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use sonoran_cms_tests::workspace_root;

    use super::code_of;

    const STAGES: [&str; 5] = ["import", "transform", "check", "generate", "report"];
    const LEAVES: [&str; 6] = [
        "error",
        "json_pointer",
        "naming",
        "operations",
        "outputs",
        "paths",
    ];

    fn source_folder() -> PathBuf {
        workspace_root().join("codegen/src")
    }

    /// Every module file under `src`, by its path without `.rs` (`check/model`;
    /// a folder's `mod.rs` is the folder's name).
    fn modules() -> BTreeMap<String, String> {
        fn walk(folder: &Path, root: &Path, found: &mut BTreeMap<String, String>) {
            for entry in std::fs::read_dir(folder).expect("a readable folder") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    walk(&path, root, found);
                } else if path.extension().is_some_and(|extension| extension == "rs") {
                    let relative = path
                        .strip_prefix(root)
                        .expect("under src")
                        .with_extension("")
                        .to_string_lossy()
                        .replace('\\', "/");
                    let name = relative
                        .strip_suffix("/mod")
                        .map_or(relative.clone(), str::to_owned);
                    found.insert(
                        name,
                        std::fs::read_to_string(&path).expect("a readable file"),
                    );
                }
            }
        }
        let mut found = BTreeMap::new();
        walk(&source_folder(), &source_folder(), &mut found);
        found
    }

    /// The crate root's aliases: `pub use check::{lint, model}` makes `model`
    /// stand for `check/model`.
    fn aliases(lib: &str) -> BTreeMap<String, String> {
        let mut found = BTreeMap::new();
        for (at, _) in lib.match_indices("pub use ") {
            let rest = &lib[at + "pub use ".len()..];
            let statement = &rest[..rest.find(';').unwrap_or(rest.len())];
            let Some((stage, names)) = statement.split_once("::{") else {
                continue;
            };
            if !STAGES.contains(&stage.trim()) {
                continue;
            }
            for name in names
                .split(|character: char| !(character.is_alphanumeric() || character == '_'))
                .filter(|name| !name.is_empty())
            {
                found.insert(name.to_owned(), format!("{}/{name}", stage.trim()));
            }
        }
        found
    }

    /// The modules `code` names through `crate::` paths (and `use crate::{..}`
    /// groups), resolved to module names.
    fn uses(
        code: &str,
        modules: &BTreeMap<String, String>,
        aliases: &BTreeMap<String, String>,
    ) -> BTreeSet<String> {
        let resolve = |segments: &[&str]| -> Option<String> {
            let first = *segments.first()?;
            if let Some(module) = aliases.get(first) {
                return Some(module.clone());
            }
            if let Some(second) = segments.get(1) {
                let nested = format!("{first}/{second}");
                if modules.contains_key(&nested) {
                    return Some(nested);
                }
                // An item a stage re-exports from one of its modules
                // (`pub use self::progenitor::*`) is that module's.
                if let Some(glob) = modules.get(first).and_then(|source| {
                    let at = source.find("pub use self::")?;
                    let rest = &source[at + "pub use self::".len()..];
                    rest.find("::*").map(|end| rest[..end].to_owned())
                }) {
                    return Some(format!("{first}/{glob}"));
                }
            }
            modules.contains_key(first).then(|| first.to_owned())
        };
        let mut found = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for path in group.split(',') {
                    let segments: Vec<&str> = path.trim().split("::").collect();
                    found.extend(resolve(&segments));
                }
                continue;
            }
            let path: String = rest
                .chars()
                .take_while(|character| {
                    character.is_alphanumeric() || *character == '_' || *character == ':'
                })
                .collect();
            let segments: Vec<&str> = path
                .split("::")
                .filter(|segment| !segment.is_empty())
                .collect();
            found.extend(resolve(&segments));
        }
        found
    }

    /// The stage a module belongs to (its index in [`STAGES`]), `None` for a
    /// leaf, and `Some(STAGES.len())` for what ties the stages (`pipeline`, the
    /// crate root).
    fn stage_of(module: &str) -> Option<usize> {
        let top = module.split('/').next().unwrap_or(module);
        if let Some(stage) = STAGES.iter().position(|stage| *stage == top) {
            return Some(stage);
        }
        (!LEAVES.contains(&top)).then_some(STAGES.len())
    }

    fn graph() -> BTreeMap<String, BTreeSet<String>> {
        let modules = modules();
        let aliases = aliases(&modules["lib"]);
        modules
            .iter()
            .map(|(name, source)| {
                let mut used = uses(&code_of(source), &modules, &aliases);
                used.remove(name);
                // A stage folder's `mod.rs` declares its own modules.
                used.retain(|other| !other.starts_with(&format!("{name}/")));
                (name.clone(), used)
            })
            .collect()
    }

    #[test]
    fn no_stage_reaches_forward_and_leaves_use_no_stage() {
        let graph = graph();
        assert!(graph.contains_key("check/model") && graph.contains_key("generate/progenitor"));
        let mut wrong = Vec::new();
        for (module, used) in &graph {
            if module == "lib" {
                continue;
            }
            let own = stage_of(module);
            for other in used {
                let allowed = match (own, stage_of(other)) {
                    // A leaf uses leaves only.
                    (None, other_stage) => other_stage.is_none(),
                    (Some(_), None) => true,
                    (Some(own), Some(other_stage)) => other_stage <= own,
                };
                if !allowed {
                    wrong.push(format!("{module} uses {other}"));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "a module reaches a later stage (order: {STAGES:?}; leaves: {LEAVES:?}):\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn no_module_leads_back_to_itself() {
        let graph = graph();
        // Depth-first search from each module for a path back to it.
        for start in graph.keys().filter(|module| *module != "lib") {
            let mut stack: Vec<Vec<&String>> = vec![vec![start]];
            let mut seen = BTreeSet::new();
            while let Some(path) = stack.pop() {
                let last = path[path.len() - 1];
                for next in graph.get(last).into_iter().flatten() {
                    if next == start {
                        let circle: Vec<&str> = path.iter().map(|module| module.as_str()).collect();
                        panic!("an import circle: {} -> {start}", circle.join(" -> "));
                    }
                    if next != "lib" && seen.insert(next) {
                        let mut longer = path.clone();
                        longer.push(next);
                        stack.push(longer);
                    }
                }
            }
        }
    }

    #[test]
    fn a_forward_use_is_caught() {
        // The check itself: a `check` module naming a `generate` one is refused.
        let modules = modules();
        let aliases = aliases(&modules["lib"]);
        let used = uses(
            "fn f() { crate::generate::progenitor::settings(); crate::model::read(x); }",
            &modules,
            &aliases,
        );
        assert!(
            used.contains("generate/progenitor") && used.contains("check/model"),
            "{used:?}"
        );
        assert!(stage_of("generate/progenitor") > stage_of("check/one_of"));
        assert_eq!(stage_of("outputs"), None);
        assert_eq!(stage_of("pipeline"), Some(STAGES.len()));
    }
}
