//! Fault injection through `Control`: failures, 429s, lost responses, latency, failing pages and
//! request counting.

use std::time::{Duration, Instant};

use bdi_sandbox::demo;
use reqwest::StatusCode;

use crate::support::{Harness, WINDOW};

#[tokio::test]
async fn fail_next_answers_the_status_then_recovers() {
    let h = Harness::start().await;
    h.control.fail_next("GET", "/rivers", 503, 2);
    let url = h.e("/rivers");
    for _ in 0..2 {
        let r = h.get(&url).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.json()["detail"].is_string());
    }
    assert_eq!(h.get(&url).await.status, StatusCode::OK);
    // Method matters.
    h.control.fail_next("POST", "/rivers", 500, 1);
    assert_eq!(h.get(&url).await.status, StatusCode::OK);
    assert_eq!(h.control.request_count("GET", "/rivers"), 4);
}

#[tokio::test]
async fn rate_limit_next_sends_retry_after_when_asked() {
    let h = Harness::start().await;
    h.control.rate_limit_next("GET", "/connections", Some(7), 1);
    h.control.rate_limit_next("GET", "/variables", None, 1);
    let r = h.get(&h.e("/connections")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "7");
    let r = h.get(&h.e("/variables")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.get("retry-after").is_none());
    assert_eq!(h.get(&h.e("/connections")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn drop_next_handles_the_request_but_loses_the_response() {
    let h = Harness::start().await;
    h.control.drop_next("POST", "/run", 1);
    let r = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(h.control.request_count("POST", "/run"), 1);
    // The run did start: a fourth run group exists even though the client saw a failure.
    let groups = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_run_groups?{WINDOW}",
            demo::ORDERS_FLOW_ID
        )))
        .await
        .json();
    assert_eq!(groups["total_items"], 4);
    // And it counted against the throttle.
    let second = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)))
        .await;
    assert_eq!(second.status, StatusCode::ACCEPTED);
    let third = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)))
        .await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn fail_page_keeps_failing_only_that_page() {
    let h = Harness::start().await;
    h.control.fail_page("/connections", 2, 500);
    assert_eq!(h.get(&h.e("/connections")).await.status, StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(
            h.get(&h.e("/connections?page=2")).await.status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_eq!(
        h.get(&h.e("/connections?page=3")).await.status,
        StatusCode::OK
    );
    assert_eq!(h.get(&h.e("/rivers?page=2")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn latency_delays_every_request() {
    let h = Harness::start().await;
    h.control.set_latency(Duration::from_millis(40));
    let started = Instant::now();
    assert_eq!(h.get(&h.e("/variables")).await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(40));
    h.control.set_latency(Duration::ZERO);
}

#[tokio::test]
async fn request_count_matches_method_and_substring() {
    let h = Harness::start().await;
    h.get(&h.e("/rivers?name=orders")).await;
    h.get(&h.e(&format!("/rivers/{}", demo::ORDERS_FLOW_ID)))
        .await;
    assert_eq!(h.control.request_count("GET", "/rivers"), 2);
    assert_eq!(h.control.request_count("get", "name=orders"), 1);
    assert_eq!(h.control.request_count("*", "/rivers"), 2);
    assert_eq!(h.control.request_count("DELETE", "/rivers"), 0);
}

#[tokio::test]
async fn set_steps_controls_how_long_a_run_takes() {
    let h = Harness::start().await;
    h.control.set_steps(3);
    let r = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)))
        .await
        .json();
    let url = h.e(&format!(
        "/rivers/{}/runs/{}",
        demo::ORDERS_FLOW_ID,
        r["runs"][0]["run_id"].as_str().expect("id")
    ));
    let seen: Vec<String> = {
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(
                h.get(&url).await.json()["status"]
                    .as_str()
                    .expect("status")
                    .to_owned(),
            );
        }
        seen
    };
    assert_eq!(seen, vec!["running", "running", "succeeded", "succeeded"]);
    h.control.set_steps(0);
    let r = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::REPORT_FLOW_ID)))
        .await
        .json();
    assert_eq!(r["runs"][0]["status"], "succeeded");
}
