//! What a client carries to every call: the key, the base URL, the timeouts,
//! the limits and retry policy, the rate-limit backend and the transport,
//! checked once by the builder (`config`) and read by the hooks. The generated
//! client holds it as its inner state.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

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
    /// The accounts `Client::account_uuid` found, when the builder asked for
    /// a cache; shared by clones and call views.
    pub(crate) account_uuids: Option<Arc<AccountUuidCache>>,
}

/// Accounts found by identity, each kept for a time to live
/// (`ClientBuilder::cache_account_uuids`).
#[derive(Debug)]
pub(crate) struct AccountUuidCache {
    time_to_live: Duration,
    /// By identity key (`discord:123`), the account and when it was found.
    entries: Mutex<HashMap<String, (uuid::Uuid, Instant)>>,
}

impl AccountUuidCache {
    /// The most identities kept; past it, the oldest go first.
    const MOST_KEPT: usize = 10_000;

    pub(crate) fn new(time_to_live: Duration) -> Self {
        Self {
            time_to_live,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The account kept for `key`, if found less than the time to live ago.
    pub(crate) fn get(&self, key: &str) -> Option<uuid::Uuid> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(_, found_at)| found_at.elapsed() < self.time_to_live)
            .map(|(account, _)| *account)
    }

    /// Keeps `account` for `key`, dropping what has expired and, when full,
    /// the oldest.
    pub(crate) fn keep(&self, key: String, account: uuid::Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let time_to_live = self.time_to_live;
        entries.retain(|_, (_, found_at)| found_at.elapsed() < time_to_live);
        if entries.len() >= Self::MOST_KEPT
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (_, found_at))| *found_at)
                .map(|(key, _)| key.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(key, (account, Instant::now()));
    }
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
            .field("account_uuid_cache", &settings.account_uuids.is_some())
            .finish()
    }
}
