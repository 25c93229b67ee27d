//! Tests of what only the PostgreSQL driver does, against a real server (`BDI_TEST_POSTGRES_URL`,
//! which `cargo xtask with-postgres` and `cargo xtask ci` set): nothing visible to another
//! session before the commit, a dropped connection that leaves nothing, COPY in chunks, names
//! PostgreSQL would cut, read-only queries with their limits, TLS, and the password kept out of
//! every message. What every engine does is the conformance suite's
//! (`crate::dataset::conformance`). Each test works in a dataset of its own, so they run
//! side by side.

use std::time::Duration;

use super::*;
use crate::destination::{Destination, LoadRecord};
use crate::schema::Schema;
use crate::state::PipelineState;

/// The test server's URL; its absence fails the test (a skipped test would pass unseen).
pub(crate) fn server_url() -> String {
    std::env::var("BDI_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_POSTGRES_URL is not set: the PostgreSQL tests need a server; run them with \
             `cargo xtask with-postgres -- cargo nextest run --workspace -E 'package(bdi-load)'` \
             (cargo xtask ci starts one too)"
        )
    })
}

fn connect() -> Postgres {
    Postgres::connect(&server_url()).expect("connect to the test server")
}

/// A dataset of this test's own, empty.
fn fresh(name: &str) -> (Postgres, String) {
    let mut db = connect();
    let dataset = format!("t_{name}");
    db.exec(&format!(
        "DROP SCHEMA IF EXISTS {} CASCADE; DROP SCHEMA IF EXISTS {} CASCADE",
        quote(&dataset),
        quote(&staging(&dataset))
    ))
    .expect("drop");
    (db, dataset)
}

fn table(name: &str, columns: &[(&str, DataType)]) -> Table {
    let mut t = Table::new(name, None, WriteDisposition::Append);
    for (c, ty) in columns {
        t.column(c, *ty, true);
    }
    t
}

