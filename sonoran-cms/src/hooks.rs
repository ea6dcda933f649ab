//! The hand-written behaviour of every generated operation, attached through
//! progenitor's `ClientHooks`: the wire headers and required fields (`pre`);
//! rate limiting, retries, redirects, error bodies and body checks (`exec`); and
//! the one place that turns what `exec` concluded into an error (`post`).
//! Nothing here knows any operation by name: an operation added to the spec gets
//! all of it.
//!
//! `exec` ends every call with a response. When the call failed in a way the
//! generated code would report poorly (an error body, a redirect, a body that
//! does not fit, a deadline, a failure after earlier attempts), the response
//! carries a [`Verdict`]; `post` hands it on inside progenitor's
//! `UnexpectedResponse`, and `sonoran_cms::Error::from` reads it back, so the
//! error keeps the status, headers, raw body and every earlier attempt.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{self, HeaderValue};
use tokio::time::Instant;

use crate::Client;
use crate::Operation;
use crate::decode::NotDecoded;
use crate::error::{Attempt, AttemptReach, CallHistory, Verdict, VerdictKind};
use crate::rate_limit::{AcquireError, SlotRequest};
use crate::retry::{AttemptOutcome, requested_delay, retry_delay};
use crate::spec::DecodedAnswer;
use crate::state::{ClientState, USER_AGENT};
use crate::types::Problem;

