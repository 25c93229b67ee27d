//! Runs, run triggers and run queries.

use super::*;

/// One run of a data flow (one table of a multi-table flow, under a run group).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// 32-hex run id.
    pub run_id: String,
    /// The data flow.
    #[serde(default, deserialize_with = "null_string")]
    pub river_cross_id: String,
    /// The run group shared by the tables of one trigger.
    #[serde(default, deserialize_with = "null_string")]
    pub run_group_id: String,
    /// Lenient status.
    pub status: RunStatus,
    /// Why it failed.
    #[serde(default)]
    pub error_description: Option<String>,
    /// The source's datasource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_id: Option<String>,
    /// The source name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The target table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// RPU consumed.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub units: f64,
    /// RPU consumed (same as units).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rpu: f64,
    /// Start, UTC.
    #[serde(default, deserialize_with = "lenient_ts")]
    pub start_date_utc: Option<Timestamp>,
    /// Start in epoch milliseconds.
    #[serde(default, deserialize_with = "lenient_millis")]
    pub start_date_in_milliseconds: Option<i64>,
    /// End, UTC; none while running (`null`, `""` or `0` upstream).
    #[serde(default, deserialize_with = "lenient_ts")]
    pub end_date_utc: Option<Timestamp>,
    /// End in epoch milliseconds.
    #[serde(default, deserialize_with = "lenient_millis")]
    pub end_date_in_milliseconds: Option<i64>,
    /// The sub data flow, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_river_id: Option<String>,
    /// Whether this run belongs to a sub data flow.
    #[serde(default)]
    pub is_sub_river_run: bool,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Run {
    /// Duration in seconds, when both ends are known.
    pub fn duration_secs(&self) -> Option<f64> {
        let (s, e) = (self.start_date_utc?, self.end_date_utc?);
        Some((e.0 - s.0).num_milliseconds() as f64 / 1000.0)
    }
}

/// One run started by a trigger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriggeredRun {
    /// 32-hex run id.
    #[serde(default, deserialize_with = "null_string")]
    pub run_id: String,
    /// Initial status, usually `pending`.
    #[serde(default = "pending")]
    pub status: RunStatus,
    /// A condition such as "The river is already in progress.".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The sub data flow, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_river_id: Option<String>,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to a run trigger (202).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunTriggered {
    /// The runs started; may be empty.
    #[serde(default)]
    pub runs: Vec<TriggeredRun>,
    /// The data flow.
    #[serde(default, deserialize_with = "null_string")]
    pub river_cross_id: String,
    /// The run group of this trigger.
    #[serde(default, deserialize_with = "null_string")]
    pub run_group_id: String,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Sort key for runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunSortBy {
    /// By start time (default).
    #[default]
    StartTime,
    /// By RPU.
    Units,
    /// By table name.
    TableName,
}

impl RunSortBy {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartTime => "start_time",
            Self::Units => "units",
            Self::TableName => "table_name",
        }
    }
}

/// Query of list_runs. `start_time` and `end_time` are required by the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunQuery {
    /// Window start, UTC.
    pub start_time: Timestamp,
    /// Window end, UTC.
    pub end_time: Timestamp,
    /// Filter by target table.
    #[serde(default)]
    pub target_name: Option<String>,
    /// Filter by run group.
    #[serde(default)]
    pub run_group_id: Option<RunId>,
    /// Filter by sub data flow.
    #[serde(default)]
    pub sub_river_id: Option<String>,
    /// Page (1..) and size (1..=200).
    pub page: PageQuery,
    /// Sort key.
    #[serde(default)]
    pub sort_by: RunSortBy,
    /// Sort direction.
    #[serde(default)]
    pub sort_order: SortOrder,
}

impl RunQuery {
    /// A query for one window with the default page (1, 100) and order.
    pub fn window(start_time: Timestamp, end_time: Timestamp) -> Self {
        Self {
            start_time,
            end_time,
            target_name: None,
            run_group_id: None,
            sub_river_id: None,
            page: PageQuery::default(),
            sort_by: RunSortBy::default(),
            sort_order: SortOrder::default(),
        }
    }
}
