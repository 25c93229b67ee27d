//! The command line, declared with clap: every subcommand, flag and help text.
//!
//! These types stop at the edge: `commands` turns them into domain requests. The doc comments
//! are the help text (and `docs/cli.md`, generated from them).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

const AFTER_HELP: &str = "Examples:
  bdi --sandbox flows list
  bdi flows run FLOW --wait -o json | jq -r .status
  bdi flows export FLOW > flow.yaml && bdi flows apply -f flow.yaml --dry-run

Exit codes: 0 success, 2 usage error, 3 API or configuration error, 4 run failed, 5 throttled, 6 wait timed out or cancelled";

/// Drive Boomi Data Integration (data flows, runs, connections) from a terminal or a CI job.
///
/// Data goes to stdout (a table, or `-o json` / `-o yaml` for scripts); progress, notes and
/// errors go to stderr. Configure with `bdi configure`, the DATA_INTEGRATION_* variables, or try
/// everything without an account with `--sandbox`.
#[derive(Debug, Parser)]
#[command(name = "bdi", version, propagate_version = true, max_term_width = 100)]
#[command(after_help = AFTER_HELP)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Format of the data on stdout: table, json or yaml [default: table]
    #[arg(
        short,
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        hide_possible_values = true
    )]
    pub output: Option<Format>,
    /// Profile of the config file to use [default: default, or $BDI_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// API base URL, or a region: us, eu, il, au [env: DATA_INTEGRATION_API_URL]
    #[arg(long, global = true, value_name = "URL|REGION")]
    pub api_url: Option<String>,
    /// Account id [env: DATA_INTEGRATION_ACCOUNT_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub account_id: Option<String>,
    /// Environment id [env: DATA_INTEGRATION_ENVIRONMENT_ID]
    #[arg(short = 'e', long, global = true, value_name = "ID")]
    pub environment_id: Option<String>,
    /// Run against an in-process sandbox with demo data: no account needed
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Poll interval of --wait in milliseconds (for tests) [env: BDI_POLL_INTERVAL_MS]
    #[arg(long, global = true, hide = true, value_name = "MS")]
    pub poll_interval_ms: Option<u64>,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Data flows: list, inspect, create, change, activate, run, export and apply
    #[command(subcommand, visible_alias = "flow")]
    Flows(FlowsCommand),
    /// Runs of a data flow: list, inspect, read logs
    #[command(subcommand, visible_alias = "run")]
    Runs(RunsCommand),
    /// Connections: list, inspect, create, update, delete
    #[command(subcommand, visible_alias = "connection")]
    Connections(ConnectionsCommand),
    /// Environments of the account
    #[command(subcommand, visible_alias = "environment")]
    Environments(EnvironmentsCommand),
    /// Environment variables: list and set
    #[command(subcommand, visible_alias = "variable")]
    Variables(VariablesCommand),
    /// Asynchronous operations (activation, disable, discovery)
    #[command(subcommand, visible_alias = "operation")]
    Operations(OperationsCommand),
    /// Activity reports: RPU and run counts over a time window
    #[command(subcommand)]
    Activity(ActivityCommand),
    /// Load Boomi Flow or the run history into DuckDB or Postgres; inspect and query what was loaded
    #[command(subcommand)]
    Load(LoadCommand),
    /// Save credentials in a profile of the config file (the token is read from stdin)
    Configure(ConfigureArgs),
    /// Start a local sandbox with demo data and print how to reach it
    Sandbox(SandboxArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

/// `bdi load ...`
#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Load Boomi Flow resources into a dataset (incrementally where the API allows)
    #[command(after_help = LOAD_FLOW_AFTER_HELP)]
    Flow(LoadBoomiFlowArgs),
    /// Load the run history of Data Integration (runs, run groups, activity, data flows) into a dataset
    #[command(after_help = LOAD_HISTORY_AFTER_HELP)]
    History(LoadHistoryArgs),
    /// Show a dataset: its tables and row counts, the last loads, the incremental state
    Info(LoadReadArgs),
    /// Run one SELECT on a dataset, read-only, and print the result (-o table, json or csv)
    #[command(after_help = LOAD_QUERY_AFTER_HELP)]
    Query(LoadQueryArgs),
    /// Serve a local dashboard of a dataset: tables, loads, state, charts and a read-only SQL box
    #[command(after_help = LOAD_SHOW_AFTER_HELP)]
    Show(LoadShowArgs),
}

