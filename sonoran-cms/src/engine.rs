//! The call engine: one call, a generated operation's or a raw one, from its
//! prepared request to the response it ends with. It waits for a rate-limit
//! slot, sends, retries as the policy allows, keeps the whole call within its
//! deadline, reads the answer as the call expects it, and records each call
//! and each attempt as a `tracing` span. Every kind of call reaches it through
//! one typed description, [`CallTarget`].
//!
//! A call ends with a response. When the call failed in a way the caller's
//! code would report poorly (an error body, a redirect, a body that does not
//! fit, a deadline, a failure after earlier attempts), the response carries a
//! [`Verdict`], which `sonoran_cms::Error` reads back, so the error keeps the
//! status, headers, raw body and every earlier attempt.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

use crate::Operation;
use crate::decode::NotDecoded;
use crate::error::{Attempt, AttemptReach, CallHistory, Verdict, VerdictKind, header_request_id};
use crate::rate_limit::{AcquireError, HeldSlot, RateLimit, SlotRequest};
use crate::retry::{AttemptOutcome, requested_delay, retry_delay};
use crate::spec::{DecodedAnswer, OperationSemantics, SuccessBody};
use crate::state::{Settings, USER_AGENT};
use crate::types::Problem;

/// Everything the engine needs to know of one call: what it is called, how its
/// slots are counted and limited, what repeating it does and how its answer is
/// read. A generated operation's comes from the operation table
/// ([`CallTarget::operation`]); a raw call's from its route (`crate::raw`).
#[derive(Debug, Clone)]
pub(crate) struct CallTarget {
    /// The documented operation, when the call is one (a raw call on a
    /// documented route is).
    pub(crate) operation: Option<Operation>,
    /// Whether the call is a raw one (`Client::raw`).
    pub(crate) raw: bool,
    /// The key of the rate-limit count, and the call's name in spans and
    /// messages: the operation's Rust name (also for a raw call on its
    /// route), or a raw route's `raw:METHOD:/path/*`.
    pub(crate) count_key: Cow<'static, str>,
    /// The route with its values as `{name}` placeholders (OpenTelemetry's
    /// `url.template`): what spans and messages name, never a value.
    pub(crate) url_template: Cow<'static, str>,
    /// Whether it is safe and idempotent.
    pub(crate) semantics: OperationSemantics,
    /// The limit it admits against, if any.
    pub(crate) limit: Option<RateLimit>,
    /// How its success answer is read.
    pub(crate) answer: AnswerShape,
}

/// How a success answer is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AnswerShape {
    /// Checked and decoded as the operation's type; `None` for an operation
    /// without a JSON success body.
    Typed(Option<SuccessBody>),
    /// Any JSON (an empty body is `null`), decoded as a `serde_json::Value`.
    AnyJson,
}

impl CallTarget {
    /// A generated operation's call, limited as the client's rate limits say.
    pub(crate) fn operation(operation: Operation, settings: &Settings) -> Self {
        let spec = operation.spec();
        Self {
            operation: Some(operation),
            raw: false,
            count_key: Cow::Borrowed(operation.as_str()),
            url_template: Cow::Borrowed(operation.path()),
            semantics: spec.semantics,
            limit: settings.rate_limits.limit_for(operation),
            answer: AnswerShape::Typed(spec.success_body),
        }
    }
}

/// Sets exactly the headers the official SDKs send, plus `User-Agent` and the
/// caller's extra headers (the client's, then a call view's), on any request.
pub(crate) fn set_headers(settings: &Settings, headers: &mut HeaderMap) {
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
}

/// Refuses a request whose URL path is not `route` (an operation's path
/// template) under the base URL with one non-empty segment for each value. A
/// path value that is empty, `.` or `..`, or holds `\` (which URL parsers
/// read as `/`) would otherwise send the request to another route.
pub(crate) fn check_path(
    settings: &Settings,
    url: &reqwest::Url,
    route: &str,
) -> Result<(), String> {
    let sent = url
        .path()
        .strip_prefix(settings.base_path.as_str())
        .unwrap_or_default();
    let (mut sent, mut route_segments) = (sent.split('/'), route.split('/'));
    loop {
        match (sent.next(), route_segments.next()) {
            (None, None) => return Ok(()),
            (Some(value), Some(placeholder)) if placeholder.starts_with('{') => {
                if value.is_empty() {
                    break;
                }
            }
            (Some(text), Some(literal)) if text == literal => {}
            _ => break,
        }
    }
    Err(format!(
        "a path value of `{route}` is empty, `.` or `..`, or holds `\\`, so the request would reach another route; nothing was sent"
    ))
}

