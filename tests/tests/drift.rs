//! Drift tests: change the docs the ways published docs change, and prove that every
//! change either changes the regenerated snapshot of the operations it touches (so
//! review sees it) or stops regen with an error that says where.
//!
//! A docs change reaches the pipeline as `cargo xtask import-docs` would deliver it:
//! a new docs spec, and the overlay of schemas derived from it. Changes to single
//! fields are made on `cancelSession`; changes that any page can undergo are made
//! on every operation at once, and every operation's snapshot must show them.

use codegen::report::contract::{self, Contract};
use serde_json::{Value, json};
use sonoran_cms_tests::workspace_root;

const SESSIONS_PATH: &str = "/v2/community/sessions";

fn real_sources() -> codegen::Sources {
    codegen::Sources::read(&workspace_root()).expect("the spec and overlays are readable")
}

/// Regenerates with the docs spec changed by `change`, and the derived overlay
/// derived again from the changed docs: every operation's contract page.
fn regenerate_with_docs_change(
    change: impl FnOnce(&mut Value),
) -> Result<Vec<Contract>, codegen::CodegenError> {
    let mut sources = real_sources();
    let mut docs = codegen::load::parse_yaml(&sources.docs_spec).expect("the docs spec is YAML");
    change(&mut docs);
    sources.docs_spec.text = serde_yaml::to_string(&docs).expect("serializes");
    let derived = codegen::derive::derived_overlay(&docs);
    sources.derived.text = serde_yaml::to_string(&derived).expect("serializes");
    let files = codegen::generate_files(&sources)?;
    Ok(contract::from_files(&files).expect("every operation has a contract page"))
}

/// The accepted contract page of an operation, as `cargo insta review` stored it.
fn accepted_snapshot(rust_name: &str) -> String {
    let path = workspace_root()
        .join(contract::SNAPSHOT_DIR)
        .join(contract::snapshot_file_name(rust_name));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    contract::page_of_snapshot(&text)
        .unwrap_or_else(|| panic!("{} is not an insta snapshot", path.display()))
        .to_owned()
}

fn cancel_session_operation(docs: &mut Value) -> &mut Value {
    &mut docs["paths"][SESSIONS_PATH]["delete"]
}

/// Takes the cancelSession operation out of the docs and returns it.
fn remove_cancel_session_operation(docs: &mut Value) -> Value {
    docs["paths"][SESSIONS_PATH]
        .as_object_mut()
        .expect("the sessions path item")
        .remove("delete")
        .expect("the cancelSession operation")
}

fn cancel_body(docs: &mut Value) -> &mut Value {
    &mut cancel_session_operation(docs)["requestBody"]["content"]["application/json"]
}

/// Every operation of the docs spec, mutably.
fn every_operation(docs: &mut Value) -> Vec<&mut Value> {
    docs["paths"]
        .as_object_mut()
        .expect("paths")
        .values_mut()
        .flat_map(|item| item.as_object_mut().expect("a path item").values_mut())
        .collect()
}

#[track_caller]
fn assert_pages_differ(change: impl FnOnce(&mut Value), operations: &[String]) -> Vec<Contract> {
    let pages = regenerate_with_docs_change(change).expect("this docs change still generates");
    for operation in operations {
        let page = pages
            .iter()
            .find(|page| &page.rust_name == operation)
            .unwrap_or_else(|| panic!("{operation} is no longer generated"));
        assert_ne!(
            page.text,
            accepted_snapshot(operation),
            "the contract page of {operation} did not change"
        );
    }
    pages
}

#[track_caller]
fn assert_regen_stops(
    change: impl FnOnce(&mut Value),
    expected_start: &str,
    expected_message: &str,
) {
    let error = regenerate_with_docs_change(change).expect_err("this docs change must stop regen");
    let message = error.to_string();
    assert!(message.starts_with(expected_start), "{message}");
    assert!(message.contains(expected_message), "{message}");
}