const LOAD_FLOW_AFTER_HELP: &str = "Resources: flows, flow, flow_active, graph_flow, runtimes, users, api_keys, states, audit_search, translations
(default: all but flow, which repeats flows, and api_keys, whose key values are never stored).

Configuration: BOOMI_FLOW_API_KEY (required), BOOMI_FLOW_TENANT_ID, BOOMI_FLOW_API_URL
(default https://flow.boomi.com/api), or a profile written by `bdi configure --flow`.

Examples:
  bdi --sandbox load flow
  bdi load flow --resources flows,users,audit_search
  bdi load flow --destination duckdb:/data/flow.duckdb --full-refresh
  bdi load flow --destination postgres://bi@db.internal:5432/warehouse
  bdi load query \"SELECT type, count(*) FROM audit_search GROUP BY 1\"";

const LOAD_HISTORY_AFTER_HELP: &str = "Resources: environments, data_flows, connections, runs, run_groups, activities, activities_statistics
(default: all). Runs and run groups are merged by id: each load reads again the --lookback before the
last run it saw, so a run first loaded while running ends up succeeded or failed, once.
A token without a scope loads the rest and says which resources it skipped and the scope they need.

Configuration: the same account as every other command (DATA_INTEGRATION_API_TOKEN, ... or a profile).

Examples:
  bdi --sandbox load history
  bdi load history --since 30d
  bdi load history --destination postgres://bi@db.internal:5432/warehouse
  bdi load query --history \"SELECT status, count(*) FROM runs GROUP BY 1\"";

const LOAD_QUERY_AFTER_HELP: &str = "One SELECT (or WITH ... SELECT) statement; anything else is refused, and the dataset is opened read-only.
Unqualified table names are the dataset's: SELECT count(*) FROM runs.

Examples:
  bdi load query \"SELECT type, count(*) FROM audit_search GROUP BY 1 ORDER BY 2 DESC\"
  bdi load query --history -o csv \"SELECT * FROM runs WHERE status = 'failed'\" > failed.csv";

const LOAD_SHOW_AFTER_HELP: &str =
    "The dashboard listens on 127.0.0.1 only, answers only loopback host names, has no route that
writes, and shows no password. It runs until Ctrl-C. With --sandbox it shows the sandbox's demo
data, loaded first into a scratch file. From another machine, use an SSH tunnel:
ssh -L 8765:127.0.0.1:8765 host, then bdi load show --port 8765 on the host.

Pages: the overview (tables, columns and types, row counts, loads, incremental state), each table's
first rows, the charts (Flow: audit events per day by type, states by flow; history: runs per day
by status, RPU per data flow per day, failure rate by data flow, run duration p50/p95 by target),
each with its SQL, and a read-only SQL box with CSV download.

Examples:
  bdi --sandbox load show --history --open
  bdi load show --destination duckdb:/data/flow.duckdb --port 8765
  bdi load show --history --destination postgres://bi@db.internal:5432/warehouse";

/// Which dataset: the pipeline, the dataset name and the destination.
#[derive(Debug, Args)]
pub struct LoadTargetArgs {
    /// Pipeline name: the state is kept under it, and the default file is <PIPELINE>.duckdb [default: boomi_flow_pipeline, or data_integration_pipeline for the history]
    #[arg(long, value_name = "PIPELINE")]
    pub pipeline: Option<String>,
    /// Dataset: the schema that holds the tables [default: boomi_flow_data, or data_integration for the history]
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<String>,
    /// Where the data goes: duckdb:PATH or postgres://user:password@host:port/database [env: BDI_LOAD_DESTINATION] [default: duckdb:<PIPELINE>.duckdb in the working directory]
    #[arg(long, value_name = "DESTINATION")]
    pub destination: Option<String>,
}

/// Which dataset to read.
#[derive(Debug, Args)]
pub struct LoadReadArgs {
    /// Which dataset.
    #[command(flatten)]
    pub target: LoadTargetArgs,
    /// The run history's dataset (the defaults of `bdi load history`) rather than Boomi Flow's
    #[arg(long)]
    pub history: bool,
}

/// `bdi load flow`
#[derive(Debug, Args)]
pub struct LoadBoomiFlowArgs {
    /// Which dataset.
    #[command(flatten)]
    pub target: LoadTargetArgs,
    /// Resources to load, comma-separated [default: every resource but flow and api_keys]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub resources: Vec<String>,
    /// How a resource is written, RES=append|replace|merge (repeatable)
    #[arg(long, value_name = "RES=HOW")]
    pub write_disposition: Vec<String>,
    /// Drop the dataset's tables and the incremental state first
    #[arg(long)]
    pub full_refresh: bool,
    /// Boomi Flow API base URL [env: BOOMI_FLOW_API_URL] [default: https://flow.boomi.com/api]
    #[arg(long, value_name = "URL")]
    pub flow_api_url: Option<String>,
    /// Tenant id, sent as the manywhotenant header [env: BOOMI_FLOW_TENANT_ID]
    #[arg(long, value_name = "UUID")]
    pub tenant_id: Option<String>,
    /// Items asked per page of paged listings
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub page_size: u32,
}

/// `bdi load history`
#[derive(Debug, Args)]
pub struct LoadHistoryArgs {
    /// Which dataset.
    #[command(flatten)]
    pub target: LoadTargetArgs,
    /// Resources to load, comma-separated [default: all]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub resources: Vec<String>,
    /// Where a first load starts: a duration back from now (30d, 12h, 2w) or a date (2026-11-01)
    #[arg(long, default_value = "14d", value_name = "WHEN")]
    pub since: String,
    /// How far before the last run seen each load reads again, to catch runs that ended since
    #[arg(long, default_value = "2d", value_name = "DURATION")]
    pub lookback: String,
    /// Environment to read (repeatable) [default: every environment the token sees]
    #[arg(long = "environment", value_name = "ID")]
    pub environments: Vec<String>,
    /// Drop the dataset's tables and the incremental state first
    #[arg(long)]
    pub full_refresh: bool,
}

/// `bdi load query`
#[derive(Debug, Args)]
pub struct LoadQueryArgs {
    /// The SQL to run: one SELECT, e.g. "SELECT * FROM flows LIMIT 10"
    #[arg(value_name = "SQL")]
    pub sql: String,
    /// Which dataset.
    #[command(flatten)]
    pub read: LoadReadArgs,
}

/// `bdi load show`
#[derive(Debug, Args)]
pub struct LoadShowArgs {
    /// Which dataset.
    #[command(flatten)]
    pub read: LoadReadArgs,
    /// Port to listen on, on 127.0.0.1 [default: a free port]
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub port: u16,
    /// Open the dashboard in the default web browser
    #[arg(long)]
    pub open: bool,
}

/// `bdi flows ...`
#[derive(Debug, Subcommand)]
pub enum FlowsCommand {
    /// List data flows
    #[command(visible_alias = "ls")]
    List(FlowListArgs),
    /// Show a data flow
    Get(FlowArg),
    /// Create a source-to-target data flow from flags, or any data flow from a document
    Create(FlowCreateArgs),
    /// Replace a data flow with a full document
    Update(FlowUpdateArgs),
    /// Deep-merge a partial document into a data flow (lists replace wholesale)
    Patch(FlowPatchArgs),
    /// Delete a data flow (disable it first)
    #[command(visible_alias = "rm")]
    Delete(FlowArg),
    /// Activate a data flow; --wait follows the operation to its end
    Activate(FlowWaitArgs),
    /// Disable a data flow; --wait follows the operation to its end
    Disable(FlowWaitArgs),
    /// Run a data flow now; --wait follows the run to its end
    Run(FlowRunArgs),
    /// Source tables of a data flow
    #[command(subcommand)]
    Tables(TablesCommand),
    /// Write a data flow as a clean, re-appliable YAML or JSON document
    Export(FlowExportArgs),
    /// Create or update a data flow to match a document, or an environment to match a directory (--dir)
    Apply(FlowApplyArgs),
    /// Write every data flow of the environment, the connections they use (without secrets) and its variables as documents under a directory, with a record of which flow and connection each file is
    Pull(FlowPullArgs),
    /// Compare the documents under a directory (data flows, connections, variables) with the environment: creates, updates, renames and drift (exit 7 when something would change)
    Plan(FlowPlanArgs),
    /// Make another environment match the data flow documents, connections and groups mapped by name (dev -> prod)
    Promote(FlowPromoteArgs),
}

/// One data flow.
#[derive(Debug, Args)]
pub struct FlowArg {
    /// Data flow id (24 hex characters)
    #[arg(value_name = "FLOW")]
    pub flow: String,
}

/// `bdi flows list`
#[derive(Debug, Args)]
pub struct FlowListArgs {
    /// Only data flows whose name contains this text
    #[arg(long)]
    pub name: Option<String>,
    /// Only active or only disabled data flows
    #[arg(long, value_parser = ["active", "disabled"])]
    pub status: Option<String>,
    /// Page number
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub page: u32,
    /// Data flows per page (1 to 500)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub per_page: u32,
}

/// `bdi flows create`
#[derive(Debug, Args)]
pub struct FlowCreateArgs {
    /// Create from a full document (JSON or YAML; - for stdin) instead of flags
    #[arg(short, long, value_name = "FILE", conflicts_with_all = ["name", "source", "source_connection", "target", "target_connection"])]
    pub file: Option<PathBuf>,
    /// Display name
    #[arg(long, required_unless_present = "file")]
    pub name: Option<String>,
    /// Source connector type, e.g. postgres, mysql
    #[arg(long, required_unless_present = "file")]
    pub source: Option<String>,
    /// Source connection id
    #[arg(long, value_name = "ID", required_unless_present = "file")]
    pub source_connection: Option<String>,
    /// Target type, e.g. snowflake, bigquery
    #[arg(long, required_unless_present = "file")]
    pub target: Option<String>,
    /// Target connection id
    #[arg(long, value_name = "ID", required_unless_present = "file")]
    pub target_connection: Option<String>,
    /// Loading method: append (default), overwrite or merge
    #[arg(long, value_name = "METHOD")]
    pub loading_method: Option<String>,
    /// Target settings as a JSON object, e.g. '{"database_name":"DB","schema_name":"PUBLIC"}'
    #[arg(long, value_name = "JSON")]
    pub target_settings: Option<String>,
    /// Description
    #[arg(long)]
    pub description: Option<String>,
}

/// `bdi flows update`
#[derive(Debug, Args)]
pub struct FlowUpdateArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// The full document (JSON or YAML; - for stdin)
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,
}

