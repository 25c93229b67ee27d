//! Fixtures shared by the integration tests: ids, documents and service builders.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bdi_domain::models::{DataFlow, Operation, Run};
use bdi_domain::{
    ConnectionId, DataFlowId, Document, MockBackend, OperationId, RunId, Service, ServiceConfig,
};
use serde_json::{Value, json};

pub(crate) const FLOW: &str = "507f191e810c19729de860ea";
pub(crate) const CONN: &str = "5f88aaaaaaaaaaaaaaaaaaaa";
pub(crate) const TARGET_CONN: &str = "5f88bbbbbbbbbbbbbbbbbbbb";
pub(crate) const OP: &str = "62e7f4352c13160013dc39be";
pub(crate) const RUN: &str = "1f1468d097754cd8892468c2763ebfe8";
pub(crate) const GROUP: &str = "5658a1c9ea724ee59f048cbb5a6f734a";

pub(crate) fn flow_id() -> DataFlowId {
    DataFlowId::parse(FLOW).expect("valid flow id")
}

pub(crate) fn conn_id() -> ConnectionId {
    ConnectionId::parse(CONN).expect("valid connection id")
}

pub(crate) fn op_id() -> OperationId {
    OperationId::parse(OP).expect("valid operation id")
}

pub(crate) fn run_id(s: &str) -> RunId {
    RunId::parse(s).expect("valid run id")
}

/// A data flow document as the detail GET returns it.
pub(crate) fn flow_json() -> Value {
    json!({
        "cross_id": FLOW, "account_id": "5f0000000000000000000001", "environment_id": "5f0000000000000000000002",
        "environment_name": "prod", "group_id": "5f0000000000000000000003", "group_name": "Default",
        "name": "orders sync", "type": "source_to_target", "kind": "main_river",
        "metadata": {"river_status": "disabled", "description": null, "created_at": "2026-01-01T00:00:00Z"},
        "settings": null, "schedulers": [],
        "properties": {
            "properties_type": "source_to_target",
            "source": {"name": "mysql", "connection_id": CONN, "run_type": "multi_tables", "connection_name": null},
            "target": {"name": "snowflake", "connection_id": TARGET_CONN, "loading_method": "append", "schema_name": "RAW"},
            "schemas": []
        }
    })
}

pub(crate) fn to_flow(v: Value) -> DataFlow {
    serde_json::from_value(v).expect("a data flow document")
}

pub(crate) fn flow_with(patch: Value) -> DataFlow {
    let mut v = flow_json();
    bdi_domain::merge::merge_patch(&mut v, &patch);
    to_flow(v)
}

pub(crate) fn doc(v: Value) -> Document {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A data flow as the PUT answers a body (the body plus its id).
pub(crate) fn saved(body: &Document) -> DataFlow {
    let mut d = body.clone();
    d.insert("cross_id".to_owned(), json!(FLOW));
    to_flow(Value::Object(d))
}

pub(crate) fn op(status: &str) -> Operation {
    serde_json::from_value(json!({"operation_id": OP, "status": status})).expect("an operation")
}

pub(crate) fn op_failed(message: &str) -> Operation {
    serde_json::from_value(json!({"operation_id": OP, "status": "E", "error_message": message}))
        .expect("an operation")
}

pub(crate) fn run(id: &str, status: &str) -> Run {
    serde_json::from_value(
        json!({"run_id": id, "river_cross_id": FLOW, "run_group_id": GROUP, "status": status}),
    )
    .expect("a run")
}

/// Returns the items of `script` one per call, then the last one forever.
pub(crate) fn sequence<T: Clone + Send + Sync + 'static>(
    script: Vec<T>,
) -> impl FnMut() -> T + Send + 'static {
    let n = AtomicUsize::new(0);
    move || {
        let i = n.fetch_add(1, Ordering::SeqCst).min(script.len() - 1);
        script[i].clone()
    }
}

pub(crate) fn service(mock: MockBackend) -> Service {
    Service::new(Arc::new(mock))
}

pub(crate) fn service_with(mock: MockBackend, config: ServiceConfig) -> Service {
    Service::with_config(Arc::new(mock), config)
}

pub(crate) fn nf(what: &str) -> bdi_domain::Error {
    bdi_domain::Error::NotFound {
        what: what.to_owned(),
        message: "not found".to_owned(),
    }
}
