//! The DuckDB destination: a dataset is a DuckDB schema in one database file, rows go in through
//! DuckDB's appender, and a load is one DuckDB transaction (DuckDB writes a transaction to its
//! write-ahead log only when it commits, so a load that dies leaves no trace).
//!
//! Types are dlt's DuckDB types: `VARCHAR`, `BIGINT`, `DOUBLE`, `BOOLEAN` and
//! `TIMESTAMP WITH TIME ZONE`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use duckdb::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    new_null_array,
};
use duckdb::arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use duckdb::arrow::compute::cast;
use duckdb::arrow::datatypes::{
    DataType as ArrowType, Field, Schema as ArrowSchema, TimeUnit as ArrowTimeUnit,
};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::types::{TimeUnit, ToSqlOutput, ValueRef};
use duckdb::{Connection, ToSql};

use super::literal;
pub use super::quote;
use super::{DestinationError, EngineError, Holder};
use crate::dataset::{Driver, Merge, Written};
use crate::query::{Collector, DatasetInfo, QueryError, QueryLimits, QueryResult, check_read_only};
use crate::rows::{Column, Rows, Values};
use crate::schema::{Cell, DataType, Table};

/// A DuckDB database file (or an in-memory database, for tests).
pub struct DuckDb {
    path: Option<PathBuf>,
    conn: Connection,
    in_transaction: bool,
    /// The columns of each table, in the table's order, as this connection last saw or made
    /// them (keyed by dataset and table); an append whose columns match them needs no column
    /// list, which spares DuckDB an `INSERT ... SELECT` per call.
    layouts: HashMap<(String, String), Vec<String>>,
    /// Bytes appended to each table in the load's transaction, and the memory limit set for it
    /// (see [`LOAD_MEMORY`]).
    appended: HashMap<(String, String), u64>,
    memory_limit: u64,
}

impl std::fmt::Debug for DuckDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuckDb")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The name a destination file is attached under.
const CATALOG: &str = "bdi_load";

/// Rows per row group in what a load writes. DuckDB writes a transaction's full row groups to
/// the file as they fill (compressed) and keeps only the last one in memory, so smaller row
/// groups bound a load's memory and move the compression out of the commit; DuckDB's default
/// (122,880) would hold a 100,000-row load in memory, uncompressed, until it commits.
const LOAD_ROW_GROUP_ROWS: usize = 16_384;

/// DuckDB's settings while a load runs: one thread (the loader's own stages use the cores:
/// DuckDB's workers only compete with them) and a memory limit (the row groups already written
/// leave memory; anything larger spills to `<file>.tmp`). Reset after the load.
const LOAD_SETTINGS: &str = "SET threads = 1; SET memory_limit = '32MB';";

/// The memory limit of [`LOAD_SETTINGS`]. A load of large values needs more (its commit pins the
/// open row group's blocks: 30 values of 1 MB failed under 32 MB), so the limit grows with the
/// data: 32 MB and twice the bytes appended to the largest table in the transaction, whichever
/// is more. A limit, not an allocation: ordinary loads stay near their row groups' size.
const LOAD_MEMORY: u64 = 32 * 1024 * 1024;
const RESET_SETTINGS: &str = "RESET threads; RESET memory_limit;";

fn engine_err(e: duckdb::Error) -> EngineError {
    EngineError::new(e.to_string(), e)
}

fn write_err(what: &str, e: duckdb::Error) -> DestinationError {
    DestinationError::engine(what, engine_err(e))
}

impl ToSql for Cell {
    fn to_sql(&self) -> duckdb::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Cell::Null => ValueRef::Null,
            Cell::Text(s) => ValueRef::Text(s.as_bytes()),
            Cell::Bigint(i) => ValueRef::BigInt(*i),
            Cell::Double(d) => ValueRef::Double(*d),
            Cell::Bool(b) => ValueRef::Boolean(*b),
            Cell::Timestamp(us) => ValueRef::Timestamp(TimeUnit::Microsecond, *us),
        }))
    }
}