/// `bdi flows patch`
#[derive(Debug, Args)]
pub struct FlowPatchArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// The patch as JSON, e.g. '{"name":"New name"}'
    #[arg(value_name = "JSON", required_unless_present = "file")]
    pub patch: Option<String>,
    /// Read the patch from a file (JSON or YAML; - for stdin)
    #[arg(short, long, value_name = "FILE", conflicts_with = "patch")]
    pub file: Option<PathBuf>,
}

/// How long and whether to wait.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Wait until the work ends, showing progress on stderr
    #[arg(short, long)]
    pub wait: bool,
    /// Longest wait in seconds (with --wait)
    #[arg(long, value_name = "SECONDS", requires = "wait", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

/// `bdi flows activate|disable`
#[derive(Debug, Args)]
pub struct FlowWaitArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `bdi flows run`
#[derive(Debug, Args)]
pub struct FlowRunArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// Waiting.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Also run the active sub data flows of a logic flow
    #[arg(long)]
    pub sub_flows: bool,
    /// When throttled, wait for the limit to pass instead of failing with exit code 5
    #[arg(long)]
    pub wait_for_throttle: bool,
}

/// `bdi flows tables ...`
#[derive(Debug, Subcommand)]
pub enum TablesCommand {
    /// Select the source tables of a data flow (replaces the selection)
    Set(TablesSetArgs),
}

