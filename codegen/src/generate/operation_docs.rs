//! What each operation's rustdoc tells a user beyond the docs' summary, written
//! from the spec's data so that no operation is documented by hand: its rate
//! limit, how it is retried, which success statuses it takes, which inputs it
//! requires and which are optional (with the groups of alternatives), how it
//! pages, and a short example that sets every required input (compiled as a
//! doctest, so a spec change that breaks it fails `cargo test`). progenitor
//! renders an operation's `description` into the docs of its `Client` method, so
//! the text goes there.

use heck::ToPascalCase as _;
use serde_json::Value;

use crate::json_pointer::schema_component;
use crate::model::{OperationModel, SpecModel};
use crate::naming::rust_snake_name;
use crate::one_of::{Location, OneOfGroup};

/// Where the generated part of a description starts (an HTML comment, which
/// rustdoc does not show), so that describing a described spec again replaces
/// it rather than adding a second copy.
const GENERATED_MARK: &str = "<!-- generated from the spec's data -->";

/// Appends the generated part to every operation's `description` in `spec` (the
/// enriched spec as JSON). The docs' own description, if any, comes first; a
/// generated part already there is replaced.
/// What each operation's extensions say comes from `model`, read once from the
/// same spec.
pub fn describe_operations(spec: &mut Value, model: &SpecModel) {
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
                operation_text(
                    method,
                    operation,
                    &components,
                    operation["operationId"]
                        .as_str()
                        .and_then(|id| model.operation(&rust_snake_name(id))),
                )
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

fn operation_text(
    method: &str,
    operation: &Value,
    components: &Value,
    extensions: Option<&OperationModel>,
) -> String {
    let mut lines = Vec::new();
    if let Some(limit) = extensions.and_then(|extensions| extensions.rate_limit.as_ref()) {
        lines.push(format!(
            "**Rate limit:** {} requests per {} s per API key; a call over it waits for a slot.",
            limit.requests, limit.window_seconds
        ));
    }
    let (method_safe, method_idempotent) = crate::rate_limits::method_semantics(method);
    let (safe, idempotent) = extensions.map_or((method_safe, method_idempotent), |extensions| {
        (extensions.safe, extensions.idempotent)
    });
    lines.push(format!(
        "**Retries:** {}",
        retries(method, safe, idempotent)
    ));
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
    let groups: &[OneOfGroup] = extensions.map_or(&[], |extensions| &extensions.one_of);
    for group in groups {
        let fields: Vec<String> = group
            .fields
            .iter()
            .map(|field| format!("`{field}`"))
            .collect();
        let how = match (group.required, group.at_most_one) {
            (true, true) => "exactly one of",
            (true, false) => "at least one of",
            (false, _) => "optionally one of",
        };
        let setter = if group.account_identity.is_some() {
            " (set it with `.identity(AccountIdentity::..)`)"
        } else {
            ""
        };
        lines.push(format!(
            "**{}:** {how} {}{setter}; a request that lacks a required one is refused before it is sent.",
            capitalized(&group.group),
            fields.join(", ")
        ));
    }
    if let Some(paging) = extensions.and_then(|extensions| extensions.paging.as_ref()) {
        lines.push(format!(
            "**Paging:** by `{}` and `{}`; the builder's `.items(page_size)` streams every item.",
            paging.offset, paging.size
        ));
    }
    if operation.get("x-sonoran-undocumented").is_some() {
        lines.push(
            "**Undocumented by Sonoran:** typed from the sources its description names.".to_owned(),
        );
    }
    lines.push(example(operation, components, groups));
    lines.join("\n\n")
}

/// Where an operation's example starts in its description.
const EXAMPLE_MARK: &str = "\n\n**Example**";

/// Rewrites every operation's description in `spec` for a terminal: without the
/// Rust example (it is for the library), the marker comment and Markdown's bold
/// marks. The command line shows the rest as each subcommand's help.
pub fn for_command_line(spec: &mut Value) {
    let components = spec.get("components").cloned().unwrap_or(Value::Null);
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(description) = operation.get("description").and_then(Value::as_str) else {
            continue;
        };
        let mut kept = description
            .split_once(EXAMPLE_MARK)
            .map_or(description, |(kept, _)| kept)
            .replace(&format!("{GENERATED_MARK}\n\n"), "")
            .replace("**", "");
        // progenitor's command line has a flag for a body field of one plain
        // value only; a list or an object goes in the `--json-body` file.
        for name in body_fields_without_a_flag(operation, &components) {
            let setter = format!("(`.{}(..)`)", rust_snake_name(&name));
            kept = kept.replace(&setter, "(in the `--json-body` file)");
        }
        operation["description"] = Value::String(in_shell_syntax(&kept));
    }
}

