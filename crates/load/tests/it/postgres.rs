//! Loads end to end into PostgreSQL (`BDI_TEST_POSTGRES_URL`, set by `cargo xtask with-postgres`
//! and `cargo xtask ci`): every resource of the Boomi Flow emulator loaded with `bdi_load::load` gives
//! the tables, columns, types and row counts a DuckDB load of the same data gives, and a second
//! load gives the same again on both.

use std::sync::Arc;

use bdi_load::boomi_flow::{BoomiFlowSource, RESOURCES, resource};
use bdi_load::destination::Destination;
use bdi_load::destination::duckdb::DuckDb;
use bdi_load::destination::postgres::Postgres;
use bdi_load::query::{QueryLimits, TableInfo};
use bdi_load::schema::Schema;
use bdi_load::{LoadOptions, LoadReport, Resource, load};
use bdi_sandbox::{Sandbox, SandboxConfig};

/// The test server's URL; its absence fails the test (a skipped test would pass unseen).
fn server_url() -> String {
    std::env::var("BDI_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_POSTGRES_URL is not set: the PostgreSQL tests need a server; run them with \
             `cargo xtask with-postgres -- cargo nextest run --workspace -E 'package(bdi-load)'` \
             (cargo xtask ci starts one too)"
        )
    })
}

fn source(sandbox: &Sandbox) -> Arc<BoomiFlowSource> {
    Arc::new(crate::boomi_flow::source(sandbox))
}

fn options(dataset: &str, full_refresh: bool) -> LoadOptions {
    LoadOptions {
        pipeline: "flow".into(),
        dataset: dataset.into(),
        resources: RESOURCES
            .iter()
            .map(|name| resource(name).unwrap())
            .collect::<Vec<Resource>>(),
        full_refresh,
    }
}

