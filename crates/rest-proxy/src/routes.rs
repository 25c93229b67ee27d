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
use bdi_domain::{DataFlowId, Document, Env, EnvironmentId, Error, Limit, RunOptions, RunOutcome};
use serde_json::Value;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::scopes::Scope;
use crate::state::AppState;

use self::params::Ids;

/// What a successful response carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Produces {
    /// A JSON object.
    Object,
    /// Any JSON value (the activities' bodies, whose shapes the platform leaves open).
    Json,
    /// JSON `null` (the deletes, like the upstream).
    Null,
    /// A CSV text body.
    Csv,
    /// A JSON object, or no body at all (204).
    ObjectOrEmpty,
}

/// The JSON body a route takes, as documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// No body.
    Nothing,
    /// A JSON object, checked by the platform (a data flow's or a connection's write document) or
    /// merged into one (a merge patch).
    Object,
    /// `{"variables": {"KEY": "value", ...}}`.
    Variables,
    /// `{"tables": ["name", ...], "connection_id"?: "..."}`.
    SourceTables,
}

/// The type of a query parameter, as documented (the handlers parse the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// Any text.
    Text,
    /// An integer in `min..=max`.
    Integer {
        /// The least value.
        min: u32,
        /// The greatest value.
        max: u32,
    },
    /// `true` or `false`.
    Boolean,
    /// A date-time (RFC 3339; the gateway also reads `YYYY-MM-DDTHH:MM:SS` as UTC).
    DateTime,
    /// One of these values.
    OneOf(&'static [&'static str]),
    /// Repeatable (`key=a&key=b`), each one of these values.
    ManyOf(&'static [&'static str]),
    /// Repeatable, any text.
    ManyText,
    /// A run id or run group id (32 hexadecimal digits).
    RunId,
}

/// One query parameter of a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryParam {
    /// The key.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// One line for people.
    pub description: &'static str,
    /// Whether a request without it is refused (422).
    pub required: bool,
}

/// An optional query parameter.
const fn q(name: &'static str, ty: ParamType, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        ty,
        description,
        required: false,
    }
}

/// A required query parameter.
const fn required(name: &'static str, ty: ParamType, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        ty,
        description,
        required: true,
    }
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
    /// The request body.
    pub takes: Takes,
    /// The query parameters the route reads.
    pub query: &'static [QueryParam],
    /// Whether the route may wait (its deadline is `timeout_seconds`, not the request timeout).
    pub waits: bool,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

use ParamType::{Boolean, DateTime, Integer, ManyOf, ManyText, OneOf, RunId, Text};

const SORT_ORDER: ParamType = OneOf(&["asc", "desc"]);
const PAGE_NUMBER: QueryParam = q(
    "page",
    Integer {
        min: 1,
        max: u32::MAX,
    },
    "1-based page number (default 1)",
);
const fn per_page(max: u32, description: &'static str) -> QueryParam {
    q("items_per_page", Integer { min: 1, max }, description)
}
const START: QueryParam = required(
    "start_time",
    DateTime,
    "window start (RFC 3339; a time without a zone, or a bare date, is UTC)",
);
const END: QueryParam = required("end_time", DateTime, "window end, like start_time");
/// The run statuses the Activities endpoints filter by.
const RUN_STATUS: ParamType = ManyOf(&[
    "pending",
    "running",
    "succeeded",
    "succeed",
    "success",
    "failed",
    "canceled",
    "cancelled",
    "skipped",
    "partially succeed",
    "partially succeeded",
]);
const STATUS: QueryParam = q("status", RUN_STATUS, "run status filter (repeatable)");
const GROUP_SORT: ParamType = OneOf(&["RPUs(Units)", "last_run", "max_duration"]);
const GROUP_ID: QueryParam = q("group_id", Text, "group id");
const IS_SCHEDULED: QueryParam = q(
    "is_scheduled",
    Boolean,
    "only scheduled (or unscheduled) data flows",
);
const SEARCH: QueryParam = q("search", Text, "data flow name substring");
const ACTIVITY_TYPE: QueryParam = q(
    "river_type",
    OneOf(&["src_to_trgt", "actions", "logic"]),
    "data flow type",
);
const PAGE: &[QueryParam] = &[PAGE_NUMBER, per_page(500, "page size, 1-500 (default 20)")];
const WAIT: &[QueryParam] = &[
    q(
        "wait",
        Boolean,
        "wait until the work finishes (default true)",
    ),
    q(
        "timeout_seconds",
        Integer { min: 1, max: 600 },
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
        produces: Produces::Object,
        consumes: &[],
        takes: Takes::Nothing,
        query: &[],
        waits: false,
        handler,
    }
}

