//! The gateway's own HTTP middleware, wrapped around the routes by [`crate::app`]: the URI length
//! limit, each route's deadline, the media type of JSON bodies, and the error shape of responses
//! that leave a layer without a body.
//!
//! **Invariant:** every error response has the body of [`crate::error::ErrorBody`]: what the
//! router, the body limit or an extractor answers bare is given that shape here, headers kept.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};

/// The longest request target (path and query) served; a longer one is a 414. (hyper itself
/// answers a bare 414 beyond 64 KiB, before the request reaches the gateway.)
pub const MAX_URI: usize = 8 * 1024;

/// 414 with the gateway's shape for a request target longer than [`MAX_URI`].
pub async fn limit_uri(req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if len > MAX_URI {
        let mut e = ApiError::for_status(axum::http::StatusCode::URI_TOO_LONG);
        e.body.error.message =
            format!("the request URI is too long ({len} bytes, at most {MAX_URI})");
        return e.into_response();
    }
    next.run(req).await
}

/// A route's deadline: past it, a 504 with the gateway's shape (`timeout`).
pub async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::deadline_exceeded(limit).into_response(),
    }
}

/// The essence of a `Content-Type` (`application/json; charset=utf-8` is `application/json`),
/// lowercased; `None` when there is no (readable) header.
fn media_type(req: &Request) -> Option<String> {
    let raw = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        raw.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// 415 unless the body is sent as one of the route's media types (a JSON route's body is
/// required, so a missing `Content-Type` is refused too).
pub async fn require_media_type(
    State(accepted): State<&'static [&'static str]>,
    req: Request,
    next: Next,
) -> Response {
    match media_type(&req) {
        Some(m) if accepted.contains(&m.as_str()) => next.run(req).await,
        sent => {
            // Only a safe spelling is echoed back.
            let sent = sent.map(|m| {
                if m.len() <= 100
                    && m.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/+-._".contains(&b))
                {
                    m
                } else {
                    "an unreadable media type".to_owned()
                }
            });
            ApiError::unsupported_media_type(accepted, sent.as_deref()).into_response()
        }
    }
}

/// Gives every error response that no handler shaped (the router's 405, the body limit's 413, an
/// extractor's rejection) the gateway's error shape, keeping its headers (`Allow` on a 405).
pub async fn shape_bare_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<ErrorCode>().is_some()
    {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut shaped = ApiError::for_status(status).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().append(name.clone(), value.clone());
        }
    }
    shaped
}
