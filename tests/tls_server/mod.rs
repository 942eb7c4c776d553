//! A small local HTTPS server on 127.0.0.1 for tests/tls.rs and
//! benches/tls_handshake.rs: rustls on the `ring` provider (whichever provider
//! the client under test has), the test certificate of tests/fixtures/tls/,
//! one fixed JSON answer per request and `Connection: close`, so every request
//! costs the client a fresh TCP connection and TLS handshake. It can also
//! serve plain HTTP, the benchmark's baseline. It stops when dropped; each
//! connection is bounded in time and size.

#![allow(dead_code)] // each user takes the parts it needs

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// The test CA (its key was thrown away once the server certificate was signed).
pub const CA_PEM: &str = include_str!("../fixtures/tls/ca.pem");
const SERVER_CERT_PEM: &str = include_str!("../fixtures/tls/server.pem");
const SERVER_KEY_PEM: &str = include_str!("../fixtures/tls/server.key");

/// The longest a connection may take, and the largest request head + body read.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(5);
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// The server's TLS settings: the test certificate for `localhost` and
/// 127.0.0.1, on ring, offering HTTP/1.1.
pub fn server_config() -> ServerConfig {
    server_config_with(rustls::crypto::ring::default_provider())
}

/// [`server_config`] on another provider (e.g. one restricted to some key
/// exchange groups).
pub fn server_config_with(provider: rustls::crypto::CryptoProvider) -> ServerConfig {
    let chain = CertificateDer::pem_slice_iter(SERVER_CERT_PEM.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("the fixture certificate is PEM");
    let key =
        PrivateKeyDer::from_pem_slice(SERVER_KEY_PEM.as_bytes()).expect("the fixture key is PEM");
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("the provider supports TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the fixture key matches its certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// A running server. Dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    tls: bool,
    accept_loop: JoinHandle<()>,
    answered: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Server {
    /// An HTTPS server with `config`, answering every request with `body`.
    pub async fn https(config: ServerConfig, body: &str) -> Self {
        Self::start(Some(TlsAcceptor::from(Arc::new(config))), body).await
    }

    /// The same server without TLS.
    pub async fn http(body: &str) -> Self {
        Self::start(None, body).await
    }

    async fn start(acceptor: Option<TlsAcceptor>, body: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let answered = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let response: Arc<[u8]> = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
        .into();
        let tls = acceptor.is_some();
        let (count, seen) = (answered.clone(), bodies.clone());
        let accept_loop = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                let (acceptor, response) = (acceptor.clone(), response.clone());
                let (count, seen) = (count.clone(), seen.clone());
                let record = move |body: Vec<u8>| {
                    seen.lock().unwrap().push(body);
                    count.fetch_add(1, Ordering::SeqCst);
                };
                tokio::spawn(tokio::time::timeout(CONNECTION_DEADLINE, async move {
                    match acceptor {
                        Some(acceptor) => {
                            // An error here is a client that refused our certificate.
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                answer(stream, &response, record).await;
                            }
                        }
                        None => answer(tcp, &response, record).await,
                    }
                }));
            }
        });
        Self {
            addr,
            tls,
            accept_loop,
            answered,
            bodies,
        }
    }

    /// `https://127.0.0.1:PORT` (or `http://`).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// `https://localhost:PORT`: the certificate's DNS name.
    pub fn localhost_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// How many requests were answered (each on its own connection).
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }

    /// The request bodies received, in the order they were answered.
    pub fn bodies(&self) -> Vec<Vec<u8>> {
        self.bodies.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

/// Reads one request (head, then `content-length` bytes of body), hands its
/// body to `record` (before answering, so a client that has its answer sees
/// it recorded), writes `response` and closes. A broken request gets nothing.
async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    response: &[u8],
    record: impl FnOnce(Vec<u8>),
) {
    if let Some(body) = read_request(&mut stream).await {
        record(body);
        if stream.write_all(response).await.is_ok() {
            let _ = stream.shutdown().await;
        }
    }
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buffer.len() + n > MAX_REQUEST_BYTES {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    if head_end + length > MAX_REQUEST_BYTES {
        return None;
    }
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Some(buffer[head_end..head_end + length].to_vec())
}