/// Rows as an Arrow record batch with a column per column of `table` (those the rows lack are
/// null), each typed as the table's: the buffers move over, nothing is copied value by value.
fn record_batch(table: &Table, rows: Rows) -> Result<RecordBatch, ArrowError> {
    let len = rows.len();
    let mut columns = rows.columns.into_iter();
    let mut fields = Vec::with_capacity(table.columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(table.columns.len());
    for (name, column) in &table.columns {
        let utc = || Some(Arc::<str>::from("UTC"));
        let arrow_type = match column.data_type {
            DataType::Text => ArrowType::Utf8,
            DataType::Bigint => ArrowType::Int64,
            DataType::Double => ArrowType::Float64,
            DataType::Bool => ArrowType::Boolean,
            DataType::Timestamp => ArrowType::Timestamp(ArrowTimeUnit::Microsecond, utc()),
        };
        let array: ArrayRef = match columns.next() {
            None => new_null_array(&arrow_type, len),
            Some(Column { values, valid }) => {
                let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
                match values {
                    Values::Text { offsets, bytes } => Arc::new(StringArray::try_new(
                        OffsetBuffer::new(ScalarBuffer::from(offsets)),
                        Buffer::from_vec(bytes),
                        nulls,
                    )?),
                    Values::Bigint(v) => {
                        Arc::new(Int64Array::try_new(ScalarBuffer::from(v), nulls)?)
                    }
                    Values::Double(v) => {
                        Arc::new(Float64Array::try_new(ScalarBuffer::from(v), nulls)?)
                    }
                    Values::Bool(v) => Arc::new(BooleanArray::new(BooleanBuffer::from(v), nulls)),
                    Values::Timestamp(v) => Arc::new(
                        TimestampMicrosecondArray::try_new(ScalarBuffer::from(v), nulls)?
                            .with_timezone("UTC"),
                    ),
                }
            }
        };
        // A column whose values are of another type than the table's (never made by the
        // normalizer) is cast, or fails here rather than in DuckDB.
        let array = if array.data_type() == &arrow_type {
            array
        } else {
            cast(&array, &arrow_type)?
        };
        fields.push(Field::new(name.as_str(), arrow_type, true));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), arrays)
}

/// The `busy` of [`DuckDb::open_with`] that waits up to [`super::lock_wait`], trying again every
/// 100 ms. Blocking: call it where blocking is allowed.
pub fn lock_waiter() -> impl FnMut() -> bool {
    let deadline = Instant::now() + super::lock_wait();
    move || {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(super::LOCK_RETRY.min(left));
        true
    }
}

/// DuckDB's error for a file another process holds.
fn is_lock(e: &duckdb::Error) -> bool {
    e.to_string().contains("Could not set lock")
}

/// DuckDB would download a missing extension from the internet the first time a query needs one
/// (ICU for time zones, say); a loader must never reach the network behind the user's back.
const OFFLINE: &str =
    "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;";

impl DuckDb {
    /// Opens (creating it) the database file at `path`. A file another process holds (a
    /// dashboard or a query reading it, another load) is waited for, up to [`super::lock_wait`], then
    /// an error that says so.
    pub fn open(path: &Path) -> Result<Self, DestinationError> {
        Self::open_with(path, &mut lock_waiter())
    }

    /// Opens (creating it) the database file at `path`, calling `busy` each time another
    /// process holds the file: it waits and returns `true` to try again, or `false` to give up.
    pub fn open_with(
        path: &Path,
        busy: &mut dyn FnMut() -> bool,
    ) -> Result<Self, DestinationError> {
        // The file is attached to an in-memory database rather than opened, to give its row
        // groups the size loads want (a setting of the attachment, not of the file).
        let attach = || {
            Connection::open_in_memory().and_then(|c| {
                c.execute_batch(&format!(
                    "ATTACH {} AS {} (ROW_GROUP_SIZE {LOAD_ROW_GROUP_ROWS}); USE {};",
                    literal(&path.to_string_lossy()),
                    quote(CATALOG),
                    quote(CATALOG)
                ))?;
                Ok(c)
            })
        };
        let conn = loop {
            match attach() {
                Ok(c) => break c,
                Err(e) if is_lock(&e) && busy() => {}
                Err(e) if is_lock(&e) => {
                    return Err(DestinationError::Held {
                        target: path.display().to_string(),
                        holder: Holder::OtherProcess,
                    });
                }
                Err(e) => {
                    return Err(DestinationError::Open(format!(
                        "cannot open {} as a DuckDB database: {e}",
                        path.display()
                    )));
                }
            }
        };
        conn.execute_batch(OFFLINE)
            .map_err(|e| write_err("configure", e))?;
        Ok(Self::over(conn, Some(path.to_owned())))
    }

    /// A destination over `conn`, offline (see [`OFFLINE`]).
    fn over(conn: Connection, path: Option<PathBuf>) -> Self {
        Self {
            path,
            conn,
            in_transaction: false,
            layouts: HashMap::new(),
            appended: HashMap::new(),
            memory_limit: LOAD_MEMORY,
        }
    }

