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

/// An error of a destination.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// The destination cannot be opened or reached (not a database, a wrong password, a server
    /// that does not answer, a destination this build lacks): the message says what to check.
    #[error("{0}")]
    Open(String),
    /// Someone else holds what this needs, for longer than it waits: each front end says to
    /// try again when they are done.
    #[error("{target} {}", .holder.describe())]
    Held {
        /// The file or the pipeline held.
        target: String,
        /// Who holds it.
        holder: Holder,
    },
    /// The engine failed a statement.
    #[error("{doing}: {error}")]
    Engine {
        /// What the loader was doing (`record the state`, `append to runs`).
        doing: String,
        /// The engine's error.
        #[source]
        error: EngineError,
    },
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
    /// A name longer than the engine takes (PostgreSQL would cut it and write under another
    /// name): a shorter dataset or resource name mends it.
    #[error("the {what} name {name} is {} bytes long; this destination takes names of at most {max} bytes", .name.len())]
    NameTooLong {
        /// `dataset`, `table` or `column`.
        what: &'static str,
        /// The name.
        name: String,
        /// The most the engine takes.
        max: usize,
    },
    /// What the loader records could not be written as JSON.
    #[error("{what} cannot be written as JSON: {detail}")]
    Serialize {
        /// The state or the schema.
        what: &'static str,
        /// Why.
        detail: String,
    },
}

impl DestinationError {
    /// The engine's `error` while `doing`.
    pub fn engine(doing: impl Into<String>, error: EngineError) -> Self {
        Self::Engine {
            doing: doing.into(),
            error,
        }
    }

    /// What the caller does next, as data each front end words its own way.
    pub fn next_step(&self) -> Option<DatasetStep> {
        match self {
            Self::Open(_) => Some(DatasetStep::CheckDestination),
            Self::Held { .. } => Some(DatasetStep::WaitForHolder),
            Self::NoFile(_) => Some(DatasetStep::LoadFirst),
            Self::UnreadableState { .. } => Some(DatasetStep::FullRefresh),
            Self::NameTooLong { .. } => Some(DatasetStep::ShortenNames),
            Self::Engine { .. } | Self::Serialize { .. } => None,
        }
    }
}

/// Who holds a dataset (see [`DestinationError::Held`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// Another process has the DuckDB file open (a dashboard, a query, another load).
    OtherProcess,
    /// A load is writing the DuckDB file (seen by a reader).
    Writer,
    /// Another load of the pipeline holds it until it commits; `waited` is how long this one
    /// waited (`BDI_LOAD_LOCK_WAIT_MS`).
    OtherLoad {
        /// How long this load waited.
        waited: Duration,
    },
}

impl Holder {
    fn describe(&self) -> String {
        match self {
            Self::OtherProcess => {
                "is in use by another process (a dashboard, a query or another load)".to_owned()
            }
            Self::Writer => "is being written by another process (a load, most likely)".to_owned(),
            Self::OtherLoad { waited } => format!(
                "is held by another load until it commits (waited {} ms; BDI_LOAD_LOCK_WAIT_MS sets how long)",
                waited.as_millis()
            ),
        }
    }
}

/// What to do after a dataset's error, as data: each front end says it in its own words (a
/// `bdi load` command for the CLI, a tool for bdi-mcp, a page for the dashboard).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetStep {
    /// Nothing was loaded there yet: load it first (or name the right destination).
    LoadFirst,
    /// Someone else holds it: try again when they are done.
    WaitForHolder,
    /// The stored state is unreadable: load from scratch.
    FullRefresh,
    /// Check the destination's location and credentials.
    CheckDestination,
    /// Choose a shorter dataset or resource name.
    ShortenNames,
    /// The query was refused: send one read-only `SELECT`.
    FixQuery,
    /// The query ran out of time or memory: aggregate, filter or limit it.
    NarrowQuery,
    /// The database role may do more than read: connect the SQL surfaces as a reader role.
    UseReaderRole,
    /// As many queries as may run at once are running: try again in a moment.
    RetrySoon,
}

impl DatasetStep {
    /// Every step, for front ends' tests that word each.
    pub const ALL: [Self; 9] = [
        Self::LoadFirst,
        Self::WaitForHolder,
        Self::FullRefresh,
        Self::CheckDestination,
        Self::ShortenNames,
        Self::FixQuery,
        Self::NarrowQuery,
        Self::UseReaderRole,
        Self::RetrySoon,
    ];
}

/// An engine's error: its message (PostgreSQL's with its detail and hint), and the driver's
/// error itself as the source.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl EngineError {
    /// The driver's error `source`, shown as `message`.
    pub fn new(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// An error with no driver error behind it.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// The message.
    pub fn text(&self) -> &str {
        &self.message
    }
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
