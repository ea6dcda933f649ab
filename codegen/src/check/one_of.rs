//! Groups of alternative fields, recorded in the spec as the `x-sonoran-one-of`
//! operation extension: "name the account by one of `accId`, `apiId`, `username`,
//! `discord`, `uniqueId`". Reading and checking them into the model; the
//! generate stage makes what the client does with them (the operation table's
//! groups, which the `pre` hook reads to refuse a request that names none of a
//! required group before any byte is sent, and the `.identity(AccountIdentity)`
//! setters of `generate::identity_setters`). Nothing here is written per
//! operation: a new operation with the extension gets both.
//!
//! The extension is a list of groups:
//!
//! ```yaml
//! x-sonoran-one-of:
//!   - group: account identity        # what the fields name, for messages
//!     in: body                       # or `query`
//!     fields: [accId, apiId, username, discord, uniqueId]
//!     required: true                 # a request must name at least one
//!     at-most-one: true              # optional: and at most one
//!     account-identity:              # optional: AccountIdentity variant → field
//!       {accId: accId, apiId: apiId, username: username, discord: discord, uniqueId: uniqueId}
//!     source: where the group comes from
//! ```

use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, Schema, SchemaKind, Type};
use serde_json::Value;

use crate::error::LintFinding;
use crate::json_pointer::child;
use crate::naming::rust_snake_name;
use crate::operations::SpecOperation;

/// The operation extension that carries the groups.
pub const ONE_OF_EXTENSION: &str = "x-sonoran-one-of";

/// The component whose variants a group's `account-identity` maps to fields.
pub const ACCOUNT_IDENTITY: &str = "AccountIdentity";

/// The `AccountIdentity` variants, by the property each one's object holds, with
/// the Rust variant name typify gives it and the Rust type it holds.
pub const IDENTITY_KINDS: [(&str, &str, &str); 5] = [
    ("accId", "AccId", "::uuid::Uuid"),
    ("apiId", "ApiId", "::std::string::String"),
    ("username", "Username", "::std::string::String"),
    ("discord", "Discord", "::std::string::String"),
    ("uniqueId", "UniqueId", "i64"),
];

/// Where a group's fields travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Top-level fields of the JSON body.
    Body,
    /// Query parameters.
    Query,
}

/// One group of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOfGroup {
    /// The operation's Rust name (as progenitor reports it to hooks).
    pub rust_name: String,
    /// The operationId, for the builder's type name.
    pub operation_id: String,
    /// What the fields name ("account identity").
    pub group: String,
    /// Where they travel.
    pub location: Location,
    /// The API's names of the fields.
    pub fields: Vec<String>,
    /// Whether a request must name at least one.
    pub required: bool,
    /// Whether a request may name at most one.
    pub at_most_one: bool,
    /// For each `AccountIdentity` variant (by property), the field it sets.
    pub account_identity: Option<Vec<(String, String)>>,
    /// The body's component name, for a body group.
    pub body_component: Option<String>,
}

/// Every operation's groups, or a finding for each malformed one (a field the
/// operation does not have, an unknown location, a partial identity mapping).
pub fn read(spec: &OpenAPI) -> (Vec<OneOfGroup>, Vec<LintFinding>) {
    let mut groups = Vec::new();
    let mut findings = Vec::new();
    for spec_operation in crate::operations::with_ids(spec) {
        let SpecOperation {
            operation_id,
            operation,
            ..
        } = spec_operation;
        let Some(extension) = operation.extensions.get(ONE_OF_EXTENSION) else {
            continue;
        };
        let pointer = child(&spec_operation.pointer(), ONE_OF_EXTENSION);
        let mut report = |pointer: String, message: String| {
            findings.push(LintFinding {
                operation: Some(operation_id.to_owned()),
                pointer,
                message,
            });
        };
        let Some(list) = extension.as_array() else {
            report(pointer, "must be a list of groups".to_owned());
            continue;
        };
        for (index, entry) in list.iter().enumerate() {
            let entry_pointer = child(&pointer, &index.to_string());
            match read_group(spec, operation_id, operation, entry) {
                Ok(group) => groups.push(group),
                Err((key, message)) => report(child(&entry_pointer, key), message),
            }
        }
    }
    groups.sort_by(|left, right| {
        (&left.rust_name, &left.group).cmp(&(&right.rust_name, &right.group))
    });
    (groups, findings)
}

