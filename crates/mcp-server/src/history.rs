//! The run history dataset behind the `history` tools: where it lives (`--history-db`, a DuckDB
//! file under the user's data directory by default, or Postgres), one sync at a time, and
//! queries that never meet a load half-way.
//!
//! A DuckDB file has one writer: a sync holds the dataset exclusively while it loads, queries
//! share it, and a query that cannot get in within its time limit says a sync is running rather
//! than wait for minutes. A load is one transaction, so a query sees the last complete load.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bdi_domain::poll::{Progress, ProgressFn};
use bdi_domain::{CancellationToken, Service};
use bdi_load::destination::{LoadRecord, Stored};
use bdi_load::history::{self, HistoryOptions, HistoryResource, HistorySource, PlanError, Skipped};
use bdi_load::location::Location;
use bdi_load::query::{ColumnInfo, DatasetInfo, QueryError, QueryLimits, QueryResult};
use bdi_load::rows::Rows;
use bdi_load::schema::{Cell, Schema, Table};
use bdi_load::sql_worker::SqlWorkers;
use bdi_load::state::PipelineState;
use bdi_load::{DatasetStep, Destination, DestinationError, LoadReport};

use crate::errors::dataset_error;
use tokio::sync::RwLock;

/// The history dataset of a server.
#[derive(Debug)]
pub struct History {
    location: Location,
    pipeline: String,
    dataset: String,
    /// A sync holds it exclusively; queries share it.
    lock: Arc<RwLock<()>>,
    /// The worker processes `query_history` runs in.
    workers: SqlWorkers,
}

/// How a sync ended for the caller.
#[derive(Debug)]
pub enum Synced {
    /// The load committed.
    Done {
        /// What it loaded.
        report: LoadReport,
        /// Resources left out for a missing scope.
        skipped: Vec<Skipped>,
    },
    /// The wait budget ran out; the load goes on in the server and commits when it ends.
    StillRunning {
        /// How long the caller waited.
        waited: Duration,
        /// Resources left out for a missing scope.
        skipped: Vec<Skipped>,
    },
}