/// The JSON body's fields whose values are not one plain value (a list, an
/// object, several forms): the command line takes them only in its
/// `--json-body` file.
fn body_fields_without_a_flag(operation: &Value, components: &Value) -> Vec<String> {
    let resolve = |schema: &Value| -> Value {
        match schema["$ref"].as_str().and_then(schema_component) {
            Some(name) => components["schemas"][&name].clone(),
            None => schema.clone(),
        }
    };
    let body = resolve(&operation["requestBody"]["content"]["application/json"]["schema"]);
    body["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, property)| {
            let property = resolve(property);
            let plain = matches!(
                property["type"].as_str(),
                Some("string" | "integer" | "number" | "boolean")
            ) && property.get("oneOf").is_none();
            !plain
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// The library's builder syntax in an operation's docs, as the command line's
/// flags: `` `.account_id(..)` `` is `` `--account-id` ``, the identity
/// setter names the flags of the identities, and the library's pager is not
/// offered (each command sends one request).
fn in_shell_syntax(text: &str) -> String {
    const IDENTITY: &str = " (set it with `.identity(AccountIdentity::..)`)";
    const PAGER: &str = "; the builder's `.items(page_size)` streams every item";
    let mut text = text.replace(PAGER, "");
    // The identity sentence lists the API's names; its flags are their kebab case.
    while let Some(at) = text.find(IDENTITY) {
        let sentence_start = text[..at].rfind("Account identity:").unwrap_or(at);
        let flags: Vec<String> = text[sentence_start..at]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|name| format!("`--{}`", heck::ToKebabCase::to_kebab_case(name)))
            .collect();
        let replacement = if flags.is_empty() {
            " (give one with its flag)".to_owned()
        } else {
            format!(" (give one with its flag: {})", flags.join(", "))
        };
        text.replace_range(at..at + IDENTITY.len(), &replacement);
    }
    // Every other setter: `.snake_name(..)` is the flag `--kebab-name`.
    let mut written = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("`.") {
        written.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name_end = after
            .find(|character: char| !(character.is_ascii_alphanumeric() || character == '_'))
            .unwrap_or(after.len());
        let (name, tail) = after.split_at(name_end);
        match tail.strip_prefix("(..)`") {
            Some(tail) if !name.is_empty() => {
                let flag = heck::ToKebabCase::to_kebab_case(name.trim_end_matches('_'));
                written.push_str(&format!("`--{flag}`"));
                rest = tail;
            }
            _ => {
                written.push_str("`.");
                rest = after;
            }
        }
    }
    written.push_str(rest);
    written
}

/// Removes every provenance note (`Source: ..` / `Sources: ..`, to the end of
/// its line) from the descriptions in `spec`, for rustdoc and the command
/// line's help: a user needs what a field is, not where the fact was found,
/// which the spec and the overlays keep. Examples, defaults, enums and
/// extensions are data, and are left as they are.
pub fn without_provenance(spec: &mut Value) {
    match spec {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                match (key.as_str(), member) {
                    ("description" | "summary", Value::String(text)) => {
                        *text = text_without_provenance(text);
                    }
                    ("example" | "examples" | "default" | "enum" | "const", _) => {}
                    (key, _) if key.starts_with("x-") => {}
                    (_, member) => without_provenance(member),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_provenance),
        _ => {}
    }
}

/// `text` without its provenance notes: each `Source:` or `Sources:` that
/// starts a sentence, up to the end of its line.
fn text_without_provenance(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            let cut = ["Source: ", "Sources: "]
                .iter()
                .filter_map(|mark| {
                    line.match_indices(mark).map(|(at, _)| at).find(|&at| {
                        at == 0 || line[..at].ends_with(". ") || line[..at].ends_with(") ")
                    })
                })
                .min();
            match cut {
                Some(at) => line[..at].trim_end(),
                None => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The placeholder every example names an account with.
const EXAMPLE_UUID: &str = "8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11";

/// Where a generated value goes, which decides how it must be written: a
/// builder's setter takes anything that converts (`TryInto`), so a literal or a
/// nested builder does; inside a `vec![..]` the value must be of the exact type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    Setter,
    Exact,
}

/// A `no_run` doctest that makes the call with every required input set: path
/// and query parameters, the body's required fields (built with its builder) and
/// a required group of alternatives (`.identity(..)` for an account). Values come
/// from the docs' request example where they fit the field's type, otherwise from
/// the type (the first known value of a value set, a fixed UUID).
fn example(operation: &Value, components: &Value, groups: &[OneOfGroup]) -> String {
    let method = rust_snake_name(operation["operationId"].as_str().unwrap_or_default());
    let groups: Vec<&OneOfGroup> = groups.iter().filter(|group| group.required).collect();
    let mut calls = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().unwrap_or_default();
        let example = parameter
            .get("example")
            .or(parameter["schema"].get("example"));
        if parameter["required"] == Value::Bool(true) {
            let value = value_of(
                &parameter["schema"],
                components,
                &name.to_pascal_case(),
                Position::Setter,
                example,
            );
            calls.push(format!(".{}({value})", rust_snake_name(name)));
        }
    }
    for group in groups
        .iter()
        .filter(|group| group.location == Location::Query)
    {
        calls.push(group_setter(group, operation, components));
    }
    if let Some(reference) = operation
        .pointer("/requestBody/content/application~1json/schema/$ref")
        .and_then(Value::as_str)
    {
        let type_name = type_name(reference);
        let example = operation.pointer("/requestBody/content/application~1json/example");
        let mut body = builder_expression(&type_name, components, example);
        for group in groups
            .iter()
            .filter(|group| group.location == Location::Body)
        {
            body.push_str(&group_setter(group, operation, components));
        }
        calls.push(format!(".body({body})"));
    }
    let mut code = vec![
        "```rust,no_run".to_owned(),
        "# async fn example(client: &sonoran_cms::Client) -> Result<(), Box<dyn std::error::Error>> {"
            .to_owned(),
    ];
    let uses_types = calls.iter().any(|call| call.contains("types::"));
    code.push(format!(
        "{}use sonoran_cms::types;",
        if uses_types { "" } else { "# " }
    ));
    code.push("let response = client".to_owned());
    code.push(format!("    .{method}()"));
    code.extend(calls.into_iter().map(|call| format!("    {call}")));
    // A builder is a future (`IntoFuture`) whose error is `sonoran_cms::Error`:
    // `.await?` is all, into any error type.
    code.push("    .await?;".to_owned());
    code.push("println!(\"{:?}\", response.into_inner());".to_owned());
    code.push("# Ok(())".to_owned());
    code.push("# }".to_owned());
    code.push("```".to_owned());
    format!(
        "{} (every required input set; the values are placeholders):\n\n{}",
        EXAMPLE_MARK.trim_start(),
        code.join("\n")
    )
}

/// The setter call that satisfies a required group: `.identity(..)` for an
/// account identity, otherwise its first field.
fn group_setter(group: &OneOfGroup, operation: &Value, components: &Value) -> String {
    if group.account_identity.is_some() {
        return ".identity(types::AccountIdentity::Discord(\"123456789012345678\".into()))"
            .to_owned();
    }
    let Some(field) = group.fields.first().map(String::as_str) else {
        return String::new();
    };
    let schema = if group.location == Location::Query {
        operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|parameter| parameter["name"] == field)
            .map(|parameter| parameter["schema"].clone())
    } else {
        operation
            .pointer("/requestBody/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
            .and_then(|reference| components.get(type_name(reference)))
            .and_then(|body| body["properties"].get(field))
            .cloned()
    }
    .unwrap_or(Value::Null);
    let value = value_of(
        &schema,
        components,
        &field.to_pascal_case(),
        Position::Setter,
        None,
    );
    format!(".{}({value})", rust_snake_name(field))
}

/// The Rust name typify gives a component: its name, which lint keeps a valid
/// Rust type name.
fn type_name(reference: &str) -> String {
    schema_component(reference).unwrap_or_default()
}

/// `types::Name::builder()` with every required field of the object set.
fn builder_expression(type_name: &str, components: &Value, example: Option<&Value>) -> String {
    let schema = components.get(type_name).unwrap_or(&Value::Null);
    object_builder(type_name, schema, components, example)
}

fn object_builder(
    type_name: &str,
    schema: &Value,
    components: &Value,
    example: Option<&Value>,
) -> String {
    let mut text = format!("types::{type_name}::builder()");
    for field in schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let field_schema = &schema["properties"][field];
        // typify names an inline object after its parent and the field.
        let hint = format!("{type_name}{}", field.to_pascal_case());
        let value = value_of(
            field_schema,
            components,
            &hint,
            Position::Setter,
            example.and_then(|example| example.get(field)),
        );
        text.push_str(&format!(".{}({value})", rust_snake_name(field)));
    }
    text
}

