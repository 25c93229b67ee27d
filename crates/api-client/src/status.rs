//! Maps an upstream error response (status and body) to the domain's [`Error`].
//!
//! 400s are classified by their message, because the upstream uses one status for several
//! state conflicts (active flow, legacy flow, not active, no tables, logic flow).

use std::time::Duration;

use bdi_domain::{Error, Limit, StateConflict, ValidationDetail};
use serde_json::Value;

/// The longest body excerpt kept in an error.
pub(crate) const MAX_BODY_CHARS: usize = 500;

/// Which operation answered, so that an ambiguous 400 can be read in context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// Anything without a special 400 reading.
    #[default]
    Other,
    /// `GET rivers/{id}`: a 400 means a legacy (console-created) flow.
    GetFlow,
    /// `PUT rivers/{id}`.
    UpdateFlow,
    /// `DELETE rivers/{id}`: a 400 about "active" means the flow must be disabled first.
    DeleteFlow,
    /// `POST rivers/{id}/activate_river` or `disable_river`.
    ToggleFlow,
    /// `POST rivers/{id}/run`.
    RunFlow,
}

/// The message carried by an error body: `detail` (a string, or a summary of a pydantic list),
/// `message`, `error_message`, else the raw body, trimmed and cut to [`MAX_BODY_CHARS`].
pub(crate) fn message_of(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => {
            for key in ["detail", "message", "error_message", "error", "details"] {
                match map.get(key) {
                    Some(Value::String(s)) if !s.trim().is_empty() => return truncate(s.trim()),
                    Some(Value::Array(items)) if !items.is_empty() => {
                        let parts: Vec<String> = items
                            .iter()
                            .map(|i| match i {
                                Value::String(s) => s.clone(),
                                Value::Object(o) => o
                                    .get("msg")
                                    .and_then(Value::as_str)
                                    .map_or_else(|| i.to_string(), str::to_owned),
                                other => other.to_string(),
                            })
                            .collect();
                        return truncate(&parts.join("; "));
                    }
                    _ => {}
                }
            }
            truncate(body.trim())
        }
        Ok(Value::String(s)) => truncate(s.trim()),
        _ => truncate(body.trim()),
    }
}

/// The pydantic `detail` list of a 422 body, if it has one.
pub(crate) fn detail_of(body: &str) -> Vec<ValidationDetail> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    match map.get("detail") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| serde_json::from_value::<ValidationDetail>(i.clone()).ok())
            .collect(),
        _ => Vec::new(),
    }
}

/// Cuts `s` to at most [`MAX_BODY_CHARS`] characters.
pub(crate) fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_BODY_CHARS) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

/// The state conflict a 400 message describes, read in the context of `kind`.
pub(crate) fn conflict_of(kind: CallKind, message: &str) -> Option<StateConflict> {
    let m = message.to_ascii_lowercase();
    let has = |needle: &str| m.contains(needle);
    if has("not supported for logic") {
        return Some(StateConflict::LogicFlow);
    }
    if has("can not update properties for an active")
        || has("cannot update properties for an active")
        || has("please disable the data flow")
        || has("please disable the river")
    {
        return Some(StateConflict::ActiveFlow);
    }
    if has("is_api_v2") || has("created in the ui") || has("legacy") {
        return Some(StateConflict::LegacyFlow);
    }
    match kind {
        // The detail GET takes no input, so its only 400 is the legacy-flow refusal.
        CallKind::GetFlow => Some(StateConflict::LegacyFlow),
        CallKind::DeleteFlow if has("active") && !has("not active") && !has("inactive") => {
            Some(StateConflict::ActiveFlow)
        }
        CallKind::RunFlow => {
            if has("not active") || has("inactive") || has("disabled") || has("not activated") {
                Some(StateConflict::NotActive)
            } else if has("table") || has("schema") {
                Some(StateConflict::NoTables)
            } else if has("activ") {
                Some(StateConflict::NotActive)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Maps a non-2xx response to an [`Error`]. `what` names the resource for a 404 (`data flow
/// 5f...`); `retry_after` is the response's parsed `Retry-After`.
pub(crate) fn classify(
    status: u16,
    body: &str,
    kind: CallKind,
    what: &str,
    retry_after: Option<Duration>,
) -> Error {
    let message = message_of(body);
    match status {
        401 => Error::Unauthorized {
            message: or_default(message, "the token was refused"),
        },
        403 => Error::Forbidden {
            message: or_default(message, "the token does not allow this call"),
        },
        404 => Error::NotFound {
            what: what.to_owned(),
            message: or_default(message, "not found"),
        },
        422 => {
            let detail = detail_of(body);
            Error::Validation {
                status,
                message: or_default(message, "the request was refused"),
                detail,
            }
        }
        429 => Error::RateLimited {
            retry_after,
            limit: Limit::Upstream,
            message: or_default(message, "too many requests"),
        },
        400 => match conflict_of(kind, &message) {
            Some(conflict) => Error::State { conflict, message },
            None => Error::Validation {
                status,
                message: or_default(message, "bad request"),
                detail: detail_of(body),
            },
        },
        _ => Error::Upstream {
            status,
            body: truncate(body.trim()),
        },
    }
}

fn or_default(message: String, default: &str) -> String {
    if message.is_empty() {
        default.to_owned()
    } else {
        message
    }
}

#[cfg(test)]
mod tests;
