//! `bdi-sandbox`: runs the Boomi Data Integration API v1 emulator (and the Boomi Flow API
//! emulator under `/api`) on a loopback port, prints the environment variables a client needs,
//! logs requests to stderr, and stops on Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use bdi_sandbox::boomi_flow::{Envelope, Links, PageBase, Totals, demo};
use bdi_sandbox::{
    BoomiFlowConfig, DEFAULT_ACCOUNT_ID, DEFAULT_ENVIRONMENT_ID, DEFAULT_TOKEN, Sandbox,
    SandboxConfig,
};
use clap::{Parser, ValueEnum};

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
    /// The Boomi Flow API key (`x-boomi-flow-api-key`) the sandbox accepts.
    #[arg(long, default_value = demo::BOOMI_FLOW_API_KEY)]
    flow_key: String,
    /// The Boomi Flow tenant (`manywhotenant`) the key is scoped to.
    #[arg(long, default_value = demo::BOOMI_FLOW_TENANT_ID)]
    flow_tenant: String,
    /// How many Boomi Flow audit events the source starts with (generated on the fly).
    #[arg(long, default_value_t = demo::DEFAULT_AUDIT_EVENTS)]
    flow_audit_events: u64,
    /// How many Boomi Flow flows to generate.
    #[arg(long, default_value_t = demo::DEFAULT_FLOWS)]
    flow_flows: usize,
    /// How many Boomi Flow users to generate.
    #[arg(long, default_value_t = demo::DEFAULT_USERS)]
    flow_users: usize,
    /// How many Boomi Flow states to generate.
    #[arg(long, default_value_t = demo::DEFAULT_STATES)]
    flow_states: usize,
    /// The number of the first page of Boomi Flow paged lists.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    flow_page_base: u8,
    /// The page size when a Boomi Flow request has no `pageSize`.
    #[arg(long, default_value_t = 20)]
    flow_default_page_size: u64,
    /// The largest Boomi Flow page size; a larger `pageSize` is silently capped.
    #[arg(long, default_value_t = 1000)]
    flow_max_page_size: u64,
    /// Which links the Boomi Flow envelope's `_links` holds.
    #[arg(long, value_enum, default_value_t = LinksArg::Absolute)]
    flow_links: LinksArg,
    /// Which totals the Boomi Flow envelope's `_meta` holds.
    #[arg(long, value_enum, default_value_t = TotalsArg::Both)]
    flow_totals: TotalsArg,
    /// The key of the Boomi Flow envelope's metadata object.
    #[arg(long, default_value = "_meta")]
    flow_meta_key: String,
    /// The key of the Boomi Flow envelope's links object.
    #[arg(long, default_value = "_links")]
    flow_links_key: String,
    /// The key of the total page count in the Boomi Flow envelope's metadata.
    #[arg(long, default_value = "totalPages")]
    flow_total_pages_key: String,
    /// The key of the total item count in the Boomi Flow envelope's metadata.
    #[arg(long, default_value = "totalItems")]
    flow_total_items_key: String,
    /// Announce totals this many items off the truth in the Boomi Flow envelope (negative: short of
    /// it, as a server that lies about its totals).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    flow_total_offset: i64,
}

/// `--flow-links`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LinksArg {
    /// `_links` is empty.
    None,
    /// Absolute URLs.
    Absolute,
    /// Paths relative to the Boomi Flow base URL (`audit/1/search?...`).
    Relative,
    /// Paths from the host root (`/api/audit/1/search?...`).
    RootRelative,
}

/// `--flow-totals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TotalsArg {
    /// No totals.
    None,
    /// The total page count.
    Pages,
    /// The total item count.
    Items,
    /// Both counts.
    Both,
}

