//! Tests of the DuckDB destination: tables created and widened, types, appends inside a
//! transaction that a rollback undoes, merge deletes with child rows, the state round trip.

use super::*;
use crate::normalize::{Batch, DLT_ID, Normalizer};
use crate::state::ResourceState;

fn table(name: &str, columns: &[(&str, DataType)]) -> Table {
    let mut t = Table::new(name, None, WriteDisposition::Append);
    for (c, ty) in columns {
        t.column(c, *ty, true);
    }
    t
}

fn count(db: &DuckDb, sql: &str) -> i64 {
    db.connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn types(db: &DuckDb, dataset: &str, table: &str) -> Vec<(String, String)> {
    let mut stmt = db
        .connection()
        .prepare("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position")
        .expect("prepare");
    stmt.query_map([dataset, table], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn tables_are_created_widened_and_typed_like_dlt() {
    let mut db = DuckDb::in_memory().expect("db");
    db.begin().expect("begin");
    let mut t = table(
        "events",
        &[
            ("id", DataType::Text),
            ("n", DataType::Bigint),
            ("x", DataType::Double),
            ("ok", DataType::Bool),
            ("at", DataType::Timestamp),
        ],
    );
    db.sync_table("ds", &t).expect("create");
    let rows = Rows::of_cells(
        &t,
        vec![vec![
            Cell::Text("a".into()),
            Cell::Bigint(1),
            Cell::Double(0.5),
            Cell::Bool(true),
            Cell::Timestamp(1_000_000),
        ]],
    );
    db.append("ds", &t, vec![rows]).expect("append");
    t.column("later", DataType::Text, true);
    db.sync_table("ds", &t).expect("widen");
    let short = Rows::of_cells(&t, vec![vec![Cell::Text("b".into())]]);
    db.append("ds", &t, vec![short])
        .expect("a short row is padded");
    db.commit(
        "ds",
        "p",
        &LoadRecord {
            load_id: "1.0".into(),
            schema_name: "s".into(),
            schema_version_hash: "h".into(),
        },
        &PipelineState::default(),
        &Schema::default(),
    )
    .expect("commit");

    assert_eq!(
        types(&db, "ds", "events"),
        [
            ("id", "VARCHAR"),
            ("n", "BIGINT"),
            ("x", "DOUBLE"),
            ("ok", "BOOLEAN"),
            ("at", "TIMESTAMP WITH TIME ZONE"),
            ("later", "VARCHAR"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(count(&db, "SELECT count(*) FROM ds.events"), 2);
    assert_eq!(
        count(&db, "SELECT epoch_us(\"at\") FROM ds.events WHERE id = 'a'"),
        1_000_000
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM ds._dlt_loads WHERE status = 0"),
        1
    );
}

#[test]
fn a_rollback_leaves_nothing_behind() {
    let mut db = DuckDb::in_memory().expect("db");
    db.begin().expect("begin");
    let t = table("t", &[("id", DataType::Text)]);
    db.sync_table("ds", &t).expect("create");
    let rows = Rows::of_cells(&t, vec![vec![Cell::Text("a".into())]]);
    db.append("ds", &t, vec![rows]).expect("append");
    db.rollback();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ds'"
        ),
        0
    );
}

#[test]
fn merge_deletes_the_replaced_rows_and_their_children() {
    let mut db = DuckDb::in_memory().expect("db");
    let mut schema = Schema::default();
    Normalizer::declare_root(&mut schema, "states", WriteDisposition::Merge, &["id"]);
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items = [
        serde_json::json!({"id": "s1", "values": [1, 2]}),
        serde_json::json!({"id": "s2", "values": [3]}),
    ];
    n.normalize(&mut schema, "states", &items, &mut batch);
    db.begin().expect("begin");
    for (name, rows) in batch.tables {
        db.sync_table("ds", &schema.tables[&name]).expect("sync");
        db.append("ds", &schema.tables[&name], vec![rows])
            .expect("append");
    }
    let root = schema.tables["states"].clone();
    db.delete_keys(
        "ds",
        &root,
        &[vec![Cell::Text("s1".into())]],
        &["states__values"],
    )
    .expect("delete");
    assert_eq!(count(&db, "SELECT count(*) FROM ds.states"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM ds.states__values"), 1);
    let kept: String = db
        .connection()
        .query_row("SELECT _dlt_root_id FROM ds.states__values", [], |r| {
            r.get(0)
        })
        .expect("row");
    let root_id: String = db
        .connection()
        .query_row(&format!("SELECT {DLT_ID} FROM ds.states"), [], |r| r.get(0))
        .expect("row");
    assert_eq!(kept, root_id);
}

#[test]
fn the_state_and_the_schema_round_trip_through_the_destination() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("p.duckdb");
    let mut state = PipelineState::default();
    state.resources.insert(
        "audit_search".into(),
        ResourceState {
            cursor: "occurredAt".into(),
            last_value: Some("2026-01-01T00:00:00Z".into()),
            ids_at_last_value: ["e1".to_owned()].into(),
        },
    );
    let t = table("t", &[("id", DataType::Text), ("n", DataType::Bigint)]);
    {
        let mut db = DuckDb::open(&path).expect("open");
        db.begin().expect("begin");
        db.sync_table("ds", &t).expect("create");
        let mut schema = Schema::default();
        schema.tables.insert("t".into(), t.clone());
        db.commit(
            "ds",
            "pipe",
            &LoadRecord {
                load_id: "1.0".into(),
                schema_name: "s".into(),
                schema_version_hash: schema.version_hash(),
            },
            &state,
            &schema,
        )
        .expect("commit");
    }
    let mut db = DuckDb::open(&path).expect("reopen");
    let stored = db.stored("ds", "pipe").expect("stored");
    assert_eq!(stored.state, state);
    assert_eq!(stored.schema.tables["t"].columns, t.columns);
    assert!(
        db.stored("ds", "other")
            .expect("stored")
            .state
            .resources
            .is_empty()
    );
}

/// `n` rows of `t`, ids from `from`.
fn numbered(t: &Table, from: usize, n: usize) -> Rows {
    Rows::of_cells(
        t,
        (from..from + n)
            .map(|i| {
                vec![
                    Cell::Text(format!("row-{i:08}-with-some-text")),
                    Cell::Bigint(i64::try_from(i).unwrap()),
                ]
            })
            .collect(),
    )
}

#[test]
fn a_load_of_many_row_groups_is_kept_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("big.duckdb");
    let t = table("t", &[("id", DataType::Text), ("n", DataType::Bigint)]);
    let total = 3 * LOAD_ROW_GROUP_ROWS + 123;
    let record = |id: &str| LoadRecord {
        load_id: id.into(),
        schema_name: "s".into(),
        schema_version_hash: "h".into(),
    };
    let load = |db: &mut DuckDb| {
        db.begin().expect("begin");
        db.sync_table("ds", &t).expect("create");
        // Runs as the pipeline sends them: row groups fill and go to the file mid-transaction.
        for from in (0..total).step_by(4_096) {
            let n = 4_096.min(total - from);
            db.append("ds", &t, vec![numbered(&t, from, n)])
                .expect("append");
        }
    };
    let threads = |db: &DuckDb| -> String {
        db.connection()
            .query_row("SELECT current_setting('threads')::VARCHAR", [], |r| {
                r.get(0)
            })
            .expect("threads")
    };
    {
        let mut db = DuckDb::open(&path).expect("open");
        let before = threads(&db);
        load(&mut db);
        assert_eq!(threads(&db), "1", "a load runs DuckDB on one thread");
        db.rollback();
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ds'"
            ),
            0,
            "the rolled back load left nothing"
        );
        load(&mut db);
        db.commit(
            "ds",
            "pipe",
            &record("1.0"),
            &PipelineState::default(),
            &Schema::default(),
        )
        .expect("commit");
        assert_eq!(
            threads(&db),
            before,
            "the load's settings are reset after it"
        );
    }
    let db = DuckDb::open_read_only(&path).expect("reopen");
    assert_eq!(
        count(&db, "SELECT count(*) FROM ds.t"),
        i64::try_from(total).unwrap()
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(DISTINCT n) FROM ds.t WHERE id LIKE 'row-%'"
        ),
        i64::try_from(total).unwrap()
    );
    assert!(
        count(
            &db,
            "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('ds.t')"
        ) > 1,
        "written in several row groups"
    );
}

/// A file with `ds.events` holding ids 0..n, committed.
fn file_with_events(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("q.duckdb");
    let mut db = DuckDb::open(&path).expect("open");
    db.begin().expect("begin");
    let t = table(
        "events",
        &[("id", DataType::Bigint), ("name", DataType::Text)],
    );
    db.sync_table("ds", &t).expect("create");
    let rows = Rows::of_cells(
        &t,
        (0..n)
            .map(|i| {
                vec![
                    Cell::Bigint(i64::try_from(i).expect("small")),
                    Cell::Text(format!("event {i}")),
                ]
            })
            .collect(),
    );
    db.append("ds", &t, vec![rows]).expect("append");
    let load = LoadRecord {
        load_id: "1".into(),
        schema_name: "s".into(),
        schema_version_hash: "h".into(),
    };
    db.commit(
        "ds",
        "p",
        &load,
        &PipelineState::default(),
        &Schema::default(),
    )
    .expect("commit");
    path
}

#[test]
fn queries_are_read_only_limited_and_resolve_unqualified_names_in_the_dataset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = file_with_events(dir.path(), 300);
    let db = DuckDb::open_read_only(&path).expect("read-only");

    let r = db
        .query(
            "ds",
            "select count(*) as n from events",
            &QueryLimits::AGENT,
        )
        .expect("runs");
    assert_eq!(r.columns, ["n"]);
    assert_eq!(r.rows, [[serde_json::json!(300)]]);
    assert_eq!(r.truncated, None);

    let r = db
        .query(
            "ds",
            "select id from events order by id",
            &QueryLimits::AGENT,
        )
        .expect("runs");
    assert_eq!(r.rows.len(), 200, "cut at the agent's 200 rows");
    assert!(r.truncated.expect("says it was cut").contains("200 rows"));

    let refused = db.query("ds", "delete from events", &QueryLimits::AGENT);
    assert!(
        matches!(refused, Err(QueryError::Refused(_))),
        "{refused:?}"
    );

    // Past the guard, the engine itself refuses: the file is open read-only, with no access to
    // other files.
    let e = db
        .connection()
        .execute_batch("DELETE FROM ds.events")
        .expect_err("read-only in the engine");
    assert!(e.to_string().to_lowercase().contains("read-only"), "{e}");
    let passwd = db.query(
        "ds",
        "select * from read_text('/etc/hostname')",
        &QueryLimits::AGENT,
    );
    assert!(
        matches!(&passwd, Err(QueryError::Failed(m)) if m.contains("disabled")),
        "{passwd:?}"
    );

    let bad = db.query("ds", "select nope from events", &QueryLimits::AGENT);
    assert!(
        matches!(&bad, Err(QueryError::Failed(m)) if m.contains("nope")),
        "{bad:?}"
    );
}

#[test]
fn a_query_past_its_time_limit_is_interrupted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = file_with_events(dir.path(), 1);
    let db = DuckDb::open_read_only(&path).expect("read-only");
    let limits = QueryLimits {
        timeout: std::time::Duration::from_millis(50),
        ..QueryLimits::AGENT
    };
    // Minutes of work: only the interrupt ends it.
    let r = db.query("ds", "select count(*) from range(1000000000000) a", &limits);
    assert!(matches!(r, Err(QueryError::TimedOut(_))), "{r:?}");
    // The connection is usable afterwards.
    let r = db
        .query("ds", "select count(*) from events", &limits)
        .expect("runs");
    assert_eq!(r.rows, [[serde_json::json!(1)]]);
}