impl RouteSpec {
    fn query(mut self, q: &'static [QueryParam]) -> Self {
        self.query = q;
        self
    }

    fn consumes(mut self, media_types: &'static [&'static str], takes: Takes) -> Self {
        self.consumes = media_types;
        self.takes = takes;
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
        .query(const { &[
            START,
            END,
            q("target_name", Text, "target table"),
            q("run_group_id", RunId, "run group"),
            q("sub_river_id", Text, "sub data flow"),
            PAGE_NUMBER,
            per_page(200, "page size, 1-200 (default 20)"),
            q(
                "sort_by",
                OneOf(&["start_time", "units", "table_name"]),
                "sort key (default start_time)",
            ),
            q("sort_order", SORT_ORDER, "default desc"),
        ] }),
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
        .consumes(JSON, Takes::Object),
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
        .query(const { &[
            PAGE_NUMBER,
            per_page(500, "page size, 1-500 (default 20)"),
            q("name", Text, "name filter"),
            q(
                "river_status",
                ManyOf(&["active", "disabled"]),
                "status filter (repeatable)",
            ),
            q("group_name", Text, "group name"),
            q("group_id", ManyText, "group id (repeatable)"),
            q(
                "river_type",
                ManyOf(&["source_to_target", "actions", "logic", "connector_executor"]),
                "type filter (repeatable)",
            ),
            q("include_deleted", Boolean, "include deleted flows (default false)"),
            q(
                "sort_by",
                OneOf(&[
                    "last_updated_at",
                    "source_name",
                    "river_name",
                    "group_name",
                    "group_id",
                ]),
                "sort key (default last_updated_at)",
            ),
            q("sort_order", SORT_ORDER, "default desc"),
        ] }),
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
        .consumes(JSON, Takes::Object),
        spec(
            Method::DELETE,
            path!("/rivers/{flow}"),
            "delete_data_flow",
            V1,
            "Delete a data flow (disable it first)",
            DataFlowWrite,
            &[200],
            delete(v1::delete_data_flow),
        )
        .produces(Produces::Null),
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
        .produces(Produces::ObjectOrEmpty),
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
        .produces(Produces::ObjectOrEmpty),
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
        .query(const { &[q(
            "run_sub_rivers",
            Boolean,
            "also run the active sub data flows (default false)",
        )] }),
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
        .query(const { &[
            PAGE_NUMBER,
            per_page(500, "page size, 1-500 (default 20)"),
            q(
                "include_deleted",
                Boolean,
                "include deleted environments (default false)",
            ),
        ] }),
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
        .consumes(JSON, Takes::Object),
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
        .consumes(JSON, Takes::Object),
        spec(
            Method::DELETE,
            path!("/connections/{connection}"),
            "delete_connection",
            V1,
            "Delete a connection",
            ConnectionDelete,
            &[200],
            delete(v1::delete_connection),
        )
        .produces(Produces::Null),
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
        .consumes(JSON, Takes::Variables),
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
        .query(const { &[
            START,
            END,
            STATUS,
            GROUP_ID,
            IS_SCHEDULED,
            SEARCH,
            ACTIVITY_TYPE,
        ] })
        .produces(Produces::Json),
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
        .query(const { &[
            START,
            END,
            STATUS,
            GROUP_ID,
            IS_SCHEDULED,
            SEARCH,
            ACTIVITY_TYPE,
            PAGE_NUMBER,
            per_page(200, "page size, 1-200 (default 50)"),
            q("sort_by", GROUP_SORT, "sort key (default last_run)"),
            q("sort_order", SORT_ORDER, "default desc"),
            q(
                "return_last_runs",
                Boolean,
                "include each data flow's last runs (default false)",
            ),
        ] }),
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
        .query(const { &[START, END, STATUS] })
        .produces(Produces::Json),
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
        .query(const { &[
            START,
            END,
            STATUS,
            q("run_group_id", Text, "run group (the platform's scheduler_id)"),
            q("sub_river_id", Text, "sub data flow"),
            q(
                "sort_by",
                OneOf(&["units", "last_run", "table_name"]),
                "sort key",
            ),
            q("sort_order", SORT_ORDER, "default desc"),
        ] })
        .produces(Produces::Json),
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
        .query(const { &[
            START,
            END,
            STATUS,
            q("target_name", Text, "target table"),
            q("sub_river_id", Text, "sub data flow"),
            PAGE_NUMBER,
            per_page(200, "page size, 1-200 (default 50)"),
            q("sort_by", GROUP_SORT, "sort key (default last_run)"),
            q("sort_order", SORT_ORDER, "default desc"),
        ] }),
        spec(
            Method::GET,
            path!("/rivers/{flow}/activities_run_groups/{group}"),
            "data_flow_run_group",
            V1,
            "One run group with counts",
            ActivityList,
            &[200],
            get(v1::data_flow_run_group),
        )
        .produces(Produces::Json),
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
        .query(const { &[
            START,
            END,
            q("target_name", Text, "target table"),
            q("run_group_id", Text, "run group (the platform's scheduler_id)"),
        ] })
        .produces(Produces::Json),
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
        .query(const { &[
            q("wait", Boolean, "wait for the run (default true)"),
            q(
                "timeout_seconds",
                Integer { min: 1, max: 600 },
                "how long to wait, 1-600 (default 60); the run goes on upstream after it",
            ),
            q(
                "run_sub_rivers",
                Boolean,
                "also run the sub data flows (default false)",
            ),
            q(
                "wait_for_throttle",
                Boolean,
                "wait for the throttle instead of answering 429 (within timeout_seconds; default false)",
            ),
        ] })
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
        .consumes(JSON, Takes::SourceTables)
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
        .consumes(
            &["application/merge-patch+json", "application/json"],
            Takes::Object,
        ),
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
        .query(const { &[per_page(500, "page size of the sweep, 1-500 (default 100)")] }),
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

/// Runs a data flow for a key. The domain reserves a slot of the gateway's limiter atomically
/// before the upstream is touched, so a refusal is a 429 with `Retry-After` at once (unless the
/// caller asked to wait for the throttle), and concurrent callers never get more runs than the
/// limits allow.
pub(crate) async fn run_throttled(
    st: &AppState,
    caller: &Caller,
    env: &Env,
    flow: &DataFlowId,
    options: RunOptions,
) -> ApiResult<RunOutcome> {
    match st.runner(caller.name()).run(env, flow, options).await {
        Ok(outcome) => Ok(outcome),
        Err(Error::RateLimited {
            retry_after,
            limit,
            message,
        }) => {
            // A gateway's user is a key.
            let (label, message) = match limit {
                Limit::User => ("key", message.replacen("user ", "key ", 1)),
                other => (other.label(), message),
            };
            st.metrics().record_throttle_refusal(label);
            Err(ApiError::from(Error::RateLimited {
                retry_after: Some(
                    retry_after
                        .unwrap_or(Duration::from_secs(1))
                        .max(Duration::from_secs(1)),
                ),
                limit,
                message,
            }))
        }
        Err(e) => Err(e.into()),
    }
}
