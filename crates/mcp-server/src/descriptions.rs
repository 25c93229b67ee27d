//! Tool descriptions: what the model reads. Each says when to use the tool, what to check first
//! and what comes back, in as few words as that takes: every byte here is paid for in every
//! conversation (issue #25). The longer guidance of each tool is in [`GUIDE`], served as the
//! resource `bdi://guide` (and in `docs/mcp-tools.md`).

/// Server instructions: what every tool shares, said once.
pub const INSTRUCTIONS: &str = "Boomi Data Integration (formerly Rivery): data flows (the API calls them rivers) move tables from a source connection to a target.\n\
Typical work: list_connections -> create_data_flow -> set_data_flow_source_tables (ALL tables in one call) -> activate_data_flow(wait=true) -> run_data_flow(wait=true) -> get_run / get_run_logs on failure.\n\
Ask the user which flow they mean and filter list_data_flows by name. data_flow_id is a flow's 24-hex id from list_data_flows; ids are 24-hex (flows, connections, environments, operations) or 32-hex (runs, run groups). environment_id is optional everywhere: the configured environment is the default.\n\
Each tool's detailed guidance (prerequisites, errors and their fixes) is the resource bdi://guide.";

/// get_operation.
pub const GET_OPERATION: &str = "Status of the operation_id that activate_data_flow or disable_data_flow returned: W waiting, R running, D done, E error (error_message says why). For runs use get_run.";

/// list_runs.
pub const LIST_RUNS: &str = "Runs of one data flow between start_time and end_time (ISO 8601 UTC, at most 30 days): run_id, run_group_id, status, target_name, times, error_description. has_next: ask for page + 1.";

/// get_run.
pub const GET_RUN: &str = "One run (run_id, or the run_group_id of run_data_flow): status (pending, running, succeeded, failed, canceled, skipped) and error_description. On failure: get_run_logs(errors_only=true).";

/// get_run_logs.
pub const GET_RUN_LOGS: &str = "A run's log as CSV, the last 200 lines unless tail_lines says otherwise (0: all); errors_only keeps warnings and errors. Check the run with get_run first. Says how many lines were left out.";

/// create_data_flow.
pub const CREATE_DATA_FLOW: &str = "Create a disabled source-to-target data flow from list_connections' type_id and connection_id of each side. Returns the flow; next: set_data_flow_source_tables, then activate_data_flow.";

/// list_data_flows.
pub const LIST_DATA_FLOWS: &str = "Data flows, one page: data_flow_id, name, status, type, source, is_api_v2 (false: get_data_flow cannot read it). Ask the user which flow and filter by name; do not list speculatively.";

/// update_data_flow.
pub const UPDATE_DATA_FLOW: &str = "Replace a data flow with a full document (as get_data_flow returns it). Prefer patch_data_flow for a few fields. An active flow is refused: disable_data_flow first. Returns the flow.";

/// set_source_tables.
pub const SET_SOURCE_TABLES: &str = "Select the tables a data flow syncs by name, replacing the WHOLE selection: pass ALL tables in one call. Writes nothing unless every name matches (returns the closest ones). Next: activate_data_flow.";

/// patch_data_flow.
pub const PATCH_DATA_FLOW: &str = "Change some fields of a data flow with a JSON Merge Patch (objects merge, lists replace, null removes). Never patch properties.schemas: use set_data_flow_source_tables. Returns the flow.";

/// delete_data_flow.
pub const DELETE_DATA_FLOW: &str = "Delete a data flow for good. Confirm with the user first; an active flow is refused: disable_data_flow, then delete.";

/// get_data_flow.
pub const GET_DATA_FLOW: &str = "A data flow's full document (metadata.river_status, settings, properties.source/target/schemas, schedulers). Only for is_api_v2 flows of list_data_flows.";

/// activate_data_flow.
pub const ACTIVATE_DATA_FLOW: &str = "Activate a data flow whose tables are selected. wait=true returns the final operation (D active, E failed, with a next step); without it, the operation_id for get_operation.";

/// disable_data_flow.
pub const DISABLE_DATA_FLOW: &str = "Disable (pause) a data flow, waiting until it is disabled: needed before delete_data_flow and before changing a CDC flow. Returns the outcome.";

/// run_data_flow.
pub const RUN_DATA_FLOW: &str = "Run an activated data flow now. Returns run_group_id and run_id at once (do not poll); wait=true returns the final run, or says it is still going. At most 2 runs a minute per flow.";

