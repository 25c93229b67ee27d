//! Approval by a person (`--confirm destructive|writes`, issue #25): before a tool that the mode
//! covers sends anything upstream, the server asks the person through MCP elicitation, naming
//! exactly what will happen (the tool, its target's name and id, the environment). Only an
//! accepted answer lets the call go on; declined, cancelled, or a client that cannot ask, and
//! nothing is sent. No tool argument can approve: the answer comes from the client, never from
//! the model's arguments.
//!
//! How the question travels depends on the client's protocol era:
//!
//! - 2026-07-28 (stdio or Streamable HTTP): the call returns an `InputRequiredResult` holding
//!   the question (MRTR); the client asks the person and calls again with the answer and the
//!   `requestState`, which names the exact call asked about, so an answer never approves a
//!   different call. Each round is one request, so this works on the stateless HTTP endpoint.
//! - Earlier versions over stdio: the server sends `elicitation/create` and waits for the answer
//!   within the call.
//! - Earlier versions over Streamable HTTP: refused. The endpoint is stateless (no MCP session):
//!   the answer to `elicitation/create` would come back as a new HTTP POST that no session ties
//!   to the waiting call, and rmcp's stateless endpoint refuses such responses. The refusal says
//!   so and what works instead.
//!
//! Elicitation is the client's word: a dishonest client can answer for the person. The operator's
//! flags (`--read-only`, `--no-destructive`) remain the boundary; this makes a person see and
//! approve each change with an honest client.

use bdi_domain::error::quote;
use bdi_domain::{ConnectionId, DataFlowId, Env, Service};
use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequestParams, ClientResult, ElicitRequest, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationSchema, InputRequest, InputRequests, InputRequiredResult,
    ProtocolVersion, ServerRequest, Tool,
};
use rmcp::service::RequestContext;
use serde_json::Value;

/// Which calls need a person's approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Confirm {
    /// The deletes (tools annotated destructive).
    Destructive,
    /// Every change to the account: creates, updates, activations, runs and deletes.
    Writes,
}

/// Tools that are not read-only but change nothing upstream: `sync_history` only reads the
/// account (it writes the local history dataset).
const CHANGES_NOTHING_UPSTREAM: &[&str] = &["sync_history"];

/// The key of the question in `inputRequests` and of its answer in `inputResponses`.
pub const INPUT_KEY: &str = "confirm";

/// The prefix of the `requestState` of a question.
const STATE_PREFIX: &str = "bdi-confirm-v1:";

impl Confirm {
    /// Whether a call of `tool` needs approval in this mode.
    pub fn covers(self, tool: &Tool) -> bool {
        let a = tool.annotations.as_ref();
        let read_only = a.and_then(|a| a.read_only_hint).unwrap_or(false);
        // The spec's default for destructiveHint is true: absent means destructive.
        let destructive = a.and_then(|a| a.destructive_hint).unwrap_or(true);
        if read_only || CHANGES_NOTHING_UPSTREAM.contains(&tool.name.as_ref()) {
            return false;
        }
        match self {
            Self::Destructive => destructive,
            Self::Writes => true,
        }
    }

    /// The flag value that names this mode.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Destructive => "--confirm destructive",
            Self::Writes => "--confirm writes",
        }
    }
}

/// What the approval step decided.
#[derive(Debug)]
pub enum Approval {
    /// The person accepted: the call goes on.
    Granted,
    /// Ask the person first (2026-07-28 clients): return this to the client.
    Ask(Box<InputRequiredResult>),
    /// Not approved, or the question cannot be asked: this tool error, and nothing is sent.
    Refused(String),
}

/// The state that ties an answer to the exact call asked about: the tool and its arguments.
fn request_state(request: &CallToolRequestParams) -> String {
    let args = request
        .arguments
        .as_ref()
        .map(|a| serde_json::to_string(a).unwrap_or_default())
        .unwrap_or_default();
    format!("{STATE_PREFIX}{}:{args}", request.name)
}

