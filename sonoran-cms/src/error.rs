//! The one error type of the client: what went wrong, with the HTTP status, the
//! API's problem body, the request id and `Retry-After` where the API gave them.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::decode::DecodeFailure;
use crate::hooks::BodyDidNotFit;
use crate::types::Problem;

/// Everything a call to the API can fail with. Convert from the generated
/// operations' error with `?` or [`Error::from`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before anything was sent: a missing field, an
    /// invalid value (such as `serverId` 0 or a malformed UUID).
    InvalidRequest {
        /// What is wrong with the request.
        message: String,
    },
    /// The API answered with an error status.
    Api(Box<ApiError>),
    /// The call did not finish within its timeout or its overall deadline.
    Timeout {
        /// What ran out.
        message: String,
    },
    /// No connection could be made; nothing was sent.
    Connect {
        /// The underlying failure.
        source: reqwest::Error,
    },
    /// The connection failed after the request was sent (reset, truncated response).
    Transport {
        /// The underlying failure.
        source: reqwest::Error,
    },
    /// The API answered in a form the spec does not document: a success body that
    /// does not fit the operation's type, or a status the spec does not declare.
    InvalidResponse(Box<InvalidResponse>),
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
    /// The raw body, as received (empty when there was none).
    pub body: Vec<u8>,
}

/// An error status from the API, with everything it said about it.
#[derive(Debug, Clone)]
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
}

impl Error {
    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::InvalidResponse(invalid) => invalid.status,
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

    /// The raw body of an answer the client could not read, as received (`None`
    /// where no body was read, as for a status the spec does not declare).
    pub fn raw_body(&self) -> Option<&[u8]> {
        match self {
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

    /// How long the API asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            _ => None,
        }
    }

    /// Whether the same call may succeed later: rate limits, gateway failures,
    /// timeouts and connection problems. The client has already retried these as
    /// far as its [`RetryPolicy`](crate::RetryPolicy) allows.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => matches!(api.status.as_u16(), 408 | 429 | 502 | 503 | 504),
            Error::Timeout { .. } | Error::Connect { .. } | Error::Transport { .. } => true,
            Error::InvalidRequest { .. } | Error::InvalidResponse(_) => false,
        }
    }

    fn from_reqwest(source: reqwest::Error) -> Self {
        if source.is_timeout() {
            Error::Timeout {
                message: format!(
                    "no answer within the request timeout ({})",
                    without_url(&source)
                ),
            }
        } else if source.is_connect() {
            Error::Connect { source }
        } else {
            Error::Transport { source }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidRequest { message } => {
                write!(formatter, "the request was not sent: {message}")
            }
            Error::Api(api) => api.fmt(formatter),
            Error::Timeout { message } => {
                write!(formatter, "the Sonoran CMS API call timed out: {message}")
            }
            Error::Connect { source } => {
                write!(
                    formatter,
                    "could not connect to the Sonoran CMS API: {}",
                    without_url(source)
                )
            }
            Error::Transport { source } => write!(
                formatter,
                "the connection to the Sonoran CMS API failed mid-request: {}",
                without_url(source)
            ),
            Error::InvalidResponse(invalid) => invalid.fmt(formatter),
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

impl fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "the Sonoran CMS API answered {}", self.status)?;
        let problem = &self.problem;
        let explanation = [&problem.detail, &problem.message, &problem.title]
            .into_iter()
            .flatten()
            .find(|text| !text.trim().is_empty());
        if let Some(explanation) = explanation {
            write!(formatter, ": {}", explanation.trim())?;
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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source } | Error::Transport { source } => Some(source),
            _ => None,
        }
    }
}

/// reqwest's messages end with the URL; the base URL is the caller's, so it adds
/// nothing but noise to a terminal line.
fn without_url(error: &reqwest::Error) -> String {
    let mut innermost = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        innermost = cause.to_string();
        source = cause.source();
    }
    innermost
}

/// The marker our hooks put on a call that ended without a response (see `hooks.rs`).
pub(crate) const DEADLINE_PREFIX: &str = "deadline exceeded: ";

impl From<progenitor_client::Error<Problem>> for Error {
    fn from(error: progenitor_client::Error<Problem>) -> Self {
        use progenitor_client::Error as Generated;
        match error {
            Generated::InvalidRequest(message) => Error::InvalidRequest { message },
            Generated::Custom(message) => Error::Timeout {
                message: message
                    .strip_prefix(DEADLINE_PREFIX)
                    .unwrap_or(&message)
                    .to_owned(),
            },
            Generated::CommunicationError(source)
            | Generated::ResponseBodyError(source)
            | Generated::InvalidUpgrade(source) => Error::from_reqwest(source),
            Generated::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let problem = response.into_inner();
                Error::Api(Box::new(ApiError {
                    status,
                    request_id: request_id(&headers, &problem),
                    retry_after: crate::retry::requested_delay(&headers, SystemTime::now()),
                    problem,
                }))
            }
            Generated::InvalidResponsePayload(body, source) => {
                Error::InvalidResponse(Box::new(InvalidResponse {
                    status: None,
                    request_id: None,
                    decode: None,
                    message: format!("{source} in {}", excerpt(&body)),
                    body: body.to_vec(),
                }))
            }
            Generated::UnexpectedResponse(response) => {
                let status = response.status();
                let request_id = header_request_id(response.headers());
                match response.extensions().get::<BodyDidNotFit>() {
                    Some(did_not_fit) => Error::InvalidResponse(Box::new(InvalidResponse {
                        status: Some(status),
                        request_id,
                        message: format!(
                            "the body does not fit the operation's type {}",
                            did_not_fit.failure
                        ),
                        decode: Some(did_not_fit.failure.clone()),
                        body: did_not_fit.body.clone(),
                    })),
                    None => Error::InvalidResponse(Box::new(InvalidResponse {
                        status: Some(status),
                        request_id,
                        decode: None,
                        message: "a status the spec does not declare".to_owned(),
                        body: Vec::new(),
                    })),
                }
            }
        }
    }
}

fn request_id(headers: &HeaderMap, problem: &Problem) -> Option<String> {
    header_request_id(headers)
        .or_else(|| problem.trace_id.clone())
        .or_else(|| problem.request_id.clone())
}

fn header_request_id(headers: &HeaderMap) -> Option<String> {
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
