//! Typed models of the upstream API's resources, requests and statuses.
//!
//! Every response model keeps the fields it does not name in `extra`, so that a read-modify-write
//! round trip loses nothing. Decoding is lenient where the real API is inconsistent (status
//! spellings, timestamps with and without a zone, `0`/`""`/`null` for "not ended").

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::Error;
use crate::ids::{ConnectionId, RunId};

/// Fields a model does not name, kept as they came.
pub type Extra = Map<String, Value>;

// ---------------------------------------------------------------------------------------------
// Timestamps

/// A UTC timestamp that parses every form the API uses: `...T18:38:55.640Z`, `...T13:38:44.054000`
/// (no zone, meaning UTC) and `...T00:00:00+00:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Parses any of the API's timestamp forms, or a bare date (midnight UTC).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return Ok(Self(dt.with_timezone(&Utc)));
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
                return Ok(Self(n.and_utc()));
            }
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            && let Some(n) = d.and_hms_opt(0, 0, 0)
        {
            return Ok(Self(n.and_utc()));
        }
        Err(Error::invalid(
            "timestamp",
            format!(
                "{} is not a valid time: use ISO 8601, e.g. 2026-05-25T00:00:00",
                crate::error::quote(s)
            ),
        ))
    }

    /// Parses a caller's time given as parameter `field`; the error names the parameter and says
    /// how to write a time.
    pub fn parse_for(field: &str, s: &str) -> Result<Self, Error> {
        Self::parse(s).map_err(|_| {
            Error::invalid(
                field,
                format!(
                    "{} is not a valid time: use ISO 8601 UTC, e.g. 2026-05-25T00:00:00",
                    crate::error::quote(s)
                ),
            )
        })
    }

    /// A time window `[start, end)` from a caller's two times, each named by its parameter: both
    /// must parse, and the window must not be empty.
    pub fn window_for(
        (start_field, start): (&str, &str),
        (end_field, end): (&str, &str),
    ) -> Result<(Self, Self), Error> {
        let window = (
            Self::parse_for(start_field, start)?,
            Self::parse_for(end_field, end)?,
        );
        Self::check_window((start_field, window.0), (end_field, window.1))
    }

    /// Checks a window of two times already known: `start` must come before `end`.
    pub fn check_window(
        (start_field, start): (&str, Self),
        (end_field, end): (&str, Self),
    ) -> Result<(Self, Self), Error> {
        if start >= end {
            return Err(Error::invalid(
                end_field,
                format!(
                    "{end_field} ({}) must be after {start_field} ({})",
                    crate::error::quote(&end.to_query()),
                    crate::error::quote(&start.to_query())
                ),
            ));
        }
        Ok((start, end))
    }

    /// The form the API's query parameters take: `YYYY-MM-DDTHH:MM:SS`, UTC, no zone.
    pub fn to_query(&self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%S").to_string()
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(&self) -> i64 {
        self.0.timestamp_millis()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Decodes an optional timestamp where `null`, `""`, `0` and an unparsable value all mean "none".
fn lenient_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.trim().is_empty() => Timestamp::parse(&s).ok(),
        _ => None,
    })
}

/// Decodes an optional integer where `null`, `""` and `0` mean "none".
fn lenient_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .filter(|v| *v != 0),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok().filter(|v| *v != 0),
        _ => None,
    })
}

/// Decodes a number that may come as a number, a numeric string or null.
fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64().unwrap_or_default(),
        Some(Value::String(s)) => s.trim().parse().unwrap_or_default(),
        _ => 0.0,
    })
}

/// Decodes a string that may be null into an empty string.
fn null_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Statuses

/// The status of an asynchronous operation (`PullRequestStatus`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OperationStatus {
    /// `W`: waiting (queued).
    Waiting,
    /// `R`: running.
    Running,
    /// `D`: done (success). Terminal.
    Done,
    /// `E`: error. Terminal.
    Error,
    /// Any other value, empty included; treated as still in progress, as the platform's own
    /// clients do.
    Other(String),
}

impl OperationStatus {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Waiting => "W",
            Self::Running => "R",
            Self::Done => "D",
            Self::Error => "E",
            Self::Other(s) => s,
        }
    }

    /// D and E end an operation; anything else means it is still in progress.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Done | Self::Error)
    }

    /// A readable word for people.
    pub fn describe(&self) -> &str {
        match self {
            Self::Waiting => "waiting",
            Self::Running => "running",
            Self::Done => "done",
            Self::Error => "error",
            Self::Other(s) if s.is_empty() => "pending",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for OperationStatus {
    fn from(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "W" => Self::Waiting,
            "R" => Self::Running,
            "D" => Self::Done,
            "E" => Self::Error,
            _ => Self::Other(s.to_owned()),
        }
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for OperationStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OperationStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(d)?
            .as_deref()
            .unwrap_or("")
            .into())
    }
}

