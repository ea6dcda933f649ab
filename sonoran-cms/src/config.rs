//! Building a client: the API key, where the API is, timeouts, extra headers, rate
//! limits and retries, all checked once, up front; and views of a client whose
//! calls use other timeouts, retries or headers ([`CallOptions`]).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use progenitor_client::ClientInfo;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::auth::{ApiKey, InvalidApiKey};
use crate::rate_limit::{
    InProcessRateLimiter, RateLimitBackend, RateLimits, credential_fingerprint,
};
use crate::retry::RetryPolicy;
use crate::state::{AccountUuidCache, ClientState, Settings};
use crate::transport::Transport;
use crate::{Client, PRODUCTION_BASE_URL};

pub use crate::state::USER_AGENT;

/// The default timeout of one attempt, as the official SDKs use.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default overall deadline of a call: long enough to wait out a full rate-limit
/// window and the default retries, short enough that a call always ends.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

/// The longest the client's own HTTP client waits for a connection to open by
/// default (less when the attempt timeout is shorter); see
/// [`ClientBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The API key is empty or cannot be sent.
    #[error(transparent)]
    ApiKey(#[from] InvalidApiKey),
    /// The base URL does not parse, or is not `http(s)://host[:port][/path]`.
    #[error("the base URL `{url}` is not usable: {reason}")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain `http://` base URL to a host that is not this machine would send the
    /// API key in clear text.
    #[error(
        "the base URL `{url}` is plain http to a remote host, which would send the API key unencrypted; use https"
    )]
    InsecureBaseUrl {
        /// The URL as given.
        url: String,
    },
    /// An extra header has an invalid name or value, or is one the client sets itself.
    #[error("the extra header `{name}` cannot be used: {reason}")]
    Header {
        /// The header's name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A timeout or deadline of zero would fail every call.
    #[error("the {what} must be longer than zero")]
    ZeroDuration {
        /// Which setting.
        what: &'static str,
    },
    /// reqwest could not build its HTTP client (TLS set-up).
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The base URL is `https://` but the crate was built without a TLS feature
    /// (`rustls`, `rustls-ring` or `native-tls`), so the client's own HTTP client
    /// could not connect to it.
    #[error(
        "the base URL `{url}` is https, but sonoran-cms was built without TLS: enable its feature `rustls`, `rustls-ring` or `native-tls`, or pass a reqwest::Client built with TLS to `http_client`"
    )]
    NoTls {
        /// The URL as given.
        url: String,
    },
    /// Extra root certificates were given together with a caller's own
    /// `reqwest::Client`, which the client cannot change.
    #[error(
        "root certificates were added, but a reqwest::Client was passed to `http_client` as well; add the certificates to that client instead"
    )]
    RootCertificatesWithOwnHttpClient,
    /// A required environment variable is not set.
    #[error("the environment variable `{variable}` is not set (it should hold {what})")]
    MissingEnvironment {
        /// The variable's name.
        variable: &'static str,
        /// What it should hold.
        what: &'static str,
    },
    /// An environment variable is set but cannot be used; the message says why
    /// without repeating a secret value.
    #[error("the environment variable `{variable}` cannot be used: {reason}")]
    InvalidEnvironment {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The environment variable [`Client::from_env`] reads the API key from.
pub const API_KEY_VARIABLE: &str = "SONORAN_CMS_API_KEY";
/// The environment variable [`Client::from_env`] reads an optional base URL from.
pub const BASE_URL_VARIABLE: &str = "SONORAN_CMS_BASE_URL";

/// Builds a [`Client`]; start from [`Client::builder`].
#[must_use]
pub struct ClientBuilder {
    api_key: Result<ApiKey, InvalidApiKey>,
    base_url: String,
    timeout: Duration,
    deadline: Duration,
    min_attempt_time: Option<Duration>,
    connect_timeout: Option<Duration>,
    account_uuid_time_to_live: Option<Duration>,
    extra_headers: Vec<(String, String)>,
    http_client: Option<reqwest::Client>,
    /// Extra roots the client's own HTTP client trusts (only with a TLS feature).
    #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
    root_certificates: Vec<reqwest::Certificate>,
    rate_limits: RateLimits,
    rate_limit_backend: Arc<dyn RateLimitBackend>,
    retry_policy: RetryPolicy,
    transport: Option<Arc<dyn Transport>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientBuilder")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("min_attempt_time", &self.min_attempt_time)
            .field("connect_timeout", &self.connect_timeout)
            .field("account_uuid_time_to_live", &self.account_uuid_time_to_live)
            .field("extra_headers", &header_names(&self.extra_headers))
            .field("rate_limits", &self.rate_limits)
            .field("rate_limit_backend", &self.rate_limit_backend)
            .field("retry_policy", &self.retry_policy)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client configured from the environment: the API key from
    /// `SONORAN_CMS_API_KEY` (required), the base URL from `SONORAN_CMS_BASE_URL`
    /// (optional; default [`PRODUCTION_BASE_URL`]), everything else default.
    ///
    /// # Errors
    ///
    /// [`BuildError::MissingEnvironment`] when the key is not set,
    /// [`BuildError::InvalidEnvironment`] when a variable is not Unicode or its
    /// value is refused (the message never repeats the key), and any error of
    /// [`ClientBuilder::build`].
    ///
    /// ```no_run
    /// let client = sonoran_cms::Client::from_env()?;
    /// # Ok::<(), sonoran_cms::BuildError>(())
    /// ```
    pub fn from_env() -> Result<Client, BuildError> {
        Self::builder_from_env_with(|name| std::env::var_os(name))?.build()
    }

    /// A builder configured from variables that `lookup` finds, as
    /// [`Client::from_env`] does from the process's environment: for tests, and
    /// for configuration kept elsewhere. Further settings can be added before
    /// `build`.
    pub fn builder_from_env_with(
        lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<ClientBuilder, BuildError> {
        let text = |variable: &'static str| -> Result<Option<String>, BuildError> {
            match lookup(variable) {
                None => Ok(None),
                Some(value) => {
                    value
                        .into_string()
                        .map(Some)
                        .map_err(|_| BuildError::InvalidEnvironment {
                            variable,
                            reason: "it is not valid Unicode".to_owned(),
                        })
                }
            }
        };
        // Set but empty is not "not set": the message says which it is.
        let api_key = text(API_KEY_VARIABLE)?.ok_or(BuildError::MissingEnvironment {
            variable: API_KEY_VARIABLE,
            what: "the community's Sonoran CMS API key",
        })?;
        if let Err(error) = ApiKey::new(&api_key) {
            return Err(BuildError::InvalidEnvironment {
                variable: API_KEY_VARIABLE,
                reason: error.to_string(),
            });
        }
        let mut builder = Client::builder(api_key);
        if let Some(base_url) = text(BASE_URL_VARIABLE)?.filter(|url| !url.trim().is_empty()) {
            checked_base_url(&base_url).map_err(|error| BuildError::InvalidEnvironment {
                variable: BASE_URL_VARIABLE,
                reason: error.to_string(),
            })?;
            builder = builder.base_url(base_url);
        }
        Ok(builder)
    }

    /// Starts building a client that authenticates with `api_key`.
    pub fn builder(api_key: impl AsRef<str>) -> ClientBuilder {
        ClientBuilder {
            api_key: ApiKey::new(api_key),
            base_url: PRODUCTION_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            min_attempt_time: None,
            connect_timeout: None,
            account_uuid_time_to_live: None,
            extra_headers: Vec::new(),
            http_client: None,
            #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
            root_certificates: Vec::new(),
            rate_limits: RateLimits::documented(),
            rate_limit_backend: Arc::new(InProcessRateLimiter::shared()),
            retry_policy: RetryPolicy::default(),
            transport: None,
        }
    }
}

impl ClientBuilder {
    /// Where the API is (default [`PRODUCTION_BASE_URL`]). Plain `http://` is
    /// refused except to a loopback host, so a typo cannot send the key in clear text.
    /// The docs' form with `/v2` (`https://api.sonorancms.com/v2`) works as well:
    /// a trailing `/v2` is dropped because every operation's path starts with it;
    /// any other path prefix is kept.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The timeout of one attempt, from connecting to the end of the body (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most one call may take in all: waiting for a rate-limit slot, every
    /// attempt and every wait between them (default 300 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The least time an attempt must have left of the call's deadline to be
    /// sent (default 1 s; at most half the deadline, so short deadlines still
    /// send). Only a wait can leave less: for a rate-limit slot, or before a
    /// retry. A slot that opens too late ends the call before sending with
    /// [`Error::RateLimited`](crate::Error::RateLimited); a retry whose delay
    /// would leave less is not taken, and the call ends with the previous
    /// attempt's error. Either way no request is sent that would run on the
    /// server while the client reports a timeout. `Duration::ZERO` sends with
    /// whatever is left.
    pub fn min_attempt_time(mut self, min_attempt_time: Duration) -> Self {
        self.min_attempt_time = Some(min_attempt_time);
        self
    }

    /// How long the client's own HTTP client waits for a connection to open
    /// (default: the smaller of 10 s and the attempt timeout). A connection
    /// that never opens (packets dropped, a host that is down) then fails as
    /// [`Error::Connect`](crate::Error::Connect): the request never left, so
    /// its rate-limit slot is given back and the attempt is retried like any
    /// connection failure, never reported as "may have taken effect". This
    /// holds while the attempt has at least this long: one that has less (the
    /// call's deadline nearly spent, or a call view's shorter timeout) is cut
    /// off by its own time first, which cannot tell a connection that never
    /// opened from a request that was sent.
    ///
    /// Not used with [`http_client`](Self::http_client): a client you bring
    /// keeps its own settings. Give it a connect timeout
    /// (`reqwest::ClientBuilder::connect_timeout`); without one, a connection
    /// that never opens runs into the attempt's timeout, which cannot tell it
    /// from a request that was sent, so the call is not retried (unless
    /// idempotent), its slot counts for a window, and the error says it may
    /// have taken effect.
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = Some(connect_timeout);
        self
    }

    /// Keeps what [`Client::account_uuid`] finds for `time_to_live`, so that
    /// each account route reached by a Discord id (or any identity but a
    /// UUID) does not cost a `search_accounts` call, and its rate-limit slot,
    /// every time. Off by default. Shared by the client's clones and call
    /// views; only a found account is kept (an identity no account names is
    /// asked again), and at most 10,000 identities (the oldest go first).
    /// While kept, an identity re-linked to another account in the CMS still
    /// resolves to the old one: choose a time to live your community can live
    /// with (minutes, not days).
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails with [`BuildError::ZeroDuration`] for a
    /// zero `time_to_live`, which would keep nothing.
    pub fn cache_account_uuids(mut self, time_to_live: Duration) -> Self {
        self.account_uuid_time_to_live = Some(time_to_live);
        self
    }

    /// Sends `name: value` with every request, after the client's own headers.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// Sends through this `reqwest::Client` (proxies, TLS roots, connection pools)
    /// instead of a default one. The client still sets its own headers and timeouts.
    ///
    /// Build it with `.redirect(reqwest::redirect::Policy::none())` and a
    /// `.pool_idle_timeout` under 60 s, as the default client is: a redirect it
    /// follows on a request that changes state is reported as
    /// [`Error::Redirect`](crate::Error::Redirect), because it may have been
    /// replayed as a GET. (reqwest drops `Authorization` when it follows a
    /// redirect to another host.)
    pub fn http_client(mut self, http_client: reqwest::Client) -> Self {
        self.http_client = Some(http_client);
        self
    }

    /// Trusts `certificate` as a root as well as the platform's own roots: for a
    /// gateway or proxy with a private certificate authority. May be called more
    /// than once. Only with a TLS feature, and only for the client's own HTTP
    /// client (with [`http_client`](Self::http_client), add it there instead;
    /// `build` refuses both together).
    ///
    /// ```no_run
    /// let pem = std::fs::read("company-root-ca.pem")?;
    /// let client = sonoran_cms::Client::builder("API_KEY")
    ///     .base_url("https://sonoran-gateway.internal")
    ///     .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")))
    )]
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// Which rate limits to enforce before sending (default: the documented ones).
    pub fn rate_limits(mut self, rate_limits: RateLimits) -> Self {
        self.rate_limits = rate_limits;
        self
    }

    /// Where rate-limit slots are kept (default:
    /// [`InProcessRateLimiter::shared`], this process's memory, one count per
    /// key for every client). Processes that share one API key (several game
    /// servers and a bot) keep the limit together only with a shared backend:
    /// `RedisRateLimiter` (feature `redis`).
    pub fn rate_limit_backend(mut self, backend: impl RateLimitBackend) -> Self {
        self.rate_limit_backend = Arc::new(backend);
        self
    }

    /// How to retry (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry_policy: RetryPolicy) -> Self {
        self.retry_policy = retry_policy;
        self
    }

    /// Settings for testing your own code against a mock server
    /// (`sonoran-cms-httpmock`) or a [`Transport`]: no rate limits and a
    /// limiter of the client's own ([`InProcessRateLimiter::new`]), so a test
    /// never waits for a slot or for another test's calls with the same key;
    /// and no retries ([`RetryPolicy::none`]), so a test sees each answer its
    /// mock gives, at once, never a backoff. Settings made after this one win
    /// (`.for_tests().retry_policy(..)`).
    ///
    /// ```
    /// let client = sonoran_cms::Client::builder("test-key")
    ///     .base_url("http://127.0.0.1:9")
    ///     .for_tests()
    ///     .build()?;
    /// # Ok::<(), sonoran_cms::BuildError>(())
    /// ```
    pub fn for_tests(self) -> Self {
        self.rate_limits(RateLimits::disabled())
            .rate_limit_backend(InProcessRateLimiter::new())
            .retry_policy(RetryPolicy::none())
    }

    /// Sends through `transport` instead of HTTP (tests, custom stacks).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Checks every setting and builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let api_key = self.api_key?;
        let base_url = checked_base_url(&self.base_url)?;
        check_durations(Some(self.timeout), Some(self.deadline))?;
        if self.account_uuid_time_to_live == Some(Duration::ZERO) {
            return Err(BuildError::ZeroDuration {
                what: "account UUID cache's time to live",
            });
        }
        if self
            .connect_timeout
            .is_some_and(|timeout| timeout.is_zero())
        {
            return Err(BuildError::ZeroDuration {
                what: "connect timeout",
            });
        }
        let extra_headers = checked_extra_headers(&self.extra_headers)?;
        #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
        let root_certificates = self.root_certificates;
        let http_client = match self.http_client {
            #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
            Some(_) if !root_certificates.is_empty() => {
                return Err(BuildError::RootCertificatesWithOwnHttpClient);
            }
            Some(http_client) => http_client,
            None => {
                #[cfg(not(any(
                    feature = "rustls",
                    feature = "rustls-ring",
                    feature = "native-tls"
                )))]
                if self.transport.is_none() && base_url.starts_with("https:") {
                    return Err(BuildError::NoTls { url: base_url });
                }
                #[cfg(feature = "rustls-ring")]
                install_ring_unless_a_provider_is_installed();
                let builder = reqwest::Client::builder()
                    // An API client follows no redirect: reqwest would replay a POST
                    // as a GET without its body and report the GET's answer.
                    .redirect(reqwest::redirect::Policy::none())
                    // Kong (on nginx) closes idle connections after 60 to 75 s; a
                    // pooled connection is dropped before that, so no request is
                    // written to a connection the gateway is closing.
                    .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                    // A connection that never opens fails as a connection
                    // failure (nothing sent), not as an attempt that timed out
                    // after sending.
                    .connect_timeout(
                        self.connect_timeout
                            .unwrap_or_else(|| DEFAULT_CONNECT_TIMEOUT.min(self.timeout)),
                    );
                #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
                let builder = root_certificates
                    .into_iter()
                    .fold(builder, reqwest::ClientBuilder::add_root_certificate);
                builder.build().map_err(BuildError::HttpClient)?
            }
        };
        let credential = credential_fingerprint(api_key.authorization().as_bytes());
        // `checked_base_url` parsed it already.
        let base_path = reqwest::Url::parse(&base_url)
            .map(|url| url.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let state = ClientState {
            settings: Arc::new(Settings {
                credential,
                api_key,
                base_url: base_url.clone(),
                base_path,
                timeout: self.timeout,
                deadline: self.deadline,
                min_attempt_time: self.min_attempt_time,
                extra_headers,
                rate_limits: self.rate_limits,
                rate_limit_backend: self.rate_limit_backend,
                retry_policy: self.retry_policy,
                transport: self.transport,
                refused_options: None,
                account_uuids: self
                    .account_uuid_time_to_live
                    .map(|time_to_live| Arc::new(AccountUuidCache::new(time_to_live))),
            }),
        };
        Ok(Client::new_with_client(&base_url, http_client, state))
    }
}

