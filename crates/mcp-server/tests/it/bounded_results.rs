//! Results stay bounded (issue #25): every read tool's text on the demo account, with its
//! default arguments, is at most 8 KB, and the paged lists say whether another page follows.

use bdi_api_client::EmbeddedSandbox;
use bdi_domain::ServiceConfig;
use bdi_mcp_server::{BdiMcp, ServerOptions};
use bdi_sandbox::demo;
use rmcp::ServiceExt;
use serde_json::{Value, json};

use crate::support::{call, text};

/// The most text a read tool returns on the demo account.
const LIMIT: usize = 8 * 1024;

#[tokio::test]
async fn every_read_tool_answers_the_demo_account_within_8_kb() {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = ServerOptions {
        history: std::sync::Arc::new(bdi_mcp_server::history::History::new(
            bdi_load::location::Location::DuckDb(dir.path().join("history.duckdb")),
        )),
        ..ServerOptions::default()
    };
    let server = BdiMcp::new(
        bdi_mcp_server::app::backing_from(sandbox.lookup(), ServiceConfig::default()),
        options,
    )
    .unwrap();
    let read_only: Vec<String> = server
        .tools()
        .into_iter()
        .filter(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
        .map(|t| t.name.to_string())
        .collect();
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(r) = server.serve(s).await {
            let _ = r.waiting().await;
        }
    });
    let client = ().serve(c).await.unwrap();
    let window = json!({"start_time": "2020-01-01T00:00:00", "end_time": "2030-01-01T00:00:00"});
    let with = |extra: Value| -> Value {
        let mut v = window.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let flow = json!({"data_flow_id": demo::ORDERS_FLOW_ID});
    let cases: Vec<(&'static str, Value)> = vec![
        ("describe_history", json!({})),
        (
            "get_activity_summary",
            with(json!({"include_data_flows": true})),
        ),
        ("get_data_flow", flow.clone()),
        ("get_data_flow_activity", with(flow.clone())),
        (
            "get_operation",
            json!({"operation_id": "62e7f4352c13160013dc39be"}),
        ),
        (
            "get_run",
            json!({"data_flow_id": demo::ORDERS_FLOW_ID, "run_id": demo::ORDERS_FAILED_RUN_ID}),
        ),
        (
            "get_run_group",
            json!({"data_flow_id": demo::ORDERS_FLOW_ID, "run_group_id": demo::ORDERS_PARTIAL_RUN_GROUP_ID}),
        ),
        (
            "get_run_logs",
            json!({"data_flow_id": demo::ORDERS_FLOW_ID, "run_id": demo::ORDERS_FAILED_RUN_ID}),
        ),
        ("list_connections", json!({})),
        ("list_data_flows", json!({})),
        ("list_environments", json!({})),
        ("list_run_groups", with(flow.clone())),
        ("list_runs", with(flow.clone())),
        ("list_variables", json!({})),
        ("query_history", json!({"sql": "select 1 as one"})),
    ];
    let covered: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
    assert_eq!(covered, read_only, "every read tool is measured");
    for (name, args) in cases {
        let r = call(&client, name, args).await;
        let t = text(&r);
        eprintln!("{name}: {} bytes", t.len());
        assert!(
            t.len() <= LIMIT,
            "{name} returned {} bytes: {t:.300}",
            t.len()
        );
        if let Some(s) = &r.structured_content
            && s.get("items").is_some()
        {
            assert!(s["has_next"].is_boolean(), "{name}: a list says has_next");
        }
    }
}
