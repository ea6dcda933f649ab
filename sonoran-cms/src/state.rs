//! What a client carries to every call: the key, the base URL, the timeouts,
//! the limits and retry policy, the rate-limit backend and the transport,
//! checked once by the builder (`config`) and read by the hooks. The generated
//! client holds it as its inner state.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::auth::ApiKey;
use crate::rate_limit::{RateLimitBackend, RateLimits};
use crate::retry::RetryPolicy;
use crate::transport::Transport;

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("sonoran-cms/", env!("CARGO_PKG_VERSION"));

/// What every generated operation carries to the hooks: the key, the policies and
/// where requests go. Cheap to clone; shared by clones of a [`Client`](crate::Client).
#[derive(Clone)]
pub struct ClientState {
    pub(crate) settings: Arc<Settings>,
}

#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) api_key: ApiKey,
    /// The key's fingerprint, for rate-limit backends (never the key).
    pub(crate) credential: String,
    pub(crate) base_url: String,
    /// The base URL's path without its trailing `/` (empty for a host alone,
    /// `/sonoran` for a gateway under a prefix): what every request's path
    /// starts with, before the route.
    pub(crate) base_path: String,
    pub(crate) timeout: Duration,
    pub(crate) deadline: Duration,
    /// The least time an attempt must have left to be sent, as configured
    /// (`None`: the default); see [`Settings::min_attempt_time`].
    pub(crate) min_attempt_time: Option<Duration>,
    pub(crate) extra_headers: HeaderMap,
    pub(crate) rate_limits: RateLimits,
    pub(crate) rate_limit_backend: Arc<dyn RateLimitBackend>,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) transport: Option<Arc<dyn Transport>>,
    /// Why the calls of a call view (`Client::with_options`) are refused
    /// before sending: an option that cannot be used. `None` for a client.
    pub(crate) refused_options: Option<String>,
}

/// The default minimum attempt time, before it is halved for short deadlines.
pub(crate) const DEFAULT_MIN_ATTEMPT_TIME: Duration = Duration::from_secs(1);

impl Settings {
    /// The least time an attempt must have left to be sent: as configured
    /// (1 s by default), and at most half the call's deadline, so that short
    /// deadlines still send and an attempt that did not wait always has it.
    pub(crate) fn min_attempt_time(&self) -> Duration {
        self.min_attempt_time
            .unwrap_or(DEFAULT_MIN_ATTEMPT_TIME)
            .min(self.deadline / 2)
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.settings;
        formatter
            .debug_struct("ClientState")
            .field("api_key", &settings.api_key)
            .field("base_url", &settings.base_url)
            .field("timeout", &settings.timeout)
            .field("deadline", &settings.deadline)
            .field("min_attempt_time", &settings.min_attempt_time())
            .field(
                "extra_headers",
                &settings.extra_headers.keys().collect::<Vec<_>>(),
            )
            .field("rate_limits", &settings.rate_limits)
            .field("retry_policy", &settings.retry_policy)
            .field("custom_transport", &settings.transport.is_some())
            .field("refused_options", &settings.refused_options)
            .finish()
    }
}
