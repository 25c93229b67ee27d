//! Results stay bounded (issue #25): every read tool's text on the demo account, with its
//! default arguments, is at most 8 KB, and the paged lists say whether another page follows;
//! on an account grown past it, each kind of cut keeps the text within 8 KB and says what it left
//! out and which argument gets it, and that argument does.

use bdi_api_client::EmbeddedSandbox;
use bdi_domain::ServiceConfig;
use bdi_mcp_server::{BdiMcp, ServerOptions};
use bdi_sandbox::demo;
use rmcp::ServiceExt;
use serde_json::{Value, json};

use crate::support::{Client, call, err, ok, text};

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
        assert!(
            !t.contains("budget of one result"),
            "{name} is not cut on the demo account: {t:.300}"
        );
        if let Some(s) = &r.structured_content
            && s.get("items").is_some()
        {
            assert!(s["has_next"].is_boolean(), "{name}: a list says has_next");
        }
    }
}

/// A server in process over a sandbox (with its history in a scratch directory), and a client.
async fn serve() -> (EmbeddedSandbox, tempfile::TempDir, Client) {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = ServerOptions {
        history: std::sync::Arc::new(bdi_mcp_server::history::History::new(
            bdi_load::location::Location::DuckDb(dir.path().join("history.duckdb")),
        )),
        ..ServerOptions::default()
    };
    let backing = bdi_mcp_server::app::backing_from(sandbox.lookup(), ServiceConfig::default());
    let client = crate::support::client_with(backing, options).await;
    (sandbox, dir, client)
}

/// The structured result of a call cut to the budget: within it, the same JSON as its text,
/// with its `truncated`.
#[allow(
    clippy::print_stderr,
    reason = "the sizes measured, as the demo account's test prints them"
)]
async fn cut(client: &Client, name: &'static str, args: Value) -> (Value, Value) {
    let r = call(client, name, args).await;
    let t = text(&r);
    assert!(t.len() <= LIMIT, "{name}: {} bytes", t.len());
    let v = ok(&r);
    assert_eq!(
        serde_json::from_str::<Value>(&t).unwrap(),
        v,
        "{name}: the text is the structured content"
    );
    let truncated = v["truncated"].clone();
    assert!(
        truncated["reason"].as_str().is_some_and(|s| !s.is_empty()),
        "{name}: says why: {v:.300}"
    );
    eprintln!("{name}: {} bytes, truncated: {truncated}", t.len());
    (v, truncated)
}

fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key].as_str().unwrap_or_default()
}

