//! The Activities API (section 4.10), derived from the stored runs so that every view agrees:
//! A1 environment statistics, A8 per-river activities, A2 river statistics, A3 targets, A4 run
//! groups (paginated), A4b one run group (no time window), A5 sub-river runs.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.
//! A1 to A8 name the rows of its Activities table (section 4.10).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::json_response;
use super::rivers::{directed, not_found};
use crate::AppState;
use crate::error::{self, ApiError};
use crate::http::{Ctx, fmt_z};
use crate::model::{Env, River, Run, group_status, round2};

const STATUS_INPUTS: &[&str] = &[
    "pending",
    "running",
    "succeeded",
    "succeed",
    "success",
    "failed",
    "canceled",
    "cancelled",
    "skipped",
    "partially succeed",
    "partially succeeded",
];
const COUNTED: &[&str] = &[
    "running",
    "canceled",
    "pending",
    "failed",
    "succeeded",
    "skipped",
];
const GROUP_SORT: &[&str] = &["RPUs(Units)", "last_run", "max_duration"];
const TARGET_SORT: &[&str] = &["units", "last_run", "table_name"];
const SORT_ORDER: &[&str] = &["desc", "asc"];
const RIVER_TYPES: &[&str] = &["src_to_trgt", "actions", "logic"];

type EnvPath = Path<(String, String)>;
type RiverPath = Path<(String, String, String)>;

/// Reads the repeatable `status` filter, mapping the Postman spellings to the enum's.
fn statuses(ctx: &Ctx, errors: &mut Vec<Value>) -> Vec<&'static str> {
    let mut out = Vec::new();
    for raw in ctx.all("status") {
        let normalized = match raw {
            "succeed" | "success" | "succeeded" => "succeeded",
            "cancelled" | "canceled" => "canceled",
            "partially succeed" | "partially succeeded" => "partially succeeded",
            "pending" => "pending",
            "running" => "running",
            "failed" => "failed",
            "skipped" => "skipped",
            _ => {
                errors.push(error::bad_enum(
                    json!(["query", "status", 0]),
                    STATUS_INPUTS,
                    json!(raw),
                ));
                continue;
            }
        };
        out.push(normalized);
    }
    out
}

struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

fn window(ctx: &Ctx, errors: &mut Vec<Value>) -> Option<Window> {
    let start = ctx.required_time("start_time", errors);
    let end = ctx.required_time("end_time", errors);
    Some(Window {
        start: start?,
        end: end?,
    })
}

/// The window once the query was validated (a missing bound was already reported as 422).
fn required(w: Option<Window>) -> Result<Window, ApiError> {
    w.ok_or_else(|| ApiError::bad_request("start_time and end_time are required"))
}

fn runs_in<'a>(env: &'a Env, river: Option<&str>, w: &Window) -> Vec<&'a Run> {
    env.runs
        .iter()
        .filter(|r| river.is_none_or(|id| r.river_cross_id == id))
        .filter(|r| r.start >= w.start && r.start <= w.end)
        .collect()
}

/// Counts and units of a set of runs.
fn stats(runs: &[&Run]) -> Map<String, Value> {
    let mut m = Map::new();
    let units = round2(runs.iter().map(|r| r.units_now()).sum());
    m.insert("total_runs".to_owned(), json!(runs.len()));
    m.insert("units".to_owned(), json!(units));
    m.insert("rpu".to_owned(), json!(units));
    for s in COUNTED {
        m.insert(
            (*s).to_owned(),
            json!(runs.iter().filter(|r| r.status() == *s).count()),
        );
    }
    m
}

fn ids_extra(account_id: &str, environment_id: &str) -> Map<String, Value> {
    let mut extra = Map::new();
    extra.insert("account_id".to_owned(), json!(account_id));
    extra.insert("environment_id".to_owned(), json!(environment_id));
    extra
}