fn count(db: &mut Postgres, sql: &str) -> i64 {
    db.client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

fn record(load_id: &str, hash: &str) -> LoadRecord {
    LoadRecord {
        load_id: load_id.into(),
        schema_name: "s".into(),
        schema_version_hash: hash.into(),
    }
}

#[test]
fn nothing_is_visible_before_the_commit_and_a_rollback_or_a_dropped_connection_leaves_nothing() {
    let (mut db, ds) = fresh("rollback");
    let mut other = connect();
    let tables =
        format!("SELECT count(*) FROM information_schema.tables WHERE table_schema = '{ds}'");
    let t = table("t", &[("id", DataType::Text)]);
    let rows = || Rows::of_cells(&t, vec![vec![Cell::Text("a".into())]]);

    db.begin().expect("begin");
    db.sync_table(&ds, &t).expect("create");
    db.append(&ds, &t, vec![rows()]).expect("append");
    assert_eq!(
        count(&mut other, &tables),
        0,
        "nothing visible before the commit"
    );
    db.rollback();
    assert_eq!(count(&mut db, &tables), 0);

    // A load whose connection drops (a killed process) leaves nothing either.
    db.begin().expect("begin");
    db.sync_table(&ds, &t).expect("create");
    db.append(&ds, &t, vec![rows()]).expect("append");
    drop(db);
    assert_eq!(count(&mut other, &tables), 0);
    let schemas = format!("SELECT count(*) FROM pg_namespace WHERE nspname = '{ds}'");
    assert_eq!(count(&mut other, &schemas), 0);
}

#[test]
fn an_append_larger_than_a_copy_chunk_arrives_whole() {
    let (mut db, ds) = fresh("large");
    let t = table(
        "t",
        &[
            ("id", DataType::Text),
            ("n", DataType::Bigint),
            ("pad", DataType::Text),
        ],
    );
    let run = |from: i64| {
        Rows::of_cells(
            &t,
            (from..from + 5_000)
                .map(|i| {
                    vec![
                        Cell::Text(format!("r{i}")),
                        Cell::Bigint(i),
                        Cell::Text("é".repeat(40)),
                    ]
                })
                .collect(),
        )
    };
    db.begin().expect("begin");
    db.sync_table(&ds, &t).expect("create");
    db.append(&ds, &t, vec![run(0), run(5_000), run(10_000), run(15_000)])
        .expect("append");
    let q = |sql: &str| sql.replace("DS", &quote(&ds));
    assert_eq!(count(&mut db, &q("SELECT count(*) FROM DS.t")), 20_000);
    assert_eq!(
        count(
            &mut db,
            &q("SELECT sum(n)::bigint FROM DS.t WHERE pad = repeat('é', 40) AND id = 'r' || n")
        ),
        (0..20_000).sum::<i64>()
    );
    db.rollback();
}

#[test]
fn a_name_postgres_would_cut_is_refused() {
    let (mut db, ds) = fresh("long");
    let t = table(&"x".repeat(64), &[("id", DataType::Text)]);
    db.begin().expect("begin");
    let e = db.sync_table(&ds, &t).expect_err("too long").to_string();
    assert!(e.contains("at most 63"), "{e}");
    db.rollback();
}

/// A dataset with a table `runs` of `n` rows, committed.
fn with_runs(name: &str, n: i64) -> (Postgres, String) {
    let (mut db, ds) = fresh(name);
    let t = table(
        "runs",
        &[
            ("id", DataType::Text),
            ("n", DataType::Bigint),
            ("x", DataType::Double),
            ("ok", DataType::Bool),
            ("at", DataType::Timestamp),
        ],
    );
    let rows = (0..n)
        .map(|i| {
            vec![
                Cell::Text(format!("r{i}")),
                Cell::Bigint(i),
                Cell::Double(i as f64 / 2.0),
                Cell::Bool(i % 2 == 0),
                Cell::Timestamp(1_767_225_600_000_000 + i * 1_500_000),
            ]
        })
        .collect();
    db.begin().expect("begin");
    db.sync_table(&ds, &t).expect("create");
    db.append(&ds, &t, vec![Rows::of_cells(&t, rows)])
        .expect("append");
    db.commit(
        &ds,
        "p",
        &record("1.0", "h"),
        &PipelineState::default(),
        &Schema::default(),
    )
    .expect("commit");
    (db, ds)
}

const LIMITS: QueryLimits = QueryLimits {
    max_rows: 100,
    max_bytes: 1 << 20,
    timeout: Duration::from_secs(10),
};

#[test]
fn a_query_resolves_unqualified_names_in_the_dataset_and_types_its_values() {
    let (mut db, ds) = with_runs("query", 3);
    let r = db
        .query(&ds, "select id, n, x, ok, at from runs order by n", &LIMITS)
        .expect("query");
    assert_eq!(r.columns, ["id", "n", "x", "ok", "at"]);
    assert_eq!(
        r.rows[1],
        [
            serde_json::json!("r1"),
            serde_json::json!(1),
            serde_json::json!(0.5),
            serde_json::json!(false),
            serde_json::json!("2026-01-01T00:00:01.500Z"),
        ]
    );
    assert_eq!(r.truncated, None);

    let r = db
        .query(
            &ds,
            "select 2.50::numeric as a, 12345678901234567890.5::numeric as b, null::text as c, \
             date '2026-02-03' as d, '{\"k\": [1]}'::jsonb as j, interval '1 day' as i, \
             array[1, 2] as arr, 'NaN'::float8 as nan, 7::smallint as s, \
             timestamp '2026-01-01 10:00:00' as ts;",
            &LIMITS,
        )
        .expect("query");
    assert_eq!(
        r.rows[0],
        [
            serde_json::json!(2.5),
            serde_json::json!("12345678901234567890.5"),
            serde_json::Value::Null,
            serde_json::json!("2026-02-03"),
            serde_json::json!({"k": [1]}),
            serde_json::json!("1 day"),
            serde_json::json!("{1,2}"),
            serde_json::Value::Null,
            serde_json::json!(7),
            serde_json::json!("2026-01-01T10:00:00Z"),
        ]
    );

    for sql in [
        "(select n from runs where n = 0) union all (select n from runs where n = 2);",
        "-- first\nwith r as (select n from runs) select n from r where n in (0, 2) order by n; -- done",
    ] {
        let r = db.query(&ds, sql, &LIMITS).expect(sql);
        assert_eq!(
            r.rows,
            [[serde_json::json!(0)], [serde_json::json!(2)]],
            "{sql}"
        );
    }

    let r = db
        .query(&ds, "select id from runs where false", &LIMITS)
        .expect("an empty result");
    assert_eq!(
        (r.columns.as_slice(), r.rows.len()),
        (&["id".to_owned()][..], 0)
    );

    let e = db
        .query(&ds, "select * from no_such_table", &LIMITS)
        .expect_err("no table");
    assert!(
        matches!(&e, QueryError::Failed(m) if m.contains("no_such_table")),
        "{e}"
    );
    // The connection is usable after a failed query.
    assert_eq!(
        db.query(&ds, "select 1 as one", &LIMITS)
            .expect("query")
            .rows
            .len(),
        1
    );
}

#[test]
fn a_query_is_cut_at_the_row_cap_across_batches() {
    let (mut db, ds) = with_runs("query_cap", 700);
    let limits = QueryLimits {
        max_rows: 600,
        ..LIMITS
    };
    let r = db
        .query(&ds, "select n from runs order by n", &limits)
        .expect("query");
    assert_eq!(r.rows.len(), 600);
    assert_eq!(r.rows[599], [serde_json::json!(599)]);
    assert!(
        r.truncated
            .as_deref()
            .is_some_and(|t| t.contains("600 rows")),
        "{r:?}"
    );
    let all = QueryLimits {
        max_rows: 700,
        ..LIMITS
    };
    let r = db.query(&ds, "select n from runs", &all).expect("query");
    assert_eq!((r.rows.len(), r.truncated), (700, None));
}

#[test]
fn a_query_that_writes_is_refused_and_the_transaction_is_read_only() {
    let (mut db, ds) = with_runs("query_refused", 2);
    for sql in [
        "DELETE FROM runs",
        "WITH d AS (DELETE FROM runs RETURNING *) SELECT * FROM d",
        "select 1; delete from runs",
    ] {
        let e = db.query(&ds, sql, &LIMITS).expect_err(sql);
        assert!(matches!(e, QueryError::Refused(_)), "{sql}: {e}");
    }
    // Past the guard, the engine refuses too: a second statement (as if the guard had missed
    // it) cannot follow the query, not even one that ends the read-only transaction...
    db.client
        .batch_execute(&format!(
            "BEGIN READ ONLY; SET LOCAL search_path = {}",
            quote(&ds)
        ))
        .expect("begin");
    let e = db
        .collect(
            "select 1; commit; delete from runs",
            &[],
            &LIMITS,
            std::time::Instant::now(),
        )
        .expect_err("one statement");
    assert!(
        matches!(&e, QueryError::Failed(m) if m.contains("multiple commands")),
        "{e}"
    );
    db.client.batch_execute("ROLLBACK").expect("rollback");
    // ... and a function that writes fails in the read-only transaction.
    db.exec(&format!(
        "CREATE OR REPLACE FUNCTION {d}.writes() RETURNS bigint LANGUAGE sql \
         AS 'DELETE FROM {d}.runs RETURNING 1::bigint'",
        d = quote(&ds)
    ))
    .expect("create");
    let e = db
        .query(&ds, "select writes()", &LIMITS)
        .expect_err("read-only");
    assert!(
        matches!(&e, QueryError::Failed(m) if m.contains("read-only")),
        "{e}"
    );
    assert_eq!(
        count(
            &mut db,
            &format!("SELECT count(*) FROM {}.runs", quote(&ds))
        ),
        2
    );
}

#[test]
fn a_query_times_out() {
    let (mut db, ds) = fresh("query_timeout");
    db.exec(&format!("CREATE SCHEMA {}", quote(&ds)))
        .expect("create");
    let limits = QueryLimits {
        timeout: Duration::from_millis(100),
        ..LIMITS
    };
    let started = std::time::Instant::now();
    let e = db
        .query(&ds, "select pg_sleep(5)", &limits)
        .expect_err("too long");
    assert!(matches!(e, QueryError::TimedOut(_)), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        db.query(&ds, "select 1 as one", &LIMITS)
            .expect("query")
            .rows
            .len(),
        1
    );
}

#[test]
fn the_password_never_shows() {
    let url = server_url();
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, p)| p.to_owned())
        .expect("the test server's URL has a password");
    let db = connect();
    assert!(!db.describe().contains(&password), "{}", db.describe());
    assert!(
        db.describe().starts_with("postgres://"),
        "{}",
        db.describe()
    );
    assert!(!format!("{db:?}").contains(&password));

    let wrong = url.replacen(&format!(":{password}@"), ":Wrong-Pass-42@", 1);
    let e = Postgres::connect(&wrong)
        .expect_err("a wrong password")
        .to_string();
    eprintln!("a wrong password: {e}");
    assert!(!e.contains("Wrong-Pass-42"), "{e}");
    assert!(e.contains("password"), "{e}");
    assert!(e.contains("check the user name and the password"), "{e}");

    // A server that is not there: nothing listens on port 1 of the loopback.
    let gone = url.replacen(
        &url[url.find('@').expect("@")..url.rfind('/').expect("/")],
        "@127.0.0.1:1",
        1,
    );
    let e = Postgres::connect(&gone).expect_err("no server").to_string();
    assert!(!e.contains(&password), "{e}");
    eprintln!("no server: {e}");
    assert!(e.contains("check that the server runs"), "{e}");
}