impl ClientHooks<ClientState> for Client {
    /// Refuses a request that names none of a required group of fields, then sets
    /// exactly the headers the official SDKs send, plus `User-Agent` and the
    /// caller's extra headers, and drops progenitor's `api-version`.
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        // A request that lacks what the API needs (one of a group of alternative
        // fields) is refused here, before the limiter or the network see it.
        let operation = operation_of(info).map_err(Error::InvalidRequest)?;
        crate::requirements::check(operation.as_str(), operation.spec().one_of, request)
            .map_err(Error::InvalidRequest)?;
        let settings = &self.inner().settings;
        let headers = request.headers_mut();
        headers.remove("api-version");
        headers.insert(
            header::AUTHORIZATION,
            settings.api_key.authorization().clone(),
        );
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        headers
            .entry(header::ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        for (name, value) in &settings.extra_headers {
            headers.append(name, value.clone());
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        match operation_of(info) {
            Ok(operation) => execute(self.inner(), self.client(), request, operation).await,
            // `pre` refused it already; never sent.
            Err(reason) => Ok(ended_early(reason, CallHistory::default())),
        }
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        let Ok(response) = result else {
            return Ok(());
        };
        let Some(verdict) = response.extensions().get::<Verdict>() else {
            return Ok(());
        };
        // progenitor's error for "not the answer the spec describes" carries a
        // whole response: a copy of this one (status and headers; the body is in
        // the verdict) takes the verdict to `sonoran_cms::Error::from`.
        let mut copy = http::Response::new(Vec::<u8>::new());
        *copy.status_mut() = response.status();
        *copy.version_mut() = response.version();
        *copy.headers_mut() = response.headers().clone();
        copy.extensions_mut().insert(verdict.clone());
        Err(Error::UnexpectedResponse(reqwest::Response::from(copy)))
    }
}

/// The operation progenitor's generated code reports, mapped to [`Operation`]
/// by the one generated function that knows progenitor's names.
fn operation_of(info: &OperationInfo) -> Result<Operation, String> {
    Operation::from_generated_id(info.operation_id).ok_or_else(|| {
        format!(
            "`{}` is not an operation of the generated table; nothing was sent",
            info.operation_id
        )
    })
}

/// Why an attempt ended without an answer.
enum AttemptError {
    /// The HTTP client or the caller's transport failed.
    Http(reqwest::Error),
    /// No whole answer (status and body) within the attempt's time: its
    /// timeout, or what remained of the call's deadline.
    TimedOut { after: std::time::Duration },
}

/// Sends one call: waits for a rate-limit slot, sends, retries as the policy
/// allows, keeps the whole call within its deadline, and puts a [`Verdict`] on
/// the response it ends with when that is an error.
///
/// Every wait is bounded by the deadline: the rate limiter (whatever backend),
/// the transport (the HTTP client or a caller's [`Transport`](crate::Transport))
/// and every body read, each attempt by the shorter of its timeout and what
/// remains of the call.
async fn execute(
    state: &ClientState,
    http_client: &reqwest::Client,
    request: reqwest::Request,
    operation: Operation,
) -> reqwest::Result<reqwest::Response> {
    let settings = &state.settings;
    let deadline = crate::time::after(Instant::now(), settings.deadline);
    let limit = settings.rate_limits.limit_for(operation);
    let semantics = operation.spec().semantics;
    // A caller's `Transport` may rewrite URLs (a proxy, a recorder): a changed
    // URL then says nothing about redirects.
    let watch_for_followed_redirects = settings.transport.is_none();
    let mut original = Some(request);
    let mut retries_done = 0;
    let mut history = CallHistory {
        changes_state: !semantics.safe,
        idempotent: semantics.idempotent,
        ..CallHistory::default()
    };

    loop {
        // The longest this attempt may take once admitted: the backend keeps
        // its reservation at least that long, and the attempt is cut off there.
        let longest_attempt = settings
            .timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        let mut permit = match limit {
            Some(limit) => {
                let request = SlotRequest {
                    credential: &settings.credential,
                    base_url: &settings.base_url,
                    operation: operation.as_str(),
                    limit,
                    deadline,
                    longest_attempt,
                };
                // A backend must give up at the deadline; one that does not
                // (a caller's own) is cut off there all the same.
                let acquired =
                    tokio::time::timeout_at(deadline, settings.rate_limit_backend.acquire(request))
                        .await
                        .unwrap_or(Err(AcquireError::NoSlotBeforeDeadline { opens_in: None }));
                match acquired {
                    Ok(permit) => Some(permit),
                    Err(AcquireError::NoSlotBeforeDeadline { opens_in }) => {
                        let when = opens_in.map_or_else(
                            || "later".to_owned(),
                            |opens_in| format!("in {:.1} s", opens_in.as_secs_f64()),
                        );
                        return Ok(ended_early(
                            format!(
                                "the rate limit of `{operation}` has no free slot before the deadline (next slot {when})"
                            ),
                            history,
                        ));
                    }
                    Err(AcquireError::Unavailable { message }) => {
                        tracing::warn!(operation = operation.as_str(), %message, "the rate limiter is unavailable");
                        return Ok(made_up_response(Verdict {
                            kind: VerdictKind::LimiterUnavailable { reason: message },
                            history,
                        }));
                    }
                }
            }
            None => None,
        };
        let now = Instant::now();
        let remaining = deadline.saturating_duration_since(now);
        if remaining.is_zero() {
            return Ok(ended_early(
                format!("{:.1} s passed", settings.deadline.as_secs_f64()),
                history,
            ));
        }

        // Keep the original for another attempt while it can be copied (a JSON body can).
        let Some(current) = original.take() else {
            return Ok(ended_early("no request left to send".to_owned(), history));
        };
        let mut attempt = match current.try_clone() {
            Some(copy) => {
                original = Some(current);
                copy
            }
            None => current,
        };
        let attempt_time = settings.timeout.min(remaining);
        let attempt_deadline = crate::time::after(now, attempt_time);
        *attempt.timeout_mut() = Some(attempt_time);
        let sent_url = attempt.url().clone();

        if let Some(permit) = &mut permit {
            permit.mark_sent();
        }
        tracing::debug!(
            operation = operation.as_str(),
            attempt = retries_done + 1,
            "sending request"
        );
        // The exchange, from sending to the end of what is read of the body,
        // within the attempt's time whoever sends it.
        let exchange = async {
            let response = match &settings.transport {
                Some(transport) => transport.execute(attempt).await,
                None => http_client.execute(attempt).await,
            }?;
            let followed_redirect = watch_for_followed_redirects
                && !semantics.safe
                && followed_elsewhere(&response, &sent_url);
            if followed_redirect {
                // Whatever it answered, the answer is to a replayed request.
                let location = Some(response.url().to_string());
                return Ok((
                    with_verdict_kind(
                        response,
                        VerdictKind::Redirected {
                            location,
                            followed: true,
                        },
                    ),
                    true,
                ));
            }
            Ok((read_answer(response, operation).await?, false))
        };
        let (result, followed_redirect) =
            match tokio::time::timeout_at(attempt_deadline, exchange).await {
                Ok(Ok((response, followed))) => (Ok(response), followed),
                Ok(Err(error)) => (Err(AttemptError::Http(error)), false),
                Err(_) => (
                    Err(AttemptError::TimedOut {
                        after: attempt_time,
                    }),
                    false,
                ),
            };

        let outcome = match &result {
            Ok(response) => AttemptOutcome::Response {
                status: response.status(),
                requested_delay: requested_delay(response.headers(), SystemTime::now()),
            },
            Err(AttemptError::Http(error)) if never_left(error) => {
                // The server saw nothing: the slot is given back.
                if let Some(permit) = &mut permit {
                    permit.mark_not_sent();
                }
                AttemptOutcome::ConnectionFailed
            }
            Err(_) => AttemptOutcome::FailedAfterSending,
        };
        // The request is over (its body read): from here it counts for a window.
        drop(permit);

        let delay = retry_delay(
            &settings.retry_policy,
            semantics.idempotent,
            outcome,
            retries_done,
            fastrand::f64(),
        )
        .filter(|_| original.is_some())
        .filter(|_| !followed_redirect)
        .filter(|delay| crate::time::after(Instant::now(), *delay) < deadline);
        let Some(delay) = delay else {
            history.last_attempt = Some(if followed_redirect {
                AttemptReach::OutcomeUnknown
            } else {
                reach(outcome)
            })
            .filter(|reach| *reach != AttemptReach::Answered);
            return Ok(with_verdict(result, history));
        };
        history
            .earlier_attempts
            .push(attempt_record(&result, outcome));
        tracing::info!(
            operation = operation.as_str(),
            ?outcome,
            delay_seconds = delay.as_secs_f64(),
            "retrying"
        );
        tokio::time::sleep(delay).await;
        retries_done += 1;
    }
}

/// Whether a failure provably happened before the request left: no connection
/// was made, or hyper gave up on a pooled connection before writing the request
/// (`is_canceled`: the connection closed or was not ready). Such a request is
/// retried for any method.
fn never_left(error: &reqwest::Error) -> bool {
    if error.is_connect() {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(hyper_error) = cause.downcast_ref::<hyper::Error>() {
            return hyper_error.is_canceled();
        }
        source = cause.source();
    }
    false
}

/// How far an attempt that ended so got.
fn reach(outcome: AttemptOutcome) -> AttemptReach {
    match outcome {
        AttemptOutcome::ConnectionFailed => AttemptReach::NotSent,
        outcome if may_have_taken_effect(outcome) => AttemptReach::OutcomeUnknown,
        AttemptOutcome::Response { status, .. } if matches!(status.as_u16(), 408 | 429 | 503) => {
            AttemptReach::Refused
        }
        _ => AttemptReach::Answered,
    }
}

/// Whether an attempt that ended so may have run the operation on the server: a
/// 5XX (other than a 503 asking to retry later), a timeout or reset after sending.
/// (Whether that matters is the operation's: a safe one changes nothing.)
fn may_have_taken_effect(outcome: AttemptOutcome) -> bool {
    match outcome {
        AttemptOutcome::Response {
            status,
            requested_delay,
        } => status.is_server_error() && !(status.as_u16() == 503 && requested_delay.is_some()),
        AttemptOutcome::ConnectionFailed => false,
        AttemptOutcome::FailedAfterSending => true,
    }
}

/// What an attempt that is about to be retried ended in, for the final error.
fn attempt_record(
    result: &Result<reqwest::Response, AttemptError>,
    outcome: AttemptOutcome,
) -> Attempt {
    let not_sent = matches!(outcome, AttemptOutcome::ConnectionFailed);
    let (status, description) = match result {
        Ok(response) => (Some(response.status()), response.status().to_string()),
        Err(AttemptError::Http(error)) if not_sent && error.is_timeout() => {
            (None, "could not connect in time".to_owned())
        }
        Err(AttemptError::Http(_)) if not_sent => (None, "could not connect".to_owned()),
        Err(AttemptError::Http(error)) if error.is_timeout() => {
            (None, "timed out after sending".to_owned())
        }
        Err(AttemptError::Http(_)) => (None, "the connection failed after sending".to_owned()),
        Err(AttemptError::TimedOut { after }) => (
            None,
            format!("no whole answer within {:.1} s", after.as_secs_f64()),
        ),
    };
    Attempt {
        status,
        outcome: description,
        reach: reach(outcome),
    }
}

/// The call's last result, with its history on the verdict: a response that
/// carries a verdict gets it; one without (a success) is returned as it is; a
/// failure without an answer becomes a made-up response carrying the error
/// and the history (whether it may have taken effect, whether the operation
/// is idempotent, what earlier attempts ended in).
fn with_verdict(
    result: Result<reqwest::Response, AttemptError>,
    history: CallHistory,
) -> reqwest::Response {
    match result {
        Ok(mut response) => {
            if let Some(verdict) = response.extensions_mut().get_mut::<Verdict>() {
                verdict.history = history;
            }
            response
        }
        Err(AttemptError::Http(error)) => made_up_response(Verdict {
            kind: VerdictKind::TransportFailed {
                error: Arc::new(Mutex::new(Some(error))),
            },
            history,
        }),
        Err(AttemptError::TimedOut { after }) => made_up_response(Verdict {
            kind: VerdictKind::EndedEarly {
                reason: format!(
                    "no whole answer within {:.1} s (the attempt's timeout, or what remained of the call's deadline)",
                    after.as_secs_f64()
                ),
            },
            history,
        }),
    }
}

/// A response standing for a call that ended without a usable one.
fn made_up_response(verdict: Verdict) -> reqwest::Response {
    let mut response = http::Response::new(Vec::<u8>::new());
    *response.status_mut() = reqwest::StatusCode::GATEWAY_TIMEOUT;
    response.extensions_mut().insert(verdict);
    reqwest::Response::from(response)
}

/// A response standing for "the call ended before it could be answered".
fn ended_early(reason: String, history: CallHistory) -> reqwest::Response {
    tracing::warn!(%reason, "call ended without a response");
    made_up_response(Verdict {
        kind: VerdictKind::EndedEarly { reason },
        history,
    })
}

/// Reads an answer as far as the verdict needs: an error status's body (kept as
/// received, and as a problem), a redirect's `Location`, a success body checked
/// against the operation's type.
async fn read_answer(
    response: reqwest::Response,
    operation: Operation,
) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        return with_problem_body(response).await;
    }
    if status.is_redirection() {
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        return Ok(with_verdict_kind(
            response,
            VerdictKind::Redirected {
                location,
                followed: false,
            },
        ));
    }
    if status.is_success() {
        return with_body_checked(response, operation).await;
    }
    Ok(response)
}

