//! The Rust names progenitor gives to operations and parameters, computed the same
//! way it does, so lint can spot collisions and the rate-limit table can be keyed
//! by the `operation_id` the generated code reports to its hooks.

use heck::ToSnakeCase;

/// progenitor's snake-case name for an operationId or parameter name: quotes
/// dropped, other non-identifier characters treated as word breaks, snake-cased,
/// and made a valid identifier (`_` in front of a leading digit, `_` after a keyword).
pub fn rust_snake_name(text: &str) -> String {
    let cleaned: String = text
        .replace('\'', "")
        .chars()
        .map(|character| {
            if unicode_ident::is_xid_continue(character) {
                character
            } else {
                '-'
            }
        })
        .collect();
    let snake = cleaned.to_snake_case();
    let snake = match snake.chars().next() {
        None => "x".to_owned(),
        Some(first) if unicode_ident::is_xid_start(first) => snake,
        Some(_) => format!("_{snake}"),
    };
    if syn::parse_str::<syn::Ident>(&snake).is_ok() {
        snake
    } else {
        format!("{snake}_")
    }
}

/// `id`, `serverId`, `server_id`, `accIds`: the names the API gives identifiers.
pub fn is_id_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("id")
        || name.eq_ignore_ascii_case("ids")
        || name.ends_with("Id")
        || name.ends_with("Ids")
        || name.ends_with("_id")
        || name.ends_with("_ids")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_progenitor() {
        assert_eq!(rust_snake_name("cancelSession"), "cancel_session");
        assert_eq!(rust_snake_name("getAccountIDs"), "get_account_i_ds");
        assert_eq!(rust_snake_name("server-id"), "server_id");
        assert_eq!(rust_snake_name("type"), "type_");
        assert_eq!(rust_snake_name("9lives"), "_9lives");
    }

    #[test]
    fn id_names_are_recognised() {
        for name in ["id", "serverId", "server_id", "accIds"] {
            assert!(is_id_name(name), "{name}");
        }
        for name in ["width", "identity", "paid"] {
            assert!(!is_id_name(name), "{name}");
        }
    }
}
