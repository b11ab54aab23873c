//! Serving the API over TLS: accepting connections within limits, the TLS handshake, HTTP/1.1
//! with upgrades, and shutdown. The limits act before authentication, so that nobody, with a
//! token or without, can hold the sandbox's file descriptors or tasks: a cap on connections
//! in total and per client address, on those still in their TLS handshake per address, and
//! timeouts for the handshake and for a request's headers (which is also how long an idle
//! keep-alive connection stays open). `Sandbox::serve` runs [`serve`] until a shutdown future
//! resolves (`kubetutor sandbox`); `Sandbox::serve_on` starts a [`Serving`], the guard the
//! tutor, tests and benches hold, which stops the server when dropped.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// What one sandbox server lets its clients hold.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Open connections in all.
    pub total: usize,
    /// Open connections from one address (a workshop attendee's machine).
    pub per_address: usize,
    /// Connections from one address that have not finished their TLS handshake.
    pub handshaking_per_address: usize,
    /// Time for a client to finish its TLS handshake.
    pub handshake_timeout: Duration,
    /// Time for a request's headers to arrive, counted from the end of the previous request on
    /// a kept-alive connection, so it is also the idle timeout (upstream's ReadHeaderTimeout is 32 s).
    pub header_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            total: 4096,
            per_address: 512,
            handshaking_per_address: 128,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(32),
        }
    }
}

/// Serve `router` over TLS on `listener` until `shutdown` resolves, with the default limits.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    tls: tokio_rustls::TlsAcceptor,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, tls, ConnLimits::default(), shutdown).await
}

/// Connections open, by address: the whole count and those still in their handshake.
#[derive(Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, (usize, usize)>,
}

/// One connection's place in [`Counts`], given back when it closes.
struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
    handshaking: bool,
}

impl Slot {
    fn take(counts: &Arc<Mutex<Counts>>, ip: IpAddr, limits: &ConnLimits) -> Option<Slot> {
        let mut c = counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (open, shaking) = c.by_address.get(&ip).copied().unwrap_or((0, 0));
        if c.total >= limits.total || open >= limits.per_address || shaking >= limits.handshaking_per_address {
            return None;
        }
        c.total += 1;
        c.by_address.insert(ip, (open + 1, shaking + 1));
        Some(Slot { counts: counts.clone(), ip, handshaking: true })
    }

    fn handshake_done(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, shaking)) = c.by_address.get_mut(&self.ip) {
            *shaking -= 1;
        }
        self.handshaking = false;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        c.total -= 1;
        if let Some((open, shaking)) = c.by_address.get_mut(&self.ip) {
            *open -= 1;
            if self.handshaking {
                *shaking -= 1;
            }
            if *open == 0 {
                c.by_address.remove(&self.ip);
            }
        }
    }
}

/// [`serve`] with the given limits. A connection over a limit is closed at once, before any
/// TLS; clients see a reset and retry, and everyone else is served as before.
pub async fn serve_with(
    listener: TcpListener,
    router: axum::Router,
    tls: tokio_rustls::TlsAcceptor,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let counts = Arc::new(Mutex::new(Counts::default()));
    let limits = Arc::new(limits);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Some(slot) = Slot::take(&counts, peer.ip(), &limits) else {
                    tracing::debug!("connection from {peer} refused: over the connection limits");
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                conns.spawn(connection(tcp, slot, limits.clone(), tls.clone(), router.clone(), stop_rx.clone()));
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    let _ = stop_tx.send(true);
    let drain = async { while conns.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_millis(500), drain).await;
    conns.abort_all();
    Ok(())
}

async fn connection(
    tcp: tokio::net::TcpStream,
    mut slot: Slot,
    limits: Arc<ConnLimits>,
    tls: tokio_rustls::TlsAcceptor,
    router: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // A client that never finishes its handshake must not hold a task forever.
    let stream = match tokio::time::timeout(limits.handshake_timeout, tls.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!("TLS handshake failed: {e}");
            return;
        }
        Err(_) => return,
    };
    slot.handshake_done();
    let svc = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| router.clone().oneshot(req));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
    drop(slot);
}

/// A server running in its own task, stopped when this guard is dropped (or by [`Serving::stop`]).
/// What the tutor, the tests and the benches hold while a sandbox is served on a port.
pub struct Serving {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Serving {
    /// Serve `router` over TLS on `listener` in a new task.
    pub fn spawn(
        listener: TcpListener,
        router: axum::Router,
        tls: tokio_rustls::TlsAcceptor,
        limits: ConnLimits,
    ) -> std::io::Result<Serving> {
        let addr = listener.local_addr()?;
        let url =
            if addr.is_ipv6() { format!("https://[{}]:{}", addr.ip(), addr.port()) } else { format!("https://{addr}") };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(listener, router, tls, limits, async move {
            // A dropped sender stops the server as a sent stop does.
            let _ = stopped.await;
        }));
        Ok(Serving { url, stop: Some(stop), task: Some(task) })
    }

    /// `https://ADDRESS:PORT` of the listener (an unspecified address is given as it is).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stop accepting, close the connections, and wait until the server's task has ended.
    pub async fn stop(mut self) -> std::io::Result<()> {
        drop(self.stop.take());
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        drop(self.stop.take());
    }
}
