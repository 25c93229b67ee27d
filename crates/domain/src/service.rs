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
use crate::locks::ResourceLocks;
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

/// What [`Service::run`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// The trigger's answer (rebuilt from list_runs when `reconciled`).
    pub triggered: RunTriggered,
    /// `runs[0].run_id`, else the run group id.
    pub run_id: Option<String>,
    /// The latest state of the run, when waited for.
    pub run: Option<Run>,
    /// How the wait ended, when waited for.
    pub waited: Option<Waited<Run>>,
    /// The trigger failed ambiguously and the run was found with list_runs.
    pub reconciled: bool,
}

impl RunOutcome {
    /// Where the run stands: the one reading every front end words.
    pub fn state(&self) -> RunState {
        let triggered = || {
            self.triggered
                .runs
                .first()
                .map_or(RunStatus::Pending, |r| r.status.clone())
        };
        let latest = |run: &Option<Run>| run.as_ref().map_or_else(triggered, |r| r.status.clone());
        match &self.waited {
            None => RunState {
                stage: RunStage::Started,
                status: latest(&self.run),
                run: self.run.clone(),
            },
            Some(Waited::Finished(run)) => RunState {
                stage: if run.status.is_success() {
                    RunStage::Succeeded
                } else {
                    RunStage::Failed
                },
                status: run.status.clone(),
                run: Some(run.clone()),
            },
            Some(Waited::TimedOut { last, elapsed }) => RunState {
                stage: RunStage::TimedOut(*elapsed),
                status: latest(last),
                run: last.clone(),
            },
            Some(Waited::Cancelled { last }) => RunState {
                stage: RunStage::Cancelled,
                status: latest(last),
                run: last.clone(),
            },
        }
    }
}

/// How far a run got by the time the call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStage {
    /// Triggered, not waited for: it goes on upstream.
    Started,
    /// It ended in success (`succeeded`, or partially).
    Succeeded,
    /// It ended otherwise (failed, canceled, skipped, ...).
    Failed,
    /// The wait ran out of time after this long: the run goes on upstream.
    TimedOut(Duration),
    /// The wait was cancelled: the run goes on upstream.
    Cancelled,
}

/// Where a run stands when the call returns.
#[derive(Clone, Debug, PartialEq)]
pub struct RunState {
    /// How far it got.
    pub stage: RunStage,
    /// Its latest known status (the trigger's, `pending`, when nothing more is known).
    pub status: RunStatus,
    /// Its latest known state, when it was fetched.
    pub run: Option<Run>,
}

impl RunState {
    /// Whether the run ended (in success or not).
    pub fn is_finished(&self) -> bool {
        matches!(self.stage, RunStage::Succeeded | RunStage::Failed)
    }
}

/// What activate and disable did.
#[derive(Clone, Debug, PartialEq)]
pub struct Activation {
    /// The upstream's answer.
    pub toggle: Toggle,
    /// How the wait ended, when waited for and an operation was started.
    pub waited: Option<Waited<Operation>>,
}

impl Activation {
    /// The final operation, when known (already terminal or waited to the end).
    pub fn final_operation(&self) -> Option<&Operation> {
        match (&self.waited, &self.toggle) {
            (Some(w), _) => w.finished(),
            (None, Toggle::Started { operation }) if operation.status.is_terminal() => {
                Some(operation)
            }
            _ => None,
        }
    }

    /// The next step when the operation ended in error.
    pub fn advice(&self) -> Option<NextStep> {
        self.final_operation().and_then(explain_operation)
    }

    /// Where the activation or the disable stands: the one reading every front end words.
    pub fn state(self) -> ToggleState {
        let Toggle::Started { operation } = self.toggle else {
            return ToggleState::AlreadyInState;
        };
        let started = *operation;
        let ended = |op: Operation| {
            if op.status == OperationStatus::Done {
                ToggleState::Done(op)
            } else {
                let next = explain_operation(&op);
                ToggleState::Failed {
                    operation: op,
                    next,
                }
            }
        };
        match self.waited {
            None if started.status.is_terminal() => ended(started),
            None => ToggleState::Started(started),
            Some(Waited::Finished(op)) => ended(op),
            Some(Waited::TimedOut { last, elapsed }) => ToggleState::TimedOut {
                operation: last.unwrap_or(started),
                elapsed,
            },
            Some(Waited::Cancelled { last }) => ToggleState::Cancelled(last.unwrap_or(started)),
        }
    }
}

/// Where an activation or a disable stands when the call returns.
#[derive(Clone, Debug, PartialEq)]
pub enum ToggleState {
    /// The data flow was already in the asked state: nothing was started.
    AlreadyInState,
    /// The operation ended and the data flow is in the asked state.
    Done(Operation),
    /// The operation ended in error: the data flow is not in the asked state.
    Failed {
        /// The operation, with its `error_message`.
        operation: Operation,
        /// What to do about it, when the message says.
        next: Option<NextStep>,
    },
    /// Started and not waited for: the operation goes on upstream.
    Started(Operation),
    /// The wait ran out of time: the operation goes on upstream.
    TimedOut {
        /// The operation as last seen.
        operation: Operation,
        /// How long the wait lasted.
        elapsed: Duration,
    },
    /// The wait was cancelled: the operation goes on upstream.
    Cancelled(Operation),
}

