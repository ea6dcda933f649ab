//! Raw calls ([`Client::raw`]): a route the spec does not have yet (the API adds
//! routes before its docs do), called through the same runtime as every
//! generated operation: the key, the base URL, the rate limiter, retries, the
//! deadline, the redirect policy, the errors and the spans. The answer is any
//! JSON, as a `serde_json::Value`.
//!
//! What the runtime needs of a raw route (its rate limit, what repeating it
//! does, its name in spans) comes from the route: a route of the spec is that
//! operation; any other takes the client's uniform limit if it has one, else
//! its group's lowest documented limit; a limit the caller names wins over both.

use std::fmt;
use std::future::IntoFuture;
use std::pin::Pin;

use progenitor_client::ClientInfo;
use reqwest::Method;

use crate::engine::{AnswerShape, CallTarget, execute, set_headers};
use crate::error::{Verdict, from_verdict};
use crate::rate_limit::RateLimit;
use crate::spec::{DecodedAnswer, OperationSemantics};
use crate::{Client, Error, Operation, ResponseValue};

/// What every raw path starts with: the API's version (the client's base URL
/// holds none).
const VERSION_PREFIX: &str = "/v2/";

/// What a literal path value (all digits, or a UUID) becomes in the route's
/// template, so spans and rate-limit counts never carry it.
const MASKED_VALUE: &str = "{value}";

impl Client {
    /// A call to any route of the API, for routes the spec does not have yet:
    /// `path` from `/v2/` on (`"/v2/community/vehicles/{vehicleId}"`), with
    /// its values as `{name}` placeholders filled by
    /// [`path_param`](RawRequest::path_param), a query
    /// ([`query`](RawRequest::query)) and a JSON body
    /// ([`json`](RawRequest::json)). `.await` it (or `.send()`) for the
    /// status, the headers and the body as a `serde_json::Value` (`null` for
    /// an empty body).
    ///
    /// It goes through the same runtime as every operation: the key, the
    /// base URL, extra headers and call options, the rate limiter, retries,
    /// the deadline, no redirect followed, and [`Error`] for every failure
    /// (an error status, `"success": false` in the envelope, a body that is
    /// not JSON), never with the key. A path that could leave the base URL
    /// (`..`, `//`, a scheme, a query or fragment in the path, a
    /// placeholder without a value) is refused before anything is sent.
    ///
    /// **Rate limit.** A limit given with [`rate_limit`](RawRequest::rate_limit)
    /// applies to any raw call, unless the client limits nothing. Otherwise a route of the spec (the same
    /// method, and each segment the same text or a value where the spec has a
    /// placeholder) is that operation: its limit as the client's
    /// [`RateLimits`](crate::rate_limit::RateLimits) say, its count shared
    /// with the typed method, and what repeating it does. Any other route is
    /// limited by the client's
    /// [`RateLimits::uniform`](crate::rate_limit::RateLimits::uniform) if
    /// set, otherwise by the lowest documented limit of its group: the docs
    /// group (`accounts`, `servers`, ...) whose routes share the most leading
    /// path segments with it. A route that shares no more than `/v2/community`
    /// with any group (a new group) gets the lowest documented limit of all
    /// (9 a minute today). Each such route (method and template, with values
    /// as `*`) has a count of its own: a literal segment that is not a value
    /// (a name) makes another route, so put values in placeholders.
    /// [`rate_limit_in_effect`](RawRequest::rate_limit_in_effect) says which
    /// limit applies. With [`RateLimits::disabled`](crate::rate_limit::RateLimits::disabled),
    /// none does.
    ///
    /// **Retries.** A route of the spec repeats as its operation does; any
    /// other as its method says (GET, HEAD and OPTIONS are safe; PUT and
    /// DELETE idempotent; POST and PATCH neither), unless
    /// [`safe`](RawRequest::safe) or [`idempotent`](RawRequest::idempotent)
    /// says otherwise (a safe route is idempotent).
    ///
    /// **Traces.** The span's `url.template` is the path as given, with a
    /// literal segment that is all digits or a UUID shown as `{value}`: put
    /// other values (names) in placeholders, or they appear in traces.
    ///
    /// ```no_run
    /// use sonoran_cms::reqwest::Method;
    ///
    /// # async fn vehicles(client: &sonoran_cms::Client) -> sonoran_cms::Result<()> {
    /// let answer = client
    ///     .raw(Method::GET, "/v2/community/servers/{serverId}/vehicles")
    ///     .path_param("serverId", 1)
    ///     .query("limit", 50)
    ///     .await?;
    /// println!("{} {}", answer.status(), answer.into_inner()["data"]);
    ///
    /// client
    ///     .raw(Method::POST, "/v2/community/vehicles")
    ///     .json(&serde_json::json!({ "plate": "SONORAN1" }))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn raw(&self, method: Method, path: impl Into<String>) -> RawRequest<'_> {
        RawRequest {
            client: self,
            method,
            path: path.into(),
            path_params: Vec::new(),
            query: Vec::new(),
            body: None,
            rate_limit: None,
            safe: None,
            idempotent: None,
        }
    }
}