/// Whether the response is to another URL than the request's: a redirect was
/// followed. (A response made up by a [`Transport`](crate::Transport) has no URL;
/// reqwest gives it a placeholder host.)
fn followed_elsewhere(response: &reqwest::Response, sent_url: &reqwest::Url) -> bool {
    const NO_URL_HOST: &str = "no.url.provided.local";
    response.url() != sent_url && response.url().host_str() != Some(NO_URL_HOST)
}

fn with_verdict_kind(mut response: reqwest::Response, kind: VerdictKind) -> reqwest::Response {
    response.extensions_mut().insert(Verdict {
        kind,
        history: CallHistory::default(),
    });
    response
}

/// Reads a success answer's body and decodes it once, plainly, as the
/// operation's type (the decoded value rides on the response for the generated
/// code to take). Only when that fails is the body read again: an envelope
/// that says `"success": false` is an error whatever the status (the official
/// clients read `data` only when `success` is true), and a body that does not
/// fit gets a verdict naming the JSON path of what does not fit. Operations
/// without a JSON success body pass untouched.
async fn with_body_checked(
    response: reqwest::Response,
    operation: Operation,
) -> reqwest::Result<reqwest::Response> {
    let Some(success_body) = operation.spec().success_body else {
        return Ok(response);
    };
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    let (kind, decoded) = match (success_body.decode)(&body) {
        Ok(decoded) => (None, Some(decoded)),
        Err(not_decoded) => {
            let envelope = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .filter(|json| {
                    not_decoded == NotDecoded::SaysFailure
                        || json.get("success") == Some(&serde_json::Value::Bool(false))
                });
            let kind = match envelope {
                Some(envelope) => VerdictKind::ErrorAnswer {
                    problem: problem_from_json(&envelope, status),
                    body: body.clone(),
                },
                None => {
                    let failure = (success_body.check)(&body).err().unwrap_or_else(|| {
                        crate::decode::DecodeFailure {
                            path: ".".to_owned(),
                            message: "serde could not read it as the operation's type".to_owned(),
                            line: 0,
                            column: 0,
                            context: String::new(),
                        }
                    });
                    tracing::warn!(operation = operation.as_str(), %status, %failure, "the answer does not fit the operation's type");
                    VerdictKind::BodyDidNotFit {
                        failure,
                        body: body.clone(),
                    }
                }
            };
            (Some(kind), None)
        }
    };
    let mut rebuilt = rebuilt(status, version, headers, body, kind);
    if let Some(decoded) = decoded {
        rebuilt.extensions_mut().insert(DecodedAnswer::new(decoded));
    }
    Ok(rebuilt)
}