    /// An in-memory database.
    pub fn in_memory() -> Result<Self, DestinationError> {
        let conn = Connection::open_in_memory().map_err(|e| write_err("open", e))?;
        conn.execute_batch(OFFLINE)
            .map_err(|e| write_err("configure", e))?;
        Ok(Self::over(conn, None))
    }

    /// The connection itself, for tests that set a file up (feature `testing`): everything else
    /// goes through the `Destination` trait and the read-only queries.
    #[cfg(any(test, feature = "testing"))]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Counts `bytes` appended to the table `key` and raises the memory limit when the data
    /// needs more ([`LOAD_MEMORY`]).
    fn reserve(&mut self, key: (String, String), bytes: u64) -> Result<(), DestinationError> {
        let total = self.appended.entry(key).or_default();
        *total += bytes;
        let need = LOAD_MEMORY.max(total.saturating_mul(2));
        if self.path.is_some() && self.in_transaction && need > self.memory_limit {
            self.exec(&format!(
                "SET memory_limit = '{}MB'",
                need.div_ceil(1024 * 1024)
            ))?;
            self.memory_limit = need;
        }
        Ok(())
    }

    fn exec(&self, sql: &str) -> Result<(), DestinationError> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| write_err(sql.lines().next().unwrap_or(sql), e))
    }
}

impl Driver for DuckDb {
    fn location(&self) -> String {
        match &self.path {
            Some(p) => format!("duckdb:{}", p.display()),
            None => "duckdb::memory:".to_owned(),
        }
    }