/// What one call (or a group of calls) does differently from its client: the
/// attempt timeout, the deadline, the retry policy and extra headers. Give it
/// to [`Client::with_options`]; what is not set stays the client's.
///
/// The options are checked as the client builder checks its own: a zero
/// timeout or deadline, or a header that is invalid or one the client sets
/// itself (`Authorization`, `Accept`, `Content-Type`, `User-Agent`) or that
/// decides where or how the request goes (`Host`, `Content-Length`,
/// `Transfer-Encoding`, `Connection` and the other hop-by-hop headers), makes
/// every call of the view fail with
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) before anything is
/// sent, saying which option and why (never a header's value).
#[derive(Clone, Default)]
#[must_use]
pub struct CallOptions {
    timeout: Option<Duration>,
    deadline: Option<Duration>,
    min_attempt_time: Option<Duration>,
    retry_policy: Option<RetryPolicy>,
    extra_headers: Vec<(String, String)>,
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("min_attempt_time", &self.min_attempt_time)
            .field("retry_policy", &self.retry_policy)
            .field("extra_headers", &header_names(&self.extra_headers))
            .finish()
    }
}

impl CallOptions {
    /// Options that change nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The timeout of one attempt, from connecting to the end of the body
    /// (the client's is [`ClientBuilder::timeout`], 30 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The most one call may take in all: waiting for a rate-limit slot, every
    /// attempt and every wait between them (the client's is
    /// [`ClientBuilder::deadline`], 300 s by default). May be longer than the
    /// client's.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The least time an attempt must have left to be sent (the client's is
    /// [`ClientBuilder::min_attempt_time`]: 1 s by default, at most half the
    /// deadline).
    pub fn min_attempt_time(mut self, min_attempt_time: Duration) -> Self {
        self.min_attempt_time = Some(min_attempt_time);
        self
    }

