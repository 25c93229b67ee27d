//! The unauthenticated operational routes: liveness, readiness (the upstream answers a cheap
//! list call), Prometheus metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bdi_domain::models::PageQuery;
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /healthz`: the process serves.
pub(crate) async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: the upstream answers `GET /v1/accounts/{account}/environments?items_per_page=1`.
pub(crate) async fn readyz(State(st): State<AppState>) -> Response {
    match st
        .backend()
        .list_environments(PageQuery::new(1, 1), false)
        .await
    {
        Ok(_) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => {
            let mut err = ApiError::from(e);
            err.status = StatusCode::SERVICE_UNAVAILABLE;
            err.body.error.message =
                format!("the platform is not reachable: {}", err.body.error.message);
            err.into_response()
        }
    }
}

/// `GET /metrics`: the Prometheus text exposition format.
pub(crate) async fn metrics(State(st): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics().render(),
    )
        .into_response()
}

/// `GET /openapi.json`: the document describing every route.
pub(crate) async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}
