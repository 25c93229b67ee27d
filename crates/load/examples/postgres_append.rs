//! Measures the PostgreSQL destination's `append`: 50,000 rows of a 10-column table (text,
//! integers, floats, booleans, instants, some nulls) in runs of 4,096 rows as the pipeline hands
//! them over, in one transaction, against the server at `BDI_TEST_POSTGRES_URL`; and, for
//! comparison, the same rows through `postgres::binary_copy::BinaryCopyInWriter`.
//!
//! Run with `cargo xtask with-postgres -- cargo run --release --example postgres_append`
//! (or without `--release`, for a debug build's figure).

#![allow(clippy::print_stdout, reason = "the measurement's report")]

use std::time::{Duration, Instant, UNIX_EPOCH};

use bdi_load::WriteDisposition;
use bdi_load::destination::postgres::Postgres;
use bdi_load::destination::{Destination, LoadRecord};
use bdi_load::rows::Rows;
use bdi_load::schema::{Cell, DataType, Schema, Table};
use bdi_load::state::PipelineState;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};

const ROWS: usize = 50_000;
const RUN: usize = 4_096;
const TRIES: usize = 3;

fn table() -> Table {
    let mut t = Table::new("events", None, WriteDisposition::Append);
    for (name, ty) in [
        ("id", DataType::Text),
        ("n", DataType::Bigint),
        ("x", DataType::Double),
        ("ok", DataType::Bool),
        ("at", DataType::Timestamp),
        ("name", DataType::Text),
        ("kind", DataType::Text),
        ("size", DataType::Bigint),
        ("score", DataType::Double),
        ("note", DataType::Text),
    ] {
        t.column(name, ty, true);
    }
    t
}

fn cells(i: usize) -> Vec<Cell> {
    let n = i as i64;
    vec![
        Cell::Text(format!("e{i:07}")),
        Cell::Bigint(n),
        Cell::Double(n as f64 / 3.0),
        Cell::Bool(i.is_multiple_of(2)),
        Cell::Timestamp(1_767_225_600_000_000 + n * 500_000),
        Cell::Text(format!("user {} of the tenant", i % 97)),
        Cell::Text(
            if i.is_multiple_of(3) {
                "flow_run"
            } else {
                "user_login"
            }
            .into(),
        ),
        Cell::Bigint(n * 1_024),
        if i.is_multiple_of(5) {
            Cell::Null
        } else {
            Cell::Double(0.5)
        },
        if i.is_multiple_of(2) {
            Cell::Null
        } else {
            Cell::Text("a longer note that some rows carry, about sixty bytes long".into())
        },
    ]
}

fn runs(table: &Table) -> Vec<Rows> {
    (0..ROWS)
        .step_by(RUN)
        .map(|start| Rows::of_cells(table, (start..(start + RUN).min(ROWS)).map(cells).collect()))
        .collect()
}

fn record(id: usize) -> LoadRecord {
    LoadRecord {
        load_id: format!("{id}.0"),
        schema_name: "bench".into(),
        schema_version_hash: "h".into(),
    }
}

/// The destination's `append`, every run in one call per run, in one transaction.
fn through_append(url: &str, table: &Table, try_no: usize) -> Duration {
    let mut db = Postgres::connect(url).expect("connect");
    let dataset = "bench_append";
    db.begin().expect("begin");
    db.drop_dataset(dataset).expect("drop");
    db.sync_table(dataset, table).expect("create");
    let runs = runs(table);
    let started = Instant::now();
    for run in runs {
        db.append(dataset, table, vec![run]).expect("append");
    }
    let elapsed = started.elapsed();
    db.commit(
        dataset,
        "bench",
        &record(try_no),
        &PipelineState::default(),
        &Schema::default(),
    )
    .expect("commit");
    elapsed
}

/// The driver's `BinaryCopyInWriter`, a `ToSql` value per cell, one COPY per run.
fn through_binary_copy_in_writer(url: &str, table: &Table) -> Duration {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    client
        .batch_execute(
            "DROP SCHEMA IF EXISTS bench_writer CASCADE; CREATE SCHEMA bench_writer; \
             CREATE TABLE bench_writer.events (id text, n bigint, x double precision, ok boolean, \
             at timestamptz, name text, kind text, size bigint, score double precision, note text)",
        )
        .expect("create");
    let types = [
        Type::TEXT,
        Type::INT8,
        Type::FLOAT8,
        Type::BOOL,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::FLOAT8,
        Type::TEXT,
    ];
    let runs = runs(table);
    let mut tx = client.transaction().expect("begin");
    let started = Instant::now();
    for run in &runs {
        let sink = tx
            .copy_in("COPY bench_writer.events FROM STDIN (FORMAT binary)")
            .expect("copy");
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for row in 0..run.len() {
            let values: Vec<Box<dyn ToSql + Sync>> = (0..types.len())
                .map(|col| -> Box<dyn ToSql + Sync> {
                    match run.cell(row, col) {
                        Cell::Null => match types[col] {
                            Type::TEXT => Box::new(None::<String>),
                            Type::INT8 => Box::new(None::<i64>),
                            Type::FLOAT8 => Box::new(None::<f64>),
                            Type::BOOL => Box::new(None::<bool>),
                            _ => Box::new(None::<std::time::SystemTime>),
                        },
                        Cell::Text(s) => Box::new(s),
                        Cell::Bigint(i) => Box::new(i),
                        Cell::Double(d) => Box::new(d),
                        Cell::Bool(b) => Box::new(b),
                        Cell::Timestamp(us) => Box::new(
                            UNIX_EPOCH + Duration::from_micros(u64::try_from(us).unwrap_or(0)),
                        ),
                    }
                })
                .collect();
            let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
            writer.write(&refs).expect("write");
        }
        writer.finish().expect("finish");
    }
    let elapsed = started.elapsed();
    tx.commit().expect("commit");
    elapsed
}

fn rate(d: Duration) -> f64 {
    ROWS as f64 / d.as_secs_f64()
}

fn main() {
    let url = std::env::var("BDI_TEST_POSTGRES_URL").expect(
        "BDI_TEST_POSTGRES_URL is not set: run with `cargo xtask with-postgres -- cargo run --release --example postgres_append`",
    );
    let table = table();
    let best = (0..TRIES)
        .map(|i| through_append(&url, &table, i))
        .min()
        .unwrap_or_default();
    let writer = (0..TRIES)
        .map(|_| through_binary_copy_in_writer(&url, &table))
        .min()
        .unwrap_or_default();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "{ROWS} rows x 10 columns, runs of {RUN}, best of {TRIES}, {profile} build:\n\
         Postgres::append (direct binary COPY): {:>8.0} ms, {:>9.0} rows/s\n\
         BinaryCopyInWriter (ToSql per value):  {:>8.0} ms, {:>9.0} rows/s",
        best.as_secs_f64() * 1e3,
        rate(best),
        writer.as_secs_f64() * 1e3,
        rate(writer),
    );
}
