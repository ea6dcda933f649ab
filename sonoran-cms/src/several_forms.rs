//! Reading a value that comes in several forms (an untagged enum of the
//! generated types) without losing what the body says, and without failing
//! because the API added a member: the forms are ranked by how many of the
//! value's members each names, and the first is read.
//!
//! serde's untagged derive takes the first form that decodes. A form whose
//! members are all optional decodes any object, so a value that another form
//! means but that has one odd field (a clock-in row whose `completed` is `0`)
//! would be read as that form, and the other form's members (`startTime`,
//! `notes`) would vanish without an error. The generated `Deserialize` of every
//! union with two forms of one kind reads the value as the form that names the
//! most of its members ([`ranks_first`]), and fails as serde does when that
//! form does not fit, so the decode error names that form's field.
//!
//! A member the API adds to one form that another form names (clock-in rows
//! gaining `serverId`, an activity row's member) no longer vetoes the form
//! that keeps the most: the value is read, and the member it cannot keep is
//! named in a `tracing` warning ([`note_dropped`]), never dropped silently.
//! Forms that keep as many members fail the read when one of them would drop
//! a member (the value is ambiguous); when none would, the spec's order decides.

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

impl Members {
    /// The member names a form of this kind names, when the value is of its
    /// kind (an object for `Object`, a list for `ListOf`).
    fn names_for(self, value: &Value) -> Option<&'static [&'static str]> {
        match (self, value) {
            (Members::Object(names), Value::Object(_))
            | (Members::ListOf(names), Value::Array(_)) => Some(names),
            _ => None,
        }
    }
}

/// The objects a value of `value`'s kind holds: itself, or a list's items.
fn objects(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Object(object) => vec![object],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// How form `index` stands among the forms for `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rank {
    /// It names the most of the value's members (or no form names any, or
    /// the tied forms lose nothing): it is read.
    First,
    /// Another form names more of them; the first member it would not keep.
    Behind { member: String },
    /// Another form names as many, and a member would be lost either way.
    Tied { member: String },
}

/// How many of the value's members (not `null`) `names` names, over every
/// object of the value.
fn kept(objects: &[&Map<String, Value>], names: &[&str]) -> usize {
    objects
        .iter()
        .map(|object| {
            object
                .iter()
                .filter(|(member, value)| !value.is_null() && names.contains(&member.as_str()))
                .count()
        })
        .sum()
}

/// The path (`[0].serverId`, `.serverId`) of the first member (not `null`) of
/// `value` that `own` does not name and another form of the value's kind does.
fn dropped_member(value: &Value, forms: &[Members], own: &[&str]) -> Option<String> {
    let named_elsewhere = |member: &str| {
        forms
            .iter()
            .filter_map(|form| form.names_for(value))
            .any(|names| names.contains(&member))
    };
    let in_object = |object: &Map<String, Value>| {
        object
            .iter()
            .filter(|(_, value)| !value.is_null())
            .find(|(member, _)| !own.contains(&member.as_str()) && named_elsewhere(member))
            .map(|(member, _)| format!(".{member}"))
    };
    match value {
        Value::Object(object) => in_object(object),
        Value::Array(items) => items.iter().enumerate().find_map(|(position, item)| {
            item.as_object()
                .and_then(in_object)
                .map(|member| format!("[{position}]{member}"))
        }),
        _ => None,
    }
}

fn rank(value: &Value, forms: &[Members], index: usize) -> Rank {
    let Some(own) = forms.get(index).and_then(|form| form.names_for(value)) else {
        // A form of another kind, or `Other`: serde's order decides.
        return Rank::First;
    };
    let objects = objects(value);
    let own_kept = kept(&objects, own);
    let mut best_elsewhere = 0;
    let mut tied_with = Vec::new();
    for (other, form) in forms.iter().enumerate() {
        let Some(names) = form.names_for(value).filter(|_| other != index) else {
            continue;
        };
        let other_kept = kept(&objects, names);
        best_elsewhere = best_elsewhere.max(other_kept);
        if other_kept == own_kept {
            tied_with.push(names);
        }
    }
    let own_drops = dropped_member(value, forms, own);
    if own_kept < best_elsewhere {
        return Rank::Behind {
            member: own_drops.unwrap_or_default(),
        };
    }
    if own_kept > best_elsewhere || own_kept == 0 {
        return Rank::First;
    }
    // A tie: read in the spec's order only when neither would lose a member.
    let lost = own_drops.or_else(|| {
        tied_with
            .iter()
            .find_map(|names| dropped_member(value, forms, names))
    });
    match lost {
        None => Rank::First,
        Some(member) => Rank::Tied { member },
    }
}

