//! The `bdi-mcp` command: flags, configuration, and the stdio and Streamable HTTP transports.
//!
//! Startup never blocks on the network: a missing token or account is reported by the first tool
//! call, clearly, so an MCP host still sees the tools and the reason.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bdi_api_client::profile::{Overrides, resolve};
use bdi_api_client::{ClientConfig, HttpBackend};
use bdi_domain::{PollPolicy, Service, ServiceConfig};
use clap::Parser;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use bdi_load::location::Location;

use crate::history::History;
use crate::server::{Backing, BdiMcp, ServerOptions};
use crate::toolset::ToolSelection;

/// `bdi-mcp`: Boomi Data Integration for AI agents, over MCP.
#[derive(Debug, Parser)]
#[command(name = "bdi-mcp", version, about, long_about = None)]
pub struct Args {
    /// Serve Streamable HTTP on this address (e.g. 127.0.0.1:8787) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Bearer token HTTP clients must send; required to bind a non-loopback address.
    #[arg(
        long,
        env = "BDI_MCP_BEARER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub bearer_token: Option<String>,
    /// A browser origin allowed to call the HTTP endpoint (repeatable), e.g. http://localhost:6274;
    /// loopback origins are always allowed, any other Origin gets 403.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    /// A Host header value accepted besides localhost, 127.0.0.1 and ::1 (repeatable), for
    /// serving under a name (DNS-rebinding protection).
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// Run against an embedded sandbox with demo data: no account needed.
    #[arg(long)]
    pub sandbox: bool,
    /// Expose only tools that cannot change anything (wins over --tools).
    #[arg(long)]
    pub read_only: bool,
    /// Comma-separated tool names or groups (flows, runs, connections, environments, variables, operations, activity, history).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub tools: Option<Vec<String>>,
    /// Profile of the shared config file written by `bdi configure` [env: BDI_PROFILE].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// `dynamic`: start with the read-only tools and enable_toolset, which lists the groups
    /// and enables one (stdio only: over stateless HTTP the tool list cannot change per client).
    #[arg(long, value_enum, value_name = "MODE")]
    pub toolsets: Option<Toolsets>,
    /// Comma-separated tool names or groups to leave out.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub exclude_tools: Vec<String>,
    /// Leave out the destructive tools (delete_data_flow, delete_connection).
    #[arg(long)]
    pub no_destructive: bool,
    /// Ask the person (MCP elicitation) before every delete (destructive) or every change
    /// (writes); declined, cancelled or a client that cannot ask means nothing is sent.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub confirm: Option<crate::confirm::Confirm>,
    /// API base URL or region (us, eu, il, au) [env: DATA_INTEGRATION_API_URL].
    #[arg(long, value_name = "URL|REGION")]
    pub api_url: Option<String>,
    /// Account id [env: DATA_INTEGRATION_ACCOUNT_ID].
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// Default environment id [env: DATA_INTEGRATION_ENVIRONMENT_ID].
    #[arg(long, value_name = "ID")]
    pub environment_id: Option<String>,
    /// The history tools' dataset: a DuckDB file (PATH or duckdb:PATH) or postgres://... [env: BDI_HISTORY_DB] [default: history.duckdb in the data directory ($BDI_DATA_DIR, else $XDG_DATA_HOME/bdi, else ~/.local/share/bdi); with --sandbox, a file of its own removed at exit]
    #[arg(long, value_name = "LOCATION")]
    pub history_db: Option<String>,
    /// Share the run limits and the locks of read-modify-write with the other replicas behind a
    /// load balancer, in this Redis (redis://host:6379); without it they live in this process.
    #[arg(
        long,
        env = "BDI_REDIS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub redis: Option<String>,
    /// Longest wait (seconds) for wait=true when the client sent no progress token.
    #[arg(long, default_value_t = 50, value_name = "SECONDS")]
    pub wait_budget: u64,
    /// Fixed poll interval in milliseconds (tests use it to wait fast on the sandbox).
    #[arg(long, hide = true, value_name = "MS")]
    pub poll_interval_ms: Option<u64>,
}

