//! The HTTPS wire tests: real calls over TLS to a loopback server, run once per TLS
//! feature (CI builds this file with `rustls`, `rustls-ring`, `native-tls` and with
//! none), so each backend is shown to connect, verify and refuse.

// With no TLS feature only the refusal test runs; the server and helpers are unused.
#![cfg_attr(
    not(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")),
    allow(dead_code, unused_imports)
)]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

const API_KEY: &str = "tls-test-key";

/// The throwaway CA that signed the server's certificate (see fixtures/tls/README.md).
const CA_PEM: &[u8] = include_bytes!("fixtures/tls/ca.pem");
const SERVER_CERTIFICATE_PEM: &[u8] = include_bytes!("fixtures/tls/localhost.pem");
const SERVER_KEY_PEM: &[u8] = include_bytes!("fixtures/tls/localhost.key");

/// One request as the server read it after the TLS handshake.
#[derive(Debug, Clone)]
struct SeenRequest {
    head: String,
    body: Vec<u8>,
}

/// An HTTPS server on 127.0.0.1 that answers every request with `status` and
/// `body`, and records what it read. Its TLS runs on ring, whatever the client uses.
struct HttpsServer {
    port: u16,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    handshake_failed: Arc<tokio::sync::Notify>,
}

impl HttpsServer {
    async fn start(status: u16, body: Value) -> Self {
        let certificates = CertificateDer::pem_slice_iter(SERVER_CERTIFICATE_PEM)
            .collect::<Result<Vec<_>, _>>()
            .expect("the fixture certificate parses");
        let key = PrivateKeyDer::from_pem_slice(SERVER_KEY_PEM).expect("the fixture key parses");
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default versions")
                .with_no_client_auth()
                .with_single_cert(certificates, key)
                .expect("the fixture key matches its certificate");
        // HTTP/1.1 only: the test reads requests by hand.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handshake_failed = Arc::new(tokio::sync::Notify::new());
        let answer = serde_json::to_vec(&body).expect("JSON");
        let (seen_by_server, failed_by_server) = (seen.clone(), handshake_failed.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let (seen, failed, answer) = (
                    seen_by_server.clone(),
                    failed_by_server.clone(),
                    answer.clone(),
                );
                tokio::spawn(async move {
                    let Ok(mut stream) = acceptor.accept(tcp).await else {
                        // Kept until the test waits for it.
                        failed.notify_one();
                        return;
                    };
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    seen.lock().expect("not poisoned").push(request);
                    let head = format!(
                        "HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        answer.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&answer).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        HttpsServer {
            port,
            seen,
            handshake_failed,
        }
    }

    fn base_url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().expect("not poisoned").clone()
    }

    /// Returns once a client's TLS handshake has failed on the server's side
    /// (at once if one has failed already).
    async fn handshake_failure(&self) {
        self.handshake_failed.notified().await;
    }
}

/// Reads one HTTP/1.1 request: the head up to the blank line, then
/// `content-length` bytes of body.
async fn read_request(
    stream: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> Option<SeenRequest> {
    let mut bytes = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(position) = bytes.windows(4).position(|window| window == b"\r\n\r\n") {
            break position + 4;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..read]);
    }
    Some(SeenRequest {
        head,
        body: bytes[head_end..head_end + length].to_vec(),
    })
}

#[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
fn trusting_client(server: &HttpsServer) -> sonoran_cms::Client {
    sonoran_cms::Client::builder(API_KEY)
        .base_url(server.base_url())
        .add_root_certificate(
            reqwest::Certificate::from_pem(CA_PEM).expect("the fixture CA parses"),
        )
        .build()
        .expect("a client")
}

#[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
#[tokio::test]
async fn a_read_goes_over_tls_to_a_server_whose_authority_was_added() {
    let server = HttpsServer::start(
        200,
        json!({"success": true, "data": {"servers": [{"id": 1, "name": "Main"}]}}),
    )
    .await;
    let servers = trusting_client(&server)
        .get_servers()
        .send()
        .await
        .expect("the call succeeds over TLS");
    assert_eq!(servers.into_inner().data.servers[0].id, 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .head
            .starts_with("GET /v2/community/servers HTTP/1.1\r\n"),
        "{}",
        seen[0].head
    );
    assert!(
        seen[0]
            .head
            .to_ascii_lowercase()
            .contains(&format!("authorization: bearer {API_KEY}\r\n")),
        "the key went over the encrypted connection: {}",
        seen[0].head
    );
}

#[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
#[tokio::test]
async fn a_body_goes_over_tls_and_an_api_error_comes_back_with_its_message() {
    let server = HttpsServer::start(
        400,
        json!({"success": false, "error": "INVALID_SERVER", "reason": "no such server"}),
    )
    .await;
    let error = trusting_client(&server)
        .verify_whitelist()
        .server_id(7_u64)
        .body(
            sonoran_cms::types::VerifyWhitelistRequest::builder().identity(
                sonoran_cms::types::AccountIdentity::Discord("123456789012345678".into()),
            ),
        )
        .send()
        .await
        .expect_err("the API refused");
    assert_eq!(
        error.status().map(|status| status.as_u16()),
        Some(400),
        "{error:?}"
    );
    assert!(error.to_string().contains("INVALID_SERVER"), "{error}");
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "a 400 is not retried");
    assert_eq!(
        serde_json::from_slice::<Value>(&seen[0].body).expect("a JSON body"),
        json!({"discord": "123456789012345678"})
    );
}

