//! Shared harness: a server over a mock (or any backing) and a connected client.

use std::sync::Arc;

use bdi_domain::{MockBackend, Service};
use bdi_mcp_server::{Backing, BdiMcp, ServerOptions};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

pub const FLOW: &str = "507f191e810c19729de860ea";
pub const CONN: &str = "5f88aaaaaaaaaaaaaaaaaaaa";
pub const RUN: &str = "5658a1c9ea724ee59f048cbb5a6f734a";
pub const GROUP: &str = "201dcf8182ad4a59868cb41b957fdc8d";
pub const OP: &str = "62e7f4352c13160013dc39be";
pub const ENV2: &str = "6a7b8c9d0e1f2a3b4c5d6e70";

pub type Client = RunningService<RoleClient, ()>;

/// A client connected to a server over `mock` with default options.
pub async fn client(mock: MockBackend) -> Client {
    client_with(
        Backing::Ready(Service::new(Arc::new(mock))),
        ServerOptions::default(),
    )
    .await
}

/// A client connected to a server over `backing`.
pub async fn client_with(backing: Backing, options: ServerOptions) -> Client {
    let server = BdiMcp::new(backing, options).expect("valid options");
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(s).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(c).await.expect("client connects")
}

/// Calls a tool with JSON arguments.
pub async fn call(client: &Client, name: &'static str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(name).with_arguments(args))
        .await
        .expect("the call completes")
}

/// The text of the first content block.
pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The structured content of a successful call.
pub fn ok(r: &CallToolResult) -> Value {
    assert_ne!(r.is_error, Some(true), "tool failed: {}", text(r));
    r.structured_content.clone().expect("structured content")
}

/// The text of a failed call.
pub fn err(r: &CallToolResult) -> String {
    assert_eq!(r.is_error, Some(true), "tool should fail: {}", text(r));
    text(r)
}

pub fn flow_doc(id: &str, status: &str) -> bdi_domain::models::DataFlow {
    serde_json::from_value(serde_json::json!({
        "cross_id": id, "name": "orders", "type": "source_to_target",
        "account_id": "5f1e2d3c4b5a69788796a5b4", "environment_id": "6a7b8c9d0e1f2a3b4c5d6e7f",
        "group_name": "default", "group_id": "aaaaaaaaaaaaaaaaaaaaaaaa",
        "metadata": {"river_status": status, "description": "orders to snowflake"},
        "settings": {},
        "properties": {"properties_type": "source_to_target",
            "source": {"name": "mysql", "connection_id": CONN, "run_type": "multi_tables"},
            "target": {"name": "snowflake", "loading_method": "append"}, "schemas": []},
        "schedulers": []
    }))
    .unwrap()
}

pub fn run(status: &str) -> bdi_domain::models::Run {
    serde_json::from_value(serde_json::json!({
        "run_id": RUN, "river_cross_id": FLOW, "run_group_id": GROUP, "status": status,
        "target_name": "ORDERS", "error_description": if status == "failed" { Value::from("table broken_events: access denied") } else { Value::Null },
        "units": 1.5, "rpu": 1.5, "start_date_utc": "2026-11-20T10:00:00Z",
        "end_date_utc": if status == "running" { Value::Null } else { Value::from("2026-11-20T10:02:30Z") }
    }))
    .unwrap()
}

pub fn operation(status: &str) -> bdi_domain::models::Operation {
    serde_json::from_value(serde_json::json!({
        "operation_id": OP, "operation_type": "activate_river", "run_id": RUN,
        "last_update_date": "2026-11-20T10:00:00.000000", "status": status, "result": null,
        "error_message": if status == "E" { Value::from("[RVR-ACTIVATE-500]: fire task not initialised") } else { Value::Null }
    }))
    .unwrap()
}

pub fn page<T: serde::de::DeserializeOwned>(
    items: Value,
    page: u32,
    total: u64,
    next: bool,
) -> bdi_domain::models::Page<T> {
    serde_json::from_value(serde_json::json!({
        "items": items, "page": page, "total_items": total,
        "next_page": if next { Value::from(format!("http://x/v1?page={}", page + 1)) } else { Value::Null }
    }))
    .unwrap()
}

/// A log writer into memory.
#[derive(Clone, Debug, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
    type Writer = Captured;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}