impl Args {
    /// The poll policy: the domain's default, or a fixed interval.
    fn poll(&self) -> PollPolicy {
        match self.poll_interval_ms {
            None => PollPolicy::default(),
            Some(ms) => {
                let every = std::time::Duration::from_millis(ms.max(1));
                PollPolicy {
                    initial: every,
                    factor: 1.0,
                    max_interval: every,
                    jitter: 0.0,
                    ..PollPolicy::default()
                }
            }
        }
    }
}

/// How the toolsets are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Toolsets {
    /// The read-only tools and enable_toolset at first; the rest on request.
    Dynamic,
}

/// Builds the backing from `DATA_INTEGRATION_*` values given by `lookup`. Never fails: a
/// configuration error becomes [`Backing::Misconfigured`], reported by every tool call.
pub fn backing_from(lookup: impl Fn(&str) -> Option<String>, config: ServiceConfig) -> Backing {
    match ClientConfig::from_lookup(lookup).and_then(HttpBackend::new) {
        Ok(backend) => Backing::Ready(Service::with_config(Arc::new(backend), config)),
        Err(e) => Backing::Misconfigured(Arc::from(e.to_string())),
    }
}

/// Flags first, then the `DATA_INTEGRATION_*` variables, then the profile (the same rules as the
/// CLI). A profile that cannot be read becomes the reason every tool call reports.
fn flags_env_profile(args: &Args) -> Result<impl Fn(&str) -> Option<String> + use<>, String> {
    let flags = Overrides {
        api_url: args.api_url.clone(),
        account_id: args.account_id.clone(),
        environment_id: args.environment_id.clone(),
    };
    let resolved = resolve(&flags, args.profile.as_deref(), &|k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?;
    Ok(move |name: &str| resolved.get(name))
}

fn service_config(args: &Args) -> ServiceConfig {
    ServiceConfig {
        poll: args.poll(),
        ..ServiceConfig::default()
    }
}

/// The history dataset's location: `--history-db`, `BDI_HISTORY_DB`, else the data directory's
/// file (a scratch file with `--sandbox`, whose demo data must not mix with an account's).
fn history_location(args: &Args, scratch: Option<&std::path::Path>) -> anyhow::Result<Location> {
    let named = args
        .history_db
        .clone()
        .or_else(|| std::env::var("BDI_HISTORY_DB").ok())
        .filter(|v| !v.trim().is_empty());
    match named {
        Some(s) => {
            let with_scheme = if s.contains(':') || s.ends_with(".duckdb") {
                s
            } else {
                format!("duckdb:{s}")
            };
            Location::parse(&with_scheme).map_err(|e| anyhow::anyhow!("--history-db: {e}"))
        }
        None => Ok(match scratch {
            Some(dir) => Location::DuckDb(dir.join("history.duckdb")),
            None => History::default_location(&|k| std::env::var(k).ok()),
        }),
    }
}

fn options(args: &Args, history: Location) -> ServerOptions {
    ServerOptions {
        history: Arc::new(History::new(history)),
        selection: ToolSelection {
            read_only: args.read_only,
            tools: args.tools.clone(),
            exclude: args.exclude_tools.clone(),
            no_destructive: args.no_destructive,
            dynamic: args.toolsets == Some(Toolsets::Dynamic),
        },
        confirm: args.confirm,
        wait_without_progress: std::time::Duration::from_secs(args.wait_budget.max(1)),
        poll: args.poll(),
        ..ServerOptions::default()
    }
}

/// Runs the server until stdin closes (stdio) or Ctrl-C (HTTP).
pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.http.is_some() && args.toolsets == Some(Toolsets::Dynamic) {
        anyhow::bail!(
            "--toolsets dynamic works over stdio only: over Streamable HTTP bdi-mcp keeps no session, so a tool list that changed for one client would change for every client, and notifications/tools/list_changed has no stream to go on; choose the tools with --tools, --exclude-tools or --read-only instead"
        );
    }
    // From here on, a stop signal stops the server cleanly, however far it has started: the
    // handlers are in place now, and a task turns a signal into this token.
    let stopping = CancellationToken::new();
    let signals = stop_signal();
    let watcher = tokio::spawn({
        let stopping = stopping.clone();
        async move {
            signals.await;
            tracing::info!("stopping: signal received");
            stopping.cancel();
        }
    });
    let mut sandbox = None;
    let backing = if args.sandbox {
        let sb = bdi_api_client::EmbeddedSandbox::start()
            .await
            .context("starting the embedded sandbox")?;
        tracing::info!(
            "embedded sandbox at {} (demo data)",
            sb.sandbox().base_url()
        );
        let backing = backing_from(sb.lookup(), service_config(&args));
        sandbox = Some(sb);
        backing
    } else {
        match flags_env_profile(&args) {
            Ok(lookup) => backing_from(lookup, service_config(&args)),
            Err(e) => Backing::Misconfigured(Arc::from(e)),
        }
    };
    let backing = match (&args.redis, backing) {
        (Some(url), Backing::Ready(svc)) => {
            let store =
                bdi_redis::Store::new(url, "bdi:").map_err(|e| anyhow::anyhow!("--redis: {e}"))?;
            tracing::info!(redis = %store.server(), "run limits and locks shared in Redis");
            let limits = svc.config().limits.clone();
            Backing::Ready(
                svc.with_limiter(Arc::new(bdi_redis::RedisLimiter::new(
                    store.clone(),
                    limits,
                )))
                .with_locks(Arc::new(bdi_redis::RedisLocks::new(
                    store,
                    bdi_redis::LeasePolicy::default(),
                ))),
            )
        }
        (_, other) => other,
    };
    if let Backing::Misconfigured(msg) = &backing {
        tracing::warn!(
            "not configured: {msg}; every tool call will say so (or start with --sandbox)"
        );
    }
    let scratch = args.sandbox.then(Scratch::new);
    let history = history_location(&args, scratch.as_ref().map(|s| s.0.as_path()))?;
    tracing::info!("history tools use {}", history.describe());
    let opts = options(&args, history);
    let server = BdiMcp::new(backing, opts).map_err(anyhow::Error::msg)?;

    match args.http {
        None => {
            tracing::info!(
                "bdi-mcp {} ready on stdio with {} tools",
                env!("CARGO_PKG_VERSION"),
                server.tools().len()
            );
            let exe = std::env::current_exe()
                .map_or_else(|_| "bdi-mcp".to_owned(), |p| p.display().to_string());
            let sandbox_flag = if args.sandbox { " --sandbox" } else { "" };
            tracing::info!(
                "an MCP client starts this command itself: `claude mcp add bdi -- {exe}{sandbox_flag}`, or in a client's JSON config {{\"command\": \"{exe}\", \"args\": [{}]}}; to serve HTTP instead add --http 127.0.0.1:8787",
                if args.sandbox { "\"--sandbox\"" } else { "" }
            );
            // A stop signal ends the session as a closed stdin does, also while the server
            // waits for its client's first message.
            let started = tokio::select! {
                running = server.serve(rmcp::transport::stdio()) => Some(running.context("starting the stdio transport")?),
                () = stopping.cancelled() => None,
            };
            if let Some(running) = started {
                let ct = running.cancellation_token();
                let stopper = tokio::spawn({
                    let stopping = stopping.clone();
                    async move {
                        stopping.cancelled().await;
                        ct.cancel();
                    }
                });
                let reason = running.waiting().await;
                stopper.abort();
                tracing::info!("stdio closed: {reason:?}");
            }
        }
        Some(addr) => {
            let access = HttpAccess {
                bearer: args.bearer_token.clone(),
                origins: args.allowed_origins.clone(),
                hosts: args.allowed_hosts.clone(),
            };
            serve_http(server, addr, access, stopping.clone()).await?;
        }
    }
    watcher.abort();
    if let Some(sb) = sandbox {
        sb.shutdown().await;
    }
    drop(scratch);
    Ok(())
}

