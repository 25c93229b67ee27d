//! `bdi load flow|info|query` in process: a whole load on the embedded sandbox, its summary,
//! what `info` and `query` show of it, and every input refused before any request.

use bdi_sandbox::boomi_flow::demo;
use bdi_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::support::bdi_with;

/// Runs `bdi ARGS` with these variables (no backend: `load` needs none).
async fn load(args: &[&str], vars: &[(&str, &str)]) -> String {
    bdi_with(args, None, vars, "", CancellationToken::new()).await
}

fn exit_code(outcome: &str) -> &str {
    outcome
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("exit_code: "))
        .unwrap_or("?")
}

fn stdout(outcome: &str) -> &str {
    let start = outcome.find("----- stdout -----\n").map_or(0, |i| i + 19);
    let end = outcome
        .find("\n----- stderr -----")
        .unwrap_or(outcome.len());
    &outcome[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_load_then_info_and_query_on_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("flow.duckdb").display());
    let out = load(
        &[
            "--sandbox",
            "load",
            "flow",
            "--destination",
            &dest,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(exit_code(&out), "0", "{out}");
    let report: Value = serde_json::from_str(stdout(&out)).unwrap();
    assert_eq!(report["dataset"], "boomi_flow_data");
    let audit = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "audit_search")
        .unwrap();
    assert_eq!(audit["rows"], demo::DEFAULT_AUDIT_EVENTS);

    let text = load(&["--sandbox", "load", "flow", "--destination", &dest], &[]).await;
    assert_eq!(exit_code(&text), "0", "{text}");
    assert!(
        stdout(&text).starts_with("Pipeline boomi_flow_pipeline load step completed in "),
        "{text}"
    );
    assert!(
        stdout(&text).contains("Load package ")
            && stdout(&text).contains(" is LOADED and contains no failed jobs")
    );

    let info = load(&["load", "info", "--destination", &dest, "-o", "json"], &[]).await;
    assert_eq!(exit_code(&info), "0", "{info}");
    let info: Value = serde_json::from_str(stdout(&info)).unwrap();
    let tables = info["tables"].as_array().unwrap();
    assert!(
        tables.iter().any(|t| t["name"] == "flows__tags"),
        "{tables:?}"
    );
    assert_eq!(info["loads"].as_array().unwrap().len(), 2);
    assert!(info["state"]["resources"]["audit_search"]["last_value"].is_string());

    let sql = "SELECT type, count(*) AS n FROM boomi_flow_data.audit_search GROUP BY 1 ORDER BY 1";
    let csv = load(
        &["load", "query", sql, "--destination", &dest, "-o", "csv"],
        &[],
    )
    .await;
    assert_eq!(exit_code(&csv), "0", "{csv}");
    let lines: Vec<&str> = stdout(&csv).lines().collect();
    assert_eq!(lines[0], "type,n");
    let total: u64 = lines[1..]
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        total,
        demo::DEFAULT_AUDIT_EVENTS,
        "the second run loaded nothing twice"
    );

    // `-o csv` is for programs: every value exactly as stored, formula-like text included.
    let exact = load(
        &[
            "load",
            "query",
            "SELECT '=1+2' AS \"@f\", '-2+3' AS t, -5 AS n",
            "--destination",
            &dest,
            "-o",
            "csv",
        ],
        &[],
    )
    .await;
    assert_eq!(exit_code(&exact), "0", "{exact}");
    assert_eq!(stdout(&exact), "@f,t,n\n=1+2,-2+3,-5");

    let seed = load(
        &[
            "load",
            "query",
            "SELECT * FROM boomi_flow_data.flows LIMIT 10",
            "--destination",
            &dest,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(
        exit_code(&seed),
        "0",
        "the example's query works as written: {seed}"
    );
    let rows: Value = serde_json::from_str(stdout(&seed)).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), demo::DEFAULT_FLOWS);
}

#[tokio::test]
async fn bad_input_is_a_usage_error_before_any_request() {
    let out = load(&["load", "flow", "--resources", "flows,runtime,nope"], &[]).await;
    assert_eq!(exit_code(&out), "2", "{out}");
    assert!(
        out.contains("unknown resource(s): `runtime`, `nope`"),
        "{out}"
    );
    assert!(
        out.contains("flows, flow, flow_active, graph_flow, runtimes"),
        "{out}"
    );

    let out = load(&["load", "flow", "--destination", "sqlite:x.db"], &[]).await;
    assert_eq!(exit_code(&out), "2", "{out}");
    assert!(out.contains("use duckdb:PATH"), "{out}");

    let out = load(
        &["load", "flow", "--write-disposition", "users=upsert"],
        &[],
    )
    .await;
    assert_eq!(exit_code(&out), "2", "{out}");

    let out = load(&["load", "flow", "--dataset", "a;b"], &[]).await;
    assert_eq!(exit_code(&out), "2", "{out}");
}

