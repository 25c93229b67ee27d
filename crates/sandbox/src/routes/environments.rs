//! `GET /v1/accounts/{account_id}/environments` (section 4.6).
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, json};

use super::json_response;
use crate::AppState;
use crate::error::{self, ApiError};
use crate::http::Ctx;

pub(crate) async fn list(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let paging = ctx.paging(20, 500, &mut errors);
    ctx.bool_param("include_deleted", &mut errors);
    ctx.bool_param("is_deployable_environments", &mut errors);
    error::check(errors)?;
    if account_id != app.shared.config.account_id {
        return Err(ApiError::forbidden(
            "the token is not authorized to access this account",
        ));
    }
    let inner = app.shared.lock();
    let items = inner.envs.iter().map(|e| e.json(&account_id)).collect();
    let mut extra = Map::new();
    extra.insert("account_id".to_owned(), json!(account_id));
    Ok(json_response(
        StatusCode::OK,
        ctx.envelope(paging, items, extra),
    ))
}
