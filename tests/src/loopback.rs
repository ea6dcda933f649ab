//! Real HTTP servers on 127.0.0.1 for end-to-end tests: one that records every
//! request and answers from a script, and raw TCP servers that misbehave on purpose
//! (reset the connection, cut a body short, never answer).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// How the server answers one request.
#[derive(Debug, Clone)]
pub struct CannedResponse {
    /// The status code.
    pub status: u16,
    /// Extra headers, such as `Content-Type` or `Retry-After`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl CannedResponse {
    /// A response with no body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    /// A response with a body of the given content type.
    pub fn with_body(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: body.to_owned(),
            ..Self::empty(status)
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answers only after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Chooses the answer to the `index`-th request (from 0).
pub type Script = Arc<dyn Fn(usize, &RecordedRequest) -> CannedResponse + Send + Sync>;

#[derive(Clone)]
struct ServerState {
    script: Script,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    counter: Arc<AtomicUsize>,
}

/// A running loopback server. It stops when the test's runtime shuts down.
pub struct LoopbackServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl LoopbackServer {
    /// Serves `response` to every request.
    pub async fn start(response: CannedResponse) -> std::io::Result<Self> {
        Self::start_scripted(Arc::new(move |_, _| response.clone())).await
    }

    /// Serves the responses of `script`.
    pub async fn start_scripted(script: Script) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = ServerState {
            script,
            requests: Arc::clone(&requests),
            counter: Arc::new(AtomicUsize::new(0)),
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
    let request = RecordedRequest {
        method,
        uri,
        headers,
        body,
    };
    let index = state.counter.fetch_add(1, Ordering::SeqCst);
    let canned = (state.script)(index, &request);
    state
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    if !canned.delay.is_zero() {
        tokio::time::sleep(canned.delay).await;
    }
    let mut response = Response::new(Body::from(canned.body));
    *response.status_mut() =
        StatusCode::from_u16(canned.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in canned.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// How a [`RawServer`] misbehaves once it has read a request.
#[derive(Debug, Clone, Copy)]
pub enum Misbehaviour {
    /// Writes these bytes, then resets the connection (TCP RST).
    WriteThenReset(&'static [u8]),
    /// Writes these bytes, then closes the connection normally.
    WriteThenClose(&'static [u8]),
}

/// A TCP server on 127.0.0.1 that speaks just enough HTTP to act as a
/// misbehaving server or a gateway that closes connections, and counts the
/// connections it accepts.
pub struct RawServer {
    address: SocketAddr,
    connections: Arc<AtomicUsize>,
    client_closed: Arc<tokio::sync::Notify>,
}

impl RawServer {
    /// Accepts connections until the runtime stops, misbehaving on each request.
    pub async fn start(misbehaviour: Misbehaviour) -> std::io::Result<Self> {
        Self::serving(move |mut stream, _| async move {
            if read_request(&mut stream).await.is_err() {
                return;
            }
            match misbehaviour {
                Misbehaviour::WriteThenReset(bytes) => {
                    let _ = stream.write_all(bytes).await;
                    let _ = stream.flush().await;
                    // Linger 0: closing sends RST instead of FIN.
                    let _ = stream.set_zero_linger();
                    drop(stream);
                }
                Misbehaviour::WriteThenClose(bytes) => {
                    let _ = stream.write_all(bytes).await;
                    let _ = stream.shutdown().await;
                }
            }
        })
        .await
    }

    /// A keep-alive gateway: answers every request with `204 No Content`, keeps
    /// each connection open for the next request, and closes a connection that
    /// has been idle for `idle_close` (measured on tokio's clock, so a test can
    /// advance it).
    pub async fn keep_alive(idle_close: Duration) -> std::io::Result<Self> {
        Self::serving(move |mut stream, _| async move {
            loop {
                match tokio::time::timeout(idle_close, read_request(&mut stream)).await {
                    Ok(Ok(())) => {
                        if stream.write_all(NO_CONTENT).await.is_err() {
                            return;
                        }
                    }
                    // The client closed it.
                    Ok(Err(_)) => return,
                    // Idle too long: the gateway closes it.
                    Err(_) => {
                        let _ = stream.shutdown().await;
                        return;
                    }
                }
            }
        })
        .await
    }

    /// A gateway that closes each connection itself right after answering its
    /// first request (`204`, kept alive as far as the headers say), as one
    /// closing an idle connection does; it tells ([`Self::client_saw_a_close`])
    /// when the client has closed its side too, proof that it saw the close.
    pub async fn closing_after_each_answer() -> std::io::Result<Self> {
        Self::serving(move |mut stream, client_closed| async move {
            if read_request(&mut stream).await.is_err() {
                return;
            }
            let _ = stream.write_all(NO_CONTENT).await;
            let _ = stream.shutdown().await;
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
            client_closed.notify_one();
        })
        .await
    }

    /// Accepts connections until the runtime stops, counting them and serving
    /// each with `serve_connection` (which gets the notifier behind
    /// [`Self::client_saw_a_close`]).
    async fn serving<F, Served>(serve_connection: F) -> std::io::Result<Self>
    where
        F: Fn(tokio::net::TcpStream, Arc<tokio::sync::Notify>) -> Served + Send + 'static,
        Served: Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let client_closed = Arc::new(tokio::sync::Notify::new());
        let (counter, notifier) = (Arc::clone(&connections), Arc::clone(&client_closed));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve_connection(stream, Arc::clone(&notifier)));
            }
        });
        Ok(Self {
            address,
            connections,
            client_closed,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Waits until a client has closed a connection that a
    /// [`Self::closing_after_each_answer`] server closed.
    pub async fn client_saw_a_close(&self) {
        self.client_closed.notified().await;
    }
}

/// A bodiless success, kept alive.
const NO_CONTENT: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";

/// Reads one request's head and its `Content-Length` body.
async fn read_request(stream: &mut tokio::net::TcpStream) -> std::io::Result<()> {
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        received.extend_from_slice(&buffer[..read]);
        if let Some(head_end) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
            let body_length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            if received.len() >= head_end + 4 + body_length {
                return Ok(());
            }
        }
    }
}

/// A base URL on 127.0.0.1 where nothing listens: connecting is refused.
pub async fn refusing_base_url() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{address}"))
}