/// The method name of every operation the docs publish (the evidence adds
/// routes the docs leave out; a docs change cannot touch those).
fn docs_method_names() -> Vec<String> {
    let sources = real_sources();
    let mut docs = codegen::load::parse_yaml(&sources.docs_spec).expect("the docs spec is YAML");
    every_operation(&mut docs)
        .into_iter()
        .filter_map(|operation| operation["operationId"].as_str())
        .map(codegen::naming::rust_snake_name)
        .collect()
}

/// The enriched spec regen writes for the docs spec changed by `change`.
fn enriched_with_docs_change(change: impl FnOnce(&mut Value)) -> Value {
    let mut sources = real_sources();
    let mut docs = codegen::load::parse_yaml(&sources.docs_spec).expect("the docs spec is YAML");
    change(&mut docs);
    sources.docs_spec.text = serde_yaml::to_string(&docs).expect("serializes");
    sources.derived.text =
        serde_yaml::to_string(&codegen::derive::derived_overlay(&docs)).expect("serializes");
    let files = codegen::generate_files(&sources).expect("this docs change still generates");
    codegen::load::parse_yaml(&codegen::SourceText::new(
        "enriched.yaml",
        files[0].contents.clone(),
    ))
    .expect("the enriched spec is YAML")
}

/// Every operation's documented success status in an enriched spec, by operationId.
fn documented_statuses(enriched: &Value) -> Vec<(String, Value)> {
    let mut statuses: Vec<(String, Value)> = enriched["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("a path item").values())
        .filter_map(|operation| {
            Some((
                operation["operationId"].as_str()?.to_owned(),
                operation["responses"]["2XX"]["x-documented-status"].clone(),
            ))
        })
        .collect();
    statuses.sort_by(|left, right| left.0.cmp(&right.0));
    statuses
}

#[test]
fn the_unchanged_docs_reproduce_every_accepted_snapshot() {
    // Without this control, "differs" below could pass because reading failed.
    let pages = regenerate_with_docs_change(|_| {}).expect("generates");
    assert!(pages.len() >= 60, "every operation has a page");
    for page in pages {
        assert_eq!(
            page.text,
            accepted_snapshot(&page.rust_name),
            "{}",
            page.rust_name
        );
    }
}

#[test]
fn a_field_renamed_in_the_docs_stops_regen_where_the_enrichment_describes_it() {
    // The enrichment documents `accId`; renamed in the docs, that description would
    // describe a field that no longer exists, and lint refuses the untyped field.
    assert_regen_stops(
        |docs| {
            let body = cancel_body(docs);
            let properties = body["schema"]["properties"]
                .as_object_mut()
                .expect("properties");
            let account = properties.shift_remove("accId").expect("accId");
            properties.insert("accountId".to_owned(), account);
            body["schema"]["required"] = json!(["serverId", "accountId"]);
            body["example"] =
                json!({"serverId": 1, "accountId": "00000000-0000-0000-0000-000000000000"});
        },
        "openapi/sonoran-cms-v2.enriched.yaml: ",
        "at /components/schemas/CancelSessionRequest/properties/accId: this schema has no `type`",
    );
}

#[test]
fn a_field_type_changed_in_the_docs_changes_the_body_type() {
    let pages = assert_pages_differ(
        |docs| cancel_body(docs)["schema"]["properties"]["serverId"] = json!({"type": "string"}),
        &["cancel_session".to_owned()],
    );
    let cancel = &pages[pages
        .iter()
        .position(|page| page.rust_name == "cancel_session")
        .expect("cancel_session")];
    assert!(
        cancel
            .text
            .contains("- .server_id(String) -> body `serverId`, required"),
        "{}",
        cancel.text
    );
}

#[test]
fn a_field_added_in_the_docs_changes_the_body_type() {
    let pages = assert_pages_differ(
        |docs| cancel_body(docs)["schema"]["properties"]["reason"] = json!({"type": "string"}),
        &["cancel_session".to_owned()],
    );
    let cancel = &pages[pages
        .iter()
        .position(|page| page.rust_name == "cancel_session")
        .expect("cancel_session")];
    assert!(
        cancel
            .text
            .contains("- .reason(String) -> body `reason`, optional"),
        "{}",
        cancel.text
    );
}

#[test]
fn success_status_204_becoming_200_is_recorded_and_any_2xx_still_succeeds() {
    // Any 2XX answers an operation (the documented one stands for all of them), so
    // a changed success status changes no generated code, but the enriched spec
    // records the documented status, and the contract page shows it.
    let change = |docs: &mut Value| {
        cancel_session_operation(docs)["responses"] = json!({"200": {"description": "No Content"}})
    };
    let before = enriched_with_docs_change(|_| {});
    let after = enriched_with_docs_change(change);
    let cancel = |spec: &Value| spec["paths"][SESSIONS_PATH]["delete"]["responses"]["2XX"].clone();
    assert_eq!(cancel(&before)["x-documented-status"], "204");
    assert_eq!(cancel(&after)["x-documented-status"], "200");
    let pages = assert_pages_differ(change, &["cancel_session".to_owned()]);
    let page = pages
        .iter()
        .find(|page| page.rust_name == "cancel_session")
        .expect("the cancel page");
    assert!(
        page.text
            .contains("- success: 2XX (the docs name 200) -> ResponseValue<()>"),
        "any 2XX is success: {}",
        page.text
    );
    assert_eq!(
        page.text.replace("the docs name 200", "the docs name 204"),
        accepted_snapshot("cancel_session"),
        "only the documented status changed"
    );
}

#[test]
fn a_renamed_operation_id_stops_regen_at_the_enrichment_of_its_body() {
    // The derived body type is named after the operation, so the enrichment that
    // refines `CancelSessionRequest` no longer finds it.
    assert_regen_stops(
        |docs| cancel_session_operation(docs)["operationId"] = json!("cancelCommunitySession"),
        "openapi/enrichment.overlay.yaml: action /actions/2 (target `$.components.schemas.CancelSessionRequest`)",
        "matches nothing in the spec",
    );
}

#[test]
fn a_changed_path_stops_regen() {
    assert_regen_stops(
        |docs| {
            let operation = remove_cancel_session_operation(docs);
            docs["paths"]["/v2/community/session"] = json!({"delete": operation});
        },
        "openapi/evidence/sessions.overlay.yaml: action /actions/",
        "matches nothing in the spec, so the docs have changed under it",
    );
}

#[test]
fn a_changed_method_stops_regen() {
    assert_regen_stops(
        |docs| {
            let operation = remove_cancel_session_operation(docs);
            docs["paths"][SESSIONS_PATH]["put"] = operation;
        },
        "openapi/evidence/sessions.overlay.yaml: action /actions/",
        "matches nothing in the spec",
    );
}

#[test]
fn a_removed_operation_stops_regen() {
    assert_regen_stops(
        |docs| {
            remove_cancel_session_operation(docs);
        },
        "openapi/evidence/sessions.overlay.yaml: action /actions/",
        "matches nothing in the spec",
    );
}

#[test]
fn a_changed_summary_on_every_operation_changes_every_method() {
    let methods = docs_method_names();
    assert_pages_differ(
        |docs| {
            for operation in every_operation(docs) {
                let summary = operation["summary"].as_str().unwrap_or_default().to_owned();
                operation["summary"] = json!(format!("{summary} (renamed)"));
            }
        },
        &methods,
    );
}

#[test]
fn a_changed_success_status_on_every_operation_is_recorded_for_every_operation() {
    let move_success = |docs: &mut Value| {
        for operation in every_operation(docs) {
            let responses = operation["responses"].as_object_mut().expect("responses");
            let (status, response) = responses
                .iter()
                .find(|(status, _)| status.starts_with('2'))
                .map(|(status, response)| (status.clone(), response.clone()))
                .expect("a success response");
            responses.shift_remove(&status);
            let moved = if status == "202" { "203" } else { "202" };
            responses.insert(moved.to_owned(), response);
        }
    };
    let before = documented_statuses(&enriched_with_docs_change(|_| {}));
    let after = documented_statuses(&enriched_with_docs_change(move_success));
    let docs_operations = docs_method_names().len();
    let changed = before
        .iter()
        .zip(&after)
        .filter(|((_, was), (_, now))| was != now && now == &json!("202"))
        .count();
    assert_eq!(
        changed, docs_operations,
        "before: {before:?}\nafter: {after:?}"
    );
}

// The change report (`cargo xtask regen` prints it): each drift case above, and
// more, classified as a user of the crate sees it. Changes that stop regen at
// the docs are made on the enriched spec, which is what the report compares.

const CANCEL: &str = "`cancel_session` (cancelSession)";

/// The real enriched spec as regen writes it today.
fn real_enriched() -> Value {
    enriched_with_docs_change(|_| {})
}

/// The report of `after` against `before`, as the changes of `cancelSession`
/// (asserting no other operation changed) as `(impact, text)` pairs.
fn cancel_changes(before: &Value, after: &Value) -> Vec<(codegen::changes::Impact, String)> {
    let report =
        codegen::changes::compare(("before", before), ("after", after)).expect("both are specs");
    let operations: Vec<&String> = report.operations.keys().collect();
    assert!(
        operations.iter().all(|name| name.as_str() == CANCEL),
        "only cancelSession changed: {operations:?}"
    );
    report
        .operations
        .get(CANCEL)
        .into_iter()
        .flatten()
        .map(|change| (change.impact, change.what.clone()))
        .collect()
}

fn assert_classified(
    changes: &[(codegen::changes::Impact, String)],
    impact: codegen::changes::Impact,
    text: &str,
) {
    assert!(
        changes
            .iter()
            .any(|(found, what)| *found == impact && what.contains(text)),
        "expected {impact:?} `{text}` among {changes:#?}"
    );
}

/// The real enriched spec changed by `change`.
fn enriched_changed(change: impl FnOnce(&mut Value)) -> (Value, Value) {
    let before = real_enriched();
    let mut after = before.clone();
    change(&mut after);
    (before, after)
}

#[test]
fn unchanged_docs_give_an_empty_change_report() {
    let before = real_enriched();
    let report =
        codegen::changes::compare(("before", &before), ("after", &before.clone())).expect("specs");
    assert!(report.is_empty(), "{}", report.render("0.1.0"));
    assert_eq!(report.bump(), codegen::changes::Bump::None);
}

#[test]
fn the_report_classifies_docs_changes_that_regenerate() {
    use codegen::changes::Impact::{Additive, Breaking};
    let before = real_enriched();
    let type_changed = enriched_with_docs_change(|docs| {
        cancel_body(docs)["schema"]["properties"]["serverId"] = json!({"type": "string"});
    });
    assert_classified(
        &cancel_changes(&before, &type_changed),
        Breaking,
        "body field `server_id` (`serverId`): type changed from integer to string",
    );
    let field_added = enriched_with_docs_change(|docs| {
        cancel_body(docs)["schema"]["properties"]["reason"] = json!({"type": "string"});
    });
    assert_eq!(
        cancel_changes(&before, &field_added),
        [(Additive, "new optional body field `reason`".to_owned())]
    );
    let status_changed = enriched_with_docs_change(|docs| {
        cancel_session_operation(docs)["responses"] = json!({"200": {"description": "No Content"}});
    });
    assert_classified(
        &cancel_changes(&before, &status_changed),
        Breaking,
        "documented success status changed from 204 to 200",
    );
}

#[test]
fn the_report_classifies_changes_that_stop_regen_at_the_docs() {
    use codegen::changes::Impact::Breaking;
    let (before, renamed) = enriched_changed(|spec| {
        let body = &mut spec["components"]["schemas"]["CancelSessionRequest"];
        let properties = body["properties"].as_object_mut().expect("properties");
        let account = properties.remove("accId").expect("accId");
        properties.insert("accountId".to_owned(), account);
        body["required"] = json!(["serverId", "accountId"]);
    });
    let changes = cancel_changes(&before, &renamed);
    assert_classified(&changes, Breaking, "body field `acc_id` (`accId`) removed");
    assert_classified(
        &changes,
        Breaking,
        "new required body field `account_id` (`accountId`)",
    );

    let (before, moved) = enriched_changed(|spec| {
        let cancel = spec["paths"][SESSIONS_PATH]
            .as_object_mut()
            .expect("a path item")
            .remove("delete")
            .expect("cancelSession");
        spec["paths"]["/v2/community/sessions/cancel"] = json!({"delete": cancel});
    });
    assert_classified(
        &cancel_changes(&before, &moved),
        Breaking,
        "path changed from `/v2/community/sessions` to `/v2/community/sessions/cancel`",
    );

    let (before, method_changed) = enriched_changed(|spec| {
        let item = spec["paths"][SESSIONS_PATH]
            .as_object_mut()
            .expect("a path item");
        let cancel = item.remove("delete").expect("cancelSession");
        item.insert("put".to_owned(), cancel);
    });
    assert_eq!(
        cancel_changes(&before, &method_changed),
        [(Breaking, "method changed from DELETE to PUT".to_owned())]
    );

    let (before, removed) = enriched_changed(|spec| {
        spec["paths"][SESSIONS_PATH]
            .as_object_mut()
            .expect("a path item")
            .remove("delete");
    });
    assert_eq!(
        cancel_changes(&before, &removed),
        [(
            Breaking,
            "operation removed (`DELETE /v2/community/sessions`)".to_owned()
        )]
    );
}

#[test]
fn the_report_classifies_enum_nullable_and_rate_limit_changes() {
    use codegen::changes::Impact::{Additive, Breaking};
    let report_of = |change: &dyn Fn(&mut Value)| {
        let (before, after) = enriched_changed(change);
        codegen::changes::compare(("before", &before), ("after", &after)).expect("specs")
    };
    let changes_of = |report: &codegen::changes::ChangeReport, operation: &str| {
        report
            .operations
            .get(operation)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|change| (change.impact, change.what))
            .collect::<Vec<_>>()
    };
    // A value set a request takes: a new value is accepted, a removed one breaks.
    let clock = "`clock_account` (clockAccount)";
    let added = report_of(&|spec| {
        spec["components"]["schemas"]["KnownClockIntention"]["enum"]
            .as_array_mut()
            .expect("values")
            .push(json!("pause"));
    });
    assert_classified(
        &changes_of(&added, clock),
        Additive,
        "value \"pause\" accepted",
    );
    let removed = report_of(&|spec| {
        let values = spec["components"]["schemas"]["KnownClockIntention"]["enum"]
            .as_array_mut()
            .expect("values");
        let first = values.remove(0);
        assert!(first.is_string());
    });
    assert_classified(&changes_of(&removed, clock), Breaking, "removed");
    assert_eq!(removed.bump(), codegen::changes::Bump::Breaking);

    // An answer's field that was never null may now be: its Rust type changes.
    let nullable = report_of(&|spec| {
        spec["components"]["schemas"]["CommunityServerSession"]["properties"]["id"]["nullable"] =
            json!(true);
    });
    for operation in [
        "`start_session` (startSession)",
        "`stop_session` (stopSession)",
    ] {
        assert_classified(
            &changes_of(&nullable, operation),
            Breaking,
            "answer field `data.id`: may now be null",
        );
    }

    // A lowered limit changes how calls behave: breaking; a raised one is additive.
    let lowered = report_of(&|spec| {
        spec["paths"][SESSIONS_PATH]["delete"]["x-sonoran-rate-limit"]["requests"] = json!(5);
    });
    assert_eq!(
        changes_of(&lowered, CANCEL),
        [(
            Breaking,
            "rate limit changed from 9 per 60 s to 5 per 60 s (lowered: a burst that went through now waits)"
                .to_owned()
        )]
    );
    let raised = report_of(&|spec| {
        spec["paths"][SESSIONS_PATH]["delete"]["x-sonoran-rate-limit"]["requests"] = json!(12);
    });
    assert_eq!(raised.bump(), codegen::changes::Bump::Additive);
}

