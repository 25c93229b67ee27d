//! The one error type at the boundary between the front ends and the backends.
//!
//! Every variant's message says what went wrong; [`Error::hint`] says what to do next. Front ends
//! translate this enum at their own edge (tool errors, exit codes, HTTP statuses) and nowhere else.
//! No variant ever carries a token.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One item of a FastAPI/pydantic 422 `detail` list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationDetail {
    /// Where the problem is: `["body", "name"]`, `["query", "start_time"]`.
    #[serde(default)]
    pub loc: Vec<serde_json::Value>,
    /// The message.
    #[serde(default)]
    pub msg: String,
    /// The pydantic error type (`missing`, `extra_forbidden`, ...).
    #[serde(default, rename = "type")]
    pub kind: String,
}

impl fmt::Display for ValidationDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc: Vec<String> = self
            .loc
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        write!(f, "{}: {} ({})", loc.join("."), self.msg, self.kind)
    }
}

/// A resource state that forbids the requested operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateConflict {
    /// The data flow is active: disable it before deleting it or changing locked properties.
    ActiveFlow,
    /// The data flow was created in the legacy console (`is_api_v2=false`) and the API cannot read it.
    LegacyFlow,
    /// The data flow is not active yet, so it cannot run.
    NotActive,
    /// The data flow has no source tables selected, so it cannot run.
    NoTables,
    /// Logic flows are always active and cannot be disabled.
    LogicFlow,
}

/// Errors surfaced by a [`crate::Backend`] or by the domain logic.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is missing or wrong (no token, no account id, bad base URL).
    #[error("configuration error: {0}")]
    Config(String),
    /// The caller's input was refused before any request was made.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The parameter at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The token was refused (401).
    #[error("authentication failed: {message}")]
    Unauthorized {
        /// The upstream's message.
        message: String,
    },
    /// The token lacks a scope or does not cover this account or environment (403).
    #[error("permission denied: {message}")]
    Forbidden {
        /// The upstream's message.
        message: String,
    },
    /// The resource does not exist (404).
    #[error("{what} not found: {message}")]
    NotFound {
        /// What was looked for, e.g. `data flow 5f...`.
        what: String,
        /// The upstream's message.
        message: String,
    },
    /// The upstream refused the request body or query (422, or a 400 without a known cause).
    #[error("{}", validation_message(*status, message, detail))]
    Validation {
        /// 400 or 422.
        status: u16,
        /// The message (a summary of the detail list for 422).
        message: String,
        /// The parsed pydantic detail list (empty for plain messages).
        detail: Vec<ValidationDetail>,
    },
    /// The resource's state forbids the operation (active flow, legacy flow, ...).
    #[error("{message}")]
    State {
        /// Which state is at fault.
        conflict: StateConflict,
        /// The upstream's message, verbatim.
        message: String,
    },
    /// Too many requests: the upstream answered 429, or the local throttle refused.
    #[error("rate limited: {message}")]
    RateLimited {
        /// How long to wait before trying again, when known.
        retry_after: Option<Duration>,
        /// What limit was hit.
        message: String,
    },
    /// An asynchronous operation ended in error (status `E`).
    #[error("operation {operation_id} failed: {message}")]
    OperationFailed {
        /// The operation id.
        operation_id: String,
        /// The operation's `error_message`.
        message: String,
    },
    /// The upstream failed (5xx or an unexpected status).
    #[error("upstream error {status}: {body}")]
    Upstream {
        /// The HTTP status.
        status: u16,
        /// The first 500 characters of the body.
        body: String,
    },
    /// The request could not be sent or its response not read (connection, timeout, TLS).
    #[error("transport error: {0}")]
    Transport(String),
    /// The response could not be decoded.
    #[error("could not decode the response at `{path}`: {message}")]
    Decode {
        /// The JSON path of the failing field.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A wait ran out of time before the work finished; the work goes on upstream.
    #[error("{0}")]
    Timeout(String),
    /// The caller cancelled the wait; the work goes on upstream.
    #[error("cancelled: {0}")]
    Cancelled(String),
}

/// How many characters of a caller's input an error message quotes at most.
pub const QUOTE_CHARS: usize = 200;

/// A caller's input as error messages quote it: between backticks, and cut to [`QUOTE_CHARS`]
/// characters with an ellipsis and the original length when it is longer, so that a huge input
/// never comes back whole (into an agent's context, a terminal or a response body).
pub fn quote(input: &str) -> String {
    match input.char_indices().nth(QUOTE_CHARS) {
        None => format!("`{input}`"),
        Some((cut, _)) => format!(
            "`{}…` ({} characters)",
            &input[..cut],
            input.chars().count()
        ),
    }
}

