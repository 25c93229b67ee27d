//! Loads end to end with a scripted source: counts, the `_dlt_loads` record, a failed load that
//! leaves the dataset and the state as they were, incremental runs that load exactly what is new,
//! replace, merge and full refresh.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bdi_load::destination::duckdb::DuckDb;
use bdi_load::{
    Incremental, LoadError, LoadOptions, Page, Resource, Source, SourceError, WriteDisposition,
    load,
};
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{Value, json};

/// A source whose resources are lists of items, served in pages of `page_size`; it can fail at
/// a given page, and filters incremental resources on `occurredAt >= start`.
#[derive(Default)]
pub(crate) struct Scripted {
    items: Mutex<HashMap<String, Vec<Value>>>,
    page_size: usize,
    pub(crate) fail_at: Mutex<Option<(String, usize)>>,
}

impl Scripted {
    pub(crate) fn new(page_size: usize) -> Self {
        Self {
            page_size,
            ..Self::default()
        }
    }

    pub(crate) fn set(&self, resource: &str, items: Vec<Value>) {
        self.items
            .lock()
            .unwrap()
            .insert(resource.to_owned(), items);
    }

    fn fail_at(&self, resource: &str, page: usize) {
        *self.fail_at.lock().unwrap() = Some((resource.to_owned(), page));
    }
}

impl Source for Scripted {
    fn schema_name(&self) -> &'static str {
        "scripted"
    }

    fn pages<'a>(
        &'a self,
        resource: &'a Resource,
        start: Option<String>,
    ) -> BoxStream<'a, Result<Page, SourceError>> {
        let mut items = self
            .items
            .lock()
            .unwrap()
            .get(&resource.name)
            .cloned()
            .unwrap_or_default();
        if let Some(start) = start {
            items.retain(|i| i["occurredAt"].as_str().unwrap() >= start.as_str());
        }
        let fail = self.fail_at.lock().unwrap().clone();
        let pages: Vec<Result<Page, SourceError>> = items
            .chunks(self.page_size.max(1))
            .enumerate()
            .map(|(i, chunk)| match &fail {
                Some((r, at)) if *r == resource.name && *at == i => {
                    Err(SourceError::DataIntegration(bdi_domain::Error::Upstream {
                        status: 503,
                        body: "the source failed midway".into(),
                    }))
                }
                _ => Ok(Page {
                    items: chunk
                        .iter()
                        .map(|i| serde_json::value::to_raw_value(i).unwrap())
                        .collect(),
                    notes: Vec::new(),
                }),
            })
            .collect();
        stream::iter(pages).boxed()
    }
}

fn events(range: std::ops::Range<usize>) -> Vec<Value> {
    range
        .map(|i| {
            json!({
                "id": format!("e{i:05}"),
                // Two events per second, so every page boundary splits a second.
                "occurredAt": format!("2026-01-01T00:{:02}:{:02}Z", i / 120, (i / 2) % 60),
                "type": if i % 3 == 0 { "flow_run" } else { "user_login" },
                "data": {"n": i, "tags": ["a", "b"]}
            })
        })
        .collect()
}

fn audit() -> Resource {
    Resource {
        name: "audit_search".into(),
        write_disposition: WriteDisposition::Append,
        primary_key: vec!["id".into()],
        incremental: Some(Incremental {
            cursor_field: "occurredAt".into(),
            id_field: "id".into(),
            lookback: None,
        }),
    }
}

pub(crate) fn flows() -> Resource {
    Resource {
        name: "flows".into(),
        write_disposition: WriteDisposition::Replace,
        primary_key: vec!["id".into()],
        incremental: None,
    }
}

fn options(resources: Vec<Resource>) -> LoadOptions {
    LoadOptions {
        pipeline: "p".into(),
        dataset: "ds".into(),
        resources,
        full_refresh: false,
    }
}

async fn run(
    source: &Arc<Scripted>,
    path: &Path,
    opts: LoadOptions,
) -> Result<bdi_load::LoadReport, LoadError> {
    let dest = DuckDb::open(path).unwrap();
    load(source.clone(), Box::new(dest), opts, None).await
}