/// list_environments.
pub const LIST_ENVIRONMENTS: &str = "The account's environments: environment_id, name, is_default. Pass environment_id to other tools to work outside the default one.";

/// list_connections.
pub const LIST_CONNECTIONS: &str = "The environment's connections, every page in one call: connection_id (for source_connection_id, target_connection_id) and type_id (for source_name, target_name).";

/// create_connection.
pub const CREATE_CONNECTION: &str = "Create a connection from flat fields (connection_name, connection_type slug, host, port, username, password...). OAuth types (Google, Salesforce, HubSpot...) are refused: the user makes them in the console.";

/// update_connection.
pub const UPDATE_CONNECTION: &str = "Merge a body into a connection. Credentials cannot be read back and a write without them clears them: include them again, or pass allow_credential_reset=true. Returns the connection.";

/// delete_connection.
pub const DELETE_CONNECTION: &str = "Delete a connection for good. Confirm with the user and check with list_data_flows that no flow uses it first. Returns deleted and connection_id.";

/// list_variables.
pub const LIST_VARIABLES: &str = "The environment's variables (name to value), read by its data flows at run time. Check them before upsert_variables; do not repeat a secret value unless asked.";

/// upsert_variables.
pub const UPSERT_VARIABLES: &str = "Create or update environment variables; those not named stay as they are. Names cannot contain . or $.";

/// get_activity_summary.
pub const GET_ACTIVITY_SUMMARY: &str = "What ran, failed and cost (RPU) in an environment over a time window; include_data_flows=true adds each data flow.";

/// get_data_flow_activity.
pub const GET_DATA_FLOW_ACTIVITY: &str = "One data flow's RPU and run counts over a time window, and the status of each target table: which tables fail.";

/// list_run_groups.
pub const LIST_RUN_GROUPS: &str = "A data flow's run groups (one per trigger) in a time window, newest first: run_group_id, status, RPU, duration. has_next: ask for page + 1.";

/// get_run_group.
pub const GET_RUN_GROUP: &str =
    "One run group: status, RPU and how many of its table runs are in each status.";

/// sync_history.
pub const SYNC_HISTORY: &str = "Copy the run history (runs, run groups, activity, flows, connections) into the dataset query_history reads: first the last since (14d), then what is new. Call it when describe_history shows no recent load.";

/// query_history.
pub const QUERY_HISTORY: &str = "One read-only SQL SELECT on the synced run history (runs, run_groups, data_flows, activities, connections, environments) instead of many API calls. Tables and columns: describe_history. At most 200 rows.";

/// describe_history.
pub const DESCRIBE_HISTORY: &str = "The history dataset's tables (columns, types, row counts), the time its runs cover and its last load: read it before writing SQL for query_history or to decide on sync_history.";

/// enable_toolset (`--toolsets dynamic` only).
pub const ENABLE_TOOLSET: &str = "Without toolset: the toolsets (groups of tools) and which are enabled. With toolset=NAME: enable that toolset's tools, which then appear in tools/list. Use it when no listed tool fits the task.";

