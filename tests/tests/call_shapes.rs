//! Every call the official clients make (the evidence's call shapes, written out in
//! `tests/fixtures/call_shapes.json`) can be written with the typed client and is
//! sent as written: a body decodes as the operation's request type (which refuses
//! unknown fields) and encodes back to the same JSON; a query names declared
//! parameters with values of their types; and each satisfies the operation's
//! groups of alternative fields. Data-driven: a shape added to the fixture, or an
//! operation added to the spec, gets the same checks.

use serde_json::{Map, Value, json};
use sonoran_cms_tests::{SpecOperation, enriched_spec, spec_operations, workspace_root};

fn call_shapes() -> Vec<Value> {
    let path = workspace_root().join("tests/fixtures/call_shapes.json");
    let text = std::fs::read_to_string(&path).expect("the call shapes fixture");
    let fixture: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    fixture["shapes"]
        .as_array()
        .expect("a list of shapes")
        .clone()
}

fn operation<'a>(operations: &'a [SpecOperation], operation_id: &str) -> &'a SpecOperation {
    operations
        .iter()
        .find(|operation| operation.operation_id == operation_id)
        .unwrap_or_else(|| panic!("`{operation_id}` is not an operation of the spec"))
}

/// The value without its `null` members: what the client sends for it (an unset
/// optional field is left out, and the API reads a missing field as unset).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(_, member)| !member.is_null())
                .map(|(name, member)| (name.clone(), without_nulls(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Why `named` (the fields or parameters a call gives) does not satisfy the
/// operation's `x-sonoran-one-of` groups for `location`, if it does not.
fn group_problem(
    operation: &SpecOperation,
    location: &str,
    named: &Map<String, Value>,
) -> Option<String> {
    for group in operation.operation["x-sonoran-one-of"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if group["in"] != location {
            continue;
        }
        let fields: Vec<&str> = group["fields"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let given = fields
            .iter()
            .filter(|field| named.get(**field).is_some_and(|value| !value.is_null()))
            .count();
        if group["required"] == json!(true) && given == 0 {
            return Some(format!("names none of {fields:?}"));
        }
        if group["at-most-one"] == json!(true) && given > 1 {
            return Some(format!("names {given} of {fields:?}"));
        }
    }
    None
}

/// Why `text` is not a value of the parameter schema `schema`, if it is not.
fn query_value_problem(spec: &Value, schema: &Value, text: &str) -> Option<String> {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => spec.pointer(&reference.replace("#/", "/")).cloned()?,
        None => schema.clone(),
    };
    if schema.get("oneOf").is_some() {
        // An open value set: any text.
        return None;
    }
    match (schema["type"].as_str(), schema["format"].as_str()) {
        (Some("integer"), _) => match text.parse::<i64>() {
            Ok(number)
                if schema["minimum"]
                    .as_i64()
                    .is_none_or(|minimum| number >= minimum) =>
            {
                None
            }
            _ => Some(format!("`{text}` is not an integer of {schema}")),
        },
        (Some("boolean"), _) => text
            .parse::<bool>()
            .err()
            .map(|_| format!("`{text}` is not a boolean")),
        (Some("string"), Some("uuid")) => uuid::Uuid::parse_str(text)
            .err()
            .map(|_| format!("`{text}` is not a UUID")),
        (Some("string"), _) => None,
        _ => Some(format!("unexpected parameter schema {schema}")),
    }
}

#[test]
fn every_call_shape_is_expressible_and_sent_as_written() {
    let spec = enriched_spec();
    let operations = spec_operations(&spec);
    let shapes = call_shapes();
    let mut problems = Vec::new();
    let (mut bodies, mut queries, mut nulls_left_out) = (0, 0, 0);
    for shape in &shapes {
        let operation_id = shape["operation"].as_str().expect("an operation");
        let sent_by = shape["sent_by"].as_str().unwrap_or_default();
        let operation = operation(&operations, operation_id);
        let mut problem =
            |message: String| problems.push(format!("{operation_id} ({sent_by}): {message}"));
        if let Some(body) = shape.get("body") {
            bodies += 1;
            let bytes = serde_json::to_vec(body).expect("serializes");
            let typed: sonoran_cms::Operation = operation
                .rust_name
                .parse()
                .expect("an operation of the client");
            match sonoran_cms::testing::request_body_as_sent(typed, &bytes) {
                None => problem("the operation takes no JSON body".to_owned()),
                Some(Err(failure)) => {
                    problem(format!("the body does not fit the request type {failure}"))
                }
                Some(Ok(sent)) => {
                    if sent != without_nulls(body) {
                        problem(format!("sent as {sent}, not as {body}"));
                    } else if sent != *body {
                        nulls_left_out += 1;
                    }
                }
            }
            let members = body.as_object().cloned().unwrap_or_default();
            if let Some(message) = group_problem(operation, "body", &members) {
                problem(message);
            }
        }
        if let Some(query) = shape.get("query") {
            queries += 1;
            let query = query.as_object().expect("a query object");
            let parameters: Vec<&Value> = operation.operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "query")
                .collect();
            for (name, value) in query {
                match parameters
                    .iter()
                    .find(|parameter| parameter["name"] == *name)
                {
                    None => problem(format!("`{name}` is not a query parameter")),
                    Some(parameter) => {
                        if let Some(message) = query_value_problem(
                            &spec,
                            &parameter["schema"],
                            value.as_str().unwrap_or_default(),
                        ) {
                            problem(format!("`{name}`: {message}"));
                        }
                    }
                }
            }
            for parameter in &parameters {
                let name = parameter["name"].as_str().unwrap_or_default();
                if parameter["required"] == json!(true) && !query.contains_key(name) {
                    problem(format!("the required query parameter `{name}` is missing"));
                }
            }
            if let Some(message) = group_problem(operation, "query", query) {
                problem(message);
            }
        }
    }
    println!(
        "call shapes: {} of {} expressible ({bodies} bodies, {queries} queries); \
         {nulls_left_out} body sends an explicit null as an absent field",
        shapes.len() - problems.len(),
        shapes.len()
    );
    assert!(
        problems.is_empty(),
        "{} call shape(s) cannot be written:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    assert_eq!(
        bodies + queries,
        shapes.len(),
        "every shape is a body or a query"
    );
}

#[test]
fn a_body_with_a_field_the_type_lacks_is_refused_with_its_path() {
    // The request types refuse unknown fields, so the check above cannot pass a
    // shape by dropping what it does not know.
    let failure = sonoran_cms::testing::check_request_body(
        sonoran_cms::Operation::SetAccountRanks,
        br#"{"remove": [], "accountId": "x"}"#,
    )
    .expect("set_account_ranks has a body")
    .expect_err("accountId is not a field of the body");
    assert_eq!(failure.path, "accountId");
    assert!(
        failure.message.starts_with("unknown field `accountId`"),
        "{}",
        failure.message
    );
}

#[test]
fn every_operation_with_a_request_body_is_listed_and_checked() {
    let spec = enriched_spec();
    let with_body: Vec<String> = spec_operations(&spec)
        .into_iter()
        .filter(|operation| operation.operation.get("requestBody").is_some())
        .map(|operation| operation.rust_name)
        .collect();
    let mut listed: Vec<&str> = sonoran_cms::Operation::ALL
        .iter()
        .filter(|operation| operation.has_request_body())
        .map(|operation| operation.as_str())
        .collect();
    listed.sort_unstable();
    let mut expected: Vec<&str> = with_body.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    let shaped: std::collections::BTreeSet<String> = call_shapes()
        .iter()
        .filter(|shape| shape.get("body").is_some())
        .filter_map(|shape| {
            shape["operation"]
                .as_str()
                .map(codegen::naming::rust_snake_name)
        })
        .collect();
    let without_shape: Vec<&&str> = listed
        .iter()
        .filter(|operation| !shaped.contains(**operation))
        .collect();
    assert!(
        without_shape.is_empty(),
        "operations with a body but no call shape: {without_shape:?}"
    );
}
