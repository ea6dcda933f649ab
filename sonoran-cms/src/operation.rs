//! The public face of [`Operation`], the generated enum of every operation:
//! parsing it from a name, the body checks for recorded answers, and the
//! per-operation rate-limit overrides. Everything here reads the one generated
//! table (`Operation::spec`); nothing searches a table by name.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tokio::time::Instant;

use crate::decode::DecodeFailure;
use crate::generated_operations::Operation;
use crate::rate_limit::{RateLimit, RateLimits, SlotRequest};
use crate::spec::OneOfGroup;

/// A name that is no operation of the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not an operation of the Sonoran CMS client{}", suggestion.map(|known| format!(" (did you mean `{known}`?)")).unwrap_or_default())]
#[non_exhaustive]
pub struct UnknownOperation {
    /// The name as given.
    pub name: String,
    /// The operation whose name is closest, when one is close.
    pub suggestion: Option<&'static str>,
}

impl FromStr for Operation {
    type Err = UnknownOperation;

    /// An operation by its Rust name (`cancel_session`) or the API's
    /// operationId (`cancelSession`).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Operation::ALL
            .iter()
            .copied()
            .find(|operation| operation.as_str() == name || operation.operation_id() == name)
            .ok_or_else(|| UnknownOperation {
                name: name.to_owned(),
                suggestion: closest_name(name),
            })
    }
}

/// The Rust name within two edits of `name`, if any: `cancel_sesion` was meant
/// as `cancel_session`.
fn closest_name(name: &str) -> Option<&'static str> {
    Operation::ALL
        .iter()
        .map(|operation| (edit_distance(name, operation.as_str()), operation.as_str()))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, known)| known)
}

/// Levenshtein distance, by characters.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (row, left_char) in left.chars().enumerate() {
        let mut current = vec![row + 1];
        for (column, right_char) in right.iter().enumerate() {
            let substitution = previous[column] + usize::from(left_char != *right_char);
            current.push(
                substitution
                    .min(previous[column + 1] + 1)
                    .min(current[column] + 1),
            );
        }
        previous = current;
    }
    previous[right.len()]
}

impl fmt::Display for Operation {
    /// The Rust name (`cancel_session`).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Operation {
    /// Its documented rate limit, per credential.
    pub fn documented_rate_limit(self) -> RateLimit {
        self.spec().rate_limit
    }

    /// Whether its success answer has a JSON body ([`check_success_body`]).
    pub fn has_success_body(self) -> bool {
        self.spec().success_body.is_some()
    }

    /// Whether it sends a JSON request body ([`check_request_body`]).
    pub fn has_request_body(self) -> bool {
        self.spec().request_body.is_some()
    }

    /// Whether it pages (its builder has `.items(page_size)`).
    pub fn is_paged(self) -> bool {
        self.spec().paging.is_some()
    }

    /// The member that tells two items of its pages apart (`accId` for
    /// accounts, `formId` for form submissions), when the spec names one
    /// (`x-sonoran-paging`'s `identity`); `None` for an operation that does
    /// not page or whose items name no identity.
    pub fn item_identity(self) -> Option<&'static str> {
        self.spec().paging.and_then(|paging| paging.identity)
    }

    /// Whether it changes nothing on the server (`x-sonoran-safe` in the spec,
    /// or a `GET`): a failed call of it never "may have taken effect".
    pub fn is_safe(self) -> bool {
        self.spec().semantics.safe
    }

    /// Its groups of alternative fields: fields that name one thing in
    /// several ways (`x-sonoran-one-of` in the spec).
    pub fn one_of_groups(self) -> &'static [OneOfGroup] {
        self.spec().one_of
    }

    /// The answer statuses the docs name for it, as the spec writes them: the
    /// success's own status (`200`, `201`, `204`) and each error status or
    /// class (`401`, `404`, `429`, `4XX`, `5XX`).
    pub fn documented_statuses(self) -> &'static [&'static str] {
        self.spec().documented_statuses
    }

    /// Whether the docs name `status` for it: exactly, or by its class
    /// (`4XX` names 404). Where the docs name one success status (`200`),
    /// another (`204`) is not named, though the client reads any 2XX.
    pub fn documents_status(self, status: u16) -> bool {
        let status = status.to_string();
        self.documented_statuses()
            .iter()
            .any(|documented| match documented.strip_suffix("XX") {
                Some(class) => status.starts_with(class),
                None => status == *documented,
            })
    }

    /// The positions in its success body that are maps keyed by data (ids,
    /// names: never member names the API chose), as JSON paths with `[]` for
    /// a list's items and `{key}` for a map's members (`data`,
    /// `data.items[].fields`). Empty when its answer holds no map.
    pub fn keyed_by_data(self) -> &'static [&'static str] {
        self.spec().keyed_by_data
    }
}

/// Decodes `body`, a success answer of `operation`, as the operation's
/// generated type, and says where it does not fit (the JSON path, serde's
/// message, the text around it). `None` for an operation without a JSON
/// success body. The client checks every success answer the same way; your
/// tests can check recorded ones.
pub fn check_success_body(operation: Operation, body: &[u8]) -> Option<Result<(), DecodeFailure>> {
    operation
        .spec()
        .success_body
        .map(|success| (success.read)(body).map(drop))
}

