//! The `bdi-gateway` command line: `bdi-gateway --addr A --keys FILE` serves; `bdi-gateway keys
//! new NAME --scope S... --keys FILE` mints a key. The upstream is configured like the other front
//! ends (the `DATA_INTEGRATION_*` variables, overridable by flags; the token only from the
//! environment, so that it never shows in a process list), or is an in-process sandbox.

use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bdi_api_client::profile::{Overrides, resolve};
use bdi_api_client::{ClientConfig, EmbeddedSandbox, HttpBackend};
use bdi_domain::{Backend, EnvironmentId};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::keys::{KeyStore, NewKey, add_key};
use crate::routes::params::parse_public_url;
use crate::scopes::Scope;
use crate::serve::serve;
use crate::state::{AppState, GatewayConfig, Limits};

/// Internal REST gateway for Boomi Data Integration, with scoped keys.
#[derive(Debug, Parser)]
#[command(name = "bdi-gateway", version)]
pub struct Cli {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The keys file (TOML, `[[keys]]` tables with sha256 digests).
    #[arg(long, global = true, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// Profile of the shared config file written by `bdi configure` (else BDI_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The API base URL or region (else DATA_INTEGRATION_API_URL, else US).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// The account id (else DATA_INTEGRATION_ACCOUNT_ID).
    #[arg(long)]
    pub account_id: Option<String>,
    /// The default environment id (else DATA_INTEGRATION_ENVIRONMENT_ID).
    #[arg(long)]
    pub environment_id: Option<String>,
    /// Serve an in-process sandbox instead of the platform.
    #[arg(long)]
    pub sandbox: bool,
    /// The deadline of an ordinary request, in seconds.
    #[arg(long, default_value_t = 120)]
    pub request_timeout: u64,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,
    /// The gateway's public base URL (e.g. https://gw.internal): page links (`next_page`,
    /// `previous_page`) are built under it; without it they are paths relative to the gateway's
    /// root. Request headers (Host, X-Forwarded-*) are never used for links.
    #[arg(long, env = "BDI_GATEWAY_PUBLIC_URL", value_name = "URL", value_parser = parse_public_url)]
    pub public_url: Option<url::Url>,
    /// Share the run limits and the locks of read-modify-write with other replicas in this Redis
    /// (redis://host:6379, rediss:// for TLS); without it they live in this process only.
    #[arg(
        long,
        env = "BDI_REDIS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub redis: Option<String>,
    /// The lease of a lock in Redis, in milliseconds (tests shorten it).
    #[arg(long, hide = true, env = "BDI_LOCK_LEASE_MS", default_value_t = 15_000)]
    pub lock_lease_ms: u64,
    /// Log as text instead of JSON lines.
    #[arg(long)]
    pub text_logs: bool,
    /// A subcommand; none serves.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage gateway keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key, print it once, and append its digest to the keys file.
    New {
        /// Who holds the key (audit lines and the per-key run limit use it).
        name: String,
        /// A scope to grant (repeatable): operations:list, activity:list, data flow:list,
        /// data flow:write, data flow:execute, environment:list, connection:list,
        /// connection:edit, connection:delete, variables:list, variables:edit.
        #[arg(long = "scope", required = true, value_name = "SCOPE")]
        scopes: Vec<Scope>,
        /// An environment the key may touch (repeatable); none means all.
        #[arg(long = "environment", value_name = "ID")]
        environments: Vec<String>,
    },
}

/// Runs the command line; only the bin shim calls this.
pub async fn main(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(args)?;
    match &cli.command {
        Some(Command::Keys(KeysCommand::New {
            name,
            scopes,
            environments,
        })) => {
            let path = cli
                .keys
                .as_ref()
                .context("give the keys file with --keys FILE")?;
            let environments = environments
                .iter()
                .map(|e| EnvironmentId::parse(e))
                .collect::<Result<Vec<_>, _>>()?;
            let key = add_key(
                path,
                &NewKey {
                    name: name.clone(),
                    scopes: scopes.clone(),
                    environments,
                },
            )?;
            writeln!(out, "{key}")?;
            tracing::info!(key = %name, file = %path.display(), "key added; it is shown once");
            Ok(())
        }
        None => run_server(&cli).await,
    }
}

