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
    /// `{"documents": [{"file": "...", "document": {...}}, ...], "identity"?: {"file": "id"}}`.
    Plan,
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

/// A route as the table writes it: what every route names. The rest (what it consumes and
/// produces, its query, whether it waits) has defaults that the builder methods change.
struct Route {
    method: Method,
    path: &'static str,
    operation_id: &'static str,
    tag: &'static str,
    summary: &'static str,
    scope: Scope,
    success: &'static [u16],
    handler: MethodRouter<AppState>,
}

fn spec(r: Route) -> RouteSpec {
    RouteSpec {
        method: r.method,
        path: r.path,
        operation_id: r.operation_id,
        tag: r.tag,
        summary: r.summary,
        scope: r.scope,
        success: r.success,
        produces: Produces::Object,
        consumes: &[],
        takes: Takes::Nothing,
        query: &[],
        waits: false,
        handler: r.handler,
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
        spec(Route {
            method: Method::GET,
            path: path!("/operations/{operation}"),
            operation_id: "get_operation",
            tag: V1,
            summary: "An asynchronous operation's status",
            scope: OperationsList,
            success: &[200],
            handler: get(v1::get_operation),
        }),
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}/runs"),
            operation_id: "list_runs",
            tag: V1,
            summary: "One page of a data flow's runs in a time window",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::list_runs),
        })
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
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}/runs/{run}"),
            operation_id: "get_run",
            tag: V1,
            summary: "One run, by run id or run group id",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::get_run),
        }),
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}/runs/{run}/logs"),
            operation_id: "get_run_logs",
            tag: V1,
            summary: "A run's log as CSV text",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::get_run_logs),
        })
        .produces(Produces::Csv),
        spec(Route {
            method: Method::POST,
            path: path!("/rivers"),
            operation_id: "create_data_flow",
            tag: V1,
            summary: "Create a data flow from a full write document",
            scope: DataFlowWrite,
            success: &[201],
            handler: post(v1::create_data_flow),
        })
        .consumes(JSON, Takes::Object),
        spec(Route {
            method: Method::GET,
            path: path!("/rivers"),
            operation_id: "list_data_flows",
            tag: V1,
            summary: "One page of data flows (list shape)",
            scope: DataFlowList,
            success: &[200],
            handler: get(v1::list_data_flows),
        })
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
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}"),
            operation_id: "get_data_flow",
            tag: V1,
            summary: "A data flow's full document",
            scope: DataFlowList,
            success: &[200],
            handler: get(v1::get_data_flow),
        }),
        spec(Route {
            method: Method::PUT,
            path: path!("/rivers/{flow}"),
            operation_id: "update_data_flow",
            tag: V1,
            summary: "Replace a data flow's document",
            scope: DataFlowWrite,
            success: &[200],
            handler: put(v1::update_data_flow),
        })
        .consumes(JSON, Takes::Object),
        spec(Route {
            method: Method::DELETE,
            path: path!("/rivers/{flow}"),
            operation_id: "delete_data_flow",
            tag: V1,
            summary: "Delete a data flow (disable it first)",
            scope: DataFlowWrite,
            success: &[200],
            handler: delete(v1::delete_data_flow),
        })
        .produces(Produces::Null),
        spec(Route {
            method: Method::POST,
            path: path!("/rivers/{flow}/activate_river"),
            operation_id: "activate_river",
            tag: V1,
            summary: "Start activating a data flow: 202 with the operation, 204 when already active",
            scope: DataFlowWrite,
            success: &[202, 204],
            handler: post(v1::activate_river),
        })
        .produces(Produces::ObjectOrEmpty),
        spec(Route {
            method: Method::POST,
            path: path!("/rivers/{flow}/disable_river"),
            operation_id: "disable_river",
            tag: V1,
            summary: "Start disabling a data flow: 202 with the operation, 204 when already disabled",
            scope: DataFlowWrite,
            success: &[202, 204],
            handler: post(v1::disable_river),
        })
        .produces(Produces::ObjectOrEmpty),
        spec(Route {
            method: Method::POST,
            path: path!("/rivers/{flow}/run"),
            operation_id: "run_river",
            tag: V1,
            summary: "Trigger a run (throttled: 2 a minute per data flow, 15 a minute per key)",
            scope: DataFlowExecute,
            success: &[202],
            handler: post(v1::run_river),
        })
        .query(const { &[q(
            "run_sub_rivers",
            Boolean,
            "also run the active sub data flows (default false)",
        )] }),
        spec(Route {
            method: Method::GET,
            path: "/v1/accounts/{account}/environments",
            operation_id: "list_environments",
            tag: V1,
            summary: "The account's environments (only the allowed ones for a limited key)",
            scope: EnvironmentList,
            success: &[200],
            handler: get(v1::list_environments),
        })
        .query(const { &[
            PAGE_NUMBER,
            per_page(500, "page size, 1-500 (default 20)"),
            q(
                "include_deleted",
                Boolean,
                "include deleted environments (default false)",
            ),
        ] }),
        spec(Route {
            method: Method::GET,
            path: path!("/connections"),
            operation_id: "list_connections",
            tag: V1,
            summary: "One page of connections",
            scope: ConnectionList,
            success: &[200],
            handler: get(v1::list_connections),
        })
        .query(PAGE),
        spec(Route {
            method: Method::POST,
            path: path!("/connections"),
            operation_id: "create_connection",
            tag: V1,
            summary: "Create a connection (flat body)",
            scope: ConnectionEdit,
            success: &[201],
            handler: post(v1::create_connection),
        })
        .consumes(JSON, Takes::Object),
        spec(Route {
            method: Method::GET,
            path: path!("/connections/{connection}"),
            operation_id: "get_connection",
            tag: V1,
            summary: "One connection (secrets omitted)",
            scope: ConnectionList,
            success: &[200],
            handler: get(v1::get_connection),
        }),
        spec(Route {
            method: Method::PUT,
            path: path!("/connections/{connection}"),
            operation_id: "update_connection",
            tag: V1,
            summary: "Replace a connection (a body without credentials clears them)",
            scope: ConnectionEdit,
            success: &[200],
            handler: put(v1::update_connection),
        })
        .consumes(JSON, Takes::Object),
        spec(Route {
            method: Method::DELETE,
            path: path!("/connections/{connection}"),
            operation_id: "delete_connection",
            tag: V1,
            summary: "Delete a connection",
            scope: ConnectionDelete,
            success: &[200],
            handler: delete(v1::delete_connection),
        })
        .produces(Produces::Null),
        spec(Route {
            method: Method::GET,
            path: path!("/variables"),
            operation_id: "list_variables",
            tag: V1,
            summary: "The environment's variables",
            scope: VariablesList,
            success: &[200],
            handler: get(v1::list_variables),
        }),
        spec(Route {
            method: Method::PUT,
            path: path!("/variables"),
            operation_id: "upsert_variables",
            tag: V1,
            summary: "Merge variables into the environment's",
            scope: VariablesEdit,
            success: &[201],
            handler: put(v1::upsert_variables),
        })
        .consumes(JSON, Takes::Variables),
        spec(Route {
            method: Method::GET,
            path: path!("/activities_statistics"),
            operation_id: "activities_statistics",
            tag: V1,
            summary: "Environment-wide RPU and run counts",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::activities_statistics),
        })
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
        spec(Route {
            method: Method::GET,
            path: path!("/activities"),
            operation_id: "activities",
            tag: V1,
            summary: "Activity summary per data flow",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::activities),
        })
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
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}/activities_statistics"),
            operation_id: "data_flow_statistics",
            tag: V1,
            summary: "One data flow's RPU and run counts",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::data_flow_statistics),
        })
        .query(const { &[START, END, STATUS] })
        .produces(Produces::Json),
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}/activities_targets"),
            operation_id: "data_flow_targets",
            tag: V1,
            summary: "Per target table status",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::data_flow_targets),
        })
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
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}/activities_run_groups"),
            operation_id: "data_flow_run_groups",
            tag: V1,
            summary: "A data flow's run groups",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::data_flow_run_groups),
        })
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
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}/activities_run_groups/{group}"),
            operation_id: "data_flow_run_group",
            tag: V1,
            summary: "One run group with counts",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::data_flow_run_group),
        })
        .produces(Produces::Json),
        spec(Route {
            method: Method::GET,
            path: path!("/rivers/{flow}/activities_sub_rivers"),
            operation_id: "data_flow_sub_flows",
            tag: V1,
            summary: "Sub data flow runs",
            scope: ActivityList,
            success: &[200],
            handler: get(v1::data_flow_sub_flows),
        })
        .query(const { &[
            START,
            END,
            q("target_name", Text, "target table"),
            q("run_group_id", Text, "run group (the platform's scheduler_id)"),
        ] })
        .produces(Produces::Json),
        // The gateway's own operations.
        spec(Route {
            method: Method::POST,
            path: "/bdi/v1/environments/{env}/data_flows/{flow}/run",
            operation_id: "run_and_wait",
            tag: BDI,
            summary: "Run a data flow and (by default) wait for the run to finish",
            scope: DataFlowExecute,
            success: &[200, 202],
            handler: post(bdi::run),
        })
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
        spec(Route {
            method: Method::POST,
            path: "/bdi/v1/environments/{env}/data_flows/{flow}/activate",
            operation_id: "activate_and_wait",
            tag: BDI,
            summary: "Activate a data flow and (by default) wait for the operation",
            scope: DataFlowWrite,
            success: &[200, 202],
            handler: post(bdi::activate),
        })
        .query(WAIT)
        .waits(),
        spec(Route {
            method: Method::POST,
            path: "/bdi/v1/environments/{env}/data_flows/{flow}/disable",
            operation_id: "disable_and_wait",
            tag: BDI,
            summary: "Disable a data flow and (by default) wait for the operation",
            scope: DataFlowWrite,
            success: &[200, 202],
            handler: post(bdi::disable),
        })
        .query(WAIT)
        .waits(),
        spec(Route {
            method: Method::PUT,
            path: "/bdi/v1/environments/{env}/data_flows/{flow}/source_tables",
            operation_id: "set_source_tables",
            tag: BDI,
            summary: "Select a data flow's source tables by name (matched against the connection's catalog)",
            scope: DataFlowWrite,
            success: &[200],
            handler: put(bdi::set_source_tables),
        })
        .consumes(JSON, Takes::SourceTables)
        .waits(),
        spec(Route {
            method: Method::PATCH,
            path: "/bdi/v1/environments/{env}/data_flows/{flow}",
            operation_id: "patch_data_flow",
            tag: BDI,
            summary: "Merge-patch (RFC 7396) a data flow: read, deep-merge, write back",
            scope: DataFlowWrite,
            success: &[200],
            handler: patch(bdi::patch_data_flow),
        })
        .consumes(
            &["application/merge-patch+json", "application/json"],
            Takes::Object,
        ),
        spec(Route {
            method: Method::GET,
            path: "/bdi/v1/environments/{env}/connections",
            operation_id: "list_all_connections",
            tag: BDI,
            summary: "Every connection of the environment in one call (all pages)",
            scope: ConnectionList,
            success: &[200],
            handler: get(bdi::list_all_connections),
        })
        .query(const { &[per_page(500, "page size of the sweep, 1-500 (default 100)")] }),
        spec(Route {
            method: Method::POST,
            path: "/bdi/v1/environments/{env}/plan",
            operation_id: "plan_documents",
            tag: BDI,
            summary: "Plan data flow documents against the environment (flows as code): creates, updates, renames, drift; reads only",
            scope: DataFlowList,
            success: &[200],
            handler: post(bdi::plan),
        })
        .consumes(JSON, Takes::Plan),
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
