//! Where requests go once the client has prepared them: a `reqwest::Client` by
//! default, or anything implementing [`Transport`] (an in-process fake in tests,
//! a custom stack).

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future, as [`Transport::execute`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends one fully prepared request (headers, body, per-attempt timeout set) and
/// returns the response. Retries and rate limiting happen around it, so a
/// transport sends exactly once per call.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request`.
    fn execute(
        &self,
        request: reqwest::Request,
    ) -> BoxFuture<'_, reqwest::Result<reqwest::Response>>;
}

impl Transport for reqwest::Client {
    fn execute(
        &self,
        request: reqwest::Request,
    ) -> BoxFuture<'_, reqwest::Result<reqwest::Response>> {
        Box::pin(reqwest::Client::execute(self, request))
    }
}