/// The message of [`Error::InvalidInput`] for an environment id that is empty or blank.
pub const EMPTY_ENVIRONMENT_ID: &str =
    "is empty; an empty id does not select the default environment";

fn validation_message(status: u16, message: &str, detail: &[ValidationDetail]) -> String {
    if detail.is_empty() {
        format!("request rejected ({status}): {message}")
    } else {
        let items: Vec<String> = detail.iter().map(ToString::to_string).collect();
        format!("request rejected ({status}): {}", items.join("; "))
    }
}

impl Error {
    /// Builds an [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A stable, machine-readable code for the variant.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::InvalidInput { .. } => "invalid_input",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Validation { .. } => "validation",
            Self::State { .. } => "state_conflict",
            Self::RateLimited { .. } => "rate_limited",
            Self::OperationFailed { .. } => "operation_failed",
            Self::Upstream { .. } => "upstream",
            Self::Transport(_) => "transport",
            Self::Decode { .. } => "decode",
            Self::Timeout(_) => "timeout",
            Self::Cancelled(_) => "cancelled",
        }
    }

    /// What to do next, in one sentence, when there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            Self::Config(_) => {
                "set DATA_INTEGRATION_API_TOKEN and DATA_INTEGRATION_ACCOUNT_ID (and DATA_INTEGRATION_ENVIRONMENT_ID), or start with --sandbox to try it without an account"
                    .to_owned()
            }
            Self::InvalidInput { field, message }
                if field == "environment_id" && message == EMPTY_ENVIRONMENT_ID =>
            {
                "omit environment_id to use the default environment, or give a 24-hex id from list_environments".to_owned()
            }
            Self::InvalidInput { .. } => "correct the parameter and call again".to_owned(),
            Self::Unauthorized { .. } => {
                "check the API token (Settings > API Tokens in the console); it may be expired or deleted".to_owned()
            }
            Self::Forbidden { .. } => {
                "the token lacks the scope for this call or does not cover this environment; mint a token with the right scopes for this account and environment".to_owned()
            }
            Self::NotFound { .. } => {
                "check the id: list_data_flows, list_connections and list_runs return valid ids".to_owned()
            }
            Self::Validation { detail, .. } => {
                if detail.iter().any(|d| d.kind == "extra_forbidden") {
                    "remove the fields the API does not accept (server-managed fields such as cross_id, account_id, group_name; a top-level description belongs in metadata.description)".to_owned()
                } else {
                    "fix the fields listed above and call again".to_owned()
                }
            }
            Self::State { conflict, .. } => match conflict {
                StateConflict::ActiveFlow => {
                    "disable the data flow first (disable_data_flow), then retry".to_owned()
                }
                StateConflict::LegacyFlow => {
                    "this data flow was created in the legacy console UI and cannot be read through the API; check is_api_v2 in list_data_flows".to_owned()
                }
                StateConflict::NotActive => {
                    "activate the data flow first (activate_data_flow with wait=true), then run it".to_owned()
                }
                StateConflict::NoTables => {
                    "select source tables first (set_data_flow_source_tables), then run it".to_owned()
                }
                StateConflict::LogicFlow => {
                    "logic flows are always active; delete or update them without disabling".to_owned()
                }
            },
            Self::RateLimited { retry_after, .. } => match retry_after {
                Some(d) => format!(
                    "wait {} s before trying again",
                    crate::throttle::ceil_secs(*d).max(1)
                ),
                None => "wait about 30 s before trying again".to_owned(),
            },
            Self::OperationFailed { .. } => {
                "read error_message; for activation, check that the source and target connections are reachable and the flow was saved once after creation".to_owned()
            }
            Self::Upstream { status, .. } if *status >= 500 => {
                "the platform failed; try again in a minute".to_owned()
            }
            Self::Upstream { .. } => return None,
            Self::Transport(_) => {
                "check the network and the base URL (DATA_INTEGRATION_API_URL or the region)".to_owned()
            }
            Self::Decode { .. } => {
                "the platform answered in an unexpected shape; report it with the path above".to_owned()
            }
            Self::Timeout(_) | Self::Cancelled(_) => {
                "the work continues upstream; check it later with get_run or get_operation".to_owned()
            }
        };
        Some(h)
    }

    /// True for failures worth retrying later (429, 5xx, transport).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Transport(_) => true,
            Self::Upstream { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Result alias for the domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;
