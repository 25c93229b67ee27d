//! The error shape: every domain error leaves as `{"error": {"code", "message", "hint",
//! "upstream_detail"?}}` with a fitting status, and internal detail never leaves in a 5xx; so do
//! the answers of the layers (405, 413, 414, 415, the deadline's 504).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bdi_domain::{Error, MockBackend, StateConflict, ValidationDetail};
use serde_json::{Value, json};

use crate::slow::Slow;
use crate::support::*;

async fn answer_for(err: fn() -> Error) -> (StatusCode, Value, Option<String>) {
    let mut m = MockBackend::new();
    m.expect_get_data_flow().returning(move |_, _| Err(err()));
    let h = harness(m);
    let r = get(&h.app, &e(&format!("/rivers/{FLOW}")), ADMIN).await;
    let retry = r
        .headers
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status, r.json(), retry)
}

#[tokio::test]
async fn domain_errors_map_to_statuses_and_one_shape() {
    type Case = (&'static str, fn() -> Error);
    let cases: Vec<Case> = vec![
        ("not_found", || Error::NotFound {
            what: format!("data flow {FLOW}"),
            message: "River not found".into(),
        }),
        ("validation", || Error::Validation {
            status: 422,
            message: "bad".into(),
            detail: vec![ValidationDetail {
                loc: vec![json!("body"), json!("cross_id")],
                msg: "Extra inputs are not permitted".into(),
                kind: "extra_forbidden".into(),
            }],
        }),
        ("legacy_flow", || Error::State {
            conflict: StateConflict::LegacyFlow,
            message: "river is not api v2".into(),
        }),
        ("rate_limited", || Error::RateLimited {
            retry_after: Some(Duration::from_millis(12_300)),
            message: "too many".into(),
            limit: bdi_domain::Limit::Upstream,
        }),
        ("upstream_forbidden", || Error::Forbidden {
            message: "token lacks scope".into(),
        }),
        ("upstream_unauthorized", || Error::Unauthorized {
            message: "token expired for account 5f1e".into(),
        }),
        ("upstream_5xx", || Error::Upstream {
            status: 503,
            body: "<html>stack trace at /srv/app.py</html>".into(),
        }),
        ("upstream_4xx", || Error::Upstream {
            status: 409,
            body: "{\"detail\":\"conflict\"}".into(),
        }),
        ("transport", || {
            Error::Transport("error sending request for url (https://api.rivery.io/v1/...)".into())
        }),
        ("config", || {
            Error::Config("DATA_INTEGRATION_API_TOKEN is not set".into())
        }),
        ("timeout", || {
            Error::Timeout("discovery did not finish".into())
        }),
    ];
    let mut all = serde_json::Map::new();
    for (name, err) in cases {
        let (status, body, retry) = answer_for(err).await;
        let text = body.to_string();
        if status.is_server_error() {
            for leak in [
                "stack trace",
                "/srv/app.py",
                "api.rivery.io",
                "DATA_INTEGRATION_API_TOKEN",
                "5f1e",
            ] {
                assert!(!text.contains(leak), "{name} leaks {leak}: {text}");
            }
        }
        all.insert(
            name.to_owned(),
            json!({"status": status.as_u16(), "retry_after": retry, "body": body}),
        );
    }
    insta::assert_json_snapshot!("domain_errors", all);
}

#[tokio::test]
async fn unknown_routes_and_big_bodies_keep_the_shape() {
    let h = harness(MockBackend::new());
    let r = get(&h.app, "/v2/nothing", ADMIN).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");

    let huge = "x".repeat(3 * 1024 * 1024);
    let r = call(
        &h.app,
        axum::http::Method::POST,
        &e("/rivers"),
        Some(ADMIN),
        Some(json!({"name": huge})),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["error"]["code"], "payload_too_large");
}

#[tokio::test(start_paused = true)]
async fn an_ambiguous_run_trigger_keeps_the_may_have_started_advice() {
    let mut m = MockBackend::new();
    m.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Err(Error::Transport("connection reset by 10.0.0.7".into())));
    m.expect_list_runs()
        .returning(|_, _, _| Ok(page(vec![], None)));
    let h = harness(m);
    let r = call(
        &h.app,
        axum::http::Method::POST,
        &b(&format!("/data_flows/{FLOW}/run?wait=false")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("could not reach the platform; the run of data flow"),
        "{message}"
    );
    assert!(
        message.ends_with("may or may not have started"),
        "{message}"
    );
    let hint = r.json()["error"]["hint"].as_str().unwrap().to_owned();
    assert!(
        hint.starts_with(&format!(
            "check GET /v1/accounts/{{account}}/environments/{{env}}/rivers/{FLOW}/runs?start_time="
        )) && hint.ends_with("before triggering it again"),
        "a request, not an MCP tool: {hint}"
    );
    assert!(
        !message.contains("10.0.0.7") && !hint.contains("10.0.0.7"),
        "internal detail stays inside: {message}"
    );
}

/// Status, the headers that matter, and the body of one answer, for a snapshot.
fn shown(r: &Reply) -> Value {
    let header = |name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    json!({
        "status": r.status.as_u16(),
        "content_type": header("content-type"),
        "allow": header("allow"),
        "body": r.json(),
    })
}

fn raw(method: Method, path: &str, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"));
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn what_the_layers_answer_has_the_shape_too() {
    let h = harness(MockBackend::new());
    let mut all = serde_json::Map::new();

    // The router's 405 keeps its Allow header.
    let r = send(&h.app, raw(Method::PATCH, &e("/rivers"), None, "")).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    all.insert("method_not_allowed".into(), shown(&r));
    let r = send(&h.app, raw(Method::POST, "/healthz", None, "")).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    all.insert("method_not_allowed_public".into(), shown(&r));

    // A request target beyond 8 KiB.
    let long = format!("{}?name={}", e("/rivers"), "x".repeat(9000));
    let r = send(&h.app, raw(Method::GET, &long, None, "")).await;
    assert_eq!(r.status, StatusCode::URI_TOO_LONG);
    all.insert("uri_too_long".into(), shown(&r));

    // A declared length beyond the body limit is refused before the body is read.
    let big = "x".repeat(3 * 1024 * 1024);
    let mut req = raw(Method::POST, &e("/rivers"), Some("application/json"), &big);
    req.headers_mut().insert(
        header::CONTENT_LENGTH,
        big.len().to_string().parse().unwrap(),
    );
    let r = send(&h.app, req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    all.insert("payload_too_large".into(), shown(&r));

    // A path parameter that is not UTF-8 once decoded.
    let r = send(&h.app, raw(Method::GET, &e("/rivers/%FF"), None, "")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    all.insert("undecodable_path".into(), shown(&r));

    insta::assert_json_snapshot!("layer_errors", all);
}

#[tokio::test]
async fn json_routes_refuse_other_media_types_with_415_before_any_call() {
    // No expectation: the mock panics if the upstream is touched.
    let h = harness(MockBackend::new());
    let mut all = serde_json::Map::new();
    let body = r#"{"name": "x"}"#;
    for (name, method, path, ct) in [
        ("text_plain", Method::POST, e("/rivers"), Some("text/plain")),
        ("missing", Method::POST, e("/connections"), None),
        (
            "form",
            Method::PUT,
            e("/variables"),
            Some("application/x-www-form-urlencoded"),
        ),
        (
            "merge_patch_elsewhere",
            Method::PUT,
            e(&format!("/rivers/{FLOW}")),
            Some("application/merge-patch+json"),
        ),
        (
            "patch_text",
            Method::PATCH,
            b(&format!("/data_flows/{FLOW}")),
            Some("text/plain"),
        ),
        (
            "hostile",
            Method::PUT,
            b(&format!("/data_flows/{FLOW}/source_tables")),
            Some("application/json\"x y"),
        ),
    ] {
        let r = send(&h.app, raw(method, &path, ct, body)).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}");
        all.insert(name.into(), shown(&r));
    }
    insta::assert_json_snapshot!("unsupported_media_types", all);

    // Without a key, 401 comes first.
    let mut req = raw(Method::POST, &e("/rivers"), Some("text/plain"), body);
    req.headers_mut().remove(header::AUTHORIZATION);
    assert_eq!(send(&h.app, req).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn json_media_types_are_matched_by_essence() {
    let mut m = MockBackend::new();
    m.expect_create_data_flow()
        .times(2)
        .returning(|_, _| Ok(flow_doc("disabled")));
    let h = harness(m);
    for ct in ["application/json", "Application/JSON; charset=utf-8"] {
        let r = send(&h.app, raw(Method::POST, &e("/rivers"), Some(ct), "{}")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{ct}: {}", r.text());
    }
}

#[tokio::test(start_paused = true)]
async fn the_request_deadline_answers_504_with_the_shape() {
    let mut m = MockBackend::new();
    m.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("active")));
    let (slow, _) = Slow::new(m, Duration::from_secs(300));
    let mut config = config(Arc::new(slow));
    config.limits.request_timeout = Duration::from_secs(120);
    let h = harness_of(config);
    let started = tokio::time::Instant::now();
    let r = get(&h.app, &e(&format!("/rivers/{FLOW}")), ADMIN).await;
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(started.elapsed(), Duration::from_secs(120));
    insta::assert_json_snapshot!("request_deadline", shown(&r));
}
