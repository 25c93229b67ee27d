//! The `Backend` trait: one method per upstream operation, the seam every front end shares.
//!
//! Environment-scoped methods take `env: &Env`; `None` means the backend's
//! configured default environment. Bodies of writes are JSON documents because the upstream's
//! write schemas are large unions that must round-trip verbatim; the domain prepares them
//! (merge, strip server-managed fields) before they reach a backend.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::error::EMPTY_ENVIRONMENT_ID;
use crate::ids::{ConnectionId, DataFlowId, EnvironmentId, OperationId, RunId};
use crate::models::{
    ActivityQuery, Connection, DataFlow, DataFlowQuery, DataFlowSummary, DiscoveryRequest,
    Environment, Operation, Page, PageQuery, Run, RunQuery, RunTriggered, Toggle, Variables,
};
use crate::{Error, Result};

/// A JSON object body.
pub type Document = Map<String, Value>;

/// Which environment a call targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Env {
    /// The backend's configured default environment.
    #[default]
    Default,
    /// This environment.
    Id(EnvironmentId),
}

impl Env {
    /// `Env::Id` when an id is given, else `Env::Default`.
    pub fn from_option(id: Option<EnvironmentId>) -> Self {
        id.map_or(Self::Default, Self::Id)
    }

    /// The environment a caller named: `None` is the default environment, an id is parsed, and
    /// an empty or blank id is refused, because it must never silently mean the default (a
    /// `delete` aimed at the wrong environment).
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw {
            None => Ok(Self::Default),
            Some(s) if s.trim().is_empty() => {
                Err(Error::invalid("environment_id", EMPTY_ENVIRONMENT_ID))
            }
            Some(s) => EnvironmentId::parse(s).map(Self::Id),
        }
    }

    /// The explicit id, if any.
    pub fn id(&self) -> Option<&EnvironmentId> {
        match self {
            Self::Default => None,
            Self::Id(id) => Some(id),
        }
    }
}

/// One upstream account, reached over HTTP ([`bdi_api_client`'s `HttpBackend`]) or mocked.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The environment used when a call names none, if one is configured.
    fn default_environment(&self) -> Option<EnvironmentId>;

    // Operations.

    /// `GET {E}/operations/{id}`: an asynchronous operation's status.
    async fn get_operation(&self, env: &Env, id: &OperationId) -> Result<Operation>;

    // Runs.

    /// `GET {E}/rivers/{flow}/runs`: one page of runs in a time window.
    async fn list_runs(&self, env: &Env, flow: &DataFlowId, query: &RunQuery) -> Result<Page<Run>>;

    /// `GET {E}/rivers/{flow}/runs/{run}`: one run, by run id or run group id.
    async fn get_run(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Result<Run>;

    /// `GET {E}/rivers/{flow}/runs/{run}/logs`: the run's log as CSV text (empty when the source
    /// keeps no logs).
    async fn get_run_logs(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Result<String>;

    // Data flows.

    /// `GET {E}/rivers`: one page of data flows (list shape).
    async fn list_data_flows(
        &self,
        env: &Env,
        query: &DataFlowQuery,
    ) -> Result<Page<DataFlowSummary>>;

    /// `GET {E}/rivers/{flow}`: the full document.
    async fn get_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<DataFlow>;

    /// `POST {E}/rivers`: create; the body is a full write document.
    async fn create_data_flow(&self, env: &Env, body: &Document) -> Result<DataFlow>;

    /// `PUT {E}/rivers/{flow}`: full replace.
    async fn update_data_flow(
        &self,
        env: &Env,
        flow: &DataFlowId,
        body: &Document,
    ) -> Result<DataFlow>;

    /// `DELETE {E}/rivers/{flow}`.
    async fn delete_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<()>;

    /// `POST {E}/rivers/{flow}/activate_river`.
    async fn activate_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<Toggle>;

    /// `POST {E}/rivers/{flow}/disable_river`.
    async fn disable_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<Toggle>;

    /// `POST {E}/rivers/{flow}/run`. Never retried by a backend: a run must not start twice.
    async fn run_data_flow(
        &self,
        env: &Env,
        flow: &DataFlowId,
        run_sub_rivers: bool,
    ) -> Result<RunTriggered>;

    // Environments.

    /// `GET /v1/accounts/{account}/environments`.
    async fn list_environments(
        &self,
        page: PageQuery,
        include_deleted: bool,
    ) -> Result<Page<Environment>>;

    // Connections.

    /// `GET {E}/connections`: one page.
    async fn list_connections(&self, env: &Env, page: PageQuery) -> Result<Page<Connection>>;

    /// `GET {E}/connections/{id}` (secrets omitted; `*_exists` flags instead).
    async fn get_connection(&self, env: &Env, id: &ConnectionId) -> Result<Connection>;

    /// `POST {E}/connections`: the flat body `{connection_name, connection_type, ...params}`.
    async fn create_connection(&self, env: &Env, body: &Document) -> Result<Connection>;

    /// `PUT {E}/connections/{id}`: full replace (a body without credentials clears them).
    async fn update_connection(
        &self,
        env: &Env,
        id: &ConnectionId,
        body: &Document,
    ) -> Result<Connection>;

    /// `DELETE {E}/connections/{id}`.
    async fn delete_connection(&self, env: &Env, id: &ConnectionId) -> Result<()>;

    // Variables.

    /// `GET {E}/variables`.
    async fn list_variables(&self, env: &Env) -> Result<Variables>;

    /// `PUT {E}/variables`: merges the given keys; others stay untouched.
    async fn upsert_variables(&self, env: &Env, vars: &Variables) -> Result<()>;

    // Metadata discovery.

    /// `POST {E}/pull_requests` with task `get_db_metadata`: starts a discovery operation whose
    /// result (on `D`) is the connection's catalog.
    async fn start_discovery(&self, env: &Env, request: &DiscoveryRequest) -> Result<Operation>;

    // Activities (`docs/upstream-api.md` 4.10). Their shapes are only partly documented, so they come back as JSON.

    /// A1 `GET {E}/activities_statistics`: environment-wide RPU and run counts.
    async fn activities_statistics(&self, env: &Env, query: &ActivityQuery) -> Result<Value>;

    /// A8 `GET {E}/activities`: per data flow activity summary, paginated.
    async fn activities(&self, env: &Env, query: &ActivityQuery) -> Result<Page<Value>>;

    /// A2 `GET {E}/rivers/{flow}/activities_statistics`.
    async fn data_flow_statistics(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value>;

    /// A3 `GET {E}/rivers/{flow}/activities_targets`: per target table status.
    async fn data_flow_targets(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value>;

    /// A4 `GET {E}/rivers/{flow}/activities_run_groups`: run groups, paginated.
    async fn data_flow_run_groups(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Page<Value>>;

    /// A4b `GET {E}/rivers/{flow}/activities_run_groups/{group}`: one run group with counts.
    async fn data_flow_run_group(
        &self,
        env: &Env,
        flow: &DataFlowId,
        group: &RunId,
    ) -> Result<Value>;

    /// A5 `GET {E}/rivers/{flow}/activities_sub_rivers`.
    async fn data_flow_sub_flows(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value>;
}