/// Why an attempt ended without an answer.
enum AttemptError {
    /// The HTTP client or the caller's transport failed.
    Http(reqwest::Error),
    /// No whole answer (status and body) within the attempt's time: its
    /// timeout, or what remained of the call's deadline.
    TimedOut { after: Duration },
}

/// An attempt that was sent (or tried to be), and how it ended.
struct SentAttempt {
    result: Result<reqwest::Response, AttemptError>,
    outcome: AttemptOutcome,
    followed_redirect: bool,
    /// OpenTelemetry's `error.type` for it, when it failed (recorded on its
    /// span, and on the call's when it is the last).
    error_type: Option<Cow<'static, str>>,
}

/// A call that ends before sending (another) attempt: what its error says,
/// and OpenTelemetry's `error.type` for it.
struct EndedBeforeSending {
    kind: VerdictKind,
    error_type: &'static str,
}

/// What the call engine shares with each of its attempts.
struct CallContext<'a> {
    settings: &'a Settings,
    http_client: &'a reqwest::Client,
    target: &'a CallTarget,
    deadline: Instant,
    /// The least time an attempt that follows a wait (for a slot or a retry
    /// delay) must have to be sent: one sent with milliseconds left would run
    /// on the server while the client reports a timeout.
    min_attempt_time: Duration,
    /// A caller's `Transport` may rewrite URLs (a proxy, a recorder): a changed
    /// URL then says nothing about redirects.
    watch_for_followed_redirects: bool,
}

impl CallContext<'_> {
    /// The most an attempt that begins at `start` may take: its timeout, or
    /// what remains of the call's deadline when that is shorter.
    fn attempt_time(&self, start: Instant) -> Duration {
        self.settings
            .timeout
            .min(self.deadline.saturating_duration_since(start))
    }
}

/// Sends one call: waits for a rate-limit slot, sends, retries as the policy
/// allows, keeps the whole call within its deadline, and puts a [`Verdict`] on
/// the response it ends with when that is an error.
///
/// Every wait is bounded by the deadline: the rate limiter (whatever backend),
/// the transport (the HTTP client or a caller's [`Transport`](crate::testing::Transport))
/// and every body read, each attempt by the shorter of its timeout and what
/// remains of the call.
///
/// The call is a `sonoran_cms.call` span (the waits for slots happen in it),
/// and each attempt that is sent a `sonoran_cms.attempt` span inside it (an
/// HTTP client span: the exchange only), with OpenTelemetry's HTTP field
/// names; they carry the route's template, the host and port, never the key,
/// a path value or a query value.
pub(crate) async fn execute(
    settings: &Settings,
    http_client: &reqwest::Client,
    request: reqwest::Request,
    target: &CallTarget,
) -> reqwest::Response {
    let call_span = call_span(target, &request);
    run_call(settings, http_client, request, target)
        .instrument(call_span)
        .await
}

