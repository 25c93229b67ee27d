//! The OpenAPI 3.1 document of the gateway, built with utoipa from the route table
//! ([`crate::routes::table`]) and the public routes, so that it describes exactly what is served.

use axum::http::Method;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Ref, Required,
    Schema,
};

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{Produces, RouteSpec, table};

/// Public routes: `(path, operation id, summary, content type of the answer)`.
const PUBLIC: &[(&str, &str, &str, &str)] = &[
    (
        "/healthz",
        "healthz",
        "Liveness: the process serves",
        "application/json",
    ),
    (
        "/readyz",
        "readyz",
        "Readiness: the platform answers a cheap list call (503 otherwise)",
        "application/json",
    ),
    (
        "/metrics",
        "metrics",
        "Prometheus metrics: requests by route and status, latencies, upstream calls, throttle refusals",
        "text/plain",
    ),
    (
        "/openapi.json",
        "openapi",
        "This document",
        "application/json",
    ),
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

fn any_json() -> Schema {
    ObjectBuilder::new().build().into()
}

fn json_content() -> utoipa::openapi::content::Content {
    ContentBuilder::new().schema(Some(any_json())).build()
}

fn error_response(description: &str) -> utoipa::openapi::response::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

fn path_params(path: &str) -> Vec<utoipa::openapi::path::Parameter> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let description = match name {
                "account" => "the account id (must be the gateway's account)",
                "env" => "the environment id",
                "flow" => "the data flow id (river_cross_id)",
                "run" => "the run id or run group id",
                "connection" => "the connection id (cross_id)",
                "operation" => "the operation id",
                "group" => "the run group id",
                _ => "an id",
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        })
        .collect()
}

fn operation(spec: &RouteSpec) -> utoipa::openapi::path::Operation {
    let mut responses = ResponsesBuilder::new();
    for status in spec.success {
        let response = match (status, spec.produces) {
            (204, _) => ResponseBuilder::new()
                .description("already in the requested state; no body")
                .build(),
            (_, Produces::Csv) => ResponseBuilder::new()
                .description("the log as CSV text")
                .content(
                    "text/csv",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                )
                .build(),
            (202, _) if spec.waits => ResponseBuilder::new()
                .description("started; not finished within timeout_seconds (or wait=false)")
                .content("application/json", json_content())
                .build(),
            _ => ResponseBuilder::new()
                .description("success")
                .content("application/json", json_content())
                .build(),
        };
        responses = responses.response(status.to_string(), response);
    }
    responses = responses
        .response(
            "400",
            error_response("invalid input, or the resource's state forbids it"),
        )
        .response("401", error_response("no gateway key, or an invalid one"))
        .response(
            "403",
            error_response(
                "the key lacks the scope (named in the message) or may not touch the environment",
            ),
        )
        .response("404", error_response("not found (or another account)"))
        .response(
            "422",
            error_response("refused query or body; upstream_detail lists why"),
        );
    if spec.scope == crate::scopes::Scope::DataFlowExecute {
        responses = responses.response(
            "429",
            error_response(
                "throttled (2 runs a minute per data flow, 15 per key); see Retry-After",
            ),
        );
    }
    responses = responses.response(
        "502",
        error_response("the platform failed or could not be reached"),
    );

    let mut params = path_params(spec.path);
    for (name, description) in spec.query {
        params.push(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(*description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        );
    }
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
            body = body.content(*content_type, json_content());
        }
        op = op.request_body(Some(body.build()));
    }
    op.build()
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
    for (path, id, summary, content_type) in PUBLIC {
        let mut responses = ResponsesBuilder::new().response(
            "200",
            ResponseBuilder::new()
                .description("success")
                .content(*content_type, json_content())
                .build(),
        );
        if *path == "/readyz" {
            responses = responses.response("503", error_response("the platform is not reachable"));
        }
        let op = OperationBuilder::new()
            .operation_id(Some(*id))
            .summary(Some(*summary))
            .tag("operations")
            .responses(responses.build())
            .build();
        paths = paths.path(*path, PathItem::new(HttpMethod::Get, op));
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
                    "Internal REST gateway in front of Boomi Data Integration: the upstream's v1 paths (same bodies and statuses) and the domain's higher-level operations, behind scoped gateway keys.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}
