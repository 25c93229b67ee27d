//! Health, readiness (a cheap upstream call), metrics, and request ids.

use axum::http::{Method, StatusCode};
use bdi_domain::{Error, MockBackend};

use crate::support::*;

#[tokio::test]
async fn health_and_readiness() {
    let mut m = MockBackend::new();
    let mut calls = 0;
    m.expect_list_environments().returning(move |p, _| {
        assert_eq!((p.page, p.items_per_page), (1, 1));
        calls += 1;
        if calls == 1 {
            Ok(page(vec![], None))
        } else {
            Err(Error::Transport("connection refused to 10.0.0.1".into()))
        }
    });
    let h = harness(m);
    let r = call(&h.app, Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (StatusCode::OK, serde_json::json!("ok"))
    );
    let r = call(&h.app, Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(&h.app, Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!r.text().contains("10.0.0.1"), "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "transport");
}

#[tokio::test]
async fn metrics_count_routes_statuses_and_upstream_calls() {
    let mut m = MockBackend::new();
    m.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("active")));
    let h = harness(m);
    let path = e(&format!("/rivers/{FLOW}"));
    assert_eq!(get(&h.app, &path, ADMIN).await.status, StatusCode::OK);
    assert_eq!(
        call(&h.app, Method::GET, &path, None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = call(&h.app, Method::GET, "/metrics", None, None).await;
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text();
    let route = "/v1/accounts/{account}/environments/{env}/rivers/{flow}";
    for line in [
        format!("bdi_gateway_requests_total{{route=\"{route}\",method=\"GET\",status=\"200\"}} 1"),
        format!("bdi_gateway_requests_total{{route=\"{route}\",method=\"GET\",status=\"401\"}} 1"),
        format!("bdi_gateway_request_duration_seconds_count{{route=\"{route}\",method=\"GET\"}} 2"),
        "bdi_gateway_upstream_calls_total{operation=\"get_data_flow\",outcome=\"ok\"} 1".to_owned(),
    ] {
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
    assert!(!text.contains(FLOW), "raw ids never become labels");
}

#[tokio::test]
async fn request_ids_are_set_or_echoed() {
    let h = harness(MockBackend::new());
    let r = call(&h.app, Method::GET, "/healthz", None, None).await;
    assert!(!r.headers["x-request-id"].is_empty());
    let req = axum::http::Request::builder()
        .uri("/healthz")
        .header("x-request-id", "trace-me-1")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = send(&h.app, req).await;
    assert_eq!(r.headers["x-request-id"], "trace-me-1");
}
