//! The gateway's own routes, under `/bdi/v1/environments/{env}/...`: what only the domain offers
//! (run and wait, activate and wait, tables by name, merge-patch, every connection in one call).
//!
//! A waiting route answers 200 when the work finished and 202 when it did not finish in
//! `timeout_seconds` (or `wait=false`); either way the body says where the work stands.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bdi_domain::models::{Operation, Run, RunTriggered};
use bdi_domain::{Activation, ConnectionId, QualifiedTable, RunOptions, RunStage, WaitOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::QueryPairs;
use crate::routes::params::Ids;
use crate::routes::{env_of, json_object, run_throttled};
use crate::state::AppState;

/// How a wait ended, on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitOutcome {
    /// The caller did not ask to wait.
    NotWaited,
    /// Nothing to wait for (already in the requested state).
    AlreadyInState,
    /// The work reached a terminal state.
    Finished,
    /// `timeout_seconds` passed first; the work goes on upstream.
    TimedOut,
    /// The gateway shut down during the wait; the work goes on upstream.
    Cancelled,
}

impl WaitOutcome {
    fn status(self) -> StatusCode {
        match self {
            Self::Finished | Self::AlreadyInState => StatusCode::OK,
            _ => StatusCode::ACCEPTED,
        }
    }
}

/// The answer of `POST .../data_flows/{flow}/run`.
#[derive(Clone, Debug, Serialize)]
pub struct RunResponse {
    /// How the wait ended.
    pub outcome: WaitOutcome,
    /// The run followed (`runs[0].run_id`, else the run group id).
    pub run_id: Option<String>,
    /// The run group of the trigger.
    pub run_group_id: String,
    /// The run's latest state, when waited for.
    pub run: Option<Run>,
    /// Whether the run succeeded, once finished.
    pub succeeded: Option<bool>,
    /// The trigger's answer.
    pub triggered: RunTriggered,
    /// The trigger failed ambiguously and the run was found by listing runs.
    pub reconciled: bool,
}

/// The answer of activate and disable.
#[derive(Clone, Debug, Serialize)]
pub struct ToggleResponse {
    /// How the wait ended.
    pub outcome: WaitOutcome,
    /// The operation's latest state, if one was started.
    pub operation: Option<Operation>,
    /// Whether the operation succeeded (`D`), once finished.
    pub succeeded: Option<bool>,
    /// What to do next when the operation failed.
    pub advice: Option<String>,
}

/// The body of `PUT .../data_flows/{flow}/source_tables`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceTablesRequest {
    /// The table names (`customers`, `sales.orders`); the list replaces the whole selection.
    pub tables: Vec<String>,
    /// The source connection; defaults to the flow's `properties.source.connection_id`.
    #[serde(default)]
    pub connection_id: Option<String>,
}

/// The answer of `PUT .../source_tables`.
#[derive(Clone, Debug, Serialize)]
pub struct SourceTablesResponse {
    /// The tables selected, with the connection's casing.
    pub tables: Vec<QualifiedTable>,
    /// The saved data flow.
    pub data_flow: bdi_domain::models::DataFlow,
}

/// The answer of `GET .../connections` (all pages).
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionsResponse {
    /// Every connection.
    pub items: Vec<bdi_domain::models::Connection>,
    /// The upstream's total.
    pub total_items: u64,
    /// How many pages were read.
    pub pages: u32,
    /// Pages that failed transiently and are missing from `items`.
    pub incomplete_pages: Vec<u32>,
}

/// `wait` (default true) and `timeout_seconds` (default 60, at most 600) of a waiting route.
fn wait_options(st: &AppState, q: &QueryPairs) -> ApiResult<Option<WaitOptions>> {
    let limits = st.limits();
    let max = u32::try_from(limits.max_wait.as_secs()).unwrap_or(u32::MAX);
    let default = u32::try_from(limits.default_wait.as_secs()).unwrap_or(60);
    let timeout = q.int("timeout_seconds", default.min(max), 1, max)?;
    if !q.bool("wait", true)? {
        return Ok(None);
    }
    Ok(Some(WaitOptions {
        policy: Some(
            limits
                .poll
                .clone()
                .with_deadline(Duration::from_secs(u64::from(timeout))),
        ),
        cancel: st.wait_token(),
        progress: None,
    }))
}