/// The number after `key=` in `text` (`key` whole, not the end of a longer name).
fn arg_in(text: &str, key: &str) -> u64 {
    let pattern = format!("{key}=");
    let at = text
        .match_indices(&pattern)
        .map(|(at, _)| at)
        .find(|&at| {
            !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .unwrap_or_else(|| panic!("{key} in {text}"));
    text[at + pattern.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_page_of_500_data_flows_keeps_what_fits_and_names_the_page_that_follows() {
    let (sandbox, _dir, c) = serve().await;
    sandbox.sandbox().control().add_data_flows(500);
    let (page, t) = cut(&c, "list_data_flows", json!({"items_per_page": 500})).await;
    let kept = page["items"].as_array().unwrap();
    assert!(!kept.is_empty());
    assert_eq!(
        kept.len() as u64 + t["omitted_items"].as_u64().unwrap(),
        500,
        "{t}"
    );
    assert_eq!(page["has_next"], true);
    let next = str_of(&t, "next");
    let (size, from) = (arg_in(next, "items_per_page"), arg_in(next, "page"));
    assert_eq!((size, from), (kept.len() as u64, 2), "{next}");
    // The page it names starts with the first item left out.
    let r = ok(&call(
        &c,
        "list_data_flows",
        json!({"items_per_page": size, "page": from}),
    )
    .await);
    let ids = |items: &Value| -> Vec<String> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| str_of(i, "data_flow_id").to_owned())
            .collect()
    };
    let (before, after) = (ids(&page["items"]), ids(&r["items"]));
    assert!(!after.is_empty() && after.iter().all(|id| !before.contains(id)));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_long_run_log_keeps_its_last_lines_and_names_tail_lines_and_errors_only() {
    let (sandbox, _dir, c) = serve().await;
    assert!(
        sandbox
            .sandbox()
            .control()
            .lengthen_log(demo::ORDERS_FAILED_RUN_ID, 2000)
    );
    let run = json!({"data_flow_id": demo::ORDERS_FLOW_ID, "run_id": demo::ORDERS_FAILED_RUN_ID});
    let with = |extra: Value| {
        let mut v = run.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let (log, t) = cut(&c, "get_run_logs", with(json!({"tail_lines": 0}))).await;
    let csv = str_of(&log, "csv");
    assert!(csv.starts_with("timestamp,level,message\n"), "{csv:.200}");
    assert!(
        csv.ends_with("Run finished with status failed"),
        "the tail is kept"
    );
    let (total, returned) = (
        log["total_lines"].as_u64().unwrap(),
        log["returned_lines"].as_u64().unwrap(),
    );
    assert!(total > 2000 && returned < total, "{log:.300}");
    assert_eq!(csv.lines().count() as u64, returned + 1);
    assert_eq!(t["omitted_lines"].as_u64(), Some(total - returned), "{t}");
    let next = str_of(&t, "next");
    assert!(next.contains("errors_only=true"), "{next}");
    assert_eq!(arg_in(next, "tail_lines"), returned, "{next}");
    // The arguments it names: the tail that fits, whole; only the problems.
    let r = ok(&call(&c, "get_run_logs", with(json!({"tail_lines": returned}))).await);
    assert_eq!(r["csv"], log["csv"]);
    assert!(
        !str_of(&r["truncated"], "reason").contains("budget"),
        "{r:.300}"
    );
    let r = ok(&call(&c, "get_run_logs", with(json!({"errors_only": true}))).await);
    assert!(
        str_of(&r, "csv").contains(",ERROR,") && r["returned_lines"].as_u64() < Some(10),
        "{r}"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_connection_sweep_and_a_query_over_its_cap_name_what_gets_the_rest() {
    let (sandbox, _dir, c) = serve().await;
    sandbox.sandbox().control().add_connections(300);
    let (listing, t) = cut(&c, "list_connections", json!({})).await;
    let total = listing["total_items"].as_u64().unwrap();
    assert_eq!(total, demo::DEMO_CONNECTION_COUNT as u64 + 300);
    let kept = listing["items"].as_array().unwrap().len() as u64;
    assert_eq!(kept + t["omitted_items"].as_u64().unwrap(), total, "{t}");
    assert!(str_of(&t, "next").contains("query_history"), "{t}");
    // What it names: the history dataset holds every connection.
    let synced = ok(&call(&c, "sync_history", json!({"since": "2d"})).await);
    assert_eq!(synced["done"], true, "{synced}");
    let count = ok(&call(
        &c,
        "query_history",
        json!({"sql": "select count(*) as n from connections where environment_id = (select cross_id from environments where is_default)"}),
    )
    .await);
    assert_eq!(count["rows"][0][0].as_u64(), Some(total), "{count}");
    // The queries the other hints name answer too.
    for sql in [
        "select cross_id, environment_name from environments",
        "select table_name, column_name, data_type from information_schema.columns order by table_name",
    ] {
        let r = call(&c, "query_history", json!({"sql": sql})).await;
        assert!(ok(&r)["row_count"].as_u64() > Some(0), "{sql}");
        assert!(text(&r).len() <= LIMIT, "{sql}");
    }
    // The query it suggests reads past the query's own cap (200 rows) and past the budget.
    let sql = "select cross_id, connection_name, connection_type from connections order by connection_name";
    let (rows, t) = cut(&c, "query_history", json!({"sql": sql})).await;
    let n = rows["rows"].as_array().unwrap().len();
    assert_eq!(rows["row_count"].as_u64(), Some(n as u64), "{rows:.300}");
    assert_eq!(
        rows["columns"],
        json!(["cross_id", "connection_name", "connection_type"])
    );
    let reason = str_of(&t, "reason");
    assert!(
        reason.contains("200 rows") && reason.contains("budget"),
        "both cuts are said: {reason}"
    );
    assert_eq!(t["omitted_rows"].as_u64(), Some(200 - n as u64), "{t}");
    let next = str_of(&t, "next");
    assert!(next.contains(&format!("OFFSET {n}")), "{next}");
    // Read on as it says: the next rows, after the last one kept.
    let r = ok(&call(
        &c,
        "query_history",
        json!({"sql": format!("{sql} limit {n} offset {n}")}),
    )
    .await);
    let last = &rows["rows"][n - 1];
    assert!(
        r["rows"][0][1].as_str() >= last[1].as_str() && r["rows"][0][0] != last[0],
        "{r:.300}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_large_data_flow_document_keeps_its_first_tables_and_is_not_written_back() {
    let (sandbox, _dir, c) = serve().await;
    let id = sandbox.sandbox().control().add_data_flows(1).remove(0);
    let tables: Vec<Value> = (0..120)
        .map(|i| {
            json!({"run_type_and_datasource": "multi_tables", "details": {
                "name": format!("table_{i:03}"), "is_selected": true, "target_table": format!("TABLE_{i:03}"),
                "extract_method": "all", "modified_columns": [], "is_custom_incremental": false,
            }})
        })
        .collect();
    let patch = json!({"properties": {"schemas": [{"name": "sales", "tables": tables}]}});
    let (patched, t) = cut(
        &c,
        "patch_data_flow",
        json!({"data_flow_id": id, "patch": patch}),
    )
    .await;
    // The tables keep their first entries that fit, then a marker saying how many more.
    let said = t["elided_fields"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        said.starts_with("properties.schemas[0].tables (") && said.ends_with(" of 120 items)"),
        "{t}"
    );
    let shown = patched["properties"]["schemas"][0]["tables"]
        .as_array()
        .unwrap()
        .len()
        - 1;
    assert!(shown >= 20, "most of the budget holds tables: {shown}");
    for i in 0..shown {
        assert_eq!(
            patched["properties"]["schemas"][0]["tables"][i]["details"]["name"],
            format!("table_{i:03}"),
            "the first tables, in order"
        );
    }
    assert!(str_of(&t, "next").contains("patch_data_flow"), "{t}");
    let (flow, t) = cut(&c, "get_data_flow", json!({"data_flow_id": id})).await;
    assert_eq!(t["elided_fields"][0], json!(said), "{t}");
    assert_eq!(
        flow["properties"]["schemas"],
        patched["properties"]["schemas"]
    );
    assert!(
        flow["properties"]["source"]["connection_id"].is_string(),
        "{flow:.300}"
    );
    // The cut document is no document to write back.
    let mut body = flow.clone();
    body.as_object_mut().unwrap().remove("truncated");
    let e = err(&call(
        &c,
        "update_data_flow",
        json!({"data_flow_id": id, "body": body}),
    )
    .await);
    assert!(
        e.contains("properties.schemas") && e.contains("patch_data_flow"),
        "{e}"
    );
    // The way it names: a patch without the elided field changes the flow and keeps its tables.
    let (renamed, _) = cut(
        &c,
        "patch_data_flow",
        json!({"data_flow_id": id, "patch": {"name": "Renamed"}}),
    )
    .await;
    assert_eq!(renamed["name"], "Renamed");
    assert_eq!(
        renamed["properties"]["schemas"], flow["properties"]["schemas"],
        "same size"
    );
    sandbox.shutdown().await;
}
