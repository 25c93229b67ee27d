//! The MCP server: every tool, as a thin adapter from rmcp parameters to the domain `Service`.
//!
//! Handlers parse and validate their arguments (ids, times, enums) before any upstream request,
//! call the service, and shape the result. Domain failures become tool errors (`isError: true`)
//! whose text says what to call next.

use std::sync::Arc;
use std::time::Duration;

use bdi_domain::error::quote;
use bdi_domain::models::{
    ActivityQuery, DataFlowQuery, FlowStatus, PageQuery, RunQuery, Timestamp,
};
use bdi_domain::poll::{PollPolicy, Progress, ProgressFn};
use bdi_domain::service::{NewDataFlow, RunOptions, RunStage, WaitOptions};
use bdi_domain::{ConnectionId, DataFlowId, Env, Error, OperationId, RunId, Service};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ProgressNotificationParam, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, tool, tool_handler, tool_router};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::descriptions as d;
use crate::errors::OrToolError;
use crate::output::*;
use crate::params::*;
use crate::toolset::ToolSelection;

/// What the server talks to: a ready service, or the configuration error every tool reports.
#[derive(Clone, Debug)]
pub enum Backing {
    /// Configured.
    Ready(Service),
    /// Not configured: the message says what is missing. Startup never fails or blocks on it.
    Misconfigured(Arc<str>),
}

/// Server options set at startup.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Tools exposed.
    pub selection: ToolSelection,
    /// Wait budget when the client sent a progress token.
    pub wait_with_progress: Duration,
    /// Wait budget without a progress token: most clients give up after about 60 s.
    pub wait_without_progress: Duration,
    /// Poll policy for waits (its deadline is replaced by the budget).
    pub poll: PollPolicy,
    /// Default number of log lines returned.
    pub log_tail: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            selection: ToolSelection::default(),
            wait_with_progress: Duration::from_secs(600),
            wait_without_progress: Duration::from_secs(50),
            poll: PollPolicy::default(),
            log_tail: 200,
        }
    }
}

/// The `bdi-mcp` server.
#[derive(Clone, Debug)]
pub struct BdiMcp {
    backing: Backing,
    options: Arc<ServerOptions>,
    tool_router: ToolRouter<Self>,
}

/// The environment a tool names: absent is the default one; empty or blank is refused.
fn env_of(id: Option<String>) -> Result<Env, String> {
    Env::parse(id.as_deref()).or_tool_error()
}

fn flow_id(s: &str) -> Result<DataFlowId, String> {
    DataFlowId::parse(s).or_tool_error()
}

fn window(start: &str, end: &str) -> Result<(Timestamp, Timestamp), String> {
    Timestamp::window_for(("start_time", start), ("end_time", end)).or_tool_error()
}

fn page_size(field: &str, value: Option<u32>, default: u32, max: u32) -> Result<u32, String> {
    let v = value.unwrap_or(default);
    if v == 0 || v > max {
        return Err(crate::errors::tool_error(&Error::invalid(
            field,
            format!("must be between 1 and {max}, got {v}"),
        )));
    }
    Ok(v)
}

fn page_number(value: Option<u32>) -> Result<u32, String> {
    match value.unwrap_or(1) {
        0 => Err(crate::errors::tool_error(&Error::invalid(
            "page",
            "pages start at 1",
        ))),
        p => Ok(p),
    }
}

fn run_status(value: Option<String>) -> Result<Option<String>, String> {
    value
        .map(|v| {
            bdi_domain::models::RunStatus::parse_filter("status", &v).map(|s| s.as_str().to_owned())
        })
        .transpose()
        .or_tool_error()
}

/// Forwards domain progress to MCP progress notifications while a wait runs.
struct ProgressBridge {
    callback: Option<ProgressFn>,
    task: Option<JoinHandle<()>>,
}