/// A raw call being built: see [`Client::raw`]. `.await` it or call
/// [`send`](Self::send).
#[must_use = "a raw request does nothing until it is awaited or sent"]
pub struct RawRequest<'a> {
    client: &'a Client,
    method: Method,
    path: String,
    path_params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    /// The JSON body, or why it could not be made.
    body: Option<Result<serde_json::Value, String>>,
    rate_limit: Option<RateLimit>,
    safe: Option<bool>,
    idempotent: Option<bool>,
}

impl fmt::Debug for RawRequest<'_> {
    /// The method, path template and the names of parameters; never a value.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>()
        };
        formatter
            .debug_struct("RawRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("path_params", &names(&self.path_params))
            .field("query", &names(&self.query))
            .field("has_body", &self.body.is_some())
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl<'a> RawRequest<'a> {
    /// Fills the path's `{name}` placeholder with `value`, percent-encoded
    /// (a `/` in it stays inside the segment). Given twice, the later wins.
    pub fn path_param(mut self, name: impl Into<String>, value: impl fmt::Display) -> Self {
        let name = name.into();
        self.path_params.retain(|(known, _)| *known != name);
        self.path_params.push((name, value.to_string()));
        self
    }

    /// Adds `name=value` to the query (form-encoded, in the order given; a
    /// name may repeat). Query values never appear in spans or errors.
    pub fn query(mut self, name: impl Into<String>, value: impl fmt::Display) -> Self {
        self.query.push((name.into(), value.to_string()));
        self
    }

    /// Sends `body` as JSON (`Content-Type: application/json`). A value that
    /// cannot be serialized makes the call fail before sending.
    pub fn json(mut self, body: &impl serde::Serialize) -> Self {
        self.body = Some(serde_json::to_value(body).map_err(|error| error.to_string()));
        self
    }

    /// The rate limit this call admits against, instead of the one it would
    /// get (see [`Client::raw`]), on a documented route too. The count stays
    /// the route's (a documented route's is its operation's).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Whether the route changes nothing on the server (so a failed call
    /// never "may have taken effect"). A safe route is idempotent as well,
    /// whatever [`idempotent`](Self::idempotent) says.
    pub fn safe(mut self, safe: bool) -> Self {
        self.safe = Some(safe);
        self
    }

    /// Whether running the route twice has the effect of running it once:
    /// an idempotent call is retried after a 5XX or a timeout.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// The operation of the spec this route is, if any: the same method, and
    /// each segment the same text or a value (a placeholder, digits, a UUID)
    /// where the spec has a placeholder.
    pub fn documented_operation(&self) -> Option<Operation> {
        let route = Route::parse(&self.path).ok()?;
        route.documented_operation(&self.method)
    }

    /// The rate limit the call admits against (see [`Client::raw`]), or `None`
    /// when the client limits nothing. A path that does not parse has the
    /// limit of a new group.
    pub fn rate_limit_in_effect(&self) -> Option<RateLimit> {
        let route = Route::parse(&self.path).unwrap_or_default();
        self.limit_for(&route, route.documented_operation(&self.method))
    }

    /// The limit on `route`, whose documented operation is `documented`.
    fn limit_for(&self, route: &Route, documented: Option<Operation>) -> Option<RateLimit> {
        let rate_limits = &self.client.inner().settings.rate_limits;
        if !rate_limits.enabled {
            return None;
        }
        if let Some(limit) = self.rate_limit {
            return Some(limit);
        }
        match documented {
            Some(operation) => rate_limits.limit_for(operation),
            None => Some(
                rate_limits
                    .uniform
                    .unwrap_or_else(|| route.group_rate_limit()),
            ),
        }
    }

    /// Sends the call: see [`Client::raw`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] before sending (a path that does not parse
    /// or would leave the base URL, a placeholder without a value, a body
    /// that cannot be JSON, call options that cannot be used); otherwise
    /// every error an operation can fail with.
    pub async fn send(self) -> crate::Result<ResponseValue<serde_json::Value>> {
        let settings = &self.client.inner().settings;
        let invalid = |message: String| Error::InvalidRequest { message };
        if let Some(refusal) = &settings.refused_options {
            return Err(invalid(refusal.clone()));
        }
        let (route, path) = Route::parse(&self.path)
            .and_then(|route| {
                let path = route.fill(&self.path_params)?;
                Ok((route, path))
            })
            .map_err(|reason| {
                invalid(format!(
                    "the raw path `{}` cannot be used: {reason}; nothing was sent",
                    self.path
                ))
            })?;
        let url = url_on_base(self.client.baseurl(), &path, &self.query)?;
        let mut builder = self.client.client().request(self.method.clone(), url);
        match &self.body {
            Some(Ok(body)) => builder = builder.json(body),
            Some(Err(reason)) => {
                return Err(invalid(format!(
                    "the raw call's body cannot be sent as JSON: {reason}; nothing was sent"
                )));
            }
            None => {}
        }
        let mut request = builder.build().map_err(|error| {
            invalid(format!(
                "the raw call could not be built: {error}; nothing was sent"
            ))
        })?;
        set_headers(settings, request.headers_mut());

        let documented = route.documented_operation(&self.method);
        let by_method = semantics_of_method(&self.method);
        let semantics = documented.map_or(by_method, |operation| operation.spec().semantics);
        // A safe route is idempotent whatever else is said.
        let safe = self.safe.unwrap_or(semantics.safe);
        let semantics = OperationSemantics {
            safe,
            idempotent: self.idempotent.unwrap_or(semantics.idempotent) || safe,
        };
        let target = CallTarget {
            operation: documented,
            raw: true,
            count_key: match documented {
                Some(operation) => operation.as_str().into(),
                None => route.count_key(&self.method).into(),
            },
            url_template: route.template().into(),
            semantics,
            limit: self.limit_for(&route, documented),
            answer: AnswerShape::AnyJson,
        };
        let mut response = execute(settings, self.client.client(), request, &target).await;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        if let Some(verdict) = response.extensions().get::<Verdict>() {
            return Err(from_verdict(status, &headers, verdict.clone()));
        }
        let body = response
            .extensions()
            .get::<DecodedAnswer>()
            .and_then(DecodedAnswer::take::<serde_json::Value>)
            .unwrap_or_default();
        Ok(ResponseValue::new(body, status, headers))
    }
}

impl<'a> IntoFuture for RawRequest<'a> {
    type Output = crate::Result<ResponseValue<serde_json::Value>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    /// Sends the call, as [`send`](RawRequest::send) does.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// What repeating a call does when only its method is known (RFC 9110: GET,
/// HEAD, OPTIONS and TRACE are safe; PUT and DELETE idempotent), as the spec's
/// operations default.
fn semantics_of_method(method: &Method) -> OperationSemantics {
    let safe = matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    OperationSemantics {
        safe,
        idempotent: safe || matches!(*method, Method::PUT | Method::DELETE),
    }
}

/// The request URL: the base URL, the filled path and the query; refused
/// unless it stays on the base URL (same scheme, host and port, under its path).
fn url_on_base(
    base_url: &str,
    path: &str,
    query: &[(String, String)],
) -> crate::Result<reqwest::Url> {
    let refuse = |reason: &str| Error::InvalidRequest {
        message: format!("the raw call cannot be sent: {reason}; nothing was sent"),
    };
    let joined = format!("{base_url}{path}");
    let mut url = reqwest::Url::parse(&joined)
        .map_err(|error| refuse(&format!("the URL does not parse ({error})")))?;
    // The base URL is stored as the URL parser writes it, so a URL the parser
    // changed nothing in (no dot segment removed, no character re-encoded, no
    // host or port moved) reads back exactly as joined: on the base URL.
    if url.as_str() != joined {
        return Err(refuse("its URL would leave the client's base URL"));
    }
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query {
            pairs.append_pair(name, value);
        }
    }
    Ok(url)
}

/// A raw route: its path's segments after `/v2/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Route {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Text as given (already valid in a path).
    Literal(String),
    /// A `{name}` placeholder.
    Placeholder(String),
}

