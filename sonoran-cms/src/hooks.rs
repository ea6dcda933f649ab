//! The hand-written behaviour of every generated operation, attached through
//! progenitor's `ClientHooks`: the wire headers (`pre`), rate limiting, retries and
//! error-body normalisation (`exec`), and calls that end without a response (`post`).
//! Nothing here knows any operation by name: an operation added to the spec gets
//! all of it.

use std::time::SystemTime;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{self, HeaderValue};
use tokio::time::Instant;

use crate::Client;
use crate::config::{ClientState, USER_AGENT};
use crate::error::DEADLINE_PREFIX;
use crate::rate_limit::shared_limiter;
use crate::retry::{AttemptOutcome, requested_delay, retry_delay};
use crate::types::Problem;

/// Marks a response our `exec` made up because the call had to end without one;
/// `post` turns it into an error before the generated code looks at the status.
#[derive(Debug, Clone)]
struct CallEndedEarly {
    reason: String,
}

/// Marks a success answer whose body does not fit the operation's type; `post`
/// turns it into an error that keeps the status, headers, raw body and where the
/// body did not fit (see `crate::decode`).
#[derive(Debug, Clone)]
pub(crate) struct BodyDidNotFit {
    pub(crate) failure: crate::decode::DecodeFailure,
    pub(crate) body: Vec<u8>,
}

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
        crate::requirements::check(info.operation_id, request).map_err(Error::InvalidRequest)?;
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
        execute(self.inner(), self.client(), request, info.operation_id).await
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        let Ok(response) = result else {
            return Ok(());
        };
        if let Some(ended) = response.extensions().get::<CallEndedEarly>() {
            return Err(Error::Custom(format!("{DEADLINE_PREFIX}{}", ended.reason)));
        }
        if let Some(did_not_fit) = response.extensions().get::<BodyDidNotFit>() {
            // progenitor's error for "not the answer the spec describes" carries a
            // whole response: a copy of this one, with the failure attached, lets
            // `sonoran_cms::Error` report status, request id, path and body.
            let mut copy = http::Response::new(did_not_fit.body.clone());
            *copy.status_mut() = response.status();
            *copy.version_mut() = response.version();
            *copy.headers_mut() = response.headers().clone();
            copy.extensions_mut().insert(did_not_fit.clone());
            return Err(Error::UnexpectedResponse(reqwest::Response::from(copy)));
        }
        Ok(())
    }
}