/// One group, or the key that is wrong and why.
fn read_group(
    spec: &OpenAPI,
    operation_id: &str,
    operation: &Operation,
    entry: &Value,
) -> Result<OneOfGroup, (&'static str, String)> {
    let text = |key: &'static str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
            .ok_or((key, format!("`{key}` must be a non-empty text")))
    };
    let group = text("group")?.to_owned();
    let location = match text("in")? {
        "body" => Location::Body,
        "query" => Location::Query,
        other => {
            return Err((
                "in",
                format!("`in` must be `body` or `query`, not `{other}`"),
            ));
        }
    };
    let fields: Vec<String> = entry
        .get("fields")
        .and_then(Value::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .filter(|fields: &Vec<String>| fields.len() >= 2)
        .ok_or((
            "fields",
            "`fields` must list at least two field names".to_owned(),
        ))?;
    let flag = |key: &'static str| match entry.get(key) {
        None => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err((key, format!("`{key}` must be true or false"))),
    };
    let required = flag("required")?;
    let at_most_one = flag("at-most-one")?;

    let (available, body_component) = match location {
        Location::Body => {
            let (component, properties) = body_properties(spec, operation).ok_or((
                "in",
                "the operation has no JSON body given as a `$ref` to a component with properties"
                    .to_owned(),
            ))?;
            (properties, Some(component))
        }
        Location::Query => (
            operation
                .parameters
                .iter()
                .filter_map(|parameter| match parameter {
                    ReferenceOr::Item(Parameter::Query { parameter_data, .. }) => {
                        Some(parameter_data.name.clone())
                    }
                    _ => None,
                })
                .collect(),
            None,
        ),
    };
    if let Some(missing) = fields.iter().find(|field| !available.contains(field)) {
        return Err((
            "fields",
            format!(
                "`{missing}` is not a {}",
                match location {
                    Location::Body => "property of the body",
                    Location::Query => "query parameter of the operation",
                }
            ),
        ));
    }

    let account_identity = match entry.get("account-identity") {
        None => None,
        Some(Value::Object(mapping)) => {
            let mut pairs = Vec::new();
            for (kind, _, _) in IDENTITY_KINDS {
                let field = mapping.get(kind).and_then(Value::as_str).ok_or((
                    "account-identity",
                    format!("`account-identity` must map every {ACCOUNT_IDENTITY} kind; `{kind}` is missing"),
                ))?;
                if !fields.iter().any(|known| known == field) {
                    return Err((
                        "account-identity",
                        format!(
                            "`account-identity` maps `{kind}` to `{field}`, which is not in `fields`"
                        ),
                    ));
                }
                pairs.push((kind.to_owned(), field.to_owned()));
            }
            if let Some(unknown) = mapping
                .keys()
                .find(|key| !IDENTITY_KINDS.iter().any(|(kind, _, _)| kind == key))
            {
                return Err((
                    "account-identity",
                    format!("`{unknown}` is not an {ACCOUNT_IDENTITY} kind"),
                ));
            }
            Some(pairs)
        }
        Some(_) => {
            return Err((
                "account-identity",
                "`account-identity` must map identity kinds to fields".to_owned(),
            ));
        }
    };
    Ok(OneOfGroup {
        rust_name: rust_snake_name(operation_id),
        operation_id: operation_id.to_owned(),
        group,
        location,
        fields,
        required,
        at_most_one,
        account_identity,
        body_component,
    })
}

/// The component a JSON request body refers to, and its property names.
fn body_properties(spec: &OpenAPI, operation: &Operation) -> Option<(String, Vec<String>)> {
    let ReferenceOr::Item(body) = operation.request_body.as_ref()? else {
        return None;
    };
    let ReferenceOr::Reference { reference } =
        body.content.get("application/json")?.schema.as_ref()?
    else {
        return None;
    };
    let name = reference.strip_prefix("#/components/schemas/")?;
    let ReferenceOr::Item(Schema {
        schema_kind: SchemaKind::Type(Type::Object(object)),
        ..
    }) = spec.components.as_ref()?.schemas.get(name)?
    else {
        return None;
    };
    Some((name.to_owned(), object.properties.keys().cloned().collect()))
}
