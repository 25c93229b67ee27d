//! Tool results: compact, object-shaped structures with an output schema. Lists carry the fields
//! an agent needs and paging hints, not every server field.

use std::collections::BTreeMap;

use bdi_domain::models::{Connection, DataFlowSummary, Environment, Operation, Page, Run};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

pub use crate::bounded::Truncated;

/// A full JSON document (a data flow, a connection, an activity report).
pub type Doc = Map<String, Value>;

/// A model as a JSON document (every model serializes to an object).
pub fn document(model: &impl Serialize) -> Doc {
    match serde_json::to_value(model) {
        Ok(Value::Object(map)) => map,
        _ => Doc::new(),
    }
}

/// One data flow in a list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlowItem {
    /// Data flow id.
    pub data_flow_id: String,
    /// Name.
    pub name: String,
    /// active or disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// source_to_target, logic, actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Source connector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// False for flows created in the legacy console: get_data_flow cannot read them.
    pub is_api_v2: bool,
    /// Cron schedules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<String>,
    /// Last change, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_at: Option<String>,
}

impl From<DataFlowSummary> for FlowItem {
    fn from(f: DataFlowSummary) -> Self {
        Self {
            data_flow_id: f.river_cross_id,
            name: f.name,
            status: f.river_status,
            r#type: f.river_type,
            source: f.datasource_id,
            is_api_v2: f.is_api_v2,
            schedules: f.river_schedulers.unwrap_or_default(),
            last_updated_at: f.last_updated_at.map(|t| t.to_string()),
        }
    }
}

/// A page of items with paging hints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Listing<T> {
    /// The items.
    pub items: Vec<T>,
    /// Items across all pages.
    pub total_items: u64,
    /// This page's number.
    pub page: u32,
    /// Whether another page follows: call again with page + 1.
    pub has_next: bool,
}

impl<T> Listing<T> {
    /// Builds a listing from an upstream page.
    pub fn from_page<U>(page: Page<U>, items_per_page: u32, f: impl FnMut(U) -> T) -> Self {
        let has_next = page.has_next(items_per_page);
        let (total, number) = (page.total_items, page.page);
        Self {
            items: page.items.into_iter().map(f).collect(),
            total_items: total,
            page: number,
            has_next,
        }
    }
}

/// One run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunItem {
    /// Run id.
    pub run_id: String,
    /// Run group id (shared by the tables of one trigger).
    pub run_group_id: String,
    /// pending, running, succeeded, failed, canceled, skipped (or the upstream's word).
    pub status: String,
    /// Target table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Start, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_utc: Option<String>,
    /// End, UTC (absent while running).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_utc: Option<String>,
    /// Duration in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// RPU consumed.
    pub units: f64,
}

impl From<Run> for RunItem {
    fn from(r: Run) -> Self {
        Self {
            duration_seconds: r.duration_secs(),
            run_id: r.run_id,
            run_group_id: r.run_group_id,
            status: r.status.as_str().to_owned(),
            target_name: r.target_name,
            error_description: r.error_description.filter(|s| !s.is_empty()),
            start_date_utc: r.start_date_utc.map(|t| t.to_string()),
            end_date_utc: r.end_date_utc.map(|t| t.to_string()),
            units: r.units,
        }
    }
}

/// get_run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunResult {
    /// The run.
    #[serde(flatten)]
    pub run: RunItem,
    /// Whether the run has ended.
    pub finished: bool,
    /// What to do next.
    pub next_step: String,
}

/// get_run_logs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LogsResult {
    /// Run id.
    pub run_id: String,
    /// Lines in the whole log (CSV header excluded).
    pub total_lines: usize,
    /// Lines returned here.
    pub returned_lines: usize,
    /// Set when lines were left out (tail_lines, errors_only, or the result's budget): how many,
    /// why, and which argument returns them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
    /// The CSV text: the header, then the selected lines.
    pub csv: String,
    /// Set when the log is empty: the source may keep no logs, or logs expired (about 2 weeks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An operation.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OperationResult {
    /// Operation id.
    pub operation_id: String,
    /// W (waiting), R (running), D (done), E (error).
    pub status: String,
    /// Whether it has ended (D or E).
    pub finished: bool,
    /// Set on E.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The result value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Last change, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_date: Option<String>,
    /// What to do next, when the operation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
}

impl From<Operation> for OperationResult {
    fn from(op: Operation) -> Self {
        let next_step =
            bdi_domain::service::explain_operation(&op).map(|s| crate::errors::hint(&s));
        Self {
            finished: op.status.is_terminal(),
            status: op.status.as_str().to_owned(),
            operation_id: op.operation_id,
            error_message: op.error_message,
            result: op.result,
            last_update_date: op.last_update_date.map(|t| t.to_string()),
            next_step,
        }
    }
}

