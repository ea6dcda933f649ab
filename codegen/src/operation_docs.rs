//! What each operation's rustdoc tells a user beyond the docs' summary, written
//! from the spec's data so that no operation is documented by hand: its rate
//! limit, how it is retried, which success statuses it takes, which inputs it
//! requires and which are optional (with the groups of alternatives), and how it
//! pages. progenitor renders an operation's `description` into the docs of its
//! `Client` method, so the text goes there.

use serde_json::Value;

use crate::naming::rust_snake_name;

/// Where the generated part of a description starts (an HTML comment, which
/// rustdoc does not show), so that describing a described spec again replaces
/// it rather than adding a second copy.
const GENERATED_MARK: &str = "<!-- generated from the spec's data -->";

/// Appends the generated part to every operation's `description` in `spec` (the
/// enriched spec as JSON). The docs' own description, if any, comes first; a
/// generated part already there is replaced.
pub fn describe_operations(spec: &mut Value) {
    let components = spec["components"]["schemas"].clone();
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if operation.get("operationId").is_none() {
                continue;
            }
            let text = format!(
                "{GENERATED_MARK}\n\n{}",
                operation_text(method, operation, &components)
            );
            let existing = operation
                .get("description")
                .and_then(Value::as_str)
                .map(|existing| {
                    existing
                        .split(GENERATED_MARK)
                        .next()
                        .unwrap_or_default()
                        .trim_end()
                })
                .unwrap_or_default();
            let description = if existing.is_empty() {
                text
            } else {
                format!("{existing}\n\n{text}")
            };
            operation["description"] = Value::String(description);
        }
    }
}

