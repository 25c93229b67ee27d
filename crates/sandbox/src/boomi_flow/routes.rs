//! The Boomi Flow API handlers: the flow lists (with `filter`), one flow and its graph, runtimes,
//! users, API keys, states (list with `status`, `from`, `to`; and one), audit search, and
//! translations. Lists that the contract calls paged answer the configured envelope; the others
//! answer a bare JSON array.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::BoomiFlowHttpError;
use super::data::{AuditType, StateRecord, audit_index_at_or_after, flow_is_translated};
use super::filter::Filter;
use super::paging::{PageRequest, array_text, envelope, json_text};
use crate::AppState;
use crate::http::{Ctx, parse_time};

/// The `filter` parameter, parsed.
fn filter(ctx: &Ctx) -> Result<Filter, BoomiFlowHttpError> {
    Filter::parse(ctx.get("filter").unwrap_or_default()).map_err(BoomiFlowHttpError::bad_request)
}

fn now(app: &AppState) -> DateTime<Utc> {
    app.shared.boomi_flow_now()
}

/// A time filter parameter (ISO 8601), if present.
fn time_param(ctx: &Ctx, key: &str) -> Result<Option<DateTime<Utc>>, BoomiFlowHttpError> {
    ctx.get_nonempty(key)
        .map(|raw| {
            parse_time(raw).ok_or_else(|| {
                BoomiFlowHttpError::bad_request(format!(
                    "{key} must be an ISO 8601 date-time such as 2025-03-01T08:00:00Z, got `{raw}`"
                ))
            })
        })
        .transpose()
}

