//! The OpenAPI 3.1 document of the gateway, built with utoipa from the route table
//! ([`crate::routes::table`]) and the public routes, so that it describes exactly what is served:
//! each parameter with its type, range, pattern or values, each success body, and every error
//! status a route can answer with the one error body ([`crate::error::ErrorBody`]).
//!
//! `cargo xtask schemathesis` checks the answers of a running gateway against it.

use axum::http::Method;
use utoipa::openapi::content::{Content, ContentBuilder};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Ref, RefOr,
    Required, Schema,
};

use crate::error::{ErrorBody, ErrorDetail};
use crate::layers::MAX_URI;
use crate::routes::{ParamType, Produces, QueryParam, RouteSpec, Takes, table};
use crate::scopes::Scope;

/// An object id: accounts, environments, data flows, connections, operations (`bdi_domain::ids`).
pub const OBJECT_ID_PATTERN: &str = "^[0-9a-fA-F]{24}$";
/// A run id or run group id (`bdi_domain::ids::RunId`).
pub const RUN_ID_PATTERN: &str = "^[0-9a-fA-F]{32}$";

/// Public routes: `(path, operation id, summary)`.
const PUBLIC: &[(&str, &str, &str)] = &[
    ("/healthz", "healthz", "Liveness: the process serves"),
    (
        "/readyz",
        "readyz",
        "Readiness: the platform answers a cheap list call (cached 5 s, 2 s timeout; 503 otherwise)",
    ),
    (
        "/metrics",
        "metrics",
        "Prometheus metrics: requests by route and status, latencies, upstream calls, throttle refusals",
    ),
    ("/openapi.json", "openapi", "This document"),
];

fn http_method(m: &Method) -> HttpMethod {
    match *m {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

fn typed(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(t)
}

fn any_value() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .into()
}

fn object() -> Schema {
    typed(Type::Object).into()
}

fn string() -> Schema {
    typed(Type::String).into()
}

fn id(pattern: &str, description: &str) -> Schema {
    typed(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
        .into()
}

fn json(schema: impl Into<RefOr<Schema>>) -> Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// A status-only object: `{"status": value}`.
fn status_object(value: &str) -> Schema {
    ObjectBuilder::new()
        .property("status", typed(Type::String).enum_values(Some([value])))
        .required("status")
        .into()
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", json(Ref::from_schema_name("ErrorBody")))
        .build()
}

fn retry_after_response(description: &str) -> Response {
    let mut response = error_response(description);
    response.headers.insert(
        "Retry-After".to_owned(),
        HeaderBuilder::new()
            .schema(typed(Type::Integer).minimum(Some(1)))
            .description(Some("whole seconds to wait"))
            .build(),
    );
    response
}

/// The statuses every request can meet before a route runs (the body and URI limits).
fn transport_errors(responses: ResponsesBuilder) -> ResponsesBuilder {
    responses
        .response(
            "413",
            error_response("the request body is larger than the gateway's --body-limit"),
        )
        .response(
            "414",
            error_response(&format!(
                "the path and query are longer than {MAX_URI} bytes"
            )),
        )
}

fn param_schema(ty: ParamType) -> Schema {
    match ty {
        ParamType::Text => string(),
        ParamType::Integer { min, max } => typed(Type::Integer)
            .minimum(Some(min))
            .maximum(Some(max))
            .into(),
        ParamType::Boolean => typed(Type::Boolean).into(),
        ParamType::DateTime => typed(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into(),
        ParamType::OneOf(values) => typed(Type::String)
            .enum_values(Some(values.iter().copied()))
            .into(),
        ParamType::ManyOf(values) => ArrayBuilder::new()
            .items(typed(Type::String).enum_values(Some(values.iter().copied())))
            .into(),
        ParamType::ManyText => ArrayBuilder::new().items(typed(Type::String)).into(),
        ParamType::RunId => id(RUN_ID_PATTERN, "32 hexadecimal digits"),
    }
}

fn query_param(p: &QueryParam) -> Parameter {
    ParameterBuilder::new()
        .name(p.name)
        .parameter_in(ParameterIn::Query)
        .required(if p.required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(p.description))
        .schema(Some(param_schema(p.ty)))
        .build()
}

fn path_params(path: &str) -> Vec<Parameter> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let (description, pattern) = match name {
                "account" => (
                    "the account id (must be the gateway's account)",
                    OBJECT_ID_PATTERN,
                ),
                "env" => ("the environment id", OBJECT_ID_PATTERN),
                "flow" => ("the data flow id (river_cross_id)", OBJECT_ID_PATTERN),
                "run" => ("the run id or run group id", RUN_ID_PATTERN),
                "connection" => ("the connection id (cross_id)", OBJECT_ID_PATTERN),
                "operation" => ("the operation id", OBJECT_ID_PATTERN),
                "group" => ("the run group id", RUN_ID_PATTERN),
                _ => ("an id", OBJECT_ID_PATTERN),
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(typed(Type::String).pattern(Some(pattern)).build()))
                .build()
        })
        .collect()
}

