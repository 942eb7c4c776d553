//! The sandbox's accept loop: hyper's HTTP/1 server around the axum router,
//! with what `axum::serve` lacks for a server that faces hostile clients: a
//! header-read timeout (a client that sends half a request, or nothing, is
//! closed once it has had that long), an idle timeout (a
//! kept-alive connection with nothing in flight is closed),
//! a connection limit (past it, new connections wait in the kernel's
//! backlog until one closes), and a graceful shutdown that stops accepting,
//! lets answers in progress finish and closes idle connections at once.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How long the loop pauses after a failed `accept` (out of file
/// descriptors, say) before trying again, instead of spinning.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// The limits the accept loop enforces (from `SandboxConfig`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
}

/// Serves `app` on `listener` until `stop` fires (or its sender is
/// dropped), then shuts down gracefully: returns when every connection has
/// closed. The caller bounds that wait (dropping this future drops every
/// connection).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_seen) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        // Finished connections are reaped here so the set stays small.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            _ = &mut stop => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!(error = %e, "sandbox: accept failed");
                    tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
                    continue;
                }
            },
        };
        connections.spawn(connection(
            stream,
            app.clone(),
            limits,
            closing_seen.clone(),
            permit,
        ));
    }
    drop(listener);
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
}

/// One connection, from accept to close; holds its slot of the limit.
///
/// hyper's own header-read timeout also runs while a kept-alive connection
/// waits for its next request, which would make it the idle timeout too;
/// so both clocks are kept here instead: the header clock starts when the
/// connection opens or, on a kept-alive one, at the first byte of the next
/// request, and stops when hyper hands the request over; the idle clock
/// starts when the last answer was produced.
async fn connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mut closing: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let tracker = activity.clone();
    let app = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let busy = tracker.begin();
        let call = hyper::service::Service::call(&app, request);
        async move {
            let response = call.await;
            drop(busy);
            response
        }
    });
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let timer = tokio::time::sleep_until(Instant::now());
    tokio::pin!(timer);
    let mut shutting_down = false;
    loop {
        let deadline = activity.deadline(limits);
        if timer.deadline() != deadline.at() {
            timer.as_mut().reset(deadline.at());
        }
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    // A client that went away, an injected dropped
                    // connection: ordinary for this server.
                    tracing::debug!(error = %e, "sandbox: connection ended");
                }
                break;
            }
            // A request began arriving, was handed over or was answered:
            // the clocks changed.
            () = activity.changed.notified() => {}
            _ = closing.changed(), if !shutting_down => {
                shutting_down = true;
                if activity.is_busy() {
                    conn.as_mut().graceful_shutdown();
                } else {
                    // Idle, or half a request that will never be answered.
                    break;
                }
            }
            () = &mut timer => match activity.deadline(limits) {
                Deadline::Header(at) if at <= Instant::now() => {
                    tracing::debug!("sandbox: request headers not received in time; closing");
                    break;
                }
                Deadline::Idle(at) if at <= Instant::now() && !shutting_down => {
                    tracing::debug!("sandbox: closing an idle connection");
                    shutting_down = true;
                    conn.as_mut().graceful_shutdown();
                }
                _ => {}
            },
        }
    }
}

/// The next moment a connection's clocks must be looked at.
#[derive(Debug, Clone, Copy)]
enum Deadline {
    /// Half a request has arrived: it must be complete by then.
    Header(Instant),
    /// Nothing in flight: the connection closes then.
    Idle(Instant),
    /// A request is being answered: look again then.
    Busy(Instant),
}

impl Deadline {
    fn at(self) -> Instant {
        match self {
            Deadline::Header(at) | Deadline::Idle(at) | Deadline::Busy(at) => at,
        }
    }
}

/// What a connection is doing, as its clocks need it.
struct Activity {
    in_flight: AtomicUsize,
    clocks: std::sync::Mutex<Clocks>,
    changed: Notify,
}

struct Clocks {
    /// When the last answer was produced (or the connection opened).
    last_done: Instant,
    /// When the connection opened or the first byte of a request not yet
    /// handed over arrived.
    head_started: Option<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            // A new connection exists to send a request: its header clock
            // runs from the start, so a silent one cannot hold a slot for
            // the whole idle timeout.
            clocks: std::sync::Mutex::new(Clocks {
                last_done: Instant::now(),
                head_started: Some(Instant::now()),
            }),
            changed: Notify::new(),
        }
    }

    fn clocks(&self) -> std::sync::MutexGuard<'_, Clocks> {
        self.clocks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_busy(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) > 0
    }

    /// Bytes arrived: with nothing in flight, they start a request's head.
    fn bytes_arrived(&self) {
        if self.is_busy() {
            return;
        }
        let mut clocks = self.clocks();
        if clocks.head_started.is_none() {
            clocks.head_started = Some(Instant::now());
            drop(clocks);
            self.changed.notify_one();
        }
    }

    /// hyper handed a request over: its head is complete.
    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.clocks().head_started = None;
        self.changed.notify_one();
        Busy(self.clone())
    }

    fn deadline(&self, limits: Limits) -> Deadline {
        let now = Instant::now();
        if self.is_busy() {
            return Deadline::Busy(now + limits.header_read_timeout.min(limits.idle_timeout));
        }
        let clocks = self.clocks();
        match clocks.head_started {
            Some(started) => Deadline::Header(started + limits.header_read_timeout),
            None => Deadline::Idle(clocks.last_done + limits.idle_timeout),
        }
    }
}

/// A request in flight; its drop marks the connection idle again.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.clocks().last_done = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_one();
    }
}

/// The client's stream, telling [`Activity`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
