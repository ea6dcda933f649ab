//! What a success body holds that its operation's generated type does not
//! keep: the body is read with the type (the client's own read, so nothing
//! here can disagree with it), written back as JSON, and compared member by
//! member with the body as sent. The conformance probe reports these, and a
//! user's tests can check recorded answers with them.

use serde_json::Value;

use crate::decode::DecodeFailure;
use crate::generated_operations::Operation;

/// A member of a success body that the operation's type does not keep: the
/// API sent it, and reading the answer drops it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IgnoredMember {
    /// Where it is, with list positions and map keys as sent
    /// (`data.servers[2].region`).
    pub path: String,
    /// Where it is, with `[]` for every list position and `{key}` for every
    /// member of a map keyed by data (`data.servers[].region`): equal for the
    /// same member of every item, and free of ids.
    pub shape: String,
    /// Its JSON type (`string`, `integer`, `number`, `boolean`, `array`,
    /// `object`).
    pub json_type: &'static str,
}

/// The members of `body`, a success answer of `operation`, that the
/// operation's generated type ignores, in the order of the body. `None` for an
/// operation without a JSON success body; a body the type does not read at all
/// is the [`DecodeFailure`] that [`check_success_body`](crate::testing::check_success_body)
/// gives.
///
/// A member sent as `null`, `[]` or `{}` counts as kept when the type leaves
/// it out: the types write no value for an unset optional member, so these
/// three are not told apart from a member the type names.
pub fn ignored_members(
    operation: Operation,
    body: &[u8],
) -> Option<Result<Vec<IgnoredMember>, DecodeFailure>> {
    let success = operation.spec().success_body?;
    Some((success.read)(body).map(|kept| {
        let sent: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut found = Vec::new();
        let mut walk = Walk {
            keyed_by_data: operation.keyed_by_data(),
            found: &mut found,
        };
        walk.compare(&sent, &kept, &mut Vec::new());
        found
    }))
}

/// The shape of `path`, a JSON path of a success body of `operation` as a
/// [`DecodeFailure`] or [`IgnoredMember`] gives it (`data.items[3].fields.8d2f`):
/// `[]` for every list position and `{key}` for every member of a map keyed by
/// data (`data.items[].fields.{key}`). `.` (the body as a whole) stays `.`.
pub fn path_shape(operation: Operation, path: &str) -> String {
    if path == "." {
        return path.to_owned();
    }
    shape(&segments(path), operation.keyed_by_data())
}

/// The value of `body` at `path`, a JSON path as a [`DecodeFailure`] or
/// [`IgnoredMember`] gives it (`data.items[3].accId`; `.` is `body` itself);
/// `None` when `body` has nothing there.
pub fn value_at<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    segments(path)
        .iter()
        .try_fold(body, |value, segment| match segment {
            Segment::Member(name) => value.get(name),
            Segment::Item(index) => value.get(index),
        })
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Member(String),
    Item(usize),
}

/// The steps of a path as serde_path_to_error writes it: members joined by
/// `.`, list positions as `[n]`.
fn segments(path: &str) -> Vec<Segment> {
    let mut found = Vec::new();
    for piece in path.split('.') {
        let (name, mut rest) = match piece.find('[') {
            Some(index) => piece.split_at(index),
            None => (piece, ""),
        };
        if !name.is_empty() {
            found.push(Segment::Member(name.to_owned()));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(end) = inner.find(']') else { break };
            if let Ok(index) = inner[..end].parse() {
                found.push(Segment::Item(index));
            }
            rest = &inner[end + 1..];
        }
    }
    found
}