/// The test server's CA certificate (it speaks TLS with a certificate for `localhost`).
fn ca() -> String {
    std::env::var("BDI_TEST_POSTGRES_CA").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_POSTGRES_CA is not set: run the tests with \
             `cargo xtask with-postgres -- cargo nextest run --workspace -E 'package(bdi-load)'`"
        )
    })
}

/// Whether the connection at `url` is encrypted, or why it failed.
fn tls_of(url: &str) -> Result<bool, String> {
    let mut db = Postgres::connect(url).map_err(|e| e.to_string())?;
    let r = db
        .query(
            "public",
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            &LIMITS,
        )
        .map_err(|e| e.to_string())?;
    Ok(r.rows[0][0] == serde_json::json!(true))
}

#[test]
fn each_sslmode_encrypts_and_checks_the_certificate_as_libpq_does() {
    let url = server_url();
    let ca = ca();
    let mode = |m: &str| url.replace("sslmode=disable", m);
    assert_eq!(tls_of(&url), Ok(false), "disable");
    assert_eq!(tls_of(&mode("sslmode=prefer")), Ok(true), "prefer");
    assert_eq!(
        tls_of(&mode("sslmode=require")),
        Ok(true),
        "require: any certificate"
    );
    // The CA's certificate, and a server known by the name on its certificate.
    let rootcert = format!("sslrootcert={ca}");
    assert_eq!(
        tls_of(&mode(&format!("sslmode=verify-ca&{rootcert}"))),
        Ok(true)
    );
    let by_name = mode(&format!(
        "sslmode=verify-full&{rootcert}&hostaddr=127.0.0.1"
    ))
    .replacen("@127.0.0.1:", "@localhost:", 1);
    assert_eq!(tls_of(&by_name), Ok(true), "verify-full, by name");
    // The certificate names localhost, not 127.0.0.1.
    let e = tls_of(&mode(&format!("sslmode=verify-full&{rootcert}"))).expect_err("name");
    eprintln!("verify-full for another name: {e}");
    assert!(e.contains("certificate"), "{e}");
    // The system's roots do not know the test CA.
    let e = tls_of(&mode("sslmode=verify-ca")).expect_err("unknown issuer");
    eprintln!("verify-ca with the system's roots: {e}");
    assert!(e.contains("certificate"), "{e}");
}