impl ProgressBridge {
    fn new(ctx: &RequestContext<RoleServer>) -> Self {
        let Some(token) = ctx.meta.get_progress_token() else {
            return Self {
                callback: None,
                task: None,
            };
        };
        let peer = ctx.peer.clone();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
        let task = tokio::spawn(async move {
            let mut n = 0.0;
            while let Some(p) = rx.recv().await {
                n += 1.0;
                let param =
                    ProgressNotificationParam::new(token.clone(), n).with_message(p.message);
                if let Err(e) = peer.notify_progress(param).await {
                    tracing::debug!("progress notification not sent: {e}");
                }
            }
        });
        let callback: ProgressFn = Arc::new(move |p| {
            let _ = tx.send(p);
        });
        Self {
            callback: Some(callback),
            task: Some(task),
        }
    }

    fn has_token(&self) -> bool {
        self.callback.is_some()
    }

    /// Waits until every queued notification is sent, so none follows the result.
    async fn finish(mut self) {
        self.callback = None;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl BdiMcp {
    /// A server over `backing` with `options`; fails when `--tools` names an unknown tool or group.
    pub fn new(backing: Backing, options: ServerOptions) -> Result<Self, String> {
        let tool_router = options.selection.apply(Self::all_router())?;
        Ok(Self {
            backing,
            options: Arc::new(options),
            tool_router,
        })
    }

    /// Every tool this build offers, before selection (for docs and tests).
    pub fn all_tools() -> Vec<rmcp::model::Tool> {
        Self::all_router().list_all()
    }

    /// The router of every tool, before selection, with compact schemas.
    pub fn all_router() -> ToolRouter<Self> {
        let mut router = Self::tool_router();
        for route in router.map.values_mut() {
            let tool = &mut route.attr;
            tool.input_schema = Arc::new(crate::schema::compact_input(&tool.input_schema));
            if let Some(out) = &tool.output_schema {
                tool.output_schema = Some(Arc::new(crate::schema::compact_output(out)));
            }
        }
        router
    }

    /// The tools exposed with the current selection.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.tool_router.list_all()
    }

    fn svc(&self) -> Result<&Service, String> {
        match &self.backing {
            Backing::Ready(s) => Ok(s),
            Backing::Misconfigured(msg) => {
                Err(crate::errors::tool_error(&Error::Config(msg.to_string())))
            }
        }
    }

    fn wait_options(
        &self,
        ctx: &RequestContext<RoleServer>,
        bridge: &ProgressBridge,
        timeout: Option<u64>,
    ) -> WaitOptions {
        let budget = match timeout {
            Some(s) => Duration::from_secs(s.clamp(1, 3600)),
            None if bridge.has_token() => self.options.wait_with_progress,
            None => self.options.wait_without_progress,
        };
        let policy = PollPolicy {
            deadline: budget,
            ..self.options.poll.clone()
        };
        WaitOptions {
            policy: Some(policy),
            cancel: ctx.ct.clone(),
            progress: bridge.callback.clone(),
        }
    }
}

#[tool_router]
impl BdiMcp {
    #[tool(description = d::GET_OPERATION, annotations(title = "Get operation", read_only_hint = true, open_world_hint = true))]
    async fn get_operation(
        &self,
        Parameters(a): Parameters<OperationArgs>,
    ) -> Result<Json<OperationResult>, String> {
        let env = env_of(a.environment_id)?;
        let id = OperationId::parse(&a.operation_id).or_tool_error()?;
        let op = self
            .svc()?
            .backend()
            .get_operation(&env, &id)
            .await
            .or_tool_error()?;
        Ok(Json(op.into()))
    }

    #[tool(description = d::LIST_RUNS, annotations(title = "List runs", read_only_hint = true, open_world_hint = true))]
    async fn list_runs(
        &self,
        Parameters(a): Parameters<ListRunsArgs>,
    ) -> Result<Json<Listing<RunItem>>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let (start, end) = window(&a.start_time, &a.end_time)?;
        let per_page = page_size("items_per_page", a.items_per_page, 20, 200)?;
        let status = run_status(a.status)?;
        let mut query = RunQuery::window(start, end);
        query.page = PageQuery::new(page_number(a.page)?, per_page);
        query.target_name = a.target_name;
        query.run_group_id = a
            .run_group_id
            .as_deref()
            .map(RunId::parse)
            .transpose()
            .or_tool_error()?;
        let page = self
            .svc()?
            .backend()
            .list_runs(&env, &flow, &query)
            .await
            .or_tool_error()?;
        let mut listing = Listing::from_page(page, per_page, RunItem::from);
        if let Some(s) = status {
            listing.items.retain(|r| r.status == s);
        }
        Ok(Json(listing))
    }

