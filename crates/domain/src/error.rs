//! The one error type at the boundary between the front ends and the backends.
//!
//! Every variant's message says what went wrong, in no front end's words; [`Error::next_step`]
//! says what to do next, as data. Front ends translate both at their own edge (tool errors, exit
//! codes, HTTP statuses; a tool call, a `bdi` command or a route for the next step) and nowhere
//! else.
//! No variant ever carries a token.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::next_step::NextStep;
use crate::throttle::Limit;

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
        /// Which limit refused: the data flow's, the user's, or the platform's.
        limit: Limit,
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
    /// The store that coordinates replicas (their run limits and locks) cannot be reached, so
    /// nothing was sent upstream: a replica never falls back to deciding alone.
    #[error("coordination unavailable: {0}")]
    Unavailable(String),
    /// The response could not be decoded.
    #[error("could not decode the response at `{path}`: {message}")]
    Decode {
        /// The JSON path of the failing field.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A listing did not end within the most pages a sweep reads: stopped rather than return
    /// part of it as if it were all of it ([`crate::paging::sweep`]).
    #[error("the listing did not end within {pages} pages: stopped rather than return part of it")]
    PagingCap {
        /// The pages read, the cap.
        pages: u32,
    },
    /// A wait ran out of time before the work finished; the work goes on upstream.
    #[error("{0}")]
    Timeout(String),
    /// The caller cancelled the wait; the work goes on upstream.
    #[error("cancelled: {0}")]
    Cancelled(String),
    /// A run trigger failed in a way that does not say whether the run started (a transport
    /// error, a timeout or a 5xx), and no new run showed up yet: never retry it blindly.
    #[error("{cause}; the run of data flow {data_flow} may or may not have started")]
    RunUncertain {
        /// The data flow.
        data_flow: String,
        /// An RFC 3339 time a little before the trigger: look for runs started since.
        since: String,
        /// The failure of the trigger.
        cause: Box<Error>,
    },
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

/// The field of [`Error::InvalidInput`] when an update would erase a connection's stored
/// credentials (the API never returns them): its next step is [`NextStep::KeepCredentials`].
pub const STORED_CREDENTIALS: &str = "stored_credentials";

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
            Self::Unavailable(_) => "unavailable",
            Self::Decode { .. } => "decode",
            Self::PagingCap { .. } => "paging_cap",
            Self::Timeout(_) => "timeout",
            Self::Cancelled(_) => "cancelled",
            Self::RunUncertain { cause, .. } => cause.code(),
        }
    }

    /// What to do next, when there is something useful to say; each front end says it in its
    /// own words.
    pub fn next_step(&self) -> Option<NextStep> {
        Some(match self {
            Self::Config(_) => NextStep::Configure,
            Self::InvalidInput { field, message }
                if field == "environment_id" && message == EMPTY_ENVIRONMENT_ID =>
            {
                NextStep::PickEnvironment
            }
            Self::InvalidInput { field, .. } if field == STORED_CREDENTIALS => {
                NextStep::KeepCredentials
            }
            Self::InvalidInput { .. } => NextStep::FixInput,
            Self::Unauthorized { .. } => NextStep::CheckToken,
            Self::Forbidden { .. } => NextStep::GetScopes,
            Self::NotFound { .. } => NextStep::CheckIds,
            Self::Validation { detail, .. } => {
                if detail.iter().any(|d| d.kind == "extra_forbidden") {
                    NextStep::RemoveServerFields
                } else {
                    NextStep::FixFields
                }
            }
            Self::State { conflict, .. } => match conflict {
                StateConflict::ActiveFlow => NextStep::DisableFirst,
                StateConflict::LegacyFlow => NextStep::LegacyFlow,
                StateConflict::NotActive => NextStep::ActivateFirst,
                StateConflict::NoTables => NextStep::SetSourceTablesFirst,
                StateConflict::LogicFlow => NextStep::LogicFlowsStayActive,
            },
            Self::RateLimited { retry_after, .. } => NextStep::RetryAfter(*retry_after),
            Self::OperationFailed { .. } => NextStep::ReadOperationError,
            Self::Upstream { status, .. } if *status >= 500 => NextStep::RetryLater,
            Self::Upstream { .. } => return None,
            Self::Transport(_) => NextStep::CheckNetwork,
            Self::Unavailable(_) => NextStep::RetryLater,
            Self::Decode { .. } | Self::PagingCap { .. } => NextStep::Report,
            Self::Timeout(_) | Self::Cancelled(_) => NextStep::FollowUp,
            Self::RunUncertain {
                data_flow, since, ..
            } => NextStep::CheckRunsSince {
                data_flow: data_flow.clone(),
                since: since.clone(),
            },
        })
    }

    /// True for failures worth retrying later (429, 5xx, transport).
    pub fn is_transient(&self) -> bool {
        match self {
            // A run that may have started is never tried again blindly.
            Self::RunUncertain { .. } => false,
            Self::RateLimited { .. } | Self::Transport(_) | Self::Unavailable(_) => true,
            Self::Upstream { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Result alias for the domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;