impl ToggleState {
    /// The operation, when one was started.
    pub fn operation(&self) -> Option<&Operation> {
        match self {
            Self::AlreadyInState => None,
            Self::Done(op) | Self::Started(op) | Self::Cancelled(op) => Some(op),
            Self::Failed { operation, .. } | Self::TimedOut { operation, .. } => Some(operation),
        }
    }

    /// Whether the data flow is in the asked state now.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::AlreadyInState | Self::Done(_))
    }

    /// Whether the operation goes on upstream (started, timed out or cancelled).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            Self::Started(_) | Self::TimedOut { .. } | Self::Cancelled(_)
        )
    }
}

/// What [`Service::set_source_tables`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct TablesSet {
    /// The saved data flow.
    pub flow: DataFlow,
    /// The selected tables, in input order, with the connection's casing.
    pub tables: Vec<QualifiedTable>,
}

/// The flat parameters of the MCP `create_data_flow` tool.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDataFlow {
    /// Display name.
    pub name: String,
    /// Source connector type (`properties.source.name`).
    pub source_name: String,
    /// Source connection.
    pub source_connection_id: ConnectionId,
    /// Target connector type (`properties.target.name`).
    pub target_name: String,
    /// Target connection.
    pub target_connection_id: ConnectionId,
    /// `append` (default), `merge`, `overwrite`, or `replace` (= `overwrite`).
    pub loading_method: Option<String>,
    /// Merged into `properties.target` (database_name, schema_name, table_name, ...).
    pub target_settings: Option<Map<String, Value>>,
    /// `metadata.description`.
    pub description: Option<String>,
}

