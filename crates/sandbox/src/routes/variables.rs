//! Environment variables (section 4.8): GET the map, PUT merges (201 with the merged map),
//! DELETE one key with `?variable_key=`. Keys must not contain `.` or `$`.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::json_response;
use crate::AppState;
use crate::error::{self, ApiError};
use crate::http::{Ctx, json_object};

type EnvPath = Path<(String, String)>;

pub(crate) async fn list(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "variables": env.variables }),
    ))
}

pub(crate) async fn upsert(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let mut errors = Vec::new();
    let vars: Map<String, Value> = match body.get("variables") {
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            errors.push(error::item(
                "dict_type",
                json!(["body", "variables"]),
                "Input should be a valid dictionary",
                Some(other.clone()),
            ));
            Map::new()
        }
        None => {
            errors.push(error::missing(
                json!(["body", "variables"]),
                Some(Value::Object(body.clone())),
            ));
            Map::new()
        }
    };
    for (key, value) in &body {
        if key != "variables" {
            errors.push(error::extra_forbidden(json!(["body", key]), value.clone()));
        }
    }
    for (key, value) in &vars {
        if key.is_empty() || key.contains('.') || key.contains('$') {
            errors.push(error::item(
                "value_error",
                json!(["body", "variables", key]),
                "Value error, variable names must not be empty or contain '.' or '$'",
                Some(json!(key)),
            ));
        }
        if !value.is_string() {
            errors.push(error::item(
                "string_type",
                json!(["body", "variables", key]),
                "Input should be a valid string",
                Some(value.clone()),
            ));
        }
    }
    error::check(errors)?;
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    for (k, v) in vars {
        env.variables.insert(k, v);
    }
    Ok(json_response(
        StatusCode::CREATED,
        json!({ "variables": env.variables }),
    ))
}

pub(crate) async fn delete(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let Some(key) = ctx.get("variable_key").map(str::to_owned) else {
        return Err(ApiError::invalid(error::missing(
            json!(["query", "variable_key"]),
            None,
        )));
    };
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    if env.variables.remove(&key).is_none() {
        return Err(ApiError::not_found(format!("Variable {key} was not found")));
    }
    Ok(json_response(
        StatusCode::OK,
        json!({ "variables": env.variables }),
    ))
}
