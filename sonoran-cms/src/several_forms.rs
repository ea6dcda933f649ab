//! Reading a value that comes in several forms (an untagged enum of the
//! generated types) without losing what the body says: a form is chosen only
//! when it keeps every member of the value that some form names.
//!
//! serde's untagged derive takes the first form that decodes. A form whose
//! members are all optional decodes any object, so a value that another form
//! means but that has one odd field (a clock-in row whose `completed` is `0`)
//! would be read as that form, and the other form's members (`startTime`,
//! `notes`) would vanish without an error. The generated `Deserialize` of every
//! union with two forms of one kind tries the forms in order under
//! [`keeps_every_member`], and fails as serde does when none fits, so the
//! decode error names the closest form's field instead.

use serde_json::{Map, Value};

use crate::decode::DecodeFailure;

/// The JSON members one form names (from the generated type's fields).
// Each generated union uses the variants its forms need; the tests' table of
// every union uses all of them.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Members {
    /// An object with these members.
    Object(&'static [&'static str]),
    /// A list of objects with these members.
    ListOf(&'static [&'static str]),
    /// Anything else: a scalar, a map keyed by data, open JSON, another union.
    Other,
}

/// Whether form `index` of `forms` may take `value`: no member of the value
/// (one that is not `null`) is named by another form of the same kind and not
/// by this one. A member no form names is unknown to all and may be ignored,
/// as everywhere (answers are read tolerantly).
pub(crate) fn keeps_every_member(value: &Value, forms: &[Members], index: usize) -> bool {
    dropped_member(value, forms, index).is_none()
}

/// The path (below `value`) of the first member form `index` would drop
/// although another form names it (`[0].startTime`), if any.
fn dropped_member(value: &Value, forms: &[Members], index: usize) -> Option<String> {
    let Some(own) = forms.get(index) else {
        return Some(String::new());
    };
    match (own, value) {
        (Members::Object(names), Value::Object(object)) => {
            dropped(object, names, forms, |form| match form {
                Members::Object(names) => names,
                _ => &[],
            })
        }
        (Members::ListOf(names), Value::Array(items)) => {
            items
                .iter()
                .enumerate()
                .find_map(|(position, item)| match item {
                    Value::Object(object) => dropped(object, names, forms, |form| match form {
                        Members::ListOf(names) => names,
                        _ => &[],
                    })
                    .map(|member| format!("[{position}]{member}")),
                    _ => None,
                })
        }
        _ => None,
    }
}

/// `.member` of the first member of `object` that `own` does not name and
/// another form does.
fn dropped(
    object: &Map<String, Value>,
    own: &[&str],
    forms: &[Members],
    names_of: impl Fn(&Members) -> &'static [&'static str],
) -> Option<String> {
    object
        .iter()
        .filter(|(_, value)| !value.is_null())
        .find(|(member, _)| {
            !own.contains(&member.as_str())
                && forms
                    .iter()
                    .any(|form| names_of(form).contains(&member.as_str()))
        })
        .map(|(member, _)| format!(".{member}"))
}

/// Checks `body` as form `index` of `forms` the way the union's `Deserialize`
/// chooses it: it must decode (`check`, the form type's own check), and keep
/// every member another form names. A decode error says where the form
/// differs by the path of the field; a member it would drop, by the member's
/// path. The decode error of a union (which form came closest) is built from
/// these.
pub(crate) fn check_form(
    body: &[u8],
    forms: &[Members],
    index: usize,
    check: crate::decode::CheckForm,
) -> Result<(), DecodeFailure> {
    check(body)?;
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    match dropped_member(&value, forms, index) {
        None => Ok(()),
        Some(path) => {
            let path = path.trim_start_matches('.').to_owned();
            let member = path.rsplit('.').next().unwrap_or_default().to_owned();
            Err(DecodeFailure {
                path: if path.is_empty() {
                    ".".to_owned()
                } else {
                    path
                },
                message: format!(
                    "`{member}` is a member another form names; {}",
                    crate::decode::WOULD_DROP
                ),
                line: 0,
                column: 0,
                context: String::new(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FORMS: &[Members] = &[
        Members::ListOf(&["completed", "id", "startTime"]),
        Members::ListOf(&["accId", "id", "start"]),
    ];

    #[test]
    fn a_form_never_takes_a_member_another_form_names() {
        let clock_ins = json!([{"id": 1, "startTime": "2026-04-15T00:00:00", "completed": 0}]);
        assert!(keeps_every_member(&clock_ins, FORMS, 0));
        assert!(
            !keeps_every_member(&clock_ins, FORMS, 1),
            "would drop startTime"
        );
        let activities = json!([{"id": 1, "start": "x", "accId": "y", "unknown": true}]);
        assert!(
            keeps_every_member(&activities, FORMS, 1),
            "unknown members are not another form's"
        );
        assert!(!keeps_every_member(&activities, FORMS, 0));
        let shared = json!([{"id": 1, "startTime": null}]);
        assert!(
            keeps_every_member(&shared, FORMS, 1),
            "a null member holds nothing to lose"
        );
    }

    /// The members a form names, and whether it is a list of them.
    fn names(members: Members) -> Option<(&'static [&'static str], bool)> {
        match members {
            Members::Object(names) => Some((names, false)),
            Members::ListOf(names) => Some((names, true)),
            Members::Other => None,
        }
    }

    /// Over every value of several forms in the generated types: a value that
    /// one form means (every member only it names is present) but that does not
    /// fit it (each such member holds a value no typed field takes) is either
    /// refused, or read by a form that keeps every one of its members. No form
    /// may take it and drop what the body says.
    #[test]
    fn no_value_of_several_forms_loses_a_member_that_a_form_names() {
        let mut checked = 0;
        for union in crate::generated_operations::UNION_SHAPES {
            for (index, (variant, members)) in union.forms.iter().enumerate() {
                let Some((own, list)) = names(*members) else {
                    continue;
                };
                let named_elsewhere: Vec<&str> = union
                    .forms
                    .iter()
                    .enumerate()
                    .filter(|(other, _)| *other != index)
                    .filter_map(|(_, (_, members))| names(*members))
                    .flat_map(|(names, _)| names.iter().copied())
                    .collect();
                let object: Map<String, Value> = own
                    .iter()
                    .map(|member| {
                        let value = if named_elsewhere.contains(member) {
                            Value::Null
                        } else {
                            json!([[{"odd": 0}]])
                        };
                        ((*member).to_owned(), value)
                    })
                    .collect();
                let body = if list {
                    json!([object])
                } else {
                    Value::Object(object.clone())
                };
                let bytes = serde_json::to_vec(&body).expect("JSON");
                if let Ok(read) = (union.read_and_write)(&bytes) {
                    let read = if list { &read[0] } else { &read };
                    for (member, value) in object.iter().filter(|(_, value)| !value.is_null()) {
                        assert!(
                            read.get(member).is_some(),
                            "`{}` read a value meant as its form `{variant}` and dropped its member `{member}` ({value}): {read}",
                            union.name
                        );
                    }
                }
                checked += 1;
            }
        }
        assert!(
            checked >= 10,
            "only {checked} forms with members were checked"
        );
    }
}
