//! The one error type of the client ([`Error`], also at the crate's root): what
//! went wrong, with the HTTP status, the API's problem body, the request id and
//! `Retry-After` where the API gave them; and the types of its details.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

pub use crate::auth::InvalidApiKey;
pub use crate::decode::DecodeFailure;
use crate::types::Problem;

/// How a call ended, when that is an error: decided in `exec`, carried on the
/// final response, turned into `sonoran_cms::Error` by `post` and `From`.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    /// What went wrong.
    pub(crate) kind: VerdictKind,
    /// Every attempt before the last, and how far the last got.
    pub(crate) history: CallHistory,
}

/// See [`Verdict`].
#[derive(Debug, Clone)]
pub(crate) enum VerdictKind {
    /// The call ended before an answer: the deadline ran out.
    EndedEarly { reason: String },
    /// No rate-limit slot opened in time to send (with at least the minimum
    /// attempt time left): nothing was sent.
    RateLimited {
        opens_in: Option<Duration>,
        reason: String,
    },
    /// The rate-limit backend (Redis) could not be asked before the deadline;
    /// nothing was sent.
    LimiterUnavailable { reason: String },
    /// An error status, with the body as received and as a problem.
    ErrorAnswer { problem: Problem, body: Bytes },
    /// A success whose body does not fit what the call expects: the
    /// operation's type, or JSON for a raw call.
    BodyDidNotFit {
        failure: DecodeFailure,
        expected: &'static str,
        body: Bytes,
    },
    /// A redirect: answered (3XX, not followed), or followed by a caller's
    /// `reqwest::Client` on a request that changes state.
    Redirected {
        location: Option<String>,
        followed: bool,
    },
    /// The last attempt failed without an answer, after earlier attempts (the
    /// error is taken out once, by `From`).
    TransportFailed {
        error: Arc<Mutex<Option<reqwest::Error>>>,
    },
}

/// Everything a call to the API can fail with: what `.await` on an operation's
/// builder (or its `.send()`) returns.
///
/// An error after retries keeps what each earlier attempt ended in
/// ([`Error::earlier_attempts`]); its `Display` says when an earlier attempt
/// reached the server and its outcome is unknown, because the operation may then
/// have taken effect although the call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before anything was sent: a missing field, an
    /// invalid value (such as `serverId` 0 or a malformed UUID), a required group
    /// of alternatives (an account identity) that names none.
    InvalidRequest {
        /// What is wrong with the request.
        message: String,
    },
    /// The API answered with an error status.
    Api(Box<ApiError>),
    /// The shared rate limiter (Redis) could not be asked before the call's
    /// deadline, so the call was not sent (the client never sends without a slot).
    RateLimiterUnavailable {
        /// What failed, without secrets.
        message: String,
        /// How the call went: every attempt before the last, and how far the last got.
        history: CallHistory,
    },
    /// The client's own rate limiter had no slot for the call in time: no slot
    /// opened before the deadline left the minimum attempt time
    /// ([`ClientBuilder::min_attempt_time`](crate::ClientBuilder::min_attempt_time)),
    /// so nothing was sent. This is the client throttling itself to stay under
    /// the documented limits, never a slow API (that is [`Error::Timeout`]) nor
    /// the API's own 429 (that is [`Error::Api`]).
    RateLimited {
        /// When the next slot opens, when that is known (it is not while every
        /// slot is held by a request in flight).
        opens_in: Option<Duration>,
        /// What happened, in words: the operation's count and when the next slot opens.
        message: String,
        /// How the call went: every attempt before the last, and how far the last got.
        history: CallHistory,
    },
    /// The call did not finish within its timeout or its overall deadline.
    Timeout {
        /// What ran out.
        message: String,
        /// How the call went: every attempt before the last, and how far the last got.
        history: CallHistory,
    },
    /// No connection could be made; the last attempt sent nothing.
    Connect {
        /// The underlying failure.
        source: reqwest::Error,
        /// How the call went: every attempt before the last, and how far the last got.
        history: CallHistory,
    },
    /// The connection failed after the request was sent (reset, truncated response).
    Transport {
        /// The underlying failure.
        source: reqwest::Error,
        /// How the call went: every attempt before the last, and how far the last got.
        history: CallHistory,
    },
    /// The API answered with a redirect (3XX). An API client follows none: a
    /// request that changes state would be replayed as a GET without its body.
    Redirect(Box<Redirect>),
    /// The API answered in a form the spec does not document: a success body that
    /// does not fit the operation's type, or a status the spec does not declare.
    InvalidResponse(Box<InvalidResponse>),
}

