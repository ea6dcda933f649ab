//! What a request must contain beyond its types: the groups of alternative fields
//! the spec records per operation (`x-sonoran-one-of`, e.g. "one of `accId`,
//! `apiId`, `username`, `discord`, `uniqueId`"), listed in the operation's entry
//! of the generated table; the `pre` hook checks every request against them
//! before anything is sent.

use crate::spec::{FieldLocation, OneOfGroup};

/// Checks `request` (about to be sent for `operation`, named in messages)
/// against the operation's `groups`. `Err` says what is missing or too much and which fields are allowed;
/// the request must then not be sent.
pub(crate) fn check(
    operation: &str,
    groups: &[OneOfGroup],
    request: &reqwest::Request,
) -> Result<(), String> {
    let groups = groups
        .iter()
        .filter(|group| group.required || group.at_most_one);
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
                            .is_some_and(names_something)
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

/// Whether a body member names something: `null` and empty text do not (the
/// query check likewise ignores an empty parameter).
fn names_something(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::String(text) => !text.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request for a group's operation naming exactly `fields` (as body members
    /// or query parameters, by the group's location).
    fn request_naming(group: &OneOfGroup, fields: &[&str]) -> reqwest::Request {
        let mut url = url::Url::parse("http://127.0.0.1/v2/x").expect("a URL");
        let mut body = serde_json::Map::new();
        for field in fields {
            match group.location {
                FieldLocation::Query => {
                    url.query_pairs_mut().append_pair(field, "1");
                }
                FieldLocation::Body => {
                    body.insert((*field).to_owned(), serde_json::json!("1"));
                }
            }
        }
        let mut request = reqwest::Request::new(reqwest::Method::POST, url);
        *request.body_mut() = Some(serde_json::to_vec(&body).expect("JSON").into());
        request
    }

    /// Every group of the spec, with its operation.
    fn groups() -> Vec<(crate::Operation, &'static OneOfGroup)> {
        crate::Operation::ALL
            .iter()
            .flat_map(|operation| {
                operation
                    .spec()
                    .one_of
                    .iter()
                    .map(move |group| (*operation, group))
            })
            .collect()
    }

    #[test]
    fn every_group_of_the_spec_is_enforced_as_it_says() {
        let groups = groups();
        assert!(!groups.is_empty());
        for (operation, group) in &groups {
            let check = |request: &reqwest::Request| {
                check(operation.as_str(), operation.spec().one_of, request)
            };
            let none = check(&request_naming(group, &[]));
            if group.required {
                let message = none.expect_err("a required group names nothing");
                for field in group.fields {
                    assert!(message.contains(&format!("`{field}`")), "{message}");
                }
                assert!(message.contains("nothing was sent"), "{message}");
            }
            for field in group.fields {
                assert_eq!(
                    check(&request_naming(group, &[field])),
                    Ok(()),
                    "{group:?} with {field}"
                );
            }
            let two = check(&request_naming(group, &group.fields[..2]));
            assert_eq!(
                two.is_err(),
                group.at_most_one,
                "{group:?} with two fields: {two:?}"
            );
        }
    }

    #[test]
    fn a_null_member_names_nothing_and_other_operations_are_not_checked() {
        let (operation, group) = groups()
            .into_iter()
            .find(|(_, group)| group.required && group.location == FieldLocation::Body)
            .expect("a required body group");
        let mut request = request_naming(group, &[]);
        *request.body_mut() = Some(
            format!(r#"{{"{}": null}}"#, group.fields[0])
                .into_bytes()
                .into(),
        );
        assert!(check(operation.as_str(), operation.spec().one_of, &request).is_err());
        assert_eq!(check("no_groups", &[], &request), Ok(()));
    }
}
