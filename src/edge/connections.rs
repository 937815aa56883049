//! The HTTP server: poem's endpoint over hyper's HTTP/1.1 connections, with the limits poem's own `Server` does
//! not set. poem 3 offers only an inactivity timeout that any byte resets (a client trickling one byte a second
//! holds its connection forever) and no cap on connections; hyper has a header timeout, but only in its HTTP/1
//! builder, which poem does not expose. So this module accepts connections itself and watches each one:
//!
//! - **header read**: a request's head (request line and headers) must arrive within `header_read` of its first
//!   byte, and a new connection must send a complete head within `header_read` of being accepted (a connection
//!   that sends nothing is closed then too);
//! - **idle keep-alive**: after a response, the connection may wait `idle` for the next request's first byte;
//! - **stalled response**: a client that reads nothing of a response for `idle` is dropped;
//! - **body read**: not here. The body is read by the body-cap middleware in `startup`, which answers 408 when it
//!   does not arrive within its timeout (a 408 is more use to a client than a closed socket);
//! - **connection cap**: at most `max_connections` are served at once. Above that, new connections are not
//!   accepted: they wait in the operating system's listen queue, unread, until a served connection closes. The
//!   timeouts bound how long an idle or slow client can hold a slot, so the queue drains.
//!
//! A closed connection gets no answer: hyper (and most servers) close a connection whose head is late without
//! one. Served protocol: HTTP/1.1 and 1.0. HTTP/2 (cleartext prior knowledge, which poem's server also spoke) is
//! left to the proxy that terminates TLS in front of the service.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use poem::endpoint::BoxEndpoint;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::Config;

/// The limits each connection is held to; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read: Duration,
    pub idle: Duration,
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub fn from_config(config: &Config) -> Self {
        ConnectionLimits {
            header_read: Duration::from_millis(config.http_header_timeout_ms),
            idle: Duration::from_millis(config.http_idle_timeout_ms),
            max_connections: config.http_max_connections,
        }
    }
}

/// Why a connection was closed by the server rather than by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// A request head (or a new connection's first request) did not arrive in time.
    HeaderRead,
    /// No new request after the last response.
    Idle,
    /// The client stopped reading a response.
    StalledResponse,
}

impl Expiry {
    fn as_str(self) -> &'static str {
        match self {
            Expiry::HeaderRead => "request head not received in time",
            Expiry::Idle => "idle keep-alive connection",
            Expiry::StalledResponse => "client stopped reading the response",
        }
    }
}

/// Where a connection stands. Pure: every method takes the time, so the rules are unit-tested without waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Phase {
    /// Requests whose response has not been sent in full yet.
    in_flight: usize,
    /// Between requests: when the last response ended (`None` on a connection that has served nothing).
    idle_since: Option<Instant>,
    /// Between requests: when the current head began (its first byte, or the accept of a new connection).
    head_since: Option<Instant>,
    /// When a write to the client started waiting for the client to read.
    write_blocked_since: Option<Instant>,
}

impl Phase {
    fn accepted(now: Instant) -> Phase {
        Phase {
            in_flight: 0,
            idle_since: None,
            head_since: Some(now),
            write_blocked_since: None,
        }
    }

    fn bytes_read(&mut self, now: Instant) {
        if self.in_flight == 0 && self.head_since.is_none() {
            self.head_since = Some(now);
        }
    }

    fn request_started(&mut self) {
        self.in_flight += 1;
        self.idle_since = None;
        self.head_since = None;
    }

    fn response_ended(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0 {
            self.idle_since = Some(now);
            self.head_since = None;
        }
    }

    fn write_blocked(&mut self, now: Instant) {
        self.write_blocked_since.get_or_insert(now);
    }

    fn write_progressed(&mut self) {
        self.write_blocked_since = None;
    }

    /// The earliest moment the connection expires, and why; `None` while a request is being handled (its body
    /// has its own timeout, and a handler may take as long as it takes).
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Expiry)> {
        let stalled = self
            .write_blocked_since
            .map(|t| (t + limits.idle, Expiry::StalledResponse));
        let waiting = if self.in_flight > 0 {
            None
        } else if let Some(t) = self.head_since {
            Some((t + limits.header_read, Expiry::HeaderRead))
        } else {
            self.idle_since.map(|t| (t + limits.idle, Expiry::Idle))
        };
        match (stalled, waiting) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}

/// One connection's phase, shared by its socket wrapper, its requests and its watchdog.
struct Watched {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Watched {
    fn update(&self, change: impl FnOnce(&mut Phase)) {
        let mut phase = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        let before = phase.clone();
        change(&mut phase);
        if *phase != before {
            self.changed.notify_one();
        }
    }

    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Expiry)> {
        self.phase
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .deadline(limits)
    }