/// Installs the JSON (or text) log subscriber; `RUST_LOG` filters it (default `info`).
pub fn init_logging(text: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    // An error means a subscriber is already installed (tests), which serves as well.
    let _ = if text {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    };
}

async fn run_server(cli: &Cli) -> anyhow::Result<()> {
    let keys_path = cli
        .keys
        .as_ref()
        .context("give the keys file with --keys FILE (create one with `bdi-gateway keys new`)")?;
    let keys = KeyStore::load(keys_path)?;
    if keys.is_empty() {
        tracing::warn!(file = %keys_path.display(), "the keys file holds no key: every request will get 401");
    }
    let (backend, account, sandbox) = if cli.sandbox {
        let sandbox = EmbeddedSandbox::start()
            .await
            .context("could not start the sandbox")?;
        let config = sandbox.client_config()?;
        let account = config.account_id.clone();
        tracing::info!(url = %sandbox.sandbox().base_url(), account = %account, environment = %sandbox.sandbox().config().environment_id, "serving an in-process sandbox");
        let backend: Arc<dyn Backend> = Arc::new(HttpBackend::new(config)?);
        (backend, account, Some(sandbox))
    } else {
        let config = upstream_config(cli)?;
        let account = config.account_id.clone();
        let backend: Arc<dyn Backend> = Arc::new(HttpBackend::new(config)?);
        (backend, account, None)
    };
    let mut config = GatewayConfig::new(backend, account, keys);
    config.limits = Limits {
        request_timeout: Duration::from_secs(cli.request_timeout.max(1)),
        body_limit: cli.body_limit,
        ..Limits::default()
    };
    config.public_url.clone_from(&cli.public_url);
    if let Some(url) = &cli.redis {
        let store =
            bdi_redis::Store::new(url, "bdi:").map_err(|e| anyhow::anyhow!("--redis: {e}"))?;
        tracing::info!(redis = %store.server(), "run limits and locks shared in Redis");
        config.limiter = Some(Arc::new(bdi_redis::RedisLimiter::new(
            store.clone(),
            bdi_domain::ThrottleLimits::default(),
        )));
        let lease = Duration::from_millis(cli.lock_lease_ms.max(300));
        config.locks = Some(Arc::new(bdi_redis::RedisLocks::new(
            store.clone(),
            bdi_redis::LeasePolicy {
                lease,
                margin: (lease / 10).min(Duration::from_millis(500)),
                ..bdi_redis::LeasePolicy::default()
            },
        )));
        config.redis = Some(store);
    }
    let state = AppState::new(config);
    let listener = tokio::net::TcpListener::bind(cli.addr)
        .await
        .with_context(|| format!("could not listen on {}", cli.addr))?;
    // Listened for before the address is announced: a stop that comes right after still drains.
    let stop = shutdown_signal();
    tracing::info!(addr = %listener.local_addr()?, "bdi-gateway listening");
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        stop.await;
        tracing::info!("shutting down: finishing in-flight requests");
        signal.cancel();
    });
    serve(listener, state, shutdown).await?;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    Ok(())
}

/// The upstream configuration: flags, then `DATA_INTEGRATION_*` variables, then the profile
/// (the rules every front end shares, `bdi_api_client::profile`).
fn upstream_config(cli: &Cli) -> anyhow::Result<ClientConfig> {
    let overrides = Overrides {
        api_url: cli.api_url.clone(),
        account_id: cli.account_id.clone(),
        environment_id: cli.environment_id.clone(),
    };
    let resolved = resolve(&overrides, cli.profile.as_deref(), &|name| {
        std::env::var(name).ok()
    })
    .map_err(anyhow::Error::msg)?;
    Ok(ClientConfig::from_lookup(|name| resolved.get(name))?)
}

/// Resolves on Ctrl-C or SIGTERM; the handlers are in place when this returns.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
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
