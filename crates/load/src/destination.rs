//! The destination seam: where normalized rows go. A load is one transaction: [`Destination::begin`]
//! opens it, the rows, the `_dlt_loads` record, the loader's state and its schema history are
//! written inside it, and [`Destination::commit`] makes them visible together; anything else
//! (an error, Ctrl-C, `kill -9`) leaves the dataset and the state as they were.
//!
//! The loader keeps its own tables next to the data, in the dataset: `_bdi_state` (the state of
//! incremental resources, per pipeline) and `_bdi_schema` (the schema at each change), so the next
//! run needs nothing but the destination. dlt's `_dlt_loads` is written in dlt's shape, so that
//! SQL which filters on complete loads runs unchanged; dlt's `_dlt_pipeline_state` and
//! `_dlt_version` are not written.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::query::{DatasetInfo, LoadInfo, TableInfo};
use crate::rows::Rows;
use crate::schema::{Cell, Schema, Table};
use crate::state::PipelineState;

#[cfg(feature = "duckdb")]
pub mod duckdb;
#[cfg(feature = "postgres")]
pub mod postgres;

/// `_dlt_loads`: one row per complete load.
pub const LOADS_TABLE: &str = "_dlt_loads";
/// `_bdi_state`: the loader's state after each load.
pub const STATE_TABLE: &str = "_bdi_state";
/// `_bdi_schema`: the schema, each time it changed.
pub const SCHEMA_TABLE: &str = "_bdi_schema";

/// `"name"`, with inner quotes doubled: an SQL identifier on every engine.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with inner quotes doubled: an SQL string literal on every engine.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The state `_bdi_state` holds for `pipeline`, read back.
pub(crate) fn parse_state(text: &str, pipeline: &str) -> Result<PipelineState, DestinationError> {
    serde_json::from_str(text).map_err(|e| DestinationError::UnreadableState {
        pipeline: pipeline.to_owned(),
        detail: e.to_string(),
    })
}

/// What `info` shows of a dataset: its stored tables with the rows `count` finds in each, and
/// `loads` (newest first) as `(load id, status, committed at in microseconds)`.
pub(crate) fn dataset_info(
    stored: Stored,
    mut count: impl FnMut(&str) -> Result<i64, DestinationError>,
    loads: Vec<(String, i64, i64)>,
) -> Result<DatasetInfo, DestinationError> {
    let mut info = DatasetInfo {
        state: stored.state,
        ..DatasetInfo::default()
    };
    for (name, table) in &stored.schema.tables {
        info.tables.push(TableInfo {
            name: name.clone(),
            rows: count(name)?,
            columns: i64::try_from(table.columns.len()).unwrap_or(i64::MAX),
        });
    }
    info.loads = loads
        .into_iter()
        .map(|(load_id, status, micros)| LoadInfo {
            load_id,
            status,
            inserted_at: chrono::DateTime::<chrono::Utc>::from_timestamp_micros(micros)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
        })
        .collect();
    Ok(info)
}

/// An error of a destination.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// The destination cannot be opened (held by another process, not a database, ...).
    #[error("{0}")]
    Open(String),
    /// A statement failed.
    #[error("{0}")]
    Write(String),
    /// The DuckDB file to read does not exist (nothing was loaded there yet): each front end
    /// says how to load it in its own words.
    #[error("{0} does not exist: nothing was loaded there yet")]
    NoFile(String),
    /// The pipeline's stored state cannot be read: a load from scratch (a full refresh) mends it.
    #[error("the stored state of pipeline {pipeline} is unreadable ({detail})")]
    UnreadableState {
        /// The pipeline.
        pipeline: String,
        /// What is wrong with it.
        detail: String,
    },
}

/// What a destination holds of a pipeline before a load.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    /// The dataset's tables as they are (columns and types), whoever created them.
    pub schema: Schema,
    /// The pipeline's state after its last complete load.
    pub state: PipelineState,
}

/// A complete load, as `_dlt_loads` records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadRecord {
    /// The load id (`1795405733.8235435`).
    pub load_id: String,
    /// The schema name (the source's).
    pub schema_name: String,
    /// The schema's version hash after the load.
    pub schema_version_hash: String,
}

/// How long a load waits for a destination another load holds (a DuckDB file another process
/// has open, a PostgreSQL pipeline another load holds), by default.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// How often a held destination is tried again.
pub(crate) const LOCK_RETRY: Duration = Duration::from_millis(100);

/// How long a load waits for a held destination: `BDI_LOAD_LOCK_WAIT_MS` (or, as before,
/// `BDI_DUCKDB_LOCK_WAIT_MS`), else [`LOCK_WAIT`].
pub fn lock_wait() -> Duration {
    ["BDI_LOAD_LOCK_WAIT_MS", "BDI_DUCKDB_LOCK_WAIT_MS"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.trim().parse().ok())
        .map_or(LOCK_WAIT, Duration::from_millis)
}

/// Where loads are written.
pub trait Destination: Send {
    /// A short description for messages and summaries (`duckdb:/path/to/file.duckdb`).
    fn describe(&self) -> String;

    /// Holds `pipeline` in `dataset` against every other load until this load ends (commits,
    /// rolls back or its connection drops), waiting a bounded time for one that holds it: a load
    /// reads the state, writes and commits with no other load of the pipeline in between, so two
    /// at once never store a row twice. Called before [`Destination::stored`]. By default
    /// nothing: a DuckDB file has one writer process at a time already.
    fn lock_pipeline(&mut self, _dataset: &str, _pipeline: &str) -> Result<(), DestinationError> {
        Ok(())
    }

    /// The longest table or column name the destination takes, in bytes, if it has a limit
    /// (PostgreSQL cuts names at 63): longer names are shortened before they reach it.
    fn max_name_bytes(&self) -> Option<usize> {
        None
    }

    /// What the destination holds of `pipeline` in `dataset`.
    fn stored(&mut self, dataset: &str, pipeline: &str) -> Result<Stored, DestinationError>;

    /// Opens the load's transaction.
    fn begin(&mut self) -> Result<(), DestinationError>;

    /// Drops every table of `dataset` (a full refresh), inside the transaction.
    fn drop_dataset(&mut self, dataset: &str) -> Result<(), DestinationError>;

    /// Creates `table` in `dataset`, or adds the columns it lacks.
    fn sync_table(&mut self, dataset: &str, table: &Table) -> Result<(), DestinationError>;

    /// Deletes every row of these tables (replace).
    fn clear(&mut self, dataset: &str, tables: &[&str]) -> Result<(), DestinationError>;

    /// Deletes the rows of `root` whose primary key is among `keys` (one cell per key column,
    /// row after row), and the rows of its `children` that hang from them (merge).
    fn delete_keys(
        &mut self,
        dataset: &str,
        root: &Table,
        keys: &[Vec<Cell>],
        children: &[&str],
    ) -> Result<(), DestinationError>;

    /// Appends runs of rows to `table` in one statement (the table's columns in order; columns
    /// the rows lack are null).
    fn append(
        &mut self,
        dataset: &str,
        table: &Table,
        runs: Vec<Rows>,
    ) -> Result<(), DestinationError>;

    /// Records the load, the state and the schema, and commits.
    fn commit(
        &mut self,
        dataset: &str,
        pipeline: &str,
        load: &LoadRecord,
        state: &PipelineState,
        schema: &Schema,
    ) -> Result<(), DestinationError>;

    /// Abandons the transaction.
    fn rollback(&mut self);
}
