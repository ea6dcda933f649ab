//! Loading: YAML text into JSON values (keeping file, line and column for syntax
//! errors), and JSON values into typed OpenAPI and Overlay documents (keeping the
//! JSON pointer for shape errors).

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use crate::error::CodegenError;
use crate::json_pointer;

/// A file's text together with the name errors should call it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceText {
    /// Path relative to the workspace root, with `/` separators, as shown in messages.
    pub name: String,
    /// The file's contents.
    pub text: String,
}

impl SourceText {
    /// Wraps text that did not come from disk (tests, tools).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Reads `relative_path` below `workspace_root`.
    pub fn read(workspace_root: &Path, relative_path: &str) -> Result<Self, CodegenError> {
        let path = workspace_root.join(relative_path);
        let text = std::fs::read_to_string(&path).map_err(|source| CodegenError::Io {
            path,
            action: "read",
            source,
        })?;
        Ok(Self::new(relative_path, text))
    }
}

/// Parses YAML into a JSON value, in document order.
///
/// We go through `serde_yaml::Value` rather than straight to `serde_json::Value`
/// because OpenAPI files routinely write status codes as unquoted numbers (`204:`),
/// which JSON objects cannot key by; such keys become strings here.
pub fn parse_yaml(source: &SourceText) -> Result<Value, CodegenError> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(&source.text).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((0, 0), |location| (location.line(), location.column()));
        CodegenError::Yaml {
            file: source.name.clone(),
            line,
            column,
            message: error.to_string(),
        }
    })?;
    yaml_to_json(&yaml, "").map_err(|(pointer, message)| CodegenError::Document {
        file: source.name.clone(),
        pointer: json_pointer::display(&pointer).to_owned(),
        message,
    })
}

/// Converts one YAML node, reporting `(pointer, message)` for what JSON cannot hold.
fn yaml_to_json(yaml: &serde_yaml::Value, pointer: &str) -> Result<Value, (String, String)> {
    Ok(match yaml {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(flag) => Value::Bool(*flag),
        serde_yaml::Value::Number(number) => yaml_number_to_json(number).ok_or_else(|| {
            (
                pointer.to_owned(),
                format!("`{number}` is not a finite number"),
            )
        })?,
        serde_yaml::Value::String(text) => Value::String(text.clone()),
        serde_yaml::Value::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    yaml_to_json(item, &json_pointer::child(pointer, &index.to_string()))
                })
                .collect::<Result<_, _>>()?,
        ),
        serde_yaml::Value::Mapping(mapping) => {
            let mut object = Map::with_capacity(mapping.len());
            for (key, value) in mapping {
                let key = match key {
                    serde_yaml::Value::String(text) => text.clone(),
                    serde_yaml::Value::Number(number) => number.to_string(),
                    serde_yaml::Value::Bool(flag) => flag.to_string(),
                    _ => {
                        return Err((
                            pointer.to_owned(),
                            "a mapping key must be a string, number or boolean".to_owned(),
                        ));
                    }
                };
                let value = yaml_to_json(value, &json_pointer::child(pointer, &key))?;
                object.insert(key, value);
            }
            Value::Object(object)
        }
        serde_yaml::Value::Tagged(tagged) => {
            return Err((
                pointer.to_owned(),
                format!("YAML tags such as `{}` have no meaning here", tagged.tag),
            ));
        }
    })
}

fn yaml_number_to_json(number: &serde_yaml::Number) -> Option<Value> {
    if let Some(unsigned) = number.as_u64() {
        Some(Value::Number(unsigned.into()))
    } else if let Some(signed) = number.as_i64() {
        Some(Value::Number(signed.into()))
    } else {
        number
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
    }
}

/// Deserializes a JSON value into a typed document, reporting the JSON pointer
/// of the first value that does not fit.
pub fn typed_document<T: DeserializeOwned>(
    file: &str,
    value: &Value,
    what: &str,
) -> Result<T, CodegenError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let pointer = pointer_of_path(error.path());
        CodegenError::Document {
            file: file.to_owned(),
            pointer: json_pointer::display(&pointer).to_owned(),
            message: format!("not a valid {what}: {}", error.inner()),
        }
    })
}