    #[tool(description = d::GET_RUN, annotations(title = "Get run", read_only_hint = true, open_world_hint = true))]
    async fn get_run(&self, Parameters(a): Parameters<RunArgs>) -> Result<Json<RunResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let run = RunId::parse(&a.run_id).or_tool_error()?;
        let run = self
            .svc()?
            .backend()
            .get_run(&env, &flow, &run)
            .await
            .or_tool_error()?;
        let finished = run.status.is_terminal();
        let next_step = next_step_for_run(&run, &flow);
        Ok(Json(RunResult {
            run: run.into(),
            finished,
            next_step,
        }))
    }

    #[tool(description = d::GET_RUN_LOGS, annotations(title = "Get run logs", read_only_hint = true, open_world_hint = true))]
    async fn get_run_logs(
        &self,
        Parameters(a): Parameters<RunLogsArgs>,
    ) -> Result<Json<LogsResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let run = RunId::parse(&a.run_id).or_tool_error()?;
        let text = self
            .svc()?
            .backend()
            .get_run_logs(&env, &flow, &run)
            .await
            .or_tool_error()?;
        let tail = a.tail_lines.unwrap_or(self.options.log_tail);
        let sel = bdi_domain::logs::select(&text, tail, a.errors_only);
        let note = (sel.total == 0).then(|| {
            "the log is empty: the source may keep no logs, or the run is older than the retention (about 2 weeks)".to_owned()
        });
        Ok(Json(LogsResult {
            run_id: run.to_string(),
            total_lines: sel.total,
            returned_lines: sel.kept,
            truncated: sel.kept < sel.total,
            csv: sel.csv,
            note,
        }))
    }

    #[tool(description = d::CREATE_DATA_FLOW, annotations(title = "Create data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true))]
    async fn create_data_flow(
        &self,
        Parameters(a): Parameters<CreateFlowArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let spec = NewDataFlow {
            name: a.name,
            source_name: a.source_name,
            source_connection_id: ConnectionId::parse(&a.source_connection_id).map_err(|_| {
                crate::errors::tool_error(&Error::invalid(
                    "source_connection_id",
                    format!(
                        "{} is not a connection id: use a connection_id from list_connections",
                        quote(&a.source_connection_id)
                    ),
                ))
            })?,
            target_name: a.target_name,
            target_connection_id: ConnectionId::parse(&a.target_connection_id).map_err(|_| {
                crate::errors::tool_error(&Error::invalid(
                    "target_connection_id",
                    format!(
                        "{} is not a connection id: use a connection_id from list_connections",
                        quote(&a.target_connection_id)
                    ),
                ))
            })?,
            loading_method: a.loading_method,
            target_settings: a.target_settings,
            description: a.description,
        };
        let flow = self
            .svc()?
            .create_source_to_target(&env, spec)
            .await
            .or_tool_error()?;
        Ok(Json(flow.to_document()))
    }

    #[tool(description = d::LIST_DATA_FLOWS, annotations(title = "List data flows", read_only_hint = true, open_world_hint = true))]
    async fn list_data_flows(
        &self,
        Parameters(a): Parameters<ListFlowsArgs>,
    ) -> Result<Json<Listing<FlowItem>>, String> {
        let env = env_of(a.environment_id)?;
        let per_page = page_size("items_per_page", a.items_per_page, 20, 500)?;
        let mut query = DataFlowQuery {
            page: PageQuery::new(page_number(a.page)?, per_page),
            name: a.name,
            ..Default::default()
        };
        if let Some(s) = a.status {
            query
                .river_status
                .push(match s.trim().to_ascii_lowercase().as_str() {
                    "active" => FlowStatus::Active,
                    "disabled" | "inactive" => FlowStatus::Disabled,
                    _ => {
                        return Err(crate::errors::tool_error(&Error::invalid(
                            "status",
                            format!("{} is not a status: use active or disabled", quote(&s)),
                        )));
                    }
                });
        }
        let page = self
            .svc()?
            .backend()
            .list_data_flows(&env, &query)
            .await
            .or_tool_error()?;
        Ok(Json(Listing::from_page(page, per_page, FlowItem::from)))
    }

    #[tool(description = d::UPDATE_DATA_FLOW, annotations(title = "Replace data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true))]
    async fn update_data_flow(
        &self,
        Parameters(a): Parameters<UpdateFlowArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let flow = self
            .svc()?
            .update_data_flow(&env, &flow, a.body)
            .await
            .or_tool_error()?;
        Ok(Json(flow.to_document()))
    }

    #[tool(description = d::SET_SOURCE_TABLES, annotations(title = "Set source tables", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true))]
    async fn set_data_flow_source_tables(
        &self,
        Parameters(a): Parameters<SetTablesArgs>,
    ) -> Result<Json<TablesResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let conn = ConnectionId::parse(&a.source_connection_id).or_tool_error()?;
        let set = self
            .svc()?
            .set_source_tables(&env, &flow, Some(&conn), &a.table_names)
            .await
            .or_tool_error()?;
        let tables: Vec<String> = set
            .tables
            .iter()
            .map(|t| format!("{}.{}", t.schema, t.table))
            .collect();
        let next_step = if set.flow.is_active() {
            "run it with run_data_flow".to_owned()
        } else {
            "activate it with activate_data_flow(wait=true), then run_data_flow".to_owned()
        };
        Ok(Json(TablesResult {
            data_flow_id: flow.to_string(),
            count: tables.len(),
            tables,
            next_step,
        }))
    }

    #[tool(description = d::PATCH_DATA_FLOW, annotations(title = "Patch data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true))]
    async fn patch_data_flow(
        &self,
        Parameters(a): Parameters<PatchFlowArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let flow = self
            .svc()?
            .patch_data_flow(&env, &flow, &Value::Object(a.patch))
            .await
            .or_tool_error()?;
        Ok(Json(flow.to_document()))
    }

    #[tool(description = d::DELETE_DATA_FLOW, annotations(title = "Delete data flow", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = true))]
    async fn delete_data_flow(
        &self,
        Parameters(a): Parameters<FlowArgs>,
    ) -> Result<Json<Deleted>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        self.svc()?
            .delete_data_flow(&env, &flow)
            .await
            .or_tool_error()?;
        Ok(Json(Deleted {
            deleted: true,
            data_flow_id: Some(flow.to_string()),
            connection_id: None,
        }))
    }

    #[tool(description = d::GET_DATA_FLOW, annotations(title = "Get data flow", read_only_hint = true, open_world_hint = true))]
    async fn get_data_flow(
        &self,
        Parameters(a): Parameters<FlowArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let flow = self
            .svc()?
            .backend()
            .get_data_flow(&env, &flow)
            .await
            .or_tool_error()?;
        Ok(Json(flow.to_document()))
    }

    #[tool(description = d::ACTIVATE_DATA_FLOW, annotations(title = "Activate data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true))]
    async fn activate_data_flow(
        &self,
        Parameters(a): Parameters<WaitFlowArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ToggleResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let svc = self.svc()?;
        let bridge = ProgressBridge::new(&ctx);
        let wait = a
            .wait
            .then(|| self.wait_options(&ctx, &bridge, a.wait_timeout_seconds));
        let outcome = svc.activate(&env, &flow, wait).await;
        bridge.finish().await;
        Ok(Json(toggle_result(&flow, outcome.or_tool_error()?, true)))
    }

    #[tool(description = d::DISABLE_DATA_FLOW, annotations(title = "Disable data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true))]
    async fn disable_data_flow(
        &self,
        Parameters(a): Parameters<FlowArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ToggleResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let svc = self.svc()?;
        // Disabling is asynchronous upstream; waiting for it (bounded) means a following
        // delete_data_flow or update does not race the operation.
        let bridge = ProgressBridge::new(&ctx);
        let wait = self.wait_options(&ctx, &bridge, None);
        let outcome = svc.disable(&env, &flow, Some(wait)).await;
        bridge.finish().await;
        Ok(Json(toggle_result(&flow, outcome.or_tool_error()?, false)))
    }

    #[tool(description = d::RUN_DATA_FLOW, annotations(title = "Run data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true))]
    async fn run_data_flow(
        &self,
        Parameters(a): Parameters<WaitFlowArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<RunTriggerResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let svc = self.svc()?;
        let bridge = ProgressBridge::new(&ctx);
        let wait = a
            .wait
            .then(|| self.wait_options(&ctx, &bridge, a.wait_timeout_seconds));
        let opts = RunOptions {
            run_sub_rivers: false,
            wait,
            wait_for_throttle: false,
        };
        let outcome = svc.run(&env, &flow, opts).await;
        bridge.finish().await;
        let outcome = outcome.or_tool_error()?;
        let group = outcome.triggered.run_group_id.clone();
        let run_id = outcome.run_id.clone();
        let messages: Vec<String> = outcome
            .triggered
            .runs
            .iter()
            .filter_map(|r| r.message.clone())
            .collect();
        let check = format!(
            "get_run(data_flow_id=\"{flow}\", run_id=\"{}\")",
            run_id.as_deref().unwrap_or(group.as_str())
        );
        let state = outcome.state();
        let message = match &state.stage {
            RunStage::Started => format!(
                "run started; it continues upstream. Check it later with {check} (do not poll in a tight loop)"
            ),
            RunStage::Succeeded => format!("run {}", state.status),
            RunStage::Failed => format!(
                "run {}{}; read the log with get_run_logs(data_flow_id=\"{flow}\", run_id=\"{}\", errors_only=true)",
                state.status,
                state
                    .run
                    .as_ref()
                    .and_then(|r| r.error_description.as_deref())
                    .filter(|s| !s.is_empty())
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default(),
                state.run.as_ref().map_or("", |r| r.run_id.as_str())
            ),
            RunStage::TimedOut(elapsed) => format!(
                "still running after {} s; the run continues upstream. Check it with {check}",
                elapsed.as_secs()
            ),
            RunStage::Cancelled => {
                format!("wait cancelled; the run continues upstream. Check it with {check}")
            }
        };
        let finished = state.is_finished();
        let status = state.status.as_str().to_owned();
        let run = state.run.map(RunItem::from);
        let message = if outcome.reconciled {
            format!(
                "{message} (the trigger's answer was lost; the run was found by listing recent runs, and was not started twice)"
            )
        } else {
            message
        };
        Ok(Json(RunTriggerResult {
            data_flow_id: flow.to_string(),
            run_group_id: group,
            run_id,
            status,
            finished,
            run,
            messages,
            message,
        }))
    }

    #[tool(description = d::LIST_ENVIRONMENTS, annotations(title = "List environments", read_only_hint = true, open_world_hint = true))]
    async fn list_environments(
        &self,
        Parameters(a): Parameters<ListEnvironmentsArgs>,
    ) -> Result<Json<Listing<EnvironmentItem>>, String> {
        let items: Vec<EnvironmentItem> = self
            .svc()?
            .list_all_environments(a.include_deleted)
            .await
            .or_tool_error()?
            .into_iter()
            .map(EnvironmentItem::from)
            .collect();
        let total = items.len() as u64;
        Ok(Json(Listing {
            items,
            total_items: total,
            page: 1,
            has_next: false,
        }))
    }

    #[tool(description = d::LIST_CONNECTIONS, annotations(title = "List connections", read_only_hint = true, open_world_hint = true))]
    async fn list_connections(
        &self,
        Parameters(a): Parameters<EnvArgs>,
    ) -> Result<Json<ConnectionListing>, String> {
        let env = env_of(a.environment_id)?;
        let sweep = self
            .svc()?
            .list_all_connections(&env, 100)
            .await
            .or_tool_error()?;
        Ok(Json(ConnectionListing {
            items: sweep.items.into_iter().map(ConnectionItem::from).collect(),
            total_items: sweep.total_items,
            page: 1,
            has_next: false,
            incomplete_pages: sweep.incomplete_pages,
        }))
    }

    #[tool(description = d::CREATE_CONNECTION, annotations(title = "Create connection", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true))]
    async fn create_connection(
        &self,
        Parameters(a): Parameters<CreateConnectionArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let kind = a
            .body
            .get("connection_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(refusal) = oauth_refusal(&kind) {
            return Err(refusal);
        }
        let conn = self
            .svc()?
            .backend()
            .create_connection(&env, &a.body)
            .await
            .or_tool_error()?;
        Ok(Json(document(&conn)))
    }

    #[tool(description = d::UPDATE_CONNECTION, annotations(title = "Update connection", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true))]
    async fn update_connection(
        &self,
        Parameters(a): Parameters<UpdateConnectionArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let id = ConnectionId::parse(&a.connection_id).or_tool_error()?;
        let conn = self
            .svc()?
            .update_connection(&env, &id, &Value::Object(a.body), a.allow_credential_reset)
            .await
            .or_tool_error()?;
        Ok(Json(document(&conn)))
    }

    #[tool(description = d::DELETE_CONNECTION, annotations(title = "Delete connection", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = true))]
    async fn delete_connection(
        &self,
        Parameters(a): Parameters<ConnectionArgs>,
    ) -> Result<Json<Deleted>, String> {
        let env = env_of(a.environment_id)?;
        let id = ConnectionId::parse(&a.connection_id).or_tool_error()?;
        self.svc()?
            .backend()
            .delete_connection(&env, &id)
            .await
            .or_tool_error()?;
        Ok(Json(Deleted {
            deleted: true,
            data_flow_id: None,
            connection_id: Some(id.to_string()),
        }))
    }

    #[tool(description = d::LIST_VARIABLES, annotations(title = "List variables", read_only_hint = true, open_world_hint = true))]
    async fn list_variables(
        &self,
        Parameters(a): Parameters<EnvArgs>,
    ) -> Result<Json<VariablesResult>, String> {
        let env = env_of(a.environment_id)?;
        let vars = self
            .svc()?
            .backend()
            .list_variables(&env)
            .await
            .or_tool_error()?;
        Ok(Json(VariablesResult {
            count: vars.len(),
            variables: vars,
        }))
    }

    #[tool(description = d::UPSERT_VARIABLES, annotations(title = "Set variables", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true))]
    async fn upsert_variables(
        &self,
        Parameters(a): Parameters<UpsertVariablesArgs>,
    ) -> Result<Json<UpsertResult>, String> {
        let env = env_of(a.environment_id)?;
        let vars = a.variables.into_iter().map(|v| (v.name, v.value)).collect();
        let count = self
            .svc()?
            .upsert_variables(&env, vars)
            .await
            .or_tool_error()?;
        Ok(Json(UpsertResult {
            updated: true,
            count,
        }))
    }

    #[tool(description = d::GET_ACTIVITY_SUMMARY, annotations(title = "Activity summary", read_only_hint = true, open_world_hint = true))]
    async fn get_activity_summary(
        &self,
        Parameters(a): Parameters<ActivitySummaryArgs>,
    ) -> Result<Json<ActivityResult>, String> {
        let env = env_of(a.environment_id)?;
        let (start, end) = window(&a.start_time, &a.end_time)?;
        let query = ActivityQuery {
            start_time: Some(start),
            end_time: Some(end),
            search: a.search,
            ..Default::default()
        };
        let backend = self.svc()?.backend();
        let statistics = backend
            .activities_statistics(&env, &query)
            .await
            .or_tool_error()?;
        let breakdown = if a.include_data_flows {
            let q = ActivityQuery {
                page: Some(PageQuery::new(1, 50)),
                ..query
            };
            let page = backend.activities(&env, &q).await.or_tool_error()?;
            Some(
                serde_json::json!({ "items": page.items, "total_items": page.total_items, "has_next": page.has_next(50) }),
            )
        } else {
            None
        };
        Ok(Json(ActivityResult {
            statistics,
            breakdown,
        }))
    }

    #[tool(description = d::GET_DATA_FLOW_ACTIVITY, annotations(title = "Data flow activity", read_only_hint = true, open_world_hint = true))]
    async fn get_data_flow_activity(
        &self,
        Parameters(a): Parameters<FlowActivityArgs>,
    ) -> Result<Json<ActivityResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let (start, end) = window(&a.start_time, &a.end_time)?;
        let status = run_status(a.status)?;
        let query = ActivityQuery {
            start_time: Some(start),
            end_time: Some(end),
            status: status.into_iter().collect(),
            ..Default::default()
        };
        let backend = self.svc()?.backend();
        let statistics = backend
            .data_flow_statistics(&env, &flow, &query)
            .await
            .or_tool_error()?;
        let targets = backend
            .data_flow_targets(&env, &flow, &query)
            .await
            .or_tool_error()?;
        Ok(Json(ActivityResult {
            statistics,
            breakdown: Some(targets),
        }))
    }

    #[tool(description = d::LIST_RUN_GROUPS, annotations(title = "List run groups", read_only_hint = true, open_world_hint = true))]
    async fn list_run_groups(
        &self,
        Parameters(a): Parameters<FlowActivityArgs>,
    ) -> Result<Json<Listing<Value>>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let (start, end) = window(&a.start_time, &a.end_time)?;
        let status = run_status(a.status)?;
        let page = PageQuery::new(page_number(a.page)?, 50);
        let query = ActivityQuery {
            start_time: Some(start),
            end_time: Some(end),
            status: status.into_iter().collect(),
            page: Some(page),
            ..Default::default()
        };
        let groups = self
            .svc()?
            .backend()
            .data_flow_run_groups(&env, &flow, &query)
            .await
            .or_tool_error()?;
        Ok(Json(Listing::from_page(groups, 50, |v| v)))
    }

    #[tool(description = d::GET_RUN_GROUP, annotations(title = "Get run group", read_only_hint = true, open_world_hint = true))]
    async fn get_run_group(
        &self,
        Parameters(a): Parameters<RunGroupArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let group = RunId::parse(&a.run_group_id).or_tool_error()?;
        let v = self
            .svc()?
            .backend()
            .data_flow_run_group(&env, &flow, &group)
            .await
            .or_tool_error()?;
        Ok(Json(match v {
            Value::Object(m) => m,
            other => [("run_group".to_owned(), other)].into_iter().collect(),
        }))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for BdiMcp {
    /// Every call: arguments over their size limits are refused before they are parsed (so
    /// before any upstream request, and never echoed back whole), and the call is logged at
    /// DEBUG with its secrets redacted.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, rmcp::ErrorData> {
        if let Err(e) = crate::limits::check(request.arguments.as_ref()) {
            tracing::debug!(tool = %request.name, error = %e, "tool call refused");
            let text = crate::errors::tool_error(&e);
            return Ok(CallToolResult::error(vec![ContentBlock::text(text)]).into());
        }
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(
                tool = %request.name,
                arguments = %crate::logging::arguments_for_log(request.arguments.as_ref()),
                "tool call"
            );
        }
        let tcc = ToolCallContext::new(self, request, context);
        let response = self.tool_router.call(tcc).await?;
        Ok(shorten_parse_error(response))
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("bdi-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(d::INSTRUCTIONS.to_owned())
    }
}