    /// How to retry ([`RetryPolicy::none`] for one attempt only).
    pub fn retry_policy(mut self, retry_policy: RetryPolicy) -> Self {
        self.retry_policy = Some(retry_policy);
        self
    }

    /// Sends `name: value` with each call as well as the client's extra
    /// headers; it replaces a client's extra header of the same name.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }
}

impl Client {
    /// A view of this client whose calls use `options`: the same key, base
    /// URL, HTTP connections, rate-limit budget (the same counts, whatever the
    /// options) and everything not set in `options`. Cheap: a few small
    /// copies, no new connection pool. A view of a view applies both, the
    /// later options winning.
    ///
    /// The whitelist check when a player joins can give up after 3 s while
    /// the nightly sync keeps the client's 300 s:
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use sonoran_cms::{CallOptions, RetryPolicy};
    /// use sonoran_cms::types::{AccountIdentity, VerifyWhitelistRequest};
    ///
    /// # async fn joining(client: &sonoran_cms::Client) -> sonoran_cms::Result<()> {
    /// let on_join = client.with_options(
    ///     CallOptions::new()
    ///         .deadline(Duration::from_secs(3))
    ///         .retry_policy(RetryPolicy::none())
    ///         .header("X-Correlation-Id", "join-42"),
    /// );
    /// let verdict = on_join
    ///     .verify_whitelist()
    ///     .server_id(1)
    ///     .body(VerifyWhitelistRequest::builder().identity(AccountIdentity::Discord("123456789012345678".into())))
    ///     .verdict()
    ///     .await?;
    /// # let _ = verdict;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_options(&self, options: CallOptions) -> Client {
        let mut settings = Settings::clone(&self.inner().settings);
        if let Some(timeout) = options.timeout {
            settings.timeout = timeout;
        }
        if let Some(deadline) = options.deadline {
            settings.deadline = deadline;
        }
        if let Some(min_attempt_time) = options.min_attempt_time {
            settings.min_attempt_time = Some(min_attempt_time);
        }
        if let Some(retry_policy) = options.retry_policy {
            settings.retry_policy = retry_policy;
        }
        // Checked as the builder checks the client's own.
        let checked = check_durations(options.timeout, options.deadline)
            .and_then(|()| checked_extra_headers(&options.extra_headers));
        let refusal = match checked {
            Ok(headers) => {
                for name in headers.keys() {
                    settings.extra_headers.remove(name);
                }
                for (name, value) in &headers {
                    settings.extra_headers.append(name, value.clone());
                }
                None
            }
            Err(error) => Some(error.to_string()),
        };
        if settings.refused_options.is_none() {
            settings.refused_options =
                refusal.map(|reason| format!("the call options cannot be used: {reason}"));
        }
        let state = ClientState {
            settings: Arc::new(settings),
        };
        Client::new_with_client(self.baseurl(), self.client().clone(), state)
    }
}