fn river_type_filter(river: &River, wanted: Option<&str>) -> bool {
    match wanted {
        None => true,
        Some("src_to_trgt") => river.river_type == "source_to_target",
        Some(other) => river.river_type == other,
    }
}

/// A1 `GET {E}/activities_statistics`.
pub(crate) async fn statistics(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let w = window(&ctx, &mut errors);
    let wanted = statuses(&ctx, &mut errors);
    let river_type = ctx.enum_param("river_type", RIVER_TYPES, &mut errors);
    let scheduled = ctx.bool_param("is_scheduled", &mut errors);
    error::check(errors)?;
    let w = required(w)?;
    let search = ctx.get_nonempty("search").map(str::to_lowercase);
    let groups = ctx.all("group_id");
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    let runs: Vec<&Run> = runs_in(env, None, &w)
        .into_iter()
        .filter(|r| wanted.is_empty() || wanted.contains(&r.status()))
        .filter(|r| match env.river(&r.river_cross_id) {
            Some(river) => {
                search
                    .as_ref()
                    .is_none_or(|s| river.name.to_lowercase().contains(s))
                    && groups.iter().all(|g| river.group_id == *g)
                    && river_type_filter(river, river_type.as_deref())
                    && scheduled.is_none_or(|s| river.is_scheduled() == s)
            }
            None => {
                search.is_none() && groups.is_empty() && river_type.is_none() && scheduled.is_none()
            }
        })
        .collect();
    let mut out = ids_extra(&account_id, &environment_id);
    out.insert("start_time".to_owned(), json!(fmt_z(w.start)));
    out.insert("end_time".to_owned(), json!(fmt_z(w.end)));
    let mut rivers: Vec<&str> = runs.iter().map(|r| r.river_cross_id.as_str()).collect();
    rivers.sort_unstable();
    rivers.dedup();
    out.insert("rivers_count".to_owned(), json!(rivers.len()));
    out.extend(stats(&runs));
    Ok(json_response(StatusCode::OK, Value::Object(out)))
}

/// A2 `GET {E}/rivers/{id}/activities_statistics`.
pub(crate) async fn river_statistics(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let w = window(&ctx, &mut errors);
    let wanted = statuses(&ctx, &mut errors);
    error::check(errors)?;
    let w = required(w)?;
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    let runs: Vec<&Run> = runs_in(env, Some(&river_id), &w)
        .into_iter()
        .filter(|r| wanted.is_empty() || wanted.contains(&r.status()))
        .collect();
    let mut out = ids_extra(&account_id, &environment_id);
    out.insert("river_cross_id".to_owned(), json!(river_id));
    out.insert("start_time".to_owned(), json!(fmt_z(w.start)));
    out.insert("end_time".to_owned(), json!(fmt_z(w.end)));
    out.extend(stats(&runs));
    Ok(json_response(StatusCode::OK, Value::Object(out)))
}