/// A response whose body was read, rebuilt with it (and with a verdict, when
/// there is one) for the generated code and `post`.
fn rebuilt(
    status: reqwest::StatusCode,
    version: http::Version,
    headers: header::HeaderMap,
    body: impl Into<reqwest::Body>,
    kind: Option<VerdictKind>,
) -> reqwest::Response {
    let mut rebuilt = http::Response::new(body.into());
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    if let Some(kind) = kind {
        rebuilt.extensions_mut().insert(Verdict {
            kind,
            history: CallHistory::default(),
        });
    }
    reqwest::Response::from(rebuilt)
}

/// Reads an error response's body and gives the response a verdict with the body
/// as received and as a problem (see [`problem_from_json`]); a body that is not
/// JSON (plain text, HTML from a proxy, nothing at all) becomes a problem with
/// the status, its reason and the text as `detail`. Every error then reaches the
/// caller with its status, headers, the API's message and the raw body.
async fn with_problem_body(response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    let problem = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(json) => problem_from_json(&json, status),
        Err(_) => {
            let text = String::from_utf8_lossy(&body).trim().to_owned();
            Problem {
                status: Some(i64::from(status.as_u16())),
                title: status.canonical_reason().map(str::to_owned),
                detail: (!text.is_empty()).then(|| shorten(text, 2_000)),
                ..Problem::default()
            }
        }
    };
    Ok(rebuilt(
        status,
        version,
        headers,
        Vec::<u8>::new(),
        Some(VerdictKind::ErrorAnswer { problem, body }),
    ))
}