fn request_schema(takes: Takes) -> Schema {
    match takes {
        Takes::Nothing | Takes::Object => object(),
        Takes::Variables => ObjectBuilder::new()
            .property(
                "variables",
                typed(Type::Object)
                    .additional_properties(Some(AdditionalProperties::RefOr(string().into())))
                    .property_names(Some(
                        typed(Type::String).pattern(Some(r"^[^.$\s](?:[^.$]*[^.$\s])?$")),
                    ))
                    .min_properties(Some(1))
                    .description(Some(
                        "the variables to set (names without `.`, `$` or surrounding spaces); names not sent are kept",
                    )),
            )
            .required("variables")
            .into(),
        Takes::SourceTables => ObjectBuilder::new()
            .property(
                "tables",
                ArrayBuilder::new()
                    .items(typed(Type::String))
                    .min_items(Some(1))
                    .description(Some(
                        "table names (`orders`, `sales.orders`), matched against the connection's catalog; the list replaces the selection",
                    )),
            )
            .required("tables")
            .property(
                "connection_id",
                typed(Type::String)
                    .pattern(Some(OBJECT_ID_PATTERN))
                    .description(Some(
                        "the source connection (default: the data flow's source connection)",
                    )),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into(),
        Takes::Plan => ObjectBuilder::new()
            .property(
                "documents",
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .property(
                                "file",
                                typed(Type::String).description(Some(
                                    "the document's file in the directory (flows/orders.yaml)",
                                )),
                            )
                            .required("file")
                            .property("document", object())
                            .required("document")
                            .additional_properties(Some(AdditionalProperties::FreeForm(false))),
                    )
                    .description(Some("the data flow documents, as `bdi flows pull` writes them")),
            )
            .required("documents")
            .property(
                "connections",
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .property(
                                "file",
                                typed(Type::String).description(Some(
                                    "the document's file (connections/warehouse.yaml)",
                                )),
                            )
                            .required("file")
                            .property("document", object())
                            .required("document")
                            .additional_properties(Some(AdditionalProperties::FreeForm(false))),
                    )
                    .description(Some(
                        "the connection documents (name, type, parameters, secrets named by environment variable; never a secret)",
                    )),
            )
            .property(
                "variables",
                typed(Type::Object).description(Some(
                    "variables.yaml's content: {\"variables\": {name: value or {env: NAME}}}",
                )),
            )
            .property(
                "identity",
                typed(Type::Object)
                    .additional_properties(Some(AdditionalProperties::RefOr(
                        typed(Type::String).pattern(Some(OBJECT_ID_PATTERN)).into(),
                    )))
                    .description(Some(
                        "this environment's part of bdi-identity.yaml: file -> data flow or connection id",
                    )),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into(),
    }
}

fn success_response(spec: &RouteSpec, status: u16) -> Response {
    match (status, spec.produces) {
        (204, _) => ResponseBuilder::new()
            .description("already in the requested state; no body")
            .build(),
        (_, Produces::Csv) => ResponseBuilder::new()
            .description("the log as CSV text")
            .content("text/csv", json(string()))
            .build(),
        (_, Produces::Null) => ResponseBuilder::new()
            .description("deleted; the body is JSON null, like the platform's")
            .content("application/json", json(typed(Type::Null).build()))
            .build(),
        (_, Produces::Json) => ResponseBuilder::new()
            .description("the platform's answer (its shape is not fixed by the platform)")
            .content("application/json", json(any_value()))
            .build(),
        (202, _) if spec.waits => ResponseBuilder::new()
            .description("started; not finished within timeout_seconds (or wait=false)")
            .content("application/json", json(object()))
            .build(),
        _ => ResponseBuilder::new()
            .description("success")
            .content("application/json", json(object()))
            .build(),
    }
}