/// The prefix of rmcp's tool error for arguments that do not parse.
const PARSE_ERROR_PREFIX: &str = "failed to deserialize parameters:";
/// Longest parse error returned, in characters: serde quotes a mistyped string whole.
pub(crate) const MAX_PARSE_ERROR_CHARS: usize = 300;

/// Cuts rmcp's parse error (`invalid type: string "...", expected ...`) so that it never
/// returns a long input whole; other results pass unchanged.
fn shorten_parse_error(response: CallToolResponse) -> CallToolResponse {
    let CallToolResponse::Complete(result) = &response else {
        return response;
    };
    let text = match result.content.as_slice() {
        [only] if result.is_error == Some(true) => only.as_text().map(|t| t.text.as_str()),
        _ => None,
    };
    match text {
        Some(t) if t.starts_with(PARSE_ERROR_PREFIX) => {
            match t.char_indices().nth(MAX_PARSE_ERROR_CHARS) {
                None => response,
                Some((at, _)) => {
                    let short = format!("{}… ({} characters)", &t[..at], t.chars().count());
                    CallToolResult::error(vec![ContentBlock::text(short)]).into()
                }
            }
        }
        _ => response,
    }
}

fn next_step_for_run(run: &bdi_domain::models::Run, flow: &DataFlowId) -> String {
    if !run.status.is_terminal() {
        "the run is still going; check again in a minute (do not poll in a tight loop)".to_owned()
    } else if run.status.is_success() {
        "nothing to do: the run succeeded".to_owned()
    } else {
        format!(
            "read the failure with get_run_logs(data_flow_id=\"{flow}\", run_id=\"{}\", errors_only=true)",
            run.run_id
        )
    }
}