/// What one attempt of a call ended in, when the call was retried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// The status, when the attempt was answered.
    pub status: Option<StatusCode>,
    /// What happened, in words ("502 Bad Gateway", "timed out after sending").
    pub outcome: String,
    /// Whether the attempt may have run the operation.
    pub reach: AttemptReach,
}

/// How far an attempt got, as far as its effect on the server is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptReach {
    /// No connection was made, or the connection closed before the request was
    /// written: nothing was sent.
    NotSent,
    /// The server answered, and the answer says what happened.
    Answered,
    /// The server answered that it did not run it (429, or 503 asking to retry later).
    Refused,
    /// The request reached the server and its outcome is unknown (a 5XX, a
    /// timeout or reset after sending): the operation may have taken effect.
    OutcomeUnknown,
}

/// How a call went, for an error: every attempt before the last, how far the
/// last one got, and whether the request changes state (so that an attempt that
/// reached the server with an unknown outcome may have done something).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallHistory {
    /// Every attempt before the last, oldest first (empty when not retried).
    pub earlier_attempts: Vec<Attempt>,
    /// How far the last attempt got, when it did not end in a clean answer.
    pub last_attempt: Option<AttemptReach>,
    /// The operation changes state: it is not safe (`x-sonoran-safe` in the
    /// spec; by default any method but GET and HEAD).
    pub changes_state: bool,
    /// The operation may be repeated after an attempt whose outcome is
    /// unknown (`x-sonoran-idempotent` in the spec; by default GET, HEAD, PUT
    /// and DELETE).
    pub idempotent: bool,
}

impl CallHistory {
    /// Whether some attempt reached the server with an unknown outcome on a
    /// request that changes state: the operation may have taken effect although
    /// the call failed (a cancel answered 502 may have cancelled).
    pub fn may_have_taken_effect(&self) -> bool {
        self.changes_state
            && (self.last_attempt == Some(AttemptReach::OutcomeUnknown)
                || self
                    .earlier_attempts
                    .iter()
                    .any(|attempt| attempt.reach == AttemptReach::OutcomeUnknown))
    }
}

/// A redirect the client did not follow, or one a caller's `reqwest::Client`
/// followed on a request that changes state.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Redirect {
    /// The response's status: the 3XX when the client stopped at it.
    pub status: StatusCode,
    /// Where it pointed (`Location`), or where the followed request ended.
    pub location: Option<String>,
    /// A `reqwest::Client` given to [`http_client`](crate::ClientBuilder::http_client)
    /// followed it: a request that changes state may have been replayed (as a
    /// GET after 301, 302 or 303; as it was after 307 or 308).
    pub followed_by_http_client: bool,
    /// How the call went: every attempt before the last, and how far the last got.
    pub history: CallHistory,
}

/// An answer the client could not read as the operation's documented result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvalidResponse {
    /// The response's status, when there was one.
    pub status: Option<StatusCode>,
    /// The gateway's id for the request (`x-kong-request-id` or `x-trace-id`).
    pub request_id: Option<String>,
    /// Where a body did not fit its type: the field's JSON path, serde's message,
    /// the position and the text around it.
    pub decode: Option<DecodeFailure>,
    /// What was wrong, in one line.
    pub message: String,
    /// The raw body, as received (empty when there was none), shared with
    /// the response it came in, not copied.
    pub body: Bytes,
    /// How the call went: every attempt before the last, and how far the last got.
    pub history: CallHistory,
}