/// The detailed guidance of each tool, by name: the resource `bdi://guide`.
pub const GUIDE: &[(&str, &str)] = &[
    (
        "get_operation",
        "Get an activation or disable operation by operation_id (24-hex): status W (waiting), R (running), D (done) or E (error, see error_message).\n\
For data runs use get_run instead. activate_data_flow(wait=true) already waits for its operation.",
    ),
    (
        "list_runs",
        "List the runs of a data flow in a time window (start_time and end_time are required, ISO 8601 UTC, e.g. \"2026-05-25T00:00:00\"; keep windows to 30 days or less).\n\
Each item has run_id, run_group_id, status, target_name, start/end time and error_description. Filter one trigger's runs with run_group_id. Paged: has_next says whether to ask for page + 1.",
    ),
    (
        "get_run",
        "Get one run's status and result. run_id takes a run id or the run_group_id returned by run_data_flow.\n\
status is pending, running, succeeded, failed, canceled or skipped. On failure read error_description, then get_run_logs(errors_only=true).",
    ),
    (
        "get_run_logs",
        "Get a run's log as CSV text (header first). By default only the last 200 lines; tail_lines=0 returns all, errors_only=true keeps warning and error lines.\n\
Logs are kept about 2 weeks; an empty log can mean the source keeps no logs. Call get_run first to confirm the run exists.",
    ),
    (
        "create_data_flow",
        "Create a source-to-target data flow from flat parameters. source_name and target_name are connector types (a connection's type_id from list_connections, e.g. mysql, postgres, snowflake); the connection ids are their connection_id.\n\
loading_method: append (default), merge, or replace. target_settings is merged into the target, e.g. {\"database_name\": \"MY_DB\", \"schema_name\": \"PUBLIC\"}.\n\
The flow is created disabled and saved once so it can be activated. Next: set_data_flow_source_tables, then activate_data_flow.\n\
Blueprint (recipe) sources cannot be created here: create them in the console.",
    ),
    (
        "list_data_flows",
        "List data flows (one page), filtered by name (case-insensitive substring) or status (active, disabled). Do not call speculatively: ask the user which flow, then filter by name; list without a filter only when asked to show all.\n\
Items have data_flow_id, name, status, type, source and is_api_v2 (false: created in the legacy console; get_data_flow cannot read it).",
    ),
    (
        "update_data_flow",
        "Replace a data flow with a full document (the shape get_data_flow returns; server-managed fields such as cross_id, account_id and group_name are removed for you).\n\
Prefer patch_data_flow to change a few fields and set_data_flow_source_tables to select tables. run_type and type cannot change: delete and recreate instead.\n\
A 400 \"can not update properties for an active data flow\" means: disable_data_flow first.",
    ),
    (
        "set_data_flow_source_tables",
        "Select the tables a data flow syncs, by name. Looks the names up in the source connection's catalog (case-insensitive; schema.table disambiguates), groups them by schema and replaces the WHOLE selection: pass ALL tables in one call; one flow syncs many tables.\n\
Nothing is written unless every name matches: an unknown name returns the closest candidates, a name found in several schemas returns the qualified names to choose from.\n\
Safe under concurrency in this server (calls on one flow are serialised). Next: activate_data_flow(wait=true).",
    ),
    (
        "patch_data_flow",
        "Change some fields of a data flow: reads it, applies the patch as a JSON Merge Patch (objects merge recursively; lists and values replace; null removes a key) and writes it back.\n\
Examples: {\"name\": \"New name\"}, {\"properties\": {\"target\": {\"schema_name\": \"PUBLIC\"}}}. Lists are REPLACED: never patch properties.schemas, use set_data_flow_source_tables.\n\
Concurrent patches of one flow through this server are serialised, so none is lost. run_type and type cannot change.",
    ),
    (
        "delete_data_flow",
        "Delete a data flow. An active flow is refused (never force-deleted): call disable_data_flow first, then delete.",
    ),
    (
        "get_data_flow",
        "Get a data flow's full document (name, metadata.river_status, settings, properties.source/target/schemas, schedulers).\n\
Only for flows created through the API (is_api_v2=true in list_data_flows); flows created in the legacy console give an error. Find ids with list_data_flows.",
    ),
    (
        "activate_data_flow",
        "Activate a data flow so it can run and follows its schedule. wait=true blocks until activation ends and returns the final operation (status D = active, E = failed, with error_message and a next step).\n\
Without wait, returns the operation_id for get_operation. Already active: returns at once. Prerequisite: source tables selected (set_data_flow_source_tables).",
    ),
    (
        "disable_data_flow",
        "Disable (pause) a data flow without deleting it; needed before delete_data_flow and before changing a CDC flow's properties. Waits (bounded) until the flow is disabled. Logic flows cannot be disabled.",
    ),
    (
        "run_data_flow",
        "Start a run of a data flow now. By default returns at once with run_group_id and run_id (do not poll in a loop). wait=true blocks until the run ends and returns the final run; if the wait budget runs out it says the run is still going and how to check it.\n\
Before running: ALL tables selected in one set_data_flow_source_tables call, and the flow activated (activate_data_flow wait=true).\n\
The platform allows 2 runs a minute per flow and 15 per user: a refused run says how many seconds to wait. A run is never started twice by a retry.",
    ),
    (
        "list_environments",
        "List the account's environments (environment_id, name, is_default). Pass an environment_id to other tools to work outside the default environment.",
    ),
    (
        "list_connections",
        "List ALL connections of the environment (every page swept in one call). Each item has connection_id (use as source_connection_id / target_connection_id), name and type_id (use as source_name / target_name in create_data_flow).\n\
Pages that failed upstream are listed in incomplete_pages instead of failing the call.",
    ),
    (
        "create_connection",
        "Create a connection from a flat body: {\"connection_name\": ..., \"connection_type\": \"<slug, e.g. postgres>\", host, port, database, username, password, ...}. Unknown keys are silently dropped by the platform.\n\
OAuth connection types (Google services, Salesforce, HubSpot, Facebook/Meta, LinkedIn, ... anything with a browser sign-in) cannot be created here: tell the user \"This connection uses OAuth: please create it in the Boomi Data Integration console, then I can use it here.\"",
    ),
    (
        "update_connection",
        "Change a connection: the body is merged into the current connection and written back. The platform never returns credentials and a write without them clears them, so an update of a connection with stored credentials is refused unless the body includes them again (or allow_credential_reset=true).",
    ),
    (
        "delete_connection",
        "Delete a connection for good (there is no undo). Before calling: confirm with the user, and check with list_data_flows (get_data_flow for details) that no data flow reads from or writes to it (properties.source.connection_id, properties.target.connection_id): those data flows would fail to activate or run.\n\
Returns {\"deleted\": true, \"connection_id\": ...}; an id that does not exist is a not_found error (list_connections gives the ids).",
    ),
    (
        "list_variables",
        "List the environment's variables: {\"variables\": {\"NAME\": \"value\", ...}, \"count\": n}. The environment's data flows read them at run time. Call it before upsert_variables to see what is already set (an upsert merges: variables it does not name stay as they are), or to explain a value a run used.\n\
Values come back as stored: do not repeat a secret one to the user unless asked.",
    ),
    (
        "upsert_variables",
        "Create or update environment variables: [{\"name\": \"VAR\", \"value\": \"x\"}]. Variables not listed are left untouched. Names cannot contain '.' or '$'.",
    ),
    (
        "get_activity_summary",
        "Environment-wide activity for a time window: RPU (units) consumed and run counts by status; include_data_flows=true adds per data flow activity. Use it to answer \"what ran, what failed, what did it cost\".",
    ),
    (
        "get_data_flow_activity",
        "One data flow's activity for a time window: RPU and run counts (statistics) and the status of each target table (breakdown). Use it to see which tables of a multi-table flow fail.",
    ),
    (
        "list_run_groups",
        "List a data flow's run groups (one per trigger, covering all its tables) in a time window, newest first: run_group_id, status, RPU, duration. Pass a run_group_id to get_run_group or list_runs.",
    ),
    (
        "get_run_group",
        "Get one run group of a data flow: status, RPU, and how many of its table runs are running, pending, succeeded, failed, canceled or skipped.",
    ),
    (
        "sync_history",
        "Copy the account's run history (runs, run groups, daily activity and RPU, data flows, connections, environments) into the local history dataset that query_history reads. The first sync covers `since` (default 14 days); later ones add what is new and update runs that were still running. Reads only; one sync at a time.\n\
Call it before query_history when describe_history shows no load or an old one. With progress support it reports each table; past the wait budget it goes on in the server.",
    ),
    (
        "query_history",
        "One read-only SQL SELECT on the run history (DuckDB, or Postgres if configured) answers what would take many API calls. At most 200 rows / 64 KB, 10 s. If describe_history shows no recent load, call sync_history first.\n\
Tables (unqualified names) and key columns:\n\
- runs: run_id, river_cross_id (data flow id), run_group_id, environment_id, status (succeeded|failed|running|pending|canceled|skipped), target_name, units (RPU), start_date_utc, end_date_utc, error_description\n\
- run_groups: run_group_id, river_cross_id, status, units, run_date_utc, run_end_date_utc, max_duration_in_milliseconds, counts per status\n\
- data_flows: river_cross_id, environment_id, name, river_status, river_type, group_name\n\
- activities (per environment, UTC day, data flow) and activities_statistics (per environment, UTC day): environment_id, day, river_cross_id, river_name, total_runs, succeeded, failed, units\n\
- connections: cross_id, connection_name, connection_type; environments: cross_id, environment_name, is_default\n\
Join runs to data_flows on (environment_id, river_cross_id). DuckDB times are TIMESTAMPTZ: cast for arithmetic (start_date_utc::timestamp, now()::timestamp - interval '7 days').",
    ),
    (
        "describe_history",
        "Describe the history dataset: its tables with columns, types and row counts, the time its runs cover, the last load and where it lives. Use it before writing SQL for query_history, or to decide whether to call sync_history.",
    ),
    (
        "enable_toolset",
        "Only with `--toolsets dynamic`: the server starts with the read-only tools and this one. Call it without arguments to see the toolsets (flows, runs, connections, environments, variables, operations, activity, history), their tools and which are enabled; call it with toolset=NAME to enable one. The client is told the tool list changed (notifications/tools/list_changed) and lists the tools again. The other selection flags (--read-only, --no-destructive, --tools, --exclude-tools) still bound what a toolset can add.",
    ),
];