fn count(path: &Path, sql: &str) -> i64 {
    let db = DuckDb::open_read_only(path).unwrap();
    db.query("ds", sql, &bdi_load::query::QueryLimits::AGENT)
        .unwrap()
        .rows[0][0]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_writes_every_table_and_records_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.duckdb");
    let source = Arc::new(Scripted::new(100));
    source.set("audit_search", events(0..250));
    source.set(
        "flows",
        vec![json!({"id": "f1", "tags": ["x"]}), json!({"id": "f2"})],
    );

    let report = run(&source, &path, options(vec![flows(), audit()]))
        .await
        .unwrap();

    assert_eq!(report.resources[1].rows, 250);
    assert_eq!(report.resources[1].pages, 3);
    assert_eq!(count(&path, "SELECT count(*) FROM ds.audit_search"), 250);
    assert_eq!(
        count(&path, "SELECT count(*) FROM ds.audit_search__data__tags"),
        500
    );
    assert_eq!(count(&path, "SELECT count(*) FROM ds.flows__tags"), 1);
    assert_eq!(
        count(
            &path,
            &format!(
                "SELECT count(*) FROM ds._dlt_loads WHERE load_id = '{}' AND status = 0",
                report.load_id
            )
        ),
        1
    );
    assert_eq!(
        count(
            &path,
            &format!(
                "SELECT count(*) FROM ds.audit_search WHERE _dlt_load_id = '{}'",
                report.load_id
            )
        ),
        250
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_load_keeps_the_previous_one_and_the_next_loads_exactly_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.duckdb");
    let source = Arc::new(Scripted::new(100));
    source.set("audit_search", events(0..250));
    run(&source, &path, options(vec![audit()])).await.unwrap();

    // The source grows; the next load dies on its third page.
    source.set("audit_search", events(0..900));
    source.fail_at("audit_search", 2);
    let err = run(&source, &path, options(vec![audit()]))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("the source failed midway"),
        "{err}"
    );
    assert_eq!(
        count(&path, "SELECT count(*) FROM ds.audit_search"),
        250,
        "nothing kept"
    );
    assert_eq!(count(&path, "SELECT count(*) FROM ds._dlt_loads"), 1);

    *source.fail_at.lock().unwrap() = None;
    let report = run(&source, &path, options(vec![audit()])).await.unwrap();
    assert_eq!(report.resources[0].rows, 650, "exactly the missing events");
    assert_eq!(count(&path, "SELECT count(*) FROM ds.audit_search"), 900);
    assert_eq!(
        count(&path, "SELECT count(DISTINCT id) FROM ds.audit_search"),
        900
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_runs_load_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.duckdb");
    let source = Arc::new(Scripted::new(100));
    source.set("audit_search", events(0..301));
    run(&source, &path, options(vec![audit()])).await.unwrap();

    let again = run(&source, &path, options(vec![audit()])).await.unwrap();
    assert_eq!(again.resources[0].rows, 0, "nothing new");
    assert!(
        again.resources[0].skipped >= 1,
        "the inclusive boundary came back"
    );

    source.set("audit_search", events(0..345));
    let grown = run(&source, &path, options(vec![audit()])).await.unwrap();
    assert_eq!(grown.resources[0].rows, 44, "exactly the new events");
    assert_eq!(count(&path, "SELECT count(*) FROM ds.audit_search"), 345);
    assert_eq!(
        count(&path, "SELECT count(DISTINCT id) FROM ds.audit_search"),
        345
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_merge_and_full_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.duckdb");
    let source = Arc::new(Scripted::new(10));
    let states = Resource {
        name: "states".into(),
        write_disposition: WriteDisposition::Merge,
        primary_key: vec!["id".into()],
        incremental: None,
    };
    source.set(
        "flows",
        vec![json!({"id": "f1", "tags": ["x", "y"]}), json!({"id": "f2"})],
    );
    source.set(
        "states",
        vec![
            json!({"id": "s1", "v": 1, "values": [1]}),
            json!({"id": "s2", "v": 1}),
        ],
    );
    run(&source, &path, options(vec![flows(), states.clone()]))
        .await
        .unwrap();
    // Someone else's table, named like a child of flows: no load of flows reaches it.
    {
        let mut db = DuckDb::open(&path).unwrap();
        bdi_load::dataset::Driver::execute(
            &mut db,
            "CREATE TABLE ds.flows__notes (note VARCHAR); INSERT INTO ds.flows__notes VALUES ('keep me');",
        )
        .unwrap();
    }

    source.set("flows", vec![json!({"id": "f3", "tags": ["z"]})]);
    source.set(
        "states",
        vec![json!({"id": "s1", "v": 2, "values": [7, 8]})],
    );
    run(&source, &path, options(vec![flows(), states.clone()]))
        .await
        .unwrap();

    assert_eq!(count(&path, "SELECT count(*) FROM ds.flows"), 1, "replaced");
    assert_eq!(
        count(&path, "SELECT count(*) FROM ds.flows__tags"),
        1,
        "children too"
    );
    assert_eq!(
        count(&path, "SELECT count(*) FROM ds.flows__notes"),
        1,
        "a table no load made is not a child, whatever its name"
    );
    assert_eq!(count(&path, "SELECT count(*) FROM ds.states"), 2, "merged");
    assert_eq!(count(&path, "SELECT v FROM ds.states WHERE id = 's1'"), 2);
    assert_eq!(count(&path, "SELECT count(*) FROM ds.states__values"), 2);

    let mut opts = options(vec![flows()]);
    opts.full_refresh = true;
    run(&source, &path, opts).await.unwrap();
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ds' AND table_name = 'states'"
        ),
        0,
        "a full refresh drops the dataset first"
    );
}

