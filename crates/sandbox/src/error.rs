//! Error responses in the upstream's shapes: FastAPI `{"detail": "message"}` for business errors
//! and pydantic `{"detail": [{"type", "loc", "msg", "input"?}]}` for 422 validation failures.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answer from a handler.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// `{"detail": "message"}` with the given status.
    Detail(StatusCode, String),
    /// 422 with a pydantic detail list.
    Validation(Vec<Value>),
}

impl ApiError {
    pub(crate) fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::Detail(StatusCode::BAD_REQUEST, msg.into())
    }

    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        ApiError::Detail(StatusCode::NOT_FOUND, msg.into())
    }

    pub(crate) fn forbidden(msg: impl Into<String>) -> Self {
        ApiError::Detail(StatusCode::FORBIDDEN, msg.into())
    }

    pub(crate) fn too_many(msg: impl Into<String>) -> Self {
        ApiError::Detail(StatusCode::TOO_MANY_REQUESTS, msg.into())
    }

    /// A single-item 422.
    pub(crate) fn invalid(item: Value) -> Self {
        ApiError::Validation(vec![item])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Detail(status, msg) => {
                (status, Json(json!({ "detail": msg }))).into_response()
            }
            ApiError::Validation(items) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "detail": items })),
            )
                .into_response(),
        }
    }
}

/// One pydantic error item. `input` is omitted when `None`.
pub(crate) fn item(kind: &str, loc: Value, msg: impl Into<String>, input: Option<Value>) -> Value {
    let mut v = json!({ "type": kind, "loc": loc, "msg": msg.into() });
    if let (Some(input), Some(map)) = (input, v.as_object_mut()) {
        map.insert("input".to_owned(), input);
    }
    v
}

/// `missing`: a required field is absent.
pub(crate) fn missing(loc: Value, input: Option<Value>) -> Value {
    item("missing", loc, "Field required", input)
}

/// `extra_forbidden`: an unknown or forbidden field was sent.
pub(crate) fn extra_forbidden(loc: Value, input: Value) -> Value {
    item(
        "extra_forbidden",
        loc,
        "Extra inputs are not permitted",
        Some(input),
    )
}

/// `enum`: a value outside an enumeration; `allowed` is rendered pydantic's way.
pub(crate) fn bad_enum(loc: Value, allowed: &[&str], input: Value) -> Value {
    let quoted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    let expected = match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    let mut v = item(
        "enum",
        loc,
        format!("Input should be {expected}"),
        Some(input),
    );
    if let Some(map) = v.as_object_mut() {
        map.insert("ctx".to_owned(), json!({ "expected": expected }));
    }
    v
}

/// Turns accumulated validation items into a result.
pub(crate) fn check(errors: Vec<Value>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}
