//! Tests of what only the DuckDB driver does: a load of many row groups kept whole, its settings
//! and their reset, and read-only queries with their limits. What every engine does is the
//! conformance suite's (`crate::dataset::conformance`).

use super::*;
use crate::destination::{Destination, LoadRecord};
use crate::schema::{Schema, WriteDisposition};
use crate::state::PipelineState;

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

#[test]
fn the_types_are_dlts_duckdb_types() {
    let db = DuckDb::in_memory().expect("db");
    assert_eq!(
        DataType::ALL.map(|t| Driver::sql_type(&db, t)),
        [
            "VARCHAR",
            "BIGINT",
            "DOUBLE",
            "BOOLEAN",
            "TIMESTAMP WITH TIME ZONE"
        ]
    );
}
