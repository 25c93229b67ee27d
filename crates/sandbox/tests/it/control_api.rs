//! The control API under `/_sandbox` over real HTTP: the sandbox token, strict JSON bodies, and
//! the same effects as `Control` (faults, clock, steps, counts, reset), without ever being counted
//! or faulted itself.

use bdi_sandbox::demo;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Harness, Resp, WINDOW};

impl Harness {
    /// A control call with the sandbox token.
    async fn control_call(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.send(method, &self.url(path), body, Some(&self.token))
            .await
    }

    async fn control_post(&self, path: &str, body: &Value) -> Resp {
        self.control_call(Method::POST, path, Some(body)).await
    }

    async fn count(&self, method: &str, path_contains: &str) -> u64 {
        let r = self
            .control_call(
                Method::GET,
                &format!("/_sandbox/requests?method={method}&path_contains={path_contains}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()["count"].as_u64().expect("count")
    }
}

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/_sandbox/faults"),
    ("POST", "/_sandbox/clock/advance"),
    ("GET", "/_sandbox/requests"),
    ("POST", "/_sandbox/latency"),
    ("POST", "/_sandbox/steps"),
    ("POST", "/_sandbox/reset"),
    ("GET", "/_sandbox/nothing-here"),
];

#[tokio::test]
async fn every_control_route_needs_the_sandbox_token() {
    let h = Harness::start().await;
    for (method, path) in ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let url = h.url(path);
        let body = json!({});
        let none = h.send(method.clone(), &url, Some(&body), None).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{path}");
        let wrong = h.send(method, &url, Some(&body), Some("nope")).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(wrong.headers["www-authenticate"], "Bearer");
    }
    // Refused control calls changed nothing and were not counted.
    assert_eq!(h.get(&h.e("/rivers")).await.status, StatusCode::OK);
    assert_eq!(h.count("", "").await, 1);
}

