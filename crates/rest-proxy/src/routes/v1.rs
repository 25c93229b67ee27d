//! The pass-through of the upstream's v1 paths: same paths, bodies and success statuses, served
//! through the domain (so the backend's retries and the run throttle apply). Authorization is done
//! before these handlers run (see [`crate::routes::RouteSpec`] and [`crate::auth::guard`]).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bdi_domain::RunOptions;
use bdi_domain::models::{Page, PageQuery, Toggle, Variables};
use bdi_domain::{Document, Env};
use serde_json::{Value, json};

use crate::audit::AuditTarget;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::QueryPairs;
use crate::routes::params::{Ids, relink};
use crate::routes::{env_of, json_object};
use crate::state::AppState;

type Ctx = (State<AppState>, Path<Ids>);

/// `GET {E}/operations/{operation}`.
pub(crate) async fn get_operation((State(st), Path(ids)): Ctx) -> ApiResult<Response> {
    let op = st
        .backend()
        .get_operation(&env_of(&ids)?, &ids.operation()?)
        .await?;
    Ok(Json(op).into_response())
}

/// `GET {E}/rivers/{flow}/runs`.
pub(crate) async fn list_runs(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let query = q.run_query()?;
    let page = st
        .backend()
        .list_runs(&env_of(&ids)?, &ids.flow()?, &query)
        .await?;
    Ok(Json(relink(page, st.public_url())).into_response())
}

/// `GET {E}/rivers/{flow}/runs/{run}`.
pub(crate) async fn get_run((State(st), Path(ids)): Ctx) -> ApiResult<Response> {
    let run = st
        .backend()
        .get_run(&env_of(&ids)?, &ids.flow()?, &ids.run()?)
        .await?;
    Ok(Json(run).into_response())
}