/// An error status from the API, with everything it said about it.
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The parsed error body (problem+json, or the gateway's 429 body). A body that
    /// was not JSON is carried in `detail`.
    pub problem: Problem,
    /// The gateway's id for the request (`x-kong-request-id` or `x-trace-id`),
    /// else the body's `traceId` or `request_id`: quote it to support.
    pub request_id: Option<String>,
    /// How long the API asked us to wait before trying again, if it said.
    pub retry_after: Option<Duration>,
    /// The error body as received, whatever its shape, shared with the
    /// response it came in, not copied.
    pub body: Bytes,
    /// How the call went: every attempt before the last, and how far the last got.
    pub history: CallHistory,
}

impl Error {
    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::InvalidResponse(invalid) => invalid.status,
            Error::Redirect(redirect) => Some(redirect.status),
            _ => None,
        }
    }

    /// The API's error body, when it answered with an error status.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Api(api) => Some(&api.problem),
            _ => None,
        }
    }

    /// The request id to quote to support, when the API gave one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.request_id.as_deref(),
            Error::InvalidResponse(invalid) => invalid.request_id.as_deref(),
            _ => None,
        }
    }

    /// How long the API asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            _ => None,
        }
    }

    /// The body of the answer the error is about, as received: an error status's
    /// body in any shape, or a body the client could not read. `None` where no
    /// body was read (a status the spec does not declare, no answer at all).
    pub fn raw_body(&self) -> Option<&[u8]> {
        match self {
            Error::Api(api) => Some(&api.body),
            Error::InvalidResponse(invalid)
                if invalid.decode.is_some() || !invalid.body.is_empty() =>
            {
                Some(&invalid.body)
            }
            _ => None,
        }
    }

    /// Where a success body did not fit its operation's type.
    pub fn decode_failure(&self) -> Option<&DecodeFailure> {
        match self {
            Error::InvalidResponse(invalid) => invalid.decode.as_ref(),
            _ => None,
        }
    }

    /// How the call went (empty for an error before sending).
    pub fn history(&self) -> &CallHistory {
        static NONE: CallHistory = CallHistory {
            earlier_attempts: Vec::new(),
            last_attempt: None,
            changes_state: false,
            idempotent: false,
        };
        match self {
            Error::Api(api) => &api.history,
            Error::Timeout { history, .. }
            | Error::RateLimited { history, .. }
            | Error::RateLimiterUnavailable { history, .. }
            | Error::Connect { history, .. }
            | Error::Transport { history, .. } => history,
            Error::Redirect(redirect) => &redirect.history,
            Error::InvalidResponse(invalid) => &invalid.history,
            Error::InvalidRequest { .. } => &NONE,
        }
    }

    /// What each attempt before the last ended in, oldest first (empty when the
    /// call was not retried).
    pub fn earlier_attempts(&self) -> &[Attempt] {
        &self.history().earlier_attempts
    }

    /// Whether the operation may have taken effect although the call failed:
    /// a request that changes state reached the server in some attempt and its
    /// outcome is unknown (a 5XX, a timeout or a reset after sending, a redirect
    /// that was followed).
    pub fn may_have_taken_effect(&self) -> bool {
        self.history().may_have_taken_effect()
    }

    /// Whether the same call may succeed if made again: what the client's retry
    /// rule would repeat (the table in [`RetryPolicy`](crate::RetryPolicy)'s
    /// module), so a call that ended so had its retries already, as far as the
    /// policy allows. True for 429, 408 and 503 with `Retry-After` (the server
    /// refused), a failed connection, no rate-limit slot in time, an
    /// unavailable shared limiter, and for an idempotent operation (`x-sonoran-
    /// idempotent` in the spec, by default GET, PUT and DELETE) a 5XX, a
    /// timeout or a reset. False for other errors, and for a 5XX or a failure
    /// after sending of an operation that is not idempotent: that one may have
    /// run ([`may_have_taken_effect`](Self::may_have_taken_effect)).
    pub fn is_retryable(&self) -> bool {
        use crate::retry::{AttemptOutcome, retry_rule};
        let history = self.history();
        let outcome = match self {
            Error::Api(api) => AttemptOutcome::Response {
                status: api.status,
                requested_delay: api.retry_after,
            },
            // Nothing was sent: no slot in time, or the shared limiter down.
            Error::RateLimited { .. } | Error::RateLimiterUnavailable { .. } => return true,
            Error::Timeout { .. } if history.last_attempt != Some(AttemptReach::OutcomeUnknown) => {
                return true;
            }
            // The retry loop's own verdict on the last attempt: nothing was sent
            // (no connection, or a pooled connection that closed before the
            // request was written), whatever kind of error reqwest gave.
            Error::Connect { .. } | Error::Transport { .. }
                if history.last_attempt == Some(AttemptReach::NotSent) =>
            {
                AttemptOutcome::ConnectionFailed
            }
            Error::Timeout { .. } | Error::Transport { .. } => AttemptOutcome::FailedAfterSending,
            Error::Connect { .. } => AttemptOutcome::ConnectionFailed,
            Error::InvalidRequest { .. } | Error::InvalidResponse(_) | Error::Redirect(_) => {
                return false;
            }
        };
        retry_rule(outcome, history.idempotent).is_some()
    }

    fn from_reqwest(source: reqwest::Error, history: CallHistory) -> Self {
        // reqwest's error names the URL, whose path and query may hold values
        // (an account id, a search term): the error keeps none of it.
        let source = source.without_url();
        if source.is_connect() {
            Error::Connect { source, history }
        } else if source.is_timeout() {
            Error::Timeout {
                message: format!(
                    "no answer within the request timeout ({})",
                    innermost_message(&source)
                ),
                history,
            }
        } else {
            Error::Transport { source, history }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidRequest { message } => {
                write!(formatter, "the request was not sent: {message}")?;
            }
            Error::Api(api) => api.fmt(formatter)?,
            Error::Timeout { message, .. } => {
                write!(formatter, "the Sonoran CMS API call timed out: {message}")?;
            }
            Error::RateLimited { message, .. } => {
                write!(formatter, "the request was not sent: {message}")?;
            }
            Error::RateLimiterUnavailable { message, .. } => {
                write!(
                    formatter,
                    "the request was not sent: the shared rate limiter could not be asked before the deadline: {message}"
                )?;
            }
            Error::Connect { source, .. } => {
                write!(
                    formatter,
                    "could not connect to the Sonoran CMS API: {}",
                    innermost_message(source)
                )?;
            }
            Error::Transport { source, .. } => write!(
                formatter,
                "the connection to the Sonoran CMS API failed mid-request: {}",
                innermost_message(source)
            )?,
            Error::Redirect(redirect) => redirect.fmt(formatter)?,
            Error::InvalidResponse(invalid) => invalid.fmt(formatter)?,
        }
        write_history(formatter, self.history())
    }
}