async fn run_call(
    settings: &Settings,
    http_client: &reqwest::Client,
    request: reqwest::Request,
    target: &CallTarget,
) -> reqwest::Response {
    let context = CallContext {
        settings,
        http_client,
        target,
        deadline: crate::time::after(Instant::now(), settings.deadline),
        min_attempt_time: settings.min_attempt_time(),
        watch_for_followed_redirects: settings.transport.is_none(),
    };
    let mut original = Some(request);
    let mut sent_attempts: u32 = 0;
    let mut retry_reason: Option<String> = None;
    let mut waited_for_slots = Duration::ZERO;
    let mut history = CallHistory {
        changes_state: !target.semantics.safe,
        idempotent: target.semantics.idempotent,
        ..CallHistory::default()
    };

    // What the call's span says of how it ended: whether the response is the
    // last attempt's answer (its status and request id are recorded), and the
    // error's type.
    let (response, answered, error_type) = loop {
        let waiting_since = Instant::now();
        let ready = ready_to_send(&context).await;
        let waited = waiting_since.elapsed();
        waited_for_slots += waited;
        let (permit, checked_at) = match ready {
            Ok(ready) => ready,
            Err(ended) => {
                break (
                    ended_before_sending(ended.kind, history),
                    false,
                    Some(Cow::Borrowed(ended.error_type)),
                );
            }
        };
        let Some(request) = next_request(&mut original) else {
            let kind = VerdictKind::EndedEarly {
                reason: "no request left to send".to_owned(),
            };
            break (
                ended_before_sending(kind, history),
                false,
                Some(Cow::Borrowed("timeout")),
            );
        };
        let span = attempt_span(
            target,
            &request,
            sent_attempts,
            retry_reason.as_deref(),
            waited,
        );
        let attempt = send_attempt(&context, request, permit, checked_at, &span)
            .instrument(span.clone())
            .await;
        sent_attempts += 1;
        let SentAttempt {
            result,
            outcome,
            followed_redirect,
            error_type,
        } = attempt;

        let delay = retry_delay(
            &settings.retry_policy,
            target.semantics.idempotent,
            outcome,
            sent_attempts - 1,
            fastrand::f64(),
        )
        .filter(|_| original.is_some())
        .filter(|_| !followed_redirect)
        // A retry must leave its attempt the minimum attempt time.
        .filter(|delay| {
            crate::time::after(
                Instant::now(),
                delay.saturating_add(context.min_attempt_time),
            ) <= context.deadline
                && crate::time::after(Instant::now(), *delay) < context.deadline
        });
        let Some(delay) = delay else {
            history.last_attempt = Some(if followed_redirect {
                AttemptReach::OutcomeUnknown
            } else {
                reach(outcome)
            })
            .filter(|reach| *reach != AttemptReach::Answered);
            let answered = result.is_ok();
            break (with_verdict(result, history), answered, error_type);
        };
        let record = attempt_record(&result, outcome);
        tracing::info!(
            reason = %record.outcome,
            delay_seconds = delay.as_secs_f64(),
            "retrying"
        );
        retry_reason = Some(record.outcome.clone());
        history.earlier_attempts.push(record);
        tokio::time::sleep(delay).await;
    };

    let span = tracing::Span::current();
    span.record(
        "sonoran_cms.rate_limit.wait_seconds",
        waited_for_slots.as_secs_f64(),
    );
    if sent_attempts > 1 {
        span.record("http.request.resend_count", i64::from(sent_attempts - 1));
    }
    record_outcome(&span, answered.then_some(&response), error_type.as_deref());
    response
}

/// The request of the next attempt, keeping the original for another one
/// while it can be copied (a JSON body can).
fn next_request(original: &mut Option<reqwest::Request>) -> Option<reqwest::Request> {
    let current = original.take()?;
    match current.try_clone() {
        Some(copy) => {
            *original = Some(current);
            Some(copy)
        }
        None => Some(current),
    }
}

/// Records on `span` how a call or an attempt ended: the answer's status and
/// request id when an answer came, and when it failed, the error's type.
///
/// Integers go on spans as `i64` (here and in the span macros): OpenTelemetry's
/// attributes have no unsigned type, and `tracing-opentelemetry` exports an
/// unsigned field as text, where `http.response.status_code` must be an integer.
fn record_outcome(
    span: &tracing::Span,
    answer: Option<&reqwest::Response>,
    error_type: Option<&str>,
) {
    // Nothing listens: reading the request id would be work for nobody.
    if span.is_disabled() {
        return;
    }
    if let Some(answer) = answer {
        span.record(
            "http.response.status_code",
            i64::from(answer.status().as_u16()),
        );
        if let Some(request_id) = header_request_id(answer.headers()) {
            span.record("sonoran_cms.request_id", request_id.as_str());
        }
    }
    if let Some(error_type) = error_type {
        span.record("error.type", error_type);
        span.record("otel.status_code", "ERROR");
    }
}

