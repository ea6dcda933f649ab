//! Every operation's answer is read tolerantly, checked data-driven from the spec:
//! the docs' example and the ways a live API varies it (each optional field
//! `null`, each optional field absent, unknown fields everywhere, ids of 0, `meta`
//! absent, `null` or of another shape, and a `data` of each form the spec allows)
//! all decode as the operation's type, through the same check the client runs on
//! every answer. A field the API always sends, left out, fails with its JSON path.
//! An operation added to the spec gets the same checks.

use serde_json::{Map, Value, json};
use sonoran_cms_tests::{SpecOperation, enriched_spec, spec_operations};

/// A member of an example: where it is, and what its schema says of it.
#[derive(Debug)]
struct Member {
    /// The JSON pointer of the member in the body.
    pointer: String,
    /// serde_path_to_error's path of it (`data.items[0].accId`).
    path: String,
    /// The parent schema requires it.
    required: bool,
    /// Its schema allows `null` (or is open JSON).
    nullable: bool,
    /// It sits inside an alternative (`oneOf`): a change to it may make the value
    /// another alternative rather than fail.
    in_union: bool,
}

/// Follows `$ref` and single-element `allOf` wrappers.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..16 {
        if let Some(reference) = schema["$ref"].as_str() {
            schema = spec
                .pointer(&reference.replacen('#', "", 1))
                .unwrap_or_else(|| panic!("`{reference}` resolves"));
        } else if let Some([only]) = schema["allOf"].as_array().map(Vec::as_slice) {
            schema = only;
        } else {
            break;
        }
    }
    schema
}

fn is_open(schema: &Value) -> bool {
    schema.get("type").is_none() && schema.get("oneOf").is_none() && schema.get("$ref").is_none()
}

fn allows_null(spec: &Value, schema: &Value) -> bool {
    schema["nullable"] == json!(true)
        || resolve(spec, schema)["nullable"] == json!(true)
        || is_open(resolve(spec, schema))
}

/// Whether `value` is plausibly of `schema` (its JSON kind, and for an object
/// every required member present): enough to pick the alternative of a `oneOf`
/// a value is meant as.
fn fits(spec: &Value, schema: &Value, value: &Value) -> bool {
    let schema = resolve(spec, schema);
    if let Some(variants) = schema["oneOf"].as_array() {
        return variants.iter().any(|variant| fits(spec, variant, value));
    }
    match (schema["type"].as_str(), value) {
        (_, Value::Null) => allows_null(spec, schema),
        (None, _) => true,
        (Some("object"), Value::Object(members)) => schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .all(|field| members.contains_key(field)),
        (Some("array"), Value::Array(_)) => true,
        (Some("string"), Value::String(_)) => true,
        (Some("boolean"), Value::Bool(_)) => true,
        (Some("integer"), Value::Number(number)) => number.is_i64() || number.is_u64(),
        (Some("number"), Value::Number(_)) => true,
        _ => false,
    }
}

/// Every object member of `value`, read against `schema`, depth first.
fn members(
    spec: &Value,
    schema: &Value,
    value: &Value,
    pointer: &str,
    path: &str,
    in_union: bool,
    out: &mut Vec<Member>,
) {
    let schema = resolve(spec, schema);
    if let Some(variants) = schema["oneOf"].as_array() {
        if let Some(variant) = variants.iter().find(|variant| fits(spec, variant, value)) {
            members(spec, variant, value, pointer, path, true, out);
        }
        return;
    }
    match value {
        Value::Object(object) => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (name, member) in object {
                // A map's entries are data, not fields: only their insides are members.
                let is_field = schema["properties"].get(name).is_some();
                let member_schema = schema["properties"].get(name).or_else(|| {
                    schema
                        .get("additionalProperties")
                        .filter(|extra| extra.is_object())
                });
                let Some(member_schema) = member_schema else {
                    continue;
                };
                let member_pointer =
                    format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
                let member_path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                if is_field {
                    out.push(Member {
                        pointer: member_pointer.clone(),
                        path: member_path.clone(),
                        required: required.contains(&name.as_str()),
                        nullable: allows_null(spec, member_schema),
                        in_union,
                    });
                }
                members(
                    spec,
                    member_schema,
                    member,
                    &member_pointer,
                    &member_path,
                    in_union,
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if let Some(item_schema) = schema.get("items") {
                    members(
                        spec,
                        item_schema,
                        item,
                        &format!("{pointer}/{index}"),
                        &format!("{path}[{index}]"),
                        in_union,
                        out,
                    );
                }
            }
        }
        _ => {}
    }
}