/// Every connection of an environment.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionSweep {
    /// The connections, in page order.
    pub items: Vec<Connection>,
    /// The upstream's total (or the count read, when it gave none).
    pub total_items: u64,
    /// How many pages were requested.
    pub pages: u32,
    /// Pages that failed transiently and are missing from `items`.
    pub incomplete_pages: Vec<u32>,
}

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
    locks: ResourceLocks,
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
            locks: ResourceLocks::new(),
            catalogs: Arc::default(),
        }
    }

    /// Replaces the run limiter (e.g. one kept in a file shared by processes).
    pub fn with_limiter(mut self, limiter: Arc<dyn RunLimiter>) -> Self {
        self.gate = Arc::new(RunGate::new(limiter));
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

    // -----------------------------------------------------------------------------------------
    // Data flows

    /// Creates a data flow from a full write body, prepared first (forbidden fields and nulls
    /// stripped).
    pub async fn create_data_flow(&self, env: &Env, body: Document) -> Result<DataFlow> {
        let mut body = body;
        prepare_data_flow_write(&mut body);
        self.backend.create_data_flow(env, &body).await
    }

    /// Creates a source-to-target data flow from flat parameters (`docs/upstream-api.md` 4.5.1), then saves it
    /// once with the same body so that activation works on it (trap 13). If that save fails, the
    /// created flow is returned as is: it exists, and saving it once later (an empty patch) is
    /// the remedy [`explain_operation`] gives when its activation fails.
    pub async fn create_source_to_target(&self, env: &Env, spec: NewDataFlow) -> Result<DataFlow> {
        let body = source_to_target_body(&spec)?;
        let created = self.backend.create_data_flow(env, &body).await?;
        let Ok(id) = DataFlowId::parse(&created.cross_id) else {
            tracing::warn!(id = %created.cross_id, "created data flow has an unexpected id; not saving it again");
            return Ok(created);
        };
        let _guard = self.locks.lock(flow_key(&id)).await;
        match self.backend.update_data_flow(env, &id, &body).await {
            Ok(saved) => Ok(saved),
            Err(e) => {
                tracing::warn!(data_flow = %id, error = %e, "the save after create failed; activation may need one save first");
                Ok(created)
            }
        }
    }

    /// Replaces a data flow with `body` (a full document), refusing a change of `type` or
    /// `properties.source.run_type`.
    pub async fn update_data_flow(
        &self,
        env: &Env,
        id: &DataFlowId,
        body: Document,
    ) -> Result<DataFlow> {
        let _guard = self.locks.lock(flow_key(id)).await;
        let current = self.backend.get_data_flow(env, id).await?;
        let next = Value::Object(body);
        check_immutable(&Value::Object(current.to_document()), &next)?;
        let Value::Object(mut body) = next else {
            return Err(Error::invalid("body", "the body must be a JSON object"));
        };
        prepare_data_flow_write(&mut body);
        self.backend.update_data_flow(env, id, &body).await
    }

    /// Deep-merges `patch` into the current document (lists replace, null removes) and saves it.
    /// An empty patch saves the flow unchanged.
    pub async fn patch_data_flow(
        &self,
        env: &Env,
        id: &DataFlowId,
        patch: &Value,
    ) -> Result<DataFlow> {
        if !patch.is_object() {
            return Err(Error::invalid(
                "patch",
                "the patch must be a JSON object of the fields to change, e.g. {\"name\": \"New Name\"}",
            ));
        }
        let _guard = self.locks.lock(flow_key(id)).await;
        let current = Value::Object(self.backend.get_data_flow(env, id).await?.to_document());
        let mut next = current.clone();
        merge_patch(&mut next, patch);
        check_immutable(&current, &next)?;
        let Value::Object(mut body) = next else {
            return Err(Error::invalid("patch", "the patch must be a JSON object"));
        };
        prepare_data_flow_write(&mut body);
        self.backend.update_data_flow(env, id, &body).await
    }

    /// Selects exactly `table_names` as the flow's source tables (`docs/upstream-api.md` 7.3),
    /// from `connection`, or from the data flow's own source connection when it is `None`.
    /// Nothing is written unless every name matches a table of the connection.
    pub async fn set_source_tables(
        &self,
        env: &Env,
        id: &DataFlowId,
        connection: Option<&ConnectionId>,
        table_names: &[String],
    ) -> Result<TablesSet> {
        if table_names.is_empty() {
            return Err(Error::invalid(
                "table_names",
                "give every table to sync, e.g. [\"customers\", \"orders\"]: the list replaces the whole selection",
            ));
        }
        let flow = self.backend.get_data_flow(env, id).await?;
        let configured = flow
            .properties
            .pointer("/source/connection_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let own;
        let connection = match (connection, configured) {
            (Some(given), _) => given,
            (None, Some(c)) => {
                own = ConnectionId::parse(c)?;
                &own
            }
            (None, None) => {
                return Err(Error::invalid(
                    "connection",
                    format!(
                        "data flow {id} has no source connection: give the connection to read its tables from"
                    ),
                ));
            }
        };
        if let Some(c) = configured
            && !c.eq_ignore_ascii_case(connection.as_str())
        {
            return Err(Error::invalid(
                "source_connection_id",
                format!(
                    "data flow {id} reads from connection {c}, not {connection}: pass {c}, or change the data flow's properties.source.connection_id first"
                ),
            ));
        }
        let datasource = match flow.source_name().filter(|s| !s.is_empty()) {
            Some(s) => s.to_owned(),
            None => self
                .backend
                .get_connection(env, connection)
                .await?
                .type_slug()
                .ok_or_else(|| {
                    Error::invalid(
                        "data_flow_id",
                        format!("data flow {id} names no source type (properties.source.name); set it first"),
                    )
                })?,
        };
        let (catalog, cached) = self.catalog(env, connection, &datasource, false).await?;
        let matched = match match_tables(&catalog, table_names) {
            Ok(m) => m,
            Err(e) if cached && e.has_unknown() => {
                // The catalog may predate a new table: discover once more before refusing.
                let (fresh, _) = self.catalog(env, connection, &datasource, true).await?;
                match_tables(&fresh, table_names)?
            }
            Err(e) => return Err(e.into()),
        };

        let _guard = self.locks.lock(flow_key(id)).await;
        let mut doc = self.backend.get_data_flow(env, id).await?.to_document();
        let props = doc
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if !props.is_object() {
            *props = Value::Object(Map::new());
        }
        if let Value::Object(props) = props {
            let schemas = build_schemas(props.get("schemas").unwrap_or(&Value::Null), &matched);
            props.insert("schemas".to_owned(), schemas);
            let source = props
                .entry("source")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(source) = source {
                let absent = source
                    .get("connection_id")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty);
                if absent {
                    source.insert(
                        "connection_id".to_owned(),
                        Value::String(connection.to_string()),
                    );
                }
            }
        }
        prepare_data_flow_write(&mut doc);
        let flow = self.backend.update_data_flow(env, id, &doc).await?;
        Ok(TablesSet {
            flow,
            tables: matched,
        })
    }

    /// The connection's catalog, from the cache unless `refresh`; the flag says it was cached.
    async fn catalog(
        &self,
        env: &Env,
        connection: &ConnectionId,
        datasource: &str,
        refresh: bool,
    ) -> Result<(Arc<Catalog>, bool)> {
        let key = (env.clone(), connection.clone());
        if !refresh && let Some(c) = self.catalogs.get(&key, self.config.catalog_ttl) {
            return Ok((c, true));
        }
        let request = DiscoveryRequest {
            datasource_id: datasource.to_owned(),
            connection_id: connection.clone(),
            schemas: None,
            table_name: None,
        };
        let started = self.backend.start_discovery(env, &request).await?;
        let what = format!("metadata discovery of connection {connection}");
        let op = match self
            .follow_operation(env, &started, &WaitOptions::default())
            .await?
        {
            Waited::Finished(op) => op,
            Waited::TimedOut { elapsed, .. } => {
                return Err(Error::Timeout(format!(
                    "{what} did not finish within {} s (operation {}); nothing was changed: try again later",
                    elapsed.as_secs(),
                    started.operation_id
                )));
            }
            Waited::Cancelled { .. } => {
                return Err(Error::Cancelled(format!("{what}; nothing was changed")));
            }
        };
        if op.status == OperationStatus::Error {
            return Err(Error::OperationFailed {
                operation_id: op.operation_id.clone(),
                message: op
                    .error_message
                    .clone()
                    .unwrap_or_else(|| format!("{what} failed without a message")),
            });
        }
        let catalog = Arc::new(Catalog::from_discovery(
            op.result.as_ref().unwrap_or(&Value::Null),
        )?);
        self.catalogs
            .put(key, catalog.clone(), self.config.catalog_ttl);
        Ok((catalog, false))
    }

    /// Deletes a data flow. An active flow (other than a logic flow) is refused before any
    /// delete: it must be disabled first. Nothing is ever force-deleted.
    pub async fn delete_data_flow(&self, env: &Env, id: &DataFlowId) -> Result<()> {
        let flow = self.backend.get_data_flow(env, id).await?;
        if flow.status() == Some("active") && flow.flow_type != "logic" {
            return Err(Error::State {
                conflict: StateConflict::ActiveFlow,
                message: format!(
                    "data flow {id} ({}) is active and cannot be deleted: disable it first, wait for the operation, then delete it",
                    flow.name
                ),
            });
        }
        self.backend.delete_data_flow(env, id).await
    }

    /// Activates a data flow, optionally waiting for the operation. An operation ending in `E`
    /// is an outcome, not an error: see [`Activation::advice`].
    pub async fn activate(
        &self,
        env: &Env,
        id: &DataFlowId,
        wait: Option<WaitOptions>,
    ) -> Result<Activation> {
        let toggle = self.backend.activate_data_flow(env, id).await?;
        self.after_toggle(env, toggle, wait).await
    }

    /// Disables a data flow, optionally waiting for the operation.
    pub async fn disable(
        &self,
        env: &Env,
        id: &DataFlowId,
        wait: Option<WaitOptions>,
    ) -> Result<Activation> {
        let toggle = self.backend.disable_data_flow(env, id).await?;
        self.after_toggle(env, toggle, wait).await
    }

    async fn after_toggle(
        &self,
        env: &Env,
        toggle: Toggle,
        wait: Option<WaitOptions>,
    ) -> Result<Activation> {
        let waited = match (&toggle, wait) {
            (Toggle::Started { operation }, Some(w)) => {
                Some(self.follow_operation(env, operation, &w).await?)
            }
            _ => None,
        };
        Ok(Activation { toggle, waited })
    }

    /// Waits for an operation that was just returned, unless it is already terminal.
    async fn follow_operation(
        &self,
        env: &Env,
        op: &Operation,
        wait: &WaitOptions,
    ) -> Result<Waited<Operation>> {
        if op.status.is_terminal() {
            return Ok(Waited::Finished(op.clone()));
        }
        let id = OperationId::parse(&op.operation_id).map_err(|_| Error::Decode {
            path: "operation_id".to_owned(),
            message: format!("{} is not an operation id", quote(&op.operation_id)),
        })?;
        self.wait_for_operation(env, &id, wait.clone()).await
    }

    /// Polls an operation until `D` or `E`.
    pub async fn wait_for_operation(
        &self,
        env: &Env,
        op: &OperationId,
        wait: WaitOptions,
    ) -> Result<Waited<Operation>> {
        let policy = wait.policy.as_ref().unwrap_or(&self.config.poll);
        poll(
            policy,
            &wait.cancel,
            wait.progress.as_ref(),
            || self.backend.get_operation(env, op),
            |o: &Operation| o.status.is_terminal(),
            |o: &Operation| o.status.describe().to_owned(),
        )
        .await
    }

    // -----------------------------------------------------------------------------------------
    // Runs

    /// Triggers a run: a slot of the run limiter first (reserved atomically, or refused at once
    /// with the time to wait), then one POST that is never repeated.
    ///
    /// - With `wait_for_throttle`, a refused caller queues for the flow's next free slot instead,
    ///   within the wait's deadline; the time spent there comes off the wait for the run.
    /// - An upstream 429 gives the slot back, holds the flow back for its `Retry-After` and comes
    ///   back as [`Error::RateLimited`] at once; any other answer that proves no run started (4xx)
    ///   gives the slot back too.
    /// - An ambiguous failure (transport error, 5xx) keeps the slot and is reconciled with
    ///   list_runs; if no new run shows up, the error says the run may or may not have started.
    pub async fn run(&self, env: &Env, id: &DataFlowId, opts: RunOptions) -> Result<RunOutcome> {
        let user = self.config.user_key.as_str();
        let started = Instant::now();
        let budget = opts
            .wait
            .as_ref()
            .and_then(|w| w.policy.as_ref())
            .unwrap_or(&self.config.poll)
            .deadline;
        let reservation = if opts.wait_for_throttle {
            let cancel = opts
                .wait
                .as_ref()
                .map(|w| w.cancel.clone())
                .unwrap_or_default();
            self.gate
                .acquire_waiting(id, user, &cancel, started + budget)
                .await?
        } else {
            self.gate.acquire(id, user).await?
        };
        let limiter = self.gate.limiter();

        let trigger_time = Utc::now();
        let (triggered, reconciled) = match self
            .backend
            .run_data_flow(env, id, opts.run_sub_rivers)
            .await
        {
            Ok(t) => (t, false),
            Err(Error::RateLimited {
                retry_after,
                message,
                ..
            }) => {
                let delay = retry_after.unwrap_or(self.config.limits.default_penalty);
                limiter.release(&reservation).await;
                limiter.penalize(id, user, delay).await;
                return Err(Error::RateLimited {
                    retry_after: Some(delay),
                    limit: Limit::Upstream,
                    message,
                });
            }
            Err(e) if is_ambiguous(&e) => {
                tracing::warn!(data_flow = %id, error = %e, "run trigger failed ambiguously; reconciling with the data flow's runs");
                match self.reconcile_run(env, id, trigger_time).await {
                    Some(t) => (t, true),
                    None => return Err(ambiguous_run_error(e, id, trigger_time)),
                }
            }
            Err(e) => {
                // Refused for a reason of its own (4xx): no run started.
                limiter.release(&reservation).await;
                return Err(e);
            }
        };

        let run_id = first_run_id(&triggered);
        let wait = opts.wait.map(|mut w| {
            if opts.wait_for_throttle {
                let left = budget.saturating_sub(started.elapsed());
                let policy = w.policy.take().unwrap_or_else(|| self.config.poll.clone());
                w.policy = Some(policy.with_deadline(left));
            }
            w
        });
        let waited = match &wait {
            Some(w) => self
                .follow_run(env, id, &triggered, w)
                .await
                .map_err(|e| after_trigger(e, &triggered))?,
            None => None,
        };
        let run = waited.as_ref().and_then(|w| w.latest().cloned());
        Ok(RunOutcome {
            triggered,
            run_id,
            run,
            waited,
            reconciled,
        })
    }

    /// Polls a run (by run id or run group id) until its status is terminal.
    pub async fn wait_for_run(
        &self,
        env: &Env,
        flow: &DataFlowId,
        run: &RunId,
        wait: WaitOptions,
    ) -> Result<Waited<Run>> {
        self.poll_run(env, flow, run.clone(), None, &wait).await
    }

    /// Waits for a triggered run. One run: `runs[0].run_id`, falling back to the group id on
    /// 404. Several runs (one per table): the run group id, as the vendor's get_run does, so the
    /// wait ends when every table's run has ended (and reports a failure of any of them), falling
    /// back to the first run id on 404.
    async fn follow_run(
        &self,
        env: &Env,
        flow: &DataFlowId,
        triggered: &RunTriggered,
        wait: &WaitOptions,
    ) -> Result<Option<Waited<Run>>> {
        let group = RunId::parse(&triggered.run_group_id).ok();
        let first = triggered
            .runs
            .first()
            .and_then(|r| RunId::parse(&r.run_id).ok());
        let (start, fallback) = if triggered.runs.len() > 1 && group.is_some() {
            (group, first)
        } else {
            (first.or_else(|| group.clone()), group)
        };
        match start {
            Some(start) => Ok(Some(self.poll_run(env, flow, start, fallback, wait).await?)),
            None => Ok(None),
        }
    }

    async fn poll_run(
        &self,
        env: &Env,
        flow: &DataFlowId,
        start: RunId,
        fallback: Option<RunId>,
        wait: &WaitOptions,
    ) -> Result<Waited<Run>> {
        let policy = wait.policy.as_ref().unwrap_or(&self.config.poll);
        let current = Arc::new(Mutex::new(start));
        poll(
            policy,
            &wait.cancel,
            wait.progress.as_ref(),
            || {
                let current = current.clone();
                let fallback = fallback.clone();
                async move {
                    let id = current
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .clone();
                    match self.backend.get_run(env, flow, &id).await {
                        Err(Error::NotFound { .. })
                            if fallback.as_ref().is_some_and(|g| *g != id) =>
                        {
                            let group = fallback.expect("checked above");
                            *current
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner) = group.clone();
                            self.backend.get_run(env, flow, &group).await
                        }
                        other => other,
                    }
                }
            },
            |r: &Run| r.status.is_terminal(),
            |r: &Run| r.status.as_str().to_owned(),
        )
        .await
    }

    /// Looks for a run group that started at or after `trigger` (minus clock skew).
    async fn reconcile_run(
        &self,
        env: &Env,
        flow: &DataFlowId,
        trigger: DateTime<Utc>,
    ) -> Option<RunTriggered> {
        let skew = chrono::Duration::from_std(RECONCILE_SKEW).unwrap_or_default();
        let lookback = chrono::Duration::from_std(RECONCILE_LOOKBACK).unwrap_or_default();
        for pause in RECONCILE_PAUSES {
            tokio::time::sleep(pause).await;
            let mut query = RunQuery::window(
                Timestamp(trigger - lookback),
                Timestamp(Utc::now() + chrono::Duration::minutes(1)),
            );
            query.page = PageQuery::new(1, 100);
            query.sort_by = RunSortBy::StartTime;
            query.sort_order = SortOrder::Desc;
            match self.backend.list_runs(env, flow, &query).await {
                Ok(page) => {
                    if let Some(t) = newest_group_since(flow, page.items, trigger - skew) {
                        return Some(t);
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "listing the runs failed while reconciling a run trigger");
                }
            }
        }
        None
    }

    // -----------------------------------------------------------------------------------------
    // Environments, connections and variables

    /// Every environment of the account (an account has a few: pages of 100, read in order, at
    /// most [`MAX_SWEEP_PAGES`]).
    pub async fn list_all_environments(&self, include_deleted: bool) -> Result<Vec<Environment>> {
        let mut items = Vec::new();
        for page in 1..=MAX_SWEEP_PAGES {
            let p = self
                .backend
                .list_environments(PageQuery::new(page, 100), include_deleted)
                .await?;
            let more = p.has_next(100);
            items.extend(p.items);
            if !more {
                break;
            }
        }
        Ok(items)
    }

    /// Every connection: page 1, then the other pages concurrently (at most
    /// [`SWEEP_CONCURRENCY`] at once, [`MAX_SWEEP_PAGES`] in all), in page order. A page failing
    /// transiently is listed in `incomplete_pages`; any other failure fails the call.
    pub async fn list_all_connections(
        &self,
        env: &Env,
        items_per_page: u32,
    ) -> Result<ConnectionSweep> {
        let per_page = items_per_page.clamp(1, 500);
        let first = self
            .backend
            .list_connections(env, PageQuery::new(1, per_page))
            .await?;
        let total = first.total_items;
        let mut more = first.has_next(per_page);
        let mut items = first.items;
        let mut incomplete = Vec::new();
        let mut pages = 1;
        if total > 0 {
            let last = u32::try_from(total.div_ceil(u64::from(per_page)))
                .unwrap_or(u32::MAX)
                .min(MAX_SWEEP_PAGES);
            if last > 1 {
                let mut results: Vec<(u32, Result<Page<Connection>>)> = stream::iter(2..=last)
                    .map(|p| async move {
                        (
                            p,
                            self.backend
                                .list_connections(env, PageQuery::new(p, per_page))
                                .await,
                        )
                    })
                    .buffer_unordered(SWEEP_CONCURRENCY)
                    .collect()
                    .await;
                results.sort_by_key(|(p, _)| *p);
                for (p, r) in results {
                    match r {
                        Ok(page) => items.extend(page.items),
                        Err(e) if e.is_transient() => {
                            tracing::warn!(page = p, error = %e, "connections page skipped");
                            incomplete.push(p);
                        }
                        Err(e) => return Err(e),
                    }
                }
                pages = last;
            }
        } else {
            // No total given: read on until a page says it is the last.
            while more && pages < MAX_SWEEP_PAGES {
                pages += 1;
                match self
                    .backend
                    .list_connections(env, PageQuery::new(pages, per_page))
                    .await
                {
                    Ok(page) => {
                        more = page.has_next(per_page);
                        items.extend(page.items);
                    }
                    Err(e) if e.is_transient() => incomplete.push(pages),
                    Err(e) => return Err(e),
                }
            }
        }
        let total_items = if total > 0 { total } else { items.len() as u64 };
        Ok(ConnectionSweep {
            items,
            total_items,
            pages,
            incomplete_pages: incomplete,
        })
    }

    /// Deep-merges `patch` into a connection and saves it. The GET omits secrets, so a save
    /// without them would erase the stored ones: unless `allow_secret_reset`, a connection that
    /// stores a secret is only updated when the patch carries credentials again.
    pub async fn update_connection(
        &self,
        env: &Env,
        id: &ConnectionId,
        patch: &Value,
        allow_secret_reset: bool,
    ) -> Result<Connection> {
        let Value::Object(fields) = patch else {
            return Err(Error::invalid(
                "body",
                "the update must be a JSON object of the fields to change",
            ));
        };
        let _guard = self.locks.lock(connection_key(id)).await;
        let current = self.backend.get_connection(env, id).await?;
        if current.has_stored_secret() && !allow_secret_reset && !carries_credentials(patch) {
            let stored: Vec<&str> = current
                .extra
                .iter()
                .filter(|(_, v)| v.as_bool() == Some(true))
                .filter_map(|(k, _)| k.strip_suffix("_exists"))
                .collect();
            return Err(Error::invalid(
                "body",
                format!(
                    "connection {id} stores secrets ({}) that the API never returns, so saving it without them would erase them: include the credentials again in the update, or allow the credential reset explicitly to clear them on purpose",
                    stored.join(", ")
                ),
            ));
        }
        let mut doc = serde_json::to_value(&current).map_err(|e| Error::Decode {
            path: "connection".to_owned(),
            message: e.to_string(),
        })?;
        merge_patch(&mut doc, patch);
        let Value::Object(mut body) = doc else {
            return Err(Error::invalid("body", "the update must be a JSON object"));
        };
        strip_forbidden(&mut body);
        body.retain(|k, _| !k.ends_with("_exists"));
        if !fields.contains_key("connection_type")
            && let Some(slug) = current
                .connection_type_id
                .as_deref()
                .filter(|s| !s.is_empty())
        {
            body.insert("connection_type".to_owned(), Value::String(slug.to_owned()));
        }
        self.backend.update_connection(env, id, &body).await
    }

    /// Creates or updates environment variables (other keys stay untouched). Names are checked
    /// before any request: not empty, no `.` or `$`, no duplicates. Returns how many were sent.
    pub async fn upsert_variables(&self, env: &Env, vars: Vec<(String, String)>) -> Result<usize> {
        let map = validate_variables(vars)?;
        self.backend.upsert_variables(env, &map).await?;
        Ok(map.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers (pure)

/// Builds the write body of [`Service::create_source_to_target`] (`docs/upstream-api.md` 4.5.1).
pub fn source_to_target_body(spec: &NewDataFlow) -> Result<Document> {
    let name = spec.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "the data flow needs a name"));
    }
    let source = spec.source_name.trim();
    if source.is_empty() {
        return Err(Error::invalid(
            "source_name",
            "give the source connector type, as the connections list shows it (e.g. mysql)",
        ));
    }
    let lowered = source.to_ascii_lowercase().replace(' ', "_");
    if lowered == "blueprint" || lowered == "blueprint_custom" {
        return Err(Error::invalid(
            "source_name",
            "blueprint / blueprint_custom (recipe) sources are not supported here: create those flows in the Boomi Data Integration console",
        ));
    }
    let target_name = spec.target_name.trim();
    if target_name.is_empty() {
        return Err(Error::invalid(
            "target_name",
            "give the target connector type, as the connections list shows it (e.g. snowflake)",
        ));
    }
    let mut target = Value::Object(Map::new());
    if let Some(settings) = &spec.target_settings {
        merge_patch(&mut target, &Value::Object(settings.clone()));
    }
    let from_settings = target
        .get("loading_method")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let loading = match (&spec.loading_method, from_settings) {
        (Some(m), _) => normalize_loading_method(m)?,
        (None, Some(m)) => normalize_loading_method(&m)?,
        (None, None) => "append",
    };
    if let Value::Object(t) = &mut target {
        t.insert("name".to_owned(), json!(target_name));
        t.insert(
            "connection_id".to_owned(),
            json!(spec.target_connection_id.as_str()),
        );
        t.insert("loading_method".to_owned(), json!(loading));
    }
    let mut metadata = Map::new();
    if let Some(d) = spec
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        metadata.insert("description".to_owned(), json!(d));
    }
    let body = json!({
        "name": name,
        "type": "source_to_target",
        "kind": "main_river",
        "metadata": metadata,
        "settings": {},
        "properties": {
            "properties_type": "source_to_target",
            "source": {
                "name": source,
                "connection_id": spec.source_connection_id.as_str(),
                "run_type": "multi_tables",
            },
            "target": target,
            "schemas": [],
        },
    });
    let Value::Object(mut body) = body else {
        return Err(Error::invalid("body", "the body must be a JSON object"));
    };
    prepare_data_flow_write(&mut body);
    Ok(body)
}

