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
    /// Operation id (24-hex) returned by activate_data_flow or disable_data_flow.
    pub operation_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// Tools that take one data flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FlowArgs {
    /// Data flow id (24-hex), from list_data_flows.
    pub data_flow_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// list_runs.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListRunsArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// Window start, ISO 8601 UTC, e.g. "2026-05-25T00:00:00".
    pub start_time: String,
    /// Window end, ISO 8601 UTC. Keep windows to 30 days or less.
    pub end_time: String,
    /// Only runs of this run group (32-hex), e.g. the run_group_id from run_data_flow.
    #[serde(default)]
    pub run_group_id: Option<String>,
    /// Only runs of this target table.
    #[serde(default)]
    pub target_name: Option<String>,
    /// Keep only runs with this status (pending, running, succeeded, failed, canceled, skipped) among the page fetched.
    #[serde(default)]
    pub status: Option<String>,
    /// Page number, from 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// Runs per page, 1 to 200 (default 20).
    #[serde(default)]
    pub items_per_page: Option<u32>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_run.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// Run id or run group id (32-hex) from run_data_flow or list_runs.
    pub run_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_run_logs.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunLogsArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// Run id (32-hex).
    pub run_id: String,
    /// Return only the last N log lines (default 200; 0 = all).
    #[serde(default)]
    pub tail_lines: Option<usize>,
    /// Return only warning and error lines.
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
    /// Source connector type as list_connections shows it (connection_type_id), e.g. mysql, postgres, salesforce.
    pub source_name: String,
    /// cross_id of the source connection (list_connections).
    pub source_connection_id: String,
    /// Target connector type, e.g. snowflake, bigquery, redshift.
    pub target_name: String,
    /// cross_id of the target connection.
    pub target_connection_id: String,
    /// append (default), merge, or replace (overwrite).
    #[serde(default)]
    pub loading_method: Option<String>,
    /// Target-specific fields merged into properties.target, e.g. {"database_name": "MY_DB", "schema_name": "PUBLIC"}.
    #[serde(default)]
    pub target_settings: Option<Map<String, Value>>,
    /// Description, stored in metadata.description.
    #[serde(default)]
    pub description: Option<String>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// list_data_flows.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListFlowsArgs {
    /// Filter by name (case-insensitive substring). Use it whenever the user names a flow.
    #[serde(default)]
    pub name: Option<String>,
    /// Filter by status: active or disabled.
    #[serde(default)]
    pub status: Option<String>,
    /// Page number, from 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// Flows per page, 1 to 500 (default 20).
    #[serde(default)]
    pub items_per_page: Option<u32>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// update_data_flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateFlowArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// The full data flow document (name, type, metadata, settings, properties, ...); server-managed fields are removed.
    pub body: Map<String, Value>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// patch_data_flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PatchFlowArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// JSON Merge Patch: objects merge, lists and values replace, null removes a key. E.g. {"name": "New name"}.
    pub patch: Map<String, Value>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// set_data_flow_source_tables.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SetTablesArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// cross_id of the source connection (list_connections).
    pub source_connection_id: String,
    /// ALL tables to sync, e.g. ["orders", "sales.customers"]; replaces the whole selection. Case-insensitive; use schema.table when a name exists in several schemas.
    pub table_names: Vec<String>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// activate_data_flow and run_data_flow.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WaitFlowArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// Block until the work finishes (or the wait budget runs out) and return the final state.
    #[serde(default)]
    pub wait: bool,
    /// Longest wait in seconds when wait=true (default: 50 without progress support, 600 with).
    #[serde(default)]
    pub wait_timeout_seconds: Option<u64>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// create_connection.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateConnectionArgs {
    /// Flat body: {"connection_name": ..., "connection_type": "<slug, e.g. postgres>", host, port, username, password, ...}.
    pub body: Map<String, Value>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// update_connection.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateConnectionArgs {
    /// Connection id (cross_id, 24-hex).
    pub connection_id: String,
    /// Fields to change, merged into the current connection. Include the credentials again: the API cannot read them back.
    pub body: Map<String, Value>,
    /// Allow an update that clears stored credentials.
    #[serde(default)]
    pub allow_credential_reset: bool,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// delete_connection.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConnectionArgs {
    /// Connection id (cross_id, 24-hex).
    pub connection_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// One variable.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VariableItem {
    /// Name (no '.' or '$').
    pub name: String,
    /// Value.
    pub value: String,
}

/// upsert_variables.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpsertVariablesArgs {
    /// Variables to create or update; others are left untouched.
    pub variables: Vec<VariableItem>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// list_environments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListEnvironmentsArgs {
    /// Include soft-deleted environments.
    #[serde(default)]
    pub include_deleted: bool,
}

/// get_activity_summary.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ActivitySummaryArgs {
    /// Window start, ISO 8601 UTC.
    pub start_time: String,
    /// Window end, ISO 8601 UTC.
    pub end_time: String,
    /// Only data flows whose name contains this.
    #[serde(default)]
    pub search: Option<String>,
    /// Also list per data flow activity (page 1, up to 50 flows).
    #[serde(default)]
    pub include_data_flows: bool,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_data_flow_activity and list_run_groups.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FlowActivityArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// Window start, ISO 8601 UTC.
    pub start_time: String,
    /// Window end, ISO 8601 UTC.
    pub end_time: String,
    /// Only this status: pending, running, succeeded, failed, canceled.
    #[serde(default)]
    pub status: Option<String>,
    /// Page number for run groups, from 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// get_run_group.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunGroupArgs {
    /// Data flow id (24-hex).
    pub data_flow_id: String,
    /// Run group id (32-hex) from run_data_flow or list_run_groups.
    pub run_group_id: String,
    /// Environment id (24-hex); defaults to the configured environment.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// sync_history.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SyncHistoryArgs {
    /// Where a first sync starts: a duration back from now ("30d", "12h", "2w") or a date
    /// ("2026-11-01"); default "14d". Later syncs continue from the last run loaded.
    #[serde(default)]
    pub since: Option<String>,
    /// Longest wait in seconds (default: 50 without progress support, 600 with); past it the
    /// sync goes on in the server and describe_history shows when it ends.
    #[serde(default)]
    pub wait_timeout_seconds: Option<u64>,
    /// Only this environment (24-hex); default: every environment the token sees.
    #[serde(default)]
    pub environment_id: Option<String>,
}

/// query_history.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct QueryHistoryArgs {
    /// One SELECT (or WITH ... SELECT) statement on the history tables, e.g. "select status, count(*) from runs group by status".
    pub sql: String,
}

/// describe_history.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct DescribeHistoryArgs {}
