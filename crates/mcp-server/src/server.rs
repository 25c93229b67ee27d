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
    /// The run history dataset of the history tools.
    pub history: Arc<crate::history::History>,
    /// Which calls need a person's approval first (`--confirm`); none by default.
    pub confirm: Option<crate::confirm::Confirm>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            selection: ToolSelection::default(),
            wait_with_progress: Duration::from_secs(600),
            wait_without_progress: Duration::from_secs(50),
            poll: PollPolicy::default(),
            log_tail: 200,
            history: Arc::new(crate::history::History::new(
                crate::history::History::default_location(&|k| std::env::var(k).ok()),
            )),
            confirm: None,
        }
    }
}

mod activity;
mod connections;
mod dynamic;
mod flows;
mod history;
mod runs;

/// The tools listed now, with `--toolsets dynamic` (shared by the clones rmcp makes).
type Enabled = Arc<std::sync::RwLock<std::collections::BTreeSet<String>>>;

/// The `bdi-mcp` server: one tool router per group of tools (`server/`), combined.
#[derive(Clone, Debug)]
pub struct BdiMcp {
    backing: Backing,
    options: Arc<ServerOptions>,
    tool_router: ToolRouter<Self>,
    /// With `--toolsets dynamic`, the tools of `tool_router` listed and callable now.
    dynamic: Option<Enabled>,
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
        let mut tool_router = options.selection.apply(Self::all_router())?;
        let dynamic = if options.selection.dynamic {
            tool_router += compact(Self::dynamic_router());
            let core = tool_router
                .list_all()
                .into_iter()
                .filter(|t| {
                    t.annotations
                        .as_ref()
                        .and_then(|a| a.read_only_hint)
                        .unwrap_or(false)
                })
                .map(|t| t.name.to_string())
                .collect();
            Some(Arc::new(std::sync::RwLock::new(core)))
        } else {
            None
        };
        Ok(Self {
            backing,
            options: Arc::new(options),
            tool_router,
            dynamic,
        })
    }

    /// Whether `name` is listed and callable now.
    fn enabled(&self, name: &str) -> bool {
        match &self.dynamic {
            None => true,
            Some(set) => set
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains(name),
        }
    }

    /// Every tool this build offers, before selection (for docs and tests).
    pub fn all_tools() -> Vec<rmcp::model::Tool> {
        Self::all_router().list_all()
    }

    /// The router of every tool, before selection, with compact input schemas and no output
    /// schemas.
    ///
    /// Output schemas are not listed: the hosts' model APIs take a tool's name, description
    /// and input schema only, so an output schema costs every conversation its bytes (9.9 KB,
    /// a quarter of `tools/list`) for a check a few clients make; each description says what
    /// comes back, and every result still carries `structuredContent` with its JSON text.
    /// Annotations leave `openWorldHint` to its spec default (true) on every tool that reaches
    /// the platform; the two local history tools say false.
    pub fn all_router() -> ToolRouter<Self> {
        compact(
            Self::flows_router()
                + Self::runs_router()
                + Self::connections_router()
                + Self::activity_router()
                + Self::history_router(),
        )
    }

    /// The tools listed now (with `--toolsets dynamic`, those enabled so far).
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.tool_router
            .list_all()
            .into_iter()
            .filter(|t| self.enabled(&t.name))
            .collect()
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