/// `POST /bdi/v1/environments/{env}/data_flows/{flow}/run`.
pub(crate) async fn run(
    State(st): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let wait = wait_options(&st, &q)?;
    let options = RunOptions {
        run_sub_rivers: q.bool("run_sub_rivers", false)?,
        wait_for_throttle: q.bool("wait_for_throttle", false)? && wait.is_some(),
        wait,
    };
    let outcome = run_throttled(&st, &caller, &env_of(&ids)?, &ids.flow()?, options).await?;
    let (status, succeeded) = match outcome.state().stage {
        RunStage::Started => (WaitOutcome::NotWaited, None),
        RunStage::Succeeded => (WaitOutcome::Finished, Some(true)),
        RunStage::Failed => (WaitOutcome::Finished, Some(false)),
        RunStage::TimedOut(_) => (WaitOutcome::TimedOut, None),
        RunStage::Cancelled => (WaitOutcome::Cancelled, None),
    };
    let body = RunResponse {
        outcome: status,
        run_id: outcome.run_id,
        run_group_id: outcome.triggered.run_group_id.clone(),
        run: outcome.run,
        succeeded,
        triggered: outcome.triggered,
        reconciled: outcome.reconciled,
    };
    Ok((status.status(), Json(body)).into_response())
}

fn toggle_response(activation: Activation) -> Response {
    use bdi_domain::ToggleState;
    let toggle = activation.state();
    let (outcome, succeeded, advice) = match &toggle {
        ToggleState::AlreadyInState => (WaitOutcome::AlreadyInState, None, None),
        ToggleState::Done(_) => (WaitOutcome::Finished, Some(true), None),
        ToggleState::Failed { next, .. } => (
            WaitOutcome::Finished,
            Some(false),
            next.as_ref().map(crate::error::next_step_hint),
        ),
        ToggleState::Started(_) => (WaitOutcome::NotWaited, None, None),
        ToggleState::TimedOut { .. } => (WaitOutcome::TimedOut, None, None),
        ToggleState::Cancelled(_) => (WaitOutcome::Cancelled, None, None),
    };
    let body = ToggleResponse {
        outcome,
        operation: toggle.operation().cloned(),
        succeeded,
        advice,
    };
    (outcome.status(), Json(body)).into_response()
}

/// `POST /bdi/v1/environments/{env}/data_flows/{flow}/activate`.
pub(crate) async fn activate(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let wait = wait_options(&st, &q)?;
    let activation = st
        .service()
        .activate(&env_of(&ids)?, &ids.flow()?, wait)
        .await?;
    Ok(toggle_response(activation))
}

/// `POST /bdi/v1/environments/{env}/data_flows/{flow}/disable`.
pub(crate) async fn disable(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let wait = wait_options(&st, &q)?;
    let activation = st
        .service()
        .disable(&env_of(&ids)?, &ids.flow()?, wait)
        .await?;
    Ok(toggle_response(activation))
}

/// `PUT /bdi/v1/environments/{env}/data_flows/{flow}/source_tables`.
pub(crate) async fn set_source_tables(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    body: Bytes,
) -> ApiResult<Response> {
    let request: SourceTablesRequest =
        serde_json::from_value(Value::Object(json_object(&body)?))
            .map_err(|e| ApiError::validation(&["body"], "value_error", &e.to_string()))?;
    let env = env_of(&ids)?;
    let flow = ids.flow()?;
    let connection = request
        .connection_id
        .as_deref()
        .map(ConnectionId::parse)
        .transpose()?;
    let set = st
        .service()
        .set_source_tables(&env, &flow, connection.as_ref(), &request.tables)
        .await?;
    Ok(Json(SourceTablesResponse {
        tables: set.tables,
        data_flow: set.flow,
    })
    .into_response())
}

/// `PATCH /bdi/v1/environments/{env}/data_flows/{flow}` with `application/merge-patch+json` (or
/// `application/json`; the route table refuses any other media type with 415).
pub(crate) async fn patch_data_flow(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    body: Bytes,
) -> ApiResult<Response> {
    let patch = Value::Object(json_object(&body)?);
    let flow = st
        .service()
        .patch_data_flow(&env_of(&ids)?, &ids.flow()?, &patch)
        .await?;
    Ok(Json(flow).into_response())
}

/// `GET /bdi/v1/environments/{env}/connections`: every page in one answer.
pub(crate) async fn list_all_connections(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let per_page = q.int("items_per_page", 100, 1, 500)?;
    let sweep = st
        .service()
        .list_all_connections(&env_of(&ids)?, per_page)
        .await?;
    Ok(Json(ConnectionsResponse {
        items: sweep.items,
        total_items: sweep.total_items,
        pages: sweep.pages,
        incomplete_pages: sweep.incomplete_pages,
    })
    .into_response())
}

