//! Where an answer does not fit its type: every success body is decoded once more
//! with serde_path_to_error against the operation's generated type (the table in
//! `generated_bodies.rs`), so a decode error names the JSON path of the field,
//! quotes the text around it and keeps the raw body.

use std::fmt;

use serde::de::DeserializeOwned;

/// Why a body did not decode as its operation's type.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Up to 40 characters of the body on each side of where decoding stopped.
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

/// Decodes `body` as `T`, and on failure says where (see [`DecodeFailure`]).
pub(crate) fn check<T: DeserializeOwned>(body: &[u8]) -> Result<(), DecodeFailure> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        // Trailing characters after the value are an error of the body as a whole.
        Ok(_) => deserializer
            .end()
            .map_err(|error| failure(body, ".".to_owned(), &error)),
        Err(error) => {
            let path = error.path().to_string();
            Err(failure(body, path, error.inner()))
        }
    }
}

/// Decodes `body` as `T` and encodes it again: what the client sends for it.
pub(crate) fn as_sent<T: DeserializeOwned + serde::Serialize>(
    body: &[u8],
) -> Result<serde_json::Value, DecodeFailure> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        failure(body, path, error.inner())
    })?;
    deserializer
        .end()
        .map_err(|error| failure(body, ".".to_owned(), &error))?;
    serde_json::to_value(&value).map_err(|error| failure(body, ".".to_owned(), &error))
}

fn failure(body: &[u8], path: String, error: &serde_json::Error) -> DecodeFailure {
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

/// The text around line `line`, column `column` (1-based, as serde_json counts).
fn context_at(body: &[u8], line: usize, column: usize) -> String {
    const EACH_SIDE: usize = 40;
    let text = String::from_utf8_lossy(body);
    let mut offset = 0;
    for (index, content) in text.split('\n').enumerate() {
        if index + 1 == line {
            offset += column.min(content.len());
            break;
        }
        offset += content.len() + 1;
    }
    let offset = offset.min(text.len());
    let start = floor_char_boundary(&text, offset.saturating_sub(EACH_SIDE));
    let end = floor_char_boundary(&text, (offset + EACH_SIDE).min(text.len()));
    text[start..end].replace('\n', " ")
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

    #[derive(serde::Deserialize)]
    struct Page {
        #[allow(dead_code)]
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        #[allow(dead_code)]
        id: u32,
    }

    #[test]
    fn a_failure_names_the_path_the_place_and_the_text_around_it() {
        let body = br#"{"items": [{"id": 1}, {"id": "two"}]}"#;
        let failure = check::<Page>(body).expect_err("a text id does not fit");
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
    fn a_body_that_is_not_json_fails_at_the_root() {
        let failure = check::<Page>(b"Not Clocked In").expect_err("not JSON");
        assert_eq!(failure.path, ".");
        assert!(
            failure.message.starts_with("expected value"),
            "{}",
            failure.message
        );
        assert_eq!(
            check::<Page>(b"{\"items\": []} trailing").map_err(|f| f.path),
            Err(".".to_owned())
        );
    }
}
