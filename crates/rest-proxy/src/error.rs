//! The gateway's error responses: one JSON shape, `{"error": {"code", "message", "hint",
//! "upstream_detail"?}}`, mapped from [`bdi_domain::Error`] at this edge and nowhere else.
//!
//! Client-caused errors keep their message; internal failures become a 500 with a generic message
//! and the real error goes to the log only.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bdi_domain::{Error, NextStep};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::scopes::Scope;

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong and what to do next.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code (`unauthorized`, `missing_scope`, `not_found`,
    /// `validation`, `rate_limited`, ...).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// What to do next, when there is something useful to say.
    pub hint: Option<String>,
    /// What the platform said (the 422 detail list, a 4xx body, or its text), when it said
    /// something useful: any JSON value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Value)]
    pub upstream_detail: Option<Value>,
}

/// An error on its way to becoming a response.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body (boxed: errors travel in `Result`s and should be small).
    pub body: Box<ErrorBody>,
    /// `Retry-After`, for 429.
    pub retry_after: Option<Duration>,
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with this status, code and message, and no hint.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody {
                error: ErrorDetail {
                    code: code.to_owned(),
                    message: message.into(),
                    hint: None,
                    upstream_detail: None,
                },
            }),
            retry_after: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.body.error.hint = Some(hint.into());
        self
    }

    /// 401: no usable key was sent.
    pub fn missing_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "no gateway key: send `Authorization: Bearer <key>`",
        )
        .with_hint("ask the gateway's operator for a key (bdi-gateway keys new)")
    }

    /// 401: the key matches no entry of the keys file.
    pub fn bad_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the gateway key is not valid",
        )
        .with_hint("check the key; a key is shown only once, when it is created")
    }

    /// 403: the key lacks `scope`.
    pub fn missing_scope(key: &str, scope: Scope) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "missing_scope",
            format!("the key `{key}` lacks the scope `{scope}`"),
        )
        .with_hint(format!("use a key with the scope `{scope}`"))
    }

    /// 403: the key may not touch this environment.
    pub fn environment_not_allowed(key: &str, env: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "environment_not_allowed",
            format!("the key `{key}` may not touch environment {env}"),
        )
        .with_hint("use a key that lists this environment, or one without an environment limit")
    }

    /// 404 for a path the gateway does not serve, or an account it does not hold.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 422 for a query or body the gateway refuses before any call, in the upstream's style.
    pub fn validation(loc: &[&str], kind: &str, msg: &str) -> Self {
        let detail = serde_json::json!([{ "loc": loc, "msg": msg, "type": kind }]);
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            format!("request rejected (422): {}: {msg} ({kind})", loc.join(".")),
        )
        .with_hint("fix the fields listed above and call again");
        e.body.error.upstream_detail = Some(detail);
        e
    }

    /// 400 for a bad parameter.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::from(Error::invalid(field, message))
    }

    /// 415: the body of a JSON route is sent as another media type (or with none).
    pub fn unsupported_media_type(accepted: &[&str], sent: Option<&str>) -> Self {
        let accepted = accepted.join(" or ");
        let message = match sent {
            Some(sent) => format!("this route takes a body of type {accepted}, not `{sent}`"),
            None => {
                format!("this route takes a body of type {accepted}, and no Content-Type was sent")
            }
        };
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
        .with_hint(format!("send the body with Content-Type: {accepted}"))
    }

    /// 504: the route did not answer within its deadline (the work may go on upstream).
    pub fn deadline_exceeded(deadline: Duration) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            format!(
                "the request did not finish within {} s",
                ceil_secs(deadline)
            ),
        )
        .with_hint("a write may still take effect upstream: read the resource before trying again")
    }

    /// The shaped error of a response that left a layer without a body (the router's 405, the
    /// body limit's 413, an extractor's rejection): the status with the gateway's shape.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message, hint) = match status {
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this path does not take this method",
                Some("the Allow header lists the methods it takes; see /openapi.json"),
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload_too_large",
                "the request body is too large",
                Some("send a smaller body"),
            ),
            StatusCode::URI_TOO_LONG => (
                "uri_too_long",
                "the request URI is too long",
                Some("shorten the path and query"),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "the request body's media type is not accepted",
                Some("send the body as application/json"),
            ),
            StatusCode::GATEWAY_TIMEOUT => ("timeout", "the request did not finish in time", None),
            StatusCode::NOT_FOUND => ("not_found", "not found", None),
            s if s.is_server_error() => ("internal", "internal error", None),
            _ => (
                "bad_request",
                "the request could not be read",
                Some("check the path, query and body against /openapi.json"),
            ),
        };
        let mut e = Self::new(status, code, message);
        e.body.error.hint = hint.map(str::to_owned);
        e
    }

    /// 500 with no detail; the cause is logged, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
        .with_hint("try again; if it persists, tell the gateway's operator")
    }

    /// The code.
    pub fn code(&self) -> &str {
        &self.body.error.code
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        // A run that may have started: the cause's status, and the caller told to look before
        // triggering again (whatever of the cause's text is withheld).
        let err = match err {
            Error::RunUncertain {
                data_flow,
                since,
                cause,
            } => {
                let mut inner = Self::from(*cause);
                let detail = &mut inner.body.error;
                detail.message = format!(
                    "{}; the run of data flow {data_flow} may or may not have started",
                    detail.message
                );
                detail.hint = Some(next_step_hint(&NextStep::CheckRunsSince {
                    data_flow,
                    since,
                }));
                return inner;
            }
            other => other,
        };
        let code = err.code();
        let hint = err.next_step().map(|s| next_step_hint(&s));
        let (status, message, detail, retry_after) = match &err {
            Error::Config(_) => return Self::internal(&err),
            Error::InvalidInput { .. } => (StatusCode::BAD_REQUEST, err.to_string(), None, None),
            // The upstream refused the gateway's own token: the caller can do nothing about it.
            Error::Unauthorized { .. } => {
                tracing::error!(error = %err, "the upstream refused the gateway's token");
                return Self::new(
                    StatusCode::BAD_GATEWAY,
                    code,
                    "the platform refused the gateway's credentials",
                )
                .with_hint(
                    "tell the gateway's operator: its upstream token is expired or deleted",
                );
            }
            Error::Forbidden { .. } => (StatusCode::FORBIDDEN, err.to_string(), None, None),
            Error::NotFound { .. } => (StatusCode::NOT_FOUND, err.to_string(), None, None),
            Error::Validation { status, detail, .. } => {
                let st = StatusCode::from_u16(*status)
                    .ok()
                    .filter(StatusCode::is_client_error)
                    .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                let d = (!detail.is_empty())
                    .then(|| serde_json::to_value(detail).ok())
                    .flatten();
                (st, err.to_string(), d, None)
            }
            Error::State { .. } => (StatusCode::BAD_REQUEST, err.to_string(), None, None),
            Error::RateLimited { retry_after, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                err.to_string(),
                None,
                Some(retry_after.unwrap_or(Duration::from_secs(30))),
            ),
            Error::OperationFailed { .. } => (StatusCode::BAD_GATEWAY, err.to_string(), None, None),
            Error::Upstream { status, body } if *status < 500 => {
                let st = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
                let d = serde_json::from_str::<Value>(body)
                    .unwrap_or_else(|_| Value::String(body.clone()));
                (st, format!("the platform answered {status}"), Some(d), None)
            }
            Error::Upstream { status, .. } => {
                tracing::warn!(error = %err, "upstream failure");
                (
                    StatusCode::BAD_GATEWAY,
                    format!("the platform failed ({status})"),
                    None,
                    None,
                )
            }
            Error::Transport(_) => {
                tracing::warn!(error = %err, "upstream unreachable");
                (
                    StatusCode::BAD_GATEWAY,
                    "could not reach the platform".to_owned(),
                    None,
                    None,
                )
            }
            Error::Unavailable(_) => {
                tracing::warn!(error = %err, "coordination store unreachable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the gateway cannot reach its coordination store (Redis), so it does not start runs or changes now; reads still work".to_owned(),
                    None,
                    Some(Duration::from_secs(5)),
                )
            }
            Error::Decode { .. } | Error::PagingCap { .. } => {
                (StatusCode::BAD_GATEWAY, err.to_string(), None, None)
            }
            Error::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, err.to_string(), None, None),
            Error::Cancelled(_) => (StatusCode::SERVICE_UNAVAILABLE, err.to_string(), None, None),
            Error::RunUncertain { .. } => (StatusCode::BAD_GATEWAY, err.to_string(), None, None),
        };
        // The hint agrees with the Retry-After header (whole seconds, rounded up).
        let hint = match retry_after {
            Some(after) => Some(format!(
                "wait {} s before trying again (Retry-After)",
                ceil_secs(after).max(1)
            )),
            None => hint,
        };
        Self {
            status,
            body: Box::new(ErrorBody {
                error: ErrorDetail {
                    code: code.to_owned(),
                    message,
                    hint,
                    upstream_detail: detail,
                },
            }),
            retry_after,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.body.error.code.clone();
        let mut response = (self.status, Json(*self.body)).into_response();
        if let Some(after) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&ceil_secs(after).max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response.extensions_mut().insert(ErrorCode(code));
        response
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The error code of a response, for the metrics and audit middleware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorCode(pub String);

/// A next step in an HTTP client's words: the request to send.
pub fn next_step_hint(step: &NextStep) -> String {
    const RIVERS: &str = "/v1/accounts/{account}/environments/{env}/rivers";
    match step {
        NextStep::Configure => "tell the gateway's operator: its upstream configuration is missing".to_owned(),
        NextStep::PickEnvironment => "leave out the environment to use the default one, or give a 24-hex id from GET /v1/accounts/{account}/environments".to_owned(),
        NextStep::FixInput => "correct the parameter and send the request again".to_owned(),
        NextStep::KeepCredentials => "include the connection's credentials in the body again: the platform never returns them, and a write without them clears them".to_owned(),
        NextStep::CheckToken => "tell the gateway's operator: its upstream token may be expired or deleted".to_owned(),
        NextStep::GetScopes => "the gateway's upstream token lacks the scope for this request or does not cover this environment; ask its operator for one that does".to_owned(),
        NextStep::CheckIds => format!("check the id: GET {RIVERS}, GET /v1/accounts/{{account}}/environments/{{env}}/connections and GET {RIVERS}/{{flow}}/runs return valid ids"),
        NextStep::RemoveServerFields => "remove the fields the API does not accept (server-managed fields such as cross_id, account_id, group_name; a top-level description belongs in metadata.description)".to_owned(),
        NextStep::FixFields => "fix the fields listed in upstream_detail and send the request again".to_owned(),
        NextStep::DisableFirst => "disable the data flow first (POST /bdi/v1/environments/{env}/data_flows/{flow}/disable?wait=true), then retry".to_owned(),
        NextStep::LegacyFlow => format!("this data flow was created in the legacy console UI and cannot be read through the API; GET {RIVERS} shows is_api_v2"),
        NextStep::ActivateFirst => "activate the data flow first (POST /bdi/v1/environments/{env}/data_flows/{flow}/activate?wait=true), then run it".to_owned(),
        NextStep::SetSourceTablesFirst => "select source tables first (PUT /bdi/v1/environments/{env}/data_flows/{flow}/source_tables), then run it".to_owned(),
        NextStep::LogicFlowsStayActive => "logic flows are always active; update or delete them without disabling".to_owned(),
        NextStep::RetryAfter(Some(d)) => format!("wait {} s before trying again", ceil_secs(*d).max(1)),
        NextStep::RetryAfter(None) => "wait about 30 s before trying again".to_owned(),
        NextStep::RetryLater => "the platform failed; try again in a minute".to_owned(),
        NextStep::CheckNetwork => "the gateway could not reach the platform; try again in a minute, and tell the gateway's operator if it persists".to_owned(),
        NextStep::Report => "the platform answered in an unexpected shape; tell the gateway's operator".to_owned(),
        NextStep::FollowUp => format!("the work continues upstream; follow it with GET {RIVERS}/{{flow}}/runs/{{run}} or GET /v1/accounts/{{account}}/environments/{{env}}/operations/{{operation}}"),
        NextStep::CheckRunsSince { data_flow, since } => format!("check GET {RIVERS}/{data_flow}/runs?start_time={since} before triggering it again"),
        NextStep::FollowTriggeredRun { data_flow } => format!("do not trigger it again; follow it with GET {RIVERS}/{data_flow}/runs"),
        NextStep::UseFlowConnection { connection } => format!("pass {connection}, or change the data flow's properties.source.connection_id first (PATCH /bdi/v1/environments/{{env}}/data_flows/{{flow}})"),
        NextStep::NameConnectorType => "give the connector type as GET /v1/accounts/{account}/environments/{env}/connections shows it".to_owned(),
        NextStep::ReadOperationError => "read error_message, fix the cause (often a connection or a missing setting), then try again".to_owned(),
        NextStep::SaveThenActivate => "a data flow created through the API must be saved once before it can be activated: save it (PATCH /bdi/v1/environments/{env}/data_flows/{flow} with an empty patch {}), then activate it again".to_owned(),
        NextStep::SetCdcSchedulers => "CDC data flows need one enabled scheduler firing between every 5 minutes and every 24 hours: set schedulers (PATCH /bdi/v1/environments/{env}/data_flows/{flow}), then activate again".to_owned(),
        NextStep::CheckConnections => "a source or target connection could not be reached or refused its credentials: check the connections the data flow uses (GET /v1/accounts/{account}/environments/{env}/connections; test them in the console), then activate again".to_owned(),
    }
}
