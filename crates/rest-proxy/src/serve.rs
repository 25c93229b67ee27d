//! Serving the gateway on a listener with graceful shutdown: on the signal it stops accepting,
//! cancels the waits in progress (they answer at once with where the work stood), and finishes
//! every in-flight request before returning.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::app;
use crate::state::AppState;

/// Serves until `shutdown` is cancelled, then drains.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let router = app(state.clone());
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.cancelled().await;
            state.cancel_waits();
        })
        .await
}

/// A gateway serving in the background (tests, the benchmark).
#[derive(Debug)]
pub struct RunningGateway {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningGateway {
    /// Binds `addr` (use `127.0.0.1:0` for a free port) and serves `state` in a task.
    pub async fn start(addr: SocketAddr, state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(listener, state, shutdown.clone()));
        Ok(Self {
            addr,
            shutdown,
            task,
        })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, finishes in-flight requests, and returns the server's result.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.shutdown.cancel();
        self.task
            .await
            .map_err(|e| std::io::Error::other(format!("the server task failed: {e}")))?
    }
}
