//! Middleware: request logging and counting, injected latency and faults (outermost, like a
//! proxy in front of the API, so they apply to the `/v1` and the Boomi Flow `/api` paths alike), and
//! the bearer-token check on matched `/v1` routes.

use std::time::Instant;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;
use crate::state::{RuleKind, matches};

/// Counts a request as in flight until it is answered, and records the most at once.
struct InFlight(AppState);

impl InFlight {
    fn enter(app: &AppState) -> Self {
        use std::sync::atomic::Ordering::SeqCst;
        let now = app.shared.in_flight.fetch_add(1, SeqCst) + 1;
        app.shared.max_in_flight.fetch_max(now, SeqCst);
        Self(app.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .shared
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Logging, counting, latency and fault injection.
pub(crate) async fn faults(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    let page = req
        .uri()
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k == "page")
                .last()
                .and_then(|(_, v)| v.parse::<u32>().ok())
        })
        .unwrap_or(1);

    let _in_flight = InFlight::enter(&app);
    let latency = app.shared.lock().sys.latency;
    let (pre, drop) =
        {
            let mut faults = app.shared.faults();
            faults.requests.push((method.clone(), target.clone()));
            app.shared.arrivals.send_modify(|n| *n += 1);
            let page_fault = faults
                .pages
                .iter()
                .find(|p| p.page == page && req.uri().path().contains(&p.path_contains))
                .map(|p| RuleKind::Fail(p.status));
            let mut pre = page_fault;
            let mut drop = false;
            if pre.is_none() {
                if let Some(rule) = faults.rules.iter_mut().find(|r| {
                    r.remaining > 0 && matches(&r.method, &r.path_contains, &method, &target)
                }) {
                    rule.remaining -= 1;
                    match rule.kind {
                        RuleKind::Drop => drop = true,
                        ref other => pre = Some(other.clone()),
                    }
                }
                faults.rules.retain(|r| r.remaining > 0);
            }
            (pre, drop)
        };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let response = match pre {
        Some(RuleKind::Fail(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let msg = status
                .canonical_reason()
                .unwrap_or("injected failure")
                .to_owned();
            (status, Json(json!({ "detail": msg }))).into_response()
        }
        Some(RuleKind::RateLimit(retry_after)) => {
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(
                    json!({ "detail": "Too many requests. Please slow down and try again later" }),
                ),
            )
                .into_response();
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
        Some(RuleKind::Drop) | None => {
            let handled = next.run(req).await;
            if drop {
                tracing::warn!(%method, path = %target, status = handled.status().as_u16(), "response dropped by fault injection");
                let mut resp = (
                    StatusCode::BAD_GATEWAY,
                    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
                )
                    .into_response();
                resp.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
                resp
            } else {
                handled
            }
        }
    };
    tracing::info!(
        %method,
        path = %target,
        status = response.status().as_u16(),
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// The bearer check for matched routes: 401 when the token is missing or wrong.
pub(crate) async fn auth(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let Some(header) = header else {
        return unauthorized("Not authenticated");
    };
    let mut parts = header.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or_default();
    let token = parts.next().unwrap_or_default().trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return unauthorized("Not authenticated");
    }
    if token != app.shared.config.token {
        return unauthorized("Invalid or expired token");
    }
    next.run(req).await
}

fn unauthorized(msg: &str) -> Response {
    let mut resp = (StatusCode::UNAUTHORIZED, Json(json!({ "detail": msg }))).into_response();
    resp.headers_mut()
        .insert("www-authenticate", HeaderValue::from_static("Bearer"));
    resp
}
