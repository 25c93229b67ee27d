//! The harness: run `bdi` in process against a mock and render the result the way uv's
//! snapshots do (exit code, stdout, stderr).

use std::io::Cursor;
use std::sync::Arc;

use bdi_domain::MockBackend;
use bdi_domain::models::{
    Connection, DataFlow, DataFlowSummary, Environment, Operation, Page, Run, RunTriggered,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub(crate) const FLOW: &str = "65a1b2c3d4e5f60718293a4b";
pub(crate) const CONN_SRC: &str = "64b0c1d2e3f405162738495a";
pub(crate) const CONN_TGT: &str = "64b0c1d2e3f405162738495b";
pub(crate) const ENV: &str = "6a7b8c9d0e1f2a3b4c5d6e7f";
pub(crate) const RUN: &str = "5658a1c9ea724ee59f048cbb5a6f734a";
pub(crate) const GROUP: &str = "0f4e8b1c2d3a4b5c6d7e8f9a0b1c2d3e";
pub(crate) const OP: &str = "66aa00bb11cc22dd33ee44ff";

/// The outcome of one command line.
pub(crate) fn render(status: bdi_cli::ExitStatus, out: &[u8], err: &[u8]) -> String {
    format!(
        "exit_code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
        status.code(),
        String::from_utf8_lossy(out).trim_end(),
        String::from_utf8_lossy(err).trim_end()
    )
}

/// Runs `bdi ARGS` against `mock`.
pub(crate) async fn bdi(args: &[&str], mock: MockBackend) -> String {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("bdi").chain(args.iter().copied());
    let status = bdi_cli::run(argv, &mut out, &mut err, Arc::new(mock)).await;
    render(status, &out, &err)
}

/// Runs `bdi ARGS` with these variables, this stdin, and a cancel token.
pub(crate) async fn bdi_with(
    args: &[&str],
    mock: Option<MockBackend>,
    vars: &[(&str, &str)],
    stdin: &str,
    cancel: CancellationToken,
) -> String {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = Cursor::new(stdin.as_bytes().to_vec());
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let lookup = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let io = bdi_cli::Io {
        out: &mut out,
        err: &mut err,
        stdin: &mut input,
        vars: &lookup,
        stdout_terminal: false,
        stderr_terminal: false,
        stdin_terminal: false,
        cancel,
        ctrl_c: false,
    };
    let backend = mock.map(|m| Arc::new(m) as Arc<dyn bdi_domain::Backend>);
    let argv = std::iter::once("bdi").chain(args.iter().copied());
    let status = bdi_cli::run_with(argv, io, backend).await;
    render(status, &out, &err)
}

pub(crate) fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture decodes")
}

pub(crate) fn flow_doc() -> Value {
    json!({
        "cross_id": FLOW,
        "name": "orders to snowflake",
        "type": "source_to_target",
        "account_id": "5f1e2d3c4b5a69788796a5b4",
        "environment_id": ENV,
        "environment_name": "Production",
        "group_id": "65a1b2c3d4e5f60718293a00",
        "group_name": "Default",
        "kind": "main_river",
        "metadata": {
            "description": "nightly orders",
            "river_status": "disabled",
            "created_at": "2026-05-01T10:00:00Z",
            "created_by": "ana@example.com",
            "last_updated_at": "2026-05-02T10:00:00Z",
            "last_updated_by": "ana@example.com",
            "current_version_id": "v3",
            "is_deleted": false
        },
        "settings": {"run_timeout_seconds": 3600},
        "properties": {
            "properties_type": "source_to_target",
            "source": {"name": "postgres", "connection_id": CONN_SRC, "run_type": "multi_tables"},
            "target": {"name": "snowflake", "connection_id": CONN_TGT, "database_name": "ANALYTICS", "schema_name": "PUBLIC", "loading_method": "merge"},
            "schemas": [{"name": "public", "tables": [
                {"run_type_and_datasource": "multi_tables", "details": {"name": "orders", "is_selected": true}},
                {"run_type_and_datasource": "multi_tables", "details": {"name": "customers", "is_selected": true}}
            ]}]
        },
        "schedulers": [{"cron_expression": "0 2 * * *", "is_enabled": true}]
    })
}

pub(crate) fn flow() -> DataFlow {
    from(flow_doc())
}

pub(crate) fn active_flow() -> DataFlow {
    let mut doc = flow_doc();
    doc["metadata"]["river_status"] = json!("active");
    from(doc)
}

pub(crate) fn summaries() -> Page<DataFlowSummary> {
    from(json!({
        "items": [
            {"river_cross_id": FLOW, "name": "orders to snowflake", "river_status": "active", "river_type": "source_to_target",
             "group_name": "Default", "datasource_id": "postgres", "last_updated_at": "2026-05-02T10:00:00Z"},
            {"river_cross_id": "65a1b2c3d4e5f60718293a4c", "name": "nightly logic", "river_status": "disabled", "river_type": "logic",
             "group_name": "Ops", "last_updated_at": "2026-04-30T08:15:00Z"}
        ],
        "page": 1, "total_items": 2, "next_page": null
    }))
}

pub(crate) fn run_json(status: &str, error: Option<&str>) -> Value {
    json!({
        "run_id": RUN, "river_cross_id": FLOW, "run_group_id": GROUP, "status": status,
        "error_description": error, "source_name": "postgres", "target_name": "ORDERS",
        "units": 0.5, "rpu": 0.5,
        "start_date_utc": "2026-05-25T02:00:00Z",
        "end_date_utc": if status == "running" { json!(null) } else { json!("2026-05-25T02:01:30Z") }
    })
}

pub(crate) fn run(status: &str, error: Option<&str>) -> Run {
    from(run_json(status, error))
}

pub(crate) fn triggered() -> RunTriggered {
    from(
        json!({"runs": [{"run_id": RUN, "status": "pending"}], "river_cross_id": FLOW, "run_group_id": GROUP}),
    )
}

pub(crate) fn operation(status: &str, error: Option<&str>) -> Operation {
    from(
        json!({"operation_id": OP, "operation_type": "activate_river", "status": status, "error_message": error,
                "last_update_date": "2026-05-25T02:00:00Z"}),
    )
}

pub(crate) fn connection(id: &str, name: &str, kind: &str) -> Connection {
    from(
        json!({"cross_id": id, "connection_name": name, "connection_type": kind, "connection_type_id": kind.to_ascii_lowercase(),
                "host": "db.example.com", "password_exists": true}),
    )
}

pub(crate) fn environments() -> Page<Environment> {
    from(json!({"items": [
        {"cross_id": ENV, "environment_name": "Production", "is_default": true, "description": "live"},
        {"cross_id": "6a7b8c9d0e1f2a3b4c5d6e70", "environment_name": "Staging"}
    ], "page": 1, "total_items": 2}))
}