#[test]
fn a_call_to_a_side_effect_function_is_found_in_a_plan_and_text_is_not_a_call() {
    for (plan, found) in [
        (
            "Result\n  Output: pg_terminate_backend(1)",
            Some("pg_terminate_backend"),
        ),
        (
            "Function Scan on pg_catalog.pg_ls_dir d\n  Function Call: pg_ls_dir('/'::text)",
            Some("pg_ls_dir"),
        ),
        (
            "Output: pg_catalog.pg_advisory_lock('1'::bigint)",
            Some("pg_advisory_lock"),
        ),
        (
            "Output: \"lo_import\"('/etc/passwd'::text)",
            Some("lo_import"),
        ),
        (
            "Output: 'a\nb'::text, pg_cancel_backend(1)",
            Some("pg_cancel_backend"),
        ),
        ("Output: 'pg_terminate_backend(1)'::text", None),
        ("Output: runs.lo_value, upper(runs.status)", None),
        ("Seq Scan on public.runs\n  Output: count(*)", None),
    ] {
        assert_eq!(
            super::side_effect_call(plan).unwrap().as_deref(),
            found,
            "{plan}"
        );
    }
    // A plan that cannot be read is not taken as harmless.
    assert!(super::side_effect_call("Output: 'unterminated").is_err());
}

/// A reader's session is read-only from the moment it connects, not only inside a query: even
/// a statement sent on it outside `query` cannot write. (`Reader` is opaque outside the crate:
/// it offers no write at all.)
#[test]
fn a_reader_is_read_only_from_the_moment_it_connects() {
    let mut reader = crate::location::Location::Postgres(server_url())
        .open_read_only()
        .unwrap();
    #[allow(irrefutable_let_patterns, reason = "one variant per engine built in")]
    let crate::location::Engine::Postgres(pg) = &mut reader.0 else {
        panic!("a PostgreSQL reader")
    };
    let e = pg
        .drop_dataset("reader_cannot_drop")
        .expect_err("a read-only session");
    assert!(e.to_string().contains("read-only transaction"), "{e}");
}

#[test]
fn the_types_are_dlts_postgres_types() {
    let db = connect();
    assert_eq!(
        DataType::ALL.map(|t| Driver::sql_type(&db, t)),
        [
            "text",
            "bigint",
            "double precision",
            "boolean",
            "timestamp with time zone"
        ]
    );
}