/// A8 `GET {E}/activities`: one summary per river with runs in the window.
pub(crate) async fn per_river(
    State(app): State<AppState>,
    Path((account_id, environment_id)): EnvPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let w = window(&ctx, &mut errors);
    let paging = ctx.paging(50, 200, &mut errors);
    let wanted = statuses(&ctx, &mut errors);
    let river_type = ctx.enum_param("river_type", RIVER_TYPES, &mut errors);
    let scheduled = ctx.bool_param("is_scheduled", &mut errors);
    ctx.bool_param("return_last_runs", &mut errors);
    let sort_by = ctx
        .enum_param("sort_by", GROUP_SORT, &mut errors)
        .unwrap_or_else(|| "last_run".to_owned());
    let sort_order = ctx
        .enum_param("sort_order", SORT_ORDER, &mut errors)
        .unwrap_or_else(|| "desc".to_owned());
    error::check(errors)?;
    let w = required(w)?;
    let search = ctx.get_nonempty("search").map(str::to_lowercase);
    let groups = ctx.all("group_id");
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    let mut rows: Vec<(f64, i64, i64, Value)> = Vec::new();
    for river in &env.rivers {
        if !(search
            .as_ref()
            .is_none_or(|s| river.name.to_lowercase().contains(s))
            && groups.iter().all(|g| river.group_id == *g)
            && river_type_filter(river, river_type.as_deref())
            && scheduled.is_none_or(|s| river.is_scheduled() == s))
        {
            continue;
        }
        let runs: Vec<&Run> = runs_in(env, Some(&river.cross_id), &w)
            .into_iter()
            .filter(|r| wanted.is_empty() || wanted.contains(&r.status()))
            .collect();
        let Some(last) = runs.iter().max_by_key(|r| r.start) else {
            continue;
        };
        let max_duration = runs.iter().map(|r| r.duration_ms()).max().unwrap_or(0);
        let mut m = Map::new();
        m.insert("river_cross_id".to_owned(), json!(river.cross_id));
        m.insert("river_name".to_owned(), json!(river.name));
        m.insert("river_type".to_owned(), json!(river.river_type));
        m.insert("group_id".to_owned(), json!(river.group_id));
        m.insert("group_name".to_owned(), json!(river.group_name));
        m.insert("is_scheduled".to_owned(), json!(river.is_scheduled()));
        m.extend(stats(&runs));
        m.insert(
            "max_duration_in_milliseconds".to_owned(),
            json!(max_duration),
        );
        m.insert("last_run_status".to_owned(), json!(last.status()));
        m.insert("last_run_group_id".to_owned(), json!(last.run_group_id));
        m.insert("last_run_date_utc".to_owned(), json!(fmt_z(last.start)));
        m.insert(
            "last_run_epoch_milliseconds".to_owned(),
            json!(last.start.timestamp_millis()),
        );
        let units = runs.iter().map(|r| r.units_now()).sum();
        rows.push((
            units,
            last.start.timestamp_millis(),
            max_duration,
            Value::Object(m),
        ));
    }
    rows.sort_by(|a, b| {
        let ord = match sort_by.as_str() {
            "RPUs(Units)" => a.0.total_cmp(&b.0),
            "max_duration" => a.2.cmp(&b.2),
            _ => a.1.cmp(&b.1),
        };
        directed(ord, &sort_order)
    });
    let items = rows.into_iter().map(|r| r.3).collect();
    Ok(json_response(
        StatusCode::OK,
        ctx.envelope(paging, items, ids_extra(&account_id, &environment_id)),
    ))
}

/// A3 `GET {E}/rivers/{id}/activities_targets`: per target table, its latest state.
pub(crate) async fn targets(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let w = window(&ctx, &mut errors);
    let paging = ctx.paging(50, 200, &mut errors);
    let wanted = statuses(&ctx, &mut errors);
    let sort_by = ctx
        .enum_param("sort_by", TARGET_SORT, &mut errors)
        .unwrap_or_else(|| "last_run".to_owned());
    let sort_order = ctx
        .enum_param("sort_order", SORT_ORDER, &mut errors)
        .unwrap_or_else(|| "desc".to_owned());
    error::check(errors)?;
    let w = required(w)?;
    let group = ctx
        .get_nonempty("run_group_id")
        .or_else(|| ctx.get_nonempty("scheduler_id"));
    let sub = ctx.get_nonempty("sub_river_id");
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    let mut by_target: BTreeMap<String, Vec<&Run>> = BTreeMap::new();
    for run in runs_in(env, Some(&river_id), &w) {
        if group.is_some_and(|g| run.run_group_id != g)
            || sub.is_some_and(|s| run.sub_river_id.as_deref() != Some(s))
        {
            continue;
        }
        let key = run.target_name.clone().unwrap_or_default();
        by_target.entry(key).or_default().push(run);
    }
    let mut rows: Vec<(String, f64, i64, Value)> = Vec::new();
    for (target, runs) in by_target {
        let Some(last) = runs.iter().max_by_key(|r| r.start) else {
            continue;
        };
        if !wanted.is_empty() && !wanted.contains(&last.status()) {
            continue;
        }
        let units: f64 = runs.iter().map(|r| r.units_now()).sum();
        let v = json!({
            "target_name": target,
            "status": last.status(),
            "units": round2(units),
            "rpu": round2(units),
            "total_runs": runs.len(),
            "run_group_id": last.run_group_id,
            "last_run_id": last.run_id,
            "sub_river_id": last.sub_river_id,
            "error_description": last.error_description(),
            "last_run_date_utc": fmt_z(last.start),
            "last_run_epoch_milliseconds": last.start.timestamp_millis(),
        });
        rows.push((target, units, last.start.timestamp_millis(), v));
    }
    rows.sort_by(|a, b| {
        let ord = match sort_by.as_str() {
            "units" => a.1.total_cmp(&b.1),
            "table_name" => a.0.cmp(&b.0),
            _ => a.2.cmp(&b.2),
        }
        .then_with(|| a.0.cmp(&b.0));
        directed(ord, &sort_order)
    });
    let mut extra = ids_extra(&account_id, &environment_id);
    extra.insert("river_cross_id".to_owned(), json!(river_id));
    let items = rows.into_iter().map(|r| r.3).collect();
    Ok(json_response(
        StatusCode::OK,
        ctx.envelope(paging, items, extra),
    ))
}

