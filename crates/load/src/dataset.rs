//! The dataset, whatever the engine: the loader's system tables, the commit protocol, the stored
//! schema and its table tree, the stored state, clearing and widening tables, and `info`. An
//! engine is a [`Driver`]: it connects, runs SQL with bound text values, appends rows (DuckDB's
//! appender, PostgreSQL's binary `COPY`), deletes a merge's replaced keys its own fastest way, and
//! names its types. Everything else is written once, here, and every [`Driver`] is a
//! [`Destination`] through it.
//!
//! The SQL here is the dialect both engines share: `$1`-numbered parameters, `CAST(x AS TEXT)`,
//! `information_schema`, `now()`. What differs (type names, the epoch of an instant) the driver
//! says.
//!
//! The schema a load leaves is written to `_bdi_schema` and read back: [`stored`] takes the
//! tables, columns and types from the catalog (the truth of what is there, whoever made it), and
//! each table's parent, disposition and primary key from the schema the pipeline's last load
//! recorded. So the table tree (`runs` and its child `runs__steps`) is data, never guessed from
//! names.

use crate::destination::{
    Destination, DestinationError, EngineError, LOADS_TABLE, LoadRecord, SCHEMA_TABLE, STATE_TABLE,
    Stored, quote,
};
use crate::normalize::DLT_ROOT_ID;
use crate::query::{ColumnInfo, DatasetInfo, LoadInfo, TableInfo};
use crate::rows::Rows;
use crate::schema::{Cell, Column, DataType, Schema, Table, WriteDisposition};
use crate::state::PipelineState;

#[cfg(all(test, feature = "duckdb", feature = "postgres"))]
mod conformance;

/// Whether `name` is one of the loader's own tables (`_dlt_*`, `_bdi_*`) rather than data.
pub fn is_system_table(name: &str) -> bool {
    name.starts_with("_dlt_") || name.starts_with("_bdi_")
}

/// An engine: what the dataset core needs of it. Implement it and the engine is a
/// [`Destination`] (and the core reads and writes its datasets as it does every other's).
pub trait Driver: Send {
    /// A short description for messages and summaries (`duckdb:/path/to/file.duckdb`).
    fn location(&self) -> String;

    /// The engine's name of a type.
    fn sql_type(&self, data_type: DataType) -> &'static str;

    /// The type of a column as `information_schema.columns.data_type` names it (unknown types
    /// read as text).
    fn data_type_of(&self, sql: &str) -> DataType;

    /// An expression for the microseconds since the epoch of the instant `column`, as `BIGINT`.
    fn epoch_micros(&self, column: &str) -> String;

    /// The longest name the engine takes, in bytes, if it has a limit.
    fn name_limit(&self) -> Option<usize> {
        None
    }

    /// The schemas a dataset occupies: its own and any the engine keeps beside it (PostgreSQL's
    /// `<dataset>_staging`). A full refresh drops them all.
    fn schemas_of(&self, dataset: &str) -> Vec<String> {
        vec![dataset.to_owned()]
    }

    /// Runs statements (separated by `;`) with no parameters.
    fn execute(&mut self, sql: &str) -> Result<(), EngineError>;

    /// Runs one statement with text values bound to `$1`, `$2`, ...
    fn execute_params(&mut self, sql: &str, params: &[&str]) -> Result<(), EngineError>;

    /// Runs one query with text values bound to `$1`, `$2`, ... and returns its rows, each value
    /// as a cell (text, integers, booleans and nulls are all the core asks for).
    fn rows(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Cell>>, EngineError>;

    /// See [`Destination::lock_pipeline`].
    fn hold_pipeline(&mut self, _dataset: &str, _pipeline: &str) -> Result<(), DestinationError> {
        Ok(())
    }

    /// A load's transaction is about to begin (the core sends `BEGIN`): the settings a load
    /// runs with, say.
    fn on_begin(&mut self) -> Result<(), DestinationError>;

    /// The transaction ended, `committed` or rolled back (the core sent `COMMIT` or
    /// `ROLLBACK`): whatever the load held is released.
    fn on_end(&mut self, committed: bool);

    /// `table` of `dataset` now has `columns`, in order: for a driver that keeps tables'
    /// layouts.
    fn laid_out(&mut self, _dataset: &str, _table: &str, _columns: Vec<String>) {}

    /// `dataset` was dropped (inside the transaction).
    fn dropped(&mut self, _dataset: &str) {}

    /// Appends runs of rows to `table` (created and synced), in one statement.
    fn append_rows(&mut self, dataset: &str, table: &Table, runs: Vec<Rows>) -> Written;

    /// Deletes a merge's replaced rows (see [`Merge`]).
    fn delete_matching(&mut self, merge: &Merge<'_>) -> Written;
}

/// What a driver's write returns.
pub type Written = Result<(), DestinationError>;

/// A merge's delete: the rows of `root` (which exists and has a primary key) whose key is among
/// `keys` (one cell per key column), and the rows of `children` (which exist and have
/// `_dlt_root_id`) that hang from them.
#[derive(Clone, Copy, Debug)]
pub struct Merge<'a> {
    /// The dataset.
    pub dataset: &'a str,
    /// The root table.
    pub root: &'a Table,
    /// The keys whose rows go.
    pub keys: &'a [Vec<Cell>],
    /// The child tables to delete from.
    pub children: &'a [&'a str],
}