/// Turns serde_path_to_error's path into a JSON pointer.
fn pointer_of_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer = json_pointer::child(&pointer, &index.to_string()),
            Segment::Map { key } => pointer = json_pointer::child(&pointer, key),
            // Enum variants and unknown segments are not places in the document.
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}

/// Parses and type-checks an OpenAPI 3.0 document.
pub fn openapi(file: &str, value: &Value) -> Result<openapiv3::OpenAPI, CodegenError> {
    typed_document(file, value, "OpenAPI 3.0 document")
        .map_err(|error| narrow_to_path_item(file, value, error))
}

/// openapiv3 reads `paths` through a flattened map, which hides the place of an
/// error below it; where that happened, type-check each path item on its own to
/// point at the one that is wrong (and as far into it as serde can see).
fn narrow_to_path_item(file: &str, value: &Value, error: CodegenError) -> CodegenError {
    if !matches!(&error, CodegenError::Document { pointer, .. } if pointer == "/paths") {
        return error;
    }
    let Some(paths) = value.get("paths").and_then(Value::as_object) else {
        return error;
    };
    paths
        .iter()
        .filter(|(path, _)| !path.starts_with("x-"))
        .find_map(|(path, item)| {
            let item_file = format!("{file}#/paths");
            // A path item is `$ref` or inline; only the inline kind has places inside.
            let checked = if item.get("$ref").is_some() {
                typed_document::<openapiv3::ReferenceOr<openapiv3::PathItem>>(
                    &item_file,
                    item,
                    "path item",
                )
                .map(drop)
            } else {
                typed_document::<openapiv3::PathItem>(&item_file, item, "path item").map(drop)
            };
            match checked {
                Ok(_) => None,
                Err(CodegenError::Document {
                    pointer, message, ..
                }) => Some(CodegenError::Document {
                    file: file.to_owned(),
                    pointer: format!(
                        "{}{}",
                        json_pointer::child("/paths", path),
                        pointer.trim_end_matches('/')
                    ),
                    message: message
                        .replace("not a valid path item", "not a valid OpenAPI 3.0 document"),
                }),
                Err(other) => Some(other),
            }
        })
        .unwrap_or(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let source = SourceText::new("openapi/broken.yaml", "openapi: 3.0.3\npaths: [unclosed\n");
        let error = parse_yaml(&source).expect_err("unclosed flow sequence");
        let message = error.to_string();
        assert!(
            message.starts_with("openapi/broken.yaml:3:1: invalid YAML"),
            "{message}"
        );
    }

    #[test]
    fn numeric_keys_become_strings_in_document_order() {
        let source = SourceText::new("x.yaml", "responses:\n  204: {}\n  401: {}\n");
        let value = parse_yaml(&source).expect("valid YAML");
        let keys: Vec<_> = value["responses"]
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["204", "401"]);
    }

    #[test]
    fn tags_are_refused_with_a_pointer() {
        let source = SourceText::new("x.yaml", "paths:\n  /a: !custom 1\n");
        let error = parse_yaml(&source).expect_err("tagged value");
        assert_eq!(
            error.to_string(),
            "x.yaml: at /paths/~1a: YAML tags such as `!custom` have no meaning here"
        );
    }

    #[test]
    fn duplicate_keys_are_syntax_errors() {
        let source = SourceText::new("x.yaml", "a: 1\na: 2\n");
        let error = parse_yaml(&source).expect_err("duplicate key");
        assert!(error.to_string().contains("x.yaml:"), "{error}");
        assert!(error.to_string().contains("duplicate"), "{error}");
    }

    #[test]
    fn shape_errors_carry_the_json_pointer() {
        let value = serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": 5}}}}}
        });
        let error = openapi("spec.yaml", &value).expect_err("description must be a string");
        let message = error.to_string();
        assert!(
            message.starts_with("spec.yaml: at /paths/~1a/get/responses"),
            "{message}"
        );
    }
}
