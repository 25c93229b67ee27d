//! The PostgreSQL destination: a dataset is a PostgreSQL schema, rows go in through binary
//! `COPY`, a merge deletes through a staging schema (`<dataset>_staging`, as dlt names it), and a
//! load is one PostgreSQL transaction (nothing of it is visible before `COMMIT`, and a connection
//! that drops leaves nothing).
//!
//! Types are dlt's PostgreSQL types: `text`, `bigint`, `double precision`, `boolean` and
//! `timestamp with time zone`. The system tables (`_dlt_loads`, `_bdi_state`, `_bdi_schema`) have
//! the columns the DuckDB destination gives them.
//!
//! The driver is the `postgres` crate, the synchronous client over `tokio-postgres`: the
//! [`Destination`] trait is synchronous and runs on the loader's writer thread, and the crate
//! drives its connection on a current-thread runtime of its own, which is what a private runtime
//! around `tokio-postgres` would be, kept by the driver's maintainers. Like every blocking call,
//! its calls (connecting and dropping included) must not run on an async task: from async code,
//! use `tokio::task::spawn_blocking`.
//!
//! Rows are written in `COPY`'s binary format straight from the columnar rows (`copy.rs`), not
//! through `postgres::binary_copy::BinaryCopyInWriter`: a value per `ToSql` call (and a cell per
//! value to get there) is about three times slower. `examples/postgres_append.rs` measures both on
//! 50,000 rows of 10 columns: 67 ms (745,000 rows/s) against 226 ms (221,000 rows/s), debug build,
//! loopback server.
//!
//! Read-only queries (`query`) run in a `READ ONLY` transaction with a `statement_timeout`, through
//! a cursor fetched a batch at a time as text: the server renders every type (numeric, interval,
//! arrays, ...) and the values are typed back to JSON by their column's type.

mod connect;
mod copy;

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, SimpleQueryMessage};

pub use super::quote;
use super::{DestinationError, EngineError, Holder};
use crate::dataset::{Driver, Merge, Written};
use crate::normalize::{DLT_ID, DLT_ROOT_ID};
use crate::query::{Collector, DatasetInfo, QueryError, QueryLimits, QueryResult, check_read_only};
use crate::rows::Rows;
use crate::schema::{Cell, DataType, Table, WriteDisposition};

/// A connection to a PostgreSQL database.
pub struct Postgres {
    client: Client,
    /// `postgres://user@host:port/db`: never the password.
    described: String,
    in_transaction: bool,
    /// The pipeline this session holds ([`Destination::lock_pipeline`]), by its lock key.
    locked: Option<String>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("server", &self.described)
            .finish_non_exhaustive()
    }
}

/// PostgreSQL cuts longer names (`NAMEDATALEN - 1`).
const MAX_NAME_BYTES: usize = 63;

/// Bytes of COPY data sent to the server at a time.
const COPY_CHUNK: usize = 256 * 1024;

/// Rows a query's cursor hands over at a time.
/// Few, so that a batch of very wide rows stays small: a worker's memory is capped.
const FETCH_ROWS: usize = 64;

fn sql_type(t: DataType) -> &'static str {
    match t {
        DataType::Text => "text",
        DataType::Bigint => "bigint",
        DataType::Double => "double precision",
        DataType::Bool => "boolean",
        DataType::Timestamp => "timestamp with time zone",
    }
}

/// The server's message (with its detail and hint), or the driver's.
fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = db.message().to_owned();
            if let Some(detail) = db.detail() {
                let _ = write!(m, " ({detail})");
            }
            if let Some(hint) = db.hint() {
                let _ = write!(m, "; hint: {hint}");
            }
            m
        }
        None => {
            // The driver's own errors say what failed, their sources why.
            let mut m = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !m.contains(&cause_text) {
                    let _ = write!(m, ": {cause_text}");
                }
                source = cause.source();
            }
            m
        }
    }
}

fn engine_err(e: postgres::Error) -> EngineError {
    EngineError::new(message(&e), e)
}

fn write_err(what: &str, e: postgres::Error) -> DestinationError {
    DestinationError::engine(what, engine_err(e))
}

/// An error of a COPY's writer: the driver's error inside an I/O error.
fn io_err(e: std::io::Error) -> EngineError {
    let text = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<postgres::Error>())
        .map_or_else(|| e.to_string(), message);
    EngineError::new(text, e)
}

