//! The domain of bdi: the [`Backend`] trait every front end talks through, the typed models of
//! Boomi Data Integration's resources, the one [`Error`] enum, and the logic that makes the tools
//! good (deep merge, table matching, polling, throttling, safe read-modify-write).
//!
//! **Invariant:** this crate does no I/O of its own: no HTTP client, no sockets, no files. It
//! reaches the platform only through a [`Backend`], and time only through tokio's clock (which
//! tests pause).
//!
//! # Using it as a library
//!
//! A [`Service`] wraps any [`Backend`] (`bdi_api_client::HttpBackend` for the platform, the
//! sandbox for tests, `MockBackend` with the `mock` feature) and adds what the raw API lacks:
//! waits with progress, run limits, safe read-modify-write, table matching. Outcomes say where
//! things stand ([`RunOutcome::state`], [`Activation::state`]) and errors what to do next
//! ([`Error::next_step`]), as data for your program to word:
//!
//! ```
//! use std::sync::Arc;
//!
//! use bdi_domain::{DataFlowId, Env, Error, Limit, MockBackend, RunOptions, RunStage, Service};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> bdi_domain::Result<()> {
//! let mut backend = MockBackend::new();
//! backend.expect_run_data_flow().times(2).returning(|_, flow, _| {
//!     Ok(serde_json::from_value(serde_json::json!({
//!         "run_group_id": "5658a1c9ea724ee59f048cbb5a6f734a",
//!         "river_cross_id": flow.to_string(),
//!         "runs": [{"run_id": "1f1468d097754cd8892468c2763ebfe8", "status": "pending"}]
//!     }))
//!     .expect("a trigger"))
//! });
//! let service = Service::new(Arc::new(backend));
//! let flow = DataFlowId::parse("65c1d2e3f4a5b6c7d8e9f001")?;
//!
//! // Trigger without waiting: the run goes on upstream.
//! let outcome = service.run(&Env::Default, &flow, RunOptions::default()).await?;
//! assert_eq!(outcome.state().stage, RunStage::Started);
//! service.run(&Env::Default, &flow, RunOptions::default()).await?;
//!
//! // A third run within the minute would break the platform's limit of two per data flow: the
//! // service refuses it before it reaches the platform, and says how long to wait.
//! let refused = service.run(&Env::Default, &flow, RunOptions::default()).await;
//! assert!(matches!(
//!     refused,
//!     Err(Error::RateLimited { limit: Limit::Flow, retry_after: Some(_), .. })
//! ));
//! # Ok(())
//! # }
//! ```
//!
//! A wait reports its progress (to show it, or to forward it as MCP progress notifications) and
//! ends in a state, never in a loop of your own:
//!
//! ```
//! use std::sync::{Arc, Mutex};
//!
//! use bdi_domain::{
//!     DataFlowId, Env, MockBackend, Progress, RunOptions, RunStage, Service, WaitOptions,
//! };
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> bdi_domain::Result<()> {
//! let mut backend = MockBackend::new();
//! backend.expect_run_data_flow().returning(|_, flow, _| {
//!     Ok(serde_json::from_value(serde_json::json!({
//!         "run_group_id": "5658a1c9ea724ee59f048cbb5a6f734a",
//!         "river_cross_id": flow.to_string(),
//!         "runs": [{"run_id": "1f1468d097754cd8892468c2763ebfe8", "status": "pending"}]
//!     }))
//!     .expect("a trigger"))
//! });
//! let mut checks = 0;
//! backend.expect_get_run().returning(move |_, flow, run| {
//!     checks += 1;
//!     let status = if checks < 3 { "running" } else { "succeeded" };
//!     Ok(serde_json::from_value(serde_json::json!({
//!         "run_id": run.as_str(), "river_cross_id": flow.to_string(), "status": status
//!     }))
//!     .expect("a run"))
//! });
//! let service = Service::new(Arc::new(backend));
//!
//! let seen: Arc<Mutex<Vec<String>>> = Arc::default();
//! let log = Arc::clone(&seen);
//! let wait = WaitOptions {
//!     progress: Some(Arc::new(move |p: Progress| log.lock().unwrap().push(p.message))),
//!     ..WaitOptions::default()
//! };
//! let flow = DataFlowId::parse("65c1d2e3f4a5b6c7d8e9f001")?;
//! let options = RunOptions { wait: Some(wait), ..RunOptions::default() };
//! let outcome = service.run(&Env::Default, &flow, options).await?;
//! assert_eq!(outcome.state().stage, RunStage::Succeeded);
//! // "still running after 0 s; next check in 2 s", ...
//! assert_eq!(seen.lock().unwrap().len(), 2, "a report per check before the end");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod backend;
pub mod error;
pub mod ids;
pub mod locks;
pub mod logs;
pub mod matching;
pub mod merge;
pub mod models;
pub mod next_step;
pub mod paging;
pub mod plan;
pub mod poll;
pub mod scope;
pub mod service;
pub mod throttle;

#[cfg(feature = "mock")]
pub use backend::MockBackend;
pub use backend::{Backend, Document, Env};
pub use error::{Error, Result, StateConflict, ValidationDetail};
pub use ids::{AccountId, ConnectionId, DataFlowId, EnvironmentId, OperationId, RunId};
pub use locks::{Held, Locks, ResourceLocks};
pub use matching::{Catalog, MatchError, QualifiedTable};
pub use next_step::NextStep;
pub use poll::{PollPolicy, Progress, ProgressFn, Waited};
pub use scope::Scope;
pub use service::{
    Activation, Checked, ConnectionSweep, Documents, Identities, NewDataFlow, RunOptions,
    RunOutcome, RunStage, RunState, Service, ServiceConfig, TablesSet, ToggleState, Upstream,
    UpstreamSettings, WaitOptions, explain_operation,
};
pub use throttle::{
    Denied, InMemoryLimiter, Limit, Refusal, Reservation, RunGate, RunLimiter, SlidingWindows,
    ThrottleLimits,
};
pub use tokio_util::sync::CancellationToken;
