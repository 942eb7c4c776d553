//! A scripted HTTP/1.1 server on 127.0.0.1 for fault tests: each request
//! gets the next scripted action (answer, delay then answer, or drop the
//! connection); the last action repeats. It records every request body and
//! stops when dropped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub enum Action {
    /// Status, extra headers, body.
    Answer(u16, Vec<(&'static str, String)>, String),
    /// Wait, then act.
    Delay(Duration, Box<Action>),
    /// Close the connection without answering.
    Drop,
    /// Whatever status and body bytes the test put there last.
    Shared(Arc<Mutex<(u16, Vec<u8>)>>),
}

pub fn json(status: u16, body: serde_json::Value) -> Action {
    Action::Answer(
        status,
        vec![("content-type", "application/json".into())],
        body.to_string(),
    )
}

pub fn html(status: u16, text: &str) -> Action {
    Action::Answer(
        status,
        vec![("content-type", "text/html".into())],
        text.into(),
    )
}

pub struct ScriptedServer {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    pub async fn start(script: Vec<Action>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let bodies: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let seen = bodies.clone();
        let script = Arc::new(script);
        let task = tokio::spawn(async move {
            // Bounded: a test never needs more connections than this.
            for _ in 0..10_000 {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                // Head and body go out in two writes: without this, Nagle and
                // delayed ACKs add 40 ms to every answer.
                let _ = socket.set_nodelay(true);
                let seen = seen.clone();
                let script = script.clone();
                tokio::spawn(async move {
                    // Keep-alive: several requests per connection.
                    for _ in 0..10_000 {
                        let Some(body) = read_request(&mut socket).await else {
                            return;
                        };
                        let index = {
                            let mut seen = seen.lock().unwrap();
                            seen.push(serde_json::from_slice(&body).unwrap_or_default());
                            seen.len() - 1
                        };
                        let mut action = script[index.min(script.len() - 1)].clone();
                        while let Action::Delay(d, next) = action {
                            tokio::time::sleep(d).await;
                            action = *next;
                        }
                        match action {
                            Action::Answer(status, headers, body) => {
                                let mut head = format!(
                                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n",
                                    body.len()
                                );
                                for (k, v) in headers {
                                    head.push_str(&format!("{k}: {v}\r\n"));
                                }
                                head.push_str("\r\n");
                                if socket.write_all(head.as_bytes()).await.is_err()
                                    || socket.write_all(body.as_bytes()).await.is_err()
                                {
                                    return;
                                }
                            }
                            Action::Shared(shared) => {
                                let (status, body) = shared.lock().unwrap().clone();
                                let head = format!(
                                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n",
                                    body.len()
                                );
                                if socket.write_all(head.as_bytes()).await.is_err()
                                    || socket.write_all(&body).await.is_err()
                                {
                                    return;
                                }
                            }
                            Action::Drop | Action::Delay(..) => return,
                        }
                    }
                });
            }
        });
        Self { url, bodies, task }
    }

    pub fn requests(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }
}

/// Reads one request; returns its body, or None when the peer closed.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf[head_end..head_end + length].to_vec())
}