/// The status of a run (`ActivityStatusEnum`), decoded leniently from every spelling in use.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// `pending`.
    Pending,
    /// `running`.
    Running,
    /// `succeeded` (also `success`, `succeed`).
    Succeeded,
    /// `failed`.
    Failed,
    /// `canceled` (also `cancelled`).
    Canceled,
    /// `skipped`.
    Skipped,
    /// `partially succeeded` (also `partially succeed`); run groups only.
    PartiallySucceeded,
    /// Anything else. Treated as terminal so that no wait spins forever; surfaced as is.
    Unknown(String),
}

impl RunStatus {
    /// The enum spelling (what the API's schema names).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Skipped => "skipped",
            Self::PartiallySucceeded => "partially succeeded",
            Self::Unknown(s) => s,
        }
    }

    /// The statuses a filter on runs may name.
    pub const FILTERS: [&'static str; 6] = [
        "pending",
        "running",
        "succeeded",
        "failed",
        "canceled",
        "skipped",
    ];

    /// A caller's run-status filter, given as parameter `field`: any spelling of a run status
    /// (`success`, `cancelled`, ...); anything else is refused, naming the valid ones.
    pub fn parse_filter(field: &str, value: &str) -> Result<Self, Error> {
        let status = Self::from(value);
        if Self::FILTERS.contains(&status.as_str()) {
            Ok(status)
        } else {
            Err(Error::invalid(
                field,
                format!(
                    "{} is not a run status: use one of {}",
                    crate::error::quote(value),
                    Self::FILTERS.join(", ")
                ),
            ))
        }
    }

    /// Only `pending` and `running` are in progress.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Pending | Self::Running)
    }

    /// `succeeded` and `partially succeeded` count as success.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Succeeded | Self::PartiallySucceeded)
    }
}

impl From<&str> for RunStatus {
    fn from(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().replace('_', " ").as_str() {
            "pending" | "queued" | "waiting" => Self::Pending,
            "running" | "in progress" => Self::Running,
            "succeeded" | "success" | "succeed" | "successful" => Self::Succeeded,
            "failed" | "failure" | "error" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            "skipped" => Self::Skipped,
            "partially succeeded" | "partially succeed" => Self::PartiallySucceeded,
            _ => Self::Unknown(s.to_owned()),
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RunStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RunStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(d)?
            .as_deref()
            .unwrap_or("")
            .into())
    }
}

// ---------------------------------------------------------------------------------------------
// Pagination

/// One page of a list endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items on this page (`data` is accepted too).
    #[serde(alias = "data")]
    pub items: Vec<T>,
    /// The page number (1-based).
    #[serde(default = "one")]
    pub page: u32,
    /// The number of items on this page.
    #[serde(default)]
    pub current_page_size: Option<u64>,
    /// The number of items across all pages.
    #[serde(default)]
    pub total_items: u64,
    /// The next page's URL, or null on the last page.
    #[serde(default, deserialize_with = "lenient_next")]
    pub next_page: Option<String>,
    /// The previous page's URL, or null on the first page.
    #[serde(default, deserialize_with = "lenient_next")]
    pub previous_page: Option<String>,
    /// Envelope fields this model does not name (`account_id`, `river_cross_id`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

fn one() -> u32 {
    1
}

/// `next_page` is a URL string, but integers and empty strings occur; "" and 0 mean none.
fn lenient_next<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(Value::Number(n)) if n.as_u64().unwrap_or(0) > 0 => Some(n.to_string()),
        _ => None,
    })
}

impl<T> Page<T> {
    /// A page holding all of `items` (used to report a whole sweep as one page).
    pub fn single(items: Vec<T>) -> Self {
        let n = items.len() as u64;
        Self {
            items,
            page: 1,
            current_page_size: Some(n),
            total_items: n,
            next_page: None,
            previous_page: None,
            extra: Extra::new(),
        }
    }

    /// Whether another page follows, judged robustly: `next_page` set, items present, and the
    /// count so far below `total_items`.
    pub fn has_next(&self, items_per_page: u32) -> bool {
        if self.items.is_empty() || self.next_page.is_none() {
            return false;
        }
        let seen = u64::from(self.page.saturating_sub(1)) * u64::from(items_per_page)
            + self.items.len() as u64;
        self.total_items == 0 || seen < self.total_items
    }

    /// Maps the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            current_page_size: self.current_page_size,
            total_items: self.total_items,
            next_page: self.next_page,
            previous_page: self.previous_page,
            extra: self.extra,
        }
    }
}

