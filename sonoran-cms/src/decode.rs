//! Reading bodies as their types. On the happy path a success body is decoded
//! once, plainly ([`decode`]); only when that fails is it read again with
//! serde_path_to_error ([`read`]), so the error names the JSON path of the
//! field, quotes the text around it, and inside a value of several forms says
//! which form came closest. The same read serves request bodies (what the
//! client sends for one) and the probe (what a type ignores). The forms of each union are the generated table's,
//! passed in: this module depends on nothing of the client.

use std::fmt;

use std::any::Any;

use serde::de::DeserializeOwned;

use crate::objects_only::ObjectsOnly;

/// A success answer decoded as its operation's type, type-erased so the one
/// operation table can hold every operation's decoder; the generated code
/// takes it back out.
pub(crate) type Decoded = Box<dyn Any + Send + Sync>;

/// Why a success body was not decoded on the happy path: it does not fit the
/// type, or its envelope says `"success": false`. The caller then reads the
/// body again, slowly, to say why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotDecoded {
    /// serde could not read it as the type.
    DoesNotFit,
    /// It fits, and says the call failed.
    SaysFailure,
}

/// An answer envelope (`{success, data, meta}`): whether it says the call
/// succeeded. Generated for every operation's success type.
pub(crate) trait Envelope {
    /// The envelope's `success`.
    fn success(&self) -> bool;
}

/// Why a body did not decode as its operation's type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeFailure {
    /// The JSON path of the value that did not fit (`data.items[3].accId`), or `.`
    /// when the body as a whole did not (not JSON, or the wrong kind of value).
    pub path: String,
    /// serde's message, without its position (for example "invalid type: null,
    /// expected a string").
    pub message: String,
    /// Line and column (1-based) in the body where decoding stopped.
    pub line: usize,
    /// See `line`.
    pub column: usize,
    /// Up to 40 characters of the body on each side of where decoding stopped
    /// (empty when serde gave no position).
    pub context: String,
}

impl fmt::Display for DecodeFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "at `{}`: {} (line {}, column {}, near `{}`)",
            self.path, self.message, self.line, self.column, self.context
        )
    }
}

/// Reads a body as one form of a value of several forms (as [`read`] does).
pub(crate) type CheckForm = fn(&[u8]) -> Result<serde_json::Value, DecodeFailure>;

/// The forms of the union named by its argument, each with its check.
pub(crate) type UnionForms = fn(&str) -> Option<&'static [(&'static str, CheckForm)]>;

/// How the message of a member a form would drop ends (see
/// `crate::several_forms`); such a form ranks below one whose fields do not fit.
pub(crate) const WOULD_DROP: &str = "this form would drop it";

/// Reads `T` from JSON text as `serde_json::from_slice` does, but a struct
/// only from an object (`crate::objects_only`).
pub(crate) fn from_slice<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = <T as serde::Deserialize>::deserialize(ObjectsOnly(&mut deserializer))?;
    deserializer.end()?;
    Ok(value)
}

/// Decodes a success body as `T` plainly (no path tracking: the happy path),
/// and reads its envelope's `success`.
pub(crate) fn decode<T: DeserializeOwned + Envelope + Send + Sync + 'static>(
    body: &[u8],
) -> Result<Decoded, NotDecoded> {
    let value: T = from_slice(body).map_err(|_| NotDecoded::DoesNotFit)?;
    if value.success() {
        Ok(Box::new(value))
    } else {
        Err(NotDecoded::SaysFailure)
    }
}

/// Reads `body` as `T`, and on failure says where (see [`DecodeFailure`]);
/// `unions` gives the forms of each value of several forms. What it gives
/// back is what `T` keeps of the body, written again as JSON: for a request
/// type, what the client sends for it; for an answer type, the body without
/// the members the type ignores (`crate::ignored_members` compares the two).
pub(crate) fn read<T: DeserializeOwned + serde::Serialize>(
    body: &[u8],
    unions: UnionForms,
) -> Result<serde_json::Value, DecodeFailure> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = match serde_path_to_error::deserialize(ObjectsOnly(&mut deserializer)) {
        Ok(value) => value,
        Err(error) => {
            let mut found = failure(body, error.path().to_string(), error.inner());
            closest_form(body, error.path(), &mut found, unions);
            return Err(found);
        }
    };
    // Trailing characters after the value are an error of the body as a whole.
    deserializer
        .end()
        .map_err(|error| failure(body, ".".to_owned(), &error))?;
    serde_json::to_value(&value).map_err(|error| failure(body, ".".to_owned(), &error))
}

/// serde's message when no form of a value of several forms (an untagged enum)
/// fits; it ends with the enum's name.
const NO_FORM_FITS: &str = "data did not match any variant of untagged enum ";

