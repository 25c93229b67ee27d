//! The source seam: what a source offers (its resources, each with how it is written and, when
//! incremental, its cursor) and how it reads them (a stream of pages). A source does its own I/O;
//! the pipeline and the normalizer never see HTTP.

use futures::stream::BoxStream;
use serde_json::value::RawValue;

use crate::normalize::Scrub;
use crate::schema::WriteDisposition;

/// An incremental resource's cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incremental {
    /// The field of an item that orders it (`occurredAt`).
    pub cursor_field: String,
    /// The field that identifies an item (`id`), to skip the rows seen at the last value.
    pub id_field: String,
    /// For items that change after they are first seen (a run's status): each load reads again
    /// from this long before the last value and merges what it reads, skipping nothing as seen.
    pub lookback: Option<std::time::Duration>,
}

/// One resource of a source: a root table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// Its name, which is its table's name.
    pub name: String,
    /// How a load writes it.
    pub write_disposition: WriteDisposition,
    /// The primary key columns (normalized names), for merge.
    pub primary_key: Vec<String>,
    /// The cursor, when the resource loads incrementally.
    pub incremental: Option<Incremental>,
}

/// Items read from a source.
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// The items (JSON objects), each as its JSON text: the normalizer reads rows straight from
    /// it.
    pub items: Vec<Box<RawValue>>,
    /// What the source found wrong while reading (a total that disagrees with the items
    /// returned, say): the load goes on, and its report shows these as warnings.
    pub notes: Vec<String>,
}

/// Why a source could not read a resource: the error of the API it reads, kept as its own type
/// so that a caller tells a Boomi Flow failure from a Data Integration one by type, never by
/// text (a Boomi Flow 429 is not the Data Integration platform's limit).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The Boomi Flow API failed ([`crate::boomi_flow`]).
    #[error(transparent)]
    BoomiFlow(#[from] bdi_api_client::BoomiFlowError),
    /// The Data Integration API or the domain failed ([`crate::history`]).
    #[error(transparent)]
    DataIntegration(#[from] bdi_domain::Error),
    /// The source has no resource of this name.
    #[error("unknown resource {name:?}: one of {known}")]
    UnknownResource {
        /// The name asked for.
        name: String,
        /// The source's resources, comma-separated.
        known: String,
    },
}

/// A source of resources.
pub trait Source: Send + Sync {
    /// The schema name recorded with each load (`boomi_flow`).
    fn schema_name(&self) -> &str;

    /// What must never be written: credentials the source's API may return.
    fn scrub(&self) -> Scrub {
        Scrub::default()
    }

    /// The pages of `resource`, in order; an incremental resource starts at `start` (inclusive).
    fn pages<'a>(
        &'a self,
        resource: &'a Resource,
        start: Option<String>,
    ) -> BoxStream<'a, Result<Page, SourceError>>;
}