/// Every table's name, sorted, with its columns and their types (by name).
fn shape(schema: &Schema) -> Vec<(String, Vec<(String, &'static str)>)> {
    let mut tables: Vec<_> = schema
        .tables
        .values()
        .map(|t| {
            let mut columns: Vec<_> = t
                .columns
                .iter()
                .map(|(n, c)| (n.clone(), c.data_type.name()))
                .collect();
            columns.sort();
            (t.name.clone(), columns)
        })
        .collect();
    tables.sort();
    tables
}

/// Rows written per table, by table name (the order tables first appear in varies: `flow` reads
/// its items concurrently).
fn written(report: &LoadReport) -> Vec<(String, u64)> {
    let mut tables = report.tables.clone();
    tables.sort();
    tables
}

fn sorted(mut tables: Vec<TableInfo>) -> Vec<TableInfo> {
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    tables
}

/// What a destination holds after a load: the shape of its tables and their counts.
type Held = (Vec<(String, Vec<(String, &'static str)>)>, Vec<TableInfo>);

async fn into_postgres(
    source: &Arc<BoomiFlowSource>,
    dataset: &str,
    full_refresh: bool,
) -> LoadReport {
    // The driver blocks: it connects (and is dropped) on a blocking thread, never on a task.
    let url = server_url();
    let dest = tokio::task::spawn_blocking(move || Postgres::connect(&url))
        .await
        .unwrap()
        .unwrap();
    load(
        source.clone(),
        Box::new(dest),
        options(dataset, full_refresh),
        None,
    )
    .await
    .unwrap()
}

async fn postgres_holds(dataset: &str) -> Held {
    let url = server_url();
    let dataset = dataset.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut pg = Postgres::connect(&url).unwrap();
        let stored = pg.stored(&dataset, "flow").unwrap();
        let info = pg.info(&dataset, "flow").unwrap();
        // The data reads back through a query too.
        let r = pg
            .query(
                &dataset,
                "select count(*) as n from audit_search",
                &QueryLimits::AGENT,
            )
            .unwrap();
        assert_eq!(
            r.rows[0][0].as_i64(),
            info.tables
                .iter()
                .find(|t| t.name == "audit_search")
                .map(|t| t.rows)
        );
        (shape(&stored.schema), sorted(info.tables))
    })
    .await
    .unwrap()
}

fn duckdb_holds(path: &std::path::Path, dataset: &str) -> Held {
    let mut db = DuckDb::open_read_only(path).unwrap();
    let stored = db.stored(dataset, "flow").unwrap();
    let info = db.info(dataset, "flow").unwrap();
    (shape(&stored.schema), sorted(info.tables))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_load_into_postgres_gives_the_tables_and_counts_of_a_duckdb_load() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let source = source(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.duckdb");
    let dataset = "it_flow_load";

    let duck = load(
        source.clone(),
        Box::new(DuckDb::open(&path).unwrap()),
        options(dataset, false),
        None,
    )
    .await
    .unwrap();
    // A full refresh: whatever an earlier run left in the server's dataset goes.
    let pg = into_postgres(&source, dataset, true).await;
    assert!(
        pg.destination.starts_with("postgres://"),
        "{}",
        pg.destination
    );
    assert_eq!(written(&pg), written(&duck), "rows written per table");
    assert_eq!(pg.schema_version_hash, duck.schema_version_hash);
    let (duck_shape, duck_tables) = duckdb_holds(&path, dataset);
    let (pg_shape, pg_tables) = postgres_holds(dataset).await;
    assert_eq!(pg_shape, duck_shape, "tables, columns and types");
    assert_eq!(pg_tables, duck_tables, "row and column counts");
    assert!(
        pg_tables
            .iter()
            .any(|t| t.name == "audit_search" && t.rows > 0)
    );
    assert!(
        pg_tables.len() > RESOURCES.len(),
        "child tables too: {pg_tables:?}"
    );

    // A second load: replace, merge and the incremental cursor give the same on both.
    let duck = load(
        source.clone(),
        Box::new(DuckDb::open(&path).unwrap()),
        options(dataset, false),
        None,
    )
    .await
    .unwrap();
    let pg = into_postgres(&source, dataset, false).await;
    assert_eq!(
        written(&pg),
        written(&duck),
        "rows written by the second load"
    );
    let (_, duck_tables) = duckdb_holds(&path, dataset);
    let (_, pg_tables) = postgres_holds(dataset).await;
    assert_eq!(pg_tables, duck_tables, "row counts after the second load");
}

/// Two, then four loads of one pipeline at once into one PostgreSQL dataset: each holds the
/// pipeline from reading its state to its commit, so the later ones find what the first stored
/// and no row is stored twice (before the lock, every load read the same empty state and stored
/// everything again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_at_once_into_one_postgres_dataset_never_store_a_row_twice() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let source = source(&sandbox);
    for n in [2, 4] {
        // A dataset of its own each run: the server may be shared and reused.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dataset = format!("it_flow_at_once_{n}_{}_{nanos}", std::process::id());
        let loads = (0..n).map(|_| {
            let (source, dataset) = (source.clone(), dataset.clone());
            tokio::spawn(async move {
                let url = server_url();
                let dest = tokio::task::spawn_blocking(move || Postgres::connect(&url))
                    .await
                    .unwrap()
                    .unwrap();
                let options = LoadOptions {
                    resources: ["audit_search", "flows"]
                        .iter()
                        .map(|r| resource(r).unwrap())
                        .collect(),
                    ..options(&dataset, false)
                };
                load(source, Box::new(dest), options, None).await
            })
        });
        for outcome in futures::future::join_all(loads).await {
            outcome.unwrap().expect("every load ends well");
        }
        let url = server_url();
        let counts = tokio::task::spawn_blocking(move || {
            let mut pg = Postgres::connect(&url).unwrap();
            let sql = "SELECT (SELECT count(*) FROM audit_search), (SELECT count(DISTINCT id) FROM audit_search), \
                       (SELECT count(*) FROM flows), (SELECT count(DISTINCT id__id) FROM flows), \
                       (SELECT count(*) FROM _dlt_loads)";
            pg.query(&dataset, sql, &QueryLimits::AGENT).unwrap().rows[0].clone()
        })
        .await
        .unwrap();
        assert_eq!(counts[0], counts[1], "{n} loads at once: {counts:?}");
        assert_eq!(counts[2], counts[3], "{n} loads at once: {counts:?}");
        assert!(counts[0].as_i64().unwrap() > 0, "{counts:?}");
        assert_eq!(
            counts[4],
            serde_json::json!(n),
            "every load committed: {counts:?}"
        );
    }
}

/// Data PostgreSQL cannot take as it is: names longer than its 63 bytes (deep nesting, long
/// keys) are shortened as dlt shortens them, the same way in every load, and U+0000 is left out
/// of text; two loads give the same columns and all the rows (before, both failed the load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_names_and_nul_load_into_postgres_the_same_way_every_time() {
    use crate::pipeline::{Scripted, flows};
    let long_key = "a_rather_long_key_name_that_goes_on".repeat(2);
    let item = |i: i64| {
        serde_json::json!({
            "id": i,
            "text": "a\u{0}b",
            "deeply": {"nested": {"object": {"with": {"many": {"levels": {(long_key.as_str()): i}}}}}},
            "list_with_a_long_name_that_makes_its_child_table_name_long": [{(long_key.as_str()): i}]
        })
    };
    let source = Arc::new(Scripted::new(10));
    source.set("flows", (0..3).map(item).collect());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dataset = format!("it_long_{}_{nanos}", std::process::id());
    let mut shapes = Vec::new();
    for _ in 0..2 {
        let url = server_url();
        let dest = tokio::task::spawn_blocking(move || Postgres::connect(&url))
            .await
            .unwrap()
            .unwrap();
        let options = LoadOptions {
            pipeline: "p".into(),
            dataset: dataset.clone(),
            resources: vec![flows()],
            full_refresh: false,
        };
        let report = load(source.clone(), Box::new(dest), options, None)
            .await
            .expect("the load ends well");
        assert_eq!(report.resources[0].rows, 3);
        let (url, ds) = (server_url(), dataset.clone());
        shapes.push(
            tokio::task::spawn_blocking(move || {
                let mut pg = Postgres::connect(&url).unwrap();
                let stored = pg.stored(&ds, "p").unwrap();
                let text = pg
                    .query(
                        &ds,
                        "SELECT string_agg(text, ',') FROM flows",
                        &QueryLimits::AGENT,
                    )
                    .unwrap();
                (shape(&stored.schema), text.rows[0][0].clone())
            })
            .await
            .unwrap(),
        );
    }
    assert_eq!(shapes[0], shapes[1], "the same names in both loads");
    let (tables, text) = &shapes[1];
    assert_eq!(text, &serde_json::json!("ab,ab,ab"));
    for (table, columns) in tables {
        assert!(table.len() <= 63, "{table}");
        for (column, _) in columns {
            assert!(column.len() <= 63, "{column}");
        }
    }
    assert_eq!(tables.len(), 2, "{tables:?}");
}
