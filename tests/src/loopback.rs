//! A real HTTP server on 127.0.0.1 for end-to-end tests: it records every request
//! it receives and answers each with a response the test chose.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: Method,
    /// Path and query.
    pub uri: Uri,
    /// Every header, as received.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

/// How the server answers.
#[derive(Debug, Clone)]
pub struct CannedResponse {
    /// The status code.
    pub status: u16,
    /// Extra headers, such as `Content-Type` or `Retry-After`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl CannedResponse {
    /// A response with no body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// A response with a body of the given content type.
    pub fn with_body(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: body.to_owned(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

#[derive(Clone)]
struct ServerState {
    response: CannedResponse,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

/// A running loopback server. It stops when the test's runtime shuts down.
pub struct LoopbackServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl LoopbackServer {
    /// Binds an ephemeral port on 127.0.0.1 and serves `response` to every request.
    pub async fn start(response: CannedResponse) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = ServerState {
            response,
            requests: Arc::clone(&requests),
        };
        let router = axum::Router::new().fallback(answer).with_state(state);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { address, requests })
    }

    /// `http://127.0.0.1:<port>`, to use as the client's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn answer(
    State(state): State<ServerState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    state
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RecordedRequest {
            method,
            uri,
            headers,
            body,
        });
    let canned = state.response;
    let mut response = Response::new(Body::from(canned.body));
    *response.status_mut() =
        StatusCode::from_u16(canned.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in canned.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