/// `bdi flows tables set`
#[derive(Debug, Args)]
pub struct TablesSetArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// Tables, as `table` or `schema.table`
    #[arg(value_name = "TABLE", required = true)]
    pub tables: Vec<String>,
    /// Source connection id [default: the data flow's source connection]
    #[arg(long, value_name = "ID")]
    pub connection: Option<String>,
}

/// `bdi flows export`
#[derive(Debug, Args)]
pub struct FlowExportArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// Write to this file instead of stdout (the format follows a .json extension)
    #[arg(long = "to", value_name = "FILE")]
    pub to: Option<PathBuf>,
}

/// `bdi flows apply`
#[derive(Debug, Args)]
pub struct FlowApplyArgs {
    /// The document (JSON or YAML; - for stdin), as `bdi flows export` writes it
    #[arg(
        short,
        long,
        value_name = "FILE",
        required_unless_present = "dir",
        conflicts_with = "dir"
    )]
    pub file: Option<PathBuf>,
    /// Apply every document of a directory `bdi flows pull` wrote (the plan of `bdi flows plan`)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Show what would change, and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// With --dir: apply without asking (required when stdin is not a terminal)
    #[arg(long, requires = "dir")]
    pub yes: bool,
    /// With --dir: also delete the data flows that exist upstream but not in the directory
    #[arg(long, requires = "dir")]
    pub prune: bool,
}

