//! Shared fixtures: a gateway over a `MockBackend` with three keys, driven in process, and the
//! configuration of a gateway in front of a sandbox over real HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use bdi_domain::models::{
    DataFlow, Operation, OperationStatus, Page, Run, RunTriggered, TriggeredRun,
};
use bdi_domain::{
    AccountId, Backend, EnvironmentId, InMemoryLimiter, MockBackend, PollPolicy, RunLimiter,
    ThrottleLimits,
};
use bdi_rest_proxy::audit::{Audit, AuditRecord};
use bdi_rest_proxy::keys::{ApiKey, KeyStore, digest};
use bdi_rest_proxy::scopes::Scope;
use bdi_rest_proxy::{AppState, GatewayConfig, Limits, app};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A gateway's configuration in front of `sandbox`: its upstream client over HTTP (with the
/// production retry policy and the sandbox's default environment), and one key, `name`, that
/// holds every scope.
pub(crate) fn sandbox_gateway(
    sandbox: &bdi_sandbox::Sandbox,
    name: &str,
    key: &str,
) -> GatewayConfig {
    let sc = sandbox.config();
    let account = AccountId::parse(&sc.account_id).unwrap();
    let upstream = bdi_api_client::HttpBackend::new(
        bdi_api_client::ClientConfig::new(&sandbox.base_url(), &sc.token, account.clone())
            .unwrap()
            .with_default_environment(Some(EnvironmentId::parse(&sc.environment_id).unwrap())),
    )
    .unwrap();
    let keys = KeyStore::new([ApiKey::new(name, digest(key), Scope::ALL, None)]);
    GatewayConfig::new(Arc::new(upstream), account, keys)
}

pub(crate) const ACCOUNT: &str = "5f1e2d3c4b5a69788796a5b4";
pub(crate) const ENV: &str = "6a7b8c9d0e1f2a3b4c5d6e7f";
pub(crate) const OTHER_ENV: &str = "6a7b8c9d0e1f2a3b4c5d6e80";
pub(crate) const FLOW: &str = "507f191e810c19729de860ea";
pub(crate) const CONN: &str = "64b0c0a1e4b0a1c2d3e4f501";
pub(crate) const OP: &str = "62e7f4352c13160013dc39be";
pub(crate) const RUN: &str = "5658a1c9ea724ee59f048cbb5a6f734a";
pub(crate) const GROUP: &str = "201dcf8182ad4a59868cb41b957fdc8d";

/// Every scope, every environment.
pub(crate) const ADMIN: &str = "key-admin";
/// Only `data flow:list`.
pub(crate) const READER: &str = "key-reader";
/// Every scope, but only `OTHER_ENV`.
pub(crate) const OTHER: &str = "key-other-env";
/// A second key with every scope (per-key limits).
pub(crate) const ADMIN2: &str = "key-admin-2";

pub(crate) fn e(suffix: &str) -> String {
    format!("/v1/accounts/{ACCOUNT}/environments/{ENV}{suffix}")
}

pub(crate) fn b(suffix: &str) -> String {
    format!("/bdi/v1/environments/{ENV}{suffix}")
}

pub(crate) fn keys() -> KeyStore {
    KeyStore::new([
        ApiKey::new("admin", digest(ADMIN), Scope::ALL, None),
        ApiKey::new("admin-2", digest(ADMIN2), Scope::ALL, None),
        ApiKey::new("reader", digest(READER), [Scope::DataFlowList], None),
        ApiKey::new(
            "other-env",
            digest(OTHER),
            Scope::ALL,
            Some(vec![EnvironmentId::parse(OTHER_ENV).unwrap()]),
        ),
    ])
}

pub(crate) struct Harness {
    pub(crate) app: Router,
    pub(crate) state: AppState,
    pub(crate) audit: Arc<Mutex<Vec<AuditRecord>>>,
}