/// `rows` of `sql` through `driver`, an error naming `doing`.
fn rows(
    driver: &mut impl Driver,
    doing: &str,
    sql: &str,
    params: &[&str],
) -> Result<Vec<Vec<Cell>>, DestinationError> {
    driver
        .rows(sql, params)
        .map_err(|e| DestinationError::engine(doing, e))
}

fn execute(driver: &mut impl Driver, doing: &str, sql: &str) -> Result<(), DestinationError> {
    driver
        .execute(sql)
        .map_err(|e| DestinationError::engine(doing, e))
}

fn text(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(s)) => s.clone(),
        Some(Cell::Bigint(i)) => i.to_string(),
        _ => String::new(),
    }
}

fn bigint(cell: Option<&Cell>) -> i64 {
    match cell {
        Some(Cell::Bigint(i)) => *i,
        Some(Cell::Text(s)) => s.parse().unwrap_or_default(),
        _ => 0,
    }
}

/// The columns of the tables of `dataset` (or of `table` only), in table and column order, with
/// their types as the engine names them: the loader's own tables too.
pub(crate) fn columns(
    driver: &mut impl Driver,
    dataset: &str,
    table: Option<&str>,
) -> Result<Vec<ColumnInfo>, DestinationError> {
    let only = if table.is_some() {
        " AND table_name = $2"
    } else {
        ""
    };
    let params: Vec<&str> = std::iter::once(dataset).chain(table).collect();
    let found = rows(
        driver,
        "read the catalog",
        &format!(
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(data_type AS TEXT), \
             CAST(is_nullable AS TEXT) FROM information_schema.columns WHERE table_schema = $1{only} \
             ORDER BY table_name, ordinal_position"
        ),
        &params,
    )?;
    Ok(found
        .iter()
        .map(|row| ColumnInfo {
            table: text(row.first()),
            name: text(row.get(1)),
            data_type: text(row.get(2)),
            nullable: text(row.get(3)).eq_ignore_ascii_case("yes"),
        })
        .collect())
}

/// The data tables of `dataset` and their columns, in the catalog's order, typed.
pub(crate) fn catalog(driver: &mut impl Driver, dataset: &str) -> Result<Schema, DestinationError> {
    let mut schema = Schema::default();
    for column in columns(driver, dataset, None)? {
        if is_system_table(&column.table) {
            continue;
        }
        let t = schema
            .tables
            .entry(column.table.clone())
            .or_insert_with(|| Table::new(&column.table, None, WriteDisposition::Append));
        t.columns.insert(
            column.name,
            Column {
                data_type: driver.data_type_of(&column.data_type),
                nullable: column.nullable,
            },
        );
    }
    Ok(schema)
}

/// The columns of `table` in `dataset`, in order (none: no such table).
pub(crate) fn columns_of(
    driver: &mut impl Driver,
    dataset: &str,
    table: &str,
) -> Result<Vec<String>, DestinationError> {
    Ok(rows(
        driver,
        "read the catalog",
        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        &[dataset, table],
    )?
    .iter()
    .map(|r| text(r.first()))
    .collect())
}

/// Whether `dataset` has a table `table`.
pub(crate) fn table_exists(
    driver: &mut impl Driver,
    dataset: &str,
    table: &str,
) -> Result<bool, DestinationError> {
    let found = rows(
        driver,
        "read the catalog",
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
        &[dataset, table],
    )?;
    Ok(bigint(found.first().and_then(|r| r.first())) > 0)
}