/// `bdi flows pull`
#[derive(Debug, Args)]
pub struct FlowPullArgs {
    /// The directory: documents go to DIR/flows, the identity record to DIR/bdi-identity.yaml
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// `bdi flows plan`
#[derive(Debug, Args)]
pub struct FlowPlanArgs {
    /// The directory `bdi flows pull` wrote
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Count data flows that exist upstream but not in the directory as deletes
    #[arg(long)]
    pub prune: bool,
}

/// `bdi flows promote`
#[derive(Debug, Args)]
pub struct FlowPromoteArgs {
    /// The directory `bdi flows pull` wrote (from the source environment)
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The target environment, by id or name
    #[arg(long, value_name = "ENVIRONMENT")]
    pub to: String,
    /// A YAML file mapping connections and groups whose names differ: `connections: {source name: target name or id}`, `groups: {...}`
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Promote without asking (required when stdin is not a terminal)
    #[arg(long)]
    pub yes: bool,
    /// Show what would change in the target, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// A time window: `--since`, or `--start` and `--end`.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Window length back from now: 30m, 12h, 7d
    #[arg(
        long,
        default_value = "24h",
        value_name = "DURATION",
        conflicts_with = "start"
    )]
    pub since: String,
    /// Window start (ISO 8601, UTC), instead of --since
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Window end (ISO 8601, UTC) [default: now]
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,
}

/// `bdi runs ...`
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List the runs of a data flow in a time window
    #[command(visible_alias = "ls")]
    List(RunListArgs),
    /// Show one run (a run id or a run group id)
    Get(RunArg),
    /// Print the log of a run (CSV)
    Logs(RunLogsArgs),
}

/// `bdi runs list`
#[derive(Debug, Args)]
pub struct RunListArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Only runs with this status: pending, running, succeeded, failed, canceled, skipped
    #[arg(long)]
    pub status: Option<String>,
    /// Only runs of this target table
    #[arg(long, value_name = "TABLE")]
    pub target: Option<String>,
    /// Only runs of this run group
    #[arg(long, value_name = "ID")]
    pub run_group: Option<String>,
    /// Page number
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub page: u32,
    /// Runs per page (1 to 200)
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub per_page: u32,
}

/// One run.
#[derive(Debug, Args)]
pub struct RunArg {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// Run id or run group id (32 hex characters)
    #[arg(value_name = "RUN")]
    pub run: String,
}

/// `bdi runs logs`
#[derive(Debug, Args)]
pub struct RunLogsArgs {
    /// The run.
    #[command(flatten)]
    pub run: RunArg,
    /// Only the last N lines (0 for all)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub tail: usize,
    /// Only warnings and errors
    #[arg(long)]
    pub errors_only: bool,
}

/// `bdi connections ...`
#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// List every connection of the environment
    #[command(visible_alias = "ls")]
    List,
    /// Show a connection (secrets are never returned)
    Get(ConnectionArg),
    /// Create a connection from a document: {connection_name, connection_type, ...}
    Create(DocFileArgs),
    /// Replace a connection's settings with a document
    Update(ConnectionUpdateArgs),
    /// Delete a connection
    #[command(visible_alias = "rm")]
    Delete(ConnectionArg),
}

