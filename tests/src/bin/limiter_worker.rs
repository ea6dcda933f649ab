//! One process of the shared rate-limiter tests: sends `--calls` cancels at once
//! through a client whose `cancel_session` limit is `--limit` per `--window-ms`,
//! keeping its slots in Redis (`--redis URL`) or in this process only, and
//! prints `succeeded=N failed=M` (then one line per failure) on stdout.

use std::time::Duration;

use futures_util::future::join_all;
use sonoran_cms::rate_limit::{RateLimit, RateLimits, RedisRateLimiter};

/// The key every worker of a test shares.
const SHARED_KEY: &str = "shared-limiter-test-key";

fn argument(arguments: &[String], name: &str) -> Option<String> {
    arguments
        .iter()
        .position(|argument| argument == name)
        .and_then(|index| arguments.get(index + 1))
        .cloned()
}

fn number(arguments: &[String], name: &str) -> u64 {
    argument(arguments, name)
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{name} <number> is required"))
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let base_url = argument(&arguments, "--base-url").expect("--base-url URL is required");
    let calls = number(&arguments, "--calls");
    let limit = RateLimit::per_window(
        u32::try_from(number(&arguments, "--limit")).expect("a small limit"),
        Duration::from_millis(number(&arguments, "--window-ms")),
    )
    .expect("--limit and --window-ms above zero");
    let mut builder = sonoran_cms::Client::builder(SHARED_KEY)
        .base_url(base_url)
        .timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(120))
        .rate_limits(
            RateLimits::documented().with_override(sonoran_cms::Operation::CancelSession, limit),
        );
    if let Some(redis) = argument(&arguments, "--redis") {
        builder = builder.rate_limit_backend(RedisRateLimiter::new(&redis).expect("a Redis URL"));
    }
    let client = builder.build().expect("a client");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let outcomes = runtime.block_on(join_all((0..calls).map(|_| {
        let client = client.clone();
        async move {
            client
                .cancel_session()
                .body(sonoran_cms_tests::cancel_body())
                .send()
                .await
        }
    })));
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().err().map(ToString::to_string))
        .collect();
    println!(
        "succeeded={} failed={}",
        outcomes.len() - failures.len(),
        failures.len()
    );
    for failure in failures {
        println!("{failure}");
    }
}