/// A Rust expression of the type `schema` generates, for `position`. `hint` is
/// the name typify gives an inline object there.
fn value_of(
    schema: &Value,
    components: &Value,
    hint: &str,
    position: Position,
    example: Option<&Value>,
) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = type_name(reference);
        let target = components.get(&name).unwrap_or(&Value::Null);
        return named_value(&name, target, components, position, example);
    }
    if let Some([single]) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        return value_of(single, components, hint, position, example);
    }
    if schema.get("enum").is_some() {
        // An inline value set: typify names it as it would an inline object.
        return named_value(hint, schema, components, position, example);
    }
    let exact = position == Position::Exact;
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => string_value(schema, position, example),
        Some("integer") => {
            let number = example
                .and_then(Value::as_u64)
                .filter(|&number| number > 0)
                .unwrap_or(1);
            // A setter takes any integer (ids included), so a literal does.
            number.to_string()
        }
        Some("number") => "1.0".to_owned(),
        Some("boolean") => example.and_then(Value::as_bool).unwrap_or(true).to_string(),
        Some("array") => {
            let item = value_of(
                &schema["items"],
                components,
                &format!("{hint}Item"),
                Position::Exact,
                example.and_then(|example| example.get(0)),
            );
            format!("vec![{item}]")
        }
        Some("object") if schema.get("properties").is_some() => {
            let builder = object_builder(hint, schema, components, example);
            if exact {
                format!("types::{hint}::try_from({builder})?")
            } else {
                builder
            }
        }
        // An untyped value (`x-untyped-reason`): any JSON.
        _ => format!(
            "serde_json::json!({})",
            example.map_or_else(|| "\"text\"".to_owned(), Value::to_string)
        ),
    }
}

