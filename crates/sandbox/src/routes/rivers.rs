//! Data flows (section 4.5): list, create, get, full-replace PUT, delete, and the activate /
//! disable / enable_cdc toggles that answer an operation (202) or 204 when nothing is to be done.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use std::cmp::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::json_response;
use super::operations;
use crate::AppState;
use crate::error::{self, ApiError};
use crate::http::{Ctx, json_object};
use crate::model::{Effect, Env, River, stored_run_type};
use crate::validate::{self, RiverWrite};

const SORT_BY: &[&str] = &[
    "last_updated_at",
    "source_name",
    "river_name",
    "group_name",
    "group_id",
];
const SORT_ORDER: &[&str] = &["desc", "asc"];
const STATUSES: &[&str] = &["active", "disabled"];
const RIVER_TYPES: &[&str] = &["source_to_target", "actions", "logic", "connector_executor"];

type EnvPath = Path<(String, String)>;
type RiverPath = Path<(String, String, String)>;

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Data flow {id} was not found"))
}

fn legacy(id: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Data flow {id} was created in the UI (is_api_v2=false) and is not supported by the public API. Open it in the console instead"
    ))
}

pub(crate) async fn list(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let paging = ctx.paging(20, 500, &mut errors);
    let sort_by = ctx
        .enum_param("sort_by", SORT_BY, &mut errors)
        .unwrap_or_else(|| "last_updated_at".to_owned());
    let sort_order = ctx
        .enum_param("sort_order", SORT_ORDER, &mut errors)
        .unwrap_or_else(|| "desc".to_owned());
    let statuses = ctx.all("river_status");
    for s in &statuses {
        if !STATUSES.contains(s) {
            errors.push(error::bad_enum(
                json!(["query", "river_status", 0]),
                STATUSES,
                json!(s),
            ));
        }
    }
    let types = ctx.all("river_type");
    for t in &types {
        if !RIVER_TYPES.contains(t) {
            errors.push(error::bad_enum(
                json!(["query", "river_type", 0]),
                RIVER_TYPES,
                json!(t),
            ));
        }
    }
    ctx.bool_param("include_deleted", &mut errors);
    error::check(errors)?;
    let name = ctx.get_nonempty("name").map(str::to_lowercase);
    let group_ids = ctx.all("group_id");
    let group_name = ctx.get_nonempty("group_name");

    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    let mut rivers: Vec<&River> = env
        .rivers
        .iter()
        .filter(|r| {
            name.as_ref()
                .is_none_or(|n| r.name.to_lowercase().contains(n))
        })
        .filter(|r| statuses.is_empty() || statuses.contains(&r.status()))
        .filter(|r| types.is_empty() || types.contains(&r.river_type.as_str()))
        .filter(|r| group_ids.is_empty() || group_ids.contains(&r.group_id.as_str()))
        .filter(|r| group_name.is_none_or(|g| r.group_name == g))
        .collect();
    rivers.sort_by(|a, b| {
        let ord = match sort_by.as_str() {
            "source_name" => a.source_name().cmp(&b.source_name()),
            "river_name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "group_name" => a.group_name.cmp(&b.group_name),
            "group_id" => a.group_id.cmp(&b.group_id),
            _ => a.updated_at.cmp(&b.updated_at),
        }
        .then_with(|| a.cross_id.cmp(&b.cross_id));
        if sort_order == "asc" {
            ord
        } else {
            ord.reverse()
        }
    });
    let items = rivers.iter().map(|r| r.list_json()).collect();
    let mut extra = Map::new();
    extra.insert("account_id".to_owned(), json!(account_id));
    extra.insert("environment_id".to_owned(), json!(environment_id));
    Ok(json_response(
        StatusCode::OK,
        ctx.envelope(paging, items, extra),
    ))
}