/// Page number and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageQuery {
    /// 1-based page number.
    pub page: u32,
    /// Items per page; always sent explicitly (the defaults differ per endpoint).
    pub items_per_page: u32,
}

impl Default for PageQuery {
    fn default() -> Self {
        Self {
            page: 1,
            items_per_page: 100,
        }
    }
}

impl PageQuery {
    /// Page `page` of size `items_per_page`.
    pub fn new(page: u32, items_per_page: u32) -> Self {
        Self {
            page,
            items_per_page,
        }
    }
}

/// Sort direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Newest or largest first.
    #[default]
    Desc,
    /// Oldest or smallest first.
    Asc,
}

impl SortOrder {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desc => "desc",
            Self::Asc => "asc",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

/// An asynchronous operation (activation, disable, metadata discovery).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// 24-hex id.
    pub operation_id: String,
    /// The kind of operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<String>,
    /// The run id of the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Last change, UTC.
    #[serde(
        default,
        deserialize_with = "lenient_ts",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_update_date: Option<Timestamp>,
    /// W, R, D or E.
    pub status: OperationStatus,
    /// The result: a string for toggles, the catalog for metadata discovery.
    #[serde(default)]
    pub result: Option<Value>,
    /// Set when the status is E.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What activate and disable answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Toggle {
    /// 202: an operation to follow with get_operation.
    Started {
        /// The operation.
        operation: Box<Operation>,
    },
    /// 204 or an empty 2xx: the flow was already in the requested state.
    AlreadyInState,
}

// ---------------------------------------------------------------------------------------------
// Runs

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

fn pending() -> RunStatus {
    RunStatus::Pending
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

// ---------------------------------------------------------------------------------------------
// Data flows

/// A data flow's full document (`RiverResponse`). The typed fields are the ones the tools read;
/// everything else, `properties` above all, is kept verbatim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataFlow {
    /// 24-hex id.
    #[serde(alias = "river_cross_id")]
    pub cross_id: String,
    /// Display name.
    pub name: String,
    /// `source_to_target`, `actions`, `logic`, `connector_executor`.
    #[serde(rename = "type", default)]
    pub flow_type: String,
    /// `metadata`: description, river_status, timestamps.
    #[serde(default)]
    pub metadata: Value,
    /// `settings`: timeouts, notifications; may be null.
    #[serde(default)]
    pub settings: Value,
    /// `properties`: source, target, schemas.
    #[serde(default)]
    pub properties: Value,
    /// Every other field (account_id, environment_id, group_id, schedulers, kind, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl DataFlow {
    /// `metadata.river_status`, when present.
    pub fn status(&self) -> Option<&str> {
        self.metadata.get("river_status").and_then(Value::as_str)
    }

    /// Whether the flow is active (logic flows are always active).
    pub fn is_active(&self) -> bool {
        self.status() == Some("active") || self.flow_type == "logic"
    }

    /// `properties.source.name`: the source connector type.
    pub fn source_name(&self) -> Option<&str> {
        self.properties
            .pointer("/source/name")
            .and_then(Value::as_str)
    }

    /// The whole document as JSON, for read-modify-write.
    pub fn to_document(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// A data flow as the list endpoint shows it (a different shape from the detail).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataFlowSummary {
    /// 24-hex id.
    #[serde(alias = "cross_id")]
    pub river_cross_id: String,
    /// Display name.
    #[serde(default, deserialize_with = "null_string")]
    pub name: String,
    /// `active` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub river_status: Option<String>,
    /// `source_to_target`, `logic`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub river_type: Option<String>,
    /// Group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The source's datasource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_id: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// False for flows created in the legacy console (get_data_flow refuses them).
    #[serde(default = "yes")]
    pub is_api_v2: bool,
    /// Cron expressions.
    #[serde(default)]
    pub river_schedulers: Option<Vec<String>>,
    /// Last change.
    #[serde(
        default,
        deserialize_with = "lenient_ts",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated_at: Option<Timestamp>,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

fn yes() -> bool {
    true
}

/// Sort key for data flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFlowSortBy {
    /// Last change (default).
    #[default]
    LastUpdatedAt,
    /// Source name.
    SourceName,
    /// Flow name.
    RiverName,
    /// Group name.
    GroupName,
    /// Group id.
    GroupId,
}

impl DataFlowSortBy {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastUpdatedAt => "last_updated_at",
            Self::SourceName => "source_name",
            Self::RiverName => "river_name",
            Self::GroupName => "group_name",
            Self::GroupId => "group_id",
        }
    }
}

/// Activation state filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowStatus {
    /// Active (scheduled).
    Active,
    /// Disabled.
    Disabled,
}

