//! A load, end to end: read the stored state, then for each resource stream its pages from the
//! source into the normalizer and the destination, and commit the rows, the `_dlt_loads` record,
//! the state and the schema together.
//!
//! Reading, normalizing and writing overlap: the source's pages are fetched (and parsed) on the
//! async side, each page is normalized on the blocking pool in order, and a blocking thread owns
//! the destination (DuckDB is synchronous) and writes the rows of the previous pages; a bounded
//! channel between them keeps memory flat. Any failure, and dropping the future
//! (Ctrl-C), rolls the transaction back: the destination keeps the previous load exactly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::destination::{Destination, DestinationError, LoadRecord};
use crate::normalize::{Batch, Normalizer};
use crate::rows::Rows;
use crate::schema::{Cell, Schema, Table, WriteDisposition};
use crate::source::{Page, Resource, Source, SourceError};
use crate::state::{Cursor, PipelineState};

/// Why a load failed; in every case nothing of it was committed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading the source failed.
    #[error("{resource}: {error}")]
    Source {
        /// The resource being read.
        resource: String,
        /// What failed: the source's API's own error.
        #[source]
        error: SourceError,
    },
    /// The destination failed.
    #[error("{0}")]
    Destination(#[from] DestinationError),
    /// The writer thread stopped unexpectedly.
    #[error("the load stopped: {0}")]
    Aborted(String),
}

/// What to load, and where in the destination.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The pipeline's name (its state is kept under it).
    pub pipeline: String,
    /// The dataset (a DuckDB schema).
    pub dataset: String,
    /// The resources, in load order.
    pub resources: Vec<Resource>,
    /// Drop the dataset's tables and the state first.
    pub full_refresh: bool,
}

/// What a load did to one resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResourceReport {
    /// The resource.
    pub name: String,
    /// How it was written.
    pub write_disposition: String,
    /// Pages read.
    pub pages: u64,
    /// Items read from the source.
    pub items: u64,
    /// Items skipped as already loaded (incremental).
    pub skipped: u64,
    /// Root rows written.
    pub rows: u64,
    /// Child rows written.
    pub child_rows: u64,
    /// What the load found wrong but went on with (a total that disagrees with the items
    /// returned, keys that fold to one column name, ...), for the user to read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What a load did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadReport {
    /// The pipeline.
    pub pipeline: String,
    /// The load id.
    pub load_id: String,
    /// The dataset.
    pub dataset: String,
    /// The destination (`duckdb:/path`).
    pub destination: String,
    /// Per resource, in load order.
    pub resources: Vec<ResourceReport>,
    /// Rows written per table.
    pub tables: Vec<(String, u64)>,
    /// The schema's version hash after the load.
    pub schema_version_hash: String,
    /// Wall time of the load, in seconds.
    pub seconds: f64,
}

impl LoadReport {
    /// Rows written in every table.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// Progress of a load, for a progress display.
#[derive(Clone, Debug)]
pub enum Progress {
    /// A resource started.
    Started(String),
    /// A page was written: the resource's pages and root rows so far.
    Page {
        /// The resource.
        resource: String,
        /// Pages so far.
        pages: u64,
        /// Root rows so far.
        rows: u64,
    },
    /// A resource ended.
    Finished(ResourceReport),
}

/// Receives progress.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A load id in dlt's form: Unix seconds with a fraction (`1795405733.8235435`).
pub fn new_load_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    format!("{}.{:07}", now.as_secs(), now.subsec_nanos() / 100)
}

/// A page's rows, normalized and ready to write.
struct Shaped {
    /// The tables with rows, each with its schema as it stands after this page.
    tables: Vec<(Table, Rows)>,
    /// For merge: the root table, the keys whose stored rows this page replaces, and its child
    /// tables.
    delete: Option<(Table, Vec<Vec<Cell>>, Vec<String>)>,
    /// The resource's report so far.
    report: ResourceReport,
}

enum Msg {
    /// A resource starts; `clear` lists the tables to empty first (replace).
    Begin {
        name: String,
        clear: Vec<String>,
    },
    Rows(Box<Shaped>),
    End(ResourceReport),
    /// Every resource was read: commit with this state and schema. A channel that closes without
    /// it rolls back.
    Commit {
        state: PipelineState,
        schema: Box<Schema>,
    },
}

/// What the writer hands back after committing.
struct Written {
    reports: Vec<ResourceReport>,
    tables: Vec<(String, u64)>,
    hash: String,
    destination: String,
}