/// How a raw route's segment stands where the spec's route has a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// The same text.
    SameText,
    /// A value where the spec has a placeholder.
    Value,
}

impl Segment {
    /// Whether it stands for a value: a placeholder, or a literal that is all
    /// digits or a UUID.
    fn is_value(&self) -> bool {
        match self {
            Segment::Placeholder(_) => true,
            Segment::Literal(text) => {
                text.bytes().all(|byte| byte.is_ascii_digit())
                    || uuid::Uuid::parse_str(text).is_ok()
            }
        }
    }

    /// How it stands where the spec's route has `documented` (a literal or a
    /// `{name}`), or `None` when it cannot (another text, or a name where the
    /// spec has a placeholder).
    fn fits(&self, documented: &str) -> Option<Fit> {
        match self {
            _ if documented.starts_with('{') => self.is_value().then_some(Fit::Value),
            Segment::Literal(text) if text == documented => Some(Fit::SameText),
            _ => None,
        }
    }
}

impl Route {
    /// Parses a raw path: `/v2/` and then segments of path characters
    /// (RFC 3986 `pchar`, with `%XX` escapes) or whole `{name}` placeholders.
    fn parse(path: &str) -> Result<Self, String> {
        let Some(rest) = path.strip_prefix(VERSION_PREFIX) else {
            return Err(format!(
                "it must start with `{VERSION_PREFIX}` (the base URL holds no version)"
            ));
        };
        if path.contains(['?', '#']) {
            return Err("a query or fragment belongs in `.query(..)`, not the path".to_owned());
        }
        let mut segments = vec![Segment::Literal("v2".to_owned())];
        for segment in rest.split('/') {
            if segment.is_empty() {
                return Err("it has an empty segment (`//` or a trailing `/`)".to_owned());
            }
            if is_dot_segment(segment) {
                return Err(format!("it has a `.` or `..` segment (`{segment}`)"));
            }
            if let Some(name) = segment
                .strip_prefix('{')
                .and_then(|inner| inner.strip_suffix('}'))
            {
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|character| character.is_ascii_alphanumeric() || character == '_');
                if !valid {
                    return Err(format!(
                        "the placeholder `{segment}` must be `{{name}}` with letters, digits or `_`"
                    ));
                }
                segments.push(Segment::Placeholder(name.to_owned()));
                continue;
            }
            if let Some(character) = segment
                .chars()
                .find(|character| !is_path_character(*character))
            {
                return Err(format!(
                    "the segment `{segment}` holds `{}`, which a path cannot carry as is; pass values with `{{name}}` and `.path_param`",
                    character.escape_default()
                ));
            }
            if !escapes_are_whole(segment) {
                return Err(format!(
                    "the segment `{segment}` has a `%` that is not followed by two hex digits"
                ));
            }
            segments.push(Segment::Literal(segment.to_owned()));
        }
        Ok(Self { segments })
    }

    /// The path with each placeholder's value percent-encoded in place.
    fn fill(&self, values: &[(String, String)]) -> Result<String, String> {
        for (name, _) in values {
            let named = self
                .segments
                .iter()
                .any(|segment| *segment == Segment::Placeholder(name.clone()));
            if !named {
                return Err(format!(
                    "`.path_param(\"{name}\", ..)` names no `{{{name}}}` in it"
                ));
            }
        }
        let mut path = String::new();
        for segment in &self.segments {
            path.push('/');
            match segment {
                Segment::Literal(text) => path.push_str(text),
                Segment::Placeholder(name) => {
                    let value = values
                        .iter()
                        .find(|(known, _)| known == name)
                        .map(|(_, value)| value)
                        .ok_or_else(|| format!("the placeholder `{{{name}}}` has no value (`.path_param(\"{name}\", ..)`)"))?;
                    if value.is_empty() {
                        return Err(format!("the value of `{{{name}}}` is empty"));
                    }
                    // No encoding keeps these in their segment: URL parsers
                    // read `%2E%2E` as `..` too.
                    if value == "." || value == ".." {
                        return Err(format!(
                            "the value of `{{{name}}}` is `{value}`, which a URL reads as a step along the path"
                        ));
                    }
                    path.push_str(&encode_segment(value));
                }
            }
        }
        Ok(path)
    }

    /// The route as OpenTelemetry's `url.template`: placeholders as given,
    /// literal values as `{value}`.
    fn template(&self) -> String {
        self.segments
            .iter()
            .map(|segment| match segment {
                Segment::Placeholder(name) => format!("/{{{name}}}"),
                literal if literal.is_value() => format!("/{MASKED_VALUE}"),
                Segment::Literal(text) => format!("/{text}"),
            })
            .collect()
    }

    /// The key of the route's rate-limit count: the method and the template
    /// with every value as `*` (placeholder names do not split a count).
    fn count_key(&self, method: &Method) -> String {
        let path: String = self
            .segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) if !segment.is_value() => format!("/{text}"),
                _ => "/*".to_owned(),
            })
            .collect();
        format!("raw:{method}:{path}")
    }

    /// The operation of the spec with this method and path: every segment
    /// the same text, or a value (a placeholder, digits, a UUID) where the
    /// spec has a placeholder. When several fit, the one whose first literal
    /// segment comes earliest (`accounts/search` before `accounts/{accountId}`).
    fn documented_operation(&self, method: &Method) -> Option<Operation> {
        Operation::ALL
            .iter()
            .copied()
            .filter(|operation| operation.method() == method.as_str())
            .filter_map(|operation| {
                let documented: Vec<&str> = operation.path().split('/').skip(1).collect();
                if documented.len() != self.segments.len() {
                    return None;
                }
                // Which segments match as the same text, left to right.
                let literal_matches = documented
                    .iter()
                    .zip(&self.segments)
                    .map(|(documented, segment)| {
                        segment.fits(documented).map(|fit| fit == Fit::SameText)
                    })
                    .collect::<Option<Vec<bool>>>()?;
                Some((literal_matches, operation))
            })
            .max_by(|(left, _), (right, _)| left.cmp(right))
            .map(|(_, operation)| operation)
    }

    /// The lowest documented limit (fewest requests per second, then fewest
    /// requests) of the docs groups whose routes share the most leading path
    /// segments with this one.
    fn group_rate_limit(&self) -> RateLimit {
        let shared_prefix = |operation: &Operation| {
            operation
                .path()
                .split('/')
                .skip(1)
                .zip(&self.segments)
                .take_while(|(documented, segment)| segment.fits(documented).is_some())
                .count()
        };
        let shared: Vec<(usize, &str)> = Operation::ALL
            .iter()
            .map(|operation| (shared_prefix(operation), operation.spec().group))
            .collect();
        let longest = shared.iter().map(|(length, _)| *length).max().unwrap_or(0);
        let groups: Vec<&str> = shared
            .iter()
            .filter(|(length, _)| *length == longest)
            .map(|(_, group)| *group)
            .collect();
        Operation::ALL
            .iter()
            .filter(|operation| groups.contains(&operation.spec().group))
            .map(|operation| operation.documented_rate_limit())
            .min_by(|left, right| {
                // left.requests / left.window against right's, without division.
                let rate = |limit: &RateLimit, other: &RateLimit| {
                    u128::from(limit.requests()) * other.window().as_millis()
                };
                rate(left, right)
                    .cmp(&rate(right, left))
                    .then(left.requests().cmp(&right.requests()))
            })
            .unwrap_or(RateLimit::documented(1, 60))
    }
}

