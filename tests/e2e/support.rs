//! The harness: a fresh sandbox per test, served by a shared real-time runtime, and a `Service`
//! over a real `HttpBackend` talking to it over loopback HTTP.
//!
//! Most tests run on real time with waits of a few milliseconds. Tests that must cross seconds of
//! the Service's own timers (the run-trigger reconciliation pauses, the throttle window) run with
//! tokio's clock paused and use [`Harness::hopping_service`]: its backend sends every request from
//! the real-time runtime, so the paused clock only jumps while the Service itself sleeps, never
//! while a request is in flight.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use bdi_api_client::{ClientConfig, HttpBackend, RetryPolicy};
use bdi_domain::models::{
    ActivityQuery, Connection, DataFlow, DataFlowQuery, DataFlowSummary, DiscoveryRequest,
    Environment, Operation, Page, PageQuery, Run, RunQuery, RunTriggered, Timestamp, Toggle,
    Variables,
};
use bdi_domain::{
    AccountId, Backend, ConnectionId, DataFlowId, Document, Env, EnvironmentId, OperationId,
    PollPolicy, Result, RunId, Service, ServiceConfig,
};
use bdi_sandbox::{Control, Sandbox, SandboxConfig};
use serde_json::Value;

/// Retries after the first attempt in the client's policy (so a fault must hit `RETRIES + 1`
/// times in a row to reach the Service).
pub(crate) const RETRIES: u32 = 3;

/// Retries as in production, with millisecond waits.
pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: RETRIES,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(4),
        default_429_wait: Duration::from_millis(1),
        max_429_wait: Duration::from_millis(5),
    }
}

/// Polls every 5 ms, without growth or jitter, for at most 10 s.
pub(crate) fn fast_poll() -> PollPolicy {
    PollPolicy {
        initial: Duration::from_millis(5),
        factor: 1.0,
        max_interval: Duration::from_millis(5),
        jitter: 0.0,
        deadline: Duration::from_secs(10),
    }
}

/// The service configuration of the tests: the fast poll policy, the real throttle limits.
pub(crate) fn service_config() -> ServiceConfig {
    ServiceConfig {
        poll: fast_poll(),
        ..ServiceConfig::default()
    }
}

/// The runtime that serves every sandbox and carries the requests of hopping backends. It is
/// never dropped, so sandboxes and their connections outlive any one test's runtime safely.
fn io_runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("e2e-io")
            .enable_all()
            .build()
            .expect("the shared runtime builds")
    })
}

/// A running sandbox, a backend on it and a service over that backend.
pub(crate) struct Harness {
    pub(crate) sandbox: Sandbox,
    pub(crate) backend: Arc<HttpBackend>,
    pub(crate) service: Service,
}

impl Harness {
    /// The sandbox's fault-injection and clock handle.
    pub(crate) fn control(&self) -> Control {
        self.sandbox.control()
    }

    /// A client configuration for this sandbox.
    pub(crate) fn client_config(&self) -> ClientConfig {
        let sb = self.sandbox.config();
        ClientConfig::new(
            &self.sandbox.base_url(),
            &sb.token,
            AccountId::parse(&sb.account_id).expect("the sandbox account id is valid"),
        )
        .expect("a valid client configuration")
        .with_default_environment(Some(
            EnvironmentId::parse(&sb.environment_id).expect("the sandbox environment id is valid"),
        ))
        .with_retry(fast_retry())
    }

    /// Another service on the same backend, with its own limiter, locks and catalog cache.
    pub(crate) fn fresh_service(&self) -> Service {
        Service::with_config(self.backend.clone(), service_config())
    }

    /// A service whose backend sends every request from the real-time runtime, for tests that
    /// run with tokio's clock paused.
    pub(crate) fn hopping_service(&self) -> Service {
        let inner =
            Arc::new(HttpBackend::new(self.client_config()).expect("the hopping backend builds"));
        Service::with_config(Arc::new(Hop { inner }), service_config())
    }
}

