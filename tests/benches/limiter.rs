//! The rate limiter's own cost per call: taking a slot and letting it go, kept in
//! Redis on loopback (`RedisRateLimiter`) against kept in this process
//! (`InProcessRateLimiter`, the default), measured in one run. The limit is far
//! above the rate, so nothing waits: what is measured is the bookkeeping (for
//! Redis, one script round trip; the release runs in the background, as in a
//! real call). Run with `cargo bench -p sonoran-cms-tests --bench limiter`; it
//! starts its own `redis-server`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sonoran_cms::rate_limit::{
    InProcessRateLimiter, RateLimit, RateLimitBackend, RedisRateLimiter, SlotRequest,
};
use sonoran_cms_tests::redis_server::RedisServer;

fn acquire_and_release(criterion: &mut Criterion) {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let shared = RedisRateLimiter::new(&redis.url()).expect("a Redis URL");
    let limit = RateLimit::per_window(u32::MAX, Duration::from_secs(1)).expect("a valid limit");
    let backends: [(&str, &dyn RateLimitBackend); 2] = [
        ("in_process", &InProcessRateLimiter::new()),
        ("redis_loopback", &shared),
    ];
    let mut group = criterion.benchmark_group("rate_limiter_slot");
    for (name, backend) in backends {
        group.bench_function(name, |bencher| {
            bencher.to_async(&runtime).iter(|| async {
                let request = SlotRequest::new(
                    "0123456789abcdef0123456789abcdef01234567",
                    "http://127.0.0.1:1",
                    sonoran_cms::Operation::CancelSession,
                    limit,
                    tokio::time::Instant::now() + Duration::from_secs(10),
                    Duration::from_secs(30),
                );
                let mut slot = backend.acquire(request).await.expect("a slot");
                slot.mark_sent();
                drop(slot);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, acquire_and_release);
criterion_main!(benches);