/// RFC 3986 `pchar` without `%` escapes: unreserved, sub-delims, `:` and `@`.
fn is_path_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@%".contains(character)
}

/// Whether every `%` starts a `%XX` escape.
fn escapes_are_whole(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    bytes.iter().enumerate().all(|(index, byte)| {
        *byte != b'%'
            || (bytes.get(index + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(index + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// Whether a segment is `.` or `..` as a URL parser reads it (WHATWG URL:
/// `%2e` counts as a dot, in either case).
fn is_dot_segment(segment: &str) -> bool {
    let decoded = segment.replace("%2e", ".").replace("%2E", ".");
    decoded == "." || decoded == ".."
}

/// A value as one path segment: everything but RFC 3986's unreserved
/// characters percent-encoded (`fill` refuses the values `.` and `..`).
fn encode_segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || b"-._~".contains(&byte);
        if unreserved {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Route {
        Route::parse(path).expect("a route")
    }

    fn per_minute(requests: u32) -> RateLimit {
        RateLimit::new(requests, 60).expect("a limit")
    }

    #[test]
    fn a_route_of_the_spec_is_its_operation() {
        assert_eq!(
            route("/v2/community/accounts/search").documented_operation(&Method::GET),
            Some(Operation::SearchAccounts),
            "the literal route wins over `{{accountId}}`"
        );
        assert_eq!(
            route("/v2/community/accounts/8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11")
                .documented_operation(&Method::GET),
            Some(Operation::GetAccount)
        );
        assert_eq!(
            route("/v2/community/servers/{id}/whitelist").documented_operation(&Method::GET),
            Some(Operation::GetFullWhitelist)
        );
        assert_eq!(
            route("/v2/community/servers").documented_operation(&Method::DELETE),
            None,
            "the method counts"
        );
        assert_eq!(
            route("/v2/community/vehicles").documented_operation(&Method::GET),
            None
        );
        assert_eq!(
            route("/v2/community/accounts/vehicles").documented_operation(&Method::GET),
            None,
            "a literal that is not a value does not fill `{{accountId}}`"
        );
        assert_eq!(
            route("/v2/community/forms/submissions/{id}").documented_operation(&Method::GET),
            Some(Operation::GetFormSubmission),
            "`submissions` is literal text, not a `{{templateId}}`"
        );
    }

    #[test]
    fn another_route_takes_the_lowest_limit_of_the_group_it_is_closest_to() {
        // servers: addServers and setServers allow 9 a minute.
        assert_eq!(
            route("/v2/community/servers/{serverId}/vehicles").group_rate_limit(),
            per_minute(9)
        );
        // accounts: 22 is the lowest.
        assert_eq!(
            route("/v2/community/accounts/{accountId}/vehicles").group_rate_limit(),
            per_minute(22)
        );
        assert_eq!(
            route("/v2/community/accounts/7/vehicles").group_rate_limit(),
            per_minute(22)
        );
        // forms: 13.
        assert_eq!(
            route("/v2/community/forms/{formId}/comments").group_rate_limit(),
            per_minute(13)
        );
        // A new group: the lowest of all.
        assert_eq!(
            route("/v2/community/vehicles").group_rate_limit(),
            per_minute(9)
        );
        assert_eq!(route("/v2/other").group_rate_limit(), per_minute(9));
    }

    #[test]
    fn paths_that_could_leave_the_base_url_are_refused() {
        for path in [
            "community/servers",
            "/v1/community",
            "https://elsewhere.example/v2/x",
            "/v2/community/../../admin",
            "/v2/community/./servers",
            "/v2/community/%2e%2E/admin",
            "/v2/community/.%2e",
            "/v2/community/%2E",
            "/v2//community",
            "/v2/community/",
            "/v2/community?x=1",
            "/v2/community#top",
            "/v2/community/{}",
            "/v2/community/{a-b}",
            "/v2/community/a b",
            "/v2/community/ä",
            "/v2/community/50%",
            "/v2/community\\servers",
        ] {
            assert!(Route::parse(path).is_err(), "{path} should be refused");
        }
    }

    #[test]
    fn values_fill_one_segment_each_and_are_never_in_the_template() {
        let route = route("/v2/community/accounts/{accountId}/things/42");
        let filled = route
            .fill(&[("accountId".to_owned(), "a/b ?#..".to_owned())])
            .expect("filled");
        assert_eq!(filled, "/v2/community/accounts/a%2Fb%20%3F%23../things/42");
        for value in [".", ".."] {
            let filled = Route::parse("/v2/x/{id}")
                .expect("a route")
                .fill(&[("id".to_owned(), value.to_owned())]);
            assert!(filled.is_err(), "{value}: {filled:?}");
        }
        assert_eq!(
            route.template(),
            "/v2/community/accounts/{accountId}/things/{value}"
        );
        assert_eq!(
            route.count_key(&Method::GET),
            "raw:GET:/v2/community/accounts/*/things/*"
        );
        assert!(route.fill(&[]).is_err(), "a placeholder without a value");
        assert!(
            route
                .fill(&[
                    ("accountId".to_owned(), "a".to_owned()),
                    ("other".to_owned(), "b".to_owned())
                ])
                .is_err(),
            "a value for no placeholder"
        );
    }
}
