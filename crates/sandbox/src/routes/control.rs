//! The control API under `/_sandbox`: fault injection, latency, the virtual clock, poll steps,
//! request counts and a reset, over HTTP for tools and tests outside this process (the same
//! operations as [`crate::Control`]).
//!
//! Every route needs the sandbox's bearer token (401 otherwise) and validates its JSON body
//! strictly, pydantic style (422 for a missing, unknown, mistyped or out-of-range field). Control
//! requests bypass the fault and latency layer and are not recorded, so they never count in
//! `request_count` nor trip an injected fault.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get, post};
use serde_json::{Map, Value, json};

use super::{json_response, method_not_allowed};
use crate::AppState;
use crate::error::{self, ApiError};
use crate::http::{Ctx, fmt_z, json_object};

/// The prefix of every control route; no `/v1` path starts with it.
pub(crate) const PREFIX: &str = "/_sandbox";

/// Longest latency, in milliseconds (one minute).
const MAX_LATENCY_MS: i64 = 60_000;
/// Longest clock step, in seconds (about ten years).
const MAX_ADVANCE_SECS: i64 = 315_360_000;
/// Most polls an operation or run may take.
const MAX_STEPS: i64 = 1_000;
/// Most times one fault rule may fire.
const MAX_TIMES: i64 = 1_000_000;

pub(crate) fn router(state: AppState) -> Router<AppState> {
    let p = |suffix: &str| format!("{PREFIX}{suffix}");
    Router::new()
        .route(&p("/faults"), post(faults).fallback(method_not_allowed))
        .route(
            &p("/clock/advance"),
            post(advance_clock).fallback(method_not_allowed),
        )
        .route(&p("/latency"), post(latency).fallback(method_not_allowed))
        .route(&p("/steps"), post(steps).fallback(method_not_allowed))
        .route(&p("/requests"), get(requests).fallback(method_not_allowed))
        .route(&p("/reset"), post(reset).fallback(method_not_allowed))
        .route(PREFIX, any(super::not_found))
        .route(&p("/{*rest}"), any(super::not_found))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::middleware::auth,
        ))
}

/// A JSON body being validated: fields are taken out as they are read, so what is left at the
/// end is unknown (422 `extra_forbidden`).
struct Fields {
    map: Map<String, Value>,
    errors: Vec<Value>,
}

impl Fields {
    fn parse(body: &[u8], empty_ok: bool) -> Result<Self, ApiError> {
        let map = if empty_ok && body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            json_object(body)?
        };
        Ok(Fields {
            map,
            errors: Vec::new(),
        })
    }

    /// A required integer in `min..=max` (`min` stands in for it when it is refused).
    fn int(&mut self, key: &str, min: i64, max: i64) -> i64 {
        if !self.map.contains_key(key) {
            self.errors.push(error::missing(json!(["body", key]), None));
        }
        self.int_or(key, min, max, min)
    }

    /// An integer in `min..=max`, `default` when absent.
    fn int_or(&mut self, key: &str, min: i64, max: i64, default: i64) -> i64 {
        self.int_opt(key, min, max).unwrap_or(default)
    }

    /// An optional integer in `min..=max`; `None` when absent or refused.
    fn int_opt(&mut self, key: &str, min: i64, max: i64) -> Option<i64> {
        let v = self.map.remove(key)?;
        let loc = json!(["body", key]);
        // Integers past i64 are simply too large; floats and other types are not integers.
        let n = v.as_i64().or_else(|| v.as_u64().map(|_| i64::MAX));
        let Some(n) = n else {
            self.errors.push(error::item(
                "int_type",
                loc,
                "Input should be a valid integer",
                Some(v),
            ));
            return None;
        };
        if n < min {
            self.errors
                .push(bound("greater_than_equal", "ge", loc, min, v));
            None
        } else if n > max {
            self.errors
                .push(bound("less_than_equal", "le", loc, max, v));
            None
        } else {
            Some(n)
        }
    }

    /// A string, empty when absent.
    fn string(&mut self, key: &str) -> String {
        match self.map.remove(key) {
            None => String::new(),
            Some(Value::String(s)) => s,
            Some(other) => {
                self.errors.push(error::item(
                    "string_type",
                    json!(["body", key]),
                    "Input should be a valid string",
                    Some(other),
                ));
                String::new()
            }
        }
    }

    /// An HTTP method to match, uppercased: letters, `*`, or empty (both match any method).
    fn method(&mut self) -> String {
        let m = self.string("method");
        if m == "*" || m.bytes().all(|b| b.is_ascii_alphabetic()) {
            m.to_ascii_uppercase()
        } else {
            self.errors.push(error::item(
                "string_pattern_mismatch",
                json!(["body", "method"]),
                "String should be an HTTP method such as GET, \"*\" or \"\"",
                Some(json!(m)),
            ));
            String::new()
        }
    }

    /// The accumulated errors plus one `extra_forbidden` per unread field.
    fn finish(self) -> Result<(), ApiError> {
        let mut errors = self.errors;
        for (k, v) in self.map {
            errors.push(error::extra_forbidden(json!(["body", k]), v));
        }
        error::check(errors)
    }
}

