//! Runs (sections 4.2-4.4, 4.5.8): triggering with the 2-per-flow / 15-per-token sliding-window
//! throttle, listing with the required time window, reading by run id or run group id, and logs.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use super::json_response;
use super::rivers::{directed, not_found};
use crate::AppState;
use crate::demo::BROKEN_TABLE;
use crate::error::{self, ApiError};
use crate::http::{Ctx, fmt_z};
use crate::model::{Env, Outcome, Run, SOURCES_WITHOUT_LOGS, group_status, round2};

const PER_FLOW_LIMIT: usize = 2;
const PER_TOKEN_LIMIT: usize = 15;
const RUN_SORT_BY: &[&str] = &["units", "start_time", "table_name"];
const SORT_ORDER: &[&str] = &["desc", "asc"];

type RiverPath = Path<(String, String, String)>;
type RunPath = Path<(String, String, String, String)>;

/// `POST {E}/rivers/{id}/run`.
pub(crate) async fn start(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    ctx.bool_param("run_sub_rivers", &mut errors);
    error::check(errors)?;
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let now = sys.now();
    let window_start = now - TimeDelta::seconds(60);
    let river = env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    if !river.active {
        return Err(ApiError::bad_request(
            "The data flow is not active. Activate it before running",
        ));
    }
    // What runs: one run per selected table for database sources, else a single run.
    let targets: Vec<(Option<String>, Option<String>)> = if river.river_type == "source_to_target"
        && river.run_type() == "multi_tables"
    {
        let tables = river.selected_tables();
        if tables.is_empty() {
            return Err(ApiError::bad_request(
                "No source tables are selected for this data flow. Select at least one table before running",
            ));
        }
        tables
            .into_iter()
            .map(|(s, t)| (Some(s), Some(t)))
            .collect()
    } else {
        let table = river
            .properties
            .pointer("/target/table_name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| Some(river.name.clone()));
        vec![(None, table)]
    };
    let recent = river
        .recent_runs
        .iter()
        .filter(|t| **t > window_start)
        .count();
    if recent >= PER_FLOW_LIMIT {
        return Err(ApiError::too_many(format!(
            "Data flow {river_id} can be executed at most {PER_FLOW_LIMIT} times per minute. Please try again later"
        )));
    }
    sys.token_runs.retain(|t| *t > window_start);
    if sys.token_runs.len() >= PER_TOKEN_LIMIT {
        return Err(ApiError::too_many(format!(
            "Rate limit exceeded: a user can execute at most {PER_TOKEN_LIMIT} data flow runs per minute. Please try again later"
        )));
    }
    let datasource = river
        .source_name()
        .unwrap_or(river.river_type.as_str())
        .to_owned();
    let unreachable = river
        .connection_ids()
        .iter()
        .filter_map(|id| env.connection(id))
        .find(|c| c.unreachable)
        .map(|c| c.name.clone());
    let keeps_logs = !SOURCES_WITHOUT_LOGS.contains(&datasource.as_str());
    sys.token_runs.push_back(now);
    let group_id = sys.uuid_hex();
    let steps = sys.steps;
    let mut items = Vec::new();
    for (schema, target) in targets {
        let broken = target
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(BROKEN_TABLE));
        let outcome = if let Some(conn) = &unreachable {
            Outcome::Failed(format!(
                "[RVR-CONN-504]: Connection '{conn}' is unreachable: connection timed out"
            ))
        } else if broken {
            let qualified = format!(
                "{}.{}",
                schema.as_deref().unwrap_or_default(),
                target.as_deref().unwrap_or_default()
            );
            Outcome::Failed(format!(
                "[RVR-MYSQL-1146]: Table '{qualified}' could not be read: the source rejected the extraction query"
            ))
        } else {
            Outcome::Succeeded
        };
        let rows = 500 + target.as_ref().map_or(0, |t| t.len() as u64 * 37);
        let mut run = Run {
            run_id: sys.uuid_hex(),
            run_group_id: group_id.clone(),
            river_cross_id: river_id.clone(),
            datasource_id: datasource.clone(),
            source_schema: schema,
            target_name: target,
            sub_river_id: None,
            start: now,
            end: None,
            polls: 0,
            steps,
            units: if matches!(outcome, Outcome::Failed(_)) {
                0.05
            } else {
                0.25
            },
            outcome,
            rows,
            trigger: "api".to_owned(),
            keeps_logs,
            extra_log_lines: 0,
        };
        run.stamp_end(now);
        items.push(json!({
            "sub_river_id": null,
            "run_id": run.run_id,
            "status": run.status(),
            "message": null,
        }));
        env.runs.push(run);
    }
    if let Some(river) = env.river_mut(&river_id) {
        river.recent_runs.retain(|t| *t > window_start);
        river.recent_runs.push(now);
    }
    Ok(json_response(
        StatusCode::ACCEPTED,
        json!({ "runs": items, "river_cross_id": river_id, "run_group_id": group_id }),
    ))
}