/// activate_data_flow and disable_data_flow.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ToggleResult {
    /// Data flow id.
    pub data_flow_id: String,
    /// True once the flow is active (activate_data_flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated: Option<bool>,
    /// True once the flow is disabled (disable_data_flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// The flow was already in the requested state (no operation started).
    pub already: bool,
    /// The operation, when one was started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationResult>,
    /// One line saying where things stand.
    pub message: String,
}

/// run_data_flow.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunTriggerResult {
    /// Data flow id.
    pub data_flow_id: String,
    /// The run group of this trigger (pass it to get_run or list_runs).
    pub run_group_id: String,
    /// The first run's id (pass it to get_run and get_run_logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Status: pending right after the trigger, the final status after a finished wait.
    pub status: String,
    /// Whether the run has ended.
    pub finished: bool,
    /// The final run, after a wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunItem>,
    /// Upstream messages about the started runs ("already in progress").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
    /// One line saying where things stand and what to do next.
    pub message: String,
}

/// A deletion.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Deleted {
    /// Always true.
    pub deleted: bool,
    /// The data flow deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_flow_id: Option<String>,
    /// The connection deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

/// set_data_flow_source_tables.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TablesResult {
    /// Data flow id.
    pub data_flow_id: String,
    /// The selected tables, schema.table with the connection's casing.
    pub tables: Vec<String>,
    /// Number of tables.
    pub count: usize,
    /// What to do next.
    pub next_step: String,
}

/// One environment.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EnvironmentItem {
    /// Environment id.
    pub environment_id: String,
    /// Name.
    pub name: String,
    /// The account's default environment.
    pub is_default: bool,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl From<Environment> for EnvironmentItem {
    fn from(e: Environment) -> Self {
        Self {
            environment_id: e.cross_id,
            name: e.environment_name,
            is_default: e.is_default,
            description: e.description,
        }
    }
}

/// One connection.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectionItem {
    /// Connection id: use it as source_connection_id / target_connection_id.
    pub connection_id: String,
    /// Name.
    pub name: String,
    /// Type slug (connection_type_id), what create_data_flow takes as source_name / target_name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_id: Option<String>,
    /// Display name of the type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
}

impl From<Connection> for ConnectionItem {
    fn from(c: Connection) -> Self {
        Self {
            type_id: c.type_slug(),
            connection_id: c.cross_id,
            name: c.connection_name,
            type_name: c.connection_type,
        }
    }
}

/// list_connections.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectionListing {
    /// Every connection of the environment.
    pub items: Vec<ConnectionItem>,
    /// Items across all pages.
    pub total_items: u64,
    /// Always 1: every page was swept.
    pub page: u32,
    /// Always false: every page was swept.
    pub has_next: bool,
    /// Pages that failed upstream and are missing from items.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete_pages: Vec<u32>,
}

/// list_variables.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VariablesResult {
    /// Name to value.
    pub variables: BTreeMap<String, String>,
    /// Number of variables.
    pub count: usize,
}

/// upsert_variables.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UpsertResult {
    /// Always true.
    pub updated: bool,
    /// Variables written.
    pub count: usize,
}

/// get_activity_summary and get_data_flow_activity.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ActivityResult {
    /// RPU and run counts for the window.
    pub statistics: Value,
    /// Per data flow activity (get_activity_summary with include_data_flows) or per target table
    /// status (get_data_flow_activity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Value>,
}

/// sync_history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SyncHistoryResult {
    /// True when the load committed; false when it is still going in the server.
    pub done: bool,
    /// What happened, and what to call next.
    pub message: String,
    /// Where the history lives (no password).
    pub destination: String,
    /// The load's id, when done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_id: Option<String>,
    /// Seconds the load took, when done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Rows read per resource (root rows), when done.
    pub resources: BTreeMap<String, u64>,
    /// Resources left out because the token lacks their scope: resource -> scope.
    pub skipped: BTreeMap<String, String>,
}

/// query_history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct QueryHistoryResult {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, one value per column.
    pub rows: Vec<Vec<Value>>,
    /// Rows returned.
    pub row_count: usize,
    /// Set when rows were left out (the query read 200 rows or 64 KB, or the result's budget):
    /// why, and how to get them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
}

/// One toolset of `--toolsets dynamic`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ToolsetItem {
    /// Its name.
    pub name: String,
    /// Whether all its tools are listed.
    pub enabled: bool,
    /// Its tools that this server offers.
    pub tools: Vec<String>,
}

/// enable_toolset.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ToolsetsResult {
    /// Every toolset.
    pub toolsets: Vec<ToolsetItem>,
    /// The tools this call enabled.
    pub added: Vec<String>,
    /// Where things stand.
    pub message: String,
}
