//! The [`Service`]: the operations every front end calls, built on a [`Backend`] with the domain's
//! rules on top: write preparation and immutability checks, per-resource locking of
//! read-modify-write, table matching with a cached catalog, waits with progress and cancellation,
//! run throttling, and run-trigger safety (a run is never triggered twice by this code).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde_json::{Map, Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::backend::{Backend, Document, Env};
use crate::error::{Error, Result, StateConflict, quote};
use crate::ids::{ConnectionId, DataFlowId, OperationId, RunId};
use crate::locks::{Locks, ResourceLocks};
use crate::matching::{Catalog, QualifiedTable, build_schemas, match_tables};
use crate::merge::{check_immutable, merge_patch, prepare_data_flow_write, strip_forbidden};
use crate::models::{
    Connection, DataFlow, DiscoveryRequest, Environment, Operation, OperationStatus, Page,
    PageQuery, Run, RunQuery, RunSortBy, RunStatus, RunTriggered, SortOrder, Timestamp, Toggle,
    TriggeredRun, Variables,
};
use crate::next_step::NextStep;
use crate::poll::{PollPolicy, ProgressFn, Waited, poll};
use crate::throttle::{InMemoryLimiter, Limit, RunGate, RunLimiter, ThrottleLimits};

/// The most pages a connection sweep reads.
pub const MAX_SWEEP_PAGES: u32 = 100;
/// How many pages a connection sweep reads at once.
pub const SWEEP_CONCURRENCY: usize = 4;
/// Loading methods accepted by [`Service::create_source_to_target`] (`replace` means `overwrite`).
pub const LOADING_METHODS: &[&str] = &["append", "merge", "overwrite", "replace"];
/// How far before the trigger time a reconciled run may have started (clock skew).
const RECONCILE_SKEW: Duration = Duration::from_secs(30);
/// How far back the reconciliation lists runs.
const RECONCILE_LOOKBACK: Duration = Duration::from_secs(300);
/// Pauses before each reconciliation attempt (the new run may take a moment to show).
const RECONCILE_PAUSES: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_secs(2),
    Duration::from_secs(5),
];

/// Settings of a [`Service`].
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    /// The default wait policy (a wait may override it).
    pub poll: PollPolicy,
    /// Run throttling limits of the default limiter.
    pub limits: ThrottleLimits,
    /// How long a discovered catalog is reused.
    pub catalog_ttl: Duration,
    /// The caller's throttle key (per-user limit).
    pub user_key: String,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            poll: PollPolicy::default(),
            limits: ThrottleLimits::default(),
            catalog_ttl: Duration::from_secs(300),
            user_key: "default".to_owned(),
        }
    }
}

/// How to wait for an operation or a run.
#[derive(Clone, Default)]
pub struct WaitOptions {
    /// Overrides the service's policy.
    pub policy: Option<PollPolicy>,
    /// Cancels the wait (the work goes on upstream).
    pub cancel: CancellationToken,
    /// Receives progress reports.
    pub progress: Option<ProgressFn>,
}

impl fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("policy", &self.policy)
            .field("cancelled", &self.cancel.is_cancelled())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Options of [`Service::run`].
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Also run the active sub data flows of a master flow.
    pub run_sub_rivers: bool,
    /// Wait for the run to end.
    pub wait: Option<WaitOptions>,
    /// When the throttle says wait, sleep instead of refusing.
    pub wait_for_throttle: bool,
}

mod connections;
mod flows;
mod outcomes;
mod plans;
mod runs;

pub use connections::{
    ConnectionSweep, carries_credentials, is_credential_key, validate_variables,
};
pub use flows::{NewDataFlow, normalize_loading_method, source_to_target_body};
pub use outcomes::{
    Activation, RunOutcome, RunStage, RunState, TablesSet, ToggleState, explain_operation,
};
pub use plans::{Checked, Documents, Identities, Upstream, UpstreamSettings};

type CatalogKey = (Env, ConnectionId);

#[derive(Default)]
struct CatalogCache(Mutex<HashMap<CatalogKey, (Instant, Arc<Catalog>)>>);

impl CatalogCache {
    fn get(&self, key: &CatalogKey, ttl: Duration) -> Option<Arc<Catalog>> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, key: CatalogKey, catalog: Arc<Catalog>, ttl: Duration) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, (at, _)| at.elapsed() < ttl);
        map.insert(key, (Instant::now(), catalog));
    }
}

impl fmt::Debug for CatalogCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("CatalogCache").field("entries", &n).finish()
    }
}

/// The operations of bdi, shared by every front end. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Service {
    backend: Arc<dyn Backend>,
    config: Arc<ServiceConfig>,
    gate: Arc<RunGate>,
    locks: Arc<dyn Locks>,
    catalogs: Arc<CatalogCache>,
}

fn flow_key(id: &DataFlowId) -> String {
    format!("data_flow:{id}")
}

fn connection_key(id: &ConnectionId) -> String {
    format!("connection:{id}")
}

impl Service {
    /// A service with the default configuration and an in-memory run limiter.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self::with_config(backend, ServiceConfig::default())
    }

    /// A service with this configuration and an in-memory run limiter.
    pub fn with_config(backend: Arc<dyn Backend>, config: ServiceConfig) -> Self {
        let limiter = Arc::new(InMemoryLimiter::new(config.limits.clone()));
        Self {
            backend,
            config: Arc::new(config),
            gate: Arc::new(RunGate::new(limiter)),
            locks: Arc::new(ResourceLocks::new()),
            catalogs: Arc::default(),
        }
    }

    /// Replaces the run limiter (e.g. one kept in a file shared by processes).
    pub fn with_limiter(mut self, limiter: Arc<dyn RunLimiter>) -> Self {
        self.gate = Arc::new(RunGate::new(limiter));
        self
    }

    /// Replaces the locks of read-modify-write (e.g. leases shared by replicas).
    pub fn with_locks(mut self, locks: Arc<dyn Locks>) -> Self {
        self.locks = locks;
        self
    }

    /// Replaces the run gate (the limiter and its waiting queues), to share it between services.
    pub fn with_gate(mut self, gate: Arc<RunGate>) -> Self {
        self.gate = gate;
        self
    }

    /// The run gate: the limiter and the callers waiting for it.
    pub fn gate(&self) -> &Arc<RunGate> {
        &self.gate
    }

    /// The same service (backend, limiter, waiting queues, locks, catalog cache) for another
    /// caller: runs count against `user_key`'s per-user limit.
    pub fn for_user(&self, user_key: &str) -> Self {
        let mut config = (*self.config).clone();
        config.user_key = user_key.to_owned();
        Self {
            config: Arc::new(config),
            ..self.clone()
        }
    }

    /// The backend, for the plain reads that need no domain logic.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }
}

#[cfg(test)]
use runs::{first_run_id, is_ambiguous, newest_group_since};

#[cfg(test)]
mod tests;