fn is_modern(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
}

/// Whether the client said it can show a form to the person (a bare `elicitation: {}` means form).
fn can_ask(context: &RequestContext<RoleServer>) -> bool {
    context
        .client_capabilities()
        .and_then(|c| c.elicitation)
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

fn question(message: String) -> ElicitRequestParams {
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema: ElicitationSchema::new(std::collections::BTreeMap::new()),
    }
}

/// The refusal when the client did not declare elicitation.
fn no_capability(mode: Confirm, what: &str) -> String {
    format!(
        "error: not done: {what} needs a person's approval ({}), and this client did not declare the elicitation capability, so the server cannot ask; nothing was sent\nhint: tell the user: \"bdi-mcp asks for your approval before this change, and this client cannot show its question. Use a client that supports MCP elicitation, or restart bdi-mcp without {}.\"",
        mode.flag(),
        mode.flag()
    )
}

/// The refusal of a pre-2026-07-28 client over the stateless HTTP endpoint.
fn stateless_http(mode: Confirm, what: &str) -> String {
    format!(
        "error: not done: {what} needs a person's approval ({}), and this client speaks a protocol version before 2026-07-28 over Streamable HTTP, where bdi-mcp keeps no session: the answer to its question would come back on a new HTTP request that nothing ties to this call; nothing was sent\nhint: tell the user: \"To approve changes over HTTP, use a client of MCP 2026-07-28 (it carries the question and answer in the call itself), or run bdi-mcp over stdio, or restart it without {}.\"",
        mode.flag(),
        mode.flag()
    )
}

fn refused(action: &ElicitationAction, what: &str) -> String {
    let word = match action {
        ElicitationAction::Decline => "declined",
        _ => "cancelled",
    };
    format!(
        "error: not done: the person {word} {what}; nothing was sent\nhint: do not retry unless the user asks for it again"
    )
}

/// Decides whether `request` may go on: asks the person (or reads their answer) when `mode`
/// covers `tool`. `service` names the target (data flow, connection, environment) in the
/// question; without one the ids are named alone.
pub async fn approve(
    mode: Confirm,
    tool: &Tool,
    request: &CallToolRequestParams,
    context: &RequestContext<RoleServer>,
    service: Option<&Service>,
) -> Approval {
    let what = match describe(tool, request, service).await {
        Ok(what) => what,
        // Arguments the tool would refuse anyway: its own error, before any question.
        Err(e) => return Approval::Refused(e),
    };
    if is_modern(context) {
        let state = request_state(request);
        let answer = request
            .input_responses
            .as_ref()
            .and_then(|r| r.get(INPUT_KEY))
            .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok());
        // An answer counts only for the call it was asked about.
        if let Some(answer) = answer
            && request.request_state.as_deref() == Some(state.as_str())
        {
            return match answer.action {
                ElicitationAction::Accept => Approval::Granted,
                other => Approval::Refused(refused(&other, &what)),
            };
        }
        if !can_ask(context) {
            return Approval::Refused(no_capability(mode, &what));
        }
        let mut requests = InputRequests::new();
        requests.insert(
            INPUT_KEY.to_owned(),
            InputRequest::Elicitation(ElicitRequest::new(question(ask(&what)))),
        );
        return Approval::Ask(Box::new(InputRequiredResult::new(
            Some(requests),
            Some(state),
        )));
    }
    if context
        .extensions
        .get::<axum::http::request::Parts>()
        .is_some()
    {
        return Approval::Refused(stateless_http(mode, &what));
    }
    if !can_ask(context) {
        return Approval::Refused(no_capability(mode, &what));
    }
    let sent = context
        .peer
        .send_request(ServerRequest::ElicitRequest(ElicitRequest::new(question(
            ask(&what),
        ))));
    let answer = tokio::select! {
        answer = sent => answer,
        () = context.ct.cancelled() => return Approval::Refused(refused(&ElicitationAction::Cancel, &what)),
    };
    match answer {
        Ok(ClientResult::ElicitResult(r)) if r.action == ElicitationAction::Accept => {
            Approval::Granted
        }
        Ok(ClientResult::ElicitResult(r)) => Approval::Refused(refused(&r.action, &what)),
        Ok(_) => Approval::Refused(format!(
            "error: not done: the client answered the approval question of {what} with something else; nothing was sent"
        )),
        Err(e) => Approval::Refused(format!(
            "error: not done: the approval question of {what} could not be asked ({e}); nothing was sent"
        )),
    }
}

