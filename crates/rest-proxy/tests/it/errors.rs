//! The error shape: every domain error leaves as `{"error": {"code", "message", "hint",
//! "upstream_detail"?}}` with a fitting status, and internal detail never leaves in a 5xx.

use std::time::Duration;

use axum::http::StatusCode;
use bdi_domain::{Error, MockBackend, StateConflict, ValidationDetail};
use serde_json::{Value, json};

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
        message.contains("may or may not have started") && message.contains("list_runs("),
        "{message}"
    );
    assert!(
        !message.contains("10.0.0.7"),
        "internal detail stays inside: {message}"
    );
}