/// Whether form `index` of `forms` is the one to read `value` as: it names
/// the most of the value's members (not `null`) among the forms of the
/// value's kind. A tie is read in the spec's order when no tied form would
/// drop a member another form names, and is no form's otherwise; when no form
/// names any member, every form is tried in order, as serde does. A form of
/// another kind than the value always is (serde decides).
pub(crate) fn ranks_first(value: &Value, forms: &[Members], index: usize) -> bool {
    rank(value, forms, index) == Rank::First
}

/// After `value` was read as form `index` of the union `union`: names, in a
/// `tracing` warning, a member the form does not keep that another form
/// names (the API added it to this form), so that it is never lost silently.
pub(crate) fn note_dropped(value: &Value, forms: &[Members], index: usize, union: &str) {
    let Some(own) = forms.get(index).and_then(|form| form.names_for(value)) else {
        return;
    };
    if let Some(member) = dropped_member(value, forms, own) {
        tracing::warn!(
            union,
            form = index,
            member = member.trim_start_matches('.'),
            "a value of several forms was read as the form that keeps the most of its members; this member \
             belongs to another form and is not kept"
        );
    }
}

/// Checks `body` as form `index` of `forms` the way the union's `Deserialize`
/// chooses it: it must rank first and decode (`check`, the form type's own
/// check). A decode error says where the form differs by the path of the
/// field; a form that does not rank first, by the member another form keeps.
/// The decode error of a union (which form came closest) is built from these.
pub(crate) fn check_form(
    body: &[u8],
    forms: &[Members],
    index: usize,
    check: crate::decode::CheckForm,
) -> Result<Value, DecodeFailure> {
    let kept = check(body)?;
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Ok(kept);
    };
    let (path, why) = match rank(&value, forms, index) {
        Rank::First => return Ok(kept),
        Rank::Behind { member } => (member, "another form keeps more of the value's members"),
        Rank::Tied { member } => (
            member,
            "another form keeps as many of the value's members, so the value is ambiguous",
        ),
    };
    let path = path.trim_start_matches('.').to_owned();
    let member = path.rsplit('.').next().unwrap_or_default().to_owned();
    Err(DecodeFailure {
        path: if path.is_empty() {
            ".".to_owned()
        } else {
            path
        },
        message: format!(
            "`{member}` is a member another form names; {why}, and {}",
            crate::decode::WOULD_DROP
        ),
        line: 0,
        column: 0,
        context: String::new(),
    })
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
    fn the_form_that_keeps_the_most_members_is_read() {
        let clock_ins = json!([{"id": 1, "startTime": "2026-04-15T00:00:00", "completed": 0}]);
        assert!(ranks_first(&clock_ins, FORMS, 0));
        assert!(!ranks_first(&clock_ins, FORMS, 1), "keeps 1 of 3");
        let activities = json!([{"id": 1, "start": "x", "accId": "y", "unknown": true}]);
        assert!(
            ranks_first(&activities, FORMS, 1),
            "unknown members are not another form's"
        );
        assert!(!ranks_first(&activities, FORMS, 0));
        // The API adds `accId` (a member of the other form) to clock-in rows:
        // the clock-in form still keeps the most (3 of 4), and is read.
        let grown = json!([{"id": 1, "startTime": "x", "completed": true, "accId": "y"}]);
        assert!(ranks_first(&grown, FORMS, 0));
        assert!(!ranks_first(&grown, FORMS, 1));
        assert_eq!(
            dropped_member(&grown, FORMS, &["completed", "id", "startTime"]).as_deref(),
            Some("[0].accId")
        );
    }

    #[test]
    fn a_tie_is_read_in_order_unless_a_member_would_be_lost() {
        let only_shared = json!([{"id": 1}]);
        assert!(
            ranks_first(&only_shared, FORMS, 0),
            "nothing to lose: the spec's order"
        );
        assert!(ranks_first(&only_shared, FORMS, 1));
        let shared = json!([{"id": 1, "startTime": null}]);
        assert!(
            ranks_first(&shared, FORMS, 1),
            "a null member holds nothing to lose"
        );
        let ambiguous = json!([{"startTime": "x", "start": "y"}]);
        assert!(
            !ranks_first(&ambiguous, FORMS, 0),
            "one member each: ambiguous"
        );
        assert!(!ranks_first(&ambiguous, FORMS, 1));
        let nothing_named = json!([{"unknown": 1}]);
        assert!(ranks_first(&nothing_named, FORMS, 0) && ranks_first(&nothing_named, FORMS, 1));
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