/// Refuses a zero timeout or deadline (`None`: not set), which would fail
/// every call.
fn check_durations(
    timeout: Option<Duration>,
    deadline: Option<Duration>,
) -> Result<(), BuildError> {
    for (what, duration) in [("timeout", timeout), ("deadline", deadline)] {
        if duration.is_some_and(|duration| duration.is_zero()) {
            return Err(BuildError::ZeroDuration { what });
        }
    }
    Ok(())
}

/// `https://` anywhere, `http://` only to this machine; no trailing slash, because
/// the generated code appends paths that start with one.
fn checked_base_url(text: &str) -> Result<String, BuildError> {
    let refuse = |reason: &str| BuildError::BaseUrl {
        url: text.to_owned(),
        reason: reason.to_owned(),
    };
    let url = reqwest::Url::parse(text.trim()).map_err(|error| refuse(&error.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("it has a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "it carries credentials; the API key is the only credential",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(BuildError::InsecureBaseUrl {
                url: text.to_owned(),
            });
        }
        other => return Err(refuse(&format!("`{other}` is not http or https"))),
    }
    let base = url.as_str().trim_end_matches('/');
    // The docs give the base URL as `https://api.sonorancms.com/v2`, but every
    // operation's path starts with `/v2`: that documented form must not send
    // `/v2/v2/...`. Any other prefix (a gateway under `/sonoran`) is kept.
    Ok(base
        .strip_suffix(API_VERSION_PREFIX)
        .unwrap_or(base)
        .to_owned())
}