/// A document of `POST /bdi/v1/environments/{env}/plan`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanDocument {
    /// The file it comes from (`flows/orders.yaml`): how the plan and the record name it.
    file: String,
    /// The data flow document.
    document: serde_json::Map<String, Value>,
}

/// The body of `POST /bdi/v1/environments/{env}/plan`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRequest {
    /// The data flow documents (`flows/*.yaml`).
    documents: Vec<PlanDocument>,
    /// The connection documents (`connections/*.yaml`), without secrets.
    #[serde(default)]
    connections: Vec<PlanDocument>,
    /// `variables.yaml`'s content (`{"variables": {...}}`); `null` is not an object and is refused,
    /// as the schema says.
    #[serde(default, deserialize_with = "some_object")]
    variables: Option<serde_json::Map<String, Value>>,
    /// The environment's part of the identity record: file → id (data flows and connections).
    #[serde(default)]
    identity: std::collections::BTreeMap<String, String>,
}

/// A field that, when present, must be an object (`null` included in what is refused).
fn some_object<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Map<String, Value>>, D::Error> {
    serde_json::Map::deserialize(d).map(Some)
}

/// `POST /bdi/v1/environments/{env}/plan`: documents in (data flows, and optionally connections
/// and variables), the plan out (what `bdi flows plan` prints as JSON), for a CI job that may read but holds no account token. Reads only. Documents
/// an apply would refuse are answered `valid: false` with every problem (file, path, message).
pub(crate) async fn plan(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    body: Bytes,
) -> ApiResult<Response> {
    let request: PlanRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::validation(
            &["body"],
            "json_invalid",
            &format!("not a plan request: {e}"),
        )
    })?;
    let desired: Vec<bdi_domain::plan::Desired> = request
        .documents
        .into_iter()
        .map(|d| bdi_domain::plan::Desired {
            file: d.file,
            body: bdi_domain::plan::clean(&d.document),
        })
        .collect();
    for (file, id) in &request.identity {
        if bdi_domain::DataFlowId::parse(id).is_err() {
            return Err(ApiError::validation(
                &["body", "identity", file],
                "string_pattern_mismatch",
                "a data flow id is 24 hexadecimal characters",
            ));
        }
    }
    // The documents' own problems are answered with the environment's, all at once.
    let mut problems = Vec::new();
    let mut connections = Vec::new();
    for d in request.connections {
        match bdi_domain::plan::connections::read(&d.file, &d.document) {
            Ok(doc) => connections.push(doc),
            Err(more) => problems.extend(more),
        }
    }
    // A value from an environment variable is the CI job's own: never sent here, never compared.
    let variables = match request.variables {
        Some(raw) => match bdi_domain::plan::variables::read(
            bdi_domain::plan::variables::VARIABLES_FILE,
            &raw,
            |_| None,
        ) {
            Ok(doc) => Some(doc),
            Err(more) => {
                problems.extend(more);
                None
            }
        },
        None => None,
    };
    let identity = bdi_domain::plan::Identity(request.identity);
    let documents = bdi_domain::Documents {
        flows: desired,
        connections,
        variables,
    };
    let identities = bdi_domain::Identities {
        flows: identity.clone(),
        connections: identity,
    };
    let checked = st
        .service()
        .check_environment(&env_of(&ids)?, &documents, &identities)
        .await?;
    let checked = match checked {
        bdi_domain::Checked::Refused(more) => {
            problems.extend(more);
            bdi_domain::Checked::Refused(problems)
        }
        planned if problems.is_empty() => planned,
        bdi_domain::Checked::Planned { .. } => bdi_domain::Checked::Refused(problems),
    };
    match checked {
        // Well-formed documents that an apply would refuse: the answer says so, as a plan of
        // nothing with the problems (`bdi flows plan` exits 2 for them).
        bdi_domain::Checked::Refused(problems) => Ok(Json(serde_json::json!({
            "valid": false,
            "problems": problems,
            "changes": [],
            "upstream_only": [],
            "unchanged": 0,
            "pending": false,
        }))
        .into_response()),
        bdi_domain::Checked::Planned { plan, .. } => {
            let pending = plan.has_changes(false);
            let (changes, deletes): (Vec<_>, Vec<_>) =
                plan.changes.into_iter().partition(|c| c.applies(false));
            Ok(Json(serde_json::json!({
                "valid": true,
                "problems": [],
                "changes": changes,
                "upstream_only": deletes,
                "unchanged": plan.unchanged,
                "pending": pending,
            }))
            .into_response())
        }
    }
}