/// The note an error ends with after retries, or when the operation may have
/// taken effect: how many attempts, and which reached the server with an
/// unknown outcome.
fn write_history(formatter: &mut fmt::Formatter<'_>, history: &CallHistory) -> fmt::Result {
    let attempts = &history.earlier_attempts;
    let unknown: Vec<String> = attempts
        .iter()
        .enumerate()
        .filter(|(_, attempt)| attempt.reach == AttemptReach::OutcomeUnknown)
        .map(|(index, attempt)| format!("attempt {} ended in {}", index + 1, attempt.outcome))
        .collect();
    let last_unknown = history.last_attempt == Some(AttemptReach::OutcomeUnknown);
    if attempts.is_empty() && !(last_unknown && history.changes_state) {
        return Ok(());
    }
    write!(formatter, " (")?;
    if !attempts.is_empty() {
        write!(formatter, "after {} attempts", attempts.len() + 1)?;
        if !unknown.is_empty() {
            write!(
                formatter,
                "; {}: that request reached the server and its outcome is unknown",
                unknown.join(", ")
            )?;
        }
    }
    if history.may_have_taken_effect() {
        if !attempts.is_empty() {
            write!(formatter, "; ")?;
        }
        if last_unknown && unknown.is_empty() {
            write!(
                formatter,
                "the request reached the server and its outcome is unknown; "
            )?;
        }
        write!(formatter, "the operation may have taken effect")?;
    }
    write!(formatter, ")")
}