fn bound(kind: &str, ctx_key: &str, loc: Value, limit: i64, input: Value) -> Value {
    let word = if ctx_key == "ge" {
        "greater than or equal to"
    } else {
        "less than or equal to"
    };
    let mut v = error::item(
        kind,
        loc,
        format!("Input should be {word} {limit}"),
        Some(input),
    );
    if let Some(m) = v.as_object_mut() {
        m.insert("ctx".to_owned(), json!({ ctx_key: limit }));
    }
    v
}

const FAULT_KINDS: &[&str] = &["fail", "rate_limit", "drop", "fail_page"];

/// `POST /_sandbox/faults`: adds one rule, answered 201 with the rule as understood.
async fn faults(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let mut f = Fields::parse(&body, false)?;
    let kind = match f.map.remove("kind") {
        None => {
            f.errors.push(error::missing(json!(["body", "kind"]), None));
            None
        }
        Some(Value::String(k)) if FAULT_KINDS.contains(&k.as_str()) => Some(k),
        Some(other) => {
            f.errors
                .push(error::bad_enum(json!(["body", "kind"]), FAULT_KINDS, other));
            None
        }
    };
    let Some(kind) = kind else {
        // Which other fields are allowed depends on the kind: report the kind alone.
        return Err(ApiError::Validation(f.errors));
    };
    let control = app.control();
    let rule = if kind == "fail_page" {
        let path = f.string("path_contains");
        let page = f.int("page", 1, i64::from(u32::MAX));
        let status = f.int("status", 400, 599);
        f.finish()?;
        control.fail_page(&path, to_u32(page), to_u16(status));
        json!({ "kind": kind, "path_contains": path, "page": page, "status": status })
    } else {
        let method = f.method();
        let path = f.string("path_contains");
        let times = f.int_or("times", 1, MAX_TIMES, 1);
        let mut rule =
            json!({ "kind": kind, "method": method, "path_contains": path, "times": times });
        let times = to_u32(times);
        match kind.as_str() {
            "fail" => {
                let status = f.int("status", 400, 599);
                f.finish()?;
                control.fail_next(&method, &path, to_u16(status), times);
                rule["status"] = json!(status);
            }
            "rate_limit" => {
                let secs = f
                    .int_opt("retry_after_secs", 0, 86_400)
                    .and_then(|s| u64::try_from(s).ok());
                f.finish()?;
                control.rate_limit_next(&method, &path, secs, times);
                rule["retry_after_secs"] = json!(secs);
            }
            _ => {
                f.finish()?;
                control.drop_next(&method, &path, times);
            }
        }
        rule
    };
    Ok(json_response(StatusCode::CREATED, rule))
}

/// `POST /_sandbox/clock/advance` with `{"seconds": n}`: answers the new virtual time.
async fn advance_clock(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let mut f = Fields::parse(&body, false)?;
    let seconds = f.int("seconds", 0, MAX_ADVANCE_SECS);
    f.finish()?;
    let seconds = u64::try_from(seconds).unwrap_or(0);
    app.control()
        .advance_clock(std::time::Duration::from_secs(seconds));
    let now = app.shared.lock().sys.now();
    Ok(json_response(
        StatusCode::OK,
        json!({ "advanced_seconds": seconds, "now": fmt_z(now) }),
    ))
}

/// `POST /_sandbox/latency` with `{"milliseconds": n}`: the delay before every API request.
async fn latency(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let mut f = Fields::parse(&body, false)?;
    let ms = f.int("milliseconds", 0, MAX_LATENCY_MS);
    f.finish()?;
    let ms = u64::try_from(ms).unwrap_or(0);
    app.control()
        .set_latency(std::time::Duration::from_millis(ms));
    Ok(json_response(StatusCode::OK, json!({ "milliseconds": ms })))
}

/// `POST /_sandbox/steps` with `{"polls": n}`: how many polls later operations and runs take.
async fn steps(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let mut f = Fields::parse(&body, false)?;
    let polls = f.int("polls", 0, MAX_STEPS);
    f.finish()?;
    let polls = to_u32(polls);
    app.control().set_steps(polls);
    Ok(json_response(StatusCode::OK, json!({ "polls": polls })))
}

/// `GET /_sandbox/requests?method=&path_contains=`: how many API requests matched so far.
async fn requests(State(app): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    for (k, v) in &ctx.query {
        if k != "method" && k != "path_contains" {
            errors.push(error::extra_forbidden(json!(["query", k]), json!(v)));
        }
    }
    error::check(errors)?;
    let method = ctx.get("method").unwrap_or_default();
    let path = ctx.get("path_contains").unwrap_or_default();
    let count = app.control().request_count(method, path);
    Ok(json_response(
        StatusCode::OK,
        json!({ "method": method, "path_contains": path, "count": count }),
    ))
}

/// `POST /_sandbox/reset` (no body, or `{}`): drops every fault rule and the request log, and
/// restores no latency and two-poll steps. Data and the clock are kept.
async fn reset(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    Fields::parse(&body, true)?.finish()?;
    app.control().reset();
    Ok(json_response(StatusCode::OK, json!({ "reset": true })))
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn to_u16(n: i64) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}