/// "Please schedule a CDC data flow before enabling or creating".
fn check_cdc_schedule(properties: &Value, schedulers: &Value) -> Result<(), ApiError> {
    let scheduled = schedulers.as_array().into_iter().flatten().any(|s| {
        s.get("is_enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    });
    if crate::model::is_cdc(properties) && !scheduled {
        return Err(ApiError::bad_request(
            "Please schedule a CDC data flow before enabling or creating",
        ));
    }
    Ok(())
}

pub(crate) async fn create(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let body = json_object(&body)?;
    let write = validate::river_write(&body, config.strict)?;
    let schedulers = write.schedulers.clone().unwrap_or_else(|| json!([]));
    check_cdc_schedule(&write.properties, &schedulers)?;
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let now = sys.now();
    let is_logic = write.river_type == "logic";
    let group_id = write
        .group_id
        .clone()
        .unwrap_or_else(|| env.default_group_id.clone());
    let group_name = group_name_for(env, &group_id);
    let river = River {
        cross_id: sys.object_id(),
        name: write.name,
        river_type: write.river_type,
        kind: write.kind,
        group_id,
        group_name,
        description: write.description,
        settings: write.settings,
        properties: write.properties,
        schedulers,
        // New flows are created disabled; logic flows are always active.
        active: is_logic,
        is_api_v2: true,
        initialized: false,
        cdc_enabled: false,
        version_id: sys.object_id(),
        created_at: now,
        updated_at: now,
        recent_runs: Vec::new(),
    };
    let out = river.detail_json(&account_id, env);
    env.rivers.push(river);
    Ok(json_response(StatusCode::CREATED, out))
}

fn group_name_for(env: &Env, group_id: &str) -> String {
    env.rivers
        .iter()
        .find(|r| r.group_id == group_id)
        .map_or_else(|| "Default group".to_owned(), |r| r.group_name.clone())
}

pub(crate) async fn get_one(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    let river = env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    if !river.is_api_v2 {
        return Err(legacy(&river_id));
    }
    Ok(json_response(
        StatusCode::OK,
        river.detail_json(&account_id, env),
    ))
}

pub(crate) async fn replace(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let now = sys.now();
    let river = env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    if !river.is_api_v2 {
        return Err(legacy(&river_id));
    }
    let body = json_object(&body)?;
    let write = validate::river_write(&body, config.strict)?;
    check_update(river, &write)?;
    let schedulers = write
        .schedulers
        .clone()
        .unwrap_or_else(|| river.schedulers.clone());
    if river.river_type != "logic" {
        check_cdc_schedule(&write.properties, &schedulers)?;
    }
    let group_id = write
        .group_id
        .clone()
        .unwrap_or_else(|| river.group_id.clone());
    let group_name = if group_id == river.group_id {
        river.group_name.clone()
    } else {
        group_name_for(env, &group_id)
    };
    let version_id = sys.object_id();
    let Some(river) = env.river_mut(&river_id) else {
        return Err(not_found(&river_id));
    };
    river.name = write.name;
    river.river_type = write.river_type;
    river.kind = write.kind;
    river.description = write.description;
    river.settings = write.settings;
    river.properties = write.properties;
    river.schedulers = schedulers;
    river.group_id = group_id;
    river.group_name = group_name;
    river.initialized = true;
    river.version_id = version_id;
    river.updated_at = now;
    let river = river.clone();
    Ok(json_response(
        StatusCode::OK,
        river.detail_json(&account_id, env),
    ))
}

/// The update-only rules: immutable `run_type`, and locked properties on active CDC flows.
fn check_update(river: &River, write: &RiverWrite) -> Result<(), ApiError> {
    let stored = river.run_type();
    let wanted = stored_run_type(&write.properties);
    if river.river_type == "source_to_target"
        && write.river_type == "source_to_target"
        && stored != wanted
    {
        // The stored value is reported as `multi_tables` for predefined reports (trap 24).
        let from = if stored == "predefined_report" {
            "multi_tables"
        } else {
            stored
        };
        return Err(ApiError::invalid(error::item(
            "value_error",
            json!(["body", "properties", "source", "run_type"]),
            format!(
                "Cannot change run_type from '{from}' to '{wanted}' during UPDATE. Delete and recreate the river."
            ),
            Some(json!(wanted)),
        )));
    }
    // The lock compares the body as sent with the stored (enriched) document, so even an
    // "unchanged" properties block usually trips it.
    if river.active && river.is_cdc() && write.raw_properties != river.properties {
        return Err(ApiError::bad_request(
            "can not update properties for an active data flow. Please disable the data flow and try again",
        ));
    }
    Ok(())
}

pub(crate) async fn delete(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    let river = env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    if river.active && !river.is_logic() {
        return Err(ApiError::bad_request(format!(
            "Data flow {river_id} is active. Please disable the data flow before deleting it"
        )));
    }
    env.rivers.retain(|r| r.cross_id != river_id);
    Ok(json_response(StatusCode::OK, Value::Null))
}

pub(crate) async fn activate(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let river = env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    if river.active {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let outcome = if !river.initialized {
        Err(format!(
            "[RVR-ACTIVATE-500]: Failed to activate data flow {river_id}: the fire-service task entry is not initialised. Update (PUT) the data flow once after creating it and try again"
        ))
    } else if let Some(conn) = river
        .connection_ids()
        .iter()
        .filter_map(|id| env.connection(id))
        .find(|c| c.unreachable)
    {
        Err(format!(
            "[RVR-CONN-504]: Connection '{}' ({}) is unreachable: connection timed out while validating the data flow",
            conn.name, conn.cross_id
        ))
    } else {
        Ok(json!("true"))
    };
    let op = operations::create(
        sys,
        env,
        "river_activation",
        outcome,
        Effect::Activate(river_id),
    );
    Ok(json_response(StatusCode::ACCEPTED, op))
}

pub(crate) async fn disable(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let river = env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    if river.is_logic() {
        return Err(ApiError::bad_request(
            "disable_river is not supported for logic river types",
        ));
    }
    if !river.active {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let op = operations::create(
        sys,
        env,
        "river_disable",
        Ok(json!("true")),
        Effect::Disable(river_id),
    );
    Ok(json_response(StatusCode::ACCEPTED, op))
}

pub(crate) async fn enable_cdc(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let river = env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    if !river.is_cdc() {
        return Err(ApiError::bad_request(
            "The data flow is not a CDC (log-based) data flow",
        ));
    }
    check_cdc_schedule(&river.properties, &river.schedulers)?;
    if river.cdc_enabled {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let op = operations::create(
        sys,
        env,
        "enable_cdc",
        Ok(json!("true")),
        Effect::EnableCdc(river_id),
    );
    Ok(json_response(StatusCode::ACCEPTED, op))
}

/// Orders by a key, direction-aware; shared with the runs listing.
pub(crate) fn directed(ord: Ordering, order: &str) -> Ordering {
    if order == "asc" { ord } else { ord.reverse() }
}