impl fmt::Display for Redirect {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.location.as_deref().unwrap_or("no Location");
        if self.followed_by_http_client {
            write!(
                formatter,
                "the request was redirected to `{location}` and the reqwest::Client given to `http_client` followed \
                 the redirect, which may have replayed it (as a GET without its body, or as it was for 307 and 308), \
                 so the answer is not this call's; build that client with \
                 `redirect(reqwest::redirect::Policy::none())`"
            )
        } else {
            write!(
                formatter,
                "the Sonoran CMS API answered {} with a redirect to `{location}`; the client follows no redirect \
                 (check the base URL)",
                self.status
            )
        }
    }
}

impl fmt::Display for InvalidResponse {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(
                formatter,
                "the Sonoran CMS API answered {status} in an undocumented form: {}",
                self.message
            )?,
            None => write!(
                formatter,
                "the Sonoran CMS API answered in an undocumented form: {}",
                self.message
            )?,
        }
        if let Some(request_id) = &self.request_id {
            write!(formatter, " (request id {request_id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body as text, not as a list of byte values.
        formatter
            .debug_struct("ApiError")
            .field("status", &self.status)
            .field("problem", &self.problem)
            .field("request_id", &self.request_id)
            .field("retry_after", &self.retry_after)
            .field("body", &String::from_utf8_lossy(&self.body))
            .field("history", &self.history)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "the Sonoran CMS API answered {}", self.status)?;
        let problem = &self.problem;
        if let Some(explanation) = explanation(problem, &self.body) {
            write!(formatter, ": {explanation}")?;
        }
        if let Some(request_id) = &self.request_id {
            write!(formatter, " (request id {request_id})")?;
        }
        if let Some(retry_after) = self.retry_after {
            write!(
                formatter,
                "; retry after {:.1} s",
                retry_after.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

/// The API's own words about an error, as the official FiveM resource reads
/// them: `detail`, then `message`, then `error` (text, or an object's
/// `message`), then `reason`, then the body's text when it is not JSON, then
/// `title`, and failing all of these, the texts a JSON body holds anywhere.
fn explanation(problem: &Problem, body: &[u8]) -> Option<String> {
    let error_text = problem.error.as_ref().and_then(|error| match error {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Object(object) => object
            .get("message")
            .or_else(|| object.get("detail"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        _ => None,
    });
    let (body_text, json_texts) = match serde_json::from_slice::<serde_json::Value>(body) {
        Err(_) => (Some(String::from_utf8_lossy(body).trim().to_owned()), None),
        // A JSON body in a shape none of the fields above names (`{"errors":
        // [{"message": ..}]}`) still has its texts shown, last of all.
        Ok(json) => {
            let mut texts = Vec::new();
            collect_texts(&json, &mut texts);
            (None, (!texts.is_empty()).then(|| texts.join("; ")))
        }
    };
    [
        problem.detail.clone(),
        problem.message.clone(),
        error_text,
        problem.reason.clone(),
        body_text,
        problem.title.clone(),
        json_texts,
    ]
    .into_iter()
    .flatten()
    .map(|text| text.trim().to_owned())
    .find(|text| !text.is_empty())
}

/// The non-empty texts of a JSON value, in document order (at most 5).
fn collect_texts(value: &serde_json::Value, texts: &mut Vec<String>) {
    const MOST: usize = 5;
    match value {
        serde_json::Value::String(text) if !text.trim().is_empty() && texts.len() < MOST => {
            texts.push(text.trim().to_owned());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_texts(item, texts)),
        serde_json::Value::Object(object) => object
            .values()
            .for_each(|member| collect_texts(member, texts)),
        _ => {}
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } | Error::Transport { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The innermost cause's message (`connection refused`, `operation timed
/// out`): reqwest's own ("error sending request") says less of what failed.
fn innermost_message(error: &reqwest::Error) -> String {
    let mut innermost = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        innermost = cause.to_string();
        source = cause.source();
    }
    innermost
}

impl From<progenitor_client::Error<Problem>> for Error {
    fn from(error: progenitor_client::Error<Problem>) -> Self {
        use progenitor_client::Error as Generated;
        let invalid = |status, request_id, message: String, body: Bytes| {
            Error::InvalidResponse(Box::new(InvalidResponse {
                status,
                request_id,
                decode: None,
                message,
                body,
                history: CallHistory::default(),
            }))
        };
        match error {
            Generated::InvalidRequest(message) => Error::InvalidRequest { message },
            Generated::Custom(message) => invalid(None, None, message, Bytes::new()),
            Generated::CommunicationError(source)
            | Generated::ResponseBodyError(source)
            | Generated::InvalidUpgrade(source) => {
                Error::from_reqwest(source, CallHistory::default())
            }
            Generated::ErrorResponse(response) => {
                // Our hooks give every error status a verdict first; this path
                // stays for completeness.
                let status = response.status();
                let headers = response.headers().clone();
                let problem = response.into_inner();
                api_error(
                    status,
                    &headers,
                    problem,
                    Bytes::new(),
                    CallHistory::default(),
                )
            }
            Generated::InvalidResponsePayload(body, source) => {
                invalid(None, None, format!("{source} in {}", excerpt(&body)), body)
            }
            Generated::UnexpectedResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                match response.extensions().get::<Verdict>().cloned() {
                    Some(verdict) => from_verdict(status, &headers, verdict),
                    None => invalid(
                        Some(status),
                        header_request_id(&headers),
                        "a status the spec does not declare".to_owned(),
                        Bytes::new(),
                    ),
                }
            }
        }
    }
}

/// The error a verdict of the call engine stands for (see `crate::engine`).
pub(crate) fn from_verdict(status: StatusCode, headers: &HeaderMap, verdict: Verdict) -> Error {
    let Verdict { kind, history } = verdict;
    match kind {
        VerdictKind::EndedEarly { reason } => Error::Timeout {
            message: reason,
            history,
        },
        VerdictKind::RateLimited { opens_in, reason } => Error::RateLimited {
            opens_in,
            message: reason,
            history,
        },
        VerdictKind::LimiterUnavailable { reason } => Error::RateLimiterUnavailable {
            message: reason,
            history,
        },
        VerdictKind::ErrorAnswer { problem, body } => {
            api_error(status, headers, problem, body, history)
        }
        VerdictKind::BodyDidNotFit {
            failure,
            expected,
            body,
        } => Error::InvalidResponse(Box::new(InvalidResponse {
            status: Some(status),
            request_id: header_request_id(headers),
            message: format!("the body does not fit {expected} {failure}"),
            decode: Some(failure),
            body,
            history,
        })),
        VerdictKind::Redirected { location, followed } => Error::Redirect(Box::new(Redirect {
            status,
            location,
            followed_by_http_client: followed,
            history,
        })),
        VerdictKind::TransportFailed { error } => {
            let taken = error.lock().ok().and_then(|mut slot| slot.take());
            match taken {
                Some(source) => Error::from_reqwest(source, history),
                None => Error::Timeout {
                    message: "the last attempt failed without an answer".to_owned(),
                    history,
                },
            }
        }
    }
}

fn api_error(
    status: StatusCode,
    headers: &HeaderMap,
    problem: Problem,
    body: Bytes,
    history: CallHistory,
) -> Error {
    Error::Api(Box::new(ApiError {
        status,
        request_id: request_id(headers, &problem),
        retry_after: crate::retry::requested_delay(headers, SystemTime::now()),
        problem,
        body,
        history,
    }))
}

fn request_id(headers: &HeaderMap, problem: &Problem) -> Option<String> {
    header_request_id(headers)
        .or_else(|| problem.trace_id.clone())
        .or_else(|| problem.request_id.clone())
}

/// The request id the gateway put in a header, if any.
pub(crate) fn header_request_id(headers: &HeaderMap) -> Option<String> {
    ["x-kong-request-id", "x-trace-id"]
        .into_iter()
        .find_map(|name| headers.get(name).and_then(|value| value.to_str().ok()))
        .map(str::to_owned)
}

/// The start of a body, for error messages.
fn excerpt(body: &[u8]) -> String {
    const MOST: usize = 200;
    let text = String::from_utf8_lossy(&body[..body.len().min(MOST)]);
    if body.len() > MOST {
        format!("`{text}…`")
    } else {
        format!("`{text}`")
    }
}