/// `GET {E}/rivers/{flow}/runs/{run}/logs`: the CSV text.
pub(crate) async fn get_run_logs((State(st), Path(ids)): Ctx) -> ApiResult<Response> {
    let text = st
        .backend()
        .get_run_logs(&env_of(&ids)?, &ids.flow()?, &ids.run()?)
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

/// `GET {E}/rivers`.
pub(crate) async fn list_data_flows(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let query = q.data_flow_query()?;
    let page = st.backend().list_data_flows(&env_of(&ids)?, &query).await?;
    Ok(Json(relink(page, st.public_url())).into_response())
}

/// `GET {E}/rivers/{flow}`.
pub(crate) async fn get_data_flow((State(st), Path(ids)): Ctx) -> ApiResult<Response> {
    let flow = st
        .backend()
        .get_data_flow(&env_of(&ids)?, &ids.flow()?)
        .await?;
    Ok(Json(flow).into_response())
}

/// `POST {E}/rivers`: 201 with the new data flow.
pub(crate) async fn create_data_flow(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    body: Bytes,
) -> ApiResult<Response> {
    let doc = json_object(&body)?;
    let flow = st.service().create_data_flow(&env_of(&ids)?, doc).await?;
    let target = AuditTarget(flow.cross_id.clone());
    let mut response = (StatusCode::CREATED, Json(flow)).into_response();
    response.extensions_mut().insert(target);
    Ok(response)
}

/// `PUT {E}/rivers/{flow}`: full replace.
pub(crate) async fn update_data_flow(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    body: Bytes,
) -> ApiResult<Response> {
    let doc: Document = json_object(&body)?;
    let flow = st
        .service()
        .update_data_flow(&env_of(&ids)?, &ids.flow()?, doc)
        .await?;
    Ok(Json(flow).into_response())
}

/// `DELETE {E}/rivers/{flow}`: 200 with a null body.
pub(crate) async fn delete_data_flow(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
) -> ApiResult<Response> {
    st.service()
        .delete_data_flow(&env_of(&ids)?, &ids.flow()?)
        .await?;
    Ok(Json(Value::Null).into_response())
}

fn toggle_response(toggle: Toggle) -> Response {
    match toggle {
        Toggle::Started { operation } => (StatusCode::ACCEPTED, Json(operation)).into_response(),
        Toggle::AlreadyInState => StatusCode::NO_CONTENT.into_response(),
    }
}

/// `POST {E}/rivers/{flow}/activate_river`: 202 with the operation, or 204 when already active.
pub(crate) async fn activate_river(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
) -> ApiResult<Response> {
    let activation = st
        .service()
        .activate(&env_of(&ids)?, &ids.flow()?, None)
        .await?;
    Ok(toggle_response(activation.toggle))
}

/// `POST {E}/rivers/{flow}/disable_river`: 202 with the operation, or 204 when already disabled.
pub(crate) async fn disable_river(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
) -> ApiResult<Response> {
    let activation = st
        .service()
        .disable(&env_of(&ids)?, &ids.flow()?, None)
        .await?;
    Ok(toggle_response(activation.toggle))
}

/// `POST {E}/rivers/{flow}/run?run_sub_rivers=`: 202 with the triggered runs; refused with 429
/// by the throttle before the upstream is touched.
pub(crate) async fn run_river(
    State(st): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let options = RunOptions {
        run_sub_rivers: q.bool("run_sub_rivers", false)?,
        wait: None,
        wait_for_throttle: false,
    };
    let outcome =
        crate::routes::run_throttled(&st, &caller, &env_of(&ids)?, &ids.flow()?, options).await?;
    Ok((StatusCode::ACCEPTED, Json(outcome.triggered)).into_response())
}

/// `GET /v1/accounts/{account}/environments`; a key limited to some environments sees only those,
/// all of them on one page (every upstream page is read, then filtered, so counts stay true).
pub(crate) async fn list_environments(
    State(st): State<AppState>,
    caller: Caller,
    q: QueryPairs,
) -> ApiResult<Response> {
    let page = q.page(20, 500)?;
    let include_deleted = q.bool("include_deleted", false)?;
    let backend = st.backend();
    let result = match caller.0.environments() {
        None => backend.list_environments(page, include_deleted).await?,
        Some(allowed) => {
            let all = bdi_api_client::sweep(500, bdi_api_client::MAX_PAGES, |p| {
                backend.list_environments(p, include_deleted)
            })
            .await?;
            let mut visible = Page::single(all);
            visible
                .items
                .retain(|e| allowed.iter().any(|id| id.as_str() == e.cross_id));
            visible.current_page_size = Some(visible.items.len() as u64);
            visible.total_items = visible.items.len() as u64;
            visible
        }
    };
    Ok(Json(relink(result, st.public_url())).into_response())
}

/// `GET {E}/connections`.
pub(crate) async fn list_connections(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let page: PageQuery = q.page(20, 500)?;
    let result = st.backend().list_connections(&env_of(&ids)?, page).await?;
    Ok(Json(relink(result, st.public_url())).into_response())
}

/// `GET {E}/connections/{connection}`.
pub(crate) async fn get_connection((State(st), Path(ids)): Ctx) -> ApiResult<Response> {
    let c = st
        .backend()
        .get_connection(&env_of(&ids)?, &ids.connection()?)
        .await?;
    Ok(Json(c).into_response())
}

/// `POST {E}/connections`: 201 with the connection.
pub(crate) async fn create_connection(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    body: Bytes,
) -> ApiResult<Response> {
    let doc = json_object(&body)?;
    let c = st.backend().create_connection(&env_of(&ids)?, &doc).await?;
    let target = AuditTarget(c.cross_id.clone());
    let mut response = (StatusCode::CREATED, Json(c)).into_response();
    response.extensions_mut().insert(target);
    Ok(response)
}

/// `PUT {E}/connections/{connection}`: full replace, as upstream (a body without credentials
/// clears them).
pub(crate) async fn update_connection(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    body: Bytes,
) -> ApiResult<Response> {
    let doc = json_object(&body)?;
    let c = st
        .backend()
        .update_connection(&env_of(&ids)?, &ids.connection()?, &doc)
        .await?;
    Ok(Json(c).into_response())
}

/// `DELETE {E}/connections/{connection}`: 200 with a null body.
pub(crate) async fn delete_connection((State(st), Path(ids)): Ctx) -> ApiResult<Response> {
    st.backend()
        .delete_connection(&env_of(&ids)?, &ids.connection()?)
        .await?;
    Ok(Json(Value::Null).into_response())
}

/// `GET {E}/variables`: `{"variables": {...}}`.
pub(crate) async fn list_variables((State(st), Path(ids)): Ctx) -> ApiResult<Response> {
    let vars = st.backend().list_variables(&env_of(&ids)?).await?;
    Ok(Json(json!({ "variables": vars })).into_response())
}

/// `PUT {E}/variables` with `{"variables": {...}}`: merges, 201 echoing the body.
pub(crate) async fn upsert_variables(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    body: Bytes,
) -> ApiResult<Response> {
    let doc = json_object(&body)?;
    let vars: Variables = match doc.get("variables") {
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
            ApiError::validation(
                &["body", "variables"],
                "dict_type",
                "must be an object of string values",
            )
        })?,
        None => {
            return Err(ApiError::validation(
                &["body", "variables"],
                "missing",
                "Field required",
            ));
        }
    };
    let env: Env = env_of(&ids)?;
    st.service()
        .upsert_variables(&env, vars.clone().into_iter().collect())
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "variables": vars }))).into_response())
}

