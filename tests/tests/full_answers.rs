//! Every operation's answer, with every member its schema names present at
//! once (`full_value`), is read by the client's types and loses nothing:
//! `ignored_members` finds no member they drop. This is what the probe
//! relies on to report only what the API adds; a type that lost a member of
//! the spec (a member named like a schema keyword, say `description`) fails here.

use sonoran_cms::Operation;
use sonoran_cms_tests::{enriched_spec, full_value, spec_operations};

#[test]
fn every_answer_with_every_member_is_read_whole() {
    let spec = enriched_spec();
    let mut checked = 0;
    let mut failures = Vec::new();
    for operation in spec_operations(&spec) {
        let Some((_, success)) = codegen::operations::json_success(&operation.operation) else {
            continue;
        };
        let schema = codegen::operations::json_body_schema(success);
        if schema.is_null() {
            continue;
        }
        let typed: Operation = operation
            .operation_id
            .parse()
            .expect("every spec operation is an Operation");
        let body = full_value(&spec, schema).to_string();
        match sonoran_cms::testing::ignored_members(typed, body.as_bytes()) {
            Some(Ok(ignored)) if ignored.is_empty() => checked += 1,
            Some(Ok(ignored)) => failures.push(format!(
                "{}: the type drops {:?}",
                operation.operation_id,
                ignored
                    .iter()
                    .map(|member| &member.path)
                    .collect::<Vec<_>>()
            )),
            Some(Err(failure)) => {
                failures.push(format!("{}: {failure}\n{body}", operation.operation_id));
            }
            None => failures.push(format!(
                "{}: the spec has a success body, the client none",
                operation.operation_id
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        checked,
        Operation::ALL
            .iter()
            .filter(|operation| operation.has_success_body())
            .count()
    );
}

#[test]
fn a_member_the_spec_does_not_name_is_found_in_a_full_answer() {
    // The control: the same full answer with one member added is not whole.
    let spec = enriched_spec();
    let operation = spec_operations(&spec)
        .into_iter()
        .find(|operation| operation.operation_id == "getServers")
        .expect("getServers");
    let (_, success) = codegen::operations::json_success(&operation.operation).expect("a success");
    let mut body = full_value(&spec, codegen::operations::json_body_schema(success));
    body["data"]["servers"][0]["region"] = serde_json::json!("eu");
    let ignored =
        sonoran_cms::testing::ignored_members(Operation::GetServers, body.to_string().as_bytes())
            .expect("a JSON answer")
            .expect("the type reads it");
    assert_eq!(
        ignored
            .iter()
            .map(|member| member.shape.as_str())
            .collect::<Vec<_>>(),
        ["data.servers[].region"]
    );
}