    /// dlt's DuckDB types.
    fn sql_type(&self, data_type: DataType) -> &'static str {
        match data_type {
            DataType::Text => "VARCHAR",
            DataType::Bigint => "BIGINT",
            DataType::Double => "DOUBLE",
            DataType::Bool => "BOOLEAN",
            DataType::Timestamp => "TIMESTAMP WITH TIME ZONE",
        }
    }

    fn data_type_of(&self, sql: &str) -> DataType {
        match sql.to_ascii_uppercase().as_str() {
            "BIGINT" | "INTEGER" | "SMALLINT" | "TINYINT" | "HUGEINT" | "UBIGINT" | "UINTEGER" => {
                DataType::Bigint
            }
            "DOUBLE" | "FLOAT" | "REAL" => DataType::Double,
            "BOOLEAN" => DataType::Bool,
            "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" | "TIMESTAMP" => DataType::Timestamp,
            _ => DataType::Text,
        }
    }

    fn epoch_micros(&self, column: &str) -> String {
        format!("epoch_us({})", quote(column))
    }

    fn execute(&mut self, sql: &str) -> Result<(), EngineError> {
        self.conn.execute_batch(sql).map_err(engine_err)
    }

    fn execute_params(&mut self, sql: &str, params: &[&str]) -> Result<(), EngineError> {
        self.conn
            .execute(sql, duckdb::params_from_iter(params))
            .map(|_| ())
            .map_err(engine_err)
    }

    fn rows(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Cell>>, EngineError> {
        let mut stmt = self.conn.prepare(sql).map_err(engine_err)?;
        let mut rows = stmt
            .query(duckdb::params_from_iter(params))
            .map_err(engine_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(engine_err)? {
            let width = row.as_ref().column_count();
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                let value: duckdb::types::Value = row.get(i).map_err(engine_err)?;
                cells.push(cell_of(value));
            }
            out.push(cells);
        }
        Ok(out)
    }

    /// One thread and a memory limit while a file loads ([`LOAD_SETTINGS`]).
    fn on_begin(&mut self) -> Result<(), DestinationError> {
        if self.path.is_some() {
            self.exec(LOAD_SETTINGS)?;
        }
        self.in_transaction = true;
        Ok(())
    }

    fn on_end(&mut self, committed: bool) {
        if !committed {
            // What the transaction created or altered is gone with it.
            self.layouts.clear();
        }
        self.in_transaction = false;
        self.appended.clear();
        self.memory_limit = LOAD_MEMORY;
        if self.path.is_some() {
            let _ = self.conn.execute_batch(RESET_SETTINGS);
        }
    }

    fn laid_out(&mut self, dataset: &str, table: &str, columns: Vec<String>) {
        self.layouts
            .insert((dataset.to_owned(), table.to_owned()), columns);
    }

    fn dropped(&mut self, dataset: &str) {
        self.layouts.retain(|(d, _), _| d != dataset);
    }

    /// The keys as `(k1 = ? AND k2 = ?) OR ...`, 500 keys a statement, values bound.
    fn delete_matching(&mut self, merge: &Merge<'_>) -> Written {
        let (root, keys, children) = (merge.root, merge.keys, merge.children);
        let d = quote(merge.dataset);
        let r = quote(&root.name);
        let width = root.primary_key.len();
        for chunk in keys.chunks(500) {
            let mut matches = String::new();
            let mut params: Vec<&dyn ToSql> = Vec::new();
            for (i, key) in chunk.iter().enumerate() {
                if i > 0 {
                    matches.push_str(" OR ");
                }
                matches.push('(');
                for (j, column) in root.primary_key.iter().enumerate() {
                    if j > 0 {
                        matches.push_str(" AND ");
                    }
                    let _ = write!(matches, "{} = ?", quote(column));
                    params.push(key.get(j).unwrap_or(&Cell::Null));
                }
                matches.push(')');
            }
            debug_assert_eq!(params.len(), chunk.len() * width);
            for child in children {
                let sql = format!(
                    "DELETE FROM {d}.{c} WHERE {root_id} IN (SELECT {id} FROM {d}.{r} WHERE {matches})",
                    c = quote(child),
                    root_id = quote(crate::normalize::DLT_ROOT_ID),
                    id = quote(crate::normalize::DLT_ID),
                );
                self.conn
                    .execute(&sql, params.as_slice())
                    .map_err(|e| write_err("merge: delete child rows", e))?;
            }
            let sql = format!("DELETE FROM {d}.{r} WHERE {matches}");
            self.conn
                .execute(&sql, params.as_slice())
                .map_err(|e| write_err("merge: delete replaced rows", e))?;
        }
        Ok(())
    }

    fn append_rows(&mut self, dataset: &str, table: &Table, runs: Vec<Rows>) -> Written {
        let key = (dataset.to_owned(), table.name.clone());
        if !self.layouts.contains_key(&key) {
            let layout = crate::dataset::columns_of(self, dataset, &table.name)?;
            self.layouts.insert(key.clone(), layout);
        }
        let in_order = self.layouts[&key].iter().eq(table.columns.keys());
        let columns: Vec<&str> = table.columns.keys().map(String::as_str).collect();
        let failed = |e: &dyn std::fmt::Display| {
            DestinationError::engine(
                format!("append to {}", table.name),
                EngineError::message(e.to_string()),
            )
        };
        let batches = runs
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|rows| record_batch(table, rows))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failed(&e))?;
        let bytes = batches
            .iter()
            .map(|b| b.get_array_memory_size() as u64)
            .sum::<u64>();
        self.reserve(key, bytes)?;
        let mut app = if in_order {
            self.conn.appender_to_db(&table.name, dataset)
        } else {
            self.conn
                .appender_with_columns_to_db(&table.name, dataset, &columns)
        }
        .map_err(|e| failed(&e))?;
        for batch in batches {
            app.append_record_batch(batch).map_err(|e| failed(&e))?;
        }
        // One flush: DuckDB inserts what the appender holds in one statement.
        app.flush().map_err(|e| failed(&e))
    }
}

/// A cell of a value the core read (system tables and the catalog: text, integers, booleans).
fn cell_of(v: duckdb::types::Value) -> Cell {
    use duckdb::types::Value as V;
    match v {
        V::Null => Cell::Null,
        V::Boolean(b) => Cell::Bool(b),
        V::TinyInt(i) => Cell::Bigint(i.into()),
        V::SmallInt(i) => Cell::Bigint(i.into()),
        V::Int(i) => Cell::Bigint(i.into()),
        V::BigInt(i) => Cell::Bigint(i),
        V::UTinyInt(i) => Cell::Bigint(i.into()),
        V::USmallInt(i) => Cell::Bigint(i.into()),
        V::UInt(i) => Cell::Bigint(i.into()),
        V::UBigInt(i) => i64::try_from(i).map_or_else(|_| Cell::Text(i.to_string()), Cell::Bigint),
        V::HugeInt(i) => i64::try_from(i).map_or_else(|_| Cell::Text(i.to_string()), Cell::Bigint),
        V::Double(d) => Cell::Double(d),
        V::Float(f) => Cell::Double(f.into()),
        V::Text(s) | V::Enum(s) => Cell::Text(s),
        V::Timestamp(unit, n) => Cell::Timestamp(unit.to_micros(n)),
        other => Cell::Text(format!("{other:?}")),
    }
}