/// OpenTelemetry's `http.request.method`: the method when it is one of HTTP's
/// own, `_OTHER` otherwise (its text then goes in `http.request.method_original`).
fn method_name(method: &reqwest::Method) -> &'static str {
    use reqwest::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}

/// A span of the engine (`$name`) with the fields a call's span and an
/// attempt's share: the route (method, `url.template`, server), the operation,
/// and those recorded when it ends (status, request id, `error.type`,
/// `otel.status_code`); each span's own fields follow. `tracing`'s span macros
/// take their field names as written, so the shared ones are written here once.
macro_rules! route_span {
    ($name:literal, $target:expr, $request:expr, $($own_fields:tt)*) => {{
        let target: &CallTarget = $target;
        let request: &reqwest::Request = $request;
        let url = request.url();
        let method = method_name(request.method());
        tracing::info_span!(
            $name,
            otel.status_code = Empty,
            sonoran_cms.operation = target.operation.map(Operation::as_str),
            sonoran_cms.raw = target.raw,
            http.request.method = method,
            http.request.method_original = (method == "_OTHER").then(|| request.method().as_str()),
            url.template = target.url_template.as_ref(),
            server.address = url.host_str().unwrap_or_default(),
            server.port = url.port_or_known_default().map(i64::from),
            http.response.status_code = Empty,
            sonoran_cms.request_id = Empty,
            error.type = Empty,
            $($own_fields)*
        )
    }};
}

/// The call's span: the operation (or raw route), with the method, the
/// route's template and the server. The `url.template` is the API's route
/// (from `/v2`), without a gateway's path prefix in the base URL; `url.full`
/// is left out on purpose, since it would carry path and query values.
fn call_span(target: &CallTarget, request: &reqwest::Request) -> tracing::Span {
    route_span!(
        "sonoran_cms.call",
        target,
        request,
        otel.name = target.count_key.as_ref(),
        otel.kind = "internal",
        http.request.resend_count = Empty,
        sonoran_cms.rate_limit.wait_seconds = Empty,
    )
}

/// One sent attempt's span: an HTTP client span as OpenTelemetry names it
/// (`GET /v2/community/servers`; `HTTP` for another method), with the resend
/// count and why it was resent (on resends only), and how long it waited for
/// its slot before it began.
fn attempt_span(
    target: &CallTarget,
    request: &reqwest::Request,
    resends: u32,
    retry_reason: Option<&str>,
    waited_for_slot: Duration,
) -> tracing::Span {
    let span_name = match method_name(request.method()) {
        "_OTHER" => "HTTP",
        method => method,
    };
    route_span!(
        "sonoran_cms.attempt",
        target,
        request,
        otel.name = %format_args!("{span_name} {}", target.url_template),
        otel.kind = "client",
        http.request.resend_count = (resends > 0).then_some(i64::from(resends)),
        sonoran_cms.retry_reason = retry_reason,
        sonoran_cms.rate_limit.wait_seconds = waited_for_slot.as_secs_f64(),
    )
}

/// Waits for the next attempt's slot (none when the call has no limit), and
/// checks that the deadline leaves time to send: the slot, and the instant
/// at which time was left (the attempt's time is counted from there).
///
/// An attempt is sent only with at least the minimum attempt time left (only
/// a wait, for a slot or before a retry, can leave less): otherwise the call
/// ends before sending, and the slot is given back.
async fn ready_to_send(
    context: &CallContext<'_>,
) -> Result<(Option<Box<dyn HeldSlot>>, Instant), EndedBeforeSending> {
    let CallContext {
        settings,
        target,
        deadline,
        min_attempt_time,
        ..
    } = *context;
    let asked_at = Instant::now();
    let permit = match target.limit {
        Some(limit) => Some(acquire_slot(context, limit).await?),
        None => None,
    };
    let checked_at = Instant::now();
    let left = deadline.saturating_duration_since(checked_at);
    if left.is_zero() {
        return Err(EndedBeforeSending {
            kind: VerdictKind::EndedEarly {
                reason: format!("{:.1} s passed", settings.deadline.as_secs_f64()),
            },
            error_type: "timeout",
        });
    }
    // The minimum is at most half the deadline, so an attempt that did not
    // wait always has it: only waiting (for a slot, or before a retry) can
    // leave less.
    if left < min_attempt_time {
        // Dropped unsent: the slot is given back.
        drop(permit);
        let reason = format!(
            "{} ms of the deadline were left after waiting {} ms, less than the minimum attempt time ({} ms)",
            left.as_millis(),
            checked_at.saturating_duration_since(asked_at).as_millis(),
            min_attempt_time.as_millis()
        );
        return Err(match target.limit {
            Some(_) => EndedBeforeSending {
                kind: VerdictKind::RateLimited {
                    opens_in: None,
                    reason: format!(
                        "the rate limit of `{}` left no time to send: {reason}",
                        target.count_key
                    ),
                },
                error_type: "rate_limit",
            },
            None => EndedBeforeSending {
                kind: VerdictKind::EndedEarly { reason },
                error_type: "timeout",
            },
        });
    }
    Ok((permit, checked_at))
}