/// Aggregates of one run group.
struct Group<'a> {
    id: String,
    runs: Vec<&'a Run>,
}

impl Group<'_> {
    fn status(&self) -> &'static str {
        let statuses: Vec<&str> = self.runs.iter().map(|r| r.status()).collect();
        group_status(&statuses)
    }

    fn start(&self) -> DateTime<Utc> {
        self.runs.iter().map(|r| r.start).min().unwrap_or_default()
    }

    fn units(&self) -> f64 {
        round2(self.runs.iter().map(|r| r.units_now()).sum())
    }

    fn max_duration(&self) -> i64 {
        self.runs.iter().map(|r| r.duration_ms()).max().unwrap_or(0)
    }

    fn summary(&self) -> Value {
        json!({
            "run_group_id": self.id,
            "status": self.status(),
            "rpu": self.units(),
            "max_duration_in_milliseconds": self.max_duration(),
            "run_date_epoch_milliseconds": self.start().timestamp_millis(),
            "run_date_utc": fmt_z(self.start()),
            "trigger": self.runs.first().map(|r| r.trigger.as_str()),
        })
    }
}

fn groups_of<'a>(runs: impl Iterator<Item = &'a Run>) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for run in runs {
        match groups.iter_mut().find(|g| g.id == run.run_group_id) {
            Some(g) => g.runs.push(run),
            None => groups.push(Group {
                id: run.run_group_id.clone(),
                runs: vec![run],
            }),
        }
    }
    groups
}

/// A4 `GET {E}/rivers/{id}/activities_run_groups`.
pub(crate) async fn run_groups(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let w = window(&ctx, &mut errors);
    let paging = ctx.paging(50, 200, &mut errors);
    let wanted = statuses(&ctx, &mut errors);
    let sort_by = ctx
        .enum_param("sort_by", GROUP_SORT, &mut errors)
        .unwrap_or_else(|| "last_run".to_owned());
    let sort_order = ctx
        .enum_param("sort_order", SORT_ORDER, &mut errors)
        .unwrap_or_else(|| "desc".to_owned());
    error::check(errors)?;
    let w = required(w)?;
    let target = ctx.get_nonempty("target_name");
    let sub = ctx.get_nonempty("sub_river_id");
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    let runs = runs_in(env, Some(&river_id), &w).into_iter();
    let mut groups: Vec<Group<'_>> = groups_of(runs)
        .into_iter()
        .filter(|g| {
            target.is_none_or(|t| g.runs.iter().any(|r| r.target_name.as_deref() == Some(t)))
        })
        .filter(|g| sub.is_none_or(|s| g.runs.iter().any(|r| r.sub_river_id.as_deref() == Some(s))))
        .filter(|g| wanted.is_empty() || wanted.contains(&g.status()))
        .collect();
    groups.sort_by(|a, b| {
        let ord = match sort_by.as_str() {
            "RPUs(Units)" => a.units().total_cmp(&b.units()),
            "max_duration" => a.max_duration().cmp(&b.max_duration()),
            _ => a.start().cmp(&b.start()),
        };
        directed(ord, &sort_order)
    });
    let items = groups.iter().map(Group::summary).collect();
    let mut extra = ids_extra(&account_id, &environment_id);
    extra.insert("river_cross_id".to_owned(), json!(river_id));
    Ok(json_response(
        StatusCode::OK,
        ctx.envelope(paging, items, extra),
    ))
}

