//! The unauthenticated operational routes: liveness, readiness (the upstream answers a cheap
//! list call; cached and bounded), Prometheus metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// `GET /healthz`: the process serves.
pub(crate) async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: the upstream answers `GET /v1/accounts/{account}/environments?items_per_page=1`
/// (cached for a few seconds, bounded by a short timeout: [`crate::readiness`]).
pub(crate) async fn readyz(State(st): State<AppState>) -> Response {
    let limits = st.limits();
    // Replicas coordinate through Redis: without it this replica starts no run and no change,
    // so it is not ready (a load balancer sends the traffic elsewhere), whatever the platform.
    if let Some(redis) = st.redis() {
        let ping = tokio::time::timeout(limits.readiness_timeout, redis.ping()).await;
        if !matches!(ping, Ok(Ok(()))) {
            return crate::error::ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!(
                    "Redis at {} does not answer: runs and changes are refused until it does (plain reads still work)",
                    redis.server()
                ),
            )
            .with_hint("check Redis (--redis, BDI_REDIS_URL); the gateway reconnects by itself")
            .into_response();
        }
    }
    match st
        .readiness()
        .check(
            st.backend().as_ref(),
            limits.readiness_ttl,
            limits.readiness_timeout,
        )
        .await
    {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => e.into_response(),
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