/// Sends one attempt on its slot, within the attempt's time (from
/// `checked_at`, when time was left), reads its answer as the call expects it,
/// and records how it ended on `span` (the attempt's own, even when a
/// subscriber leaves it out: then nothing is recorded).
async fn send_attempt(
    context: &CallContext<'_>,
    mut attempt: reqwest::Request,
    mut permit: Option<Box<dyn HeldSlot>>,
    checked_at: Instant,
    span: &tracing::Span,
) -> SentAttempt {
    let CallContext {
        settings,
        http_client,
        target,
        watch_for_followed_redirects,
        ..
    } = *context;
    let attempt_time = context.attempt_time(checked_at);
    let attempt_deadline = crate::time::after(checked_at, attempt_time);
    *attempt.timeout_mut() = Some(attempt_time);
    let sent_url = attempt.url().clone();

    if let Some(permit) = &mut permit {
        permit.mark_sent();
    }
    tracing::debug!("sending request");
    // The exchange, from sending to the end of what is read of the body,
    // within the attempt's time whoever sends it.
    let exchange = async {
        let response = match &settings.transport {
            Some(transport) => transport.execute(attempt).await,
            None => http_client.execute(attempt).await,
        }?;
        let followed_redirect = watch_for_followed_redirects
            && !target.semantics.safe
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
        Ok((read_answer(response, target).await?, false))
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

    let error_type = attempt_error_type(&result);
    record_outcome(span, result.as_ref().ok(), error_type.as_deref());
    SentAttempt {
        result,
        outcome,
        followed_redirect,
        error_type,
    }
}

/// Waits for a slot under `limit`, within the deadline.
async fn acquire_slot(
    context: &CallContext<'_>,
    limit: RateLimit,
) -> Result<Box<dyn HeldSlot>, EndedBeforeSending> {
    let CallContext {
        settings,
        target,
        deadline,
        min_attempt_time,
        ..
    } = *context;
    // The longest this attempt may take once admitted: the backend keeps
    // its reservation at least that long, and the attempt is cut off there.
    let longest_attempt = context.attempt_time(Instant::now());
    // A slot is of use only while the minimum attempt time is left after it.
    let last_useful_slot = deadline.checked_sub(min_attempt_time).unwrap_or(deadline);
    let request = SlotRequest {
        credential: &settings.credential,
        base_url: &settings.base_url,
        operation: &target.count_key,
        limit,
        documented: target.operation.map(Operation::documented_rate_limit),
        deadline: last_useful_slot.max(Instant::now()),
        longest_attempt,
    };
    // A backend must give up at the deadline; one that does not (a caller's
    // own) is cut off there all the same.
    let acquired = tokio::time::timeout_at(deadline, settings.rate_limit_backend.acquire(request))
        .await
        .unwrap_or_else(|_| {
            Err(AcquireError::Unavailable {
                message: "the rate-limit backend did not answer before the call's deadline"
                    .to_owned(),
            })
        });
    acquired.map_err(|error| match error {
        AcquireError::NoSlotBeforeDeadline { opens_in } => {
            let when = opens_in.map_or_else(
                || "later".to_owned(),
                |opens_in| format!("in {:.1} s", opens_in.as_secs_f64()),
            );
            EndedBeforeSending {
                kind: VerdictKind::RateLimited {
                    opens_in,
                    reason: format!(
                        "the rate limit of `{}` has no free slot before the deadline (next slot {when})",
                        target.count_key
                    ),
                },
                error_type: "rate_limit",
            }
        }
        AcquireError::Unavailable { message } => {
            tracing::warn!(%message, "the rate limiter is unavailable");
            EndedBeforeSending {
                kind: VerdictKind::LimiterUnavailable { reason: message },
                error_type: "rate_limiter_unavailable",
            }
        }
    })
}

/// OpenTelemetry's `error.type` of an attempt (and of a call that ended with
/// it): for an error answer its status code, otherwise a short fixed word
/// (`api_error` for a success status whose envelope says it failed), the one
/// the error's kind says (`connect` for `Error::Connect`, ...).
fn attempt_error_type(
    result: &Result<reqwest::Response, AttemptError>,
) -> Option<Cow<'static, str>> {
    let word = match result {
        Ok(response) => {
            let status = response.status();
            match &response.extensions().get::<Verdict>()?.kind {
                VerdictKind::ErrorAnswer { .. } if status.is_success() => "api_error",
                VerdictKind::ErrorAnswer { .. } => {
                    return Some(Cow::Owned(status.as_u16().to_string()));
                }
                VerdictKind::BodyDidNotFit { .. } => "invalid_response",
                VerdictKind::Redirected { .. } => "redirect",
                VerdictKind::EndedEarly { .. } => "timeout",
                VerdictKind::RateLimited { .. } => "rate_limit",
                VerdictKind::LimiterUnavailable { .. } => "rate_limiter_unavailable",
                VerdictKind::TransportFailed { .. } => "transport",
            }
        }
        Err(AttemptError::TimedOut { .. }) => "timeout",
        // As `Error::from_reqwest` sorts them.
        Err(AttemptError::Http(error)) if error.is_connect() => "connect",
        Err(AttemptError::Http(error)) if error.is_timeout() => "timeout",
        Err(AttemptError::Http(_)) => "transport",
    };
    Some(Cow::Borrowed(word))
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
pub(crate) fn made_up_response(verdict: Verdict) -> reqwest::Response {
    let mut response = http::Response::new(Vec::<u8>::new());
    *response.status_mut() = reqwest::StatusCode::GATEWAY_TIMEOUT;
    response.extensions_mut().insert(verdict);
    reqwest::Response::from(response)
}

/// A response standing for a call that ended before it could be (further)
/// answered: the deadline, no slot, or no rate limiter.
fn ended_before_sending(kind: VerdictKind, history: CallHistory) -> reqwest::Response {
    if let VerdictKind::EndedEarly { reason } = &kind {
        tracing::warn!(%reason, "call ended without a response");
    }
    made_up_response(Verdict { kind, history })
}

/// Reads an answer as far as the verdict needs: an error status's body (kept as
/// received, and as a problem), a redirect's `Location`, a success body read
/// as the call expects it.
async fn read_answer(
    response: reqwest::Response,
    target: &CallTarget,
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
        return match target.answer {
            AnswerShape::Typed(Some(success_body)) => {
                with_body_checked(response, success_body, target).await
            }
            AnswerShape::Typed(None) => Ok(response),
            AnswerShape::AnyJson => with_json_read(response).await,
        };
    }
    Ok(response)
}

