//! [`app`]: the whole gateway as one axum [`Router`], built from the route table, so that tests
//! drive it in process with `oneshot` and the binary serves the very same thing.

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::{GuardCtx, guard};
use crate::error::ApiError;
use crate::layers::{
    check_query, deadline, limit_uri, request_id, require_media_type, shape_bare_errors,
};
use crate::metrics::track;
use crate::routes::{ops, table};
use crate::state::AppState;

pub use crate::layers::REQUEST_ID;

async fn not_found() -> Response {
    ApiError::not_found("no such route: see /openapi.json").into_response()
}

/// The span of one request: method, path (never the query or headers) and request id (which
/// [`request_id`] has made safe to log).
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
    )
}

/// The gateway.
pub fn app(state: AppState) -> Router {
    let limits = state.limits().clone();
    let mut router: Router<AppState> = Router::new();
    for spec in table() {
        let limit = if spec.waits {
            limits.max_wait + limits.request_timeout
        } else {
            limits.request_timeout
        };
        let ctx = GuardCtx {
            state: state.clone(),
            scope: spec.scope,
        };
        let mut handler = spec.handler;
        if !spec.query.is_empty() {
            handler = handler.layer(from_fn_with_state(spec.query, check_query));
        }
        if !spec.consumes.is_empty() {
            handler = handler.layer(from_fn_with_state(spec.consumes, require_media_type));
        }
        // The guard is outermost, so that a timed-out write is audited too.
        let handler = handler
            .layer(from_fn_with_state(limit, deadline))
            .route_layer(from_fn_with_state(ctx, guard));
        router = router.route(spec.path, handler);
    }
    router
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(not_found)
        .layer(from_fn_with_state(state.metrics().clone(), track))
        .layer(RequestBodyLimitLayer::new(limits.body_limit))
        .layer(from_fn(limit_uri))
        .layer(from_fn(shape_bare_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(from_fn(request_id))
        .with_state(state)
}
