//! `cargo xtask evidence import REPORT.json`: a probe report (`sonoran-cms
//! probe`) turned into proposed overlay actions, appended to the evidence file
//! that defines each schema they change (the operation's group file when the
//! schema comes from the docs), each citing the report (its hash and date) as
//! its source, for a maintainer to review before `evidence review` and `regen`.
//!
//! What each difference proposes:
//! - a member the type does not know: the member, typed as seen;
//! - a required member absent: `required` restated without it;
//! - `null` where the type says no: the member made nullable;
//! - a value the type does not list: the value added to its enum (only from a
//!   report made with `--include-values`: a redacted one has hashes);
//! - anything else (another type, no form fits, a status): nothing; the
//!   command lists it for the maintainer's decision.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use codegen::pipeline::{ENRICHED_SPEC_PATH, EVIDENCE_DIR};
use serde_json::{Value, json};

/// Where a difference's member lives in the enriched spec.
struct Place {
    /// The component the member's schema is written in.
    component: String,
    /// JSONPath of the member's parent object schema, from `$`.
    parent: String,
    /// The member's name (`None` for the answer itself).
    member: Option<String>,
    /// The member's schema, when the parent has one for it.
    schema: Option<Value>,
}

/// Walks `path` (`data.servers[].region`) from an operation's success schema.
fn locate(spec: &Value, success: &Value, path: &str) -> Option<Place> {
    let mut component = String::new();
    let mut json_path = String::new();
    let mut schema = success.clone();
    let resolve = |schema: &mut Value, component: &mut String, json_path: &mut String| {
        for _ in 0..16 {
            if let Some(name) = schema["$ref"]
                .as_str()
                .and_then(codegen::json_pointer::schema_component)
            {
                *json_path = format!("$.components.schemas.{name}");
                *schema = spec["components"]["schemas"][&name].clone();
                *component = name;
            } else if let Some([single]) = schema["allOf"].as_array().map(Vec::as_slice) {
                json_path.push_str(".allOf[0]");
                *schema = single.clone();
            } else if let Some([single]) = schema["oneOf"].as_array().map(Vec::as_slice) {
                json_path.push_str(".oneOf[0]");
                *schema = single.clone();
            } else {
                break;
            }
        }
    };
    resolve(&mut schema, &mut component, &mut json_path);
    let segments: Vec<String> = path
        .replace("[]", ".[]")
        .split('.')
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect();
    let (last, walk) = segments.split_last()?;
    for segment in walk {
        match segment.as_str() {
            "[]" => {
                json_path.push_str(".items");
                schema = schema["items"].clone();
            }
            "{key}" => {
                json_path.push_str(".additionalProperties");
                schema = schema["additionalProperties"].clone();
            }
            name => {
                json_path.push_str(&format!(".properties.{name}"));
                schema = schema["properties"][name].clone();
            }
        }
        if schema.is_null() {
            return None;
        }
        resolve(&mut schema, &mut component, &mut json_path);
    }
    let member_schema = schema["properties"].get(last.as_str()).cloned();
    Some(Place {
        component,
        parent: json_path,
        member: Some(last.clone()),
        schema: member_schema,
    })
}

/// The JSON Schema of a value seen as `seen` (a type name from the report).
fn schema_of(seen: &str) -> Value {
    match seen.split(' ').next().unwrap_or_default() {
        "array" => json!({"type": "array", "items": {}}),
        "object" => json!({"type": "object", "additionalProperties": true}),
        "null" => json!({"nullable": true}),
        kind @ ("string" | "integer" | "number" | "boolean") => json!({"type": kind}),
        _ => json!({}),
    }
}

/// The evidence file (name within the evidence folder) that defines the
/// component `name`, if one does.
fn defining_file(evidence: &[(String, Value)], name: &str) -> Option<String> {
    evidence.iter().find_map(|(file, overlay)| {
        overlay["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|action| {
                action["target"] == "$.components.schemas" && action["update"].get(name).is_some()
            })
            .then(|| file.clone())
    })
}