/// Reads a raw call's success answer as any JSON (an empty body is `null`). An
/// envelope that says `"success": false` is an error whatever the status, as
/// for every operation; a body that is not JSON gets a verdict saying where.
async fn with_json_read(response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let (head, body) = read_whole(response).await?;
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(serde_json::Value::Null)
    } else {
        serde_json::from_slice::<serde_json::Value>(&body)
    };
    let (kind, decoded) = match parsed {
        Ok(json) if says_failure(&json) => (
            Some(VerdictKind::ErrorAnswer {
                problem: problem_from_json(&json, head.status),
                body: body.clone(),
            }),
            None,
        ),
        Ok(json) => (None, Some(json)),
        Err(error) => {
            let failure = crate::decode::failure(&body, ".".to_owned(), &error);
            (
                Some(VerdictKind::BodyDidNotFit {
                    failure,
                    expected: "JSON",
                    body: body.clone(),
                }),
                None,
            )
        }
    };
    let mut rebuilt = rebuilt(head, body, kind);
    if let Some(json) = decoded {
        rebuilt
            .extensions_mut()
            .insert(DecodedAnswer::new(Box::new(json)));
    }
    Ok(rebuilt)
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
/// fit gets a verdict naming the JSON path of what does not fit.
async fn with_body_checked(
    response: reqwest::Response,
    success_body: SuccessBody,
    target: &CallTarget,
) -> reqwest::Result<reqwest::Response> {
    let (head, body) = read_whole(response).await?;
    let status = head.status;
    let (kind, decoded) = match (success_body.decode)(&body) {
        Ok(decoded) => (None, Some(decoded)),
        Err(not_decoded) => {
            let envelope = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .filter(|json| not_decoded == NotDecoded::SaysFailure || says_failure(json));
            let kind = match envelope {
                Some(envelope) => VerdictKind::ErrorAnswer {
                    problem: problem_from_json(&envelope, status),
                    body: body.clone(),
                },
                None => {
                    let failure = (success_body.read)(&body).err().unwrap_or_else(|| {
                        crate::decode::DecodeFailure {
                            path: ".".to_owned(),
                            message: "serde could not read it as the operation's type".to_owned(),
                            line: 0,
                            column: 0,
                            context: String::new(),
                        }
                    });
                    tracing::warn!(operation = target.count_key.as_ref(), %status, %failure, "the answer does not fit the operation's type");
                    VerdictKind::BodyDidNotFit {
                        failure,
                        expected: "the operation's type",
                        body: body.clone(),
                    }
                }
            };
            (Some(kind), None)
        }
    };
    let mut rebuilt = rebuilt(head, body, kind);
    if let Some(decoded) = decoded {
        rebuilt.extensions_mut().insert(DecodedAnswer::new(decoded));
    }
    Ok(rebuilt)
}

