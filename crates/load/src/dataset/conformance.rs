//! One conformance suite for every engine: the same test bodies run on DuckDB (a file in a
//! temporary directory) and on PostgreSQL (a dataset of the test's own on the server
//! `BDI_TEST_POSTGRES_URL` names). Each body gets a way to open the database, again and again (a
//! round trip goes through a new connection), and the dataset to work in; what it checks it
//! reads through the core, so that no engine's test can differ from another's.

use super::*;
use crate::normalize::{Batch, Normalizer};
use crate::state::ResourceState;

/// Opens the test's database (a new connection each time).
type Open<'a, D> = &'a dyn Fn() -> D;

fn table(name: &str, columns: &[(&str, DataType)]) -> Table {
    let mut t = Table::new(name, None, WriteDisposition::Append);
    for (c, ty) in columns {
        t.column(c, *ty, true);
    }
    t
}

fn record(load_id: &str, hash: &str) -> LoadRecord {
    LoadRecord {
        load_id: load_id.into(),
        schema_name: "s".into(),
        schema_version_hash: hash.into(),
    }
}

/// The first value of `sql` (where `DS` stands for the dataset) as an integer.
fn count(db: &mut impl Driver, ds: &str, sql: &str) -> i64 {
    let sql = sql.replace("DS", &quote(ds));
    let rows = Driver::rows(db, &sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    bigint(rows.first().and_then(|r| r.first()))
}

/// The tables of `schema`, whatever they are.
fn tables_in(db: &mut impl Driver, schema: &str) -> i64 {
    let rows = Driver::rows(
        db,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
        &[schema],
    )
    .expect("tables");
    bigint(rows.first().and_then(|r| r.first()))
}

fn tables_are_created_widened_and_typed_like_dlt<D: Driver>(open: Open<'_, D>, ds: &str) {
    let mut db = open();
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
    db.sync_table(ds, &t).expect("create");
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
    db.append(ds, &t, vec![rows]).expect("append");
    t.column("later", DataType::Text, true);
    t.column("more", DataType::Bigint, true);
    db.sync_table(ds, &t).expect("widen");
    db.sync_table(ds, &t)
        .expect("a second sync changes nothing");
    let short = Rows::of_cells(&t, vec![vec![Cell::Text("b".into())]]);
    db.append(ds, &t, vec![short, Rows::default()])
        .expect("a short row is padded, an empty run skipped");
    db.commit(
        ds,
        "p",
        &record("1.0", "h"),
        &PipelineState::default(),
        &Schema::default(),
    )
    .expect("commit");

    let found = catalog(&mut db, ds).expect("catalog");
    let typed: Vec<(&str, DataType)> = found.tables["events"]
        .columns
        .iter()
        .map(|(n, c)| (n.as_str(), c.data_type))
        .collect();
    let wanted: Vec<(&str, DataType)> = t
        .columns
        .iter()
        .map(|(n, c)| (n.as_str(), c.data_type))
        .collect();
    assert_eq!(typed, wanted, "dlt's types, read back");
    let named = Driver::rows(
        &mut db,
        "SELECT CAST(data_type AS TEXT) FROM information_schema.columns \
         WHERE table_schema = $1 AND table_name = 'events' ORDER BY ordinal_position",
        &[ds],
    )
    .expect("types");
    let named: Vec<String> = named
        .iter()
        .map(|r| text(r.first()).to_lowercase())
        .collect();
    let made: Vec<String> = t
        .columns
        .values()
        .map(|c| db.sql_type(c.data_type).to_lowercase())
        .collect();
    assert_eq!(named, made, "the engine has the types the driver names");
    assert_eq!(count(&mut db, ds, "SELECT count(*) FROM DS.events"), 2);
    assert_eq!(
        count(
            &mut db,
            ds,
            "SELECT count(*) FROM DS.events WHERE id = 'a' AND n = 1 AND x = 0.5 AND ok \
             AND \"at\" = CAST('1970-01-01T00:00:01Z' AS TIMESTAMP WITH TIME ZONE) AND later IS NULL"
        ),
        1
    );
    assert_eq!(
        count(
            &mut db,
            ds,
            "SELECT count(*) FROM DS.events WHERE id = 'b' AND n IS NULL AND \"at\" IS NULL"
        ),
        1
    );
    assert_eq!(
        count(
            &mut db,
            ds,
            "SELECT count(*) FROM DS._dlt_loads WHERE status = 0"
        ),
        1
    );
    let loads: Vec<String> = columns_of(&mut db, ds, LOADS_TABLE).expect("columns");
    assert_eq!(
        loads,
        [
            "load_id",
            "schema_name",
            "status",
            "inserted_at",
            "schema_version_hash"
        ],
        "_dlt_loads in dlt's shape"
    );
}

fn a_rollback_leaves_nothing_behind<D: Driver>(open: Open<'_, D>, ds: &str) {
    let mut db = open();
    db.begin().expect("begin");
    let t = table("t", &[("id", DataType::Text)]);
    db.sync_table(ds, &t).expect("create");
    let rows = Rows::of_cells(&t, vec![vec![Cell::Text("a".into())]]);
    db.append(ds, &t, vec![rows]).expect("append");
    db.rollback();
    assert_eq!(tables_in(&mut db, ds), 0);
    assert!(!dataset_exists(&mut db, ds).expect("schemata"));
}

fn merge_deletes_the_replaced_rows_and_their_children<D: Driver>(open: Open<'_, D>, ds: &str) {
    let mut db = open();
    let mut schema = Schema::default();
    Normalizer::declare_root(&mut schema, "states", WriteDisposition::Merge, &["id"]);
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items = [
        serde_json::json!({"id": "s1", "values": [1, 2]}),
        serde_json::json!({"id": "s2", "values": [3]}),
        serde_json::json!({"id": "s3", "values": [4, 5, 6]}),
    ];
    n.normalize(&mut schema, "states", &items, &mut batch);
    db.begin().expect("begin");
    for (name, rows) in batch.tables {
        db.sync_table(ds, &schema.tables[&name]).expect("sync");
        db.append(ds, &schema.tables[&name], vec![rows])
            .expect("append");
    }
    let root = schema.tables["states"].clone();
    db.delete_keys(
        ds,
        &root,
        &[
            vec![Cell::Text("s1".into())],
            vec![Cell::Text("s3".into())],
            vec![Cell::Text("absent".into())],
        ],
        &["states__values", "no_such_child"],
    )
    .expect("delete");
    assert_eq!(count(&mut db, ds, "SELECT count(*) FROM DS.states"), 1);
    assert_eq!(
        count(&mut db, ds, "SELECT count(*) FROM DS.states__values"),
        1
    );
    assert_eq!(
        count(
            &mut db,
            ds,
            "SELECT count(*) FROM DS.states__values v JOIN DS.states s \
             ON v._dlt_root_id = s._dlt_id WHERE s.id = 's2'"
        ),
        1,
        "the child row left is s2's"
    );
    db.commit(
        ds,
        "p",
        &record("1.0", "h"),
        &PipelineState::default(),
        &schema,
    )
    .expect("commit");
    for side in db.schemas_of(ds).iter().filter(|s| *s != ds) {
        assert_eq!(tables_in(&mut db, side), 0, "nothing is left in {side}");
    }

    // A merge with no key, or into a table that does not exist yet, deletes nothing.
    db.begin().expect("begin");
    db.delete_keys(ds, &root, &[], &[]).expect("no keys");
    let mut absent = root.clone();
    absent.name = "absent".into();
    db.delete_keys(ds, &absent, &[vec![Cell::Text("s2".into())]], &[])
        .expect("no table");
    db.rollback();
    assert_eq!(count(&mut db, ds, "SELECT count(*) FROM DS.states"), 1);
}

fn a_merge_on_a_compound_integer_key_matches_every_column<D: Driver>(open: Open<'_, D>, ds: &str) {
    let mut db = open();
    let mut t = table(
        "t",
        &[
            ("a", DataType::Bigint),
            ("b", DataType::Text),
            ("v", DataType::Text),
        ],
    );
    t.primary_key = vec!["a".into(), "b".into()];
    let cells = |a: i64, b: &str| {
        vec![
            Cell::Bigint(a),
            Cell::Text(b.into()),
            Cell::Text("v".into()),
        ]
    };
    db.begin().expect("begin");
    db.sync_table(ds, &t).expect("create");
    let rows = Rows::of_cells(&t, vec![cells(1, "x"), cells(1, "y"), cells(2, "x")]);
    db.append(ds, &t, vec![rows]).expect("append");
    db.delete_keys(
        ds,
        &t,
        &[vec![Cell::Bigint(1), Cell::Text("x".into())]],
        &[],
    )
    .expect("delete");
    let left = Driver::rows(
        &mut db,
        &format!("SELECT a, b FROM {}.t ORDER BY a, b", quote(ds)),
        &[],
    )
    .expect("rows");
    assert_eq!(
        left,
        [
            vec![Cell::Bigint(1), Cell::Text("y".into())],
            vec![Cell::Bigint(2), Cell::Text("x".into())]
        ]
    );
    db.rollback();
}

fn the_state_and_the_schema_round_trip_through_the_destination<D: Driver>(
    open: Open<'_, D>,
    ds: &str,
) {
    let mut db = open();
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
    let mut schema = Schema::default();
    schema.tables.insert("t".into(), t.clone());
    let hash = schema.version_hash();
    for load_id in ["1.0", "2.0"] {
        db.begin().expect("begin");
        db.sync_table(ds, &t).expect("create");
        db.commit(ds, "pipe", &record(load_id, &hash), &state, &schema)
            .expect("commit");
    }
    drop(db);

    let mut db = open();
    let stored = db.stored(ds, "pipe").expect("stored");
    assert_eq!(stored.state, state);
    assert_eq!(stored.schema.tables["t"].columns, t.columns);
    assert_eq!(
        stored.schema.tables.len(),
        1,
        "the system tables are not data tables"
    );
    assert!(
        db.stored(ds, "other")
            .expect("stored")
            .state
            .resources
            .is_empty()
    );
    assert!(
        db.stored("t_no_such_dataset", "pipe")
            .expect("stored")
            .schema
            .tables
            .is_empty()
    );
    assert_eq!(
        count(&mut db, ds, "SELECT count(*) FROM DS._bdi_schema"),
        1,
        "a schema is recorded once per version"
    );
    assert_eq!(count(&mut db, ds, "SELECT count(*) FROM DS._bdi_state"), 2);

    let info = info(&mut db, ds, "pipe").expect("info");
    assert_eq!(info.state, state);
    assert_eq!(
        info.tables,
        [TableInfo {
            name: "t".into(),
            parent: None,
            rows: 0,
            columns: 2
        }]
    );
    assert_eq!(info.loads.len(), 2);
    assert!(info.loads[0].inserted_at.ends_with('Z'), "{:?}", info.loads);
    assert!(
        info.loads[0].inserted_at.starts_with("20"),
        "{:?}",
        info.loads
    );

    // A full refresh drops the dataset (and what the engine keeps beside it) inside the
    // transaction.
    db.begin().expect("begin");
    db.drop_dataset(ds).expect("drop");
    db.rollback();
    assert_eq!(db.stored(ds, "pipe").expect("stored").state, state);
    db.begin().expect("begin");
    db.drop_dataset(ds).expect("drop");
    db.commit(
        ds,
        "pipe",
        &record("3.0", &hash),
        &PipelineState::default(),
        &schema,
    )
    .expect("commit");
    assert!(
        db.stored(ds, "pipe")
            .expect("stored")
            .schema
            .tables
            .is_empty()
    );
}

fn the_table_tree_is_read_back_from_the_recorded_schema<D: Driver>(open: Open<'_, D>, ds: &str) {
    let mut db = open();
    let mut schema = Schema::default();
    Normalizer::declare_root(&mut schema, "runs", WriteDisposition::Merge, &["id"]);
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items = [serde_json::json!({"id": "r1", "steps": [{"name": "a", "logs": ["x"]}]})];
    n.normalize(&mut schema, "runs", &items, &mut batch);
    db.begin().expect("begin");
    for (name, rows) in batch.tables {
        db.sync_table(ds, &schema.tables[&name]).expect("sync");
        db.append(ds, &schema.tables[&name], vec![rows])
            .expect("append");
    }
    // A table someone else made, whose name looks like a child's.
    let text = db.sql_type(DataType::Text);
    Driver::execute(
        &mut db,
        &format!("CREATE TABLE {}.runs__notes (x {text})", quote(ds)),
    )
    .expect("create");
    db.commit(
        ds,
        "pipe",
        &record("1.0", &schema.version_hash()),
        &PipelineState::default(),
        &schema,
    )
    .expect("commit");
    drop(db);

    let mut db = open();
    let stored = db.stored(ds, "pipe").expect("stored").schema;
    let runs = &stored.tables["runs"];
    assert_eq!(runs.parent, None);
    assert_eq!(runs.write_disposition, WriteDisposition::Merge);
    assert_eq!(runs.primary_key, ["id"]);
    let steps = &stored.tables["runs__steps"];
    assert_eq!(steps.parent.as_deref(), Some("runs"));
    assert_eq!(steps.write_disposition, WriteDisposition::Merge);
    assert_eq!(
        stored.tables["runs__steps__logs"].parent.as_deref(),
        Some("runs__steps")
    );
    let notes = &stored.tables["runs__notes"];
    assert_eq!(notes.parent, None, "a table no load recorded is a root");
    assert_eq!(notes.write_disposition, WriteDisposition::Append);
    assert_eq!(
        stored.descendants("runs"),
        ["runs__steps", "runs__steps__logs"],
        "the tree, not the names"
    );
    assert_eq!(
        tables(&mut db, ds).expect("tables"),
        ["runs", "runs__notes", "runs__steps", "runs__steps__logs"],
        "the data tables, without the loader's own"
    );
}

/// Instantiates each body on every engine.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod duckdb {
            use crate::destination::duckdb::DuckDb;
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().expect("dir");
                    let path = dir.path().join("conformance.duckdb");
                    super::$name(&|| DuckDb::open(&path).expect("open"), "ds");
                }
            )*
        }
        mod postgres {
            use crate::destination::postgres::Postgres;
            $(
                #[test]
                fn $name() {
                    let url = crate::destination::postgres::tests::server_url();
                    let ds = format!("c_{}", stringify!($name));
                    let ds = &ds[..ds.len().min(50)];
                    let open = || Postgres::connect(&url).expect("connect");
                    let mut db = open();
                    for schema in super::Driver::schemas_of(&db, ds) {
                        super::Driver::execute(
                            &mut db,
                            &format!("DROP SCHEMA IF EXISTS {} CASCADE", super::quote(&schema)),
                        )
                        .expect("drop");
                    }
                    drop(db);
                    super::$name(&open, ds);
                }
            )*
        }
    };
}

conformance!(
    tables_are_created_widened_and_typed_like_dlt,
    a_rollback_leaves_nothing_behind,
    merge_deletes_the_replaced_rows_and_their_children,
    a_merge_on_a_compound_integer_key_matches_every_column,
    the_state_and_the_schema_round_trip_through_the_destination,
    the_table_tree_is_read_back_from_the_recorded_schema,
);