/// A1 `GET {E}/activities_statistics`.
pub(crate) async fn activities_statistics(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let v = st
        .backend()
        .activities_statistics(&env_of(&ids)?, &q.activity_query()?)
        .await?;
    Ok(Json(v).into_response())
}

/// A8 `GET {E}/activities`.
pub(crate) async fn activities(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let page = st
        .backend()
        .activities(&env_of(&ids)?, &q.activity_query()?)
        .await?;
    Ok(Json(relink(page, st.public_url())).into_response())
}

/// A2 `GET {E}/rivers/{flow}/activities_statistics`.
pub(crate) async fn data_flow_statistics(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let v = st
        .backend()
        .data_flow_statistics(&env_of(&ids)?, &ids.flow()?, &q.activity_query()?)
        .await?;
    Ok(Json(v).into_response())
}

/// A3 `GET {E}/rivers/{flow}/activities_targets`.
pub(crate) async fn data_flow_targets(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let v = st
        .backend()
        .data_flow_targets(&env_of(&ids)?, &ids.flow()?, &q.activity_query()?)
        .await?;
    Ok(Json(v).into_response())
}

/// A4 `GET {E}/rivers/{flow}/activities_run_groups`.
pub(crate) async fn data_flow_run_groups(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let page = st
        .backend()
        .data_flow_run_groups(&env_of(&ids)?, &ids.flow()?, &q.activity_query()?)
        .await?;
    Ok(Json(relink(page, st.public_url())).into_response())
}

/// A4b `GET {E}/rivers/{flow}/activities_run_groups/{group}`.
pub(crate) async fn data_flow_run_group((State(st), Path(ids)): Ctx) -> ApiResult<Response> {
    let v = st
        .backend()
        .data_flow_run_group(&env_of(&ids)?, &ids.flow()?, &ids.group()?)
        .await?;
    Ok(Json(v).into_response())
}

/// A5 `GET {E}/rivers/{flow}/activities_sub_rivers`.
pub(crate) async fn data_flow_sub_flows(
    State(st): State<AppState>,
    Path(ids): Path<Ids>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let v = st
        .backend()
        .data_flow_sub_flows(&env_of(&ids)?, &ids.flow()?, &q.activity_query()?)
        .await?;
    Ok(Json(v).into_response())
}