fn operation(spec: &RouteSpec) -> Operation {
    let mut responses = ResponsesBuilder::new();
    for status in spec.success {
        responses = responses.response(status.to_string(), success_response(spec, *status));
    }
    responses = responses
        .response(
            "400",
            error_response(
                "invalid input (a malformed id, a bad value), or the resource's state forbids it",
            ),
        )
        .response("401", error_response("no gateway key, or an invalid one"))
        .response(
            "403",
            error_response(
                "the key lacks the scope (named in the message) or may not touch the environment",
            ),
        )
        .response(
            "404",
            error_response("not found (or another account than the gateway's)"),
        );
    responses = transport_errors(responses);
    if !spec.consumes.is_empty() {
        responses = responses.response(
            "415",
            error_response(&format!(
                "the body is not sent as {}",
                spec.consumes.join(" or ")
            )),
        );
    }
    responses = responses
        .response(
            "422",
            error_response("refused query or body; upstream_detail lists why"),
        )
        .response(
            "429",
            retry_after_response(if spec.scope == Scope::DataFlowExecute {
                "throttled (2 runs a minute per data flow, 15 per key), or the platform's own limit"
            } else {
                "the platform's rate limit"
            }),
        )
        .response(
            "500",
            error_response("internal error (the cause is logged, never sent)"),
        )
        .response(
            "502",
            error_response(
                "the platform failed, refused the gateway's token, or could not be reached",
            ),
        )
        .response(
            "503",
            error_response("the gateway is shutting down (a wait was cancelled)"),
        )
        .response(
            "504",
            error_response("the request did not finish within its deadline"),
        );

    let mut params = path_params(spec.path);
    params.extend(spec.query.iter().map(query_param));
    let mut op = OperationBuilder::new()
        .operation_id(Some(spec.operation_id))
        .summary(Some(spec.summary))
        .description(Some(format!("Requires the scope `{}`.", spec.scope)))
        .tag(spec.tag)
        .parameters(Some(params))
        .responses(responses.build())
        .security(SecurityRequirement::new(
            "gateway_key",
            Vec::<String>::new(),
        ));
    if !spec.consumes.is_empty() {
        let mut body = RequestBodyBuilder::new().required(Some(Required::True));
        for content_type in spec.consumes {
            body = body.content(*content_type, json(request_schema(spec.takes)));
        }
        op = op.request_body(Some(body.build()));
    }
    op.build()
}

fn public_operation(path: &str, id: &str, summary: &str) -> Operation {
    let ok = ResponseBuilder::new().description("success");
    let ok = match path {
        "/healthz" => ok.content("application/json", json(status_object("ok"))),
        "/readyz" => ok.content("application/json", json(status_object("ready"))),
        "/metrics" => ok.content("text/plain", json(string())),
        _ => ok.content("application/json", json(object())),
    };
    let mut responses = ResponsesBuilder::new().response("200", ok.build());
    if path == "/readyz" {
        responses = responses.response(
            "503",
            error_response("the platform is not reachable or did not answer within 2 s"),
        );
    }
    OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag("operations")
        .responses(transport_errors(responses).build())
        .build()
}

/// The document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for spec in table() {
        paths = paths.path(
            spec.path,
            PathItem::new(http_method(&spec.method), operation(&spec)),
        );
    }
    for (path, id, summary) in PUBLIC {
        paths = paths.path(
            *path,
            PathItem::new(HttpMethod::Get, public_operation(path, id, summary)),
        );
    }
    let components = ComponentsBuilder::new()
        .schema_from::<ErrorBody>()
        .schema_from::<ErrorDetail>()
        .security_scheme(
            "gateway_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "a gateway key (bdi-gateway keys new); never the platform's token",
                    ))
                    .build(),
            ),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("bdi gateway")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Internal REST gateway in front of Boomi Data Integration: the upstream's v1 paths (same bodies and statuses) and the domain's higher-level operations, behind scoped gateway keys. Every error has the body ErrorBody; a method a path does not take is a 405 with Allow.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}