/// What comes before an answer's body: its status line and headers.
struct AnswerHead {
    status: reqwest::StatusCode,
    version: http::Version,
    headers: HeaderMap,
}

/// Reads an answer to the end of its body, keeping its head (the headers are
/// moved, not copied).
async fn read_whole(
    mut response: reqwest::Response,
) -> reqwest::Result<(AnswerHead, bytes::Bytes)> {
    let head = AnswerHead {
        status: response.status(),
        version: response.version(),
        headers: std::mem::take(response.headers_mut()),
    };
    Ok((head, response.bytes().await?))
}

/// Whether a JSON envelope says the call failed (`"success": false`), which
/// is an error whatever the status.
fn says_failure(json: &serde_json::Value) -> bool {
    json.get("success") == Some(&serde_json::Value::Bool(false))
}

/// A response whose body was read, rebuilt with `body` (and with a verdict,
/// when there is one) for the generated code and `post`.
fn rebuilt(
    head: AnswerHead,
    body: impl Into<reqwest::Body>,
    kind: Option<VerdictKind>,
) -> reqwest::Response {
    let mut rebuilt = http::Response::new(body.into());
    *rebuilt.status_mut() = head.status;
    *rebuilt.version_mut() = head.version;
    *rebuilt.headers_mut() = head.headers;
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
    let (head, body) = read_whole(response).await?;
    let status = head.status;
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
        head,
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
    if let Ok(problem) = crate::objects_only::from_value::<Problem>(json) {
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
        let kind = VerdictKind::EndedEarly {
            reason: "x".to_owned(),
        };
        let response = ended_before_sending(kind, CallHistory::default());
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
        let answered = |status: u16, requested_delay: Option<Duration>| AttemptOutcome::Response {
            status: reqwest::StatusCode::from_u16(status).expect("a status"),
            requested_delay,
        };
        assert!(may_have_taken_effect(answered(502, None)));
        assert!(may_have_taken_effect(answered(503, None)));
        assert!(!may_have_taken_effect(answered(
            503,
            Some(Duration::from_secs(1))
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