/// The data directory: `BDI_DATA_DIR`, else `$XDG_DATA_HOME/bdi`, else `~/.local/share/bdi`.
pub fn data_dir(vars: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(d) = vars("BDI_DATA_DIR").filter(|v| !v.trim().is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = vars("XDG_DATA_HOME").filter(|v| !v.trim().is_empty()) {
        return Some(PathBuf::from(d).join("bdi"));
    }
    vars("HOME")
        .filter(|v| !v.trim().is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/bdi"))
}

/// What every history tool says before the first sync, whatever the engine.
fn no_history() -> String {
    dataset_error("there is no history yet", Some(DatasetStep::LoadFirst))
}

fn blocking_failed(e: &tokio::task::JoinError) -> String {
    dataset_error(format!("the history could not be read: {e}"), None)
}

/// A failed sync, with the next step of what failed: the account (the domain's step) or the
/// dataset (the loader's).
fn load_error(e: &bdi_load::LoadError) -> String {
    let message = format!("the sync failed, nothing of it was kept: {e}");
    match e {
        bdi_load::LoadError::Source { error, .. } => match error {
            bdi_load::SourceError::DataIntegration(e) => match e.next_step() {
                Some(step) => format!("error: {message}\nhint: {}", crate::errors::hint(&step)),
                None => dataset_error(message, None),
            },
            _ => dataset_error(message, None),
        },
        bdi_load::LoadError::Destination(d) => dataset_error(message, d.next_step()),
        bdi_load::LoadError::Aborted(_) => dataset_error(message, None),
    }
}

/// A loader's error, with its next step.
fn destination_error(e: &DestinationError) -> String {
    dataset_error(e, e.next_step())
}

impl History {
    /// The history at `location`, with the defaults of `bdi load history` (pipeline
    /// `data_integration_pipeline`, dataset `data_integration`), so the CLI reads the same file.
    pub fn new(location: Location) -> Self {
        Self {
            location,
            pipeline: history::PIPELINE.to_owned(),
            dataset: history::DATASET.to_owned(),
            lock: Arc::new(RwLock::new(())),
            workers: SqlWorkers::default(),
        }
    }

    /// This history in dataset `dataset` instead of the default one.
    #[must_use]
    pub fn in_dataset(mut self, dataset: &str) -> Self {
        dataset.clone_into(&mut self.dataset);
        self
    }

    /// The default: `history.duckdb` in the data directory.
    pub fn default_location(vars: &dyn Fn(&str) -> Option<String>) -> Location {
        let dir = data_dir(vars).unwrap_or_else(|| PathBuf::from("."));
        Location::DuckDb(dir.join("history.duckdb"))
    }

    /// Where it lives, without a password.
    pub fn describe(&self) -> String {
        self.location.describe()
    }

    /// The dataset's name.
    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// Loads the history into the dataset: checks the token's scopes, waits for any other sync,
    /// and loads in a task of its own. Cancelling the call abandons the load (nothing of it is
    /// kept); when `budget` runs out first, the load goes on and the caller is told so.
    pub async fn sync(
        &self,
        svc: &Service,
        options: HistoryOptions,
        lookback: Duration,
        progress: Option<ProgressFn>,
        cancel: CancellationToken,
        budget: Duration,
    ) -> Result<Synced, String> {
        let began = Instant::now();
        let source = HistorySource::new(svc.clone(), options);
        let plan = source
            .plan(&HistoryResource::ALL)
            .await
            .map_err(|e| match e {
                PlanError::Check(e) => crate::errors::tool_error(&e),
                e @ PlanError::NothingReadable { .. } => format!(
                    "error: the token may read none of the history's resources\nhint: it needs the scopes {}",
                    e.scopes_needed()
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        let resources = plan.specs(lookback);
        let skipped = plan.skipped;
        let report = |message: String, step: u32| {
            if let Some(p) = &progress {
                p(Progress {
                    step,
                    elapsed: began.elapsed(),
                    status: "syncing".to_owned(),
                    message,
                });
            }
        };
        let guard = tokio::select! {
            g = Arc::clone(&self.lock).write_owned() => g,
            () = cancel.cancelled() => return Err("cancelled: nothing was loaded".to_owned()),
        };
        report(format!("loading the history into {}", self.describe()), 1);
        if let Location::DuckDb(path) = &self.location
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                dataset_error(
                    format!("cannot create {} for the history: {e}", dir.display()),
                    Some(DatasetStep::CheckDestination),
                )
            })?;
        }
        let location = self.location.clone();
        let dest = tokio::task::spawn_blocking(move || location.open())
            .await
            .map_err(|e| blocking_failed(&e))?
            .map_err(|e| destination_error(&e))?;
        let load_options = bdi_load::LoadOptions {
            pipeline: self.pipeline.clone(),
            dataset: self.dataset.clone(),
            resources,
            full_refresh: false,
        };
        let step = Arc::new(std::sync::atomic::AtomicU32::new(1));
        let on_load: Option<bdi_load::pipeline::ProgressFn> = progress.clone().map(|p| {
            let step = Arc::clone(&step);
            let f: bdi_load::pipeline::ProgressFn = Arc::new(move |event| {
                if let bdi_load::Progress::Finished(r) = event {
                    let n = step.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    p(Progress {
                        step: n,
                        elapsed: began.elapsed(),
                        status: "syncing".to_owned(),
                        message: format!("{}: {} rows", r.name, r.rows),
                    });
                }
            });
            f
        });
        // The destination holds the lock: it is released when the destination is dropped, on
        // the writer's thread after its commit or rollback, however the load ends (even
        // abandoned), so no query or sync opens the file while it is still open for writing.
        let dest: Box<dyn Destination> = Box::new(Held {
            dest,
            _guard: guard,
        });
        let mut task = tokio::spawn(bdi_load::load(
            Arc::new(source),
            dest,
            load_options,
            on_load,
        ));
        let remaining = budget.saturating_sub(began.elapsed());
        tokio::select! {
            joined = &mut task => {
                let report = joined
                    .map_err(|e| dataset_error(format!("the sync stopped: {e}"), None))?
                    .map_err(|e| load_error(&e))?;
                Ok(Synced::Done { report, skipped })
            }
            () = cancel.cancelled() => {
                task.abort();
                Err("cancelled: the sync was abandoned and nothing of it was kept".to_owned())
            }
            () = tokio::time::sleep(remaining) => Ok(Synced::StillRunning {
                waited: began.elapsed(),
                skipped,
            }),
        }
    }

    /// Waits for the dataset to be free of a sync, for at most `limit`.
    async fn read_lock(
        &self,
        limit: Duration,
    ) -> Result<tokio::sync::OwnedRwLockReadGuard<()>, String> {
        tokio::time::timeout(limit, Arc::clone(&self.lock).read_owned())
            .await
            .map_err(|_| {
                dataset_error(
                    "a sync is writing the history right now",
                    Some(DatasetStep::WaitForHolder),
                )
            })
    }

    fn missing(&self) -> Option<String> {
        match &self.location {
            Location::DuckDb(path) if !path.exists() => Some(no_history()),
            _ => None,
        }
    }

    /// Runs one read-only query (at most 200 rows, 64 KB, 10 s). A query the engine refuses
    /// comes back with its message and the dataset's tables.
    pub async fn query(&self, sql: &str) -> Result<QueryResult, String> {
        bdi_load::query::check_read_only(sql)
            .map_err(|r| dataset_error(r, Some(DatasetStep::FixQuery)))?;
        if let Some(m) = self.missing() {
            return Err(m);
        }
        let limits = QueryLimits::AGENT;
        let _shared = self.read_lock(limits.timeout).await?;
        // In a worker process: a query that crashes the engine or runs away costs that query,
        // never this server.
        match self
            .workers
            .query(&self.location, &self.dataset, sql, &limits)
            .await
        {
            Ok(r) => Ok(r),
            Err(QueryError::NoDataset(_)) => Err(no_history()),
            Err(QueryError::TimedOut(_)) => {
                let e = QueryError::TimedOut(limits.timeout);
                Err(dataset_error(&e, e.next_step()))
            }
            Err(QueryError::Failed(m)) => {
                let (dataset, pipeline) = (self.dataset.clone(), self.pipeline.clone());
                let tables = self
                    .location
                    .read(move |reader| {
                        reader
                            .info(&dataset, &pipeline)
                            .map(|i| {
                                i.tables
                                    .iter()
                                    .map(|t| t.name.clone())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default()
                    })
                    .await
                    .unwrap_or_default();
                // The engine's own message, and where to look: the tool's words, as no
                // step of the loader's names the tables.
                Err(format!(
                    "{}\nhint: the tables are {tables}; describe_history lists their columns",
                    dataset_error(format!("the query failed: {m}"), None)
                ))
            }
            Err(e) => Err(dataset_error(&e, e.next_step())),
        }
    }

    /// The dataset: tables with their columns and row counts, the time the runs cover, the
    /// last loads and the incremental state.
    pub async fn describe_dataset(&self) -> Result<Described, String> {
        if let Some(m) = self.missing() {
            return Err(m);
        }
        let _shared = self.read_lock(QueryLimits::AGENT.timeout).await?;
        let (dataset, pipeline) = (self.dataset.clone(), self.pipeline.clone());
        let destination = self.describe();
        self.location
            .read(move |reader| {
                let info = reader
                    .info(&dataset, &pipeline)
                    .map_err(|e| destination_error(&e))?;
                let limits = QueryLimits::TERMINAL;
                if info.tables.is_empty() {
                    // Nothing committed yet (a first sync abandoned, say).
                    return Ok(Described::new(destination, dataset, info, &[], None));
                }
                let columns = reader
                    .columns(&dataset, None)
                    .map_err(|e| dataset_error(&e, e.next_step()))?;
                let covered = if info.tables.iter().any(|t| t.name == "runs") {
                    reader
                        .query(
                            &dataset,
                            "select min(start_date_utc), max(start_date_utc) from runs",
                            &limits,
                        )
                        .ok()
                        .and_then(|r| r.rows.into_iter().next())
                } else {
                    None
                };
                Ok(Described::new(
                    destination,
                    dataset,
                    info,
                    &columns,
                    covered,
                ))
            })
            .await
            .map_err(|e| destination_error(&e))?
    }
}

/// A destination that holds the dataset's write lock for as long as it lives.
struct Held {
    dest: Box<dyn Destination>,
    _guard: tokio::sync::OwnedRwLockWriteGuard<()>,
}

impl Destination for Held {
    fn describe(&self) -> String {
        self.dest.describe()
    }
    fn stored(&mut self, dataset: &str, pipeline: &str) -> Result<Stored, DestinationError> {
        self.dest.stored(dataset, pipeline)
    }
    fn begin(&mut self) -> Result<(), DestinationError> {
        self.dest.begin()
    }
    fn drop_dataset(&mut self, dataset: &str) -> Result<(), DestinationError> {
        self.dest.drop_dataset(dataset)
    }
    fn sync_table(&mut self, dataset: &str, table: &Table) -> Result<(), DestinationError> {
        self.dest.sync_table(dataset, table)
    }
    fn clear(&mut self, dataset: &str, tables: &[&str]) -> Result<(), DestinationError> {
        self.dest.clear(dataset, tables)
    }
    fn delete_keys(
        &mut self,
        dataset: &str,
        root: &Table,
        keys: &[Vec<Cell>],
        children: &[&str],
    ) -> Result<(), DestinationError> {
        self.dest.delete_keys(dataset, root, keys, children)
    }
    fn append(
        &mut self,
        dataset: &str,
        table: &Table,
        runs: Vec<Rows>,
    ) -> Result<(), DestinationError> {
        self.dest.append(dataset, table, runs)
    }
    fn commit(
        &mut self,
        dataset: &str,
        pipeline: &str,
        load: &LoadRecord,
        state: &PipelineState,
        schema: &Schema,
    ) -> Result<(), DestinationError> {
        self.dest.commit(dataset, pipeline, load, state, schema)
    }
    fn rollback(&mut self) {
        self.dest.rollback();
    }
}

/// What describe_history returns.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Described {
    /// Where the dataset lives (no password).
    pub destination: String,
    /// The dataset (schema) name; unqualified table names resolve to it.
    pub dataset: String,
    /// Its tables.
    pub tables: Vec<DescribedTable>,
    /// The first and last run start loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_from: Option<serde_json::Value>,
    /// The last run start loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_to: Option<serde_json::Value>,
    /// The last complete load (id and time), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_load: Option<serde_json::Value>,
    /// Per incremental resource, the last value loaded.
    pub cursors: serde_json::Map<String, serde_json::Value>,
}

/// One table of the dataset.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct DescribedTable {
    /// Its name.
    pub name: String,
    /// Its rows.
    pub rows: i64,
    /// `column type`, in order.
    pub columns: Vec<String>,
}

impl Described {
    fn new(
        destination: String,
        dataset: String,
        info: DatasetInfo,
        columns: &[ColumnInfo],
        covered: Option<Vec<serde_json::Value>>,
    ) -> Self {
        let tables = info
            .tables
            .iter()
            .map(|t| DescribedTable {
                name: t.name.clone(),
                rows: t.rows,
                columns: columns
                    .iter()
                    .filter(|c| c.table == t.name)
                    .map(|c| format!("{} {}", c.name, c.data_type.to_lowercase()))
                    .collect(),
            })
            .collect();
        let (runs_from, runs_to) = match covered {
            Some(mut row) if row.len() == 2 => {
                let to = row.pop();
                (row.pop(), to)
            }
            _ => (None, None),
        };
        Self {
            destination,
            dataset,
            tables,
            runs_from: runs_from.filter(|v| !v.is_null()),
            runs_to: runs_to.filter(|v| !v.is_null()),
            last_load: info
                .loads
                .first()
                .map(|l| serde_json::json!({"load_id": l.load_id, "loaded_at": l.inserted_at})),
            cursors: info
                .state
                .resources
                .iter()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        serde_json::json!({"cursor": s.cursor, "last_value": s.last_value}),
                    )
                })
                .collect(),
        }
    }
}