/// `GET {E}/rivers/{id}/runs`.
pub(crate) async fn list(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let start = ctx.required_time("start_time", &mut errors);
    let end = ctx.required_time("end_time", &mut errors);
    let paging = ctx.paging(20, 200, &mut errors);
    let sort_by = ctx
        .enum_param("sort_by", RUN_SORT_BY, &mut errors)
        .unwrap_or_else(|| "start_time".to_owned());
    let sort_order = ctx
        .enum_param("sort_order", SORT_ORDER, &mut errors)
        .unwrap_or_else(|| "desc".to_owned());
    error::check(errors)?;
    let (Some(start), Some(end)) = (start, end) else {
        return Err(ApiError::bad_request(
            "start_time and end_time are required",
        ));
    };
    let target = ctx.get_nonempty("target_name");
    let group = ctx
        .get_nonempty("run_group_id")
        .or_else(|| ctx.get_nonempty("scheduler_id"));
    let sub = ctx.get_nonempty("sub_river_id");

    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let now = sys.now();
    require_river(env, &river_id)?;
    let mut idx: Vec<usize> = env
        .runs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.river_cross_id == river_id && r.start >= start && r.start <= end)
        .filter(|(_, r)| target.is_none_or(|t| r.target_name.as_deref() == Some(t)))
        .filter(|(_, r)| group.is_none_or(|g| r.run_group_id == g))
        .filter(|(_, r)| sub.is_none_or(|s| r.sub_river_id.as_deref() == Some(s)))
        .map(|(i, _)| i)
        .collect();
    idx.sort_by(|a, b| {
        let (a, b) = (&env.runs[*a], &env.runs[*b]);
        let ord = match sort_by.as_str() {
            "units" => a.units_now().total_cmp(&b.units_now()),
            "table_name" => a.target_name.cmp(&b.target_name),
            _ => a.start.cmp(&b.start),
        }
        .then_with(|| a.target_name.cmp(&b.target_name));
        directed(ord, &sort_order)
    });
    // Listing a page counts as a poll of the runs on it.
    let first = usize::try_from((paging.page - 1) * paging.per_page).unwrap_or(usize::MAX);
    let count = usize::try_from(paging.per_page).unwrap_or(usize::MAX);
    for i in idx.iter().skip(first).take(count) {
        env.runs[*i].poll(now);
    }
    let items = idx.iter().map(|i| env.runs[*i].json()).collect();
    let mut extra = Map::new();
    extra.insert("account_id".to_owned(), json!(account_id));
    extra.insert("environment_id".to_owned(), json!(environment_id));
    extra.insert("river_cross_id".to_owned(), json!(river_id));
    Ok(json_response(
        StatusCode::OK,
        ctx.envelope(paging, items, extra),
    ))
}

fn require_river(env: &Env, river_id: &str) -> Result<(), ApiError> {
    env.river(river_id)
        .map(|_| ())
        .ok_or_else(|| not_found(river_id))
}

/// `GET {E}/rivers/{id}/runs/{run_id}`: a run id, or a run group id (trap 1).
pub(crate) async fn get_one(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id, run_id)): RunPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let now = sys.now();
    require_river(env, &river_id)?;
    if let Some(run) = env
        .runs
        .iter_mut()
        .find(|r| r.river_cross_id == river_id && r.run_id == run_id)
    {
        run.poll(now);
        return Ok(json_response(StatusCode::OK, run.json()));
    }
    let mut group: Vec<&mut Run> = env
        .runs
        .iter_mut()
        .filter(|r| r.river_cross_id == river_id && r.run_group_id == run_id)
        .collect();
    if group.is_empty() {
        return Err(ApiError::not_found(format!("Run {run_id} was not found")));
    }
    for run in &mut group {
        run.poll(now);
    }
    let runs: Vec<&Run> = group.iter().map(|r| &**r).collect();
    Ok(json_response(StatusCode::OK, group_as_run(&runs)))
}