/// The scratch directory of `--sandbox` (its history dataset): removed when the server stops,
/// on any path out of [`run`]. Directories of earlier servers that were killed (SIGKILL leaves
/// no chance to clean up) are removed when the next one starts.
#[derive(Debug)]
struct Scratch(std::path::PathBuf);

/// The scratch directories' name, before the process id.
const SCRATCH_PREFIX: &str = "bdi-mcp-sandbox-";

impl Scratch {
    fn new() -> Self {
        let temp = std::env::temp_dir();
        // Only where a process's liveness can be read (/proc): never a live server's directory.
        if std::path::Path::new("/proc/self").exists()
            && let Ok(entries) = std::fs::read_dir(&temp)
        {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(pid) = name
                    .to_str()
                    .and_then(|n| n.strip_prefix(SCRATCH_PREFIX))
                    .and_then(|p| p.parse::<u32>().ok())
                else {
                    continue;
                };
                if pid != std::process::id()
                    && !std::path::Path::new("/proc").join(pid.to_string()).exists()
                {
                    tracing::debug!(path = %entry.path().display(), "removing a dead server's scratch directory");
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        Self(temp.join(format!("{SCRATCH_PREFIX}{}", std::process::id())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what a service manager or `docker stop` sends): the
/// server then stops as it does when its client leaves, and removes its scratch files. The
/// handlers are in place when this returns, so a signal that comes before the future is first
/// polled (while the server starts) still stops it cleanly.
fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let (term, int) = (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        );
        let received = |s: Option<Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        async move {
            tokio::select! {
                () = received(term) => {}
                () = received(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Who may reach the HTTP endpoint.
#[derive(Clone, Debug, Default)]
pub struct HttpAccess {
    /// Bearer token clients must send.
    pub bearer: Option<String>,
    /// Browser origins allowed besides loopback ones.
    pub origins: Vec<String>,
    /// Host header values allowed besides loopback names.
    pub hosts: Vec<String>,
}

/// Loopback origins, on any port: local browser-based clients such as the MCP Inspector.
const LOOPBACK_ORIGINS: [&str; 3] = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The Streamable HTTP app: `/mcp`, behind a bearer check when a token is set, with Origin and
/// Host validation (loopback always allowed).
pub fn http_router(server: BdiMcp, access: HttpAccess, ct: CancellationToken) -> axum::Router {
    let origins: Vec<String> = LOOPBACK_ORIGINS
        .iter()
        .map(|o| (*o).to_owned())
        .chain(access.origins)
        .collect();
    let hosts: Vec<String> = LOOPBACK_HOSTS
        .iter()
        .map(|h| (*h).to_owned())
        .chain(access.hosts)
        .collect();
    let bearer = access.bearer;
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_allowed_origins(origins)
        .with_allowed_hosts(hosts)
        .with_cancellation_token(ct);
    let svc = StreamableHttpService::new(
        move || Ok(server.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", svc);
    match bearer {
        None => router,
        Some(token) => router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let expected = format!("Bearer {token}");
                async move {
                    let ok = req
                        .headers()
                        .get(axum::http::header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| constant_time_eq(v.as_bytes(), expected.as_bytes()));
                    if ok {
                        next.run(req).await
                    } else {
                        axum::response::IntoResponse::into_response((
                            axum::http::StatusCode::UNAUTHORIZED,
                            [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
                            "missing or wrong bearer token",
                        ))
                    }
                }
            },
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn serve_http(
    server: BdiMcp,
    addr: SocketAddr,
    access: HttpAccess,
    stopping: CancellationToken,
) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() && access.bearer.is_none() {
        anyhow::bail!(
            "refusing to serve {addr} without --bearer-token: only loopback addresses may go unauthenticated"
        );
    }
    let ct = CancellationToken::new();
    let app = http_router(server, access, ct.child_token());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        "bdi-mcp {} serving Streamable HTTP at http://{local}/mcp",
        env!("CARGO_PKG_VERSION")
    );
    tracing::info!("connect a client: claude mcp add --transport http bdi http://{local}/mcp");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stopping.cancelled().await;
            ct.cancel();
        })
        .await?;
    Ok(())
}
