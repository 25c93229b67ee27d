//! The route table: every protected route once, with its method, path, scope, success status and
//! documentation. The router ([`crate::app`]) and the OpenAPI document ([`crate::openapi`]) are
//! both built from it, so no route can be served undocumented or documented unserved, and each
//! route's scope is enforced by the same entry that documents it.

pub mod bdi;
pub mod ops;
pub mod params;
pub mod v1;

use std::time::Duration;

use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use bdi_domain::{
    DataFlowId, Decision, Document, Env, EnvironmentId, Error, RunOptions, RunOutcome,
};
use serde_json::Value;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::scopes::Scope;
use crate::state::AppState;

use self::params::Ids;

/// What a successful response carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Produces {
    /// A JSON body.
    Json,
    /// A CSV text body.
    Csv,
    /// JSON, or no body at all (204).
    JsonOrEmpty,
}

/// One protected route.
#[derive(Debug)]
pub struct RouteSpec {
    /// The method.
    pub method: Method,
    /// The path template (axum's and OpenAPI's `{name}` syntax).
    pub path: &'static str,
    /// The OpenAPI operation id.
    pub operation_id: &'static str,
    /// The OpenAPI tag.
    pub tag: &'static str,
    /// One line for people.
    pub summary: &'static str,
    /// The scope the route needs.
    pub scope: Scope,
    /// The success statuses (the first is the usual one).
    pub success: &'static [u16],
    /// The success body.
    pub produces: Produces,
    /// The media types the request body may be sent as; empty when the route takes no body.
    /// A route that takes one answers 415 to any other (or to none).
    pub consumes: &'static [&'static str],
    /// The query parameters the route reads, with a description.
    pub query: &'static [(&'static str, &'static str)],
    /// Whether the route may wait (its deadline is `timeout_seconds`, not the request timeout).
    pub waits: bool,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

const PAGE: &[(&str, &str)] = &[
    ("page", "1-based page number (default 1)"),
    ("items_per_page", "page size"),
];
const ACTIVITY: &[(&str, &str)] = &[
    ("start_time", "window start, UTC, YYYY-MM-DDTHH:MM:SS"),
    ("end_time", "window end, UTC"),
    ("status", "status filter (repeatable)"),
    ("page", "page number (paginated endpoints)"),
    ("items_per_page", "page size (paginated endpoints, 1-200)"),
    ("sort_by", "sort key"),
    ("sort_order", "asc or desc"),
];
const WAIT: &[(&str, &str)] = &[
    ("wait", "wait until the work finishes (default true)"),
    (
        "timeout_seconds",
        "how long to wait, 1-600 (default 60); the work goes on upstream after it",
    ),
];

/// A path under the environment prefix `{E}`.
macro_rules! path {
    ($suffix:literal) => {
        concat!("/v1/accounts/{account}/environments/{env}", $suffix)
    };
}

#[allow(clippy::too_many_arguments)]
fn spec(
    method: Method,
    path: &'static str,
    operation_id: &'static str,
    tag: &'static str,
    summary: &'static str,
    scope: Scope,
    success: &'static [u16],
    handler: MethodRouter<AppState>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        operation_id,
        tag,
        summary,
        scope,
        success,
        produces: Produces::Json,
        consumes: &[],
        query: &[],
        waits: false,
        handler,
    }
}

impl RouteSpec {
    fn query(mut self, q: &'static [(&'static str, &'static str)]) -> Self {
        self.query = q;
        self
    }

    fn consumes(mut self, media_types: &'static [&'static str]) -> Self {
        self.consumes = media_types;
        self
    }

    fn produces(mut self, p: Produces) -> Self {
        self.produces = p;
        self
    }

    fn waits(mut self) -> Self {
        self.waits = true;
        self
    }
}