/// A small value of `schema`: its required members only, each the simplest of its
/// type. Used for operations the docs give no example of, and for each form of a
/// `data` with alternatives.
fn sample(spec: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(spec, schema);
    if depth > 12 {
        return Value::Null;
    }
    if let Some(first) = schema["oneOf"]
        .as_array()
        .and_then(|variants| variants.first())
    {
        return sample(spec, first, depth + 1);
    }
    match (schema["type"].as_str(), schema["format"].as_str()) {
        (Some("object"), _) => {
            let mut object = Map::new();
            for field in schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                object.insert(
                    field.to_owned(),
                    sample(spec, &schema["properties"][field], depth + 1),
                );
            }
            Value::Object(object)
        }
        (Some("array"), _) => json!([]),
        (Some("string"), Some("uuid")) => json!("00000000-0000-0000-0000-000000000000"),
        (Some("string"), Some("date-time")) => json!("2026-01-01T00:00:00Z"),
        (Some("string"), _) => schema["enum"]
            .get(0)
            .cloned()
            .unwrap_or_else(|| json!("text")),
        (Some("integer"), _) => json!(schema["minimum"].as_i64().unwrap_or(0)),
        (Some("number"), _) => json!(0.5),
        (Some("boolean"), _) => json!(true),
        _ => Value::Null,
    }
}

fn success_schema(operation: &SpecOperation) -> Option<(&Value, Option<&Value>)> {
    let media = operation.operation["responses"]
        .as_object()?
        .iter()
        .find(|(status, _)| status.starts_with('2'))?
        .1
        .pointer("/content/application~1json")?;
    Some((media.get("schema")?, media.get("example")))
}

fn decode(operation: &str, body: &Value) -> Result<(), sonoran_cms::error::DecodeFailure> {
    let bytes = serde_json::to_vec(body).expect("serializes");
    sonoran_cms::testing::check_success_body(
        operation.parse().expect("an operation of the client"),
        &bytes,
    )
    .unwrap_or_else(|| panic!("`{operation}` has a success body"))
}

fn with_member(body: &Value, pointer: &str, change: Option<Value>) -> Value {
    let mut body = body.clone();
    let (parent, last) = pointer.rsplit_once('/').expect("a member pointer");
    let key = last.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(object)) = body.pointer_mut(parent) {
        match change {
            Some(value) => object.insert(key, value),
            None => object.shift_remove(&key),
        };
    }
    body
}

/// Adds an unknown member to every object of `value`.
fn with_unknown_members(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut object: Map<String, Value> = object
                .iter()
                .map(|(name, member)| (name.clone(), with_unknown_members(member)))
                .collect();
            object.insert(
                "addedByALaterApiVersion".to_owned(),
                json!({"any": ["shape", 1, null]}),
            );
            Value::Object(object)
        }
        Value::Array(items) => Value::Array(items.iter().map(with_unknown_members).collect()),
        other => other.clone(),
    }
}