    /// Completes when the connection has expired.
    async fn expired(&self, limits: ConnectionLimits) -> Expiry {
        loop {
            let changed = self.changed.notified();
            match self.deadline(&limits) {
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// The socket, telling the watch when a request's bytes arrive and when writes wait on the client.
struct WatchedIo {
    inner: TcpStream,
    watched: Arc<Watched>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watched.update(|p| p.bytes_read(Instant::now()));
        }
        polled
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        this.note_write(&polled);
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.note_write(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl WatchedIo {
    fn note_write<T>(&self, polled: &Poll<std::io::Result<T>>) {
        match polled {
            Poll::Pending => self.watched.update(|p| p.write_blocked(Instant::now())),
            Poll::Ready(_) => self.watched.update(Phase::write_progressed),
        }
    }
}

/// Held by a request from its head to the end of its response body: the connection is busy meanwhile.
struct InFlight(Arc<Watched>);

impl InFlight {
    fn start(watched: &Arc<Watched>) -> InFlight {
        watched.update(Phase::request_started);
        InFlight(watched.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.update(|p| p.response_ended(Instant::now()));
    }
}

/// A response body that ends its request's [`InFlight`] when hyper has sent it (or dropped it).
struct TrackedBody<B> {
    body: B,
    _in_flight: InFlight,
}

impl<B: Body + Unpin> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Serves `endpoint` on `listener` until `signal` completes; then stops accepting, lets requests in flight
/// finish within `grace`, and closes what is left.
pub async fn serve(
    listener: TcpListener,
    endpoint: BoxEndpoint<'static, Response>,
    limits: ConnectionLimits,
    signal: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let endpoint: Arc<BoxEndpoint<'static, Response>> = Arc::new(endpoint);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(signal);
    loop {
        let slot = tokio::select! {
            biased;
            _ = &mut signal => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let (stream, remote) = tokio::select! {
            biased;
            _ = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted: wait, go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            stream,
            local,
            remote,
            endpoint.clone(),
            limits,
            stopping.clone(),
            slot,
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_err() {
        tracing::warn!("shutdown grace period over: closing the connections still open");
        connections.shutdown().await;
    }
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    endpoint: Arc<BoxEndpoint<'static, Response>>,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let watched = Arc::new(Watched {
        phase: Mutex::new(Phase::accepted(Instant::now())),
        changed: Notify::new(),
    });
    let io = WatchedIo {
        inner: stream,
        watched: watched.clone(),
    };
    let service = hyper::service::service_fn({
        let watched = watched.clone();
        move |req: hyper::Request<Incoming>| {
            let in_flight = InFlight::start(&watched);
            let endpoint = endpoint.clone();
            async move {
                let req = poem::Request::from((
                    req,
                    LocalAddr(Addr::SocketAddr(local)),
                    RemoteAddr(Addr::SocketAddr(remote)),
                    poem::http::uri::Scheme::HTTP,
                ));
                let resp: hyper::Response<_> = endpoint.get_response(req).await.into();
                Ok::<_, Infallible>(resp.map(|body| TrackedBody {
                    body,
                    _in_flight: in_flight,
                }))
            }
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let expired = watched.expired(limits);
    tokio::pin!(expired);
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(e) = served {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
            return;
        }
        why = &mut expired => {
            tracing::debug!(%remote, reason = why.as_str(), "closing connection");
            return;
        }
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    // Shutting down: answer the request in flight, if any, then close; the watch still applies meanwhile.
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn.as_mut() => {}
        why = &mut expired => {
            tracing::debug!(%remote, reason = why.as_str(), "closing connection");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ConnectionLimits = ConnectionLimits {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(60),
        max_connections: 4,
    };

    fn at(start: Instant, seconds: u64) -> Instant {
        start + Duration::from_secs(seconds)
    }

    #[track_caller]
    fn expires(phase: &Phase, when: Instant, why: Expiry) {
        assert_eq!(phase.deadline(&LIMITS), Some((when, why)));
    }

    #[test]
    fn a_new_connection_must_send_its_head_within_the_header_timeout_of_being_accepted() {
        let t0 = Instant::now();
        let mut phase = Phase::accepted(t0);
        expires(&phase, at(t0, 10), Expiry::HeaderRead);
        // Bytes trickling in do not move the deadline: the head as a whole is timed.
        phase.bytes_read(at(t0, 5));
        phase.bytes_read(at(t0, 9));
        expires(&phase, at(t0, 10), Expiry::HeaderRead);
    }

    #[test]
    fn a_request_being_handled_has_no_deadline_and_its_end_starts_the_idle_wait() {
        let t0 = Instant::now();
        let mut phase = Phase::accepted(t0);
        phase.request_started();
        phase.bytes_read(at(t0, 100));
        assert_eq!(phase.deadline(&LIMITS), None);
        phase.response_ended(at(t0, 200));
        expires(&phase, at(t0, 260), Expiry::Idle);
    }

    #[test]
    fn the_first_byte_of_the_next_request_starts_its_header_timeout() {
        let t0 = Instant::now();
        let mut phase = Phase::accepted(t0);
        phase.request_started();
        phase.response_ended(at(t0, 1));
        phase.bytes_read(at(t0, 30));
        expires(&phase, at(t0, 40), Expiry::HeaderRead);
        phase.bytes_read(at(t0, 35));
        expires(&phase, at(t0, 40), Expiry::HeaderRead);
    }

    #[test]
    fn a_response_the_client_does_not_read_expires_after_the_idle_timeout() {
        let t0 = Instant::now();
        let mut phase = Phase::accepted(t0);
        phase.request_started();
        phase.write_blocked(at(t0, 2));
        phase.write_blocked(at(t0, 3));
        expires(&phase, at(t0, 62), Expiry::StalledResponse);
        phase.write_progressed();
        assert_eq!(phase.deadline(&LIMITS), None);
    }

    #[test]
    fn pipelined_requests_keep_the_connection_busy_until_the_last_response_ends() {
        let t0 = Instant::now();
        let mut phase = Phase::accepted(t0);
        phase.request_started();
        phase.request_started();
        phase.response_ended(at(t0, 1));
        assert_eq!(phase.deadline(&LIMITS), None);
        phase.response_ended(at(t0, 2));
        expires(&phase, at(t0, 62), Expiry::Idle);
    }
}
