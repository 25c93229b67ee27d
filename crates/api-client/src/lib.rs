//! Typed async client for the Boomi Data Integration (formerly Rivery) public API v1.
//!
//! [`HttpBackend`] implements [`bdi_domain::Backend`] over HTTPS with reqwest and rustls (ring).
//! It owns the wire concerns and nothing else: paths and query parameters, the bearer token (a
//! [`Secret`] that never reaches `Debug`, logs or errors), retries ([`RetryPolicy`]: backoff on
//! 5xx for idempotent methods, `Retry-After` on 429, never a replayed POST), the mapping of
//! statuses and messages to [`bdi_domain::Error`], and lenient decoding. Page sweeps are the
//! domain's [`sweep`] (re-exported: a listing that does not end within its cap is an error).
//! [`profile`] reads the shared
//! configuration file and its precedence rules, used by every front end.
//!
//! [`BoomiFlowClient`] reads the Boomi Flow API (the source of `bdi load`), configured by
//! [`BoomiFlowConfig`] (`BOOMI_FLOW_API_URL`, `BOOMI_FLOW_API_KEY`, `BOOMI_FLOW_TENANT_ID`). It
//! only sends GETs, retried on 429, 5xx, transport errors and timeouts (`Retry-After` honoured on
//! 429 and 503); the key travels in the sensitive `x-boomi-flow-api-key` header and is scrubbed
//! from every error. [`BoomiFlowClient::pages`] streams a listing's pages ([`BoomiFlowPage`]) in
//! order, whatever its shape: a bare array, or an envelope paged from 0 or 1, by next links, by
//! totals (fetched concurrently) or until a short page. Its failures are [`BoomiFlowError`]s, not
//! [`bdi_domain::Error`]s: a Boomi Flow API failure (a 429, say) is never taken for one of Data
//! Integration.
//!
//! # Using it as a library
//!
//! Configure from the environment (`DATA_INTEGRATION_API_TOKEN`, `DATA_INTEGRATION_ACCOUNT_ID`,
//! and optionally `DATA_INTEGRATION_ENVIRONMENT_ID` and `DATA_INTEGRATION_API_URL` or a region),
//! then use the [`HttpBackend`] directly or through `bdi_domain::Service`:
//!
//! ```no_run
//! # async fn demo() -> bdi_domain::Result<()> {
//! use std::sync::Arc;
//!
//! let backend = bdi_api_client::HttpBackend::from_env()?;
//! let service = bdi_domain::Service::new(Arc::new(backend));
//! let environments = service.list_all_environments(false).await?;
//! # Ok(())
//! # }
//! ```
//!
//! The same against the sandbox, the emulator the tests use (the `sandbox` feature's
//! `EmbeddedSandbox` starts it for you; the crate's `examples/` list flows, run one and wait,
//! and select tables by name):
//!
//! ```
//! use bdi_api_client::{ClientConfig, HttpBackend};
//! use bdi_domain::models::DataFlowQuery;
//! use bdi_domain::{AccountId, Backend, Env, EnvironmentId};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = bdi_sandbox::Sandbox::start(bdi_sandbox::SandboxConfig::default()).await?;
//! let demo = sandbox.config();
//! let config = ClientConfig::new(
//!     &sandbox.base_url(),
//!     &demo.token,
//!     AccountId::parse(&demo.account_id)?,
//! )?
//! .with_default_environment(Some(EnvironmentId::parse(&demo.environment_id)?));
//! let backend = HttpBackend::new(config)?;
//! let flows = backend
//!     .list_data_flows(&Env::Default, &DataFlowQuery::default())
//!     .await?;
//! assert!(flows.items.iter().any(|f| f.name == "MySQL orders to Snowflake"));
//! # sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod boomi_flow;
mod client;
mod config;
#[cfg(feature = "sandbox")]
mod embedded;
mod endpoints;
pub mod profile;
mod redirect;
mod retry;
mod status;
#[cfg(test)]
mod test_server;

pub use bdi_domain::paging::{MAX_PAGES, sweep};
pub use boomi_flow::{
    BOOMI_FLOW_MAX_PAGES, BoomiFlowClient, BoomiFlowConfig, BoomiFlowError, BoomiFlowPage,
    DEFAULT_BOOMI_FLOW_API_URL, DEFAULT_BOOMI_FLOW_CONCURRENCY, DEFAULT_BOOMI_FLOW_PAGE_SIZE,
    ENV_BOOMI_FLOW_API_KEY, ENV_BOOMI_FLOW_API_URL, ENV_BOOMI_FLOW_TENANT_ID,
};
pub use client::HttpBackend;
pub use config::{
    ClientConfig, DEFAULT_TIMEOUT, ENV_ACCOUNT_ID, ENV_API_TOKEN, ENV_API_URL, ENV_ENVIRONMENT_ID,
    Region, Secret, default_user_agent, normalize_token, resolve_base_url,
};
#[cfg(feature = "sandbox")]
pub use embedded::EmbeddedSandbox;
pub use retry::{RetryPolicy, parse_retry_after};