/// Whether the schema `dataset` exists.
pub(crate) fn dataset_exists(
    driver: &mut impl Driver,
    dataset: &str,
) -> Result<bool, DestinationError> {
    let found = rows(
        driver,
        "read the catalog",
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
        &[dataset],
    )?;
    Ok(bigint(found.first().and_then(|r| r.first())) > 0)
}

/// The data tables of `dataset`, by name.
pub(crate) fn tables(
    driver: &mut impl Driver,
    dataset: &str,
) -> Result<Vec<String>, DestinationError> {
    let mut names: Vec<String> = rows(
        driver,
        "read the catalog",
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = $1",
        &[dataset],
    )?
    .iter()
    .map(|r| text(r.first()))
    .filter(|n| !is_system_table(n))
    .collect();
    names.sort();
    Ok(names)
}

/// What `dataset` holds of `pipeline`: the tables as the catalog has them, with the tree, the
/// dispositions and the keys of the schema the pipeline's last load recorded; and its state.
pub(crate) fn stored(
    driver: &mut impl Driver,
    dataset: &str,
    pipeline: &str,
) -> Result<Stored, DestinationError> {
    let mut schema = catalog(driver, dataset)?;
    let mut state = PipelineState::default();
    if !table_exists(driver, dataset, STATE_TABLE)? {
        return Ok(Stored { schema, state });
    }
    let d = quote(dataset);
    let with_schema =
        table_exists(driver, dataset, SCHEMA_TABLE)? && table_exists(driver, dataset, LOADS_TABLE)?;
    let recorded = if with_schema {
        format!(
            "(SELECT sc.schema FROM {d}.{schema} sc JOIN {d}.{loads} l \
             ON l.schema_version_hash = sc.version_hash WHERE l.load_id = s.load_id LIMIT 1)",
            schema = quote(SCHEMA_TABLE),
            loads = quote(LOADS_TABLE),
        )
    } else {
        "CAST(NULL AS TEXT)".to_owned()
    };
    let found = rows(
        driver,
        "read the state",
        &format!(
            "SELECT s.state, {recorded} FROM {d}.{state} s WHERE s.pipeline_name = $1 \
             ORDER BY s.inserted_at DESC, s.load_id DESC LIMIT 1",
            state = quote(STATE_TABLE),
        ),
        &[pipeline],
    )?;
    let Some(row) = found.first() else {
        return Ok(Stored { schema, state });
    };
    state = crate::destination::parse_state(&text(row.first()), pipeline)?;
    if let Some(Cell::Text(recorded)) = row.get(1) {
        let recorded: Schema =
            serde_json::from_str(recorded).map_err(|e| DestinationError::UnreadableState {
                pipeline: pipeline.to_owned(),
                detail: format!("its schema in {SCHEMA_TABLE}: {e}"),
            })?;
        tree(&mut schema, &recorded);
    }
    Ok(Stored { schema, state })
}

/// Gives the tables of `found` (the catalog's) the parent, disposition and primary key that
/// `recorded` holds for them; a table the record lacks (made by someone else) stays a root.
fn tree(found: &mut Schema, recorded: &Schema) {
    for (name, table) in &mut found.tables {
        if let Some(r) = recorded.tables.get(name) {
            table.parent.clone_from(&r.parent);
            table.write_disposition = r.write_disposition;
            table.primary_key = r.primary_key.clone();
        }
    }
    // A parent the catalog no longer has leaves its children as roots.
    let names: Vec<String> = found.tables.keys().cloned().collect();
    for table in found.tables.values_mut() {
        if table.parent.as_ref().is_some_and(|p| !names.contains(p)) {
            table.parent = None;
        }
    }
}

/// Creates the system tables of `dataset` if missing.
fn ensure_system_tables(driver: &mut impl Driver, dataset: &str) -> Result<(), DestinationError> {
    let d = quote(dataset);
    let text = driver.sql_type(DataType::Text);
    let bigint = driver.sql_type(DataType::Bigint);
    let instant = driver.sql_type(DataType::Timestamp);
    execute(
        driver,
        "create the system tables",
        &format!(
            "CREATE SCHEMA IF NOT EXISTS {d};\
             CREATE TABLE IF NOT EXISTS {d}.{loads} (load_id {text} NOT NULL, schema_name {text}, status {bigint} NOT NULL, inserted_at {instant} NOT NULL, schema_version_hash {text});\
             CREATE TABLE IF NOT EXISTS {d}.{state} (pipeline_name {text} NOT NULL, state {text} NOT NULL, load_id {text} NOT NULL, inserted_at {instant} NOT NULL);\
             CREATE TABLE IF NOT EXISTS {d}.{schema} (version_hash {text} NOT NULL, schema_name {text}, schema {text} NOT NULL, load_id {text} NOT NULL, inserted_at {instant} NOT NULL);",
            loads = quote(LOADS_TABLE),
            state = quote(STATE_TABLE),
            schema = quote(SCHEMA_TABLE),
        ),
    )
}

