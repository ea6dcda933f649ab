//! A real `redis-server` for the shared rate-limiter tests and benchmark: started
//! on a free loopback port in a temporary folder, with its append-only file on so
//! a restart keeps its data, stopped when dropped.
//!
//! The Redis tests are real (never a fake Redis). On a machine without
//! `redis-server` (a fresh clone with only Rust), each prints one line saying it
//! did not run and why, and passes, so the README's test command works
//! anywhere; with `SONORAN_CMS_REQUIRE_REDIS=1` (CI sets it, and installs Redis)
//! a missing `redis-server` fails them instead.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) `redis-server` of the tests.
pub struct RedisServer {
    port: u16,
    folder: tempfile::TempDir,
    process: Option<Child>,
    /// Further `redis-server` arguments (a TLS port, ACL users).
    extra_arguments: Vec<String>,
}

/// Set (to anything but `0` or empty) to make a missing `redis-server` fail
/// the Redis tests rather than skip them.
pub const REQUIRE_VARIABLE: &str = "SONORAN_CMS_REQUIRE_REDIS";

/// The `redis-server` program to run (default `redis-server` on the `PATH`).
pub const PROGRAM_VARIABLE: &str = "SONORAN_CMS_REDIS_SERVER";

fn program() -> String {
    std::env::var(PROGRAM_VARIABLE)
        .ok()
        .filter(|program| !program.is_empty())
        .unwrap_or_else(|| "redis-server".to_owned())
}

/// Whether `redis-server` can be run here.
pub fn available() -> bool {
    Command::new(program())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether a missing `redis-server` is a failure ([`REQUIRE_VARIABLE`]).
pub fn required() -> bool {
    std::env::var(REQUIRE_VARIABLE).is_ok_and(|value| !value.is_empty() && value != "0")
}

impl RedisServer {
    /// Starts one for the test `test`, or, when `redis-server` is not
    /// installed, prints one line saying the test did not run and why, and
    /// gives `None` (the test then returns).
    ///
    /// # Panics
    ///
    /// When `redis-server` is missing and [`REQUIRE_VARIABLE`] is set, or it
    /// does not answer within 10 s.
    pub fn start_or_skip(test: &str) -> Option<Self> {
        Self::start_with_or_skip(test, Vec::new())
    }

    /// As [`RedisServer::start_or_skip`], with further `redis-server`
    /// arguments (`--tls-port`, `--user`); the plain port still listens, for
    /// the readiness check.
    pub fn start_with_or_skip(test: &str, extra_arguments: Vec<String>) -> Option<Self> {
        if available() {
            return Some(Self::start_with(extra_arguments));
        }
        assert!(
            !required(),
            "{test}: `{}` is not installed, and {REQUIRE_VARIABLE} says the Redis tests must run \
             (apt-get install redis-server)",
            program()
        );
        // Straight to the process's stderr: the test harness captures `println!`
        // and `eprintln!`, and this line is meant to be seen.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {test} did not run: `{}` is not installed (apt-get install redis-server, or set \
             {PROGRAM_VARIABLE}); set {REQUIRE_VARIABLE}=1 to make this a failure",
            program()
        );
        None
    }

    /// Starts one on a free port and waits until it answers `PING`.
    ///
    /// # Panics
    ///
    /// When `redis-server` is not installed (see [`RedisServer::start_or_skip`]),
    /// or it does not answer within 10 s.
    pub fn start() -> Self {
        Self::start_with(Vec::new())
    }

    fn start_with(extra_arguments: Vec<String>) -> Self {
        let mut server = Self {
            port: free_port(),
            folder: tempfile::tempdir().expect("a temporary folder"),
            process: None,
            extra_arguments,
        };
        server.resume();
        server
    }

    /// The URL clients connect to.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (its data stays in its folder) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on the same port with the same data, and waits
    /// until it answers.
    pub fn resume(&mut self) {
        let data: PathBuf = self.folder.path().to_path_buf();
        let process = Command::new(program())
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
                &data.display().to_string(),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .args(&self.extra_arguments)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server; .ci/run installs it)");
        self.process = Some(process);
        let started = Instant::now();
        while !self.answers_ping() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not answer on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        // `+PONG`, or `-NOAUTH` from a server whose default user is off: up.
        let mut answer = [0_u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && (&answer == b"+PONG\r\n" || answer.starts_with(b"-NOAUTH"))
    }

    /// The folder the server keeps its data in (for files a test gives it).
    pub fn folder(&self) -> &std::path::Path {
        self.folder.path()
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