/// A value of the component `name`: an object through its builder, a closed
/// value set by its first value, an open one (`Known | Other`) by the first known
/// value.
fn named_value(
    name: &str,
    target: &Value,
    components: &Value,
    position: Position,
    example: Option<&Value>,
) -> String {
    if let Some(first) = target["enum"].as_array().and_then(|values| values.first()) {
        return match position {
            Position::Setter => first.to_string(),
            Position::Exact => format!("{first}.parse::<types::{name}>()?"),
        };
    }
    if let Some(known) = target["oneOf"]
        .as_array()
        .and_then(|forms| forms.first())
        .and_then(|form| form["$ref"].as_str())
        .map(type_name)
    {
        // One flat enum (`generate::value_sets`): its first known value's variant.
        let first = components[&known]["enum"]
            .as_array()
            .and_then(|values| values.first())
            .and_then(Value::as_str)
            .unwrap_or_default();
        return format!(
            "types::{name}::{}",
            crate::generate::value_sets::variant_name(first)
        );
    }
    if target.get("properties").is_some() {
        let builder = object_builder(name, target, components, example);
        return match position {
            Position::Setter => builder,
            Position::Exact => format!("types::{name}::try_from({builder})?"),
        };
    }
    value_of(target, components, name, position, example)
}

fn string_value(schema: &Value, position: Position, example: Option<&Value>) -> String {
    let exact = position == Position::Exact;
    match schema.get("format").and_then(Value::as_str) {
        Some("uuid") => {
            if exact {
                format!("sonoran_cms::uuid::Uuid::parse_str(\"{EXAMPLE_UUID}\")?")
            } else {
                format!("\"{EXAMPLE_UUID}\"")
            }
        }
        Some("date-time") => {
            "\"2026-01-01T00:00:00Z\".parse::<sonoran_cms::chrono::DateTime<sonoran_cms::chrono::Utc>>()?"
                .to_owned()
        }
        _ => {
            let text = example.and_then(Value::as_str).unwrap_or("text");
            let literal = Value::String(text.to_owned()).to_string();
            if exact {
                format!("{literal}.to_owned()")
            } else {
                literal
            }
        }
    }
}

