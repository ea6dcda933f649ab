//! The hand-written behaviour of every generated operation, attached through
//! progenitor's `ClientHooks`: the wire headers and required fields (`pre`);
//! the call engine (`exec`: rate limiting, retries, redirects, error bodies,
//! body checks and spans, in `crate::engine`); and the one place that turns
//! what the engine concluded into an error (`post`). Nothing here knows any
//! operation by name: an operation added to the spec gets all of it.
//!
//! `exec` ends every call with a response. When it carries a
//! [`Verdict`](crate::error::Verdict), `post` hands it on inside progenitor's
//! `UnexpectedResponse`, and `sonoran_cms::Error::from` reads it back.

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};

use crate::Client;
use crate::Operation;
use crate::engine::{CallTarget, check_path, execute, made_up_response, set_headers};
use crate::error::{CallHistory, Verdict, VerdictKind};
use crate::state::ClientState;

impl ClientHooks<ClientState> for Client {
    /// Refuses a request that names none of a required group of fields, whose
    /// path values would take it to another route (`..`), or that comes from
    /// a call view whose options cannot be used; then sets
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
        let settings = &self.inner().settings;
        if let Some(refusal) = &settings.refused_options {
            return Err(Error::InvalidRequest(refusal.clone()));
        }
        crate::requirements::check(operation.as_str(), operation.spec().one_of, request)
            .map_err(Error::InvalidRequest)?;
        check_path(settings, request.url(), operation.path()).map_err(Error::InvalidRequest)?;
        let headers = request.headers_mut();
        headers.remove("api-version");
        set_headers(settings, headers);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let settings = &self.inner().settings;
        match operation_of(info) {
            Ok(operation) => {
                let target = CallTarget::operation(operation, settings);
                Ok(execute(settings, self.client(), request, &target).await)
            }
            // `pre` refused it already; never sent.
            Err(reason) => Ok(made_up_response(Verdict {
                kind: VerdictKind::EndedEarly { reason },
                history: CallHistory::default(),
            })),
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
