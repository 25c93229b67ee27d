//! [`Slow`]: a `Backend` that answers like an inner `MockBackend`, each call after a delay on
//! tokio's clock (tests pause it), and counts the calls; for deadlines and readiness.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bdi_domain::models::{
    ActivityQuery, Connection, DataFlow, DataFlowQuery, DataFlowSummary, DiscoveryRequest,
    Environment, Operation, Page, PageQuery, Run, RunQuery, RunTriggered, Toggle, Variables,
};
use bdi_domain::{
    Backend, ConnectionId, DataFlowId, Document, Env, EnvironmentId, MockBackend, OperationId,
    Result, RunId,
};
use serde_json::Value;

/// A backend whose every call waits `delay` (tokio time) before the mock answers.
#[derive(Debug)]
pub(crate) struct Slow {
    inner: MockBackend,
    delay: Duration,
    calls: Arc<AtomicUsize>,
}

impl Slow {
    /// Wraps `inner`; the returned counter counts the calls started.
    pub(crate) fn new(inner: MockBackend, delay: Duration) -> (Self, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        (
            Self {
                inner,
                delay,
                calls: Arc::clone(&calls),
            },
            calls,
        )
    }

    async fn pause(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
    }
}

macro_rules! slow_backend {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        #[async_trait::async_trait]
        impl Backend for Slow {
            fn default_environment(&self) -> Option<EnvironmentId> {
                self.inner.default_environment()
            }
            $(
                async fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
                    self.pause().await;
                    self.inner.$name($($arg),*).await
                }
            )*
        }
    };
}

slow_backend! {
    fn get_operation(&self, env: &Env, id: &OperationId) -> Operation;
    fn list_runs(&self, env: &Env, flow: &DataFlowId, query: &RunQuery) -> Page<Run>;
    fn get_run(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Run;
    fn get_run_logs(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> String;
    fn list_data_flows(&self, env: &Env, query: &DataFlowQuery) -> Page<DataFlowSummary>;
    fn get_data_flow(&self, env: &Env, flow: &DataFlowId) -> DataFlow;
    fn create_data_flow(&self, env: &Env, body: &Document) -> DataFlow;
    fn update_data_flow(&self, env: &Env, flow: &DataFlowId, body: &Document) -> DataFlow;
    fn delete_data_flow(&self, env: &Env, flow: &DataFlowId) -> ();
    fn activate_data_flow(&self, env: &Env, flow: &DataFlowId) -> Toggle;
    fn disable_data_flow(&self, env: &Env, flow: &DataFlowId) -> Toggle;
    fn run_data_flow(&self, env: &Env, flow: &DataFlowId, run_sub_rivers: bool) -> RunTriggered;
    fn list_environments(&self, page: PageQuery, include_deleted: bool) -> Page<Environment>;
    fn list_connections(&self, env: &Env, page: PageQuery) -> Page<Connection>;
    fn get_connection(&self, env: &Env, id: &ConnectionId) -> Connection;
    fn create_connection(&self, env: &Env, body: &Document) -> Connection;
    fn update_connection(&self, env: &Env, id: &ConnectionId, body: &Document) -> Connection;
    fn delete_connection(&self, env: &Env, id: &ConnectionId) -> ();
    fn list_variables(&self, env: &Env) -> Variables;
    fn upsert_variables(&self, env: &Env, vars: &Variables) -> ();
    fn start_discovery(&self, env: &Env, request: &DiscoveryRequest) -> Operation;
    fn activities_statistics(&self, env: &Env, query: &ActivityQuery) -> Value;
    fn activities(&self, env: &Env, query: &ActivityQuery) -> Page<Value>;
    fn data_flow_statistics(&self, env: &Env, flow: &DataFlowId, query: &ActivityQuery) -> Value;
    fn data_flow_targets(&self, env: &Env, flow: &DataFlowId, query: &ActivityQuery) -> Value;
    fn data_flow_run_groups(&self, env: &Env, flow: &DataFlowId, query: &ActivityQuery) -> Page<Value>;
    fn data_flow_run_group(&self, env: &Env, flow: &DataFlowId, group: &RunId) -> Value;
    fn data_flow_sub_flows(&self, env: &Env, flow: &DataFlowId, query: &ActivityQuery) -> Value;
}