/// Every protected route.
pub fn table() -> Vec<RouteSpec> {
    use Scope::*;
    const V1: &str = "v1 pass-through";
    const BDI: &str = "gateway operations";
    const JSON: &[&str] = &["application/json"];
    vec![
        spec(
            Method::GET,
            path!("/operations/{operation}"),
            "get_operation",
            V1,
            "An asynchronous operation's status",
            OperationsList,
            &[200],
            get(v1::get_operation),
        ),
        spec(
            Method::GET,
            path!("/rivers/{flow}/runs"),
            "list_runs",
            V1,
            "One page of a data flow's runs in a time window",
            ActivityList,
            &[200],
            get(v1::list_runs),
        )
        .query(&[
            ("start_time", "window start (required)"),
            ("end_time", "window end (required)"),
            ("target_name", "target table"),
            ("run_group_id", "run group"),
            ("sub_river_id", "sub data flow"),
            ("page", "page number"),
            ("items_per_page", "1-200, default 20"),
            ("sort_by", "start_time, units or table_name"),
            ("sort_order", "asc or desc"),
        ]),
        spec(
            Method::GET,
            path!("/rivers/{flow}/runs/{run}"),
            "get_run",
            V1,
            "One run, by run id or run group id",
            ActivityList,
            &[200],
            get(v1::get_run),
        ),
        spec(
            Method::GET,
            path!("/rivers/{flow}/runs/{run}/logs"),
            "get_run_logs",
            V1,
            "A run's log as CSV text",
            ActivityList,
            &[200],
            get(v1::get_run_logs),
        )
        .produces(Produces::Csv),
        spec(
            Method::POST,
            path!("/rivers"),
            "create_data_flow",
            V1,
            "Create a data flow from a full write document",
            DataFlowWrite,
            &[201],
            post(v1::create_data_flow),
        )
        .consumes(JSON),
        spec(
            Method::GET,
            path!("/rivers"),
            "list_data_flows",
            V1,
            "One page of data flows (list shape)",
            DataFlowList,
            &[200],
            get(v1::list_data_flows),
        )
        .query(&[
            ("page", "page number"),
            ("items_per_page", "1-500, default 20"),
            ("name", "name filter"),
            ("river_status", "active or disabled (repeatable)"),
            ("group_name", "group name"),
            ("group_id", "group id (repeatable)"),
            ("river_type", "type (repeatable)"),
            ("include_deleted", "include deleted flows"),
            ("sort_by", "sort key"),
            ("sort_order", "asc or desc"),
        ]),
        spec(
            Method::GET,
            path!("/rivers/{flow}"),
            "get_data_flow",
            V1,
            "A data flow's full document",
            DataFlowList,
            &[200],
            get(v1::get_data_flow),
        ),
        spec(
            Method::PUT,
            path!("/rivers/{flow}"),
            "update_data_flow",
            V1,
            "Replace a data flow's document",
            DataFlowWrite,
            &[200],
            put(v1::update_data_flow),
        )
        .consumes(JSON),
        spec(
            Method::DELETE,
            path!("/rivers/{flow}"),
            "delete_data_flow",
            V1,
            "Delete a data flow (disable it first)",
            DataFlowWrite,
            &[200],
            delete(v1::delete_data_flow),
        ),
        spec(
            Method::POST,
            path!("/rivers/{flow}/activate_river"),
            "activate_river",
            V1,
            "Start activating a data flow: 202 with the operation, 204 when already active",
            DataFlowWrite,
            &[202, 204],
            post(v1::activate_river),
        )
        .produces(Produces::JsonOrEmpty),
        spec(
            Method::POST,
            path!("/rivers/{flow}/disable_river"),
            "disable_river",
            V1,
            "Start disabling a data flow: 202 with the operation, 204 when already disabled",
            DataFlowWrite,
            &[202, 204],
            post(v1::disable_river),
        )
        .produces(Produces::JsonOrEmpty),
        spec(
            Method::POST,
            path!("/rivers/{flow}/run"),
            "run_river",
            V1,
            "Trigger a run (throttled: 2 a minute per data flow, 15 a minute per key)",
            DataFlowExecute,
            &[202],
            post(v1::run_river),
        )
        .query(&[("run_sub_rivers", "also run the active sub data flows")]),
        spec(
            Method::GET,
            "/v1/accounts/{account}/environments",
            "list_environments",
            V1,
            "The account's environments (only the allowed ones for a limited key)",
            EnvironmentList,
            &[200],
            get(v1::list_environments),
        )
        .query(&[
            ("page", "page number"),
            ("items_per_page", "1-500, default 20"),
            ("include_deleted", "include deleted environments"),
        ]),
        spec(
            Method::GET,
            path!("/connections"),
            "list_connections",
            V1,
            "One page of connections",
            ConnectionList,
            &[200],
            get(v1::list_connections),
        )
        .query(PAGE),
        spec(
            Method::POST,
            path!("/connections"),
            "create_connection",
            V1,
            "Create a connection (flat body)",
            ConnectionEdit,
            &[201],
            post(v1::create_connection),
        )
        .consumes(JSON),
        spec(
            Method::GET,
            path!("/connections/{connection}"),
            "get_connection",
            V1,
            "One connection (secrets omitted)",
            ConnectionList,
            &[200],
            get(v1::get_connection),
        ),
        spec(
            Method::PUT,
            path!("/connections/{connection}"),
            "update_connection",
            V1,
            "Replace a connection (a body without credentials clears them)",
            ConnectionEdit,
            &[200],
            put(v1::update_connection),
        )
        .consumes(JSON),
        spec(
            Method::DELETE,
            path!("/connections/{connection}"),
            "delete_connection",
            V1,
            "Delete a connection",
            ConnectionDelete,
            &[200],
            delete(v1::delete_connection),
        ),
        spec(
            Method::GET,
            path!("/variables"),
            "list_variables",
            V1,
            "The environment's variables",
            VariablesList,
            &[200],
            get(v1::list_variables),
        ),
        spec(
            Method::PUT,
            path!("/variables"),
            "upsert_variables",
            V1,
            "Merge variables into the environment's",
            VariablesEdit,
            &[201],
            put(v1::upsert_variables),
        )
        .consumes(JSON),
        spec(
            Method::GET,
            path!("/activities_statistics"),
            "activities_statistics",
            V1,
            "Environment-wide RPU and run counts",
            ActivityList,
            &[200],
            get(v1::activities_statistics),
        )
        .query(ACTIVITY),
        spec(
            Method::GET,
            path!("/activities"),
            "activities",
            V1,
            "Activity summary per data flow",
            ActivityList,
            &[200],
            get(v1::activities),
        )
        .query(ACTIVITY),
        spec(
            Method::GET,
            path!("/rivers/{flow}/activities_statistics"),
            "data_flow_statistics",
            V1,
            "One data flow's RPU and run counts",
            ActivityList,
            &[200],
            get(v1::data_flow_statistics),
        )
        .query(ACTIVITY),
        spec(
            Method::GET,
            path!("/rivers/{flow}/activities_targets"),
            "data_flow_targets",
            V1,
            "Per target table status",
            ActivityList,
            &[200],
            get(v1::data_flow_targets),
        )
        .query(ACTIVITY),
        spec(
            Method::GET,
            path!("/rivers/{flow}/activities_run_groups"),
            "data_flow_run_groups",
            V1,
            "A data flow's run groups",
            ActivityList,
            &[200],
            get(v1::data_flow_run_groups),
        )
        .query(ACTIVITY),
        spec(
            Method::GET,
            path!("/rivers/{flow}/activities_run_groups/{group}"),
            "data_flow_run_group",
            V1,
            "One run group with counts",
            ActivityList,
            &[200],
            get(v1::data_flow_run_group),
        ),
        spec(
            Method::GET,
            path!("/rivers/{flow}/activities_sub_rivers"),
            "data_flow_sub_flows",
            V1,
            "Sub data flow runs",
            ActivityList,
            &[200],
            get(v1::data_flow_sub_flows),
        )
        .query(ACTIVITY),
        // The gateway's own operations.
        spec(
            Method::POST,
            "/bdi/v1/environments/{env}/data_flows/{flow}/run",
            "run_and_wait",
            BDI,
            "Run a data flow and (by default) wait for the run to finish",
            DataFlowExecute,
            &[200, 202],
            post(bdi::run),
        )
        .query(&[
            ("wait", "wait for the run (default true)"),
            ("timeout_seconds", "1-600, default 60"),
            ("run_sub_rivers", "also run the sub data flows"),
            (
                "wait_for_throttle",
                "wait for the throttle instead of answering 429 (within timeout_seconds)",
            ),
        ])
        .waits(),
        spec(
            Method::POST,
            "/bdi/v1/environments/{env}/data_flows/{flow}/activate",
            "activate_and_wait",
            BDI,
            "Activate a data flow and (by default) wait for the operation",
            DataFlowWrite,
            &[200, 202],
            post(bdi::activate),
        )
        .query(WAIT)
        .waits(),
        spec(
            Method::POST,
            "/bdi/v1/environments/{env}/data_flows/{flow}/disable",
            "disable_and_wait",
            BDI,
            "Disable a data flow and (by default) wait for the operation",
            DataFlowWrite,
            &[200, 202],
            post(bdi::disable),
        )
        .query(WAIT)
        .waits(),
        spec(
            Method::PUT,
            "/bdi/v1/environments/{env}/data_flows/{flow}/source_tables",
            "set_source_tables",
            BDI,
            "Select a data flow's source tables by name (matched against the connection's catalog)",
            DataFlowWrite,
            &[200],
            put(bdi::set_source_tables),
        )
        .consumes(JSON)
        .waits(),
        spec(
            Method::PATCH,
            "/bdi/v1/environments/{env}/data_flows/{flow}",
            "patch_data_flow",
            BDI,
            "Merge-patch (RFC 7396) a data flow: read, deep-merge, write back",
            DataFlowWrite,
            &[200],
            patch(bdi::patch_data_flow),
        )
        .consumes(&["application/merge-patch+json", "application/json"]),
        spec(
            Method::GET,
            "/bdi/v1/environments/{env}/connections",
            "list_all_connections",
            BDI,
            "Every connection of the environment in one call (all pages)",
            ConnectionList,
            &[200],
            get(bdi::list_all_connections),
        )
        .query(&[(
            "items_per_page",
            "page size of the sweep, 1-500 (default 100)",
        )]),
    ]
}

