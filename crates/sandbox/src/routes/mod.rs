//! The route table: every emulated `/v1` path, the auth layer on matched routes, the Boomi Flow API
//! routes under `/api` (with their own key check), the fault layer on everything but the control
//! API (`/_sandbox`), and FastAPI-style 404/405 fallbacks.

mod activities;
mod connections;
mod control;
mod environments;
mod operations;
mod rivers;
mod runs;
mod variables;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::AppState;
use crate::middleware;

/// `{E}`: the environment scope.
const E: &str = "/v1/accounts/{account_id}/environments/{environment_id}";

pub(crate) fn router(state: AppState) -> Router {
    let e = |suffix: &str| format!("{E}{suffix}");
    let api = Router::new()
        .route(
            "/v1/accounts/{account_id}/environments",
            get(environments::list),
        )
        .route(&e("/rivers"), get(rivers::list).post(rivers::create))
        .route(
            &e("/rivers/{river_id}"),
            get(rivers::get_one)
                .put(rivers::replace)
                .delete(rivers::delete),
        )
        .route(
            &e("/rivers/{river_id}/activate_river"),
            post(rivers::activate),
        )
        .route(
            &e("/rivers/{river_id}/disable_river"),
            post(rivers::disable),
        )
        .route(
            &e("/rivers/{river_id}/enable_cdc"),
            post(rivers::enable_cdc),
        )
        .route(&e("/rivers/{river_id}/run"), post(runs::start))
        .route(&e("/rivers/{river_id}/cancel_run"), post(runs::cancel))
        .route(&e("/rivers/{river_id}/runs"), get(runs::list))
        .route(&e("/rivers/{river_id}/runs/{run_id}"), get(runs::get_one))
        .route(&e("/rivers/{river_id}/runs/{run_id}/logs"), get(runs::logs))
        .route(&e("/operations/{operation_id}"), get(operations::get_one))
        .route(&e("/pull_requests"), post(operations::pull_request))
        .route(
            &e("/connections"),
            get(connections::list).post(connections::create),
        )
        .route(
            &e("/connections/{connection_id}"),
            get(connections::get_one)
                .put(connections::replace)
                .delete(connections::delete),
        )
        .route(
            &e("/variables"),
            get(variables::list)
                .put(variables::upsert)
                .delete(variables::delete),
        )
        .route(&e("/activities_statistics"), get(activities::statistics))
        .route(&e("/activities"), get(activities::per_river))
        .route(
            &e("/rivers/{river_id}/activities_statistics"),
            get(activities::river_statistics),
        )
        .route(
            &e("/rivers/{river_id}/activities_targets"),
            get(activities::targets),
        )
        .route(
            &e("/rivers/{river_id}/activities_run_groups"),
            get(activities::run_groups),
        )
        .route(
            &e("/rivers/{river_id}/activities_run_groups/{run_group_id}"),
            get(activities::run_group),
        )
        .route(
            &e("/rivers/{river_id}/activities_sub_rivers"),
            get(activities::sub_rivers),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::auth,
        ));
    api.merge(crate::boomi_flow::router(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::faults,
        ))
        // Merged after the fault layer: control requests are neither counted nor faulted.
        .merge(control::router(state.clone()))
        .with_state(state)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "detail": "Not Found" })),
    )
        .into_response()
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "detail": "Method Not Allowed" })),
    )
        .into_response()
}

/// A JSON response with a status.
pub(crate) fn json_response(status: StatusCode, value: Value) -> Response {
    (status, Json(value)).into_response()
}
