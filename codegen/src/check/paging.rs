//! The paging extension (`x-sonoran-paging`): which query parameters page an
//! operation, where a page's items and total are, and its largest page. Read
//! and checked here, into the model; generated into `.items(..)` by
//! `generate::bodies`.

use openapiv3::{OpenAPI, ReferenceOr};

/// The operation extension that says how an operation pages.
pub const PAGING_EXTENSION: &str = "x-sonoran-paging";

/// A paged operation: which query parameters page, and where a page's items are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged {
    /// The operationId, for the builder's type name.
    pub operation_id: String,
    /// The query parameter of how many items to skip.
    pub offset: String,
    /// The query parameter of how many items a page holds.
    pub size: String,
    /// Where a page's items are (JSON pointers into the answer, tried in order).
    pub items: Vec<String>,
    /// The items' schema (a component).
    pub item: String,
    /// Where the total count is, when the API sends one.
    pub total: Option<String>,
    /// The most items the API returns in one page (`max-size`): the client
    /// never asks for more, and a shorter page never ends the stream early.
    pub max_size: u64,
    /// The item's member that tells two items apart (`identity`: `accId`),
    /// when it has one: an item a moving list repeats on the next page is
    /// yielded once. Items without one (roster rows) cannot be told apart.
    pub identity: Option<String>,
}

/// Every paged operation, or a finding for each malformed extension.
pub fn paged(spec: &OpenAPI) -> (Vec<Paged>, Vec<crate::error::LintFinding>) {
    use openapiv3::Parameter;
    use serde_json::Value;
    let mut paged = Vec::new();
    let mut findings = Vec::new();
    for spec_operation in crate::operations::with_ids(spec) {
        let Some(extension) = spec_operation.operation.extensions.get(PAGING_EXTENSION) else {
            continue;
        };
        let pointer = crate::json_pointer::child(&spec_operation.pointer(), PAGING_EXTENSION);
        let queries: Vec<&str> = spec_operation
            .operation
            .parameters
            .iter()
            .filter_map(|parameter| match parameter {
                ReferenceOr::Item(Parameter::Query { parameter_data, .. }) => {
                    Some(parameter_data.name.as_str())
                }
                _ => None,
            })
            .collect();
        let text = |key: &str| {
            extension
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let items: Vec<String> = extension
            .get("items")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let max_size = extension
            .get("max-size")
            .and_then(Value::as_u64)
            .filter(|size| (1..=10_000).contains(size));
        let problem = match (text("offset"), text("size"), text("item"), max_size) {
            (_, _, _, None) => Some(
                "`max-size` must be a whole number from 1 to 10000: the most items the API returns in one page"
                    .to_owned(),
            ),
            (Some(offset), Some(size), Some(item), Some(max_size)) => {
                let component_exists = spec
                    .components
                    .as_ref()
                    .is_some_and(|components| components.schemas.contains_key(&item));
                if !queries.contains(&offset.as_str()) || !queries.contains(&size.as_str()) {
                    Some(format!(
                        "`offset` and `size` must be query parameters of the operation ({})",
                        queries.join(", ")
                    ))
                } else if items.is_empty() || items.iter().any(|pointer| !pointer.starts_with('/'))
                {
                    Some("`items` must list JSON pointers (`/data/items`)".to_owned())
                } else if !component_exists {
                    Some(format!("`item` must name a component schema, not `{item}`"))
                } else if let Some(identity) = text("identity").filter(|identity| {
                    !item_has_property(spec, &item, identity)
                }) {
                    Some(format!("`identity` must name a member of `{item}`, not `{identity}`"))
                } else {
                    paged.push(Paged {
                        operation_id: spec_operation.operation_id.to_owned(),
                        offset,
                        size,
                        items: items.clone(),
                        item,
                        total: text("total"),
                        max_size,
                        identity: text("identity"),
                    });
                    None
                }
            }
            _ => Some("needs `offset`, `size`, `items`, `item` and `max-size` (and may name an `identity`)".to_owned()),
        };
        if let Some(message) = problem {
            findings.push(crate::error::LintFinding {
                operation: Some(spec_operation.operation_id.to_owned()),
                pointer,
                message,
            });
        }
    }
    (paged, findings)
}

/// Whether the component schema `item` declares the property `name`.
fn item_has_property(spec: &OpenAPI, item: &str, name: &str) -> bool {
    let Some(ReferenceOr::Item(schema)) = spec
        .components
        .as_ref()
        .and_then(|components| components.schemas.get(item))
    else {
        return false;
    };
    match &schema.schema_kind {
        openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) => {
            object.properties.contains_key(name)
        }
        _ => false,
    }
}