/// The environment of a route's path (checked against the key by the guard already).
pub(crate) fn env_of(ids: &Ids) -> ApiResult<Env> {
    Ok(Env::Id(EnvironmentId::parse(ids.env()?)?))
}

/// Parses a JSON object body; anything else is a 422 in the upstream's style.
pub(crate) fn json_object(body: &[u8]) -> ApiResult<Document> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::validation(
            &["body"],
            "model_attributes_type",
            "Input should be a valid dictionary or object",
        )),
        Err(e) => Err(ApiError::validation(
            &["body"],
            "json_invalid",
            &format!("JSON decode error: {e}"),
        )),
    }
}

/// Runs a data flow for a key: the gateway's throttle answers 429 with `Retry-After` before the
/// upstream is touched (unless the caller asked to wait for it), then the domain runs it.
pub(crate) async fn run_throttled(
    st: &AppState,
    caller: &Caller,
    env: &Env,
    flow: &DataFlowId,
    options: RunOptions,
) -> ApiResult<RunOutcome> {
    if !options.wait_for_throttle
        && let Decision::Wait(after, reason) =
            st.limiter()
                .check(flow, caller.name(), tokio::time::Instant::now())
    {
        let limit = if reason.starts_with("user ") {
            "key"
        } else {
            "data_flow"
        };
        st.metrics().record_throttle_refusal(limit);
        let message = reason.replacen("user ", "key ", 1);
        return Err(ApiError::from(Error::RateLimited {
            retry_after: Some(after.max(Duration::from_secs(1))),
            message,
        }));
    }
    Ok(st.runner(caller.name()).run(env, flow, options).await?)
}
