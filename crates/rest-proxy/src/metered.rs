//! [`MeteredBackend`]: a [`Backend`] decorator that counts and times every upstream call in the
//! gateway's [`Metrics`]. It changes nothing else: each call goes to the inner backend as is.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use bdi_domain::models::{
    ActivityQuery, Connection, DataFlow, DataFlowQuery, DataFlowSummary, DiscoveryRequest,
    Environment, Operation, Page, PageQuery, Run, RunQuery, RunTriggered, Toggle, Variables,
};
use bdi_domain::{
    Backend, ConnectionId, DataFlowId, Document, Env, EnvironmentId, OperationId, Result, RunId,
};
use serde_json::Value;

use crate::metrics::Metrics;

/// Counts and times the calls made through an inner backend.
#[derive(Debug)]
pub struct MeteredBackend {
    inner: Arc<dyn Backend>,
    metrics: Arc<Metrics>,
}

impl MeteredBackend {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Backend>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    async fn timed<T>(&self, op: &'static str, call: impl Future<Output = Result<T>>) -> Result<T> {
        let started = Instant::now();
        let result = call.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        self.metrics.record_upstream(op, outcome, started.elapsed());
        result
    }
}

#[async_trait]
impl Backend for MeteredBackend {
    fn default_environment(&self) -> Option<EnvironmentId> {
        self.inner.default_environment()
    }

    async fn get_operation(&self, env: &Env, id: &OperationId) -> Result<Operation> {
        self.timed("get_operation", self.inner.get_operation(env, id))
            .await
    }

    async fn list_runs(&self, env: &Env, flow: &DataFlowId, query: &RunQuery) -> Result<Page<Run>> {
        self.timed("list_runs", self.inner.list_runs(env, flow, query))
            .await
    }

    async fn get_run(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Result<Run> {
        self.timed("get_run", self.inner.get_run(env, flow, run))
            .await
    }

    async fn get_run_logs(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Result<String> {
        self.timed("get_run_logs", self.inner.get_run_logs(env, flow, run))
            .await
    }

    async fn list_data_flows(
        &self,
        env: &Env,
        query: &DataFlowQuery,
    ) -> Result<Page<DataFlowSummary>> {
        self.timed("list_data_flows", self.inner.list_data_flows(env, query))
            .await
    }

    async fn get_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<DataFlow> {
        self.timed("get_data_flow", self.inner.get_data_flow(env, flow))
            .await
    }

    async fn create_data_flow(&self, env: &Env, body: &Document) -> Result<DataFlow> {
        self.timed("create_data_flow", self.inner.create_data_flow(env, body))
            .await
    }

    async fn update_data_flow(
        &self,
        env: &Env,
        flow: &DataFlowId,
        body: &Document,
    ) -> Result<DataFlow> {
        self.timed(
            "update_data_flow",
            self.inner.update_data_flow(env, flow, body),
        )
        .await
    }

    async fn delete_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<()> {
        self.timed("delete_data_flow", self.inner.delete_data_flow(env, flow))
            .await
    }

    async fn activate_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<Toggle> {
        self.timed(
            "activate_data_flow",
            self.inner.activate_data_flow(env, flow),
        )
        .await
    }

    async fn disable_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<Toggle> {
        self.timed("disable_data_flow", self.inner.disable_data_flow(env, flow))
            .await
    }

    async fn run_data_flow(
        &self,
        env: &Env,
        flow: &DataFlowId,
        run_sub_rivers: bool,
    ) -> Result<RunTriggered> {
        self.timed(
            "run_data_flow",
            self.inner.run_data_flow(env, flow, run_sub_rivers),
        )
        .await
    }

    async fn list_environments(
        &self,
        page: PageQuery,
        include_deleted: bool,
    ) -> Result<Page<Environment>> {
        self.timed(
            "list_environments",
            self.inner.list_environments(page, include_deleted),
        )
        .await
    }

    async fn list_connections(&self, env: &Env, page: PageQuery) -> Result<Page<Connection>> {
        self.timed("list_connections", self.inner.list_connections(env, page))
            .await
    }

    async fn get_connection(&self, env: &Env, id: &ConnectionId) -> Result<Connection> {
        self.timed("get_connection", self.inner.get_connection(env, id))
            .await
    }

    async fn create_connection(&self, env: &Env, body: &Document) -> Result<Connection> {
        self.timed("create_connection", self.inner.create_connection(env, body))
            .await
    }

    async fn update_connection(
        &self,
        env: &Env,
        id: &ConnectionId,
        body: &Document,
    ) -> Result<Connection> {
        self.timed(
            "update_connection",
            self.inner.update_connection(env, id, body),
        )
        .await
    }

    async fn delete_connection(&self, env: &Env, id: &ConnectionId) -> Result<()> {
        self.timed("delete_connection", self.inner.delete_connection(env, id))
            .await
    }

    async fn list_variables(&self, env: &Env) -> Result<Variables> {
        self.timed("list_variables", self.inner.list_variables(env))
            .await
    }

    async fn upsert_variables(&self, env: &Env, vars: &Variables) -> Result<()> {
        self.timed("upsert_variables", self.inner.upsert_variables(env, vars))
            .await
    }

    async fn start_discovery(&self, env: &Env, request: &DiscoveryRequest) -> Result<Operation> {
        self.timed("start_discovery", self.inner.start_discovery(env, request))
            .await
    }

    async fn activities_statistics(&self, env: &Env, query: &ActivityQuery) -> Result<Value> {
        self.timed(
            "activities_statistics",
            self.inner.activities_statistics(env, query),
        )
        .await
    }

    async fn activities(&self, env: &Env, query: &ActivityQuery) -> Result<Page<Value>> {
        self.timed("activities", self.inner.activities(env, query))
            .await
    }

    async fn data_flow_statistics(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        self.timed(
            "data_flow_statistics",
            self.inner.data_flow_statistics(env, flow, query),
        )
        .await
    }

    async fn data_flow_targets(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        self.timed(
            "data_flow_targets",
            self.inner.data_flow_targets(env, flow, query),
        )
        .await
    }

    async fn data_flow_run_groups(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Page<Value>> {
        self.timed(
            "data_flow_run_groups",
            self.inner.data_flow_run_groups(env, flow, query),
        )
        .await
    }

    async fn data_flow_run_group(
        &self,
        env: &Env,
        flow: &DataFlowId,
        group: &RunId,
    ) -> Result<Value> {
        self.timed(
            "data_flow_run_group",
            self.inner.data_flow_run_group(env, flow, group),
        )
        .await
    }

    async fn data_flow_sub_flows(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        self.timed(
            "data_flow_sub_flows",
            self.inner.data_flow_sub_flows(env, flow, query),
        )
        .await
    }
}