fn toggle_result(
    flow: &DataFlowId,
    outcome: bdi_domain::service::Activation,
    activate: bool,
) -> ToggleResult {
    use bdi_domain::ToggleState;
    let verb = if activate { "activation" } else { "disable" };
    let state = if activate { "active" } else { "disabled" };
    let toggle = outcome.state();
    let already = toggle == ToggleState::AlreadyInState;
    let done = toggle.is_done();
    let message = match &toggle {
        ToggleState::AlreadyInState => format!("the data flow was already {state}"),
        ToggleState::Done(_) => format!("the data flow is {state}"),
        ToggleState::Failed { operation, .. } => format!(
            "{verb} failed: {}",
            operation.error_message.as_deref().unwrap_or("no message")
        ),
        ToggleState::Started(op) => format!(
            "{verb} started (operation {}); check it with get_operation or call again with wait=true",
            op.operation_id
        ),
        ToggleState::TimedOut { operation, elapsed } => format!(
            "{verb} still in progress after {} s; it continues upstream: check it with get_operation(operation_id=\"{}\")",
            elapsed.as_secs(),
            operation.operation_id
        ),
        ToggleState::Cancelled(op) => format!(
            "wait cancelled; the {verb} continues upstream: check it with get_operation(operation_id=\"{}\")",
            op.operation_id
        ),
    };
    let op = toggle.operation().cloned();
    ToggleResult {
        data_flow_id: flow.to_string(),
        activated: activate.then_some(done),
        disabled: (!activate).then_some(done),
        already,
        operation: op.map(OperationResult::from),
        message,
    }
}

const OAUTH_TYPES: &[&str] = &[
    "google",
    "salesforce",
    "hubspot",
    "facebook",
    "meta",
    "linkedin",
    "tiktok",
    "twitter",
    "youtube",
    "instagram",
    "pinterest",
    "snapchat",
    "bing",
    "microsoft_ads",
    "quickbooks",
    "xero",
    "zendesk",
    "netsuite_oauth",
    "shopify",
    "intercom",
    "asana",
    "slack",
    "dropbox",
    "box",
    "sharepoint",
    "onedrive",
];

fn oauth_refusal(connection_type: &str) -> Option<String> {
    let t = connection_type.to_ascii_lowercase();
    if OAUTH_TYPES.iter().any(|o| t.contains(o)) {
        Some(format!(
            "error: connection type {} authenticates with OAuth and cannot be created through the API\nhint: tell the user: \"This connection uses OAuth: please create it in the Boomi Data Integration console, then I can use it here.\"",
            quote(connection_type)
        ))
    } else {
        None
    }
}