#[tool_handler(router = self.tool_router)]
impl ServerHandler for BdiMcp {
    /// Every call: arguments over their size limits are refused before they are parsed (so
    /// before any upstream request, and never echoed back whole), the call is logged at DEBUG
    /// with its secrets redacted, with `--confirm` a change waits for a person's approval
    /// (`crate::confirm`), and a result over its budget is cut, saying what was left out and how
    /// to get it (`crate::bounded`).
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
        if !self.enabled(&request.name) {
            return Err(rmcp::ErrorData::invalid_params(
                format!(
                    "tool {} is not enabled: enable its toolset with enable_toolset",
                    quote(&request.name)
                ),
                None,
            ));
        }
        if let Some(mode) = self.options.confirm
            && let Some(tool) = self.tool_router.get(&request.name)
            && mode.covers(tool)
        {
            let service = match &self.backing {
                Backing::Ready(s) => Some(s),
                Backing::Misconfigured(_) => None,
            };
            match crate::confirm::approve(mode, tool, &request, &context, service).await {
                crate::confirm::Approval::Granted => {
                    tracing::info!(tool = %request.name, "approved by the person");
                }
                crate::confirm::Approval::Ask(input) => return Ok((*input).into()),
                crate::confirm::Approval::Refused(text) => {
                    tracing::info!(tool = %request.name, "not approved: nothing sent");
                    return Ok(CallToolResult::error(vec![ContentBlock::text(text)]).into());
                }
            }
        }
        let name = request.name.clone();
        let arguments = request.arguments.clone();
        let tcc = ToolCallContext::new(self, request, context);
        let response = self.tool_router.call(tcc).await?;
        Ok(crate::bounded::bound(
            &name,
            arguments.as_ref(),
            shorten_parse_error(response),
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListToolsResult, rmcp::ErrorData> {
        let mut result = rmcp::model::ListToolsResult::with_all_items(self.tools());
        if modern(&context) {
            // The dynamic list changes with enable_toolset: never cached for long, nor shared.
            let scope = if self.dynamic.is_some() {
                rmcp::model::CacheScope::Private
            } else {
                rmcp::model::CacheScope::Public
            };
            result = result.with_ttl_ms(0).with_cache_scope(scope);
        }
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        if self.enabled(name) {
            self.tool_router.get(name).cloned()
        } else {
            None
        }
    }

    async fn list_resources(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        let mut result = rmcp::model::ListResourcesResult::with_all_items(vec![
            rmcp::model::Resource::new(crate::guide::URI, "guide")
                .with_title("bdi-mcp tool guide")
                .with_description(crate::guide::DESCRIPTION)
                .with_mime_type("text/markdown"),
        ]);
        if modern(&context) {
            result = result
                .with_ttl_ms(crate::guide::TTL_MS)
                .with_cache_scope(rmcp::model::CacheScope::Public);
        }
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        let mut result = rmcp::model::ListResourceTemplatesResult::with_all_items(Vec::new());
        if modern(&context) {
            result = result
                .with_ttl_ms(crate::guide::TTL_MS)
                .with_cache_scope(rmcp::model::CacheScope::Public);
        }
        Ok(result)
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        if request.uri != crate::guide::URI {
            return Err(rmcp::ErrorData::resource_not_found(
                format!(
                    "no resource {}: the only one is {}",
                    quote(&request.uri),
                    crate::guide::URI
                ),
                None,
            ));
        }
        let contents =
            rmcp::model::ResourceContents::text(crate::guide::markdown(), crate::guide::URI)
                .with_mime_type("text/markdown");
        let mut result = rmcp::model::ReadResourceResult::new(vec![contents]);
        if modern(&context) {
            result = result
                .with_ttl_ms(crate::guide::TTL_MS)
                .with_cache_scope(rmcp::model::CacheScope::Public);
        }
        Ok(result.into())
    }

    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .build();
        if self.dynamic.is_some()
            && let Some(tools) = capabilities.tools.as_mut()
        {
            tools.list_changed = Some(true);
        }
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("bdi-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(d::INSTRUCTIONS.to_owned())
    }
}

/// `router` with compact input schemas and no output schemas (see [`BdiMcp::all_router`]).
fn compact(mut router: ToolRouter<BdiMcp>) -> ToolRouter<BdiMcp> {
    for route in router.map.values_mut() {
        let tool = &mut route.attr;
        tool.input_schema = Arc::new(crate::schema::compact_input(&tool.input_schema));
        tool.output_schema = None;
    }
    router
}

/// Whether the request comes from a peer of the 2026-07-28 era, which takes caching hints.
fn modern(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v >= rmcp::model::ProtocolVersion::V_2026_07_28)
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
