//! A load, end to end: read the stored state, then for each resource stream its pages from the
//! source into the normalizer and the destination, and commit the rows, the `_dlt_loads` record,
//! the state and the schema together.
//!
//! Reading and writing overlap: the source's pages are fetched on the async side while a blocking
//! thread owns the destination (DuckDB is synchronous) and normalizes and writes the previous
//! page; a bounded channel between them keeps memory flat. Any failure, and dropping the future
//! (Ctrl-C), rolls the transaction back: the destination keeps the previous load exactly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::destination::{Destination, DestinationError, LoadRecord};
use crate::normalize::{Batch, Normalizer};
use crate::schema::{Cell, Schema, WriteDisposition};
use crate::source::{Page, Resource, Source};
use crate::state::{Cursor, PipelineState};

/// Why a load failed; in every case nothing of it was committed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading the source failed.
    #[error("{resource}: {error}")]
    Source {
        /// The resource being read.
        resource: String,
        /// What failed.
        error: bdi_domain::Error,
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

enum Msg {
    Begin(Resource),
    Page(Page),
    End,
    /// Every resource was read: commit. A channel that closes without it rolls back.
    Commit,
}

/// What the writer hands back after committing.
struct Written {
    reports: Vec<ResourceReport>,
    tables: Vec<(String, u64)>,
    hash: String,
    destination: String,
}

/// The writer's side: owns the destination during the load.
struct Writer {
    dest: Box<dyn Destination>,
    dataset: String,
    schema: Schema,
    state: PipelineState,
    synced: HashMap<String, usize>,
    normalizer: Normalizer,
    written: indexmap::IndexMap<String, u64>,
    reports: Vec<ResourceReport>,
    current: Option<(Resource, Option<Cursor>, ResourceReport)>,
    progress: Option<ProgressFn>,
}

impl Writer {
    fn children_of(&self, root: &str) -> Vec<String> {
        let prefix = format!("{root}{}", crate::naming::PATH_SEPARATOR);
        self.schema
            .tables
            .keys()
            .filter(|t| t.starts_with(&prefix))
            .cloned()
            .collect()
    }

    fn begin(&mut self, resource: Resource) -> Result<(), LoadError> {
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
        if resource.write_disposition == WriteDisposition::Replace {
            let mut tables = vec![resource.name.clone()];
            tables.extend(self.children_of(&resource.name));
            let refs: Vec<&str> = tables.iter().map(String::as_str).collect();
            self.dest.clear(&self.dataset, &refs)?;
        }
        let cursor = resource.incremental.as_ref().map(|inc| {
            Cursor::new(
                &inc.cursor_field,
                &inc.id_field,
                self.state.resources.get(&resource.name),
            )
        });
        let report = ResourceReport {
            name: resource.name.clone(),
            write_disposition: resource.write_disposition.to_string(),
            ..ResourceReport::default()
        };
        if let Some(p) = &self.progress {
            p(&Progress::Started(resource.name.clone()));
        }
        self.current = Some((resource, cursor, report));
        Ok(())
    }

    fn page(&mut self, page: Page) -> Result<(), LoadError> {
        let Some((resource, cursor, report)) = self.current.as_mut() else {
            return Err(LoadError::Aborted(
                "a page came outside a resource".to_owned(),
            ));
        };
        report.pages += 1;
        report.items += page.items.len() as u64;
        let items: Vec<serde_json::Value> = match cursor {
            Some(c) => page.items.into_iter().filter(|i| c.admit(i)).collect(),
            None => page.items,
        };
        report.skipped = report.items - (report.rows + items.len() as u64);
        let name = resource.name.clone();
        let merge = resource.write_disposition == WriteDisposition::Merge;
        let mut batch = Batch::default();
        self.normalizer
            .normalize(&mut self.schema, &name, &items, &mut batch);
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
                        rows.iter()
                            .map(|row| {
                                positions
                                    .iter()
                                    .map(|p| {
                                        p.and_then(|i| row.get(i).cloned()).unwrap_or(Cell::Null)
                                    })
                                    .collect()
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let children = self.children_of(&name);
                let refs: Vec<&str> = children.iter().map(String::as_str).collect();
                let root = root.clone();
                self.dest.delete_keys(&self.dataset, &root, &keys, &refs)?;
            }
        }
        for (table, rows) in &batch.tables {
            let schema_table = &self.schema.tables[table];
            let known = self.synced.get(table).copied().unwrap_or(0);
            if schema_table.columns.len() > known {
                self.dest.sync_table(&self.dataset, schema_table)?;
                self.synced
                    .insert(table.clone(), schema_table.columns.len());
            }
            self.dest.append(&self.dataset, schema_table, rows)?;
            *self.written.entry(table.clone()).or_default() += rows.len() as u64;
        }
        let (_, _, report) = self.current.as_mut().expect("checked above");
        report.rows += batch.rows_of(&name) as u64;
        report.child_rows += (batch.row_count() - batch.rows_of(&name)) as u64;
        if let Some(p) = &self.progress {
            p(&Progress::Page {
                resource: name,
                pages: report.pages,
                rows: report.rows,
            });
        }
        Ok(())
    }

    fn end(&mut self) {
        if let Some((resource, cursor, report)) = self.current.take() {
            if let Some(c) = cursor {
                self.state
                    .resources
                    .insert(resource.name.clone(), c.state());
            }
            if let Some(p) = &self.progress {
                p(&Progress::Finished(report.clone()));
            }
            self.reports.push(report);
        }
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
    let (tx, mut rx) = mpsc::channel::<Msg>(4);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<PipelineState>();
    let writer_load_id = load_id.clone();
    let schema_name = source.schema_name().to_owned();
    let writer = tokio::task::spawn_blocking(move || -> Result<Written, LoadError> {
        let mut dest = dest;
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
        let _ = ready_tx.send(state.clone());
        let mut w = Writer {
            dest,
            dataset: dataset.clone(),
            schema,
            state,
            synced,
            normalizer: Normalizer::new(&writer_load_id),
            written: indexmap::IndexMap::new(),
            reports: Vec::new(),
            current: None,
            progress,
        };
        let result = (|| -> Result<(), LoadError> {
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    Msg::Begin(r) => w.begin(r)?,
                    Msg::Page(p) => w.page(p)?,
                    Msg::End => w.end(),
                    Msg::Commit => return Ok(()),
                }
            }
            Err(LoadError::Aborted(
                "the load was interrupted before it ended; nothing of it was kept".to_owned(),
            ))
        })();
        if let Err(e) = result {
            w.dest.rollback();
            return Err(e);
        }
        let hash = w.schema.version_hash();
        let record = LoadRecord {
            load_id: writer_load_id,
            schema_name,
            schema_version_hash: hash.clone(),
        };
        if let Err(e) = w
            .dest
            .commit(&dataset, &pipeline, &record, &w.state, &w.schema)
        {
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

    // Read the sources while the writer writes; a failed send means the writer stopped.
    let reading = async {
        let Ok(state) = ready_rx.await else {
            return Ok(());
        };
        for resource in &options.resources {
            let start = resource
                .incremental
                .as_ref()
                .and_then(|_| state.resources.get(&resource.name))
                .and_then(|s| s.last_value.clone());
            if tx.send(Msg::Begin(resource.clone())).await.is_err() {
                return Ok(());
            }
            let mut pages = source.pages(resource, start);
            while let Some(page) = pages.next().await {
                let page = page.map_err(|error| LoadError::Source {
                    resource: resource.name.clone(),
                    error,
                })?;
                if tx.send(Msg::Page(page)).await.is_err() {
                    return Ok(());
                }
            }
            if tx.send(Msg::End).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    };
    let read: Result<(), LoadError> = reading.await;
    if let Err(e) = read {
        // Closing the channel without a commit makes the writer roll back.
        drop(tx);
        let _ = writer.await;
        return Err(e);
    }
    let _ = tx.send(Msg::Commit).await;
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
