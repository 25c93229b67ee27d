//! Connections (section 4.7): paginated list (display name plus slug), detail without secrets
//! (`*_exists` flags), flat-body create, full-replace PUT that clears secrets not re-sent, delete.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::json_response;
use crate::AppState;
use crate::error::{self, ApiError};
use crate::http::{Ctx, json_object};
use crate::model::{Connection, conn_type};
use crate::validate::ALWAYS_FORBIDDEN;

const LENIENT: &[&str] = &["cross_id", "account_id", "environment_name", "group_name"];

type EnvPath = Path<(String, String)>;
type ConnPath = Path<(String, String, String)>;

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Connection {id} was not found"))
}

pub(crate) async fn list(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let paging = ctx.paging(20, 500, &mut errors);
    error::check(errors)?;
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    let items = env
        .connections
        .iter()
        .map(|c| c.list_json(&account_id, &environment_id))
        .collect();
    let mut extra = Map::new();
    extra.insert("account_id".to_owned(), json!(account_id));
    extra.insert("environment_id".to_owned(), json!(environment_id));
    Ok(json_response(
        StatusCode::OK,
        ctx.envelope(paging, items, extra),
    ))
}

pub(crate) async fn get_one(
    State(app): State<AppState>,
    Path((account_id, environment_id, connection_id)): ConnPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    let conn = env
        .connection(&connection_id)
        .ok_or_else(|| not_found(&connection_id))?;
    Ok(json_response(
        StatusCode::OK,
        conn.detail_json(&account_id, &environment_id),
    ))
}

/// A validated connection body.
struct ConnWrite {
    name: String,
    kind: &'static crate::model::ConnType,
    params: Map<String, Value>,
    secrets: Map<String, Value>,
}

fn parse(body: &Map<String, Value>, strict: bool) -> Result<ConnWrite, ApiError> {
    let mut errors = Vec::new();
    for (key, value) in body {
        if ALWAYS_FORBIDDEN.contains(&key.as_str()) || (strict && LENIENT.contains(&key.as_str())) {
            errors.push(error::extra_forbidden(json!(["body", key]), value.clone()));
        }
    }
    let whole = Value::Object(body.clone());
    let name = match body.get("connection_name") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push(error::item(
                "string_type",
                json!(["body", "connection_name"]),
                "Input should be a valid string",
                Some(other.clone()),
            ));
            None
        }
        None => {
            errors.push(error::missing(
                json!(["body", "connection_name"]),
                Some(whole.clone()),
            ));
            None
        }
    };
    let kind = match body.get("connection_type") {
        Some(Value::String(s)) => match conn_type(s) {
            Some(k) => Some(k),
            None => {
                let slugs: Vec<&str> = crate::model::CONN_TYPES.iter().map(|t| t.slug).collect();
                errors.push(error::bad_enum(
                    json!(["body", "connection_type"]),
                    &slugs,
                    json!(s),
                ));
                None
            }
        },
        Some(other) => {
            errors.push(error::item(
                "string_type",
                json!(["body", "connection_type"]),
                "Input should be a valid string",
                Some(other.clone()),
            ));
            None
        }
        None => {
            errors.push(error::missing(
                json!(["body", "connection_type"]),
                Some(whole),
            ));
            None
        }
    };
    error::check(errors)?;
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(ApiError::bad_request("invalid connection body"));
    };
    // Unknown parameter keys are dropped silently, as upstream does.
    let params = body
        .iter()
        .filter(|(k, _)| kind.params.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let secrets = body
        .iter()
        .filter(|(k, v)| kind.secrets.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(ConnWrite {
        name,
        kind,
        params,
        secrets,
    })
}

fn build(id: String, write: ConnWrite, now: DateTime<Utc>) -> Connection {
    Connection {
        cross_id: id,
        name: write.name,
        kind: write.kind,
        params: write.params,
        secrets: write.secrets,
        unreachable: false,
        updated_at: now,
    }
}

pub(crate) async fn create(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let body = json_object(&body)?;
    let write = parse(&body, config.strict)?;
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let conn = build(sys.object_id(), write, sys.now());
    let out = conn.detail_json(&account_id, &environment_id);
    env.connections.push(conn);
    Ok(json_response(StatusCode::CREATED, out))
}

pub(crate) async fn replace(
    State(app): State<AppState>,
    Path((account_id, environment_id, connection_id)): ConnPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let now = sys.now();
    let existing = env
        .connections
        .iter_mut()
        .find(|c| c.cross_id == connection_id)
        .ok_or_else(|| not_found(&connection_id))?;
    let body = json_object(&body)?;
    let write = parse(&body, config.strict)?;
    if write.kind.slug != existing.kind.slug {
        return Err(ApiError::bad_request(format!(
            "The connection type can not be changed from '{}' to '{}'",
            existing.kind.slug, write.kind.slug
        )));
    }
    // A full replace: secrets that are not re-sent are cleared (trap 15).
    let unreachable = existing.unreachable;
    *existing = build(connection_id, write, now);
    existing.unreachable = unreachable;
    Ok(json_response(
        StatusCode::OK,
        existing.detail_json(&account_id, &environment_id),
    ))
}

pub(crate) async fn delete(
    State(app): State<AppState>,
    Path((account_id, environment_id, connection_id)): ConnPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    env.connection(&connection_id)
        .ok_or_else(|| not_found(&connection_id))?;
    env.connections.retain(|c| c.cross_id != connection_id);
    Ok(json_response(StatusCode::OK, Value::Null))
}