/// A4b `GET {E}/rivers/{id}/activities_run_groups/{run_group_id}`: no window; a poll of the group.
pub(crate) async fn run_group(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id, run_group_id)): Path<(
        String,
        String,
        String,
        String,
    )>,
) -> Result<Response, ApiError> {
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (sys, env) = inner.scope(&config, &account_id, &environment_id)?;
    let now = sys.now();
    env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    for run in env
        .runs
        .iter_mut()
        .filter(|r| r.river_cross_id == river_id && r.run_group_id == run_group_id)
    {
        run.poll(now);
    }
    let runs = env
        .runs
        .iter()
        .filter(|r| r.river_cross_id == river_id && r.run_group_id == run_group_id);
    let Some(group) = groups_of(runs).into_iter().next() else {
        return Err(ApiError::not_found(format!(
            "Run group {run_group_id} was not found"
        )));
    };
    let all_done = group.runs.iter().all(|r| r.is_terminal());
    let end = all_done
        .then(|| group.runs.iter().filter_map(|r| r.end).max())
        .flatten();
    let mut v = group.summary();
    if let Some(m) = v.as_object_mut() {
        m.remove("rpu");
        m.insert("units".to_owned(), json!(group.units()));
        m.insert("rpu".to_owned(), json!(group.units()));
        m.insert("run_end_date_utc".to_owned(), json!(end.map(fmt_z)));
        m.insert(
            "run_end_date_epoch_milliseconds".to_owned(),
            json!(end.map(|e| e.timestamp_millis())),
        );
        for s in COUNTED {
            m.insert(
                (*s).to_owned(),
                json!(group.runs.iter().filter(|r| r.status() == *s).count()),
            );
        }
    }
    Ok(json_response(StatusCode::OK, v))
}

/// A5 `GET {E}/rivers/{id}/activities_sub_rivers`: runs of sub data flows.
pub(crate) async fn sub_rivers(
    State(app): State<AppState>,
    Path((account_id, environment_id, river_id)): RiverPath,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let w = window(&ctx, &mut errors);
    let paging = ctx.paging(50, 200, &mut errors);
    error::check(errors)?;
    let w = required(w)?;
    let target = ctx.get_nonempty("target_name");
    let group = ctx
        .get_nonempty("scheduler_id")
        .or_else(|| ctx.get_nonempty("run_group_id"));
    let config = app.shared.config.clone();
    let mut inner = app.shared.lock();
    let (_, env) = inner.scope(&config, &account_id, &environment_id)?;
    env.river(&river_id).ok_or_else(|| not_found(&river_id))?;
    let items = runs_in(env, Some(&river_id), &w)
        .into_iter()
        .filter(|r| r.sub_river_id.is_some())
        .filter(|r| target.is_none_or(|t| r.target_name.as_deref() == Some(t)))
        .filter(|r| group.is_none_or(|g| r.run_group_id == g))
        .map(Run::json)
        .collect();
    let mut extra = ids_extra(&account_id, &environment_id);
    extra.insert("river_cross_id".to_owned(), json!(river_id));
    Ok(json_response(
        StatusCode::OK,
        ctx.envelope(paging, items, extra),
    ))
}
