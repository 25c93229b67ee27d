//! `bdi-sandbox`: runs the Boomi Data Integration API v1 emulator on a loopback port, prints the
//! environment variables a client needs, logs requests to stderr, and stops on Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use bdi_sandbox::{
    DEFAULT_ACCOUNT_ID, DEFAULT_ENVIRONMENT_ID, DEFAULT_TOKEN, Sandbox, SandboxConfig,
};
use clap::Parser;

/// Local emulator of the Boomi Data Integration (ex-Rivery) public API v1.
#[derive(Parser)]
#[command(name = "bdi-sandbox", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8710")]
    addr: SocketAddr,
    /// The bearer token the sandbox accepts.
    #[arg(long, default_value = DEFAULT_TOKEN)]
    token: String,
    /// The account id the sandbox serves (24-hex).
    #[arg(long, default_value = DEFAULT_ACCOUNT_ID)]
    account_id: String,
    /// The default environment id (24-hex).
    #[arg(long, default_value = DEFAULT_ENVIRONMENT_ID)]
    environment_id: String,
    /// Start without demo data (only the default environment, empty).
    #[arg(long)]
    empty: bool,
    /// Accept `cross_id`, `account_id`, `environment_name` and `group_name` on writes.
    #[arg(long)]
    lenient: bool,
}

impl Args {
    fn config(&self) -> SandboxConfig {
        SandboxConfig {
            token: self.token.clone(),
            account_id: self.account_id.clone(),
            environment_id: self.environment_id.clone(),
            demo_data: !self.empty,
            strict: !self.lenient,
        }
    }
}

/// The lines printed on start-up.
fn banner(base_url: &str, config: &SandboxConfig) -> String {
    format!(
        "bdi-sandbox listening on {base_url}\n\
         token:          {token}\n\
         account id:     {account}\n\
         environment id: {env}\n\
         control API:    {base_url}/_sandbox (faults, clock, steps; same token)\n\
         \n\
         export DATA_INTEGRATION_API_URL={base_url}\n\
         export DATA_INTEGRATION_API_TOKEN={token}\n\
         export DATA_INTEGRATION_ACCOUNT_ID={account}\n\
         export DATA_INTEGRATION_ENVIRONMENT_ID={env}",
        token = config.token,
        account = config.account_id,
        env = config.environment_id,
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let sandbox = Sandbox::start_on(args.addr, args.config())
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    print_banner(&banner(&sandbox.base_url(), sandbox.config()));
    stop_signal().await?;
    tracing::info!("shutting down");
    sandbox.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C (and on SIGTERM on Unix).
async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot wait for ctrl-c"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for ctrl-c")
    }
}

#[allow(
    clippy::print_stdout,
    reason = "the banner is the binary's output, meant for `eval`"
)]
fn print_banner(text: &str) {
    println!("{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_library_constants() {
        let args = Args::try_parse_from(["bdi-sandbox"]).expect("no arguments parse");
        assert_eq!(
            args.addr,
            "127.0.0.1:8710".parse::<SocketAddr>().expect("valid")
        );
        let config = args.config();
        assert_eq!(config.token, DEFAULT_TOKEN);
        assert_eq!(config.account_id, DEFAULT_ACCOUNT_ID);
        assert_eq!(config.environment_id, DEFAULT_ENVIRONMENT_ID);
        assert!(config.demo_data);
        assert!(config.strict);
    }

    #[test]
    fn every_flag_is_read() {
        let args = Args::try_parse_from([
            "bdi-sandbox",
            "--addr",
            "127.0.0.1:9001",
            "--token",
            "t0k",
            "--account-id",
            "aaaaaaaaaaaaaaaaaaaaaaaa",
            "--environment-id",
            "bbbbbbbbbbbbbbbbbbbbbbbb",
            "--empty",
            "--lenient",
        ])
        .expect("all flags parse");
        assert_eq!(args.addr.port(), 9001);
        let config = args.config();
        assert_eq!(config.token, "t0k");
        assert_eq!(config.account_id, "aaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(config.environment_id, "bbbbbbbbbbbbbbbbbbbbbbbb");
        assert!(!config.demo_data);
        assert!(!config.strict);
    }

    #[test]
    fn bad_addr_and_unknown_flags_are_rejected() {
        assert!(Args::try_parse_from(["bdi-sandbox", "--addr", "localhost"]).is_err());
        assert!(Args::try_parse_from(["bdi-sandbox", "--bogus"]).is_err());
    }

    #[test]
    fn banner_prints_the_export_lines() {
        let text = banner("http://127.0.0.1:8710", &SandboxConfig::default());
        assert!(text.contains("export DATA_INTEGRATION_API_URL=http://127.0.0.1:8710\n"));
        assert!(text.contains(&format!(
            "export DATA_INTEGRATION_API_TOKEN={DEFAULT_TOKEN}\n"
        )));
        assert!(text.contains(&format!(
            "export DATA_INTEGRATION_ACCOUNT_ID={DEFAULT_ACCOUNT_ID}\n"
        )));
        assert!(text.contains("control API:    http://127.0.0.1:8710/_sandbox"));
        assert!(text.ends_with(&format!(
            "export DATA_INTEGRATION_ENVIRONMENT_ID={DEFAULT_ENVIRONMENT_ID}"
        )));
    }
}