fn ask(what: &str) -> String {
    format!("Allow bdi-mcp to {what}? Nothing is sent unless you accept.")
}

/// What the call will do, in words a person checks: the tool's title, its target's name and
/// id, and the environment.
async fn describe(
    tool: &Tool,
    request: &CallToolRequestParams,
    service: Option<&Service>,
) -> Result<String, String> {
    let args = request.arguments.clone().unwrap_or_default();
    let text = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_owned);
    let title = tool
        .annotations
        .as_ref()
        .and_then(|a| a.title.clone())
        .unwrap_or_else(|| tool.name.to_string())
        .to_lowercase();
    let env =
        Env::parse(text("environment_id").as_deref()).map_err(|e| crate::errors::tool_error(&e))?;
    let mut target = String::new();
    if let Some(id) = text("data_flow_id") {
        let id = DataFlowId::parse(&id).map_err(|e| crate::errors::tool_error(&e))?;
        let name = match service {
            Some(s) => s
                .backend()
                .get_data_flow(&env, &id)
                .await
                .ok()
                .map(|f| f.name),
            None => None,
        };
        target = named("data flow", name, id.as_ref());
    } else if let Some(id) = text("connection_id") {
        let id = ConnectionId::parse(&id).map_err(|e| crate::errors::tool_error(&e))?;
        let name = match service {
            Some(s) => s
                .backend()
                .get_connection(&env, &id)
                .await
                .ok()
                .map(|c| c.connection_name),
            None => None,
        };
        target = named("connection", name, id.as_ref());
    } else if let Some(name) = text("name") {
        target = format!("named {}", quote(&name));
    } else if let Some(name) = args
        .get("body")
        .and_then(|b| b.get("connection_name"))
        .and_then(Value::as_str)
    {
        target = format!("named {}", quote(name));
    } else if let Some(vars) = args.get("variables").and_then(Value::as_array) {
        let names: Vec<String> = vars
            .iter()
            .filter_map(|v| v.get("name").and_then(Value::as_str))
            .map(quote)
            .collect();
        target = format!("({})", names.join(", "));
    }
    let environment = environment(&env, service).await;
    let mut out = title;
    if !target.is_empty() {
        out.push(' ');
        out.push_str(&target);
    }
    out.push_str(" in ");
    out.push_str(&environment);
    Ok(out)
}

fn named(kind: &str, name: Option<String>, id: &str) -> String {
    match name {
        Some(n) => format!("{kind} {} ({id})", quote(&n)),
        None => format!("{kind} {id}"),
    }
}

/// The environment in words: its name and id when the account says them.
async fn environment(env: &Env, service: Option<&Service>) -> String {
    let all = match service {
        Some(s) => s.list_all_environments(false).await.ok(),
        None => None,
    };
    let found = all.and_then(|all| {
        all.into_iter().find(|e| match env {
            Env::Id(id) => e.cross_id == id.to_string(),
            Env::Default => e.is_default,
        })
    });
    match (found, env) {
        (Some(e), _) => format!(
            "environment {} ({})",
            quote(&e.environment_name),
            e.cross_id
        ),
        (None, Env::Id(id)) => format!("environment {id}"),
        (None, Env::Default) => "the default environment".to_owned(),
    }
}