/// Refuses a name the engine would cut, rather than let it write under another name.
fn check_name(
    driver: &impl Driver,
    what: &'static str,
    name: &str,
) -> Result<(), DestinationError> {
    match driver.name_limit() {
        Some(max) if name.len() > max => Err(DestinationError::NameTooLong {
            what,
            name: name.to_owned(),
            max,
        }),
        _ => Ok(()),
    }
}

/// Creates `table` in `dataset`, or adds the columns it lacks.
fn sync_table(
    driver: &mut impl Driver,
    dataset: &str,
    table: &Table,
) -> Result<(), DestinationError> {
    check_name(driver, "dataset", dataset)?;
    check_name(driver, "table", &table.name)?;
    for name in table.columns.keys() {
        check_name(driver, "column", name)?;
    }
    let d = quote(dataset);
    let t = quote(&table.name);
    execute(
        driver,
        "create the dataset",
        &format!("CREATE SCHEMA IF NOT EXISTS {d}"),
    )?;
    let mut layout = columns_of(driver, dataset, &table.name)?;
    if layout.is_empty() {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|(name, col)| {
                let null = if col.nullable { "" } else { " NOT NULL" };
                format!("{} {}{null}", quote(name), driver.sql_type(col.data_type))
            })
            .collect();
        execute(
            driver,
            &format!("create table {}", table.name),
            &format!("CREATE TABLE {d}.{t} ({})", columns.join(", ")),
        )?;
        layout = table.columns.keys().cloned().collect();
    } else {
        for (name, col) in &table.columns {
            if !layout.contains(name) {
                execute(
                    driver,
                    &format!("add column {name} to {}", table.name),
                    &format!(
                        "ALTER TABLE {d}.{t} ADD COLUMN {} {}",
                        quote(name),
                        driver.sql_type(col.data_type)
                    ),
                )?;
                layout.push(name.clone());
            }
        }
    }
    driver.laid_out(dataset, &table.name, layout);
    Ok(())
}

/// Records the load, the state and the schema (when this version is new), then commits.
fn commit(
    driver: &mut impl Driver,
    dataset: &str,
    pipeline: &str,
    load: &LoadRecord,
    state: &PipelineState,
    schema: &Schema,
) -> Result<(), DestinationError> {
    ensure_system_tables(driver, dataset)?;
    let d = quote(dataset);
    let insert = |driver: &mut _, doing: &str, table: &str, values: &str, params: &[&str]| {
        Driver::execute_params(
            driver,
            &format!("INSERT INTO {d}.{} VALUES ({values})", quote(table)),
            params,
        )
        .map_err(|e| DestinationError::engine(doing, e))
    };
    insert(
        driver,
        "record the load",
        LOADS_TABLE,
        "$1, $2, 0, now(), $3",
        &[&load.load_id, &load.schema_name, &load.schema_version_hash],
    )?;
    let state_text = serde_json::to_string(state).map_err(|e| DestinationError::Serialize {
        what: "the state",
        detail: e.to_string(),
    })?;
    insert(
        driver,
        "record the state",
        STATE_TABLE,
        "$1, $2, $3, now()",
        &[pipeline, &state_text, &load.load_id],
    )?;
    let known = rows(
        driver,
        "record the schema",
        &format!(
            "SELECT count(*) FROM {d}.{} WHERE version_hash = $1",
            quote(SCHEMA_TABLE)
        ),
        &[&load.schema_version_hash],
    )?;
    if bigint(known.first().and_then(|r| r.first())) == 0 {
        let schema_text =
            serde_json::to_string(schema).map_err(|e| DestinationError::Serialize {
                what: "the schema",
                detail: e.to_string(),
            })?;
        insert(
            driver,
            "record the schema",
            SCHEMA_TABLE,
            "$1, $2, $3, $4, now()",
            &[
                &load.schema_version_hash,
                &load.schema_name,
                &schema_text,
                &load.load_id,
            ],
        )?;
    }
    execute(driver, "commit the load", "COMMIT")?;
    driver.on_end(true);
    Ok(())
}