fn json_of(v: duckdb::types::Value) -> serde_json::Value {
    use duckdb::types::Value as V;
    use serde_json::Value as J;
    match v {
        V::Null => J::Null,
        V::Boolean(b) => J::Bool(b),
        V::TinyInt(i) => J::from(i),
        V::SmallInt(i) => J::from(i),
        V::Int(i) => J::from(i),
        V::BigInt(i) => J::from(i),
        V::UTinyInt(i) => J::from(i),
        V::USmallInt(i) => J::from(i),
        V::UInt(i) => J::from(i),
        V::UBigInt(i) => J::from(i),
        V::HugeInt(i) => i64::try_from(i).map_or_else(|_| J::String(i.to_string()), J::from),
        V::Float(f) => serde_json::Number::from_f64(f64::from(f)).map_or(J::Null, J::Number),
        V::Double(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        V::Text(s) | V::Enum(s) => J::String(s),
        V::Timestamp(unit, n) => {
            let micros = unit.to_micros(n);
            chrono::DateTime::<chrono::Utc>::from_timestamp_micros(micros).map_or(J::Null, |t| {
                J::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            })
        }
        V::Date32(days) => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
            .map_or(J::Null, |d| J::String(d.to_string())),
        V::List(items) | V::Array(items) => J::Array(items.into_iter().map(json_of).collect()),
        other => J::String(format!("{other:?}")),
    }
}

/// What DuckDB may use for a reader's buffers (sorts, joins, aggregates); a query that needs
/// more fails with DuckDB's out-of-memory error instead of growing the process.
pub const READER_MEMORY_MB: u64 = 128;

/// The first line or lines of a DuckDB error, without the `LINE 1: ...` excerpt (which quotes
/// the wrapping `query(...)` rather than what the user wrote).
fn engine_message(e: &duckdb::Error) -> String {
    let text = e.to_string();
    text.split("\nLINE ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The kinds of DuckDB error a query's outcome depends on. DuckDB's C API reports them only
/// as the message's prefix (`Parser Error: ...`), the one place that prefix is read.
fn is_parser_error(message: &str) -> bool {
    message.starts_with("Parser Error")
}

impl DuckDb {
    /// Opens the database file at `path` read-only (queries cannot change it), with no access to
    /// files or the network and [`READER_MEMORY_MB`] for DuckDB's buffers. A file that does not
    /// exist is an error that says to load first.
    pub fn open_read_only(path: &Path) -> Result<Self, DestinationError> {
        Self::open_reader(path, READER_MEMORY_MB, 2)
    }

    /// Opens `path` to run other people's SQL in `dataset` (see [`crate::sql_worker`]): read-only,
    /// no access to files or the network, `memory_mb` for DuckDB's buffers, one thread,
    /// unqualified names resolved in `dataset`, and then the configuration locked
    /// (`lock_configuration`), so that nothing a query does can change a setting.
    pub fn open_for_queries(
        path: &Path,
        dataset: &str,
        memory_mb: u64,
    ) -> Result<Self, QueryError> {
        let db = Self::open_reader(path, memory_mb, 1).map_err(QueryError::from)?;
        db.use_dataset(dataset)?;
        db.conn
            .execute_batch("SET lock_configuration = true")
            .map_err(|e| QueryError::Failed(write_err("configure", e).to_string()))?;
        Ok(db)
    }

    fn open_reader(path: &Path, memory_mb: u64, threads: i64) -> Result<Self, DestinationError> {
        if !path.exists() {
            return Err(DestinationError::NoFile(path.display().to_string()));
        }
        let config = duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .and_then(|c| c.enable_external_access(false))
            .and_then(|c| c.max_memory(&format!("{memory_mb}MB")))
            .and_then(|c| c.threads(threads))
            .map_err(|e| write_err("configure", e))?;
        let conn = Connection::open_with_flags(path, config).map_err(|e| {
            if is_lock(&e) {
                DestinationError::Held {
                    target: path.display().to_string(),
                    holder: Holder::Writer,
                }
            } else {
                DestinationError::Open(format!("cannot open {}: {e}", path.display()))
            }
        })?;
        conn.execute_batch(OFFLINE)
            .map_err(|e| write_err("configure", e))?;
        Ok(Self::over(conn, Some(path.to_owned())))
    }

    fn use_dataset(&self, dataset: &str) -> Result<(), QueryError> {
        self.conn
            .execute_batch(&format!("SET search_path = {}", literal(dataset)))
            .map_err(|_| QueryError::NoDataset(dataset.to_owned()))
    }

    /// Runs one read-only query (checked by [`check_read_only`] first) with unqualified table
    /// names resolved in `dataset`, and returns at most `limits` of its rows as JSON values;
    /// the statement is interrupted after `limits.timeout`. See [`DuckDb::run`].
    pub fn query(
        &self,
        dataset: &str,
        sql: &str,
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        check_read_only(sql).map_err(QueryError::Refused)?;
        self.use_dataset(dataset)?;
        self.run(sql, limits)
    }

    /// Runs one read-only query in the dataset this reader uses. DuckDB's own parser decides
    /// that the text is one `SELECT` statement: the text goes to DuckDB as a string, inside
    /// `SELECT * FROM query('...')`, which takes exactly one `SELECT` (so a statement hidden from
    /// the guard, e.g. after a `--` comment that a carriage return ends, is refused, never run).
    /// Rows are streamed and reading stops at the limits: a large result is never built.
    pub fn run(&self, sql: &str, limits: &QueryLimits) -> Result<QueryResult, QueryError> {
        self.run_with(sql, None, limits)
    }

    /// A read-only query the code wrote, with its values bound to `$1`, `$2`, ... (text), never
    /// spliced into the SQL; unqualified names resolve in `dataset`.
    pub fn query_params(
        &self,
        dataset: &str,
        sql: &str,
        params: &[&str],
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        check_read_only(sql).map_err(QueryError::Refused)?;
        self.use_dataset(dataset)?;
        self.run_with(sql, Some(params), limits)
    }

    /// Runs `sql`: someone else's inside `query('...')` when `params` is `None` (see
    /// [`DuckDb::run`]), the code's own with `params` bound otherwise.
    fn run_with(
        &self,
        sql: &str,
        params: Option<&[&str]>,
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        check_read_only(sql).map_err(QueryError::Refused)?;
        let handle = self.conn.interrupt_handle();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let timeout = limits.timeout;
        let timer = std::thread::spawn(move || {
            if done_rx.recv_timeout(timeout).is_err() {
                handle.interrupt();
                return true;
            }
            false
        });
        let result = self.collect(sql, params, limits);
        let _ = done_tx.send(());
        let timed_out = timer.join().unwrap_or(false);
        match result {
            Err(_) if timed_out => Err(QueryError::TimedOut(timeout)),
            Err(e) => {
                let message = engine_message(&e);
                Err(if is_parser_error(&message) {
                    QueryError::Refused(crate::query::Refused(format!(
                        "DuckDB does not read this as one SELECT statement ({message}): send one SELECT, and mind that a -- comment ends at a carriage return as well as at a line end"
                    )))
                } else {
                    QueryError::Failed(message)
                })
            }
            Ok(r) => Ok(r),
        }
    }

    fn collect(
        &self,
        sql: &str,
        params: Option<&[&str]>,
        limits: &QueryLimits,
    ) -> duckdb::Result<QueryResult> {
        let mut stmt = match params {
            None => self
                .conn
                .prepare(&format!("SELECT * FROM query({})", literal(sql)))?,
            Some(_) => self.conn.prepare(sql)?,
        };
        // Executed as a stream (`stream_arrow` starts it), then read a row at a time: DuckDB
        // produces a chunk when the previous one has been read, so stopping at the limits
        // stops the query.
        drop(stmt.stream_arrow(duckdb::params_from_iter(params.unwrap_or_default()))?);
        let mut rows = stmt.raw_query();
        let mut out: Option<Collector> = None;
        while let Some(row) = rows.next()? {
            let collector =
                out.get_or_insert_with(|| Collector::new(row.as_ref().column_names(), *limits));
            let width = row.as_ref().column_count();
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                let v: duckdb::types::Value = row.get(i)?;
                values.push(json_of(v));
            }
            if !collector.push(values) {
                break;
            }
        }
        drop(rows);
        Ok(out
            .unwrap_or_else(|| Collector::new(stmt.column_names(), *limits))
            .finish())
    }

    /// The dataset's tables, recent loads and the pipeline's state.
    pub fn info(&mut self, dataset: &str, pipeline: &str) -> Result<DatasetInfo, DestinationError> {
        crate::dataset::info(self, dataset, pipeline)
    }
}

#[cfg(test)]
mod tests;
