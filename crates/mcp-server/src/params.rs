//! Tool arguments: the JSON Schemas the model reads. Names match the vendor's server so prompts
//! written for it work unchanged; ids are plain strings here and are validated by the handlers
//! before any upstream request.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Only an optional environment.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EnvArgs {
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_operation.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct OperationArgs {
    /// From activate_data_flow or disable_data_flow.
    pub operation_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// Tools that take one data flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FlowArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// list_runs.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListRunsArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// ISO 8601 UTC, e.g. "2026-05-25T00:00:00".
    pub start_time: String,
    /// ISO 8601 UTC.
    pub end_time: String,
    /// Only this trigger's runs.
    #[serde(default)]
    pub run_group_id: Option<String>,
    /// Only this target table.
    #[serde(default)]
    pub target_name: Option<String>,
    /// Keep only this status among the page.
    #[serde(default)]
    pub status: Option<String>,
    /// From 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// 1 to 200 (default 20).
    #[serde(default)]
    pub items_per_page: Option<u32>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_run.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// Run id or run group id.
    pub run_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_run_logs.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunLogsArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// Run id.
    pub run_id: String,
    /// Last N lines (default 200; 0: all).
    #[serde(default)]
    pub tail_lines: Option<usize>,
    /// Only warning and error lines.
    #[serde(default)]
    pub errors_only: bool,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// create_data_flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateFlowArgs {
    /// Display name.
    pub name: String,
    /// Source type_id, e.g. mysql.
    pub source_name: String,
    /// connection_id of the source.
    pub source_connection_id: String,
    /// Target type_id, e.g. snowflake.
    pub target_name: String,
    /// connection_id of the target.
    pub target_connection_id: String,
    /// append (default), merge or replace.
    #[serde(default)]
    pub loading_method: Option<String>,
    /// Merged into properties.target, e.g. {"database_name": "DB", "schema_name": "PUBLIC"}.
    #[serde(default)]
    pub target_settings: Option<Map<String, Value>>,
    /// Stored in metadata.description.
    #[serde(default)]
    pub description: Option<String>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// list_data_flows.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListFlowsArgs {
    /// Case-insensitive substring.
    #[serde(default)]
    pub name: Option<String>,
    /// active or disabled.
    #[serde(default)]
    pub status: Option<String>,
    /// From 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// 1 to 500 (default 20).
    #[serde(default)]
    pub items_per_page: Option<u32>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// update_data_flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateFlowArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// The full data flow document.
    pub body: Map<String, Value>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// patch_data_flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PatchFlowArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// E.g. {"name": "New name"}.
    pub patch: Map<String, Value>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// set_data_flow_source_tables.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SetTablesArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// connection_id of the source.
    pub source_connection_id: String,
    /// ALL tables, e.g. ["orders", "sales.customers"] (schema.table when ambiguous).
    pub table_names: Vec<String>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// activate_data_flow and run_data_flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WaitFlowArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// Return the final state.
    #[serde(default)]
    pub wait: bool,
    /// Longest wait, seconds.
    #[serde(default)]
    pub wait_timeout_seconds: Option<u64>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// create_connection.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateConnectionArgs {
    /// Flat connection fields.
    pub body: Map<String, Value>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// update_connection.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateConnectionArgs {
    /// Connection id.
    pub connection_id: String,
    /// Fields to change, credentials included.
    pub body: Map<String, Value>,
    /// Allow clearing stored credentials.
    #[serde(default)]
    pub allow_credential_reset: bool,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// delete_connection.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConnectionArgs {
    /// Connection id.
    pub connection_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// One variable.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VariableItem {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// upsert_variables.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpsertVariablesArgs {
    /// Variables to set.
    pub variables: Vec<VariableItem>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// list_environments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListEnvironmentsArgs {
    /// Include deleted ones.
    #[serde(default)]
    pub include_deleted: bool,
}

/// get_activity_summary.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ActivitySummaryArgs {
    /// ISO 8601 UTC.
    pub start_time: String,
    /// ISO 8601 UTC.
    pub end_time: String,
    /// Data flow name contains.
    #[serde(default)]
    pub search: Option<String>,
    /// Add each data flow (up to 50).
    #[serde(default)]
    pub include_data_flows: bool,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_data_flow_activity and list_run_groups.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FlowActivityArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// ISO 8601 UTC.
    pub start_time: String,
    /// ISO 8601 UTC.
    pub end_time: String,
    /// Only this run status.
    #[serde(default)]
    pub status: Option<String>,
    /// From 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_run_group.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunGroupArgs {
    /// Data flow id.
    pub data_flow_id: String,
    /// Run group id.
    pub run_group_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// sync_history.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SyncHistoryArgs {
    /// First sync's start: "30d", "12h", "2w" or a date (default "14d").
    #[serde(default)]
    pub since: Option<String>,
    /// Longest wait, seconds; the sync goes on after it.
    #[serde(default)]
    pub wait_timeout_seconds: Option<u64>,
    /// Only this environment (default: all).
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// query_history.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct QueryHistoryArgs {
    /// One SELECT, e.g. "select status, count(*) from runs group by status".
    pub sql: String,
}

/// describe_history.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct DescribeHistoryArgs {}

/// enable_toolset.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct EnableToolsetArgs {
    /// The toolset to enable; absent: list them.
    #[serde(default)]
    pub toolset: Option<String>,
}