fn retries(method: &str, safe: bool, idempotent: bool) -> String {
    let (method_safe, method_idempotent) = crate::rate_limits::method_semantics(method);
    let base = "429, 408, and 503 with `Retry-After`, after the delay asked for; a connection failure, or a request never written";
    let mut text = match (idempotent, method_idempotent) {
        (true, true) => format!("{base}; and a 5XX, timeout or reset after sending (idempotent)."),
        (true, false) => format!(
            "{base}; and a 5XX, timeout or reset after sending: although a {}, it is idempotent.",
            method.to_uppercase()
        ),
        (false, true) => format!(
            "{base}; not once it may have run (a 5XX, timeout or reset after sending): repeating it could report a \
             success as a failure."
        ),
        (false, false) => {
            format!("{base}; not after a 5XX, timeout or reset after sending (not idempotent).")
        }
    };
    if safe && !method_safe {
        text.push_str(" It changes nothing, so a failed call never may have taken effect.");
    }
    text
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

    #[test]
    fn the_command_line_reads_flags_not_builder_calls() {
        let text = "Required: path `accountId` (`.account_id(..)`), body `type` (`.type_(..)`).\n\n\
                    Account identity: exactly one of `accId`, `discord` (set it with `.identity(AccountIdentity::..)`); \
                    a request that lacks a required one is refused before it is sent.\n\n\
                    Paging: by `skip` and `take`; the builder's `.items(page_size)` streams every item.";
        let shell = in_shell_syntax(text);
        assert!(shell.contains("(`--account-id`)"), "{shell}");
        assert!(shell.contains("(`--type`)"), "{shell}");
        assert!(
            shell.contains("(give one with its flag: `--acc-id`, `--discord`)"),
            "{shell}"
        );
        assert!(shell.contains("Paging: by `skip` and `take`."), "{shell}");
        assert!(
            !shell.contains("(..)") && !shell.contains(".identity("),
            "{shell}"
        );
    }
    use serde_json::json;

    #[test]
    fn an_operation_is_described_from_its_data() {
        let mut spec = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "components": {"schemas": {"Body": {"type": "object", "required": ["newName"],
                "properties": {"newName": {"type": "string"}, "accId": {"type": "string"},
                    "apiId": {"type": "string"}, "username": {"type": "string"},
                    "discord": {"type": "string"}, "uniqueId": {"type": "integer"}}}}},
            "paths": {"/v2/x/{accountId}": {"patch": {
                "operationId": "setAccountName",
                "description": "Renames an account.",
                "x-sonoran-rate-limit": {"requests": 22, "window-seconds": 60, "scope": "credential"},
                "parameters": [{"name": "accountId", "in": "path", "required": true,
                                "schema": {"type": "string", "format": "uuid"}}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}},
                "x-sonoran-one-of": [{"group": "account identity", "in": "body", "required": false,
                    "fields": ["accId", "apiId", "username", "discord", "uniqueId"],
                    "account-identity": {"accId": "accId", "apiId": "apiId", "username": "username",
                                         "discord": "discord", "uniqueId": "uniqueId"}}],
                "responses": {"2XX": {"description": "OK", "x-documented-status": "200"}}
            }}}
        });
        let typed = crate::load::openapi("spec.yaml", &spec).expect("a typed spec");
        let model = crate::model::read(&typed);
        describe_operations(&mut spec, &model);
        let once = spec.clone();
        describe_operations(&mut spec, &model);
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
            text.contains(
                "**Optional:** body `accId` (`.acc_id(..)`), body `apiId` (`.api_id(..)`)"
            ),
            "{text}"
        );
        assert!(text.contains("**Account identity:** optionally one of `accId`, `apiId`, `username`, `discord`, `uniqueId` (set it with `.identity(AccountIdentity::..)`)"), "{text}");
        assert!(model.findings.is_empty(), "{:?}", model.findings);
        assert!(
            text.contains(
                "```rust,no_run\n# async fn example(client: &sonoran_cms::Client) -> Result<(), Box<dyn std::error::Error>> {\nuse sonoran_cms::types;\nlet response = client\n    .set_account_name()\n    .account_id(\"8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11\")\n    .body(types::Body::builder().new_name(\"text\"))\n    .await?;"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_example_sets_every_required_input_in_the_form_its_type_takes() {
        let components = json!({
            "Body": {"type": "object", "required": ["servers", "team", "kind", "when"],
                "properties": {
                    "servers": {"type": "array", "items": {"$ref": "#/components/schemas/Server"}},
                    "team": {"allOf": [{"$ref": "#/components/schemas/Team"}]},
                    "kind": {"type": "string", "enum": ["note", "ban"]},
                    "when": {"type": "string", "format": "date-time"},
                    "optional": {"type": "string"}}},
            "Server": {"type": "object", "required": ["name", "rows"],
                "properties": {"name": {"type": "string"},
                    "rows": {"type": "array", "items": {"type": "object", "required": ["value"],
                        "properties": {"value": {}}}}}},
            "Team": {"oneOf": [{"$ref": "#/components/schemas/KnownTeam"}, {"title": "Other", "type": "string"}]},
            "KnownTeam": {"type": "string", "enum": ["police", "fire"]}
        });
        let operation = json!({
            "operationId": "addThings",
            "parameters": [{"name": "serverId", "in": "path", "required": true,
                            "schema": {"type": "integer", "minimum": 1}},
                           {"name": "skip", "in": "query", "schema": {"type": "integer"}}],
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Body"},
                "example": {"servers": [{"name": "Main", "rows": [{"value": ["a"]}]}], "kind": "ban"}}}},
            "x-sonoran-one-of": [{"group": "account identity", "in": "body", "required": true,
                                   "fields": ["discord"], "account-identity": {}}]
        });
        let groups = [OneOfGroup {
            rust_name: "add_things".to_owned(),
            operation_id: "addThings".to_owned(),
            group: "account identity".to_owned(),
            location: Location::Body,
            fields: vec!["discord".to_owned()],
            required: true,
            at_most_one: false,
            account_identity: Some(vec![("discord".to_owned(), "discord".to_owned())]),
            body_component: Some("Body".to_owned()),
        }];
        let text = example(&operation, &components, &groups);
        for expected in [
            ".add_things()",
            ".server_id(1)",
            ".servers(vec![types::Server::try_from(types::Server::builder().name(\"Main\").rows(vec![types::ServerRowsItem::try_from(types::ServerRowsItem::builder().value(serde_json::json!([\"a\"])))?]))?])",
            ".team(types::Team::Police)",
            ".kind(\"note\")",
            ".when(\"2026-01-01T00:00:00Z\".parse::<sonoran_cms::chrono::DateTime<sonoran_cms::chrono::Utc>>()?)",
            ".identity(types::AccountIdentity::Discord(\"123456789012345678\".into()))",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert!(!text.contains(".skip("), "optional inputs stay out: {text}");
        assert!(
            !text.contains(".optional("),
            "optional fields stay out: {text}"
        );
    }
}