/// The normalizing side: owns the schema and the cursors during the load, and turns each page
/// into rows (on the blocking pool, so that it overlaps both the fetching and the writing).
struct Shaper {
    schema: Schema,
    state: PipelineState,
    normalizer: Normalizer,
    current: Option<(Resource, Option<Cursor>, ResourceReport)>,
}

impl Shaper {
    fn children_of(&self, root: &str) -> Vec<String> {
        self.schema.descendants(root)
    }

    /// Starts a resource; returns the tables to clear first.
    fn begin(&mut self, resource: Resource) -> Vec<String> {
        Normalizer::declare_root(
            &mut self.schema,
            &resource.name,
            resource.write_disposition,
            &resource
                .primary_key
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        // Child tables follow their root.
        for child in self.children_of(&resource.name) {
            if let Some(t) = self.schema.tables.get_mut(&child) {
                t.write_disposition = resource.write_disposition;
            }
        }
        let mut clear = Vec::new();
        if resource.write_disposition == WriteDisposition::Replace {
            clear.push(resource.name.clone());
            clear.extend(self.children_of(&resource.name));
        }
        let cursor = resource.incremental.as_ref().map(|inc| {
            let cursor = Cursor::new(
                &inc.cursor_field,
                &inc.id_field,
                self.state.resources.get(&resource.name),
            );
            match inc.lookback {
                Some(lookback) => cursor.with_lookback(lookback),
                None => cursor,
            }
        });
        let report = ResourceReport {
            name: resource.name.clone(),
            write_disposition: resource.write_disposition.to_string(),
            ..ResourceReport::default()
        };
        self.current = Some((resource, cursor, report));
        clear
    }

    fn page(&mut self, page: Page) -> Result<Shaped, LoadError> {
        let Some((resource, cursor, _)) = self.current.as_mut() else {
            return Err(LoadError::Aborted(
                "a page came outside a resource".to_owned(),
            ));
        };
        let read = page.items.len() as u64;
        let name = resource.name.clone();
        let notes = page.notes.clone();
        let resource_key = resource.primary_key.clone();
        let merge = resource.write_disposition == WriteDisposition::Merge;
        let mut batch = Batch::default();
        let done = self
            .normalizer
            .normalize_raw(
                &mut self.schema,
                &name,
                &page.items,
                cursor.as_mut(),
                &mut batch,
            )
            .map_err(|e| LoadError::Aborted(not_json(&name, &e)))?;
        drop(page);
        let mut delete = None;
        if merge {
            let root = &self.schema.tables[&name];
            let positions: Vec<Option<usize>> = root
                .primary_key
                .iter()
                .map(|k| root.columns.get_index_of(k))
                .collect();
            if !positions.is_empty() && positions.iter().all(Option::is_some) {
                let keys: Vec<Vec<Cell>> = batch
                    .tables
                    .get(&name)
                    .map(|rows| {
                        (0..rows.len())
                            .map(|row| {
                                positions
                                    .iter()
                                    .map(|p| p.map_or(Cell::Null, |i| rows.cell(row, i)))
                                    .collect()
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                delete = Some((root.clone(), keys, self.children_of(&name)));
            }
        }
        let root_rows = batch.rows_of(&name) as u64;
        let (_, _, report) = self.current.as_mut().expect("checked above");
        report.pages += 1;
        report.items += read;
        report.warnings.extend(notes);
        report.warnings.extend(self.normalizer.take_warnings());
        if done.repeated > 0 {
            report.warnings.push(format!(
                "{} item(s) of page {} repeat the primary key ({}) of an item already read in this load: each key is stored once",
                done.repeated,
                report.pages,
                resource_key.join(", ")
            ));
        }
        report.skipped += done.skipped as u64;
        report.rows += root_rows;
        report.child_rows += batch.row_count() as u64 - root_rows;
        let report = report.clone();
        let tables = batch
            .tables
            .into_iter()
            .map(|(table, rows)| (self.schema.tables[&table].clone(), rows))
            .collect();
        Ok(Shaped {
            tables,
            delete,
            report,
        })
    }

    fn end(&mut self) -> Option<ResourceReport> {
        let (resource, cursor, report) = self.current.take()?;
        if let Some(c) = cursor {
            self.state.resources.insert(resource.name, c.state());
        }
        Some(report)
    }
}

/// Pages normalized ahead of the writer, at most.
const PAGES_AHEAD: usize = 4;

/// Rows are handed to the destination in runs of about this many (each append is a statement
/// of its own for DuckDB: a few large ones cost less than many small ones).
const APPEND_ROWS: usize = 4_096;

/// The writing side: owns the destination during the load.
struct Writer {
    dest: Box<dyn Destination>,
    dataset: String,
    synced: HashMap<String, usize>,
    written: indexmap::IndexMap<String, u64>,
    reports: Vec<ResourceReport>,
    progress: Option<ProgressFn>,
    /// Rows not appended yet, by table, with the table as it was last seen and the row count.
    pending: indexmap::IndexMap<String, (Table, Vec<Rows>, usize)>,
}

impl Writer {
    /// Appends the rows held back, every table's (before any other statement, and at the end).
    fn flush(&mut self) -> Result<(), LoadError> {
        for (_, (table, runs, _)) in std::mem::take(&mut self.pending) {
            self.append(&table, runs)?;
        }
        Ok(())
    }

    fn append(&mut self, table: &Table, runs: Vec<Rows>) -> Result<(), LoadError> {
        let known = self.synced.get(&table.name).copied().unwrap_or(0);
        if table.columns.len() > known {
            self.dest.sync_table(&self.dataset, table)?;
            self.synced.insert(table.name.clone(), table.columns.len());
        }
        let count: usize = runs.iter().map(Rows::len).sum();
        *self.written.entry(table.name.clone()).or_default() += count as u64;
        self.dest.append(&self.dataset, table, runs)?;
        Ok(())
    }

    fn begin(&mut self, name: String, clear: &[String]) -> Result<(), LoadError> {
        self.flush()?;
        if !clear.is_empty() {
            let refs: Vec<&str> = clear.iter().map(String::as_str).collect();
            self.dest.clear(&self.dataset, &refs)?;
        }
        if let Some(p) = &self.progress {
            p(&Progress::Started(name));
        }
        Ok(())
    }

    fn rows(&mut self, shaped: Shaped) -> Result<(), LoadError> {
        if let Some((root, keys, children)) = &shaped.delete {
            // A merge deletes what it replaces, this load's earlier rows included.
            self.flush()?;
            let refs: Vec<&str> = children.iter().map(String::as_str).collect();
            self.dest.delete_keys(&self.dataset, root, keys, &refs)?;
        }
        for (table, rows) in shaped.tables {
            let (mut runs, mut count) = match self.pending.swap_remove(&table.name) {
                Some((_, runs, count)) => (runs, count),
                None => (Vec::new(), 0),
            };
            count += rows.len();
            runs.push(rows);
            if count >= APPEND_ROWS {
                self.append(&table, runs)?;
            } else {
                self.pending
                    .insert(table.name.clone(), (table, runs, count));
            }
        }
        if let Some(p) = &self.progress {
            p(&Progress::Page {
                resource: shaped.report.name.clone(),
                pages: shaped.report.pages,
                rows: shaped.report.rows,
            });
        }
        Ok(())
    }

    fn end(&mut self, report: ResourceReport) {
        if let Some(p) = &self.progress {
            p(&Progress::Finished(report.clone()));
        }
        self.reports.push(report);
    }
}

/// Runs a load of `source` into `dest`.
pub async fn load(
    source: Arc<dyn Source>,
    dest: Box<dyn Destination>,
    options: LoadOptions,
    progress: Option<ProgressFn>,
) -> Result<LoadReport, LoadError> {
    let started = Instant::now();
    let load_id = new_load_id();
    let pipeline = options.pipeline.clone();
    let dataset = options.dataset.clone();
    let full_refresh = options.full_refresh;

    // Open, read what is stored, and begin, on the writer thread.
    // Room for a few pages ahead, so that normalizing goes on while the writer appends.
    let (tx, mut rx) = mpsc::channel::<Msg>(PAGES_AHEAD);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<(Schema, PipelineState)>();
    let writer_load_id = load_id.clone();
    let schema_name = source.schema_name().to_owned();
    let max_name = dest.max_name_bytes();
    let writer = tokio::task::spawn_blocking(move || -> Result<Written, LoadError> {
        let mut dest = dest;
        dest.lock_pipeline(&dataset, &pipeline)?;
        let stored = dest.stored(&dataset, &pipeline)?;
        dest.begin()?;
        let (schema, state) = if full_refresh {
            if let Err(e) = dest.drop_dataset(&dataset) {
                dest.rollback();
                return Err(e.into());
            }
            (Schema::default(), PipelineState::default())
        } else {
            (stored.schema, stored.state)
        };
        let synced = schema
            .tables
            .iter()
            .map(|(n, t)| (n.clone(), t.columns.len()))
            .collect();
        let _ = ready_tx.send((schema, state));
        let mut w = Writer {
            dest,
            dataset: dataset.clone(),
            synced,
            written: indexmap::IndexMap::new(),
            reports: Vec::new(),
            progress,
            pending: indexmap::IndexMap::new(),
        };
        let result = (|| -> Result<(PipelineState, Box<Schema>), LoadError> {
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    Msg::Begin { name, clear } => w.begin(name, &clear)?,
                    Msg::Rows(shaped) => w.rows(*shaped)?,
                    Msg::End(report) => w.end(report),
                    Msg::Commit { state, schema } => {
                        w.flush()?;
                        return Ok((state, schema));
                    }
                }
            }
            Err(LoadError::Aborted(
                "the load was interrupted before it ended; nothing of it was kept".to_owned(),
            ))
        })();
        let (state, schema) = match result {
            Ok(done) => done,
            Err(e) => {
                w.dest.rollback();
                return Err(e);
            }
        };
        let hash = schema.version_hash();
        let record = LoadRecord {
            load_id: writer_load_id,
            schema_name,
            schema_version_hash: hash.clone(),
        };
        if let Err(e) = w.dest.commit(&dataset, &pipeline, &record, &state, &schema) {
            w.dest.rollback();
            return Err(e.into());
        }
        Ok(Written {
            destination: w.dest.describe(),
            reports: w.reports,
            tables: w.written.into_iter().collect(),
            hash,
        })
    });

    // Read and normalize while the writer writes; a failed send means the writer stopped (its
    // error is the load's).
    let reading = async {
        let Ok((schema, state)) = ready_rx.await else {
            return Ok(None);
        };
        let mut shaper = Shaper {
            schema,
            state,
            normalizer: Normalizer::with_scrub(&load_id, source.scrub())
                .with_max_name_bytes(max_name),
            current: None,
        };
        for resource in &options.resources {
            let clear = shaper.begin(resource.clone());
            let start = shaper
                .current
                .as_ref()
                .and_then(|(_, cursor, _)| cursor.as_ref())
                .and_then(|c| c.start_value().map(str::to_owned));
            let begin = Msg::Begin {
                name: resource.name.clone(),
                clear,
            };
            if tx.send(begin).await.is_err() {
                return Ok(None);
            }
            let mut pages = source.pages(resource, start);
            while let Some(page) = pages.next().await {
                let page = page.map_err(|error| LoadError::Source {
                    resource: resource.name.clone(),
                    error,
                })?;
                // Normalizing a page is CPU work: off the async threads, in step with the pages.
                let (back, shaped) = tokio::task::spawn_blocking(move || {
                    let shaped = shaper.page(page);
                    (shaper, shaped)
                })
                .await
                .map_err(|e| LoadError::Aborted(e.to_string()))?;
                shaper = back;
                if tx.send(Msg::Rows(Box::new(shaped?))).await.is_err() {
                    return Ok(None);
                }
            }
            if let Some(report) = shaper.end()
                && tx.send(Msg::End(report)).await.is_err()
            {
                return Ok(None);
            }
        }
        Ok(Some(shaper))
    };
    let read: Result<Option<Shaper>, LoadError> = reading.await;
    match read {
        Err(e) => {
            // Closing the channel without a commit makes the writer roll back.
            drop(tx);
            let _ = writer.await;
            return Err(e);
        }
        Ok(Some(shaper)) => {
            let commit = Msg::Commit {
                state: shaper.state,
                schema: Box::new(shaper.schema),
            };
            let _ = tx.send(commit).await;
        }
        Ok(None) => {}
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| LoadError::Aborted(e.to_string()))??;
    Ok(LoadReport {
        pipeline: options.pipeline,
        load_id,
        dataset: options.dataset,
        destination: written.destination,
        resources: written.reports,
        tables: written.tables,
        schema_version_hash: written.hash,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Why an item could not be read. serde_json stops at 128 levels of nesting, and says so only in
/// its message: an item nested deeper is JSON, and the message says what the limit is.
fn not_json(resource: &str, e: &serde_json::Error) -> String {
    if e.to_string().starts_with("recursion limit exceeded") {
        format!(
            "{resource}: an item nests objects and lists more than 128 levels deep ({e}), deeper than the loader reads: such an item cannot be loaded"
        )
    } else {
        format!("{resource}: an item is not JSON: {e}")
    }
}

#[cfg(test)]
mod not_json_tests {
    #[test]
    fn an_item_nested_too_deep_is_named_as_such() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let e = serde_json::from_str::<serde_json::Value>(&deep).unwrap_err();
        let m = super::not_json("states", &e);
        assert!(
            m.contains("more than 128 levels deep") && !m.contains("not JSON"),
            "{m}"
        );
        let e = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert!(super::not_json("states", &e).contains("not JSON"));
    }
}
