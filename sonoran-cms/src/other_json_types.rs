//! Readers of members that official clients send in another JSON type than
//! the docs' (`x-sonoran-also-reads` in the spec): Discord and Roblox ids as
//! JSON numbers from JavaScript payloads, unique ids as text of digits. The
//! generated types name these in `#[serde(deserialize_with = ..)]`; what they
//! write is the docs' type.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// Text, or a whole JSON number read as its digits.
struct TextOrNumber;

impl Visitor<'_> for TextOrNumber {
    type Value = String;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("text or a whole number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_owned())
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<String, E> {
        Ok(text)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<String, E> {
        Ok(number.to_string())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<String, E> {
        Ok(number.to_string())
    }
}

/// An integer, or text of an integer's digits.
struct IntegerOrDigits;

impl Visitor<'_> for IntegerOrDigits {
    type Value = i64;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an integer or text of its digits")
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<i64, E> {
        Ok(number)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<i64, E> {
        i64::try_from(number).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(number), &self))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<i64, E> {
        text.trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// `null` as `None`, anything else through `inner`.
struct Optional<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Optional<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(formatter)?;
        formatter.write_str(" or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self.0).map(Some)
    }
}

/// Text, or a whole JSON number as its digits (a Discord id from JavaScript).
pub(crate) fn text_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    deserializer.deserialize_any(TextOrNumber)
}

/// As [`text_or_number`], with `null` as `None`.
pub(crate) fn optional_text_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_option(Optional(TextOrNumber))
}

/// An integer, or text of its digits (a unique id from a JavaScript
/// payload); `null` as `None`.
pub(crate) fn optional_integer_or_digits<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    deserializer.deserialize_option(Optional(IntegerOrDigits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Payload {
        #[serde(default, deserialize_with = "optional_text_or_number")]
        discord: Option<String>,
        #[serde(default, deserialize_with = "optional_integer_or_digits")]
        unique_id: Option<i64>,
    }

    fn read(json: &str) -> Result<Payload, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn either_json_type_reads_and_null_or_absent_is_none() {
        let expected = Payload {
            discord: Some("123456789012345678".to_owned()),
            unique_id: Some(42),
        };
        assert_eq!(
            read(r#"{"discord": 123456789012345678, "unique_id": "42"}"#).expect("reads"),
            expected
        );
        assert_eq!(
            read(r#"{"discord": "123456789012345678", "unique_id": 42}"#).expect("reads"),
            expected
        );
        let none = Payload {
            discord: None,
            unique_id: None,
        };
        assert_eq!(read(r#"{"discord": null}"#).expect("reads"), none);
        assert_eq!(read("{}").expect("reads"), none);
        let wrong = read(r#"{"unique_id": "forty-two"}"#).expect_err("not digits");
        assert!(
            wrong
                .to_string()
                .contains("an integer or text of its digits"),
            "{wrong}"
        );
        assert!(read(r#"{"discord": 1.5}"#).is_err(), "not a whole number");
    }
}