/// `append`, `merge`, `overwrite`, or `replace` (which becomes `overwrite`), any case.
pub fn normalize_loading_method(m: &str) -> Result<&'static str> {
    match m.trim().to_ascii_lowercase().as_str() {
        "append" => Ok("append"),
        "merge" => Ok("merge"),
        "overwrite" | "replace" => Ok("overwrite"),
        _ => Err(Error::invalid(
            "loading_method",
            format!(
                "{} is not a loading method: use one of {}",
                quote(m),
                LOADING_METHODS.join(", ")
            ),
        )),
    }
}

/// Checks variable names and builds the map sent upstream.
pub fn validate_variables(vars: Vec<(String, String)>) -> Result<Variables> {
    if vars.is_empty() {
        return Err(Error::invalid(
            "variables",
            "give at least one {\"name\": ..., \"value\": ...} pair",
        ));
    }
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut map = BTreeMap::new();
    for (i, (name, value)) in vars.into_iter().enumerate() {
        let n = name.trim();
        if n.is_empty() {
            problems.push(format!("item {} has an empty name", i + 1));
        } else if n.contains('.') || n.contains('$') {
            problems.push(format!(
                "{} contains `.` or `$`, which variable names cannot",
                quote(n)
            ));
        } else if !seen.insert(n.to_owned()) {
            problems.push(format!("{} is given more than once", quote(n)));
        } else {
            map.insert(n.to_owned(), value);
        }
    }
    if problems.is_empty() {
        Ok(map)
    } else {
        Err(Error::invalid(
            "variables",
            format!("{}; nothing was changed", problems.join("; ")),
        ))
    }
}