/// Starts a sandbox with the demo data (strict: server-managed fields are refused on writes).
pub(crate) async fn start() -> Harness {
    let sandbox = io_runtime()
        .spawn(Sandbox::start(SandboxConfig::default()))
        .await
        .expect("the sandbox task completes")
        .expect("the sandbox starts");
    let sb = sandbox.config();
    let config = ClientConfig::new(
        &sandbox.base_url(),
        &sb.token,
        AccountId::parse(&sb.account_id).expect("the sandbox account id is valid"),
    )
    .expect("a valid client configuration")
    .with_default_environment(Some(
        EnvironmentId::parse(&sb.environment_id).expect("the sandbox environment id is valid"),
    ))
    .with_retry(fast_retry());
    let backend = Arc::new(HttpBackend::new(config).expect("the backend builds"));
    let service = Service::with_config(backend.clone(), service_config());
    Harness {
        sandbox,
        backend,
        service,
    }
}

/// The default environment.
pub(crate) fn env() -> Env {
    Env::Default
}

pub(crate) fn flow(id: &str) -> DataFlowId {
    DataFlowId::parse(id).expect("a valid data flow id")
}

pub(crate) fn connection(id: &str) -> ConnectionId {
    ConnectionId::parse(id).expect("a valid connection id")
}

pub(crate) fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// The path suffix of a flow's run trigger, for `request_count("POST", ..)`.
pub(crate) fn run_path(flow: &str) -> String {
    format!("/rivers/{flow}/run")
}

/// The path of a flow's detail, for `request_count("PUT", ..)`.
pub(crate) fn flow_path(flow: &str) -> String {
    format!("/rivers/{flow}")
}

/// The flow's document as stored now (read through `svc`'s backend).
pub(crate) async fn stored(svc: &Service, id: &str) -> DataFlow {
    svc.backend()
        .get_data_flow(&env(), &flow(id))
        .await
        .expect("the data flow reads back")
}

/// Every run of a flow that started in the last ten minutes (read through `svc`'s backend).
pub(crate) async fn recent_runs(svc: &Service, id: &str) -> Vec<Run> {
    let now = chrono::Utc::now();
    let mut query = RunQuery::window(
        Timestamp(now - chrono::TimeDelta::minutes(10)),
        Timestamp(now + chrono::TimeDelta::hours(1)),
    );
    query.page = PageQuery::new(1, 100);
    svc.backend()
        .list_runs(&env(), &flow(id), &query)
        .await
        .expect("the runs list")
        .items
}

/// A backend that sends each request from the real-time runtime, on a blocking thread, so that a
/// paused test clock cannot auto-advance (and fire timers) while the request is in flight.
#[derive(Debug)]
struct Hop {
    inner: Arc<HttpBackend>,
}

impl Hop {
    async fn hop<T, F, Fut>(&self, call: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<HttpBackend>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let inner = self.inner.clone();
        let rt = io_runtime().handle().clone();
        tokio::task::spawn_blocking(move || rt.block_on(call(inner)))
            .await
            .expect("the hopped request does not panic")
    }
}

/// Clones the named arguments, then runs the call on the real-time runtime.
macro_rules! hop {
    ($self:ident, $b:ident => $call:expr; $($arg:ident),*) => {{
        $(let $arg = $arg.clone();)*
        $self.hop(move |$b| async move { $call }).await
    }};
}

#[async_trait]
impl Backend for Hop {
    fn default_environment(&self) -> Option<EnvironmentId> {
        self.inner.default_environment()
    }

    async fn get_operation(&self, env: &Env, id: &OperationId) -> Result<Operation> {
        hop!(self, b => b.get_operation(&env, &id).await; env, id)
    }

    async fn list_runs(&self, env: &Env, flow: &DataFlowId, query: &RunQuery) -> Result<Page<Run>> {
        hop!(self, b => b.list_runs(&env, &flow, &query).await; env, flow, query)
    }

