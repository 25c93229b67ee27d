//! The gateway's own HTTP middleware, wrapped around the routes by [`crate::app`]: the request id
//! (kept only when it is safe to log), the URI length limit, each route's deadline, the media type
//! of JSON bodies, the types of the declared query parameters, and the error shape of responses
//! that leave a layer without a body.
//!
//! **Invariant:** every error response has the body of [`crate::error::ErrorBody`]: what the
//! router, the body limit or an extractor answers bare is given that shape here, headers kept.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::error::{ApiError, ErrorCode};
use crate::query::QueryPairs;
use crate::routes::QueryParam;

/// The request id header, set when absent and echoed on the response.
pub const REQUEST_ID: &str = "x-request-id";

/// The longest request id kept; a longer one is replaced.
pub const MAX_REQUEST_ID: usize = 128;

/// The longest request target (path and query) served; a longer one is a 414. (hyper itself
/// answers a bare 414 beyond 64 KiB, before the request reaches the gateway.)
pub const MAX_URI: usize = 8 * 1024;

/// Whether a client's request id may be kept and logged as is: 1 to [`MAX_REQUEST_ID`] characters
/// from `A-Z a-z 0-9 - _ . : / + = @`. Anything else (spaces, tabs, quotes, control characters,
/// bytes beyond ASCII) could forge or split a text log line, so such an id is replaced.
pub fn is_safe_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(b))
}

/// A new request id: 32 random hex digits.
fn new_request_id() -> HeaderValue {
    let mut bytes = [0_u8; 16];
    StdRng::from_os_rng().fill_bytes(&mut bytes);
    HeaderValue::from_str(&hex::encode(bytes)).expect("hex digits are a valid header value")
}

/// Keeps the client's `x-request-id` when [`is_safe_request_id`] allows it, else sets a new one
/// (the client's is never logged), and echoes the id used on the response.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let name = HeaderName::from_static(REQUEST_ID);
    let id = match req.headers().get(&name) {
        Some(v) if is_safe_request_id(v.as_bytes()) => v.clone(),
        Some(_) => {
            let id = new_request_id();
            tracing::debug!(request_id = ?id, "the client's x-request-id was replaced: not safe to log");
            id
        }
        None => new_request_id(),
    };
    req.headers_mut().insert(name.clone(), id.clone());
    let mut response = next.run(req).await;
    response.headers_mut().insert(name, id);
    response
}

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

/// 422 unless every declared query parameter has a value of its documented type
/// ([`QueryPairs::check`]).
pub async fn check_query(
    State(params): State<&'static [QueryParam]>,
    req: Request,
    next: Next,
) -> Response {
    match QueryPairs::parse(req.uri().query().unwrap_or("")).check(params) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_request_ids_are_kept() {
        for ok in [
            "trace-me-1",
            "0af7651916cd43dd8448eb211c80319c",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "a:b/c+d=e@f_g.h",
        ] {
            assert!(is_safe_request_id(ok.as_bytes()), "{ok}");
        }
        let long = "a".repeat(MAX_REQUEST_ID + 1);
        for bad in [
            "",
            "a\r\nb",
            "a\nmessage=\"write\" key=admin",
            "a b",
            "a\tb",
            "a\"b",
            "a\x1b[2Jb",
            "caf\u{e9}",
            long.as_str(),
        ] {
            assert!(!is_safe_request_id(bad.as_bytes()), "{bad:?}");
        }
        assert!(!is_safe_request_id(&[b'a', 0xff]));
    }
}