/// `segments` as sent (`data.items[3].id`).
fn path(segments: &[Segment]) -> String {
    let mut text = String::new();
    for segment in segments {
        match segment {
            Segment::Member(name) if text.is_empty() => text.push_str(name),
            Segment::Member(name) => {
                text.push('.');
                text.push_str(name);
            }
            Segment::Item(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

/// `segments` with list positions as `[]` and members of a position in
/// `keyed_by_data` as `{key}`.
fn shape(segments: &[Segment], keyed_by_data: &[&str]) -> String {
    let mut text = String::new();
    for segment in segments {
        match segment {
            Segment::Member(name) => {
                let keyed = keyed_by_data.contains(&text.as_str());
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(if keyed { "{key}" } else { name });
            }
            Segment::Item(_) => text.push_str("[]"),
        }
    }
    text
}

/// The JSON type name of `value` as reports name it: `null`, `boolean`,
/// `integer` (a whole number), `number`, `string`, `array` or `object`.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

struct Walk<'a> {
    keyed_by_data: &'a [&'a str],
    found: &'a mut Vec<IgnoredMember>,
}

impl Walk<'_> {
    /// Every member of `sent` with no counterpart in `kept`, below `at`.
    fn compare(&mut self, sent: &Value, kept: &Value, at: &mut Vec<Segment>) {
        match (sent, kept) {
            (Value::Object(sent), Value::Object(kept)) => {
                for (name, member) in sent {
                    at.push(Segment::Member(name.clone()));
                    match kept.get(name) {
                        Some(kept) => self.compare(member, kept, at),
                        None if is_empty(member) => {}
                        None => self.found.push(IgnoredMember {
                            path: path(at),
                            shape: shape(at, self.keyed_by_data),
                            json_type: json_type(member),
                        }),
                    }
                    at.pop();
                }
            }
            (Value::Array(sent), Value::Array(kept)) => {
                for (index, (sent, kept)) in sent.iter().zip(kept).enumerate() {
                    at.push(Segment::Item(index));
                    self.compare(sent, kept, at);
                    at.pop();
                }
            }
            // A scalar, or a value kept in another form (an open value set's
            // text, an id read as a number): its members, if any, are kept
            // whole or were checked by the read.
            _ => {}
        }
    }
}

/// `null`, `[]` or `{}`: what an unset optional member is written as, or left
/// out as.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_the_type_does_not_name_is_found_with_its_path_and_shape() {
        let body = br#"{"success": true, "data": {"servers": [
            {"id": 1, "name": "Main", "description": "kept", "region": "eu"},
            {"id": 2, "name": "Alt", "region": null, "tags": []}
        ]}}"#;
        let found = ignored_members(Operation::GetServers, body)
            .expect("a JSON answer")
            .expect("the type reads it");
        assert_eq!(
            found,
            [IgnoredMember {
                path: "data.servers[0].region".to_owned(),
                shape: "data.servers[].region".to_owned(),
                json_type: "string",
            }]
        );
    }

    #[test]
    fn a_body_the_type_keeps_whole_has_no_ignored_member() {
        let body = br#"{"success": true, "data": {"servers": [{"id": 1, "name": "Main", "description": "d"}]}}"#;
        assert_eq!(
            ignored_members(Operation::GetServers, body).map(|found| found.map(|f| f.len())),
            Some(Ok(0))
        );
        assert!(ignored_members(Operation::CancelSession, b"").is_none());
    }

    #[test]
    fn paths_become_shapes_with_keys_of_maps_hidden() {
        assert_eq!(
            shape(&segments("data.123456789.name"), &["data"]),
            "data.{key}.name"
        );
        let keyed = ["data.items[].fields"];
        assert_eq!(
            shape(&segments("data.items[3].fields.Callsign[0]"), &keyed),
            "data.items[].fields.{key}[]"
        );
        assert_eq!(path(&segments("data.items[3].id")), "data.items[3].id");
        assert_eq!(shape(&segments("[2].id"), &keyed), "[].id");
        let body = serde_json::json!({"data": {"items": [{"id": 1}, {"id": 2}]}});
        assert_eq!(
            value_at(&body, "data.items[1].id"),
            Some(&serde_json::json!(2))
        );
        assert_eq!(value_at(&body, "."), Some(&body));
        assert_eq!(value_at(&body, "data.items[2].id"), None);
    }
}