/// A problem from any JSON error body, field by field, so one field of an
/// unexpected type (`"status": "error"`, a list of messages) loses nothing else:
/// text fields are taken as text, a list of texts (or of objects with a
/// `message`, `msg` or `detail`) is joined with "; ", and a JSON text is the
/// detail.
fn problem_from_json(json: &serde_json::Value, status: reqwest::StatusCode) -> Problem {
    use serde_json::Value;
    fn text(value: Option<&Value>) -> Option<String> {
        match value? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Array(items) => {
                let texts: Vec<String> = items
                    .iter()
                    .filter_map(|item| match item {
                        Value::Object(object) => ["message", "msg", "detail"]
                            .iter()
                            .find_map(|key| object.get(*key).and_then(Value::as_str))
                            .map(str::to_owned),
                        other => text(Some(other)),
                    })
                    .collect();
                (!texts.is_empty()).then(|| texts.join("; "))
            }
            _ => None,
        }
    }
    let Value::Object(object) = json else {
        return Problem {
            status: Some(i64::from(status.as_u16())),
            title: status.canonical_reason().map(str::to_owned),
            detail: text(Some(json))
                .or_else(|| Some(json.to_string()))
                .filter(|text| !text.is_empty()),
            ..Problem::default()
        };
    };
    if let Ok(problem) = serde_json::from_value::<Problem>(json.clone()) {
        return problem;
    }
    Problem {
        type_: text(object.get("type")),
        title: text(object.get("title")),
        status: object.get("status").and_then(Value::as_i64),
        detail: text(object.get("detail")),
        instance: text(object.get("instance")),
        trace_id: text(object.get("traceId")),
        message: text(object.get("message")),
        request_id: text(object.get("request_id")),
        error: object.get("error").cloned(),
        reason: text(object.get("reason")),
        success: object.get("success").and_then(Value::as_bool),
    }
}