/// When `found` says that no form of a value of several forms fits, decodes the
/// value as each form and reports the closest (of the value's own kind, failing
/// deepest): its path
/// below the value and its message, so the error names the field that is wrong
/// rather than only the value that holds it.
fn closest_form(
    body: &[u8],
    path: &serde_path_to_error::Path,
    found: &mut DecodeFailure,
    unions: UnionForms,
) {
    let Some(name) = found.message.strip_prefix(NO_FORM_FITS) else {
        return;
    };
    let Some(forms) = unions(name.trim()) else {
        return;
    };
    let Ok(whole) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let mut value = &whole;
    for segment in path {
        let next = match segment {
            serde_path_to_error::Segment::Seq { index } => value.get(*index),
            serde_path_to_error::Segment::Map { key } => value.get(key),
            _ => None,
        };
        match next {
            Some(next) => value = next,
            None => return,
        }
    }
    let Ok(bytes) = serde_json::to_vec(value) else {
        return;
    };
    let closest = forms
        .iter()
        .filter_map(|(form, check)| check(&bytes).err().map(|failure| (*form, failure)))
        // A form of the value's own kind (an object for an object) beats one of
        // another kind; among those, the one that got furthest in; at the same
        // depth, one whose fields do not fit beats one that would drop a
        // member another form names (it knows every member of the value).
        .max_by_key(|(_, failure)| {
            let depth = depth(&failure.path);
            (
                !(failure.message.starts_with("invalid type") && depth == 0),
                depth,
                !failure.message.ends_with(WOULD_DROP),
            )
        });
    if let Some((form, inner)) = closest {
        let name = name.trim();
        if inner.path != "." {
            found.path = if found.path == "." {
                inner.path.clone()
            } else if inner.path.starts_with('[') {
                // A list's item: `data[1].completed`, not `data.[1].completed`.
                format!("{}{}", found.path, inner.path)
            } else {
                format!("{}.{}", found.path, inner.path)
            };
        }
        found.message = format!(
            "no form of `{name}` fits; the closest, `{form}`: {}",
            inner.message
        );
    }
}

/// How many steps a serde_path_to_error path takes (`.` takes none).
fn depth(path: &str) -> usize {
    if path == "." {
        0
    } else {
        path.matches(['.', '[']).count() + 1
    }
}

pub(crate) fn failure(body: &[u8], path: String, error: &serde_json::Error) -> DecodeFailure {
    DecodeFailure {
        path,
        message: message_without_position(error),
        line: error.line(),
        column: error.column(),
        context: context_at(body, error.line(), error.column()),
    }
}

/// serde_json appends " at line L column C"; the failure carries those apart.
fn message_without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(index) => text[..index].to_owned(),
        None => text,
    }
}

/// Up to 40 characters on each side of line `line`, column `column` (1-based,
/// as serde_json counts: the column is a byte offset in the line). Empty when
/// there is no position (line 0).
fn context_at(body: &[u8], line: usize, column: usize) -> String {
    const EACH_SIDE: usize = 40;
    if line == 0 {
        return String::new();
    }
    let text = String::from_utf8_lossy(body);
    let mut offset = 0;
    for (index, content) in text.split('\n').enumerate() {
        if index + 1 == line {
            offset += column.min(content.len());
            break;
        }
        offset += content.len() + 1;
    }
    let offset = floor_char_boundary(&text, offset.min(text.len()));
    let before: Vec<char> = text[..offset].chars().rev().take(EACH_SIDE).collect();
    let after = text[offset..].chars().take(EACH_SIDE);
    before
        .into_iter()
        .rev()
        .chain(after)
        .map(|character| if character == '\n' { ' ' } else { character })
        .collect()
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_unions(_: &str) -> Option<&'static [(&'static str, CheckForm)]> {
        None
    }

    #[derive(serde::Deserialize, serde::Serialize)]
    struct Page {
        #[allow(dead_code)]
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Item {
        #[allow(dead_code)]
        id: u32,
    }

    #[test]
    fn a_failure_names_the_path_the_place_and_the_text_around_it() {
        let body = br#"{"items": [{"id": 1}, {"id": "two"}]}"#;
        let failure = read::<Page>(body, no_unions).expect_err("a text id does not fit");
        assert_eq!(failure.path, "items[1].id");
        assert_eq!(
            failure.message,
            "invalid type: string \"two\", expected u32"
        );
        assert_eq!((failure.line, failure.column), (1, 34));
        assert!(
            failure.context.contains(r#"{"id": "two"}"#),
            "{}",
            failure.context
        );
    }

    #[test]
    fn a_failure_inside_a_value_of_several_forms_names_the_field_of_the_closest_form() {
        // clockAccount answers a clock-in row or `true`; a row whose `completed`
        // is text fits neither, and the error says where the row went wrong.
        let body = br#"{"success": true, "data": {"id": 1, "completed": "yes"}}"#;
        let failure = crate::testing::check_success_body(crate::Operation::ClockAccount, body)
            .expect("a JSON answer")
            .expect_err("`completed` is not a boolean");
        assert_eq!(failure.path, "data.completed");
        assert!(
            failure.message.starts_with("no form of `ClockAccountResponseData` fits; the closest, `ClockInRow`: invalid type: string \"yes\", expected a boolean"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn the_context_counts_characters_not_bytes() {
        let body = format!(r#"{{"items": [{{"id": "{}"}}]}}"#, "ж".repeat(60));
        let failure = read::<Page>(body.as_bytes(), no_unions).expect_err("text is not a u32");
        assert_eq!(failure.path, "items[0].id");
        // 40 characters before where decoding stopped (after the text's closing
        // quote), whatever their byte length, and the rest of the body after.
        assert_eq!(failure.context, format!("{}\"}}]}}", "ж".repeat(39)));
        assert_eq!(context_at(b"{}", 0, 0), "", "no position, no context");
    }

    #[test]
    fn a_body_that_is_not_json_fails_at_the_root() {
        let failure = read::<Page>(b"Not Clocked In", no_unions).expect_err("not JSON");
        assert_eq!(failure.path, ".");
        assert!(
            failure.message.starts_with("expected value"),
            "{}",
            failure.message
        );
        assert_eq!(
            read::<Page>(b"{\"items\": []} trailing", no_unions).map_err(|f| f.path),
            Err(".".to_owned())
        );
    }
}
