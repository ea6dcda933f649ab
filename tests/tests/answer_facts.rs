//! The types against the evidence, not against themselves: every fact the
//! evidence gives about a field of an answer (`tests/fixtures/answer_facts.json`:
//! "may be null", "may be absent", "always sent") is tried on the operation's
//! example answer through the same check the client runs, so a type that is
//! stricter than the API (refuses a `null` the API sends) or looser than the
//! evidence (makes optional what is always sent) fails here.

use serde_json::Value;
use sonoran_cms_tests::{enriched_spec, spec_operations, workspace_root};

fn facts() -> Vec<Value> {
    let path = workspace_root().join("tests/fixtures/answer_facts.json");
    let text = std::fs::read_to_string(&path).expect("the answer facts fixture");
    let fixture: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    fixture["facts"]
        .as_array()
        .expect("a list of facts")
        .clone()
}

/// The objects below `data` that hold the field `path` names, and its name:
/// `items[].discordId` is `discordId` in every item of `items`; a path on a
/// `data` that is a list applies to every item.
fn parents<'a>(data: &'a mut Value, path: &str) -> (Vec<&'a mut Value>, String) {
    let mut steps: Vec<&str> = path.split('.').collect();
    let field = steps.pop().unwrap_or_default().to_owned();
    let mut current: Vec<&'a mut Value> = vec![data];
    if current.first().is_some_and(|value| value.is_array()) && !path.starts_with("[]") {
        steps.insert(0, "[]");
    }
    let field = field.trim_start_matches("[]").to_owned();
    for step in steps {
        let (key, each) = match step.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (step, false),
        };
        let mut next = Vec::new();
        for value in current {
            let value = if key.is_empty() {
                Some(value)
            } else {
                value.get_mut(key)
            };
            match (value, each) {
                (Some(Value::Array(items)), true) => next.extend(items.iter_mut()),
                (Some(value), false) if value.is_object() => next.push(value),
                _ => {}
            }
        }
        current = next;
    }
    (
        current
            .into_iter()
            .filter(|value| value.is_object())
            .collect(),
        field,
    )
}

/// The example answer of every operation, by operationId.
fn examples() -> Vec<(String, String, Value)> {
    let spec = enriched_spec();
    spec_operations(&spec)
        .into_iter()
        .filter_map(|operation| {
            let example =
                operation.operation["responses"]["2XX"]["content"]["application/json"]["example"]
                    .clone();
            (!example.is_null()).then_some((operation.operation_id, operation.rust_name, example))
        })
        .collect()
}

#[test]
fn every_fact_the_evidence_gives_about_an_answer_holds_for_its_type() {
    let examples = examples();
    let (mut held, mut without_example, mut deviations) = (0, Vec::new(), Vec::new());
    let mut problems = Vec::new();
    for fact in facts() {
        let operation_id = fact["operation"].as_str().expect("an operation");
        let path = fact["field"].as_str().expect("a field");
        if let Some(reason) = fact["deviation"].as_str() {
            deviations.push(format!("{operation_id} {path}: {reason}"));
            continue;
        }
        let Some((_, rust_name, example)) = examples.iter().find(|(id, _, _)| id == operation_id)
        else {
            without_example.push(format!("{operation_id} {path}"));
            continue;
        };
        for kind in fact["facts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let mut body = example.clone();
            let (targets, field) = parents(&mut body["data"], path);
            if targets.is_empty()
                || (kind == "always sent"
                    && !targets.iter().any(|target| target.get(&field).is_some()))
            {
                without_example.push(format!("{operation_id} {path} ({kind})"));
                continue;
            }
            for target in targets {
                let object = target.as_object_mut().expect("an object");
                match kind {
                    "may be null" => {
                        object.insert(field.clone(), Value::Null);
                    }
                    _ => {
                        object.shift_remove(&field);
                    }
                }
            }
            let bytes = serde_json::to_vec(&body).expect("serializes");
            let outcome = sonoran_cms::testing::check_success_body(
                rust_name.parse().expect("an operation of the client"),
                &bytes,
            )
            .expect("a JSON answer");
            let holds = match (kind, &outcome) {
                ("may be null" | "may be absent", Ok(())) => true,
                ("always sent", Err(failure)) => failure
                    .message
                    .contains(&format!("missing field `{field}`")),
                _ => false,
            };
            if holds {
                held += 1;
            } else {
                problems.push(format!(
                    "{operation_id} `data.{path}` {kind} ({}): the type says {outcome:?}",
                    fact["sources"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    println!(
        "answer facts: {held} hold; {} not shown by the example (nothing to vary); {} deliberate deviations:\n  {}",
        without_example.len(),
        deviations.len(),
        deviations.join("\n  ")
    );
    assert!(
        problems.is_empty(),
        "{} fact(s) do not hold:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    assert!(held >= 80, "the facts were tried ({held} held)");
}