/// With `rustls-ring`, reqwest is built without a crypto provider of its own and
/// panics when it builds a client while none is installed; choosing the feature is
/// choosing ring for the process, so ring is installed unless the application
/// installed one first.
#[cfg(feature = "rustls-ring")]
fn install_ring_unless_a_provider_is_installed() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An error means another thread installed a provider in between, which
        // serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// How long an idle pooled connection is kept: below the gateway's 60 s.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The path segment every operation's path starts with.
const API_VERSION_PREFIX: &str = "/v2";

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => false,
    }
}

/// The names of extra headers, for `Debug`: a value may be a secret of its own.
fn header_names(headers: &[(String, String)]) -> Vec<&str> {
    headers.iter().map(|(name, _)| name.as_str()).collect()
}

/// Headers the client owns: letting a caller replace them would break auth or the
/// JSON exchange, so they are refused rather than silently overridden.
const OWN_HEADERS: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::ACCEPT,
    header::CONTENT_TYPE,
    header::USER_AGENT,
];

/// Headers that decide where or how a request goes, not what it says: the
/// HTTP client writes them from the URL and the body (RFC 9110 §7.2 `Host`,
/// §8.6 `Content-Length`; RFC 9112 §6.1 `Transfer-Encoding`), and the
/// hop-by-hop ones (RFC 9110 §7.6.1: `Connection` and what it names,
/// `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Upgrade`) are for one
/// connection only. An extra header among them could smuggle a second request
/// or send the key to another host, so it is refused with why.
const ROUTING_HEADERS: [(HeaderName, &str); 10] = [
    (header::HOST, "the HTTP client sets it from the base URL"),
    (
        header::CONTENT_LENGTH,
        "the HTTP client sets it from the body",
    ),
    (
        header::TRANSFER_ENCODING,
        "the HTTP client frames the body itself",
    ),
    (
        header::CONNECTION,
        "it is hop-by-hop: the HTTP client manages connections",
    ),
    (
        HeaderName::from_static("keep-alive"),
        "it is hop-by-hop: the HTTP client manages connections",
    ),
    (
        HeaderName::from_static("proxy-connection"),
        "it is hop-by-hop: the HTTP client manages connections",
    ),
    (
        header::TE,
        "it is hop-by-hop: the HTTP client negotiates transfer codings",
    ),
    (
        header::TRAILER,
        "it is hop-by-hop: the client sends no trailers",
    ),
    (
        header::UPGRADE,
        "it is hop-by-hop: the client never switches protocols",
    ),
    (
        header::PROXY_AUTHORIZATION,
        "proxy credentials belong in the HTTP client's proxy settings (`http_client`)",
    ),
];