#[tokio::test]
async fn a_missing_key_says_how_to_set_it() {
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("x.duckdb").display());
    let out = load(
        &["load", "flow", "--destination", &dest],
        &[("BDI_CONFIG", "/nonexistent/c.toml")],
    )
    .await;
    assert_eq!(exit_code(&out), "3", "{out}");
    assert!(out.contains("BOOMI_FLOW_API_KEY"), "{out}");
    assert!(out.contains("bdi configure --flow"), "{out}");
    assert!(
        !dir.path().join("x.duckdb").exists(),
        "nothing is created before the key is known"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boomi_flow_429_is_the_boomi_flow_apis_limit_not_the_platforms() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // More 429s than the client makes attempts (5, a second apart).
    sandbox
        .control()
        .rate_limit_next("GET", "/api/draw/1/flow", Some(1), 100);
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("x.duckdb").display());
    let base = sandbox.boomi_flow_base_url();
    let out = load(
        &[
            "load",
            "flow",
            "--resources",
            "flows",
            "--destination",
            &dest,
        ],
        &[
            ("BDI_CONFIG", "/nonexistent/c.toml"),
            ("BOOMI_FLOW_API_URL", &base),
            ("BOOMI_FLOW_API_KEY", demo::BOOMI_FLOW_API_KEY),
            ("BOOMI_FLOW_TENANT_ID", demo::BOOMI_FLOW_TENANT_ID),
        ],
    )
    .await;
    assert_eq!(exit_code(&out), "5", "throttled: {out}");
    assert!(
        out.contains("the Boomi Flow API kept answering 429"),
        "{out}"
    );
    assert!(out.contains("wait 1 s, then load again"), "{out}");
    assert!(!out.to_lowercase().contains("platform"), "{out}");
    assert!(!out.contains(demo::BOOMI_FLOW_API_KEY), "{out}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_names_the_header_and_never_shows_the_key() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("x.duckdb").display());
    let base = sandbox.boomi_flow_base_url();
    let wrong = "wrongkey0000000000000000000000zz";
    let out = load(
        &[
            "load",
            "flow",
            "--resources",
            "flows",
            "--destination",
            &dest,
        ],
        &[
            ("BDI_CONFIG", "/nonexistent/c.toml"),
            ("BOOMI_FLOW_API_URL", &base),
            ("BOOMI_FLOW_API_KEY", wrong),
            ("BOOMI_FLOW_TENANT_ID", demo::BOOMI_FLOW_TENANT_ID),
        ],
    )
    .await;
    assert_eq!(exit_code(&out), "3", "{out}");
    assert!(out.contains("x-boomi-flow-api-key"), "{out}");
    assert!(out.contains("tenant-scoped"), "{out}");
    assert!(!out.contains(wrong), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_flow_saves_the_key_that_load_then_uses() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml").display().to_string();
    let base = sandbox.boomi_flow_base_url();
    let saved = bdi_with(
        &[
            "configure",
            "--flow",
            "--tenant-id",
            demo::BOOMI_FLOW_TENANT_ID,
            "--flow-api-url",
            &base,
        ],
        None,
        &[("BDI_CONFIG", &config)],
        &format!("{}\n", demo::BOOMI_FLOW_API_KEY),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(exit_code(&saved), "0", "{saved}");
    assert!(!saved.contains(demo::BOOMI_FLOW_API_KEY), "{saved}");
    let dest = format!("duckdb:{}", dir.path().join("x.duckdb").display());
    let out = load(
        &[
            "load",
            "flow",
            "--resources",
            "flows,users",
            "--destination",
            &dest,
            "-o",
            "json",
        ],
        &[("BDI_CONFIG", &config)],
    )
    .await;
    assert_eq!(exit_code(&out), "0", "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_history_load_then_info_and_query_by_unqualified_names() {
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("history.duckdb").display());
    let out = load(
        &[
            "--sandbox",
            "load",
            "history",
            "--since",
            "30d",
            "--destination",
            &dest,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(exit_code(&out), "0", "{out}");
    let report: Value = serde_json::from_str(stdout(&out)).unwrap();
    assert_eq!(report["pipeline"], "data_integration_pipeline");
    assert_eq!(report["dataset"], "data_integration");
    assert_eq!(report["skipped"], serde_json::json!([]));
    let names: Vec<&str> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "environments",
            "data_flows",
            "connections",
            "runs",
            "run_groups",
            "activities",
            "activities_statistics"
        ]
    );

    // The same destination through the variable, and the history's defaults through --history.
    let sql = "select status, count(*) as n from runs group by 1 order by 1";
    let csv = load(
        &["load", "query", "--history", sql, "-o", "csv"],
        &[("BDI_LOAD_DESTINATION", &dest)],
    )
    .await;
    assert_eq!(exit_code(&csv), "0", "{csv}");
    assert_eq!(stdout(&csv), "status,n\nfailed,1\nsucceeded,9");

    let info = load(
        &[
            "load",
            "info",
            "--history",
            "--destination",
            &dest,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(exit_code(&info), "0", "{info}");
    let info: Value = serde_json::from_str(stdout(&info)).unwrap();
    assert!(info["state"]["resources"]["runs"]["last_value"].is_string());

    let refused = load(
        &[
            "load",
            "query",
            "--history",
            "delete from runs",
            "--destination",
            &dest,
        ],
        &[],
    )
    .await;
    assert_eq!(exit_code(&refused), "2", "{refused}");
    assert!(refused.contains("only a SELECT"), "{refused}");
}

#[tokio::test]
async fn history_input_is_checked_before_any_request() {
    for (args, says) in [
        (&["load", "history", "--since", "yesterday"][..], "--since"),
        (&["load", "history", "--lookback", "two"][..], "--lookback"),
        (&["load", "history", "--resources", "runs,jobs"][..], "jobs"),
        (
            &["load", "history", "--destination", "mysql://u:s3cret@h/db"][..],
            "postgres://",
        ),
    ] {
        let out = load(args, &[]).await;
        assert_eq!(exit_code(&out), "2", "{args:?}: {out}");
        assert!(out.contains(says), "{args:?}: {out}");
        assert!(!out.contains("s3cret"), "{out}");
    }
}

/// The test server's URL; its absence fails the test (a skipped test would pass unseen).
pub(crate) fn postgres_url() -> String {
    std::env::var("BDI_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_POSTGRES_URL is not set: this test needs a PostgreSQL server; run it with \
             `cargo xtask with-postgres -- cargo nextest run --workspace -E 'package(bdi-cli)'` \
             (cargo xtask ci starts one too)"
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_load_into_postgres_then_query_and_info_never_show_the_password() {
    let url = postgres_url();
    let password = url::Url::parse(&url)
        .unwrap()
        .password()
        .map(str::to_owned)
        .unwrap_or_default();
    // A dataset of its own: tests share the server.
    let dataset = format!("cli_history_{}", std::process::id());
    let out = load(
        &[
            "--sandbox",
            "load",
            "history",
            "--dataset",
            &dataset,
            "--destination",
            &url,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(exit_code(&out), "0", "{out}");
    if !password.is_empty() {
        assert!(!out.contains(&password), "{out}");
    }
    let report: Value = serde_json::from_str(stdout(&out)).unwrap();
    assert!(
        report["destination"]
            .as_str()
            .unwrap()
            .starts_with("postgres://"),
        "{report}"
    );

    // A second load merges: the runs are the same rows, not twice as many.
    let again = load(
        &["--sandbox", "load", "history", "--dataset", &dataset],
        &[("BDI_LOAD_DESTINATION", &url)],
    )
    .await;
    assert_eq!(exit_code(&again), "0", "{again}");
    // The SQL surfaces refuse a superuser: queries go through a role that may only read.
    let (admin, ds) = (url.clone(), dataset.clone());
    let reader =
        tokio::task::spawn_blocking(move || bdi_load::testing::postgres_reader(&admin, &ds))
            .await
            .unwrap();
    let csv = load(
        &[
            "load",
            "query",
            "--history",
            "--dataset",
            &dataset,
            "select status, count(*) as n, count(distinct run_id) as ids from runs group by 1 order by 1",
            "-o",
            "csv",
        ],
        &[("BDI_LOAD_DESTINATION", &reader)],
    )
    .await;
    assert_eq!(exit_code(&csv), "0", "{csv}");
    assert_eq!(stdout(&csv), "status,n,ids\nfailed,1,1\nsucceeded,9,9");

    let info = load(
        &[
            "load",
            "info",
            "--history",
            "--dataset",
            &dataset,
            "--destination",
            &url,
        ],
        &[],
    )
    .await;
    assert_eq!(exit_code(&info), "0", "{info}");
    assert!(
        info.contains("runs") && info.contains("postgres://"),
        "{info}"
    );
    if !password.is_empty() {
        assert!(!info.contains(&password), "{info}");
    }

    // Past the guard, the engine is read-only as well: refused before it runs here.
    let refused = load(
        &[
            "load",
            "query",
            "--history",
            "--dataset",
            &dataset,
            "--destination",
            &url,
            "drop table runs",
        ],
        &[],
    )
    .await;
    assert_eq!(exit_code(&refused), "2", "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_api_that_cannot_be_reached_names_its_own_url_variable() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("x.duckdb").display());
    let url = format!("http://127.0.0.1:{port}/api");
    let out = load(
        &[
            "load",
            "flow",
            "--destination",
            &dest,
            "--resources",
            "flows",
        ],
        &[
            ("BDI_CONFIG", "/nonexistent/c.toml"),
            ("BOOMI_FLOW_API_URL", &url),
            ("BOOMI_FLOW_API_KEY", "k"),
            ("BOOMI_FLOW_TENANT_ID", "t"),
        ],
    )
    .await;
    assert_ne!(exit_code(&out), "0", "{out}");
    assert!(out.contains("BOOMI_FLOW_API_URL"), "{out}");
    assert!(!out.contains("DATA_INTEGRATION_API_URL"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_resource_is_quoted_and_cut() {
    let huge = "x".repeat(5_000);
    for command in ["flow", "history"] {
        let out = load(&["--sandbox", "load", command, "--resources", &huge], &[]).await;
        assert_eq!(exit_code(&out), "2", "{out}");
        assert!(out.contains("(5000 characters)"), "{out}");
        assert!(
            out.len() < 2_000,
            "the name is not echoed whole: {} bytes",
            out.len()
        );
    }
}

/// What a person sees of `bdi load flow` and `bdi load info`, snapshotted as the rest of the CLI
/// is (the temporary directory, load ids, times and durations filtered out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_and_info_output_as_a_person_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("flow.duckdb").display());
    let resources = "flows,users,audit_search";
    let loaded = load(
        &[
            "--sandbox",
            "load",
            "flow",
            "--resources",
            resources,
            "--destination",
            &dest,
        ],
        &[],
    )
    .await;
    let info = load(&["load", "info", "--destination", &dest], &[]).await;
    let root = dir.path().display().to_string();
    insta::with_settings!({filters => vec![
        (root.as_str(), "[TMP]"),
        (r"\b1[0-9]{9}\.[0-9]+\b", "[LOAD_ID]"),
        // The load id's length varies, and with it the column's width.
        (r"LOAD ID +STATUS", "LOAD ID  STATUS"),
        (r"[0-9]+\.[0-9]+ seconds", "[S] seconds"),
        (r"\b20[0-9]{2}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(Z|\+00:00)?", "[TIME]"),
    ]}, {
        insta::assert_snapshot!("load_flow", loaded);
        insta::assert_snapshot!("load_info", info);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_may_read_none_of_the_history_is_refused_naming_the_scopes() {
    use bdi_domain::models::Page;
    use bdi_domain::{Error, MockBackend};

    let forbidden = |scope: &str| Error::Forbidden {
        message: format!("the token lacks {scope}"),
    };
    let mut mock = MockBackend::new();
    mock.expect_list_connections()
        .returning(move |_, _| Err(forbidden("connection:list")));
    mock.expect_activities_statistics()
        .returning(move |_, _| Err(forbidden("activity:list")));
    mock.expect_list_data_flows()
        .returning(|_, _| Ok(Page::single(Vec::new())));
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("history.duckdb").display());
    let out = bdi_with(
        &[
            "load",
            "history",
            "--environment",
            crate::support::ENV,
            "--resources",
            "connections,runs",
            "--destination",
            &dest,
        ],
        Some(mock),
        &[],
        "",
        CancellationToken::new(),
    )
    .await;
    assert_eq!(exit_code(&out), "3", "{out}");
    assert!(
        out.contains("note: connections skipped: the token lacks the scope connection:list (the token lacks connection:list); its table keeps what it held"),
        "{out}"
    );
    assert!(
        out.contains("note: runs skipped: the token lacks the scope activity:list"),
        "{out}"
    );
    assert!(
        out.contains("the token may read none of the history's resources"),
        "{out}"
    );
    assert!(
        out.contains(
            "give the token the scope(s) connection:list, activity:list, or use another profile"
        ),
        "{out}"
    );
    assert!(
        !dir.path().join("history.duckdb").exists(),
        "nothing is opened"
    );
}
