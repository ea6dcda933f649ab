//! What a request must contain beyond its types: the groups of alternative fields
//! the spec records per operation (`x-sonoran-one-of`, e.g. "one of `accId`,
//! `apiId`, `username`, `discord`, `uniqueId`"). The generated table lists them;
//! the `pre` hook checks every request against it before anything is sent.

use crate::generated_one_of::ONE_OF_GROUPS;

/// Where a group's fields travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldLocation {
    /// Top-level fields of the JSON body.
    Body,
    /// Query parameters.
    Query,
}

/// One operation's group of alternative fields.
#[derive(Debug)]
pub(crate) struct OneOfGroup {
    /// The operation's Rust name, as progenitor reports it to hooks.
    pub(crate) operation: &'static str,
    /// What the fields name, for messages ("account identity").
    pub(crate) group: &'static str,
    /// Where the fields travel.
    pub(crate) location: FieldLocation,
    /// The API's names of the fields.
    pub(crate) fields: &'static [&'static str],
    /// A request must name at least one.
    pub(crate) required: bool,
    /// A request may name at most one.
    pub(crate) at_most_one: bool,
}

/// Checks `request` (about to be sent for `operation`) against the operation's
/// groups. `Err` says what is missing or too much and which fields are allowed;
/// the request must then not be sent.
pub(crate) fn check(operation: &str, request: &reqwest::Request) -> Result<(), String> {
    let groups = ONE_OF_GROUPS
        .iter()
        .filter(|group| group.operation == operation && (group.required || group.at_most_one));
    let mut body: Option<Option<serde_json::Map<String, serde_json::Value>>> = None;
    for group in groups {
        let named: Vec<&str> = match group.location {
            FieldLocation::Query => group
                .fields
                .iter()
                .copied()
                .filter(|field| {
                    request
                        .url()
                        .query_pairs()
                        .any(|(name, value)| name == *field && !value.is_empty())
                })
                .collect(),
            FieldLocation::Body => {
                // Parsed once, and only for operations that have a body group.
                let fields = body.get_or_insert_with(|| {
                    request
                        .body()
                        .and_then(reqwest::Body::as_bytes)
                        .and_then(|bytes| serde_json::from_slice(bytes).ok())
                });
                group
                    .fields
                    .iter()
                    .copied()
                    .filter(|field| {
                        fields
                            .as_ref()
                            .and_then(|fields| fields.get(*field))
                            .is_some_and(|value| !value.is_null())
                    })
                    .collect()
            }
        };
        let allowed = group
            .fields
            .iter()
            .map(|field| format!("`{field}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let place = match group.location {
            FieldLocation::Body => "body field",
            FieldLocation::Query => "query parameter",
        };
        if group.required && named.is_empty() {
            return Err(format!(
                "`{operation}` needs the {}: one {place} of {allowed} (none was given); nothing was sent",
                group.group
            ));
        }
        if group.at_most_one && named.len() > 1 {
            return Err(format!(
                "`{operation}` takes exactly one {}, but the request names {} ({}); nothing was sent",
                group.group,
                named.len(),
                named
                    .iter()
                    .map(|field| format!("`{field}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}