/// A change to a docs example's `data`.
type DocsChange<'a> = dyn Fn(&mut Value) + 'a;

/// The `data` of the docs' success example of the operation at `path`.
fn answer_example<'a>(docs: &'a mut Value, path: &str, method: &str) -> &'a mut Value {
    &mut docs["paths"][path][method]["responses"]["200"]["content"]["application/json"]["example"]["data"]
}

#[test]
fn a_docs_change_beneath_an_evidence_correction_stops_regen_naming_it() {
    // An evidence action that replaces the docs' schema would hide any later
    // change to it: regen stops instead, naming the operation, the action and
    // the change, until the action is reviewed again. One answer is restated
    // inline (clockAccount's clock-in row), one replaced by a shared entity
    // (getCurrentSession's `CommunityServerSession`).
    let places = [
        (
            "/v2/community/accounts/{accountId}/clock",
            "post",
            "(clockAccount)",
            "openapi/evidence/accounts.overlay.yaml action /actions/3",
            "completed",
            "boolean → string",
        ),
        (
            "/v2/community/sessions/current",
            "get",
            "(getCurrentSession)",
            "openapi/evidence/sessions.overlay.yaml action /actions/6",
            "serverId",
            "integer → string",
        ),
    ];
    for (path, method, operation, action, retyped, retyping) in places {
        let changes: [(&DocsChange<'_>, String); 3] = [
            (
                &|data: &mut Value| data["region"] = json!("eu-west"),
                "field `.region` added (string)".to_owned(),
            ),
            (
                &|data: &mut Value| {
                    data.as_object_mut().expect("members").shift_remove("id");
                },
                "field `.id` removed".to_owned(),
            ),
            (
                &|data: &mut Value| data[retyped] = json!("yes"),
                format!("field `.{retyped}` retyped ({retyping})"),
            ),
        ];
        for (change, expected) in changes {
            let error =
                regenerate_with_docs_change(|docs| change(answer_example(docs, path, method)))
                    .expect_err("a docs change beneath an evidence correction stops regen");
            let message = error.to_string();
            for part in [
                operation,
                action,
                expected.as_str(),
                "cargo xtask evidence review",
            ] {
                assert!(message.contains(part), "`{part}` in {message}");
            }
        }
    }
}

#[test]
fn the_report_lists_docs_fields_the_types_do_not_have() {
    let sources = real_sources();
    let mut docs = codegen::load::parse_yaml(&sources.docs_spec).expect("the docs spec is YAML");
    let enriched = real_enriched();
    let before = codegen::pipeline::docs_fields_not_in_types(&sources, &enriched).expect("reads");
    assert!(
        !before.contains_key("getCurrentSession"),
        "every docs field of getCurrentSession is typed: {before:?}"
    );
    answer_example(&mut docs, "/v2/community/sessions/current", "get")["region"] = json!("eu-west");
    let mut changed = sources.clone();
    changed.docs_spec.text = serde_yaml::to_string(&docs).expect("serializes");
    changed.derived.text =
        serde_yaml::to_string(&codegen::derive::derived_overlay(&docs)).expect("serializes");
    let after = codegen::pipeline::docs_fields_not_in_types(&changed, &enriched).expect("reads");
    assert_eq!(
        after.get("getCurrentSession"),
        Some(&vec![".data.region".to_owned()])
    );
}