/// Decodes `body` as the request body type of `operation`, and says where it
/// does not fit: a field the type does not have, a missing required field, a
/// value of the wrong kind. What the official clients send reads: ids as JSON
/// numbers or text where the spec says so (`x-sonoran-also-reads`), and the
/// Lua resource's empty body, `[]`, as `{}`. `None` for an operation without
/// a JSON request body.
pub fn check_request_body(operation: Operation, body: &[u8]) -> Option<Result<(), DecodeFailure>> {
    operation
        .spec()
        .request_body
        .map(|read| read(empty_table_as_object(body)).map(drop))
}

/// `body`, or `{}` for an empty JSON array: the official Lua resource (FiveM's
/// and Roblox's JSON encoders) writes an empty table, its empty body, as `[]`.
/// Only a whole body that is an empty list; a list anywhere else is a list.
fn empty_table_as_object(body: &[u8]) -> &[u8] {
    let trimmed = body.trim_ascii();
    if trimmed.starts_with(b"[")
        && trimmed.ends_with(b"]")
        && trimmed[1..trimmed.len() - 1].trim_ascii().is_empty()
    {
        b"{}"
    } else {
        body
    }
}

/// What the client sends for `body` as `operation`'s request: the body decoded
/// as the request type and encoded again. Fields the type leaves out when
/// unset (`null` and absent are one `None`) are not sent. `None` for an
/// operation without a JSON request body.
pub fn request_body_as_sent(
    operation: Operation,
    body: &[u8],
) -> Option<Result<serde_json::Value, DecodeFailure>> {
    operation
        .spec()
        .request_body
        .map(|read| read(empty_table_as_object(body)))
}

impl RateLimits {
    /// Replaces one operation's limit.
    pub fn with_override(mut self, operation: Operation, limit: RateLimit) -> Self {
        self.overrides.insert(operation.as_str(), limit);
        self
    }

    /// The limit this policy applies to `operation`, if any.
    pub fn limit_for(&self, operation: Operation) -> Option<RateLimit> {
        if !self.enabled {
            return None;
        }
        Some(
            self.overrides
                .get(operation.as_str())
                .copied()
                .or(self.uniform)
                .unwrap_or_else(|| operation.documented_rate_limit()),
        )
    }
}

impl<'a> SlotRequest<'a> {
    /// A request for a slot, for testing or benchmarking a backend directly (the
    /// client makes its own).
    pub fn new(
        credential: &'a str,
        base_url: &'a str,
        operation: Operation,
        limit: RateLimit,
        deadline: Instant,
        longest_attempt: Duration,
    ) -> Self {
        Self {
            credential,
            base_url,
            operation: operation.as_str(),
            limit,
            documented: Some(operation.documented_rate_limit()),
            deadline,
            longest_attempt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_round_trips_through_both_its_names() {
        assert_eq!(Operation::ALL.len(), 61);
        for operation in Operation::ALL {
            assert_eq!(operation.as_str().parse::<Operation>(), Ok(*operation));
            assert_eq!(
                operation.operation_id().parse::<Operation>(),
                Ok(*operation)
            );
            assert_eq!(
                Operation::from_generated_id(operation.as_str()),
                Some(*operation)
            );
            assert_eq!(operation.to_string(), operation.as_str());
        }
        assert_eq!(Operation::CancelSession.method(), "DELETE");
        assert_eq!(Operation::CancelSession.path(), "/v2/community/sessions");
    }

    #[test]
    fn a_misspelt_operation_is_refused_with_the_closest_name() {
        let unknown = "cancel_sesion".parse::<Operation>().expect_err("a typo");
        assert_eq!(unknown.suggestion, Some("cancel_session"));
        assert_eq!(
            unknown.to_string(),
            "`cancel_sesion` is not an operation of the Sonoran CMS client (did you mean `cancel_session`?)"
        );
        assert_eq!(
            "launch_rocket"
                .parse::<Operation>()
                .expect_err("unknown")
                .suggestion,
            None
        );
    }

    #[test]
    fn documented_limits_come_from_the_one_table() {
        let per_minute = |requests| RateLimit::new(requests, 60).expect("a valid limit");
        assert_eq!(
            RateLimits::documented().limit_for(Operation::CancelSession),
            Some(per_minute(9))
        );
        assert_eq!(
            RateLimits::disabled().limit_for(Operation::CancelSession),
            None
        );
        let scaled = RateLimit::per_window(3, Duration::from_secs(1)).expect("a valid limit");
        assert_eq!(
            RateLimits::documented()
                .with_override(Operation::CancelSession, scaled)
                .limit_for(Operation::CancelSession),
            Some(scaled)
        );
        assert_eq!(
            RateLimits::uniform(scaled).limit_for(Operation::GetServers),
            Some(scaled)
        );
        assert!(Operation::GetAccounts.is_paged());
        assert!(!Operation::CancelSession.has_success_body());
        assert!(Operation::CancelSession.has_request_body());
    }
}