/// The dataset's tables with their row counts, its ten most recent loads and the pipeline's
/// state.
pub(crate) fn info(
    driver: &mut impl Driver,
    dataset: &str,
    pipeline: &str,
) -> Result<DatasetInfo, DestinationError> {
    let stored = stored(driver, dataset, pipeline)?;
    let mut info = DatasetInfo {
        state: stored.state,
        ..DatasetInfo::default()
    };
    for (name, table) in &stored.schema.tables {
        let counted = rows(
            driver,
            "count rows",
            &format!("SELECT count(*) FROM {}.{}", quote(dataset), quote(name)),
            &[],
        )?;
        info.tables.push(TableInfo {
            name: name.clone(),
            parent: table.parent.clone(),
            rows: bigint(counted.first().and_then(|r| r.first())),
            columns: i64::try_from(table.columns.len()).unwrap_or(i64::MAX),
        });
    }
    if table_exists(driver, dataset, LOADS_TABLE)? {
        let epoch = driver.epoch_micros("inserted_at");
        let loads = rows(
            driver,
            "read loads",
            &format!(
                "SELECT load_id, status, {epoch} FROM {}.{} ORDER BY inserted_at DESC LIMIT 10",
                quote(dataset),
                quote(LOADS_TABLE)
            ),
            &[],
        )?;
        info.loads = loads
            .iter()
            .map(|r| LoadInfo {
                load_id: text(r.first()),
                status: bigint(r.get(1)),
                inserted_at: chrono::DateTime::<chrono::Utc>::from_timestamp_micros(bigint(
                    r.get(2),
                ))
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            })
            .collect();
    }
    Ok(info)
}

/// Every engine is a destination through the core.
impl<D: Driver> Destination for D {
    fn describe(&self) -> String {
        Driver::location(self)
    }

    fn lock_pipeline(&mut self, dataset: &str, pipeline: &str) -> Result<(), DestinationError> {
        Driver::hold_pipeline(self, dataset, pipeline)
    }

    fn max_name_bytes(&self) -> Option<usize> {
        Driver::name_limit(self)
    }

    fn stored(&mut self, dataset: &str, pipeline: &str) -> Result<Stored, DestinationError> {
        stored(self, dataset, pipeline)
    }

    fn begin(&mut self) -> Result<(), DestinationError> {
        self.on_begin()?;
        execute(self, "begin the load", "BEGIN")
    }

    fn drop_dataset(&mut self, dataset: &str) -> Result<(), DestinationError> {
        for schema in self.schemas_of(dataset) {
            execute(
                self,
                "drop the dataset",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", quote(&schema)),
            )?;
        }
        self.dropped(dataset);
        Ok(())
    }

    fn sync_table(&mut self, dataset: &str, table: &Table) -> Result<(), DestinationError> {
        sync_table(self, dataset, table)
    }

    fn clear(&mut self, dataset: &str, tables: &[&str]) -> Result<(), DestinationError> {
        for table in tables {
            if table_exists(self, dataset, table)? {
                execute(
                    self,
                    &format!("clear {table}"),
                    &format!("DELETE FROM {}.{}", quote(dataset), quote(table)),
                )?;
            }
        }
        Ok(())
    }

    fn delete_keys(
        &mut self,
        dataset: &str,
        root: &Table,
        keys: &[Vec<Cell>],
        children: &[&str],
    ) -> Result<(), DestinationError> {
        if keys.is_empty()
            || root.primary_key.is_empty()
            || !table_exists(self, dataset, &root.name)?
        {
            return Ok(());
        }
        let mut hanging = Vec::new();
        for child in children {
            if columns_of(self, dataset, child)?
                .iter()
                .any(|c| c == DLT_ROOT_ID)
            {
                hanging.push(*child);
            }
        }
        Driver::delete_matching(
            self,
            &Merge {
                dataset,
                root,
                keys,
                children: &hanging,
            },
        )
    }

    fn append(
        &mut self,
        dataset: &str,
        table: &Table,
        runs: Vec<Rows>,
    ) -> Result<(), DestinationError> {
        if runs.iter().all(Rows::is_empty) {
            return Ok(());
        }
        Driver::append_rows(self, dataset, table, runs)
    }

    fn commit(
        &mut self,
        dataset: &str,
        pipeline: &str,
        load: &LoadRecord,
        state: &PipelineState,
        schema: &Schema,
    ) -> Result<(), DestinationError> {
        commit(self, dataset, pipeline, load, state, schema)
    }

    fn rollback(&mut self) {
        // Outside a transaction, the engine's complaint is beside the point.
        let _ = Driver::execute(self, "ROLLBACK");
        self.on_end(false);
    }
}
