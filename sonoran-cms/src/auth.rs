//! The API key, kept as a ready `Authorization: Bearer` header value that is marked
//! sensitive, so neither `Debug` nor HTTP logging can show it.

use std::fmt;

use reqwest::header::HeaderValue;

/// A Sonoran CMS API key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct ApiKey {
    /// The prepared `Authorization` value, marked sensitive.
    authorization: HeaderValue,
}

/// Why a string cannot be an API key. The key itself is never part of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidApiKey {
    /// The key is empty (or only white space).
    #[error("the API key is empty")]
    Empty,
    /// The key holds characters an HTTP header cannot carry.
    #[error("the API key holds characters that cannot be sent in an HTTP header")]
    NotAHeaderValue,
}

impl ApiKey {
    /// Checks and wraps a key.
    pub fn new(key: impl AsRef<str>) -> Result<Self, InvalidApiKey> {
        let key = key.as_ref().trim();
        if key.is_empty() {
            return Err(InvalidApiKey::Empty);
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| InvalidApiKey::NotAHeaderValue)?;
        authorization.set_sensitive(true);
        Ok(Self { authorization })
    }

    pub(crate) fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_keys_are_refused() {
        assert_eq!(ApiKey::new("  ").map(drop), Err(InvalidApiKey::Empty));
    }

    #[test]
    fn keys_with_newlines_are_refused_without_echoing_them() {
        let error = ApiKey::new("secret\nkey").map(drop).expect_err("newline");
        assert!(!error.to_string().contains("secret"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("super-secret-key").expect("valid");
        let shown = format!("{key:?}");
        assert!(!shown.contains("super-secret-key"), "{shown}");
        assert!(key.authorization().is_sensitive());
    }
}