    async fn get_run(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Result<Run> {
        hop!(self, b => b.get_run(&env, &flow, &run).await; env, flow, run)
    }

    async fn get_run_logs(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Result<String> {
        hop!(self, b => b.get_run_logs(&env, &flow, &run).await; env, flow, run)
    }

    async fn list_data_flows(
        &self,
        env: &Env,
        query: &DataFlowQuery,
    ) -> Result<Page<DataFlowSummary>> {
        hop!(self, b => b.list_data_flows(&env, &query).await; env, query)
    }

    async fn get_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<DataFlow> {
        hop!(self, b => b.get_data_flow(&env, &flow).await; env, flow)
    }

    async fn create_data_flow(&self, env: &Env, body: &Document) -> Result<DataFlow> {
        hop!(self, b => b.create_data_flow(&env, &body).await; env, body)
    }

    async fn update_data_flow(
        &self,
        env: &Env,
        flow: &DataFlowId,
        body: &Document,
    ) -> Result<DataFlow> {
        hop!(self, b => b.update_data_flow(&env, &flow, &body).await; env, flow, body)
    }

    async fn delete_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<()> {
        hop!(self, b => b.delete_data_flow(&env, &flow).await; env, flow)
    }

    async fn activate_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<Toggle> {
        hop!(self, b => b.activate_data_flow(&env, &flow).await; env, flow)
    }

    async fn disable_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<Toggle> {
        hop!(self, b => b.disable_data_flow(&env, &flow).await; env, flow)
    }

    async fn run_data_flow(
        &self,
        env: &Env,
        flow: &DataFlowId,
        run_sub_rivers: bool,
    ) -> Result<RunTriggered> {
        hop!(self, b => b.run_data_flow(&env, &flow, run_sub_rivers).await; env, flow)
    }

    async fn list_environments(
        &self,
        page: PageQuery,
        include_deleted: bool,
    ) -> Result<Page<Environment>> {
        hop!(self, b => b.list_environments(page, include_deleted).await;)
    }

    async fn list_connections(&self, env: &Env, page: PageQuery) -> Result<Page<Connection>> {
        hop!(self, b => b.list_connections(&env, page).await; env)
    }

    async fn get_connection(&self, env: &Env, id: &ConnectionId) -> Result<Connection> {
        hop!(self, b => b.get_connection(&env, &id).await; env, id)
    }

    async fn create_connection(&self, env: &Env, body: &Document) -> Result<Connection> {
        hop!(self, b => b.create_connection(&env, &body).await; env, body)
    }

    async fn update_connection(
        &self,
        env: &Env,
        id: &ConnectionId,
        body: &Document,
    ) -> Result<Connection> {
        hop!(self, b => b.update_connection(&env, &id, &body).await; env, id, body)
    }

    async fn delete_connection(&self, env: &Env, id: &ConnectionId) -> Result<()> {
        hop!(self, b => b.delete_connection(&env, &id).await; env, id)
    }

    async fn list_variables(&self, env: &Env) -> Result<Variables> {
        hop!(self, b => b.list_variables(&env).await; env)
    }

    async fn upsert_variables(&self, env: &Env, vars: &Variables) -> Result<()> {
        hop!(self, b => b.upsert_variables(&env, &vars).await; env, vars)
    }

    async fn start_discovery(&self, env: &Env, request: &DiscoveryRequest) -> Result<Operation> {
        hop!(self, b => b.start_discovery(&env, &request).await; env, request)
    }

    async fn activities_statistics(&self, env: &Env, query: &ActivityQuery) -> Result<Value> {
        hop!(self, b => b.activities_statistics(&env, &query).await; env, query)
    }

    async fn activities(&self, env: &Env, query: &ActivityQuery) -> Result<Page<Value>> {
        hop!(self, b => b.activities(&env, &query).await; env, query)
    }

    async fn data_flow_statistics(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        hop!(self, b => b.data_flow_statistics(&env, &flow, &query).await; env, flow, query)
    }

    async fn data_flow_targets(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        hop!(self, b => b.data_flow_targets(&env, &flow, &query).await; env, flow, query)
    }

    async fn data_flow_run_groups(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Page<Value>> {
        hop!(self, b => b.data_flow_run_groups(&env, &flow, &query).await; env, flow, query)
    }

    async fn data_flow_run_group(
        &self,
        env: &Env,
        flow: &DataFlowId,
        group: &RunId,
    ) -> Result<Value> {
        hop!(self, b => b.data_flow_run_group(&env, &flow, &group).await; env, flow, group)
    }

    async fn data_flow_sub_flows(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        hop!(self, b => b.data_flow_sub_flows(&env, &flow, &query).await; env, flow, query)
    }
}