#[tokio::test]
async fn faults_over_http_fail_rate_limit_drop_and_fail_pages() {
    let h = Harness::start().await;
    let r = h
        .control_post(
            "/_sandbox/faults",
            &json!({"kind": "fail", "method": "get", "path_contains": "/rivers", "status": 503, "times": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"kind": "fail", "method": "GET", "path_contains": "/rivers", "times": 2, "status": 503})
    );
    for _ in 0..2 {
        assert_eq!(
            h.get(&h.e("/rivers")).await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(h.get(&h.e("/rivers")).await.status, StatusCode::OK);

    let r = h
        .control_post(
            "/_sandbox/faults",
            &json!({"kind": "rate_limit", "path_contains": "/variables", "retry_after_secs": 7}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let limited = h.get(&h.e("/variables")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers["retry-after"], "7");

    let r = h
        .control_post(
            "/_sandbox/faults",
            &json!({"kind": "drop", "method": "POST", "path_contains": "/run"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let run = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)))
        .await;
    assert_eq!(run.status, StatusCode::BAD_GATEWAY);
    let groups = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_run_groups?{WINDOW}",
            demo::ORDERS_FLOW_ID
        )))
        .await
        .json();
    assert_eq!(groups["total_items"], 4, "the lost run did start");

    let r = h
        .control_post(
            "/_sandbox/faults",
            &json!({"kind": "fail_page", "path_contains": "/connections", "page": 2, "status": 500}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(h.get(&h.e("/connections")).await.status, StatusCode::OK);
    assert_eq!(
        h.get(&h.e("/connections?page=2")).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn control_calls_are_neither_counted_nor_faulted() {
    let h = Harness::start().await;
    // A rule matching every request would hit control calls if they went through the fault layer.
    let r = h
        .control_post(
            "/_sandbox/faults",
            &json!({"kind": "fail", "status": 500, "times": 1000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(h.count("", "").await, 0);
    assert_eq!(h.count("*", "_sandbox").await, 0);
    h.get(&h.e("/rivers?name=orders")).await;
    h.get(&h.e(&format!("/rivers/{}", demo::ORDERS_FLOW_ID)))
        .await;
    assert_eq!(h.count("GET", "/rivers").await, 2);
    assert_eq!(h.count("get", "name%3Dorders").await, 1);
    assert_eq!(h.count("DELETE", "").await, 0);
    assert_eq!(h.control.request_count("", ""), 2);
    let reset = h.control_post("/_sandbox/reset", &json!({})).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(h.count("", "").await, 0);
    assert_eq!(h.get(&h.e("/rivers")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_clock_moves_the_throttle_window() {
    let h = Harness::start().await;
    let run = h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID));
    assert_eq!(h.post_empty(&run).await.status, StatusCode::ACCEPTED);
    assert_eq!(h.post_empty(&run).await.status, StatusCode::ACCEPTED);
    assert_eq!(
        h.post_empty(&run).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let r = h
        .control_post("/_sandbox/clock/advance", &json!({"seconds": 61}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["advanced_seconds"], 61);
    assert!(r.json()["now"].as_str().expect("now").ends_with('Z'));
    assert_eq!(h.post_empty(&run).await.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn steps_and_latency_are_set_and_reset() {
    let h = Harness::start().await;
    let r = h
        .control_post("/_sandbox/steps", &json!({"polls": 0}))
        .await;
    assert_eq!(r.json(), json!({"polls": 0}));
    let run = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::REPORT_FLOW_ID)))
        .await
        .json();
    assert_eq!(
        run["runs"][0]["status"], "succeeded",
        "0 steps finish at once"
    );
    let r = h
        .control_post("/_sandbox/latency", &json!({"milliseconds": 0}))
        .await;
    assert_eq!(r.json(), json!({"milliseconds": 0}));
    // Reset restores the two-poll default.
    let r = h.control_call(Method::POST, "/_sandbox/reset", None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "an empty body resets too: {}",
        r.text
    );
    let run = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::REPORT_FLOW_ID)))
        .await
        .json();
    assert_eq!(run["runs"][0]["status"], "pending");
}

#[tokio::test]
async fn bodies_are_validated_strictly() {
    let h = Harness::start().await;
    let first_error = |r: Resp| -> (String, Value) {
        let e = r.first_error();
        (e["type"].as_str().unwrap().to_owned(), e["loc"].clone())
    };
    let cases = [
        (
            "/_sandbox/faults",
            json!({}),
            "missing",
            json!(["body", "kind"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "explode"}),
            "enum",
            json!(["body", "kind"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "fail"}),
            "missing",
            json!(["body", "status"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "fail", "status": 200}),
            "greater_than_equal",
            json!(["body", "status"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "fail", "status": "503"}),
            "int_type",
            json!(["body", "status"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "fail", "status": 503, "times": 0}),
            "greater_than_equal",
            json!(["body", "times"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "fail", "status": 503, "retry_after_secs": 1}),
            "extra_forbidden",
            json!(["body", "retry_after_secs"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "drop", "method": "GET /x"}),
            "string_pattern_mismatch",
            json!(["body", "method"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "drop", "path_contains": 5}),
            "string_type",
            json!(["body", "path_contains"]),
        ),
        (
            "/_sandbox/faults",
            json!({"kind": "fail_page", "status": 500}),
            "missing",
            json!(["body", "page"]),
        ),
        (
            "/_sandbox/clock/advance",
            json!({}),
            "missing",
            json!(["body", "seconds"]),
        ),
        (
            "/_sandbox/clock/advance",
            json!({"seconds": -1}),
            "greater_than_equal",
            json!(["body", "seconds"]),
        ),
        (
            "/_sandbox/clock/advance",
            json!({"seconds": 1.5}),
            "int_type",
            json!(["body", "seconds"]),
        ),
        (
            "/_sandbox/clock/advance",
            json!({"seconds": 18_446_744_073_709_551_615_u64}),
            "less_than_equal",
            json!(["body", "seconds"]),
        ),
        (
            "/_sandbox/clock/advance",
            json!({"seconds": 1, "minutes": 2}),
            "extra_forbidden",
            json!(["body", "minutes"]),
        ),
        (
            "/_sandbox/latency",
            json!({"milliseconds": 60_001}),
            "less_than_equal",
            json!(["body", "milliseconds"]),
        ),
        (
            "/_sandbox/steps",
            json!({"polls": true}),
            "int_type",
            json!(["body", "polls"]),
        ),
        (
            "/_sandbox/reset",
            json!({"everything": true}),
            "extra_forbidden",
            json!(["body", "everything"]),
        ),
    ];
    for (path, body, kind, loc) in cases {
        let r = h.control_post(path, &body).await;
        assert_eq!(first_error(r), (kind.to_owned(), loc), "{path} {body}");
    }
    // Not JSON, or not an object.
    let r = h
        .http
        .post(h.url("/_sandbox/steps"))
        .bearer_auth(&h.token)
        .body("{polls: 1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = h.control_post("/_sandbox/steps", &json!([1])).await;
    assert_eq!(first_error(r).0, "model_attributes_type");
    // Unknown query parameters of the count are refused too.
    let r = h
        .control_call(Method::GET, "/_sandbox/requests?path=/rivers", None)
        .await;
    assert_eq!(first_error(r).0, "extra_forbidden");
    // Nothing was applied: no fault fires.
    assert_eq!(h.get(&h.e("/rivers")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_control_paths_and_methods_answer_404_and_405() {
    let h = Harness::start().await;
    let r = h.control_call(Method::GET, "/_sandbox/clock", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.detail(), "Not Found");
    let r = h.control_call(Method::GET, "/_sandbox", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.control_call(Method::GET, "/_sandbox/faults", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = h
        .control_call(Method::POST, "/_sandbox/requests", Some(&json!({})))
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h.count("", "").await, 0);
}