/// Large values load into DuckDB: 30 items of 1 MB and 300 of 100 KB (about 30 MB each time,
/// more than the 32 MB DuckDB was held to, which failed every such load to pin a block).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_load_into_duckdb() {
    for (n, size) in [(30, 1_000_000), (300, 100_000)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("large.duckdb");
        let source = Arc::new(Scripted::new(50));
        source.set(
            "flows",
            (0..n)
                .map(|i| serde_json::json!({"id": i, "body": "x".repeat(size)}))
                .collect(),
        );
        let report = run(&source, &path, options(vec![flows()])).await.unwrap();
        assert_eq!(report.resources[0].rows, n as u64);
        assert_eq!(
            count(&path, "SELECT sum(length(body)) FROM ds.flows"),
            i64::try_from(n * size).unwrap()
        );
    }
}

/// A load that fails leaves nothing beside the file (no `.wal`, no `.tmp`), and the blocks it
/// wrote before failing are free blocks the next load reuses: the file does not grow again for
/// the same data. (DuckDB never shrinks a file: the space stays with the file, not lost.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_loads_space_is_reused_by_the_next_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("space.duckdb");
    let source = Arc::new(Scripted::new(5_000));
    source.set("audit_search", events(0..100));
    run(&source, &path, options(vec![audit()])).await.unwrap();
    let big: Vec<Value> = (0..60_000)
        .map(|i| serde_json::json!({"id": i, "body": format!("{i:>200}")}))
        .collect();
    source.set("flows", big);
    source.fail_at("flows", 11);
    run(&source, &path, options(vec![flows()]))
        .await
        .expect_err("the source fails midway");
    let failed = std::fs::metadata(&path).unwrap().len();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["space.duckdb"], "no .wal or .tmp left");
    *source.fail_at.lock().unwrap() = None;
    run(&source, &path, options(vec![flows()])).await.unwrap();
    let loaded = std::fs::metadata(&path).unwrap().len();
    // The same two loads into a file where nothing failed.
    let control = dir.path().join("control.duckdb");
    run(&source, &control, options(vec![audit()]))
        .await
        .unwrap();
    run(&source, &control, options(vec![flows()]))
        .await
        .unwrap();
    let clean = std::fs::metadata(&control).unwrap().len();
    assert!(
        loaded <= clean + clean / 10,
        "the next load reused the space: {failed} bytes after the failure, {loaded} after the load, {clean} without the failure"
    );
}
