//! End to end: the real `bdi-mcp` binary over stdio (and the Streamable HTTP app over loopback)
//! against the sandbox, through a real MCP client: the full lifecycle of a data flow.

use bdi_sandbox::demo;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

use crate::support::{err, ok, text};

type Child = rmcp::service::RunningService<rmcp::RoleClient, ()>;

async fn spawn(extra: &[&str]) -> Child {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_bdi-mcp"));
    cmd.args(["--sandbox", "--poll-interval-ms", "5"])
        .args(extra)
        .env("BDI_LOG", "warn");
    let transport = TokioChildProcess::new(cmd).expect("spawn bdi-mcp");
    ().serve(transport).await.expect("handshake over stdio")
}

async fn call<H: rmcp::ClientHandler>(
    c: &rmcp::service::RunningService<rmcp::RoleClient, H>,
    name: &'static str,
    args: Value,
) -> rmcp::model::CallToolResult {
    c.call_tool(CallToolRequestParams::new(name).with_arguments(args.as_object().cloned().unwrap()))
        .await
        .expect("call completes")
}

#[tokio::test]
async fn full_lifecycle_over_stdio() {
    let c = spawn(&[]).await;
    assert!(c.list_all_tools().await.unwrap().len() >= 25);

    let conns = ok(&call(&c, "list_connections", json!({})).await);
    assert_eq!(
        conns["items"].as_array().unwrap().len(),
        demo::DEMO_CONNECTION_COUNT,
        "every page swept"
    );
    assert!(
        conns["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["connection_id"] == demo::MYSQL_CONNECTION_ID && i["type_id"] == "mysql")
    );

    let flow = ok(&call(&c, "create_data_flow", json!({
        "name": "e2e orders", "source_name": "mysql", "source_connection_id": demo::MYSQL_CONNECTION_ID,
        "target_name": "snowflake", "target_connection_id": demo::SNOWFLAKE_CONNECTION_ID,
        "loading_method": "merge", "target_settings": {"database_name": "ANALYTICS", "schema_name": "PUBLIC"}
    })).await);
    let id = flow["cross_id"].as_str().expect("new flow id").to_owned();
    assert_eq!(flow["metadata"]["river_status"], "disabled");

    // `customers` exists in two schemas: the tool lists both and writes nothing.
    let e = err(&call(&c, "set_data_flow_source_tables", json!({"data_flow_id": id, "source_connection_id": demo::MYSQL_CONNECTION_ID, "table_names": ["orders", "customers"]})).await);
    assert!(
        e.contains("crm.customers") && e.contains("sales.customers"),
        "{e}"
    );
    let tables = ok(&call(&c, "set_data_flow_source_tables", json!({"data_flow_id": id, "source_connection_id": demo::MYSQL_CONNECTION_ID, "table_names": ["ORDERS", "sales.customers"]})).await);
    assert_eq!(tables["tables"], json!(["sales.orders", "sales.customers"]));

    let act = ok(&call(
        &c,
        "activate_data_flow",
        json!({"data_flow_id": id, "wait": true}),
    )
    .await);
    assert_eq!(act["activated"], true, "{act}");

    let run = ok(&call(
        &c,
        "run_data_flow",
        json!({"data_flow_id": id, "wait": true}),
    )
    .await);
    assert_eq!(
        (run["finished"].as_bool(), run["status"].as_str()),
        (Some(true), Some("succeeded")),
        "{run}"
    );
    let run_id = run["run_id"].as_str().unwrap().to_owned();
    let group = run["run_group_id"].as_str().unwrap().to_owned();

    let got = ok(&call(&c, "get_run", json!({"data_flow_id": id, "run_id": group})).await);
    assert_eq!(got["finished"], true);
    let logs = ok(&call(
        &c,
        "get_run_logs",
        json!({"data_flow_id": id, "run_id": run_id, "tail_lines": 3}),
    )
    .await);
    assert!(
        logs["returned_lines"].as_u64().unwrap() <= 3 && logs["total_lines"].as_u64().unwrap() > 0,
        "{logs}"
    );

    // The history: nothing before a sync, then one SQL query answers with the same numbers
    // as the activity tool for the same window.
    let e = err(&call(&c, "describe_history", json!({})).await);
    assert!(e.contains("sync_history"), "{e}");
    let synced = ok(&call(&c, "sync_history", json!({"since": "30d"})).await);
    assert_eq!(synced["done"], true, "{synced}");
    assert!(
        synced["resources"]["runs"].as_u64().unwrap() > 0,
        "{synced}"
    );
    let described = ok(&call(&c, "describe_history", json!({})).await);
    let tables: Vec<&str> = described["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        tables.contains(&"runs") && tables.contains(&"activities_statistics"),
        "{described}"
    );
    assert!(described["last_load"]["load_id"].is_string(), "{described}");
    let now = chrono::Utc::now();
    let start = (now - chrono::TimeDelta::days(7))
        .format("%Y-%m-%dT00:00:00")
        .to_string();
    let end = (now + chrono::TimeDelta::minutes(1))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let summary = ok(&call(
        &c,
        "get_activity_summary",
        json!({"start_time": start, "end_time": end}),
    )
    .await);
    let sql = format!(
        "select count(*) as runs, count(*) filter (where status = 'failed') as failed, round(sum(units), 2) as rpu \
         from runs where environment_id = (select cross_id from environments where is_default) \
         and start_date_utc >= '{start}Z' and start_date_utc <= '{end}Z'"
    );
    let answer = ok(&call(&c, "query_history", json!({"sql": sql})).await);
    assert_eq!(
        answer["columns"],
        json!(["runs", "failed", "rpu"]),
        "{answer}"
    );
    let row = &answer["rows"][0];
    let stats = &summary["statistics"];
    assert_eq!(row[0], stats["total_runs"], "{answer} vs {summary}");
    assert_eq!(row[1], stats["failed"], "{answer} vs {summary}");
    assert_eq!(
        row[2].as_f64(),
        stats["units"].as_f64(),
        "{answer} vs {summary}"
    );
    assert!(row[0].as_u64().unwrap() > 0);
    let e = err(&call(&c, "query_history", json!({"sql": "delete from runs"})).await);
    assert!(e.contains("only a SELECT"), "{e}");
    let e = err(&call(&c, "query_history", json!({"sql": "select nope from runs"})).await);
    assert!(
        e.contains("nope") && e.contains("run_groups"),
        "the engine's message and the tables: {e}"
    );
    // A query that aborts DuckDB (an exception thrown where it cannot be caught) ends the worker
    // that ran it, not this server.
    let crash = "SELECT CASE WHEN (SELECT count(*) FROM enable_logging(storage = 'file', \
                 storage_path = '/tmp/bdi-e2e-log')) = 0 THEN error('boom') END";
    let e = err(&call(&c, "query_history", json!({"sql": crash})).await);
    assert!(e.starts_with("error:"), "{e}");
    let again = ok(&call(
        &c,
        "query_history",
        json!({"sql": "select count(*) as n from runs"}),
    )
    .await);
    assert_eq!(again["rows"][0][0], row[0], "{again}");

    let patched = ok(&call(
        &c,
        "patch_data_flow",
        json!({"data_flow_id": id, "patch": {"name": "e2e orders v2"}}),
    )
    .await);
    assert_eq!(patched["name"], "e2e orders v2");
    assert_eq!(
        patched["properties"]["schemas"][0]["name"], "sales",
        "the patch kept the selected tables"
    );

    let e = err(&call(&c, "delete_data_flow", json!({"data_flow_id": id})).await);
    assert!(e.contains("disable_data_flow"), "{e}");
    let dis = ok(&call(&c, "disable_data_flow", json!({"data_flow_id": id})).await);
    assert_eq!(dis["disabled"], true);
    assert_eq!(
        ok(&call(&c, "delete_data_flow", json!({"data_flow_id": id})).await),
        json!({"deleted": true, "data_flow_id": id})
    );
    let e = err(&call(&c, "get_data_flow", json!({"data_flow_id": id})).await);
    assert!(e.contains("not found"), "{e}");
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn a_failing_run_is_easy_to_diagnose() {
    let c = spawn(&[]).await;
    let flow = ok(&call(&c, "create_data_flow", json!({
        "name": "e2e broken", "source_name": "mysql", "source_connection_id": demo::MYSQL_CONNECTION_ID,
        "target_name": "snowflake", "target_connection_id": demo::SNOWFLAKE_CONNECTION_ID
    })).await);
    let id = flow["cross_id"].as_str().unwrap().to_owned();
    ok(&call(&c, "set_data_flow_source_tables", json!({"data_flow_id": id, "source_connection_id": demo::MYSQL_CONNECTION_ID, "table_names": [demo::BROKEN_TABLE]})).await);
    ok(&call(
        &c,
        "activate_data_flow",
        json!({"data_flow_id": id, "wait": true}),
    )
    .await);
    let run = ok(&call(
        &c,
        "run_data_flow",
        json!({"data_flow_id": id, "wait": true}),
    )
    .await);
    assert_eq!(run["status"], "failed", "{run}");
    assert!(run["message"].as_str().unwrap().contains("get_run_logs"));
    let logs = ok(&call(
        &c,
        "get_run_logs",
        json!({"data_flow_id": id, "run_id": run["run_id"], "errors_only": true}),
    )
    .await);
    assert!(logs["returned_lines"].as_u64().unwrap() >= 1, "{logs}");
    assert!(
        logs["csv"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("error"),
        "{logs}"
    );
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn read_only_mode_holds_on_the_wire() {
    let c = spawn(&["--read-only"]).await;
    let names: Vec<String> = c
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ["get_", "list_", "query_", "describe_"]
                .iter()
                .any(|p| n.starts_with(p))),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n == "sync_history"), "{names:?}");
    let r = c
        .call_tool(
            CallToolRequestParams::new("delete_data_flow").with_arguments(
                json!({"data_flow_id": demo::NEW_FLOW_ID})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        )
        .await;
    assert!(r.is_err(), "a hidden tool cannot be called: {r:?}");
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn streamable_http_serves_tools_behind_a_bearer_token() {
    use bdi_mcp_server::app::{Args, HttpAccess, backing_from, http_router};
    use clap::Parser;
    let sb = bdi_sandbox::Sandbox::start(bdi_sandbox::SandboxConfig::default())
        .await
        .unwrap();
    let cfg = sb.config().clone();
    let base = sb.base_url();
    let backing = backing_from(
        move |k| match k {
            "DATA_INTEGRATION_API_URL" => Some(base.clone()),
            "DATA_INTEGRATION_API_TOKEN" => Some(cfg.token.clone()),
            "DATA_INTEGRATION_ACCOUNT_ID" => Some(cfg.account_id.clone()),
            "DATA_INTEGRATION_ENVIRONMENT_ID" => Some(cfg.environment_id.clone()),
            _ => None,
        },
        bdi_domain::ServiceConfig::default(),
    );
    let _ = Args::parse_from(["bdi-mcp"]);
    let server =
        bdi_mcp_server::BdiMcp::new(backing, bdi_mcp_server::ServerOptions::default()).unwrap();
    let ct = tokio_util::sync::CancellationToken::new();
    let access = HttpAccess {
        bearer: Some("s3cret".into()),
        ..HttpAccess::default()
    };
    let app = http_router(server, access, ct.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}/mcp");
    let http = reqwest::Client::new();
    let rpc = |auth: Option<&'static str>, body: Value| {
        let mut req = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(a) = auth {
            req = req.bearer_auth(a);
        }
        req.send()
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    assert_eq!(rpc(None, init.clone()).await.unwrap().status(), 401);
    assert_eq!(
        rpc(Some("wrong"), init.clone()).await.unwrap().status(),
        401
    );
    let resp = rpc(Some("s3cret"), init.clone()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(body.contains("bdi-mcp"), "{body}");
    let foreign = http
        .post(&url)
        .bearer_auth("s3cret")
        .header("accept", "application/json, text/event-stream")
        .header("origin", "https://evil.example")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403, "a foreign browser origin is refused");
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_data_flows", "arguments": {"name": "orders"}}});
    let body = rpc(Some("s3cret"), call)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(demo::ORDERS_FLOW_ID), "{body}");
    ct.cancel();
    sb.shutdown().await;
}

#[test]
fn help_lists_the_options() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bdi-mcp"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--sandbox",
        "--http",
        "--read-only",
        "--tools",
        "--bearer-token",
    ] {
        assert!(help.contains(opt), "{help}");
    }
    let _ = text;
}