/// Sends one call: waits for a rate-limit slot, sends, retries as the policy
/// allows, and keeps the whole call within its deadline.
async fn execute(
    state: &ClientState,
    http_client: &reqwest::Client,
    request: reqwest::Request,
    operation: &'static str,
) -> reqwest::Result<reqwest::Response> {
    let settings = &state.settings;
    let deadline = Instant::now() + settings.deadline;
    let limiter = settings.rate_limits.limit_for(operation).map(|limit| {
        shared_limiter(
            settings.api_key.authorization().as_bytes(),
            &settings.base_url,
            operation,
            limit,
        )
    });
    let method = request.method().clone();
    let mut original = Some(request);
    let mut retries_done = 0;

    loop {
        let mut permit = match &limiter {
            Some(limiter) => match limiter.acquire(Some(deadline)).await {
                Ok(permit) => Some(permit),
                Err(refused) => {
                    let when = refused.opens_in.map_or_else(
                        || "later".to_owned(),
                        |opens_in| format!("in {:.1} s", opens_in.as_secs_f64()),
                    );
                    return Ok(ended_early(format!(
                        "the rate limit of `{operation}` has no free slot before the deadline (next slot {when})"
                    )));
                }
            },
            None => None,
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Ok(ended_early(format!(
                "{:.1} s passed",
                settings.deadline.as_secs_f64()
            )));
        }

        // Keep the original for another attempt while it can be copied (a JSON body can).
        let Some(current) = original.take() else {
            return Ok(ended_early("no request left to send".to_owned()));
        };
        let mut attempt = match current.try_clone() {
            Some(copy) => {
                original = Some(current);
                copy
            }
            None => current,
        };
        *attempt.timeout_mut() = Some(settings.timeout.min(remaining));

        if let Some(permit) = &mut permit {
            permit.mark_sent();
        }
        tracing::debug!(operation, attempt = retries_done + 1, "sending request");
        let sent = match &settings.transport {
            Some(transport) => transport.execute(attempt).await,
            None => http_client.execute(attempt).await,
        };
        let result = match sent {
            Ok(response)
                if response.status().is_client_error() || response.status().is_server_error() =>
            {
                with_problem_body(response).await
            }
            Ok(response) if response.status().is_success() => {
                with_body_checked(response, operation).await
            }
            other => other,
        };
        // The request is over (its error body read): from here it counts for a window.
        drop(permit);

        let outcome = match &result {
            Ok(response) => AttemptOutcome::Response {
                status: response.status(),
                requested_delay: requested_delay(response.headers(), SystemTime::now()),
            },
            Err(error) if error.is_connect() => AttemptOutcome::ConnectionFailed,
            Err(_) => AttemptOutcome::FailedAfterSending,
        };
        let delay = retry_delay(
            &settings.retry_policy,
            &method,
            outcome,
            retries_done,
            fastrand::f64(),
        )
        .filter(|_| original.is_some())
        .filter(|delay| Instant::now() + *delay < deadline);
        let Some(delay) = delay else {
            return result;
        };
        tracing::info!(
            operation,
            ?outcome,
            delay_seconds = delay.as_secs_f64(),
            "retrying"
        );
        tokio::time::sleep(delay).await;
        retries_done += 1;
    }
}

/// A response standing for "the call ended before it could be answered".
fn ended_early(reason: String) -> reqwest::Response {
    tracing::warn!(%reason, "call ended without a response");
    let mut response = http::Response::new(Vec::<u8>::new());
    *response.status_mut() = reqwest::StatusCode::GATEWAY_TIMEOUT;
    response.extensions_mut().insert(CallEndedEarly { reason });
    reqwest::Response::from(response)
}

/// Reads a success answer's body and checks it against the operation's type;
/// one that does not fit is marked ([`BodyDidNotFit`]) for `post`. Operations
/// without a JSON success body pass untouched.
async fn with_body_checked(
    response: reqwest::Response,
    operation: &str,
) -> reqwest::Result<reqwest::Response> {
    if crate::generated_bodies::OPERATIONS_WITH_SUCCESS_BODY
        .binary_search(&operation)
        .is_err()
    {
        return Ok(response);
    }
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    let failure =
        crate::generated_bodies::check_success_body(operation, &body).and_then(Result::err);
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    if let Some(failure) = failure {
        tracing::warn!(operation, %status, %failure, "the answer does not fit the operation's type");
        let body = rebuilt.body().to_vec();
        rebuilt
            .extensions_mut()
            .insert(BodyDidNotFit { failure, body });
    }
    Ok(reqwest::Response::from(rebuilt))
}

/// Reads an error response's body and, when it is not a JSON problem (plain text,
/// HTML from a proxy, nothing at all), replaces it with one that carries the
/// status, its reason and the text as `detail`. Every error then reaches the
/// caller typed, with its status and headers, instead of as a decoding failure.
async fn with_problem_body(response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    let body = response.bytes().await?;
    let body = if serde_json::from_slice::<Problem>(&body).is_ok() {
        body
    } else {
        let text = String::from_utf8_lossy(&body).trim().to_owned();
        let problem = Problem {
            status: Some(i64::from(status.as_u16())),
            title: status.canonical_reason().map(str::to_owned),
            detail: (!text.is_empty()).then(|| shorten(text, 2_000)),
            ..Problem::default()
        };
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::TRANSFER_ENCODING);
        serde_json::to_vec(&problem).unwrap_or_default().into()
    };
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
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
        let response = ended_early("x".to_owned());
        assert!(response.extensions().get::<CallEndedEarly>().is_some());
    }
}