impl FlowStatus {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

/// Query of list_data_flows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataFlowQuery {
    /// Page and size (1..=500).
    pub page: PageQuery,
    /// Name filter.
    #[serde(default)]
    pub name: Option<String>,
    /// Status filter.
    #[serde(default)]
    pub river_status: Vec<FlowStatus>,
    /// Group name filter.
    #[serde(default)]
    pub group_name: Option<String>,
    /// Group id filter.
    #[serde(default)]
    pub group_id: Vec<String>,
    /// River type filter (`source_to_target`, `logic`, `actions`).
    #[serde(default)]
    pub river_type: Vec<String>,
    /// Include deleted flows.
    #[serde(default)]
    pub include_deleted: bool,
    /// Sort key.
    #[serde(default)]
    pub sort_by: DataFlowSortBy,
    /// Sort direction.
    #[serde(default)]
    pub sort_order: SortOrder,
}

// ---------------------------------------------------------------------------------------------
// Environments, connections, variables

/// An environment of the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Extra")]
pub struct Environment {
    /// 24-hex id (`cross_id`, or `_id`).
    pub cross_id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_string")]
    pub environment_name: String,
    /// Whether this is the account's default environment.
    #[serde(default)]
    pub is_default: bool,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Soft-deleted.
    #[serde(default)]
    pub is_deleted: bool,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A connection (secrets never included; `*_exists` flags stay in `extra`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Extra")]
pub struct Connection {
    /// 24-hex id, used as `connection_id` in data flows.
    pub cross_id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_string")]
    pub connection_name: String,
    /// Display name of the type in lists ("Oracle"); the slug on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    /// The type slug (`oracle`, `mysql`): what data flows and create need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type_id: Option<String>,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Connection {
    /// The type slug: `connection_type_id`, else `connection_type` lowercased.
    pub fn type_slug(&self) -> Option<String> {
        self.connection_type_id.clone().or_else(|| {
            self.connection_type
                .as_ref()
                .map(|t| t.to_ascii_lowercase())
        })
    }

    /// Whether the stored connection holds a secret (a `*_exists` flag is true), so that a PUT
    /// without credentials would wipe it.
    pub fn has_stored_secret(&self) -> bool {
        self.extra
            .iter()
            .any(|(k, v)| k.ends_with("_exists") && v.as_bool() == Some(true))
    }
}

// Connections and environments are decoded by hand because their list items carry both
// `cross_id` and `_id`, which a serde alias refuses as a duplicate field. `cross_id` wins, `_id`
// stays in `extra`; the derived field attributes above apply to serialization only.

/// Takes the id: `cross_id`, else `_id` (which then stays in `extra`).
fn take_cross_id(m: &mut Extra) -> Result<String, String> {
    let id = match m.remove("cross_id") {
        Some(Value::String(s)) => Some(s),
        _ => m.get("_id").and_then(Value::as_str).map(str::to_owned),
    };
    id.ok_or_else(|| "missing field `cross_id`".to_owned())
}

fn take_string(m: &mut Extra, key: &str) -> Option<String> {
    match m.remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(other) if !other.is_null() => {
            m.insert(key.to_owned(), other);
            None
        }
        _ => None,
    }
}

fn take_bool(m: &mut Extra, key: &str) -> bool {
    match m.remove(key) {
        Some(Value::Bool(b)) => b,
        Some(other) if !other.is_null() => {
            m.insert(key.to_owned(), other);
            false
        }
        _ => false,
    }
}

impl TryFrom<Extra> for Connection {
    type Error = String;

    fn try_from(mut m: Extra) -> Result<Self, String> {
        Ok(Self {
            cross_id: take_cross_id(&mut m)?,
            connection_name: take_string(&mut m, "connection_name").unwrap_or_default(),
            connection_type: take_string(&mut m, "connection_type"),
            connection_type_id: take_string(&mut m, "connection_type_id"),
            extra: m,
        })
    }
}

impl TryFrom<Extra> for Environment {
    type Error = String;

    fn try_from(mut m: Extra) -> Result<Self, String> {
        Ok(Self {
            cross_id: take_cross_id(&mut m)?,
            environment_name: take_string(&mut m, "environment_name").unwrap_or_default(),
            is_default: take_bool(&mut m, "is_default"),
            description: take_string(&mut m, "description"),
            is_deleted: take_bool(&mut m, "is_deleted"),
            extra: m,
        })
    }
}

/// Environment variables: a map of name to value.
pub type Variables = BTreeMap<String, String>;

// ---------------------------------------------------------------------------------------------
// Metadata discovery and activities

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

#[cfg(test)]
mod tests;