/// A run group read through the single-run endpoint: one run object whose status aggregates the
/// group (`failed` if any table failed), with the group id as `run_id` when it holds several runs.
fn group_as_run(runs: &[&Run]) -> Value {
    let first = runs[0];
    if runs.len() == 1 {
        return first.json();
    }
    let statuses: Vec<&str> = runs.iter().map(|r| r.status()).collect();
    let status = match group_status(&statuses) {
        "partially succeeded" => "failed",
        other => other,
    };
    let all_done = runs.iter().all(|r| r.is_terminal());
    let start: DateTime<Utc> = runs.iter().map(|r| r.start).min().unwrap_or(first.start);
    let end = all_done
        .then(|| runs.iter().filter_map(|r| r.end).max())
        .flatten();
    let units = round2(runs.iter().map(|r| r.units_now()).sum());
    let error = runs.iter().find_map(|r| r.error_description());
    let mut v = first.json();
    if let Some(m) = v.as_object_mut() {
        m.insert("run_id".to_owned(), json!(first.run_group_id));
        m.insert("status".to_owned(), json!(status));
        m.insert("target_name".to_owned(), Value::Null);
        m.insert("units".to_owned(), json!(units));
        m.insert("rpu".to_owned(), json!(units));
        m.insert("error_description".to_owned(), json!(error));
        m.insert("start_date_utc".to_owned(), json!(fmt_z(start)));
        m.insert(
            "start_date_in_milliseconds".to_owned(),
            json!(start.timestamp_millis()),
        );
        m.insert("end_date_utc".to_owned(), json!(end.map(fmt_z)));
        m.insert(
            "end_date_in_milliseconds".to_owned(),
            json!(end.map(|e| e.timestamp_millis())),
        );
    }
    v
}

/// `GET {E}/rivers/{id}/runs/{run_id}/logs`: CSV text; empty for sources that keep no logs.
pub(crate) async fn logs(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id, run_id)): RunPath,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    require_river(env, &river_id)?;
    let runs: Vec<&Run> = env
        .runs
        .iter()
        .filter(|r| {
            r.river_cross_id == river_id && (r.run_id == run_id || r.run_group_id == run_id)
        })
        .collect();
    if runs.is_empty() {
        return Err(ApiError::not_found(format!("Run {run_id} was not found")));
    }
    let mut body = String::new();
    for (i, run) in runs.iter().enumerate() {
        let csv = run.logs_csv();
        // One header for a whole group.
        let csv = if i > 0 {
            csv.split_once('\n')
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or_default()
        } else {
            csv
        };
        body.push_str(&csv);
    }
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// `POST {E}/rivers/{id}/cancel_run` with exactly one of `run_id` / `run_group_id`: best effort,
/// only runs that have not finished are canceled.
pub(crate) async fn cancel(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body = crate::http::json_object(&body)?;
    let run_id = body
        .get("run_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let group_id = body
        .get("run_group_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if run_id.is_some() == group_id.is_some() {
        return Err(ApiError::invalid(error::item(
            "value_error",
            json!(["body"]),
            "Value error, exactly one of run_id or run_group_id must be provided",
            Some(Value::Object(body.clone())),
        )));
    }
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let now = sys.now();
    require_river(env, &river_id)?;
    let mut matched = 0usize;
    for run in env.runs.iter_mut().filter(|r| {
        r.river_cross_id == river_id
            && (run_id.as_deref() == Some(r.run_id.as_str())
                || group_id.as_deref() == Some(r.run_group_id.as_str()))
    }) {
        matched += 1;
        if !run.is_terminal() {
            run.outcome = Outcome::Canceled;
            run.steps = run.polls;
            run.stamp_end(now);
        }
    }
    if matched == 0 {
        return Err(ApiError::not_found("Run was not found"));
    }
    Ok(json_response(
        StatusCode::OK,
        json!({ "details": "canceled" }),
    ))
}
