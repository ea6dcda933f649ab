//! Enrichment: applies the OpenAPI Overlay 1.0 document that adds what the docs
//! leave out, refusing any action that no longer fits the docs.
//!
//! roas-overlay does the applying. On top of the standard we hold each action to
//! three rules, because an enrichment that silently stops applying, or silently
//! overrules the docs, is exactly the drift this project exists to catch:
//!
//! - every action has a `description` saying why it exists;
//! - every action's `target` matches at least one node;
//! - an `update` adds to what the spec says but never changes a value already
//!   there, unless the action carries `x-overrides-docs` with the reason.

use roas_overlay::apply::{Apply, ApplyErrorKind, ApplyOptions};
use roas_overlay::common::apply::{compile_path, locate};
use roas_overlay::v1_0::{Action, Overlay};
use roas_overlay::validation::Validate;
use serde_json::Value;

use crate::error::CodegenError;
use crate::json_pointer;
use crate::load::typed_document;

/// The action extension that allows an `update` to change what the docs say.
/// Its value is the reason, shown to reviewers.
pub const OVERRIDES_DOCS_EXTENSION: &str = "x-overrides-docs";

/// Applies the overlay in `overlay_value` (read from `overlay_file`) to `spec`,
/// action by action, and returns the enriched spec. On error, nothing is returned
/// and the input is untouched.
///
/// `docs` is what the docs say: an `update` may not change a value found there at
/// the same place. Values that earlier overlays added (schemas derived from
/// examples) are suggestions, and an update may override them. `None` skips the
/// check, for the importer's own derived overlay.
pub fn apply_overlay(
    spec: &Value,
    docs: Option<&Value>,
    overlay_file: &str,
    overlay_value: &Value,
) -> Result<Value, CodegenError> {
    let overlay: Overlay =
        typed_document(overlay_file, overlay_value, "OpenAPI Overlay 1.0 document")?;
    if let Err(validation) = overlay.validate(Default::default()) {
        let first = validation.errors.first();
        return Err(CodegenError::Document {
            file: overlay_file.to_owned(),
            pointer: first
                .map_or_else(|| "/".to_owned(), |error| roas_path_to_pointer(&error.path)),
            message: validation
                .errors
                .iter()
                .map(|error| error.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        });
    }

    let mut enriched = spec.clone();
    for (index, action) in overlay.actions.iter().enumerate() {
        let action_error = |message: String| CodegenError::Action {
            file: overlay_file.to_owned(),
            index,
            target: action.target.clone(),
            message,
        };
        if action
            .description
            .as_deref()
            .is_none_or(|text| text.trim().is_empty())
        {
            return Err(action_error(
                "has no `description`; every enrichment action must say why it exists".to_owned(),
            ));
        }
        if let (Some(update), Some(docs)) = (&action.update, docs)
            && !overrides_docs(action)
        {
            refuse_contradictions(&enriched, docs, &action.target, update).map_err(action_error)?;
        }
        apply_one_action(&overlay, action, &mut enriched).map_err(action_error)?;
    }
    Ok(enriched)
}

fn overrides_docs(action: &Action) -> bool {
    action
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get(OVERRIDES_DOCS_EXTENSION))
        .and_then(Value::as_str)
        .is_some_and(|reason| !reason.trim().is_empty())
}

/// Applies a single action with roas-overlay, failing when its target matches nothing.
fn apply_one_action(
    overlay: &Overlay,
    action: &Action,
    document: &mut Value,
) -> Result<(), String> {
    let single_action = Overlay {
        actions: vec![action.clone()],
        ..overlay.clone()
    };
    single_action
        .apply(document, ApplyOptions::ErrorOnZeroMatch.into())
        .map(drop)
        .map_err(|error| match error.kind {
            ApplyErrorKind::ZeroMatch => format!(
                "matches nothing in the spec, so the docs have changed under it ({}); \
                 update or remove the action",
                first_line(action.description.as_deref().unwrap_or_default())
            ),
            other => other.to_string(),
        })
}

/// Fails when merging `update` into any node `target` selects would change a value
/// the docs state at that place (the overlay merge replaces primitives silently).
fn refuse_contradictions(
    document: &Value,
    docs: &Value,
    target: &str,
    update: &Value,
) -> Result<(), String> {
    let path = compile_path(target).map_err(|message| format!("invalid JSONPath: {message}"))?;
    for pointer in locate(document, &path) {
        if let Some(existing) = docs.pointer(&pointer) {
            let mut contradictions = Vec::new();
            find_contradictions(existing, update, &pointer, &mut contradictions);
            if let Some((at, was, would_be)) = contradictions.into_iter().next() {
                return Err(format!(
                    "would change {} from {was} to {would_be}; the enrichment may add to the \
                     docs but not contradict them (if the docs are wrong, say why in \
                     `{OVERRIDES_DOCS_EXTENSION}` on the action)",
                    json_pointer::display(&at)
                ));
            }
        }
    }
    Ok(())
}

