//! `query_history` (the history behind it, in process) held to the hostile-query corpus
//! (`bdi_load::testing::hostile`), on DuckDB and on PostgreSQL as a read-only role: each case gets
//! its expected outcome and the next query is answered; a superuser is refused. Over the wire, a
//! query that aborts DuckDB leaves the real `bdi-mcp` serving.

use bdi_load::location::Location;
use bdi_load::testing::{self, Case, Engine, Expect, STILL_ANSWERS};
use bdi_mcp_server::history::History;

async fn holds_to_the_corpus(history: &History, engine: Engine) {
    for Case { sql, expect } in testing::hostile(engine) {
        let answer = history.query(&sql).await;
        match (&answer, expect) {
            (Ok(_), Expect::Rows | Expect::Any) | (Err(_), Expect::NotRows | Expect::Any) => {}
            (Err(e), Expect::Refused) => assert!(
                !e.contains("the query failed") && !e.contains("stopped the process"),
                "{sql:?}: {e}"
            ),
            _ => panic!("{sql:?}: {expect:?} expected, got {answer:?}"),
        }
        let after = history.query(STILL_ANSWERS.0).await.unwrap();
        assert_eq!(
            after.rows,
            vec![vec![serde_json::json!(STILL_ANSWERS.1)]],
            "after {sql:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_history_holds_to_the_hostile_corpus_on_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.duckdb");
    testing::duckdb_dataset(&path, "d");
    let history = History::new(Location::DuckDb(path)).in_dataset("d");
    holds_to_the_corpus(&history, Engine::DuckDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_history_holds_to_the_hostile_corpus_on_postgres_and_refuses_a_superuser() {
    let admin = std::env::var("BDI_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_POSTGRES_URL is not set: this test needs a PostgreSQL server; run it with \
             `cargo xtask with-postgres -- cargo nextest run --workspace -E 'package(bdi-mcp-server)'`"
        )
    });
    let dataset = "bdi_hostile_mcp";
    let admin2 = admin.clone();
    let reader = tokio::task::spawn_blocking(move || testing::postgres_dataset(&admin2, dataset))
        .await
        .unwrap();
    let history = History::new(Location::Postgres(reader)).in_dataset(dataset);
    holds_to_the_corpus(&history, Engine::Postgres).await;

    let history = History::new(Location::Postgres(admin)).in_dataset(dataset);
    let e = history.query(STILL_ANSWERS.0).await.unwrap_err();
    assert!(
        e.contains("is a superuser") && e.contains("CREATE ROLE"),
        "{e}"
    );
}

/// The memory bound of the SQL surfaces, measured on the real `bdi-mcp`: three heavy queries at
/// once, twice (a result far larger than the answer, rows of a megabyte, a list of 50 million
/// values, a join that runs to the time limit), with the server and every worker it starts
/// sampled together: under 512 MB at every sample, and the server answers afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_queries_keep_bdi_mcp_and_its_workers_under_512_mb() {
    use rmcp::ServiceExt as _;
    use rmcp::model::CallToolRequestParams;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.duckdb");
    testing::duckdb_dataset(&path, bdi_load::history::DATASET);
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_bdi-mcp"));
    cmd.args(["--sandbox", "--history-db"])
        .arg(format!("duckdb:{}", path.display()))
        .env("BDI_LOG", "warn");
    let transport = rmcp::transport::TokioChildProcess::new(cmd).unwrap();
    let pid = transport.id().unwrap();
    let client = ().serve(transport).await.unwrap();
    let query = |sql: &'static str| {
        client.call_tool(
            CallToolRequestParams::new("query_history").with_arguments(
                serde_json::json!({ "sql": sql })
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        )
    };
    let peak = testing::PeakMemory::watch(pid);
    for _ in 0..2 {
        let (a, b, c) = tokio::join!(
            query("SELECT * FROM range(300000000)"),
            query("SELECT repeat('y', 1000000) FROM range(5000)"),
            query("SELECT list(range) FROM range(50000000)"),
        );
        let big = crate::support::ok(&a.unwrap());
        assert_eq!(big["rows"].as_array().unwrap().len(), 200, "{big}");
        for r in [b, c] {
            r.unwrap();
        }
        query("SELECT count(*) FROM range(100000000) a, range(20) b")
            .await
            .unwrap();
    }
    let peak = peak.stop();
    assert!(
        peak < 512 * 1024 * 1024,
        "bdi-mcp and its workers peaked at {} MB",
        peak / (1024 * 1024)
    );
    let after = crate::support::ok(&query(STILL_ANSWERS.0).await.unwrap());
    assert_eq!(after["rows"][0][0], STILL_ANSWERS.1, "{after}");
    client.cancel().await.unwrap();
}

/// Before any sync, `query_history` says the same on both engines (a DuckDB file that does not
/// exist, one that holds other data, a PostgreSQL database without the dataset), names
/// `sync_history`, and names no CLI flag: the loader's "no dataset" is a type, worded here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_any_sync_every_engine_says_the_same_and_names_sync_history() {
    let dir = tempfile::tempdir().unwrap();
    let none = History::new(Location::DuckDb(dir.path().join("none.duckdb")));
    let path = dir.path().join("other.duckdb");
    testing::duckdb_dataset(&path, "other");
    let other = History::new(Location::DuckDb(path));
    let admin = std::env::var("BDI_TEST_POSTGRES_URL").expect("BDI_TEST_POSTGRES_URL");
    let reader =
        tokio::task::spawn_blocking(move || testing::postgres_dataset(&admin, "bdi_other_mcp"))
            .await
            .unwrap();
    let postgres = History::new(Location::Postgres(reader)).in_dataset("bdi_never_loaded_mcp");
    let mut said = Vec::new();
    for history in [none, other, postgres] {
        let e = history.query(STILL_ANSWERS.0).await.unwrap_err();
        assert!(e.contains("sync_history"), "{e}");
        assert!(!e.contains("--"), "no CLI flag: {e}");
        said.push(e);
    }
    assert!(said.windows(2).all(|w| w[0] == w[1]), "{said:?}");
}
