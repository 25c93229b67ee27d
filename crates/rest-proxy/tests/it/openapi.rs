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