fn operation_text(method: &str, operation: &Value, components: &Value) -> String {
    let mut lines = Vec::new();
    if let Some(limit) = operation.get("x-sonoran-rate-limit") {
        lines.push(format!(
            "**Rate limit:** {} requests per {} s per API key; a call over it waits for a slot.",
            limit["requests"], limit["window-seconds"]
        ));
    }
    lines.push(format!("**Retries:** {}", retries(method, operation)));
    if let Some((status, response)) = operation["responses"]
        .as_object()
        .and_then(|responses| responses.iter().find(|(status, _)| status.starts_with('2')))
    {
        let documented = response
            .get("x-documented-status")
            .and_then(Value::as_str)
            .unwrap_or(status);
        lines.push(format!(
            "**Success:** any 2XX (the docs name {documented})."
        ));
    }
    let (required, optional) = inputs(operation, components);
    if !required.is_empty() {
        lines.push(format!("**Required:** {}.", required.join(", ")));
    }
    if !optional.is_empty() {
        lines.push(format!("**Optional:** {}.", optional.join(", ")));
    }
    for group in operation["x-sonoran-one-of"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let fields: Vec<String> = group["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|field| format!("`{field}`"))
            .collect();
        let how = match (
            group["required"] == Value::Bool(true),
            group["at-most-one"] == Value::Bool(true),
        ) {
            (true, true) => "exactly one of",
            (true, false) => "at least one of",
            (false, _) => "optionally one of",
        };
        let setter = if group.get("account-identity").is_some() {
            " (set it with `.identity(AccountIdentity::..)`)"
        } else {
            ""
        };
        lines.push(format!(
            "**{}:** {how} {}{setter}; a request that lacks a required one is refused before it is sent.",
            capitalized(group["group"].as_str().unwrap_or("alternatives")),
            fields.join(", ")
        ));
    }
    if let Some(paging) = operation.get("x-sonoran-paging") {
        lines.push(format!(
            "**Paging:** by `{}` and `{}`; the builder's `.items(page_size)` streams every item.",
            paging["offset"].as_str().unwrap_or("skip"),
            paging["size"].as_str().unwrap_or("take")
        ));
    }
    if operation.get("x-sonoran-undocumented").is_some() {
        lines.push(
            "**Undocumented by Sonoran:** typed from the sources its description names.".to_owned(),
        );
    }
    lines.join("\n\n")
}

fn retries(method: &str, operation: &Value) -> String {
    let idempotent = matches!(method, "get" | "head" | "put" | "delete" | "options");
    let safe_to_repeat =
        operation.get("x-sonoran-retry-after-sending") != Some(&Value::Bool(false));
    let base = "429, and 503 with `Retry-After`, after the delay asked for; a connection failure, or a request never written";
    match (idempotent, safe_to_repeat) {
        (true, true) => format!("{base}; and a 5XX, timeout or reset after sending (idempotent)."),
        (true, false) => format!(
            "{base}; not once it may have run (a 5XX, timeout or reset after sending): repeating it could report a \
             success as a failure."
        ),
        (false, _) => {
            format!("{base}; not after a 5XX, timeout or reset after sending (not idempotent).")
        }
    }
}

/// The operation's required and optional inputs, as `place name` (`path
/// accountId`, `body newName`), by their Rust builder names beside the API's.
fn inputs(operation: &Value, components: &Value) -> (Vec<String>, Vec<String>) {
    let mut required = Vec::new();
    let mut optional = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().unwrap_or_default();
        let entry = format!(
            "{} `{}` (`.{}(..)`)",
            parameter["in"].as_str().unwrap_or("query"),
            name,
            rust_snake_name(name)
        );
        if parameter["required"] == Value::Bool(true) {
            required.push(entry);
        } else {
            optional.push(entry);
        }
    }
    let body = operation
        .pointer("/requestBody/content/application~1json/schema/$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
        .and_then(|name| components.get(name));
    if let Some(body) = body {
        let body_required: Vec<&str> = body["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for name in body["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| name)
        {
            let entry = format!("body `{name}` (`.{}(..)`)", rust_snake_name(name));
            if body_required.contains(&name.as_str()) {
                required.push(entry);
            } else {
                optional.push(entry);
            }
        }
    }
    (required, optional)
}

fn capitalized(text: &str) -> String {
    let mut characters = text.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_operation_is_described_from_its_data() {
        let mut spec = json!({
            "components": {"schemas": {"Body": {"type": "object", "required": ["newName"],
                "properties": {"newName": {"type": "string"}, "apiId": {"type": "string"}}}}},
            "paths": {"/v2/x/{accountId}": {"patch": {
                "operationId": "setAccountName",
                "description": "Renames an account.",
                "x-sonoran-rate-limit": {"requests": 22, "window-seconds": 60, "scope": "credential"},
                "parameters": [{"name": "accountId", "in": "path", "required": true}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}},
                "x-sonoran-one-of": [{"group": "account identity", "in": "body", "fields": ["apiId"], "required": false,
                                       "account-identity": {}}],
                "responses": {"2XX": {"x-documented-status": "200"}}
            }}}
        });
        describe_operations(&mut spec);
        let once = spec.clone();
        describe_operations(&mut spec);
        assert_eq!(spec, once, "describing again changes nothing");
        let text = spec["paths"]["/v2/x/{accountId}"]["patch"]["description"]
            .as_str()
            .expect("a description");
        assert!(
            text.starts_with(&format!(
                "Renames an account.\n\n{GENERATED_MARK}\n\n**Rate limit:** 22 requests per 60 s per API key"
            )),
            "{text}"
        );
        assert!(
            text.contains("not after a 5XX, timeout or reset after sending (not idempotent)"),
            "{text}"
        );
        assert!(
            text.contains("**Success:** any 2XX (the docs name 200)."),
            "{text}"
        );
        assert!(text.contains("**Required:** path `accountId` (`.account_id(..)`), body `newName` (`.new_name(..)`)."), "{text}");
        assert!(
            text.contains("**Optional:** body `apiId` (`.api_id(..)`)."),
            "{text}"
        );
        assert!(text.contains("**Account identity:** optionally one of `apiId` (set it with `.identity(AccountIdentity::..)`)"), "{text}");
    }
}