/// Every value of a repeatable parameter given as `key` or `key[]`, comma-separated or not.
fn repeated(ctx: &Ctx, key: &str) -> Vec<String> {
    let brackets = format!("{key}[]");
    ctx.query
        .iter()
        .filter(|(k, _)| *k == key || *k == brackets)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `draw/1/flow`: every flow (FlowResponseAPI), whole list.
pub(crate) async fn flows(
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<Response, BoomiFlowHttpError> {
    let filter = filter(&ctx)?;
    let data = app.shared.boomi_flow_data();
    Ok(json_text(array_text(
        data.flows.iter().filter(|f| filter.matches(f)),
    )))
}

/// `draw/1/flow/active`: the active flows as FlowResponse (no `editingToken`, `authorization`,
/// `identityProvider`, `tags`).
pub(crate) async fn flows_active(
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<Response, BoomiFlowHttpError> {
    let filter = filter(&ctx)?;
    let data = app.shared.boomi_flow_data();
    let active: Vec<Value> = data
        .flows
        .iter()
        .filter(|f| f["isActive"] == Value::Bool(true))
        .map(|f| {
            let mut f = f.clone();
            if let Some(m) = f.as_object_mut() {
                for key in ["editingToken", "authorization", "identityProvider", "tags"] {
                    m.shift_remove(key);
                }
            }
            f
        })
        .filter(|f| filter.matches(f))
        .collect();
    Ok(json_text(array_text(&active)))
}

fn flow_position(flows: &[Value], id: &str) -> Result<usize, BoomiFlowHttpError> {
    flows
        .iter()
        .position(|f| f["id"]["id"].as_str() == Some(id))
        .ok_or_else(|| BoomiFlowHttpError::not_found(format!("Not Found: no flow with id {id}")))
}

/// `draw/1/flow/{id}`: one flow.
pub(crate) async fn flow(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, BoomiFlowHttpError> {
    let data = app.shared.boomi_flow_data();
    let k = flow_position(&data.flows, &id)?;
    Ok(json_text(data.flows[k].to_string()))
}

/// `draw/1/graph/flow/{flow}`: a flow with its map elements, group elements and tenant.
pub(crate) async fn graph(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, BoomiFlowHttpError> {
    let data = app.shared.boomi_flow_data();
    let k = flow_position(&data.flows, &id)?;
    Ok(json_text(data.graphs[k].to_string()))
}

/// `admin/1/tenant/runtimes`.
pub(crate) async fn tenant_runtimes(State(app): State<AppState>) -> Response {
    json_text(app.shared.boomi_flow_data().tenant_runtimes.to_string())
}

/// `admin/1/organization/runtimes`.
pub(crate) async fn organization_runtimes(State(app): State<AppState>) -> Response {
    json_text(
        app.shared
            .boomi_flow_data()
            .organization_runtimes
            .to_string(),
    )
}

/// `admin/1/users`: paged UserAPI.
pub(crate) async fn users(
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<Response, BoomiFlowHttpError> {
    let env = &app.shared.config.boomi_flow.envelope;
    let req = PageRequest::read(env, &ctx)?;
    let data = app.shared.boomi_flow_data();
    let page: Vec<&Value> = data
        .users
        .iter()
        .skip(usize::try_from(req.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(req.size).unwrap_or(usize::MAX))
        .collect();
    Ok(envelope(
        env,
        &ctx,
        &req,
        page.len() as u64,
        data.users.len() as u64,
        &array_text(page),
    ))
}

/// `admin/1/users/me/keys`: the current user's keys (secrets).
pub(crate) async fn api_keys(State(app): State<AppState>) -> Response {
    json_text(app.shared.boomi_flow_data().api_keys.to_string())
}

/// The `status` filter of the states list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateStatus {
    Active,
    Done,
    Expired,
}

impl StateStatus {
    fn parse(raw: &str) -> Result<StateStatus, BoomiFlowHttpError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(StateStatus::Active),
            "done" => Ok(StateStatus::Done),
            "expired" => Ok(StateStatus::Expired),
            _ => Err(BoomiFlowHttpError::bad_request(format!(
                "status must be one of active, done, expired; got `{raw}`"
            ))),
        }
    }

    fn holds(self, state: &StateRecord, now: DateTime<Utc>) -> bool {
        match self {
            StateStatus::Done => state.done,
            StateStatus::Expired => !state.done && state.expired(now),
            StateStatus::Active => !state.done && !state.expired(now),
        }
    }
}

/// `admin/1/states`: paged StateAPI ordered by (`dateModified`, `id`); `status`, and `from`
/// (inclusive) and `to` (exclusive) on `dateModified`.
pub(crate) async fn states(
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<Response, BoomiFlowHttpError> {
    let env = &app.shared.config.boomi_flow.envelope;
    let req = PageRequest::read(env, &ctx)?;
    let status = ctx
        .get_nonempty("status")
        .map(StateStatus::parse)
        .transpose()?;
    let from = time_param(&ctx, "from")?;
    let to = time_param(&ctx, "to")?;
    let now = now(&app);
    let flow = app.shared.boomi_flow();
    let mut selected: Vec<&StateRecord> = flow
        .states
        .iter()
        .filter(|s| status.is_none_or(|st| st.holds(s, now)))
        .filter(|s| from.is_none_or(|t| s.modified >= t))
        .filter(|s| to.is_none_or(|t| s.modified < t))
        .collect();
    selected.sort_by(|a, b| a.modified.cmp(&b.modified).then_with(|| a.id.cmp(&b.id)));
    let page: Vec<Value> = selected
        .iter()
        .skip(usize::try_from(req.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(req.size).unwrap_or(usize::MAX))
        .map(|s| s.json(now))
        .collect();
    let total = selected.len() as u64;
    drop(flow);
    Ok(envelope(
        env,
        &ctx,
        &req,
        page.len() as u64,
        total,
        &array_text(&page),
    ))
}

/// `run/2/state/{stateId}`: one state.
pub(crate) async fn state(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, BoomiFlowHttpError> {
    let now = now(&app);
    let flow = app.shared.boomi_flow();
    let state = flow.states.iter().find(|s| s.id == id).ok_or_else(|| {
        BoomiFlowHttpError::not_found(format!("Not Found: no state with id {id}"))
    })?;
    Ok(json_text(state.json(now).to_string()))
}

/// `audit/1/search`: paged AuditEvent, ordered by (`occurredAt`, `id`), filtered by `type[]`,
/// `user[]`, `from` (inclusive) and `to` (exclusive).
pub(crate) async fn audit_search(
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<Response, BoomiFlowHttpError> {
    let env = &app.shared.config.boomi_flow.envelope;
    let req = PageRequest::read(env, &ctx)?;
    let from = time_param(&ctx, "from")?;
    let to = time_param(&ctx, "to")?;
    if let Some(order) = ctx.get_nonempty("orderBy")
        && !order.eq_ignore_ascii_case("occurredAt")
    {
        return Err(BoomiFlowHttpError::bad_request(format!(
            "orderBy must be occurredAt, got `{order}`"
        )));
    }
    let descending = match ctx.get_nonempty("orderDirection") {
        None => false,
        Some(d) if d.eq_ignore_ascii_case("asc") => false,
        Some(d) if d.eq_ignore_ascii_case("desc") => true,
        Some(d) => {
            return Err(BoomiFlowHttpError::bad_request(format!(
                "orderDirection must be ASC or DESC, got `{d}`"
            )));
        }
    };
    let types = repeated(&ctx, "type");
    let users = repeated(&ctx, "user");
    let kinds: Vec<AuditType> = AuditType::ALL
        .into_iter()
        .filter(|k| types.iter().any(|t| t == k.as_str()))
        .collect();

    let (data, count) = {
        let flow = app.shared.boomi_flow();
        (std::sync::Arc::clone(&flow.data), flow.audit_events)
    };
    let source = &data.audit;
    let lo = from.map_or(0, audit_index_at_or_after).min(count);
    let hi = to.map_or(count, audit_index_at_or_after).min(count).max(lo);
    let offset = req.offset();
    let size = req.size;

    let mut page: Vec<u64> = Vec::new();
    let total = if types.is_empty() && users.is_empty() {
        let total = hi - lo;
        let start = offset.min(total);
        let end = offset.saturating_add(size).min(total);
        page.extend((start..end).map(|k| if descending { hi - 1 - k } else { lo + k }));
        total
    } else {
        let keep = |i: &u64| {
            (types.is_empty() || kinds.contains(&AuditType::of(*i)))
                && (users.is_empty()
                    || source
                        .user_id_of(*i)
                        .is_some_and(|u| users.iter().any(|w| w == u)))
        };
        let mut total = 0_u64;
        let mut visit = |i: u64| {
            if keep(&i) {
                if total >= offset && total - offset < size {
                    page.push(i);
                }
                total += 1;
            }
        };
        if descending {
            (lo..hi).rev().for_each(&mut visit);
        } else {
            (lo..hi).for_each(&mut visit);
        }
        total
    };
    let mut items = String::with_capacity(page.len() * 700 + 2);
    items.push('[');
    for (k, i) in page.iter().enumerate() {
        if k > 0 {
            items.push(',');
        }
        source.write_event(*i, &mut items);
    }
    items.push(']');
    Ok(envelope(env, &ctx, &req, page.len() as u64, total, &items))
}

/// `translate/1/flow`: the flows that have a translation (FlowResponseAPI).
pub(crate) async fn translations(
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<Response, BoomiFlowHttpError> {
    let filter = filter(&ctx)?;
    let data = app.shared.boomi_flow_data();
    Ok(json_text(array_text(
        data.flows
            .iter()
            .enumerate()
            .filter(|(k, f)| flow_is_translated(*k) && filter.matches(f))
            .map(|(_, f)| f),
    )))
}
