//! Open value sets (`oneOf` of a known string enum and any other text, which
//! typify makes `Known(..) | Other(String)`) read from text: a generated
//! `FromStr` for each, so the command line can take one as an argument and users
//! can write `"clockin".parse::<LatestActivityType>()`.

use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::CodegenError;
use crate::json_pointer::schema_component;

/// One open value set: its component and the component of its known values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenValueSet {
    /// The component (and Rust type) name, e.g. `ClockIntention`.
    pub name: String,
    /// The string enum of the known values, e.g. `KnownClockIntention`.
    pub known: String,
}

/// Every component of `spec` (the enriched spec as JSON) shaped as an open value
/// set: exactly two forms, a `$ref` to a string enum and a string titled `Other`.
pub fn read(spec: &Value) -> Vec<OpenValueSet> {
    let schemas = &spec["components"]["schemas"];
    let mut sets: Vec<OpenValueSet> = schemas
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, schema)| {
            let [known, other] = schema["oneOf"].as_array()?.as_slice() else {
                return None;
            };
            let known = schema_component(known["$ref"].as_str()?)?;
            let known_values = schemas[&known]["enum"].as_array()?;
            let is_text_set = schemas[&known]["type"] == "string"
                && known_values.iter().all(Value::is_string)
                && other["type"] == "string"
                && other["title"] == "Other";
            is_text_set.then(|| OpenValueSet {
                name: name.clone(),
                known,
            })
        })
        .collect();
    sets.sort_by(|left, right| left.name.cmp(&right.name));
    sets
}

/// The generated `FromStr` impls, headed by `header`.
pub fn source(
    spec_file: &str,
    sets: &[OpenValueSet],
    header: &str,
) -> Result<String, CodegenError> {
    let impls = sets.iter().map(|set| {
        let name = format_ident!("{}", set.name);
        let known = format_ident!("{}", set.known);
        let doc = format!(
            " The known value `text` names (`{}`), or `Other(text)`: never an error.",
            set.known
        );
        quote! {
            impl ::std::str::FromStr for types::#name {
                type Err = ::std::convert::Infallible;

                #[doc = #doc]
                fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                    Ok(match text.parse::<types::#known>() {
                        Ok(known) => Self::#known(known),
                        Err(_) => Self::Other(text.to_owned()),
                    })
                }
            }
        }
    });
    let tokens = quote! {
        use crate::types;

        #(#impls)*
    };
    let body = crate::generate::format_rust(spec_file, tokens)?;
    Ok(crate::generate::normalize_newlines(&format!(
        "{header}\n{body}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_known_enum_beside_any_other_text_is_an_open_value_set() {
        let spec = json!({"components": {"schemas": {
            "Team": {"oneOf": [{"$ref": "#/components/schemas/KnownTeam"}, {"title": "Other", "type": "string"}]},
            "KnownTeam": {"type": "string", "enum": ["police", "fire"]},
            "Either": {"oneOf": [{"$ref": "#/components/schemas/KnownTeam"}, {"type": "integer"}]},
            "Three": {"oneOf": [{"$ref": "#/components/schemas/KnownTeam"}, {"title": "Other", "type": "string"}, {"type": "boolean"}]}
        }}});
        assert_eq!(
            read(&spec),
            [OpenValueSet {
                name: "Team".to_owned(),
                known: "KnownTeam".to_owned()
            }]
        );
        let source = source("spec.yaml", &read(&spec), "// header\n").expect("formats");
        assert!(
            source.contains("impl ::std::str::FromStr for types::Team"),
            "{source}"
        );
        assert!(
            source.contains("Ok(known) => Self::KnownTeam(known)"),
            "{source}"
        );
    }
}