/// Whether a key names a credential (password, token, secret, key...).
pub fn is_credential_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    if k.ends_with("_exists") {
        return false;
    }
    [
        "password",
        "passwd",
        "secret",
        "token",
        "credential",
        "pkey",
        "private_key",
    ]
    .iter()
    .any(|w| k.contains(w))
        || k == "key"
        || k.ends_with("_key")
}

/// Whether a patch carries a non-empty credential anywhere in its objects.
pub fn carries_credentials(patch: &Value) -> bool {
    match patch {
        Value::Object(m) => m.iter().any(|(k, v)| {
            let filled = match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            (is_credential_key(k) && filled) || carries_credentials(v)
        }),
        _ => false,
    }
}

/// Failures after which a run may or may not have started.
fn is_ambiguous(e: &Error) -> bool {
    match e {
        Error::Transport(_) | Error::Timeout(_) => true,
        Error::Upstream { status, .. } => *status >= 500,
        _ => false,
    }
}

fn ambiguous_run_error(e: Error, flow: &DataFlowId, trigger: DateTime<Utc>) -> Error {
    Error::RunUncertain {
        data_flow: flow.to_string(),
        since: Timestamp(trigger - chrono::Duration::minutes(1)).to_query(),
        cause: Box::new(e),
    }
}

