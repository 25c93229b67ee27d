//! Operations (section 4.1) and discovery pull requests (section 4.9): creation, the W -> R ->
//! D/E state machine driven by GET polls, and the side effects of finished toggles.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::json_response;
use crate::AppState;
use crate::catalog;
use crate::error::{self, ApiError};
use crate::http::json_object;
use crate::model::{Effect, Env, Operation, conn_type};
use crate::state::Sys;

const TASKS: &[&str] = &[
    "get_db_metadata",
    "get_schemas",
    "get_databases",
    "get_datasets",
    "get_catalogs",
];

/// Creates an operation; with zero steps it is terminal (and applied) at once.
pub(crate) fn create(
    sys: &mut Sys,
    env: &mut Env,
    operation_type: &'static str,
    outcome: Result<Value, String>,
    effect: Effect,
) -> Value {
    let op = Operation {
        operation_id: sys.object_id(),
        operation_type,
        run_id: sys.uuid_hex(),
        polls: 0,
        steps: sys.steps,
        outcome,
        effect,
        applied: false,
        updated: sys.now(),
    };
    env.operations.push(op);
    let idx = env.operations.len() - 1;
    settle(env, idx);
    env.operations[idx].json()
}

/// Applies a finished operation's effect once.
fn settle(env: &mut Env, idx: usize) {
    let op = &mut env.operations[idx];
    if !op.is_terminal() || op.applied {
        return;
    }
    op.applied = true;
    if op.outcome.is_err() {
        return;
    }
    let effect = op.effect.clone();
    match effect {
        Effect::None => {}
        Effect::Activate(id) => {
            if let Some(r) = env.river_mut(&id) {
                r.active = true;
            }
        }
        Effect::Disable(id) => {
            if let Some(r) = env.river_mut(&id) {
                r.active = false;
                if r.is_cdc() {
                    // Disabling a CDC flow tears the connector down and removes the scheduler.
                    r.cdc_enabled = false;
                    r.schedulers = json!([]);
                }
            }
        }
        Effect::EnableCdc(id) => {
            if let Some(r) = env.river_mut(&id) {
                r.cdc_enabled = true;
            }
        }
    }
}

pub(crate) async fn get_one(
    State(app): State<AppState>,
    Path((account_id, environment_id, operation_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    if !is_object_id(&operation_id) {
        return Err(ApiError::invalid(json!({
            "type": "string_pattern_mismatch",
            "loc": ["path", "operation_id"],
            "msg": "String should match pattern '^[0-9a-fA-F]{24}$'",
            "input": operation_id,
            "ctx": {"pattern": "^[0-9a-fA-F]{24}$"},
        })));
    }
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let idx = env
        .operations
        .iter()
        .position(|o| o.operation_id == operation_id)
        .ok_or_else(|| ApiError::not_found(format!("Operation {operation_id} not found")))?;
    let now = sys.now();
    let op = &mut env.operations[idx];
    if !op.is_terminal() {
        op.polls += 1;
        op.updated = now;
    }
    settle(env, idx);
    Ok(json_response(StatusCode::OK, env.operations[idx].json()))
}

pub(crate) fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `POST {E}/pull_requests`.
pub(crate) async fn pull_request(
    State(app): State<AppState>,
    Path((account_id, environment_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let mut errors = Vec::new();
    let whole = Value::Object(body.clone());
    for key in ["task_type", "datasource_id", "task", "pull_request_inputs"] {
        if !body.contains_key(key) {
            errors.push(error::missing(json!(["body", key]), Some(whole.clone())));
        }
    }
    let task_type = body.get("task_type").and_then(Value::as_str);
    if let Some(t) = body.get("task_type")
        && !matches!(t.as_str(), Some("source" | "target"))
    {
        errors.push(error::bad_enum(
            json!(["body", "task_type"]),
            &["source", "target"],
            t.clone(),
        ));
    }
    if let Some(t) = body.get("task")
        && !t.as_str().is_some_and(|s| TASKS.contains(&s))
    {
        errors.push(error::bad_enum(json!(["body", "task"]), TASKS, t.clone()));
    }
    let datasource_id = body
        .get("datasource_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let inputs = body.get("pull_request_inputs");
    let connection_id = match inputs {
        Some(Value::Object(m)) => match m.get("connection_id").and_then(Value::as_str) {
            Some(c) => Some(c.to_owned()),
            None => {
                errors.push(error::missing(
                    json!(["body", "pull_request_inputs", "connection_id"]),
                    inputs.cloned(),
                ));
                None
            }
        },
        Some(other) => {
            errors.push(error::item(
                "dict_type",
                json!(["body", "pull_request_inputs"]),
                "Input should be a valid dictionary",
                Some(other.clone()),
            ));
            None
        }
        None => None,
    };
    let task = body
        .get("task")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if task_type == Some("target") && task == "get_db_metadata" {
        errors.push(error::item(
            "value_error",
            json!(["body", "task"]),
            format!("Value error, 'get_db_metadata' did not match any key in the pull-translate mapping for this datasource_id ({datasource_id})"),
            Some(json!(task)),
        ));
    }
    error::check(errors)?;
    let connection_id = connection_id.unwrap_or_default();
    let schemas: Option<Vec<String>> = inputs
        .and_then(|i| i.get("schemas"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        });
    let table_name = inputs
        .and_then(|i| i.get("table_name"))
        .and_then(Value::as_str)
        .map(str::to_owned);

    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let conn = env
        .connection(&connection_id)
        .ok_or_else(|| ApiError::not_found(format!("Connection {connection_id} not found")))?;
    let requested = conn_type(&datasource_id).map(|t| t.slug);
    if requested != Some(conn.kind.slug) {
        return Err(ApiError::bad_request(
            "The connection does not match to the provided connection_type",
        ));
    }
    let slug = conn.kind.slug;
    let outcome = if conn.unreachable {
        Err(format!(
            "[RVR-CONN-001]: Failed to connect to '{}': ORA-12547: TNS:lost contact",
            conn.name
        ))
    } else {
        Ok(match task.as_str() {
            "get_db_metadata" => catalog::discover(slug, schemas.as_deref(), table_name.as_deref()),
            _ => catalog::schema_names(slug),
        })
    };
    let op = create(sys, env, "pull_request", outcome, Effect::None);
    Ok(json_response(StatusCode::OK, op))
}
