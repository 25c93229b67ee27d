//! A faithful local emulator of the Boomi Data Integration (ex-Rivery) public API v1, and of the
//! Boomi Flow API's read paths under `/api` ([`boomi_flow`]).
//!
//! The sandbox is written from the upstream contract (`docs/upstream-api.md`), not
//! from our client: it handles its JSON as `serde_json::Value` and its own small structs, so a
//! wrong field name or status in the client cannot be mirrored here. It rejects what the real API
//! rejects (pydantic-style 422 bodies, the 400 business rules, the run throttle) and lets tests
//! inject faults through [`Control`], in process, or through the control API under `/_sandbox`
//! over HTTP. State advances by poll count and a virtual clock, never by sleeping.

pub mod boomi_flow;
mod catalog;
mod control;
pub mod demo;
mod error;
mod http;
mod middleware;
mod model;
mod routes;
mod seed;
mod state;
mod validate;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use boomi_flow::BoomiFlowConfig;
pub use control::Control;

/// The bearer token the sandbox accepts unless configured otherwise.
pub const DEFAULT_TOKEN: &str = "bdi-sandbox-token";
/// The account id the sandbox serves unless configured otherwise (24-hex).
pub const DEFAULT_ACCOUNT_ID: &str = "5f1e2d3c4b5a69788796a5b4";
/// The default environment id (24-hex); a second environment is seeded with the demo data.
pub const DEFAULT_ENVIRONMENT_ID: &str = "6a7b8c9d0e1f2a3b4c5d6e7f";

/// How a sandbox is configured.
#[derive(Clone)]
pub struct SandboxConfig {
    /// The only bearer token accepted.
    pub token: String,
    /// The only account served; any other account id answers 403.
    pub account_id: String,
    /// The default environment (always present, even with `demo_data: false`).
    pub environment_id: String,
    /// Seed the demo environments, connections, data flows and runs (`false` = `--empty`).
    pub demo_data: bool,
    /// Reject `cross_id`, `account_id`, `environment_name` and `group_name` on writes (422).
    pub strict: bool,
    /// The Boomi Flow API emulator served under `/api` (key, tenant, demo data sizes, envelope).
    pub boomi_flow: BoomiFlowConfig,
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("token", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("environment_id", &self.environment_id)
            .field("demo_data", &self.demo_data)
            .field("strict", &self.strict)
            .field("boomi_flow", &self.boomi_flow)
            .finish()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            token: DEFAULT_TOKEN.to_owned(),
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            environment_id: DEFAULT_ENVIRONMENT_ID.to_owned(),
            demo_data: true,
            strict: true,
            boomi_flow: BoomiFlowConfig::default(),
        }
    }
}

/// The shared state behind a router: the emulated account plus the fault-injection rules.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<state::Shared>,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds a fresh state (seeded with the demo data when `config.demo_data`).
    pub fn new(config: SandboxConfig) -> Self {
        AppState {
            shared: Arc::new(state::Shared::new(config)),
        }
    }

    /// A handle for fault injection and clock control.
    pub fn control(&self) -> Control {
        Control::new(Arc::clone(&self.shared))
    }

    /// The configuration this state was built with.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }
}

/// The emulator's router, for in-process (`oneshot`) tests.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
}

/// A running sandbox server; dropping it (or [`Sandbox::shutdown`]) stops it.
pub struct Sandbox {
    addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("config", self.config())
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1:0` (a free port).
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Sandbox::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts a sandbox on the given address.
    pub async fn start_on(addr: SocketAddr, config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = AppState::new(config);
        let router = app(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    // A dropped sender also means "stop".
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "sandbox server stopped with an error");
            }
        });
        Ok(Sandbox {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The API base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Boomi Flow API base URL, `http://127.0.0.1:PORT/api`, without a trailing slash.
    pub fn boomi_flow_base_url(&self) -> String {
        format!("{}{}", self.base_url(), boomi_flow::PREFIX)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration the sandbox runs with.
    pub fn config(&self) -> &SandboxConfig {
        self.state.config()
    }

    /// A cheap, cloneable handle for fault injection and clock control.
    pub fn control(&self) -> Control {
        self.state.control()
    }

    /// Stops the server, waiting briefly for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