/// A wait that failed after a successful trigger must not invite a second trigger.
fn after_trigger(e: Error, t: &RunTriggered) -> Error {
    match e {
        Error::NotFound { what, message } => Error::NotFound {
            what: format!(
                "{what} (the run was triggered, run group {}: do not trigger it again; follow it in the data flow's runs)",
                t.run_group_id
            ),
            message,
        },
        other => other,
    }
}

fn first_run_id(t: &RunTriggered) -> Option<String> {
    t.runs
        .first()
        .map(|r| r.run_id.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| Some(t.run_group_id.clone()).filter(|s| !s.is_empty()))
}

/// The earliest run group whose runs started at or after `since` (runs without a start time
/// count when still in progress), as a trigger answer.
fn newest_group_since(
    flow: &DataFlowId,
    runs: Vec<Run>,
    since: DateTime<Utc>,
) -> Option<RunTriggered> {
    let mut groups: Vec<(String, DateTime<Utc>, Vec<Run>)> = Vec::new();
    for run in runs {
        if run.run_group_id.is_empty() {
            continue;
        }
        let started = match run.start_date_utc {
            Some(t) if t.0 >= since => t.0,
            Some(_) => continue,
            None if !run.status.is_terminal() => since,
            None => continue,
        };
        match groups.iter_mut().find(|(g, _, _)| *g == run.run_group_id) {
            Some((_, at, members)) => {
                *at = (*at).min(started);
                members.push(run);
            }
            None => groups.push((run.run_group_id.clone(), started, vec![run])),
        }
    }
    let (group, _, members) = groups.into_iter().min_by_key(|(_, at, _)| *at)?;
    Some(RunTriggered {
        runs: members
            .into_iter()
            .map(|r| TriggeredRun {
                run_id: r.run_id,
                status: r.status,
                message: None,
                sub_river_id: r.sub_river_id,
                extra: Map::new(),
            })
            .collect(),
        river_cross_id: flow.to_string(),
        run_group_id: group,
        extra: Map::new(),
    })
}

/// The next step after an operation that ended in error (`E`); `None` otherwise.
pub fn explain_operation(op: &Operation) -> Option<NextStep> {
    if op.status != OperationStatus::Error {
        return None;
    }
    let text = op
        .error_message
        .as_deref()
        .unwrap_or_default()
        .to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let advice = if has(&["rvr-activate-500", "fire-service", "fire service"]) {
        NextStep::SaveThenActivate
    } else if has(&["cdc"]) && has(&["schedul"]) {
        NextStep::SetCdcSchedulers
    } else if has(&[
        "connect",
        "unreachable",
        "timed out",
        "timeout",
        "refused",
        "authenticat",
        "password",
        "access denied",
        "host",
        "ssl",
        "credential",
        "ora-",
        "login",
    ]) {
        NextStep::CheckConnections
    } else {
        NextStep::ReadOperationError
    };
    Some(advice)
}

#[cfg(test)]
mod tests;