/// Reads the report at `report_path`, appends the proposed actions, and
/// prints what it did and what it left to the maintainer.
pub fn import(root: &Path, report_path: &Path) -> anyhow::Result<()> {
    let report_text = std::fs::read_to_string(report_path)
        .with_context(|| format!("{}: cannot read the report", report_path.display()))?;
    let report: Value = serde_json::from_str(&report_text)
        .with_context(|| format!("{}: not a probe report (JSON)", report_path.display()))?;
    if report["tool"] != "sonoran-cms probe" {
        bail!(
            "{}: not a report of `sonoran-cms probe`",
            report_path.display()
        );
    }
    let hash = format!(
        "sha1:{}",
        &sha1_smol::Sha1::from(report_text.as_bytes())
            .digest()
            .to_string()[..12]
    );
    let date = report["date"].as_str().unwrap_or("an unknown date");
    let spec_text = std::fs::read_to_string(root.join(ENRICHED_SPEC_PATH))
        .with_context(|| format!("{ENRICHED_SPEC_PATH}: cannot read"))?;
    let spec = codegen::load::parse_yaml(&codegen::SourceText::new(ENRICHED_SPEC_PATH, spec_text))?;
    let sources = codegen::Sources::read(root)?;
    let evidence = codegen::pipeline::parsed_evidence(&sources)?;

    let mut proposed: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut left = Vec::new();
    for operation in report["operations"].as_array().into_iter().flatten() {
        let operation_id = operation["operation"].as_str().unwrap_or_default();
        let Some(method_item) = codegen::operations::json_with_ids(&spec)
            .find(|candidate| candidate["operationId"] == operation_id)
        else {
            left.push(format!("{operation_id}: not in the spec"));
            continue;
        };
        let group = method_item["tags"][0]
            .as_str()
            .unwrap_or("general")
            .to_owned();
        let success = codegen::operations::json_success(method_item)
            .map(|(_, response)| codegen::operations::json_body_schema(response).clone())
            .unwrap_or(Value::Null);
        for difference in operation["differences"].as_array().into_iter().flatten() {
            let path = difference["path"].as_str().unwrap_or_default();
            let kind = difference["kind"].as_str().unwrap_or_default();
            let seen = difference["seen"].as_str().unwrap_or_default();
            let count = difference["count"].as_u64().unwrap_or(1);
            let source = format!(
                "Proposed from the probe report {hash} ({date}): {operation_id} answered {kind} at `{path}` \
                 ({count}×). Source: sonoran-cms probe report {hash}, {date}. Review before release."
            );
            let place = locate(&spec, &success, path);
            let (Some(place), false) = (place, path.is_empty()) else {
                left.push(format!(
                    "{operation_id}: {kind} at `{path}` ({seen}): for the maintainer to decide"
                ));
                continue;
            };
            let member = place.member.clone().unwrap_or_default();
            let file = defining_file(&evidence, &place.component)
                .unwrap_or_else(|| format!("{group}.overlay.yaml"));
            let actions = proposed.entry(file).or_default();
            match kind {
                "a member the type does not know" => actions.push(json!({
                    "description": source,
                    "target": format!("{}.properties", place.parent),
                    "update": {member.as_str(): schema_of(seen)},
                })),
                "a required member absent" => {
                    let parent = spec_at(&spec, &place.parent);
                    let required: Vec<Value> = parent["required"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|name| name.as_str() != Some(member.as_str()))
                        .cloned()
                        .collect();
                    let dropped = if required.is_empty() {
                        format!("Drop `required`: `{member}` was its only member. {source}")
                    } else {
                        format!("Drop `required`; the next action restates it without `{member}`. {source}")
                    };
                    actions.push(json!({
                        "description": dropped,
                        "target": format!("{}.required", place.parent),
                        "remove": true,
                    }));
                    if !required.is_empty() {
                        actions.push(json!({
                            "description": source,
                            "target": place.parent,
                            "update": {"required": required},
                        }));
                    }
                }
                "null where the type says no" => match &place.schema {
                    // A `$ref` takes no sibling in OpenAPI 3.0: restated as a
                    // nullable `allOf` of it.
                    Some(schema) if schema.get("$ref").is_some() => {
                        actions.push(json!({
                            "description": format!("Drop `{member}`; the next action restates it as nullable. {source}"),
                            "target": format!("{}.properties.{member}", place.parent),
                            "remove": true,
                        }));
                        actions.push(json!({
                            "description": source,
                            "target": format!("{}.properties", place.parent),
                            "update": {member.as_str(): {"nullable": true, "allOf": [schema]}},
                        }));
                    }
                    _ => actions.push(json!({
                        "description": source,
                        "target": format!("{}.properties.{member}", place.parent),
                        "update": {"nullable": true},
                    })),
                },
                "a value the type does not list" if !seen.starts_with("hash:") => {
                    let value: Value = serde_json::from_str(seen).unwrap_or(Value::String(seen.to_owned()));
                    match enum_component(&spec, place.schema.as_ref()) {
                        Some(name) => actions.push(json!({
                            "description": source,
                            "target": format!("$.components.schemas.{name}"),
                            "update": {"enum": [value]},
                        })),
                        None => left.push(format!(
                            "{operation_id}: {kind} at `{path}`: its value set is not a component"
                        )),
                    }
                }
                "a value the type does not list" => left.push(format!(
                    "{operation_id}: {kind} at `{path}`: the report is redacted; run the probe with \
                     --include-values to import the value"
                )),
                _ => left.push(format!(
                    "{operation_id}: {kind} at `{path}` ({seen}): for the maintainer to decide"
                )),
            }
        }
    }
    proposed.retain(|_, actions| !actions.is_empty());
    for (file, actions) in &proposed {
        let relative = format!("{EVIDENCE_DIR}/{file}");
        let path = root.join(&relative);
        let mut text =
            std::fs::read_to_string(&path).with_context(|| format!("{relative}: cannot read"))?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "# Proposed by `cargo xtask evidence import` from the probe report {hash} ({date}).\n"
        ));
        text.push_str(&serde_yaml::to_string(actions).context("the actions as YAML")?);
        std::fs::write(&path, text).with_context(|| format!("{relative}: cannot write"))?;
        println!("appended {} action(s) to {relative}", actions.len());
    }
    if proposed.is_empty() {
        println!("no action proposed");
    }
    for line in &left {
        println!("not imported: {line}");
    }
    println!(
        "next: review the actions, then `cargo xtask evidence review` (if regen asks) and `cargo xtask regen`"
    );
    Ok(())
}

/// The schema at a simple JSONPath (`$.components.schemas.X.properties.y.items`).
fn spec_at(spec: &Value, json_path: &str) -> Value {
    let mut value = spec;
    for part in json_path.trim_start_matches("$.").split('.') {
        value = match part.strip_suffix("[0]") {
            Some(key) => &value[key][0],
            None => &value[part],
        };
    }
    value.clone()
}

/// The component holding the enum a member's schema names: a closed value set,
/// or the known values of an open one.
fn enum_component(spec: &Value, schema: Option<&Value>) -> Option<String> {
    let schemas = &spec["components"]["schemas"];
    let mut current = schema?.clone();
    for _ in 0..8 {
        if let Some(name) = current["$ref"]
            .as_str()
            .and_then(codegen::json_pointer::schema_component)
        {
            if schemas[&name].get("enum").is_some() {
                return Some(name);
            }
            current = schemas[&name].clone();
        } else if let Some(forms) = current["oneOf"]
            .as_array()
            .or_else(|| current["allOf"].as_array())
        {
            current = forms.first()?.clone();
        } else {
            return None;
        }
    }
    None
}