type Seen = std::sync::Arc<std::sync::Mutex<Vec<(f64, Option<String>)>>>;

#[derive(Clone, Default)]
struct Recorder {
    progress: Seen,
}

impl rmcp::ClientHandler for Recorder {
    async fn on_progress(
        &self,
        p: rmcp::model::ProgressNotificationParam,
        _: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        self.progress.lock().unwrap().push((p.progress, p.message));
    }
}

async fn spawn_recorder(
    poll_ms: &str,
) -> rmcp::service::RunningService<rmcp::RoleClient, Recorder> {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_bdi-mcp"));
    cmd.args(["--sandbox", "--poll-interval-ms", poll_ms])
        .env("BDI_LOG", "warn");
    Recorder::default()
        .serve(TokioChildProcess::new(cmd).unwrap())
        .await
        .unwrap()
}

fn request(name: &'static str, args: Value) -> rmcp::model::ClientRequest {
    rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(
        CallToolRequestParams::new(name).with_arguments(args.as_object().cloned().unwrap()),
    ))
}

#[tokio::test]
async fn waits_send_progress_over_stdio() {
    let c = spawn_recorder("5").await;
    let handle = c
        .send_cancellable_request(
            request(
                "activate_data_flow",
                json!({"data_flow_id": demo::NEW_FLOW_ID, "wait": true}),
            ),
            rmcp::service::PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let rmcp::model::ServerResult::CallToolResult(r) = handle.await_response().await.unwrap()
    else {
        panic!("not a tool result")
    };
    assert_eq!(ok(&r)["activated"], true);
    let seen = c.service().progress.lock().unwrap().clone();
    assert!(
        !seen.is_empty(),
        "no progress notification arrived before the result"
    );
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    assert!(seen.iter().all(|(_, m)| m.is_some()), "{seen:?}");
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn a_sync_reports_each_table_and_returns_once_its_progress_is_sent() {
    // A client that asks for progress: the call returns (it used to wait forever for its own
    // progress channel), and every table loaded was reported before the result.
    let c = spawn_recorder("5").await;
    let handle = c
        .send_cancellable_request(
            request("sync_history", json!({"since": "7d"})),
            rmcp::service::PeerRequestOptions::with_timeout(std::time::Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let rmcp::model::ServerResult::CallToolResult(r) = handle.await_response().await.unwrap()
    else {
        panic!("not a tool result")
    };
    let synced = ok(&r);
    assert_eq!(synced["done"], true, "{synced}");
    let seen = c.service().progress.lock().unwrap().clone();
    let messages: Vec<String> = seen.iter().filter_map(|(_, m)| m.clone()).collect();
    for table in [
        "environments",
        "runs",
        "run_groups",
        "activities_statistics",
    ] {
        assert!(
            messages.iter().any(|m| m.starts_with(&format!("{table}:"))),
            "{table} not reported: {messages:?}"
        );
    }
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn a_cancelled_wait_leaves_the_server_responsive() {
    // Polls every second: the run cannot finish before the client gives up after 300 ms and
    // sends notifications/cancelled.
    let c = spawn_recorder("1000").await;
    let handle = c
        .send_cancellable_request(
            request(
                "run_data_flow",
                json!({"data_flow_id": demo::ORDERS_FLOW_ID, "wait": true}),
            ),
            rmcp::service::PeerRequestOptions::with_timeout(std::time::Duration::from_millis(300)),
        )
        .await
        .unwrap();
    let res = handle.await_response().await;
    assert!(
        matches!(res, Err(rmcp::service::ServiceError::Timeout { .. })),
        "{res:?}"
    );
    let started = std::time::Instant::now();
    let flows = ok(&call(&c, "list_data_flows", json!({"name": "orders"})).await);
    assert!(flows["total_items"].as_u64().unwrap() >= 1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the server is still busy with the cancelled wait"
    );
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn history_tools_on_postgres_never_show_the_password() {
    let url = std::env::var("BDI_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_POSTGRES_URL is not set: this test needs a PostgreSQL server; run it with \
             `cargo xtask with-postgres -- cargo nextest run --workspace -E 'package(bdi-mcp-server)'` \
             (cargo xtask ci starts one too)"
        )
    });
    let password = url
        .split('@')
        .next()
        .and_then(|a| a.rsplit(':').next())
        .unwrap_or_default()
        .to_owned();
    // A role that loads and reads, not a superuser (the SQL surfaces refuse one).
    let admin = url.clone();
    let url = tokio::task::spawn_blocking(move || {
        bdi_load::testing::admin(
            &admin,
            "DROP SCHEMA IF EXISTS data_integration CASCADE; \
             DROP SCHEMA IF EXISTS data_integration_staging CASCADE",
        );
        bdi_load::testing::postgres_loader(&admin, "bdi_mcp_history")
    })
    .await
    .unwrap();
    let c = spawn(&["--history-db", &url]).await;
    let synced = ok(&call(&c, "sync_history", json!({})).await);
    assert_eq!(synced["done"], true, "{synced}");
    let destination = synced["destination"].as_str().unwrap();
    assert!(destination.starts_with("postgres://"), "{synced}");
    assert!(!synced.to_string().contains(&password), "{synced}");
    let answer = ok(&call(
        &c,
        "query_history",
        json!({"sql": "select count(distinct run_id) as runs from runs where status = 'failed'"}),
    )
    .await);
    assert_eq!(answer["rows"], json!([[1]]), "{answer}");
    let described = ok(&call(&c, "describe_history", json!({})).await);
    assert!(!described.to_string().contains(&password), "{described}");
    let runs = described["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "runs")
        .unwrap();
    assert!(
        runs["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "start_date_utc timestamp with time zone"),
        "{runs}"
    );
    // Past the guard, the engine holds the query to a read-only transaction with a timeout.
    let settings = ok(&call(
        &c,
        "query_history",
        json!({"sql": "select current_setting('transaction_read_only') as ro, current_setting('statement_timeout') as timeout"}),
    )
    .await);
    assert_eq!(settings["rows"][0][0], "on", "{settings}");
    let timeout = settings["rows"][0][1].as_str().unwrap();
    assert!(timeout != "0" && timeout.ends_with('s'), "{settings}");
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn two_servers_sharing_redis_share_the_run_limit() {
    let url = std::env::var("BDI_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_REDIS_URL is not set: this test needs a Redis server; run it with \
             `cargo xtask with-redis -- cargo nextest run --workspace -E 'package(bdi-mcp-server)'` \
             (cargo xtask ci starts one too)"
        )
    });
    // A database of its own on the shared server, so that no other test's runs count here.
    let db = format!(
        "{}/{}",
        url.rsplit_once('/').map_or(url.as_str(), |(a, _)| a),
        7
    );
    let mut flush =
        std::net::TcpStream::connect(db.trim_start_matches("redis://").split('/').next().unwrap())
            .unwrap();
    std::io::Write::write_all(&mut flush, b"SELECT 7\r\nFLUSHDB\r\n").unwrap();
    // Both answers (+OK twice) before any server starts.
    let mut answers = Vec::new();
    while !answers.ends_with(b"+OK\r\n+OK\r\n") {
        let mut buf = [0u8; 64];
        let n = std::io::Read::read(&mut flush, &mut buf).unwrap();
        assert!(n > 0, "Redis closed the connection");
        answers.extend_from_slice(&buf[..n]);
    }
    let a = spawn(&["--redis", &db]).await;
    let b = spawn(&["--redis", &db]).await;
    let run = json!({"data_flow_id": demo::ORDERS_FLOW_ID});
    ok(&call(&a, "run_data_flow", run.clone()).await);
    ok(&call(&b, "run_data_flow", run.clone()).await);
    // The third run of the minute is refused, whichever server it reaches.
    let e = err(&call(&a, "run_data_flow", run.clone()).await);
    assert!(e.contains("the limit is 2"), "{e}");
    let e = err(&call(&b, "run_data_flow", run).await);
    assert!(e.contains("the limit is 2"), "{e}");
    a.cancel().await.unwrap();
    b.cancel().await.unwrap();
}

/// `bdi-mcp --sandbox --http 127.0.0.1:0`, started and serving (its log says where).
fn serve_http_child() -> std::process::Child {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bdi-mcp"))
        .args(["--sandbox", "--http", "127.0.0.1:0"])
        .env("BDI_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("bdi-mcp starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("piped"));
    let mut line = String::new();
    while !line.contains("serving Streamable HTTP at") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("the log reads") > 0,
            "bdi-mcp stopped before serving"
        );
    }
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    child
}

#[test]
fn a_stop_signal_stops_the_server_cleanly_and_removes_its_scratch_files() {
    // A scratch directory left by a server that was killed (its process is gone).
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let stale = std::env::temp_dir().join(format!("bdi-mcp-sandbox-{}", gone.id()));
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("history.duckdb"), b"left behind").unwrap();

    let child = serve_http_child();
    assert!(
        !stale.exists(),
        "the next server removes a dead one's scratch files"
    );

    // What a sync_history writes, in this server's scratch directory.
    let scratch = std::env::temp_dir().join(format!("bdi-mcp-sandbox-{}", child.id()));
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(scratch.join("history.duckdb"), b"demo history").unwrap();

    // SIGTERM, as a service manager or `docker stop` sends it.
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a clean stop");
    assert!(!scratch.exists(), "the scratch files are removed at stop");
}

#[test]
fn a_stop_signal_stops_a_stdio_server_that_waits_for_its_client() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bdi-mcp"))
        .arg("--sandbox")
        .env("BDI_LOG", "info")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("ready on stdio") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "bdi-mcp stopped before it was ready"
        );
    }
    let rest = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    // No client has said anything yet; stdin stays open (held here: `wait` would close it).
    let _stdin = child.stdin.take();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let code = child.wait().unwrap().code();
    let log = rest.join().unwrap();
    assert_eq!(code, Some(0), "a clean stop: {log}");
}