/// The staging schema of a dataset (dlt's name for it).
fn staging(dataset: &str) -> String {
    format!("{dataset}_staging")
}

impl Postgres {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?sslmode=...`;
    /// see `connect.rs` for the TLS modes). A wrong password, an unknown database or a server that
    /// does not answer is an error that says what to check, and never holds the password.
    ///
    /// The connection blocks, and so does dropping it: from async code, connect (and drop) on a
    /// blocking thread (`tokio::task::spawn_blocking`); on an async task the driver panics.
    pub fn connect(url: &str) -> Result<Self, DestinationError> {
        let target = connect::parse(url)?;
        let client = connect::open(&target)?;
        Ok(Self {
            client,
            described: target.described,
            in_transaction: false,
            locked: None,
        })
    }

    /// Connects to read: the session is read-only from the moment it connects
    /// (`default_transaction_read_only`), so nothing run on it can write, whatever runs.
    pub fn connect_read_only(url: &str) -> Result<Self, DestinationError> {
        let mut db = Self::connect(url)?;
        db.exec("SET default_transaction_read_only = on")?;
        Ok(db)
    }

    /// Connects to run other people's SQL (see [`crate::sql_worker`]). Refuses a role that could
    /// do more than read through a query (`privileged`), and makes the session read-only
    /// from the start (`default_transaction_read_only`).
    pub fn connect_reader(url: &str) -> Result<Self, QueryError> {
        let mut db = Self::connect_read_only(url)?;
        if let Some(why) = db.privileged().map_err(QueryError::from)? {
            return Err(QueryError::Privileged(format!(
                "the database role of {} {why}: a query could act on the server itself. Connect the SQL surfaces as a read-only role (docs/load.md, \"A role for reading\": CREATE ROLE ... LOGIN, GRANT USAGE ON SCHEMA, GRANT SELECT ON ALL TABLES)",
                db.described
            )));
        }
        Ok(db)
    }

    /// Why this session's role may not run other people's SQL, if it may not: a superuser or a
    /// replication role, or a member of a role that reads or writes the server's files, runs
    /// programs on the server or signals other sessions.
    fn privileged(&mut self) -> Result<Option<String>, DestinationError> {
        let row = self
            .client
            .query_one(
                "SELECT r.rolsuper, r.rolreplication, coalesce((SELECT string_agg(p.rolname::text, ', ' ORDER BY p.rolname) \
                 FROM pg_roles p WHERE p.rolname IN ('pg_read_server_files', 'pg_write_server_files', \
                 'pg_execute_server_program', 'pg_signal_backend') AND pg_has_role(current_user, p.oid, 'MEMBER')), '') \
                 FROM pg_roles r WHERE r.rolname = current_user",
                &[],
            )
            .map_err(|e| write_err("read the role's privileges", e))?;
        let (superuser, replication, members): (bool, bool, String) =
            (row.get(0), row.get(1), row.get(2));
        Ok(if superuser {
            Some("is a superuser".to_owned())
        } else if replication {
            Some("may start replication".to_owned())
        } else if !members.is_empty() {
            Some(format!("is a member of {members}"))
        } else {
            None
        })
    }

    /// Runs `sql` (statements separated by `;`), for tests that set a server up.
    #[cfg(any(test, feature = "testing"))]
    pub fn execute_for_tests(&mut self, sql: &str) -> Result<(), DestinationError> {
        self.exec(sql)
    }

    fn exec(&mut self, sql: &str) -> Result<(), DestinationError> {
        self.client
            .batch_execute(sql)
            .map_err(|e| write_err(sql.lines().next().unwrap_or(sql), e))
    }

    /// Writes `runs` into `schema.table` (its `columns`, of `types`) with one binary COPY.
    fn copy_in<'a>(
        &mut self,
        target: &str,
        columns: impl Iterator<Item = &'a String>,
        types: &[DataType],
        runs: impl Iterator<Item = &'a Rows>,
    ) -> Result<u64, EngineError> {
        let list: Vec<String> = columns.map(|c| quote(c)).collect();
        let sql = format!(
            "COPY {target} ({}) FROM STDIN (FORMAT binary)",
            list.join(", ")
        );
        let mut writer = self.client.copy_in(&sql).map_err(engine_err)?;
        let mut buf = Vec::with_capacity(COPY_CHUNK + 64 * 1024);
        buf.extend_from_slice(copy::HEADER);
        for rows in runs {
            copy::encode(types, rows, &mut buf, COPY_CHUNK, |b| {
                writer.write_all(b)?;
                b.clear();
                Ok::<_, std::io::Error>(())
            })
            .map_err(io_err)?;
        }
        buf.extend_from_slice(copy::TRAILER);
        writer.write_all(&buf).map_err(io_err)?;
        writer.finish().map_err(engine_err)
    }
}

impl Driver for Postgres {
    fn location(&self) -> String {
        self.described.clone()
    }

    /// dlt's PostgreSQL types.
    fn sql_type(&self, data_type: DataType) -> &'static str {
        sql_type(data_type)
    }

    fn data_type_of(&self, sql: &str) -> DataType {
        match sql {
            "bigint" | "integer" | "smallint" => DataType::Bigint,
            "double precision" | "real" => DataType::Double,
            "boolean" => DataType::Bool,
            "timestamp with time zone" | "timestamp without time zone" => DataType::Timestamp,
            _ => DataType::Text,
        }
    }

    fn epoch_micros(&self, column: &str) -> String {
        format!(
            "CAST(extract(epoch FROM {}) * 1000000 AS bigint)",
            quote(column)
        )
    }

    fn name_limit(&self) -> Option<usize> {
        Some(MAX_NAME_BYTES)
    }

    fn schemas_of(&self, dataset: &str) -> Vec<String> {
        vec![dataset.to_owned(), staging(dataset)]
    }

    fn execute(&mut self, sql: &str) -> Result<(), EngineError> {
        self.client.batch_execute(sql).map_err(engine_err)
    }

    fn execute_params(&mut self, sql: &str, params: &[&str]) -> Result<(), EngineError> {
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        self.client
            .execute(sql, &params)
            .map(|_| ())
            .map_err(engine_err)
    }

    fn rows(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Cell>>, EngineError> {
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let rows = self.client.query(sql, &params).map_err(engine_err)?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| cell_of(row, i).map_err(engine_err))
                    .collect()
            })
            .collect()
    }

    /// A session-level advisory lock on the pair (dataset, pipeline), tried every 100 ms for up
    /// to [`crate::destination::lock_wait`]; PostgreSQL releases it when the session ends, so a
    /// load that dies holds nothing. Released after the commit or rollback.
    fn hold_pipeline(&mut self, dataset: &str, pipeline: &str) -> Result<(), DestinationError> {
        let key = format!("{dataset}\u{1f}{pipeline}");
        let deadline = Instant::now() + super::lock_wait();
        loop {
            let held: bool = self
                .client
                .query_one(
                    "SELECT pg_try_advisory_lock(hashtext('bdi-load'), hashtext($1))",
                    &[&key],
                )
                .map_err(|e| write_err("lock the pipeline", e))?
                .get(0);
            if held {
                self.locked = Some(key);
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DestinationError::Held {
                    target: format!(
                        "pipeline {pipeline} of dataset {dataset} on {}",
                        self.described
                    ),
                    holder: Holder::OtherLoad {
                        waited: super::lock_wait(),
                    },
                });
            }
            std::thread::sleep(super::LOCK_RETRY.min(left));
        }
    }

    fn on_begin(&mut self) -> Result<(), DestinationError> {
        self.in_transaction = true;
        Ok(())
    }

    /// Releases the pipeline's lock, whichever way the load ended.
    fn on_end(&mut self, _committed: bool) {
        self.in_transaction = false;
        self.unlock();
    }

    /// The keys go into a table of the staging schema by binary `COPY`, typed as the root's key
    /// columns, and the deletes join it.
    fn delete_matching(&mut self, merge: &Merge<'_>) -> Written {
        let Merge {
            dataset,
            root,
            keys,
            children,
        } = *merge;
        let stage = staging(dataset);
        if stage.len() > MAX_NAME_BYTES {
            return Err(DestinationError::NameTooLong {
                what: "staging schema",
                name: stage,
                max: MAX_NAME_BYTES,
            });
        }
        let d = quote(dataset);
        let r = quote(&root.name);
        let s = format!("{}.{}", quote(&stage), r);
        let mut key_table = Table::new(&root.name, None, WriteDisposition::Merge);
        for column in &root.primary_key {
            let data_type = root
                .columns
                .get(column)
                .map_or(DataType::Text, |c| c.data_type);
            key_table.column(column, data_type, true);
        }
        let columns: Vec<String> = key_table
            .columns
            .iter()
            .map(|(name, col)| format!("{} {}", quote(name), sql_type(col.data_type)))
            .collect();
        self.exec(&format!(
            "CREATE SCHEMA IF NOT EXISTS {}; DROP TABLE IF EXISTS {s}; CREATE UNLOGGED TABLE {s} ({})",
            quote(&stage),
            columns.join(", ")
        ))?;
        let rows = Rows::of_cells(&key_table, keys.to_vec());
        let types: Vec<DataType> = key_table.columns.values().map(|c| c.data_type).collect();
        self.copy_in(&s, key_table.columns.keys(), &types, std::iter::once(&rows))
            .map_err(|e| DestinationError::engine("merge: stage the keys", e))?;
        let matches: Vec<String> = root
            .primary_key
            .iter()
            .map(|c| format!("r.{c} = k.{c}", c = quote(c)))
            .collect();
        let matches = matches.join(" AND ");
        for child in children {
            self.client
                .batch_execute(&format!(
                    "DELETE FROM {d}.{c} AS c USING {d}.{r} AS r, {s} AS k \
                     WHERE c.{root_id} = r.{id} AND {matches}",
                    c = quote(child),
                    root_id = quote(DLT_ROOT_ID),
                    id = quote(DLT_ID),
                ))
                .map_err(|e| write_err("merge: delete child rows", e))?;
        }
        self.client
            .batch_execute(&format!(
                "DELETE FROM {d}.{r} AS r USING {s} AS k WHERE {matches}"
            ))
            .map_err(|e| write_err("merge: delete replaced rows", e))?;
        self.exec(&format!("DROP TABLE {s}"))
    }

    fn append_rows(&mut self, dataset: &str, table: &Table, runs: Vec<Rows>) -> Written {
        let target = format!("{}.{}", quote(dataset), quote(&table.name));
        let types: Vec<DataType> = table.columns.values().map(|c| c.data_type).collect();
        self.copy_in(
            &target,
            table.columns.keys(),
            &types,
            runs.iter().filter(|r| !r.is_empty()),
        )
        .map(|_| ())
        .map_err(|e| DestinationError::engine(format!("append to {}", table.name), e))
    }
}

/// A cell of column `i` of a row the core read (system tables and the catalog).
fn cell_of(row: &postgres::Row, i: usize) -> Result<Cell, postgres::Error> {
    let t = row.columns()[i].type_();
    Ok(match *t {
        Type::INT8 => row
            .get::<_, Option<i64>>(i)
            .map_or(Cell::Null, Cell::Bigint),
        Type::INT4 => row
            .get::<_, Option<i32>>(i)
            .map_or(Cell::Null, |v| Cell::Bigint(v.into())),
        Type::INT2 => row
            .get::<_, Option<i16>>(i)
            .map_or(Cell::Null, |v| Cell::Bigint(v.into())),
        Type::BOOL => row.get::<_, Option<bool>>(i).map_or(Cell::Null, Cell::Bool),
        Type::FLOAT8 => row
            .get::<_, Option<f64>>(i)
            .map_or(Cell::Null, Cell::Double),
        _ => row
            .try_get::<_, Option<String>>(i)?
            .map_or(Cell::Null, Cell::Text),
    })
}

impl Postgres {
    /// Releases the pipeline's lock, if this session holds it.
    fn unlock(&mut self) {
        if let Some(key) = self.locked.take() {
            let _ = self.client.execute(
                "SELECT pg_advisory_unlock(hashtext('bdi-load'), hashtext($1))",
                &[&key],
            );
        }
    }
}

/// A JSON value of a value the server rendered as text, by its column's type: numbers as numbers
/// (a `numeric` that a float cannot hold exactly stays a string), instants as RFC 3339 in UTC
/// (the session's time zone is UTC), JSON as JSON, anything else as the server's text.
fn json_of(text: Option<&str>, t: &Type) -> serde_json::Value {
    use serde_json::Value as J;
    let Some(text) = text else {
        return J::Null;
    };
    let string = || J::String(text.to_owned());
    match *t {
        Type::BOOL => J::Bool(text == "t"),
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => {
            text.parse::<i64>().map_or_else(|_| string(), J::from)
        }
        Type::FLOAT4 | Type::FLOAT8 => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(J::Null, J::Number),
        Type::NUMERIC => numeric(text).unwrap_or_else(string),
        Type::TIMESTAMPTZ => chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z")
            .map_or_else(
                |_| string(),
                |t| {
                    J::String(
                        t.with_timezone(&chrono::Utc)
                            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    )
                },
            ),
        Type::TIMESTAMP => chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .map_or_else(
                |_| string(),
                |t| {
                    J::String(
                        t.and_utc()
                            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    )
                },
            ),
        Type::JSON | Type::JSONB => serde_json::from_str(text).unwrap_or_else(|_| string()),
        _ => string(),
    }
}

/// A `numeric` as a JSON number when an integer or a float holds it exactly (`2.50` → 2.5).
fn numeric(text: &str) -> Option<serde_json::Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(i.into());
    }
    let f: f64 = text.parse().ok()?;
    let number = serde_json::Number::from_f64(f)?;
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    };
    let shown = number.to_string();
    let same = shown == trimmed || shown.strip_suffix(".0") == Some(trimmed);
    same.then_some(serde_json::Value::Number(number))
}

impl Postgres {
    /// The dataset's tables, recent loads and the pipeline's state.
    pub fn info(&mut self, dataset: &str, pipeline: &str) -> Result<DatasetInfo, DestinationError> {
        crate::dataset::info(self, dataset, pipeline)
    }

    /// Runs one read-only query (checked by [`check_read_only`] first) with unqualified table
    /// names resolved in `dataset`, and returns at most `limits` of its rows as JSON values.
    /// It runs in a `READ ONLY` transaction that is rolled back, and is cancelled by the server
    /// after `limits.timeout`.
    pub fn query(
        &mut self,
        dataset: &str,
        sql: &str,
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        self.query_params(dataset, sql, &[], limits)
    }

    /// [`Postgres::query`] with values bound to `$1`, `$2`, ... (text), never spliced into the
    /// SQL.
    pub fn query_params(
        &mut self,
        dataset: &str,
        sql: &str,
        params: &[&str],
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        check_read_only(sql).map_err(QueryError::Refused)?;
        if self.in_transaction {
            return Err(QueryError::Failed(
                "a load is in progress on this connection".to_owned(),
            ));
        }
        let started = Instant::now();
        let exists = crate::dataset::dataset_exists(self, dataset)
            .map_err(|e| QueryError::Failed(e.to_string()))?;
        if !exists {
            return Err(QueryError::NoDataset(dataset.to_owned()));
        }
        self.client
            .batch_execute(&format!(
                "BEGIN READ ONLY; SET LOCAL statement_timeout = {}; SET LOCAL search_path = {}; \
                 SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'",
                limits.timeout.as_millis().max(1),
                quote(dataset)
            ))
            .map_err(|e| QueryError::Failed(message(&e)))?;
        let result = self.collect(sql, params, limits, started);
        let _ = self.client.batch_execute("ROLLBACK");
        result
    }

    fn collect(
        &mut self,
        sql: &str,
        params: &[&str],
        limits: &QueryLimits,
        started: Instant,
    ) -> Result<QueryResult, QueryError> {
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let failed = |e: &postgres::Error| {
            if e.code() == Some(&SqlState::QUERY_CANCELED) {
                QueryError::TimedOut(limits.timeout)
            } else {
                QueryError::Failed(message(e))
            }
        };
        // Sent through the extended protocol, which takes one statement only: whatever the guard
        // misread, nothing after the query can run (a `COMMIT` ending the read-only transaction
        // included).
        self.refuse_side_effects(sql, &params)
            .map_err(|e| match e {
                Ok(refused) => QueryError::Refused(refused),
                Err(e) => failed(&e),
            })?;
        self.client
            .execute(
                &format!("DECLARE bdi_query NO SCROLL CURSOR FOR {sql}"),
                &params,
            )
            .map_err(|e| failed(&e))?;
        let fetch = format!("FETCH FORWARD {FETCH_ROWS} FROM bdi_query");
        let statement = self.client.prepare(&fetch).map_err(|e| failed(&e))?;
        let columns = statement.columns();
        let types: Vec<Type> = columns.iter().map(|c| c.type_().clone()).collect();
        let mut collector = Collector::new(
            columns.iter().map(|c| c.name().to_owned()).collect(),
            *limits,
        );
        loop {
            // Each batch runs under what is left of the time limit.
            let left = limits.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(QueryError::TimedOut(limits.timeout));
            }
            let messages = self
                .client
                .simple_query(&format!(
                    "SET LOCAL statement_timeout = {}; {fetch}",
                    left.as_millis().max(1)
                ))
                .map_err(|e| failed(&e))?;
            let mut fetched = 0;
            for m in messages {
                if let SimpleQueryMessage::Row(row) = m {
                    fetched += 1;
                    let values = types
                        .iter()
                        .enumerate()
                        .map(|(i, t)| json_of(row.get(i), t))
                        .collect();
                    if !collector.push(values) {
                        return Ok(collector.finish());
                    }
                }
            }
            if fetched < FETCH_ROWS {
                return Ok(collector.finish());
            }
        }
    }
}

impl Postgres {
    /// Refuses a query that calls a function which acts on the server, other sessions or files
    /// rather than reading the data ([`SIDE_EFFECTS`]), whatever the role. PostgreSQL's own
    /// planner names the calls: the query is explained (`EXPLAIN (VERBOSE)`, which plans but
    /// runs nothing), and every call in the plan's expressions, as PostgreSQL writes them back
    /// (views expanded, names unquoted), is checked.
    fn refuse_side_effects(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<(), Result<crate::query::Refused, postgres::Error>> {
        let plan = self
            .client
            .query(&format!("EXPLAIN (VERBOSE, COSTS OFF) {sql}"), params)
            .map_err(Err)?;
        let text = plan
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n");
        match side_effect_call(&text) {
            Ok(None) => Ok(()),
            Ok(Some(name)) => Err(Ok(crate::query::Refused(format!(
                "{name}() is not allowed here: it acts on the server, other sessions or files rather than reading the data; only queries that read run here"
            )))),
            Err(()) => Err(Ok(crate::query::Refused(
                "the query's plan could not be read to check the functions it calls, so it does not run: simplify it".to_owned(),
            ))),
        }
    }
}

/// Functions no query on a SQL surface may call, whatever the role (a name, or a prefix when it
/// ends with `_` or is `dblink`): signals to other sessions, the server's configuration, logs,
/// WAL, replication and backups, server files and large objects, advisory locks (a loader's lock
/// could be held), notifications, settings, and the functions that run a query given as text.
pub const SIDE_EFFECTS: &[&str] = &[
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_log_backend_memory_contexts",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_backup_",
    "pg_wal_",
    "pg_create_",
    "pg_drop_replication_slot",
    "pg_copy_",
    "pg_replication_",
    "pg_logical_",
    "pg_read_",
    "pg_ls_",
    "pg_stat_file",
    "pg_stat_reset",
    "pg_file_",
    "pg_current_logfile",
    "pg_import_system_collations",
    "pg_advisory_",
    "pg_try_advisory_",
    "pg_notify",
    "pg_export_snapshot",
    "set_config",
    "lo_",
    "loread",
    "lowrite",
    "dblink",
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "table_to_xml",
    "table_to_xml_and_xmlschema",
    "schema_to_xml",
    "schema_to_xml_and_xmlschema",
    "database_to_xml",
    "database_to_xml_and_xmlschema",
    "ts_stat",
];

/// The first call in a plan (the whole text, so that a string literal spanning lines is read
/// as one) to a function of [`SIDE_EFFECTS`]: a name (qualified or not, quoted or not) followed
/// by `(`, read with a SQL tokenizer so that text in string literals is never taken for a call.
/// A plan that cannot be read is an error: the caller refuses the query.
fn side_effect_call(plan: &str) -> Result<Option<String>, ()> {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, plan)
        .tokenize()
        .map_err(|_| ())?;
    let tokens: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    Ok(tokens.windows(2).find_map(|pair| match pair {
        [Token::Word(w), Token::LParen] => {
            let name = w.value.to_lowercase();
            SIDE_EFFECTS
                .iter()
                .any(|f| {
                    if f.ends_with('_') || *f == "dblink" {
                        name.starts_with(f)
                    } else {
                        name == *f
                    }
                })
                .then_some(name)
        }
        _ => None,
    }))
}

#[cfg(test)]
pub(crate) mod tests;
