//! The history dataset behind the history tools, in process against the sandbox: a cancelled
//! sync keeps nothing, a sync past its budget goes on and commits, queries wait for a sync
//! rather than meet it half-way.

use std::sync::Arc;
use std::time::Duration;

use bdi_api_client::{EmbeddedSandbox, HttpBackend};
use bdi_domain::{CancellationToken, Service};
use bdi_load::history::HistoryOptions;
use bdi_load::location::Location;
use bdi_mcp_server::history::{History, Synced};

const LOOKBACK: Duration = Duration::from_secs(2 * 86_400);

fn options() -> HistoryOptions {
    let now = chrono::Utc::now();
    HistoryOptions {
        since: now - chrono::TimeDelta::days(14),
        now,
        environments: Vec::new(),
    }
}

async fn setup() -> (EmbeddedSandbox, Service, tempfile::TempDir, History) {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let service = Service::new(Arc::new(
        HttpBackend::new(sandbox.client_config().unwrap()).unwrap(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let history = History::new(Location::DuckDb(dir.path().join("h.duckdb")));
    (sandbox, service, dir, history)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_sync_keeps_nothing() {
    let (sandbox, service, _dir, history) = setup().await;
    sandbox
        .sandbox()
        .control()
        .set_latency(Duration::from_millis(30));
    let cancel = CancellationToken::new();
    let later = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        later.cancel();
    });
    let r = history
        .sync(
            &service,
            options(),
            LOOKBACK,
            None,
            cancel,
            Duration::from_secs(60),
        )
        .await;
    let e = r.expect_err("cancelled");
    assert!(e.contains("nothing of it was kept"), "{e}");
    // The dataset holds no load: nothing of the abandoned one is visible.
    sandbox.sandbox().control().set_latency(Duration::ZERO);
    let described = history.describe_dataset().await.unwrap();
    assert!(described.last_load.is_none(), "{described:?}");
    assert!(described.tables.is_empty(), "{described:?}");
    let e = history
        .query("select count(*) from runs")
        .await
        .unwrap_err();
    assert!(e.contains("call sync_history first"), "{e}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_past_its_budget_goes_on_and_queries_wait_for_it() {
    let (sandbox, service, _dir, history) = setup().await;
    let history = Arc::new(history);
    sandbox
        .sandbox()
        .control()
        .set_latency(Duration::from_millis(10));
    let r = history
        .sync(
            &service,
            options(),
            LOOKBACK,
            None,
            CancellationToken::new(),
            Duration::from_millis(50),
        )
        .await
        .unwrap();
    assert!(matches!(r, Synced::StillRunning { .. }), "{r:?}");
    // A query waits for the sync's commit (up to its 10 s), then sees the whole load.
    let rows = history
        .query("select count(*), count(distinct run_id) from runs")
        .await
        .unwrap()
        .rows;
    assert_eq!(rows[0][0], rows[0][1]);
    assert!(rows[0][0].as_i64().unwrap() > 0, "{rows:?}");
    let described = history.describe_dataset().await.unwrap();
    assert!(described.last_load.is_some(), "{described:?}");
    sandbox.shutdown().await;
}
