//! The loading engine of bdi: resources read from a source, normalized into tables the way dlt's
//! relational normalizer does, and written to a destination in one transaction per load.
//!
//! - [`source`]: the source seam ([`source::Source`]: resources and their pages), [`boomi_flow`],
//!   the Boomi Flow API as a source, and [`history`], the run history of Data Integration;
//! - [`normalize`], [`naming`], [`schema`]: dlt's relational normalizer, naming and typing;
//! - [`state`]: incremental cursors and the state kept in the destination;
//! - [`dataset`]: the dataset whatever the engine (system tables, commit protocol, stored schema
//!   and its tree, `info`), over a [`dataset::Driver`] per engine;
//! - [`destination`]: the destination seam and its engines, DuckDB (feature `duckdb`) and
//!   PostgreSQL (feature `postgres`);
//!   [`location`]: a destination as a user names it (`duckdb:PATH`, `postgres://...`);
//! - [`pipeline`]: a load end to end, one transaction;
//! - [`query`]: read-only SQL on a dataset, guarded and limited; [`sql_worker`]: that SQL run in
//!   a worker process of its own, so that no query can take down the process that serves it.

pub mod boomi_flow;
pub mod dataset;
pub mod destination;
pub mod history;
pub mod location;
pub mod naming;
pub mod normalize;
pub mod pipeline;
pub mod query;
pub mod rows;
pub mod schema;
pub mod source;
pub mod sql_worker;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use destination::{DatasetStep, Destination, DestinationError, EngineError, Holder};
pub use pipeline::{LoadError, LoadOptions, LoadReport, Progress, ResourceReport, load};
pub use schema::WriteDisposition;
pub use source::{Incremental, Page, Resource, Source, SourceError};

/// Makes the unit-test binary a worker for the queries its tests run in worker processes
/// ([`sql_worker`]); run on its own, it returns at once.
#[cfg(test)]
#[test]
fn bdi_sql_worker() {
    sql_worker::serve_if_asked();
}