/// Sets every integer member named like an id to 0.
fn with_zero_ids(value: &Value) -> (Value, usize) {
    let mut count = 0;
    fn walk(value: &mut Value, count: &mut usize) {
        match value {
            Value::Object(object) => {
                for (name, member) in object.iter_mut() {
                    if codegen::naming::is_id_name(name) && member.is_i64() {
                        *member = json!(0);
                        *count += 1;
                    } else {
                        walk(member, count);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, count)),
            _ => {}
        }
    }
    let mut value = value.clone();
    walk(&mut value, &mut count);
    (value, count)
}

/// Records a problem unless `body` decodes as `operation`'s answer.
fn expect_ok(problems: &mut Vec<String>, operation: &str, what: String, body: &Value) {
    if let Err(failure) = decode(operation, body) {
        problems.push(format!("{operation}: {what}: {failure}\n    body: {body}"));
    }
}

#[derive(Default, Debug)]
struct Tally {
    examples: usize,
    samples: usize,
    null_members: usize,
    absent_members: usize,
    unknown_members: usize,
    zero_ids: usize,
    meta_forms: usize,
    data_forms: usize,
    required_absent_fail_at_path: usize,
}

#[test]
fn every_answer_and_its_realistic_variations_decode() {
    let spec = enriched_spec();
    let mut tally = Tally::default();
    let mut problems = Vec::new();
    let mut operations_checked = 0;
    for operation in spec_operations(&spec) {
        let Some((schema, example)) = success_schema(&operation) else {
            continue;
        };
        operations_checked += 1;
        let name = operation.rust_name.as_str();

        // A body made from the schema alone, so operations without an example count too.
        let minimal = sample(&spec, schema, 0);
        expect_ok(
            &mut problems,
            name,
            "the smallest body the schema allows".to_owned(),
            &minimal,
        );
        tally.samples += 1;

        // Every form `data` may take.
        let data_schema = resolve(&spec, schema)["properties"]["data"].clone();
        for variant in resolve(&spec, &data_schema)["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let mut body = minimal.clone();
            body["data"] = sample(&spec, variant, 0);
            expect_ok(
                &mut problems,
                name,
                format!("`data` as {}", body["data"]),
                &body,
            );
            tally.data_forms += 1;
        }
        if allows_null(&spec, &data_schema) {
            let mut body = minimal.clone();
            body["data"] = Value::Null;
            expect_ok(&mut problems, name, "`data` null".to_owned(), &body);
            tally.data_forms += 1;
        }

        // `meta` never fails a call.
        for (what, meta) in [
            ("absent", None),
            ("null", Some(Value::Null)),
            ("text", Some(json!("2026-04-15"))),
            (
                "another timestamp format",
                Some(json!({"timestamp": "15/04/2026", "path": "/v2"})),
            ),
        ] {
            let mut body = minimal.clone();
            match meta {
                Some(meta) => body["meta"] = meta,
                None => {
                    body.as_object_mut()
                        .map(|object| object.shift_remove("meta"));
                }
            }
            expect_ok(&mut problems, name, format!("`meta` {what}"), &body);
            tally.meta_forms += 1;
        }

        let Some(example) = example else {
            continue;
        };
        expect_ok(&mut problems, name, "the docs' example".to_owned(), example);
        tally.examples += 1;
        expect_ok(
            &mut problems,
            name,
            "unknown members in every object".to_owned(),
            &with_unknown_members(example),
        );
        tally.unknown_members += 1;
        let (zero_ids, count) = with_zero_ids(example);
        if count > 0 {
            expect_ok(
                &mut problems,
                name,
                format!("{count} id(s) set to 0"),
                &zero_ids,
            );
            tally.zero_ids += count;
        }

        let mut found = Vec::new();
        members(&spec, schema, example, "", "", false, &mut found);
        for member in &found {
            if !member.required || member.nullable {
                expect_ok(
                    &mut problems,
                    name,
                    format!("`{}` null", member.path),
                    &with_member(example, &member.pointer, Some(Value::Null)),
                );
                tally.null_members += 1;
            }
            if !member.required {
                expect_ok(
                    &mut problems,
                    name,
                    format!("`{}` absent", member.path),
                    &with_member(example, &member.pointer, None),
                );
                tally.absent_members += 1;
            } else if !member.in_union {
                // What the API always sends is required: without it, the error names it.
                match decode(name, &with_member(example, &member.pointer, None)) {
                    Err(failure)
                        if failure.message.contains(&format!(
                            "missing field `{}`",
                            member.pointer.rsplit('/').next().unwrap_or_default()
                        )) =>
                    {
                        let parent = member
                            .path
                            .rsplit_once('.')
                            .map_or(".", |(parent, _)| parent);
                        if failure.path == parent || (parent == "." && failure.path == ".") {
                            tally.required_absent_fail_at_path += 1;
                        } else {
                            problems.push(format!(
                                "{name}: `{}` absent fails at `{}`, not at `{parent}`",
                                member.path, failure.path
                            ));
                        }
                    }
                    other => problems.push(format!("{name}: `{}` absent: {other:?}", member.path)),
                }
            }
        }
    }
    println!("{operations_checked} operations with a JSON answer; decoded: {tally:?}");
    assert!(
        problems.is_empty(),
        "{} variation(s) do not decode:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    assert!(
        operations_checked >= 55,
        "the spec's operations were found ({operations_checked})"
    );
    assert!(
        tally.examples >= 50 && tally.null_members > 500 && tally.absent_members > 500,
        "{tally:?}"
    );
}

#[test]
fn every_operation_with_a_json_answer_is_checked_by_the_client() {
    let spec = enriched_spec();
    let mut expected: Vec<String> = spec_operations(&spec)
        .iter()
        .filter(|operation| success_schema(operation).is_some())
        .map(|operation| operation.rust_name.clone())
        .collect();
    expected.sort();
    let checked: Vec<&str> = sonoran_cms::Operation::ALL
        .iter()
        .filter(|operation| operation.has_success_body())
        .map(|operation| operation.as_str())
        .collect();
    assert_eq!(checked, expected);
}

#[test]
fn a_map_keyed_by_timestamps_keeps_every_entry() {
    let body = json!({"success": true, "data": [{
        "id": "5d9c7c9e-0c1a-4f5e-9a3b-2f0c1d2e3f4a",
        "history": {
            "2026-04-15T00:00:00.000Z": {"action": "created", "points": 2},
            "2026-05-01T12:30:00.000Z": {"action": "points", "points": 0}
        }
    }]});
    let response: sonoran_cms::types::GetMemberRecordsResponse =
        serde_json::from_value(body).expect("a history of two entries decodes");
    let sonoran_cms::types::MemberRecordList::List(records) = response.data else {
        panic!("a list of records");
    };
    let Some(sonoran_cms::types::MemberRecordHistory::ByTimestamp(history)) = &records[0].history
    else {
        panic!("a history keyed by timestamp");
    };
    assert_eq!(history.len(), 2);
    assert_eq!(history["2026-05-01T12:30:00.000Z"].points, Some(0));
}
