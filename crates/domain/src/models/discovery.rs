//! Metadata discovery requests and activity queries.

use super::*;

/// A metadata discovery request (`POST pull_requests`, task `get_db_metadata`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryRequest {
    /// The source connector type (`properties.source.name` of the flow), e.g. `mysql`.
    pub datasource_id: String,
    /// The connection to discover.
    pub connection_id: ConnectionId,
    /// Restrict to these schemas (the API takes at most one).
    #[serde(default)]
    pub schemas: Option<Vec<String>>,
    /// Restrict to one table.
    #[serde(default)]
    pub table_name: Option<String>,
}

/// Query of the Activities endpoints. Each endpoint uses the fields that apply to it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivityQuery {
    /// Window start (required by every endpoint except run-group detail).
    #[serde(default)]
    pub start_time: Option<Timestamp>,
    /// Window end.
    #[serde(default)]
    pub end_time: Option<Timestamp>,
    /// Status filters (run status spellings).
    #[serde(default)]
    pub status: Vec<String>,
    /// Group filter.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Scheduled or not.
    #[serde(default)]
    pub is_scheduled: Option<bool>,
    /// Name substring.
    #[serde(default)]
    pub search: Option<String>,
    /// `src_to_trgt`, `actions` or `logic`.
    #[serde(default)]
    pub river_type: Option<String>,
    /// Target table filter.
    #[serde(default)]
    pub target_name: Option<String>,
    /// Run group filter (sent as `scheduler_id`, the Activities name).
    #[serde(default)]
    pub run_group_id: Option<String>,
    /// Sub data flow filter.
    #[serde(default)]
    pub sub_river_id: Option<String>,
    /// Page (paginated endpoints only).
    #[serde(default)]
    pub page: Option<PageQuery>,
    /// Sort key, verbatim.
    #[serde(default)]
    pub sort_by: Option<String>,
    /// Sort direction.
    #[serde(default)]
    pub sort_order: Option<SortOrder>,
    /// `return_last_runs` on the environment-wide activities list.
    #[serde(default)]
    pub return_last_runs: Option<bool>,
}