fn shorten(mut text: String, most_bytes: usize) -> String {
    if text.len() > most_bytes {
        let cut = (0..=most_bytes)
            .rev()
            .find(|&index| text.is_char_boundary(index))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_shortened_on_a_character_boundary() {
        assert_eq!(shorten("héllo".to_owned(), 2), "h…");
        assert_eq!(shorten("ok".to_owned(), 2), "ok");
    }

    #[test]
    fn an_ended_call_is_marked() {
        let response = ended_early("x".to_owned(), CallHistory::default());
        assert!(matches!(
            response
                .extensions()
                .get::<Verdict>()
                .map(|verdict| &verdict.kind),
            Some(VerdictKind::EndedEarly { .. })
        ));
    }

    #[test]
    fn only_an_attempt_that_may_have_run_counts_as_such() {
        let answered =
            |status: u16, requested_delay: Option<std::time::Duration>| AttemptOutcome::Response {
                status: reqwest::StatusCode::from_u16(status).expect("a status"),
                requested_delay,
            };
        assert!(may_have_taken_effect(answered(502, None)));
        assert!(may_have_taken_effect(answered(503, None)));
        assert!(!may_have_taken_effect(answered(
            503,
            Some(std::time::Duration::from_secs(1))
        )));
        assert!(!may_have_taken_effect(answered(429, None)));
        assert!(may_have_taken_effect(AttemptOutcome::FailedAfterSending));
        assert!(!may_have_taken_effect(AttemptOutcome::ConnectionFailed));
    }

    #[test]
    fn any_json_error_body_gives_a_problem_field_by_field() {
        let status = reqwest::StatusCode::BAD_REQUEST;
        let problem = problem_from_json(
            &serde_json::json!({"status": "error", "message": "Account not found"}),
            status,
        );
        assert_eq!(problem.message.as_deref(), Some("Account not found"));
        assert_eq!(
            problem.status, None,
            "a text status is dropped, not the body"
        );
        let problem = problem_from_json(
            &serde_json::json!({"message": ["name is empty", "id is not a UUID"], "error": "Bad Request"}),
            status,
        );
        assert_eq!(
            problem.message.as_deref(),
            Some("name is empty; id is not a UUID")
        );
        let problem = problem_from_json(
            &serde_json::json!({"detail": [{"msg": "field required"}], "request_id": 7}),
            status,
        );
        assert_eq!(problem.detail.as_deref(), Some("field required"));
        assert_eq!(problem.request_id.as_deref(), Some("7"));
        let problem = problem_from_json(&serde_json::json!("Account not found"), status);
        assert_eq!(
            problem.detail.as_deref(),
            Some("Account not found"),
            "a JSON text, without its quotes"
        );
    }
}