#[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
#[tokio::test]
async fn a_server_whose_certificate_is_not_trusted_is_refused_and_nothing_is_sent() {
    let server = HttpsServer::start(200, json!({"success": true, "data": {"servers": []}})).await;
    // No extra root: the platform's roots do not include the test CA.
    let client = sonoran_cms::Client::builder(API_KEY)
        .base_url(server.base_url())
        .retry_policy(sonoran_cms::RetryPolicy::none())
        .build()
        .expect("a client");
    let error = client
        .get_servers()
        .send()
        .await
        .expect_err("the certificate is refused");
    assert!(
        matches!(error, sonoran_cms::Error::Connect { .. }),
        "a failed handshake is a connection failure: {error:?}"
    );
    assert!(!error.may_have_taken_effect());
    assert!(!format!("{error} {error:?}").contains(API_KEY));
    // The server saw the handshake fail (the wait guards against a hang, it
    // measures nothing) and read no request.
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        server.handshake_failure(),
    )
    .await
    .expect("the server saw a failed handshake");
    assert!(
        server.seen().is_empty(),
        "no request was read by the server"
    );
}

#[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
#[tokio::test]
async fn root_certificates_and_an_own_http_client_together_are_refused() {
    // What the crate's docs tell an application that builds its own reqwest
    // client with `rustls-ring`: install the provider first.
    #[cfg(feature = "rustls-ring")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let refused = sonoran_cms::Client::builder(API_KEY)
        .http_client(reqwest::Client::new())
        .add_root_certificate(
            reqwest::Certificate::from_pem(CA_PEM).expect("the fixture CA parses"),
        )
        .build();
    assert!(matches!(
        refused,
        Err(sonoran_cms::BuildError::RootCertificatesWithOwnHttpClient)
    ));
}

#[cfg(not(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")))]
#[tokio::test]
async fn without_a_tls_feature_an_https_base_url_is_refused_when_building() {
    let refused = sonoran_cms::Client::builder(API_KEY).build();
    let error = match refused {
        Err(error @ sonoran_cms::BuildError::NoTls { .. }) => error,
        other => panic!("expected NoTls, got {other:?}"),
    };
    let message = error.to_string();
    assert!(message.contains("https://api.sonorancms.com"), "{message}");
    assert!(message.contains("rustls-ring"), "{message}");
    // Plain http to this machine still works without TLS.
    assert!(
        sonoran_cms::Client::builder(API_KEY)
            .base_url("http://127.0.0.1:8080")
            .build()
            .is_ok()
    );
}
