//! The shared limiter on Redis as users run it: managed Redis speaks TLS
//! (`rediss://`) and logs users in with ACL credentials. A real `redis-server`
//! is started with a TLS port, whose certificate authority and certificate
//! the test makes (rcgen), and with an ACL user; the default user is off, so
//! nothing works without the user's password.

use std::time::Duration;

use sonoran_cms::rate_limit::RedisRateLimiter;
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer};
use sonoran_cms_tests::redis_server::{RedisServer, free_port};
use sonoran_cms_tests::test_client_builder;

const USER: &str = "sonoran-bot";
const PASSWORD: &str = "acl-pass-5e1f";

/// A certificate authority, and a certificate it signed for `localhost` and
/// 127.0.0.1, in PEM: (authority, certificate, key).
fn certificates() -> (String, String, String) {
    let authority_key = rcgen::KeyPair::generate().expect("a key");
    let mut authority = rcgen::CertificateParams::new(Vec::new()).expect("parameters");
    authority.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    authority
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sonoran-cms test authority");
    let authority_pem = authority
        .self_signed(&authority_key)
        .expect("an authority")
        .pem();
    let issuer = rcgen::Issuer::new(authority, &authority_key);
    let server_key = rcgen::KeyPair::generate().expect("a key");
    let mut server =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("parameters");
    server.subject_alt_names.push(rcgen::SanType::IpAddress(
        std::net::Ipv4Addr::LOCALHOST.into(),
    ));
    let server = server
        .signed_by(&server_key, &issuer)
        .expect("a certificate");
    (authority_pem, server.pem(), server_key.serialize_pem())
}

/// A Redis with a TLS port (returned) and the ACL user, or `None` where
/// `redis-server` is not installed.
fn tls_redis(test: &str) -> Option<(RedisServer, u16, String)> {
    let (authority, certificate, key) = certificates();
    let files = tempfile::tempdir().expect("a folder");
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.display().to_string()
    };
    let (authority_file, certificate_file, key_file) = (
        write("ca.pem", &authority),
        write("redis.pem", &certificate),
        write("redis.key", &key),
    );
    let tls_port = free_port();
    let redis = RedisServer::start_with_or_skip(
        test,
        vec![
            "--tls-port".to_owned(),
            tls_port.to_string(),
            "--tls-cert-file".to_owned(),
            certificate_file,
            "--tls-key-file".to_owned(),
            key_file,
            "--tls-ca-cert-file".to_owned(),
            authority_file,
            "--tls-auth-clients".to_owned(),
            "no".to_owned(),
            "--user".to_owned(),
            "default".to_owned(),
            "off".to_owned(),
            "--user".to_owned(),
            USER.to_owned(),
            "on".to_owned(),
            format!(">{PASSWORD}"),
            "~*".to_owned(),
            "&*".to_owned(),
            "+@all".to_owned(),
        ],
    )?;
    // redis-server has read the files by the time it answers.
    drop(files);
    Some((redis, tls_port, authority))
}

/// One cancel through a client whose limiter is `backend`: its status, or
/// the error.
async fn cancel_through(backend: RedisRateLimiter) -> Result<u16, sonoran_cms::Error> {
    let server = LoopbackServer::start(CannedResponse::empty(204))
        .await
        .expect("a server");
    let client = test_client_builder(&server.base_url())
        .deadline(Duration::from_secs(3))
        .rate_limit_backend(backend)
        .build()
        .expect("a client");
    sonoran_cms_tests::cancel(&client).await
}

#[tokio::test]
async fn a_managed_redis_with_tls_and_an_acl_user_counts_the_calls() {
    // rustls has two crypto providers in this workspace's build (the tests'
    // TLS server uses ring); a program has one, chosen by the crate's feature.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some((_redis, tls_port, authority)) =
        tls_redis("a_managed_redis_with_tls_and_an_acl_user_counts_the_calls")
    else {
        return;
    };
    let url = format!("rediss://{USER}:{PASSWORD}@localhost:{tls_port}/");
    let limiter = RedisRateLimiter::with_root_certificates(&url, authority.as_bytes())
        .expect("a rediss URL and a certificate authority");
    assert_eq!(
        cancel_through(limiter).await.expect("a slot from Redis"),
        204
    );

    // The wrong password: no slot, and the error never shows the password.
    let wrong = format!("rediss://{USER}:not-{PASSWORD}@localhost:{tls_port}/");
    let limiter =
        RedisRateLimiter::with_root_certificates(&wrong, authority.as_bytes()).expect("a URL");
    let error = cancel_through(limiter)
        .await
        .expect_err("no login, no slot");
    assert!(
        matches!(error, sonoran_cms::Error::RateLimiterUnavailable { .. }),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains(PASSWORD), "{error}");

    // A server whose authority the limiter does not trust: no slot either.
    let untrusted = RedisRateLimiter::new(&url).expect("a URL");
    let error = cancel_through(untrusted)
        .await
        .expect_err("an unknown authority");
    assert!(
        matches!(error, sonoran_cms::Error::RateLimiterUnavailable { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_acl_user_logs_in_without_tls_and_a_bad_url_is_the_crates_error() {
    let Some(redis) = RedisServer::start_with_or_skip(
        "an_acl_user_logs_in_without_tls_and_a_bad_url_is_the_crates_error",
        [
            "--user",
            "default",
            "off",
            "--user",
            USER,
            "on",
            &format!(">{PASSWORD}"),
            "~*",
            "&*",
            "+@all",
        ]
        .map(str::to_owned)
        .to_vec(),
    ) else {
        return;
    };
    let with_user = redis
        .url()
        .replace("redis://", &format!("redis://{USER}:{PASSWORD}@"));
    let limiter = RedisRateLimiter::new(&with_user).expect("a URL");
    assert_eq!(cancel_through(limiter).await.expect("a slot"), 204);
    let without = RedisRateLimiter::new(&redis.url()).expect("a URL");
    assert!(
        cancel_through(without).await.is_err(),
        "the default user is off"
    );

    // The crate's own error, with the password elided.
    let error = RedisRateLimiter::new(&format!("mysql://{USER}:{PASSWORD}@localhost/"))
        .expect_err("not a Redis URL");
    let error: sonoran_cms::rate_limit::RedisSetupError = error;
    assert!(!error.to_string().contains(PASSWORD), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("the Redis rate limiter cannot be set up")
    );
}
