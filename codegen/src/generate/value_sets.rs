//! Open value sets (`oneOf` of a known string enum and any other text): each
//! becomes one flat enum, `Known1 | Known2 | .. | Other(String)`, generated here
//! in place of typify's two levels (`Set::KnownSet(KnownSet::Value)`), with
//! `as_str()`, `FromStr`, `Display` and serde as the text the API sends.

use heck::ToUpperCamelCase;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::CodegenError;
use crate::json_pointer::schema_component;

/// One open value set: its component, its known values and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenValueSet {
    /// The component (and Rust type) name, e.g. `ClockIntention`.
    pub name: String,
    /// The string enum of the known values, e.g. `KnownClockIntention`; the
    /// generated client has no such type (its values are the set's variants).
    pub known: String,
    /// The known values, as the API sends them, in the spec's order.
    pub values: Vec<String>,
    /// The component's description (what the rustdoc says of the type).
    pub description: String,
}

impl OpenValueSet {
    /// The Rust variant of each known value (`qb-core` is `QbCore`), in order.
    pub fn variants(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|value| variant_name(value))
            .collect()
    }
}

/// The variant a known value is: its UpperCamelCase, after a `V` if it would
/// start with a digit.
pub fn variant_name(value: &str) -> String {
    let name = value.to_upper_camel_case();
    if name.starts_with(|first: char| first.is_ascii_digit()) {
        format!("V{name}")
    } else {
        name
    }
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
                values: known_values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                description: schema["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .collect();
    sets.sort_by(|left, right| left.name.cmp(&right.name));
    sets
}

/// Why `set` cannot be one flat enum: two values with one variant name, or a
/// value whose variant would be `Other` (the variant that keeps unknown text).
fn conflict(set: &OpenValueSet) -> Option<String> {
    let variants = set.variants();
    for (index, variant) in variants.iter().enumerate() {
        if variant.is_empty() || !unicode_ident::is_xid_start(variant.chars().next()?) {
            return Some(format!(
                "the value `{}` has no Rust name",
                set.values[index]
            ));
        }
        if variant == "Other" {
            return Some(format!(
                "the value `{}` would be the variant `Other`, which keeps unknown text",
                set.values[index]
            ));
        }
        if let Some(earlier) = variants[..index].iter().position(|other| other == variant) {
            return Some(format!(
                "the values `{}` and `{}` are both the variant `{variant}`",
                set.values[earlier], set.values[index]
            ));
        }
    }
    None
}

/// The generated flat enums, headed by `header`. Stops when a set's values
/// cannot be told apart as Rust variants.
pub fn source(
    spec_file: &str,
    sets: &[OpenValueSet],
    header: &str,
) -> Result<String, CodegenError> {
    if let Some((set, reason)) = sets
        .iter()
        .find_map(|set| conflict(set).map(|reason| (set, reason)))
    {
        return Err(CodegenError::Generator {
            file: spec_file.to_owned(),
            message: format!(
                "the open value set `{}` (#/components/schemas/{}): {reason}",
                set.name, set.known
            ),
        });
    }
    let enums = sets.iter().map(|set| {
        let name = format_ident!("{}", set.name);
        let variants: Vec<syn::Ident> = set
            .variants()
            .iter()
            .map(|variant| format_ident!("{variant}"))
            .collect();
        let values = &set.values;
        let variant_docs = values.iter().map(|value| format!(" `{value}`"));
        let description = if set.description.is_empty() {
            format!(" `{}`.", set.name)
        } else {
            format!(" {}", set.description)
        };
        let shape = format!(
            " Read from and written as the text the API sends; a value not listed here is kept as \
             `Other`, so an answer never fails on a new value. Two values are equal when their \
             text is (`{name}::Other(\"{first}\".into()) == {name}::{first_variant}`).",
            name = set.name,
            first = values.first().map(String::as_str).unwrap_or_default(),
            first_variant = variants.first().map(ToString::to_string).unwrap_or_default(),
        );
        quote! {
            #[doc = #description]
            #[doc = ""]
            #[doc = #shape]
            #[derive(Clone, Debug)]
            #[non_exhaustive]
            pub enum #name {
                #(#[doc = #variant_docs] #variants,)*
                /// Text the spec does not list, as the API sent it.
                Other(::std::string::String),
            }

            impl #name {
                /// The values the spec lists, as the API sends them, in the
                /// spec's order.
                pub const KNOWN_VALUES: &'static [&'static str] = &[#(#values),*];

                /// The text the API sends for this value.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(Self::#variants => #values,)*
                        Self::Other(text) => text.as_str(),
                    }
                }

                /// Whether the spec lists this value (a known text sent as `Other`
                /// is known too).
                pub fn is_known(&self) -> bool {
                    matches!(self.as_str(), #(#values)|*)
                }
            }

            impl ::std::str::FromStr for #name {
                type Err = ::std::convert::Infallible;

                /// The known value `text` names, or `Other(text)`: never an error.
                fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                    Ok(Self::from(text))
                }
            }

            impl ::std::convert::From<&str> for #name {
                fn from(text: &str) -> Self {
                    match text {
                        #(#values => Self::#variants,)*
                        other => Self::Other(other.to_owned()),
                    }
                }
            }

            impl ::std::convert::From<::std::string::String> for #name {
                fn from(text: ::std::string::String) -> Self {
                    match text.as_str() {
                        #(#values => Self::#variants,)*
                        _ => Self::Other(text),
                    }
                }
            }

            impl ::std::convert::AsRef<str> for #name {
                fn as_ref(&self) -> &str {
                    self.as_str()
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    formatter.write_str(self.as_str())
                }
            }

            // Equality, hashing and order are the text's, so `Other("in")` and
            // the known variant for `in` are one value.
            impl ::std::cmp::PartialEq for #name {
                fn eq(&self, other: &Self) -> bool {
                    self.as_str() == other.as_str()
                }
            }

            impl ::std::cmp::Eq for #name {}

            impl ::std::hash::Hash for #name {
                fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                    self.as_str().hash(state);
                }
            }

            impl ::std::cmp::PartialOrd for #name {
                fn partial_cmp(&self, other: &Self) -> ::std::option::Option<::std::cmp::Ordering> {
                    Some(self.cmp(other))
                }
            }

            impl ::std::cmp::Ord for #name {
                fn cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                    self.as_str().cmp(other.as_str())
                }
            }

            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    <::std::string::String as ::serde::Deserialize>::deserialize(deserializer).map(Self::from)
                }
            }
        }
    });
    let tokens = quote! {
        #(#enums)*
    };
    let body = crate::generate::rust_syntax::format_rust(spec_file, tokens)?;
    Ok(crate::generate::rust_syntax::normalize_newlines(&format!(
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
            "KnownTeam": {"type": "string", "enum": ["police", "qb-core", "2fa"]},
            "Either": {"oneOf": [{"$ref": "#/components/schemas/KnownTeam"}, {"type": "integer"}]},
            "Three": {"oneOf": [{"$ref": "#/components/schemas/KnownTeam"}, {"title": "Other", "type": "string"}, {"type": "boolean"}]}
        }}});
        let sets = read(&spec);
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].name, "Team");
        assert_eq!(sets[0].variants(), ["Police", "QbCore", "V2fa"]);
        let source = source("spec.yaml", &sets, "// header\n").expect("formats");
        assert!(source.contains("pub enum Team"), "{source}");
        assert!(source.contains("\"qb-core\" => Self::QbCore"), "{source}");
        assert!(source.contains("#[non_exhaustive]"), "{source}");
    }

    #[test]
    fn values_that_would_share_a_variant_stop_regen_with_both_named() {
        let spec = json!({"components": {"schemas": {
            "Team": {"oneOf": [{"$ref": "#/components/schemas/KnownTeam"}, {"title": "Other", "type": "string"}]},
            "KnownTeam": {"type": "string", "enum": ["qb-core", "qb_core"]}
        }}});
        let error = source("spec.yaml", &read(&spec), "").expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("`qb-core` and `qb_core`"), "{message}");
        assert!(
            message.contains("#/components/schemas/KnownTeam"),
            "{message}"
        );

        let other = json!({"components": {"schemas": {
            "Team": {"oneOf": [{"$ref": "#/components/schemas/KnownTeam"}, {"title": "Other", "type": "string"}]},
            "KnownTeam": {"type": "string", "enum": ["other"]}
        }}});
        let message = source("spec.yaml", &read(&other), "")
            .expect_err("refused")
            .to_string();
        assert!(message.contains("variant `Other`"), "{message}");
    }
}