impl Harness {
    pub(crate) fn audit(&self) -> Vec<AuditRecord> {
        self.audit.lock().unwrap().clone()
    }
}

pub(crate) fn fast_poll() -> PollPolicy {
    PollPolicy {
        initial: Duration::from_millis(10),
        factor: 1.0,
        max_interval: Duration::from_millis(10),
        jitter: 0.0,
        deadline: Duration::from_secs(60),
    }
}

pub(crate) fn harness_with(mock: MockBackend, limiter: Option<Arc<dyn RunLimiter>>) -> Harness {
    let mut config = config(Arc::new(mock));
    config.limiter = limiter;
    harness_of(config)
}

/// The tests' configuration over `backend`: the test keys, fast polling.
pub(crate) fn config(backend: Arc<dyn Backend>) -> GatewayConfig {
    let mut config = GatewayConfig::new(backend, AccountId::parse(ACCOUNT).unwrap(), keys());
    config.limits = Limits {
        poll: fast_poll(),
        ..Limits::default()
    };
    config
}

/// A gateway built from `config`, its audit captured.
pub(crate) fn harness_of(mut config: GatewayConfig) -> Harness {
    let (audit, list) = Audit::capturing();
    config.audit = audit;
    let state = AppState::new(config);
    Harness {
        app: app(state.clone()),
        state,
        audit: list,
    }
}

pub(crate) fn harness(mock: MockBackend) -> Harness {
    harness_with(mock, None)
}

pub(crate) fn limiter(per_flow: u32, per_user: u32) -> Arc<dyn RunLimiter> {
    Arc::new(InMemoryLimiter::new(ThrottleLimits {
        per_flow,
        per_user,
        ..ThrottleLimits::default()
    }))
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) async fn call(
    app: &Router,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "gw.test");
    if let Some(k) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    let req = match body {
        Some(v) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    send(app, req).await
}

pub(crate) async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

pub(crate) async fn get(app: &Router, path: &str, key: &str) -> Reply {
    call(app, Method::GET, path, Some(key), None).await
}

// Model fixtures.

pub(crate) fn flow_doc(status: &str) -> DataFlow {
    serde_json::from_value(json!({
        "cross_id": FLOW, "name": "orders", "type": "source_to_target",
        "metadata": {"river_status": status}, "settings": {},
        "properties": {"source": {"name": "mysql", "connection_id": CONN}, "target": {"name": "snowflake"}, "schemas": []},
        "account_id": ACCOUNT, "environment_id": ENV
    }))
    .unwrap()
}

pub(crate) fn operation(status: &str) -> Operation {
    Operation {
        operation_id: OP.to_owned(),
        operation_type: Some("activate".into()),
        run_id: None,
        last_update_date: None,
        status: OperationStatus::from(status),
        result: None,
        error_message: (status == "E").then(|| "RVR-ACTIVATE-500".to_owned()),
        extra: Default::default(),
    }
}

pub(crate) fn triggered() -> RunTriggered {
    RunTriggered {
        runs: vec![TriggeredRun {
            run_id: RUN.to_owned(),
            status: "pending".into(),
            message: None,
            sub_river_id: None,
            extra: Default::default(),
        }],
        river_cross_id: FLOW.to_owned(),
        run_group_id: GROUP.to_owned(),
        extra: Default::default(),
    }
}

pub(crate) fn run(status: &str) -> Run {
    serde_json::from_value(json!({
        "run_id": RUN, "river_cross_id": FLOW, "run_group_id": GROUP, "status": status,
        "datasource_id": "mysql", "units": 1.5, "rpu": 1.5, "is_sub_river_run": false,
        "start_date_utc": "2026-01-01T00:00:00Z", "end_date_utc": null
    }))
    .unwrap()
}

pub(crate) fn page<T>(items: Vec<T>, next: Option<&str>) -> Page<T> {
    let mut p = Page::single(items);
    p.total_items = 50;
    p.next_page = next.map(str::to_owned);
    p
}