fn checked_extra_headers(headers: &[(String, String)]) -> Result<HeaderMap, BuildError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let refuse = |reason: &str| BuildError::Header {
            name: name.clone(),
            reason: reason.to_owned(),
        };
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| refuse("not a valid header name"))?;
        if OWN_HEADERS.contains(&header_name) {
            return Err(refuse("the client sets it itself"));
        }
        if let Some(reason) = ROUTING_HEADERS
            .iter()
            .find(|(routing, _)| header_name == *routing)
            .map(|(_, reason)| *reason)
        {
            return Err(refuse(reason));
        }
        // The value is never echoed: it may be a secret of its own.
        let header_value = HeaderValue::from_str(value)
            .map_err(|_| refuse("its value cannot be sent in a header"))?;
        map.append(header_name, header_value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            checked_base_url("https://api.sonorancms.com/")
                .ok()
                .as_deref(),
            Some("https://api.sonorancms.com")
        );
        assert_eq!(
            checked_base_url("http://127.0.0.1:8080").ok().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            checked_base_url("http://localhost:1/api/").ok().as_deref(),
            Some("http://localhost:1/api")
        );
        assert_eq!(
            checked_base_url("http://[::1]:9").ok().as_deref(),
            Some("http://[::1]:9")
        );
        // The docs' own form: `/v2` is part of every operation's path already.
        for documented in [
            "https://api.sonorancms.com/v2",
            "https://api.sonorancms.com/v2/",
        ] {
            assert_eq!(
                checked_base_url(documented).ok().as_deref(),
                Some("https://api.sonorancms.com"),
                "{documented}"
            );
        }
        assert_eq!(
            checked_base_url("https://gateway.example/sonoran/v2")
                .ok()
                .as_deref(),
            Some("https://gateway.example/sonoran")
        );
        assert_eq!(
            checked_base_url("https://gateway.example/sonoran")
                .ok()
                .as_deref(),
            Some("https://gateway.example/sonoran"),
            "another prefix is kept"
        );
        assert_eq!(
            checked_base_url("https://gateway.example/v2x")
                .ok()
                .as_deref(),
            Some("https://gateway.example/v2x"),
            "only a whole `/v2` segment is dropped"
        );
        assert!(matches!(
            checked_base_url("http://api.sonorancms.com"),
            Err(BuildError::InsecureBaseUrl { .. })
        ));
        assert!(matches!(
            checked_base_url("http://10.0.0.1"),
            Err(BuildError::InsecureBaseUrl { .. })
        ));
        assert!(matches!(
            checked_base_url("ftp://x"),
            Err(BuildError::BaseUrl { .. })
        ));
        assert!(matches!(
            checked_base_url("not a url"),
            Err(BuildError::BaseUrl { .. })
        ));
        assert!(matches!(
            checked_base_url("https://user:pw@x"),
            Err(BuildError::BaseUrl { .. })
        ));
    }

    #[test]
    fn own_headers_cannot_be_replaced_and_values_are_not_echoed() {
        let error =
            checked_extra_headers(&[("Authorization".to_owned(), "Bearer other".to_owned())])
                .expect_err("authorization is the client's");
        assert_eq!(
            error.to_string(),
            "the extra header `Authorization` cannot be used: the client sets it itself"
        );
        let error = checked_extra_headers(&[("x-secret".to_owned(), "line\nbreak".to_owned())])
            .expect_err("newline");
        assert!(!error.to_string().contains("line"), "{error}");
    }

    #[test]
    fn the_environment_names_the_variable_that_is_missing_or_wrong() {
        use std::ffi::OsString;
        let environment = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(variable, _)| *variable == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        let missing = Client::builder_from_env_with(environment(&[])).expect_err("no key");
        assert_eq!(
            missing.to_string(),
            "the environment variable `SONORAN_CMS_API_KEY` is not set (it should hold the community's Sonoran CMS API key)"
        );
        let empty = Client::builder_from_env_with(environment(&[("SONORAN_CMS_API_KEY", "  ")]))
            .expect_err("an empty key");
        assert_eq!(
            empty.to_string(),
            "the environment variable `SONORAN_CMS_API_KEY` cannot be used: the API key is empty"
        );
        let secret = "secret-key\nwith a newline";
        let wrong = Client::builder_from_env_with(move |name: &str| {
            (name == API_KEY_VARIABLE).then(|| OsString::from(secret))
        })
        .expect_err("a newline cannot be sent");
        assert!(
            wrong
                .to_string()
                .starts_with("the environment variable `SONORAN_CMS_API_KEY` cannot be used"),
            "{wrong}"
        );
        assert!(
            !wrong.to_string().contains("secret-key"),
            "the key is never repeated: {wrong}"
        );
        let insecure = Client::builder_from_env_with(environment(&[
            ("SONORAN_CMS_API_KEY", "k"),
            ("SONORAN_CMS_BASE_URL", "http://api.sonorancms.com"),
        ]))
        .expect_err("plain http to a remote host");
        assert!(
            insecure
                .to_string()
                .starts_with("the environment variable `SONORAN_CMS_BASE_URL` cannot be used"),
            "{insecure}"
        );
        let client = Client::builder_from_env_with(environment(&[
            ("SONORAN_CMS_API_KEY", "k"),
            ("SONORAN_CMS_BASE_URL", "http://127.0.0.1:9/v2"),
        ]))
        .expect("usable")
        .build()
        .expect("a client");
        assert_eq!(client.baseurl, "http://127.0.0.1:9");
    }

    #[test]
    fn an_empty_key_or_zero_timeout_is_refused() {
        assert!(matches!(
            Client::builder("").build(),
            Err(BuildError::ApiKey(InvalidApiKey::Empty))
        ));
        assert!(matches!(
            Client::builder("k").timeout(Duration::ZERO).build(),
            Err(BuildError::ZeroDuration { what: "timeout" })
        ));
    }
}