/// Walks `existing` and `update` together the way the Overlay merge does, recording
/// `(pointer, existing value, update value)` wherever the merge would replace a value.
fn find_contradictions(
    existing: &Value,
    update: &Value,
    pointer: &str,
    found: &mut Vec<(String, String, String)>,
) {
    match (existing, update) {
        (Value::Object(existing_object), Value::Object(update_object)) => {
            for (key, update_value) in update_object {
                if let Some(existing_value) = existing_object.get(key) {
                    find_contradictions(
                        existing_value,
                        update_value,
                        &json_pointer::child(pointer, key),
                        found,
                    );
                }
            }
        }
        // Arrays concatenate: nothing the spec says is lost.
        (Value::Array(_), Value::Array(_)) => {}
        (existing, update) if existing == update => {}
        (existing, update) => {
            found.push((pointer.to_owned(), existing.to_string(), update.to_string()))
        }
    }
}

/// roas-overlay reports places as `#.actions[3].target`; we speak JSON pointers.
fn roas_path_to_pointer(path: &str) -> String {
    let mut pointer = String::new();
    for part in path
        .trim_start_matches('#')
        .split('.')
        .filter(|part| !part.is_empty())
    {
        match part.split_once('[') {
            Some((field, index)) => {
                pointer = json_pointer::child(&pointer, field);
                pointer = json_pointer::child(&pointer, index.trim_end_matches(']'));
            }
            None => pointer = json_pointer::child(&pointer, part),
        }
    }
    json_pointer::display(&pointer).to_owned()
}

fn first_line(text: &str) -> String {
    let line = text.split(['.', '\n']).next().unwrap_or_default().trim();
    format!("\"{line}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {"/a": {"get": {"operationId": "getA", "responses": {"200": {"description": "OK"}}}}}
        })
    }

    fn overlay(actions: Value) -> Value {
        json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions})
    }

    #[track_caller]
    fn check_error(actions: Value, expected: &str) {
        let error = apply_overlay(&spec(), Some(&spec()), "enrichment.yaml", &overlay(actions))
            .expect_err("must fail");
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn adds_what_the_docs_leave_out() {
        let enriched = apply_overlay(
            &spec(),
            Some(&spec()),
            "enrichment.yaml",
            &overlay(json!([{
                "description": "Rate limit.",
                "target": "$.paths['/a'].get",
                "update": {"x-sonoran-rate-limit": {"requests": 9}}
            }])),
        )
        .expect("applies");
        assert_eq!(
            enriched["paths"]["/a"]["get"]["x-sonoran-rate-limit"]["requests"],
            9
        );
        assert_eq!(enriched["paths"]["/a"]["get"]["operationId"], "getA");
    }

    #[test]
    fn an_action_that_matches_nothing_is_an_error_naming_it() {
        check_error(
            json!([
                {"description": "Fine.", "target": "$.paths['/a'].get", "update": {"x-a": 1}},
                {"description": "Type the body. More words.", "target": "$.paths['/b'].get", "update": {"x-b": 1}}
            ]),
            "enrichment.yaml: action /actions/1 (target `$.paths['/b'].get`): matches nothing in the spec, \
             so the docs have changed under it (\"Type the body\"); update or remove the action",
        );
    }

    #[test]
    fn an_action_without_a_description_is_an_error() {
        check_error(
            json!([{"target": "$.paths['/a'].get", "update": {"x-a": 1}}]),
            "enrichment.yaml: action /actions/0 (target `$.paths['/a'].get`): has no `description`; \
             every enrichment action must say why it exists",
        );
    }

    #[test]
    fn an_update_that_contradicts_the_docs_is_an_error() {
        check_error(
            json!([{"description": "Rename.", "target": "$.paths['/a'].get", "update": {"operationId": "fetchA"}}]),
            "enrichment.yaml: action /actions/0 (target `$.paths['/a'].get`): would change \
             /paths/~1a/get/operationId from \"getA\" to \"fetchA\"; the enrichment may add to the docs \
             but not contradict them (if the docs are wrong, say why in `x-overrides-docs` on the action)",
        );
    }

    #[test]
    fn an_override_with_a_reason_may_contradict_the_docs() {
        let enriched = apply_overlay(
            &spec(),
            Some(&spec()),
            "enrichment.yaml",
            &overlay(json!([{
                "description": "Rename.",
                "x-overrides-docs": "The docs' id clashes with another operation.",
                "target": "$.paths['/a'].get",
                "update": {"operationId": "fetchA"}
            }])),
        )
        .expect("applies");
        assert_eq!(enriched["paths"]["/a"]["get"]["operationId"], "fetchA");
    }

    #[test]
    fn an_invalid_overlay_names_the_place() {
        check_error(
            json!([{"description": "Nothing to do.", "target": "$.paths"}]),
            "enrichment.yaml: at /actions/0: action must specify either `update` or `remove: true`",
        );
    }

    #[test]
    fn a_wrongly_shaped_overlay_names_the_pointer() {
        let error = apply_overlay(
            &spec(),
            Some(&spec()),
            "enrichment.yaml",
            &json!({"overlay": "1.0.0", "actions": 3}),
        )
        .expect_err("not an overlay");
        assert!(
            error.to_string().starts_with("enrichment.yaml: at /"),
            "{error}"
        );
    }
}