/// One connection.
#[derive(Debug, Args)]
pub struct ConnectionArg {
    /// Connection id (24 hex characters)
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
}

/// A document file.
#[derive(Debug, Args)]
pub struct DocFileArgs {
    /// The document (JSON or YAML; - for stdin)
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,
}

/// `bdi connections update`
#[derive(Debug, Args)]
pub struct ConnectionUpdateArgs {
    /// Connection id
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The document (JSON or YAML; - for stdin)
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,
    /// Allow an update without credentials to clear the stored secret
    #[arg(long)]
    pub allow_credential_reset: bool,
}

/// `bdi environments ...`
#[derive(Debug, Subcommand)]
pub enum EnvironmentsCommand {
    /// List the environments of the account
    #[command(visible_alias = "ls")]
    List(EnvironmentListArgs),
}

/// `bdi environments list`
#[derive(Debug, Args)]
pub struct EnvironmentListArgs {
    /// Include deleted environments
    #[arg(long)]
    pub include_deleted: bool,
}

/// `bdi variables ...`
#[derive(Debug, Subcommand)]
pub enum VariablesCommand {
    /// List the variables of the environment
    #[command(visible_alias = "ls")]
    List,
    /// Set variables (others stay untouched)
    Set(VariablesSetArgs),
}

/// `bdi variables set`
#[derive(Debug, Args)]
pub struct VariablesSetArgs {
    /// NAME=VALUE pairs
    #[arg(value_name = "NAME=VALUE", required = true)]
    pub pairs: Vec<String>,
}

/// `bdi operations ...`
#[derive(Debug, Subcommand)]
pub enum OperationsCommand {
    /// Show an operation's status
    Get(OperationArg),
}

/// One operation.
#[derive(Debug, Args)]
pub struct OperationArg {
    /// Operation id (24 hex characters)
    #[arg(value_name = "OPERATION")]
    pub operation: String,
}

/// `bdi activity ...`
#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    /// Environment-wide RPU and run counts
    Summary(ActivitySummaryArgs),
    /// One data flow's statistics and per-table status
    Flow(ActivityFlowArgs),
    /// Run groups of a data flow
    Groups(ActivityGroupsArgs),
    /// One run group with its counts
    Group(ActivityGroupArgs),
}

/// `bdi activity summary`
#[derive(Debug, Args)]
pub struct ActivitySummaryArgs {
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Only data flows whose name contains this text
    #[arg(long)]
    pub search: Option<String>,
    /// Also list the activity of each data flow
    #[arg(long)]
    pub flows: bool,
}

/// `bdi activity flow`
#[derive(Debug, Args)]
pub struct ActivityFlowArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Only runs with this status
    #[arg(long)]
    pub status: Option<String>,
}

/// `bdi activity groups`
#[derive(Debug, Args)]
pub struct ActivityGroupsArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Only run groups with this status
    #[arg(long)]
    pub status: Option<String>,
    /// Page number
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub page: u32,
}

/// `bdi activity group`
#[derive(Debug, Args)]
pub struct ActivityGroupArgs {
    /// Data flow id
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// Run group id (32 hex characters)
    #[arg(value_name = "GROUP")]
    pub group: String,
}

/// `bdi configure`
#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// List the profiles (tokens masked) instead of writing one
    #[arg(long)]
    pub list: bool,
    /// Save Boomi Flow credentials (for `bdi load flow`): the API key is read from stdin
    #[arg(long, conflicts_with = "list")]
    pub flow: bool,
    /// With --flow: the Boomi Flow API base URL [default: https://flow.boomi.com/api]
    #[arg(long, requires = "flow", value_name = "URL")]
    pub flow_api_url: Option<String>,
    /// With --flow: the tenant the key was created for (a uuid)
    #[arg(long, requires = "flow", value_name = "UUID")]
    pub tenant_id: Option<String>,
}

/// `bdi sandbox`
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port to listen on (127.0.0.1) [default: any free port]
    #[arg(long)]
    pub port: Option<u16>,
}

/// `bdi completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