impl Args {
    fn config(&self) -> SandboxConfig {
        SandboxConfig {
            token: self.token.clone(),
            account_id: self.account_id.clone(),
            environment_id: self.environment_id.clone(),
            demo_data: !self.empty,
            strict: !self.lenient,
            boomi_flow: BoomiFlowConfig {
                api_key: self.flow_key.clone(),
                tenant_id: self.flow_tenant.clone(),
                flows: self.flow_flows,
                users: self.flow_users,
                states: self.flow_states,
                audit_events: self.flow_audit_events,
                envelope: Envelope {
                    meta_key: self.flow_meta_key.clone(),
                    links_key: self.flow_links_key.clone(),
                    page_base: if self.flow_page_base == 0 {
                        PageBase::Zero
                    } else {
                        PageBase::One
                    },
                    default_page_size: self.flow_default_page_size,
                    max_page_size: self.flow_max_page_size,
                    links: match self.flow_links {
                        LinksArg::None => Links::None,
                        LinksArg::Absolute => Links::Absolute,
                        LinksArg::Relative => Links::Relative,
                        LinksArg::RootRelative => Links::RootRelative,
                    },
                    totals: match self.flow_totals {
                        TotalsArg::None => Totals::None,
                        TotalsArg::Pages => Totals::Pages,
                        TotalsArg::Items => Totals::Items,
                        TotalsArg::Both => Totals::Both,
                    },
                    total_pages_key: self.flow_total_pages_key.clone(),
                    total_items_key: self.flow_total_items_key.clone(),
                    total_offset: self.flow_total_offset,
                },
            },
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
         export DATA_INTEGRATION_ENVIRONMENT_ID={env}\n\
         export BOOMI_FLOW_API_URL={base_url}{prefix}\n\
         export BOOMI_FLOW_API_KEY={flow_key}\n\
         export BOOMI_FLOW_TENANT_ID={flow_tenant}",
        prefix = bdi_sandbox::boomi_flow::PREFIX,
        flow_key = config.boomi_flow.api_key,
        flow_tenant = config.boomi_flow.tenant_id,
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
        assert!(text.contains(&format!(
            "export DATA_INTEGRATION_ENVIRONMENT_ID={DEFAULT_ENVIRONMENT_ID}\n"
        )));
        assert!(text.contains("export BOOMI_FLOW_API_URL=http://127.0.0.1:8710/api\n"));
        assert!(text.contains(&format!(
            "export BOOMI_FLOW_API_KEY={}\n",
            demo::BOOMI_FLOW_API_KEY
        )));
        assert!(text.ends_with(&format!(
            "export BOOMI_FLOW_TENANT_ID={}",
            demo::BOOMI_FLOW_TENANT_ID
        )));
    }

    #[test]
    fn flow_defaults_match_the_library_defaults() {
        let config = Args::try_parse_from(["bdi-sandbox"])
            .expect("no arguments parse")
            .config();
        let defaults = BoomiFlowConfig::default();
        assert_eq!(config.boomi_flow.api_key, defaults.api_key);
        assert_eq!(config.boomi_flow.tenant_id, defaults.tenant_id);
        assert_eq!(config.boomi_flow.flows, defaults.flows);
        assert_eq!(config.boomi_flow.users, defaults.users);
        assert_eq!(config.boomi_flow.states, defaults.states);
        assert_eq!(config.boomi_flow.audit_events, defaults.audit_events);
        assert_eq!(config.boomi_flow.envelope, defaults.envelope);
    }

    #[test]
    fn every_flow_flag_is_read() {
        let config = Args::try_parse_from([
            "bdi-sandbox",
            "--flow-key",
            "k",
            "--flow-tenant",
            "t",
            "--flow-audit-events",
            "50000",
            "--flow-flows",
            "200",
            "--flow-users",
            "50",
            "--flow-states",
            "3",
            "--flow-page-base",
            "0",
            "--flow-default-page-size",
            "7",
            "--flow-max-page-size",
            "100",
            "--flow-links",
            "root-relative",
            "--flow-totals",
            "items",
            "--flow-meta-key",
            "meta",
            "--flow-links-key",
            "links",
            "--flow-total-pages-key",
            "pages",
            "--flow-total-items-key",
            "totalCount",
            "--flow-total-offset",
            "-10",
        ])
        .expect("all flow flags parse")
        .config();
        let flow = config.boomi_flow;
        assert_eq!((flow.api_key.as_str(), flow.tenant_id.as_str()), ("k", "t"));
        assert_eq!(flow.audit_events, 50_000);
        assert_eq!((flow.flows, flow.users, flow.states), (200, 50, 3));
        assert_eq!(
            flow.envelope,
            Envelope {
                meta_key: "meta".to_owned(),
                links_key: "links".to_owned(),
                page_base: PageBase::Zero,
                default_page_size: 7,
                max_page_size: 100,
                links: Links::RootRelative,
                totals: Totals::Items,
                total_pages_key: "pages".to_owned(),
                total_items_key: "totalCount".to_owned(),
                total_offset: -10,
            }
        );
        assert!(Args::try_parse_from(["bdi-sandbox", "--flow-page-base", "2"]).is_err());
        assert!(Args::try_parse_from(["bdi-sandbox", "--flow-links", "sideways"]).is_err());
    }
}
