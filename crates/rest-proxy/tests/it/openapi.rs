//! The OpenAPI document: generated from the route table, pinned by a snapshot, and complete
//! (every served route is in it, and `/openapi.json` serves it).

use axum::http::StatusCode;
use bdi_domain::MockBackend;
use bdi_rest_proxy::routes::table;

use crate::support::*;

#[tokio::test]
async fn the_document_is_served_and_pinned() {
    let h = harness(MockBackend::new());
    let r = call(&h.app, axum::http::Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    insta::assert_json_snapshot!("openapi", doc, {".info.version" => "[version]"});

    let paths = doc["paths"].as_object().unwrap();
    for spec in table() {
        let method = spec.method.as_str().to_ascii_lowercase();
        let op = &paths[spec.path][&method];
        assert!(
            op.is_object(),
            "{} {} is not documented",
            spec.method,
            spec.path
        );
        assert!(
            op["description"]
                .as_str()
                .unwrap()
                .contains(spec.scope.as_str())
        );
    }
    for public in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert!(paths[public]["get"].is_object(), "{public}");
    }
}

#[tokio::test]
async fn the_document_says_what_the_answers_are() {
    let doc = serde_json::to_value(bdi_rest_proxy::openapi::document()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for spec in table() {
        let method = spec.method.as_str().to_ascii_lowercase();
        let op = &paths[spec.path][&method];
        let name = spec.operation_id;
        // Every error status a route can answer, each with the one error body.
        let mut errors = vec![
            "400", "401", "403", "404", "413", "414", "422", "429", "500", "502", "503", "504",
        ];
        if !spec.consumes.is_empty() {
            errors.push("415");
        }
        for status in errors {
            assert_eq!(
                op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{name} {status}"
            );
        }
        for p in op["parameters"].as_array().unwrap() {
            let schema = &p["schema"];
            if p["in"] == "path" {
                let pattern = schema["pattern"].as_str().unwrap();
                assert!(
                    pattern == "^[0-9a-fA-F]{24}$" || pattern == "^[0-9a-fA-F]{32}$",
                    "{name} {p}"
                );
            }
            match p["name"].as_str().unwrap() {
                "page" | "items_per_page" | "timeout_seconds" => {
                    assert_eq!(schema["type"], "integer", "{name} {p}");
                    assert!(schema["minimum"].is_number(), "{name} {p}");
                }
                "wait" | "include_deleted" | "run_sub_rivers" | "wait_for_throttle" => {
                    assert_eq!(schema["type"], "boolean", "{name} {p}");
                }
                "start_time" | "end_time" => {
                    assert_eq!(p["required"], true, "{name} {p}");
                    assert_eq!(schema["format"], "date-time", "{name} {p}");
                }
                _ => {}
            }
        }
    }
    let delete = &paths["/v1/accounts/{account}/environments/{env}/rivers/{flow}"]["delete"];
    assert_eq!(
        delete["responses"]["200"]["content"]["application/json"]["schema"],
        serde_json::json!({"type": "null"})
    );
    let detail = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["upstream_detail"];
    assert!(detail.get("type").is_none(), "any JSON value: {detail}");
    let patch = &paths["/bdi/v1/environments/{env}/data_flows/{flow}"]["patch"];
    assert!(patch["responses"]["415"].is_object());
}
