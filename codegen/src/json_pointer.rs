//! RFC 6901 JSON pointers, the way every error of the generator says *where*.

/// Escapes one reference token of a JSON pointer (`~` becomes `~0`, `/` becomes `~1`).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Reads one escaped reference token back (`~1` becomes `/`, then `~0` becomes `~`).
pub fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Appends one token to a pointer: `child("/paths", "/v2/x")` is `/paths/~1v2~1x`.
pub fn child(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape_token(token))
}

/// Builds a pointer from its tokens, escaping each one.
pub fn from_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> String {
    tokens
        .into_iter()
        .fold(String::new(), |pointer, token| child(&pointer, token))
}

/// The component a schema `$ref` names: `#/components/schemas/Name` gives
/// `Name` (its token unescaped); any other reference gives `None`.
pub fn schema_component(reference: &str) -> Option<String> {
    reference
        .strip_prefix("#/components/schemas/")
        .map(unescape_token)
}

/// Shows the document root, whose pointer is the empty string, as `/` in messages.
pub fn display(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_slashes_and_tildes_in_tokens() {
        assert_eq!(
            from_tokens(["paths", "/v2/community/sessions", "delete"]),
            "/paths/~1v2~1community~1sessions/delete"
        );
        assert_eq!(child("", "a~b"), "/a~0b");
        assert_eq!(unescape_token("~1v2~1x~0y~01"), "/v2/x~y~1");
    }

    #[test]
    fn shows_the_root_as_a_slash() {
        assert_eq!(display(""), "/");
        assert_eq!(display("/info"), "/info");
    }
}
