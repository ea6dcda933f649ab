//! What goes on the wire, and what never leaves the client: every request carries
//! exactly the official SDKs' headers plus `User-Agent`, and the API key appears in
//! no `Debug`, `Display`, error message or `tracing` output.

use sonoran_cms::Client;
use sonoran_cms_tests::loopback::{CannedResponse, LoopbackServer, refusing_base_url};
use sonoran_cms_tests::{CapturedLogs, TEST_API_KEY, cancel, serve, test_client_builder};

#[tokio::test]
async fn each_request_carries_exactly_the_documented_headers() {
    let (server, client) = serve(CannedResponse::empty(204)).await;
    cancel(&client).await.expect("204");

    let request = &server.requests()[0];
    let mut names: Vec<&str> = request.headers.keys().map(|name| name.as_str()).collect();
    names.sort_unstable();
    // host and content-length are HTTP/1.1 framing, not API headers.
    assert_eq!(
        names,
        [
            "accept",
            "authorization",
            "content-length",
            "content-type",
            "host",
            "user-agent"
        ]
    );
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    assert_eq!(
        header("user-agent"),
        Some(concat!("sonoran-cms/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        header("authorization"),
        Some(format!("Bearer {TEST_API_KEY}").as_str())
    );
    assert_eq!(header("accept"), Some("application/json"));
    assert_eq!(header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn extra_headers_are_sent_and_a_custom_http_client_still_gets_the_api_headers() {
    let server = LoopbackServer::start(CannedResponse::empty(204))
        .await
        .expect("the server starts");
    let client = test_client_builder(&server.base_url())
        .header("x-community", "alpha")
        .http_client(reqwest::Client::new())
        .build()
        .expect("a client");
    cancel(&client).await.expect("204");
    let request = &server.requests()[0];
    assert_eq!(
        request
            .headers
            .get("x-community")
            .and_then(|value| value.to_str().ok()),
        Some("alpha")
    );
    assert!(request.headers.get("authorization").is_some());
    assert!(request.headers.get("api-version").is_none());
}

#[tokio::test]
async fn the_key_never_appears_in_debug_display_errors_or_logs() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on one thread, so every task of this call logs here.
    let _guard = tracing::subscriber::set_default(subscriber);

    let unauthorized =
        LoopbackServer::start(CannedResponse::with_body(401, "text/plain", "bad key"))
            .await
            .expect("the server starts");
    let overloaded = LoopbackServer::start(CannedResponse::empty(503).header("retry-after", "0"))
        .await
        .expect("the server starts");
    let mut shown = Vec::new();
    for base_url in [
        unauthorized.base_url(),
        overloaded.base_url(),
        refusing_base_url().await.expect("a port"),
    ] {
        let builder = test_client_builder(&base_url);
        shown.push(format!("{builder:?}"));
        let client = builder.build().expect("a client");
        shown.push(format!("{client:?}"));
        let error = cancel(&client).await.expect_err("every one of these fails");
        shown.push(format!("{error}"));
        shown.push(format!("{error:?}"));
    }
    shown.push(format!(
        "{:?}",
        sonoran_cms::ApiKey::new(TEST_API_KEY).expect("a key")
    ));
    shown.push(format!(
        "{:?}",
        Client::builder(TEST_API_KEY)
            .base_url("http://example.com")
            .build()
            .map(drop)
    ));

    let logged = logs.text();
    assert!(
        logged.contains("retrying"),
        "the retries were logged: {logged}"
    );
    for text in shown.iter().chain([&logged]) {
        assert!(!text.contains(TEST_API_KEY), "the key leaked into: {text}");
    }
}

#[test]
fn construction_errors_read_well() {
    let insecure = Client::builder("k")
        .base_url("http://api.sonorancms.com")
        .build()
        .map(drop);
    assert_eq!(
        insecure
            .expect_err("plain http to a remote host")
            .to_string(),
        "the base URL `http://api.sonorancms.com` is plain http to a remote host, which would send the API key \
         unencrypted; use https"
    );
    let empty = Client::builder("").build().map(drop);
    assert_eq!(
        empty.expect_err("an empty key").to_string(),
        "the API key is empty"
    );
}
