//! Serving connections: HTTP/1.1 over hyper with a deadline on every request's headers, and
//! shutdown with a deadline.
//!
//! axum's `serve` offers neither: a client that sends half a request head and then waits (or
//! trickles a byte now and then) held a connection and its task open without end, so a few
//! hundred such clients would exhaust the process's file descriptors.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// How long a client may take to send a request's head (request line and headers), from
    /// the moment the server waits for it; past it the connection is closed without an
    /// answer. The same deadline closes a keep-alive connection that stays idle that long.
    pub header_read_timeout: Duration,
    /// After shutdown starts, how long in-flight requests may run before they are abandoned.
    pub grace_period: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish for at most the grace period: a slow request or a client holding
/// a connection would otherwise keep the process up until the platform kills it. Past the
/// deadline the remaining connections are abandoned, to be closed when the runtime stops.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    // `true` once shutdown starts: every connection finishes its request and closes.
    let (stopping_sender, stopping) = watch::channel(false);
    // Every connection task holds a receiver: when the last is dropped, all are closed.
    let (connections_closed, open_connection) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
        };
        tokio::spawn(serve_connection(
            stream,
            router.clone(),
            options.header_read_timeout,
            stopping.clone(),
            open_connection.clone(),
        ));
    }
    drop(listener);
    let _ = stopping_sender.send(true);
    drop(open_connection);
    let grace_period = options.grace_period;
    if tokio::time::timeout(grace_period, connections_closed.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_period_seconds = grace_period.as_secs_f64(),
            "shutdown grace period over: abandoning the requests still running"
        );
    }
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    router: Router,
    header_read_timeout: Duration,
    mut stopping: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router))
        .with_upgrades();
    let mut connection = pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                // A client that went away or timed out: nothing to tell anyone.
                tracing::trace!(error = %error, "connection ended with an error");
            }
            return;
        }
        _ = stopping.wait_for(|stopping| *stopping) => {}
    }
    // Shutdown: finish the request in flight, if any, then close.
    connection.as_mut().graceful_shutdown();
    if let Err(error) = connection.await {
        tracing::trace!(error = %error, "connection ended with an error");
    }
}

/// An accept error: a connection reset before it was accepted is the client's business; any
/// other (out of file descriptors) is logged and accepting pauses a second, as axum does, so
/// the loop does not spin.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %error, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
