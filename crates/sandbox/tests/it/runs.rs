//! Runs: the throttle and its sliding window, the required time window, run group ids, failures,
//! logs.

use std::time::Duration;

use bdi_sandbox::demo;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Harness, WINDOW, flow_body};

#[tokio::test]
async fn two_runs_per_flow_per_sliding_minute() {
    let h = Harness::start().await;
    let run = h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID));
    assert_eq!(h.post_empty(&run).await.status, StatusCode::ACCEPTED);
    h.control.advance_clock(Duration::from_secs(30));
    assert_eq!(h.post_empty(&run).await.status, StatusCode::ACCEPTED);
    let third = h.post_empty(&run).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(third.detail().contains("2 times per minute"));
    // 31 s later the first run has left the window, the second has not.
    h.control.advance_clock(Duration::from_secs(31));
    assert_eq!(h.post_empty(&run).await.status, StatusCode::ACCEPTED);
    assert_eq!(
        h.post_empty(&run).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Throttled attempts do not count: after a full minute both slots are free again.
    h.control.advance_clock(Duration::from_secs(61));
    assert_eq!(h.post_empty(&run).await.status, StatusCode::ACCEPTED);
    assert_eq!(h.post_empty(&run).await.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn fifteen_runs_per_token_per_minute() {
    let h = Harness::start().await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let id = h
            .create_flow(&flow_body(&format!("t{i}"), &["orders"]), true)
            .await;
        h.control.set_steps(0);
        h.activate(&id).await;
        ids.push(id);
    }
    let mut accepted = 0;
    for id in &ids {
        for _ in 0..2 {
            let r = h.post_empty(&h.e(&format!("/rivers/{id}/run"))).await;
            if r.status == StatusCode::ACCEPTED {
                accepted += 1;
            } else {
                assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
                assert!(r.detail().contains("15"));
            }
        }
    }
    assert_eq!(accepted, 15);
    h.control.advance_clock(Duration::from_secs(60));
    assert_eq!(
        h.post_empty(&h.e(&format!("/rivers/{}/run", ids[0])))
            .await
            .status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn run_preconditions_are_400() {
    let h = Harness::start().await;
    let r = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::NEW_FLOW_ID)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.detail(),
        "The data flow is not active. Activate it before running"
    );
    h.control.set_steps(0);
    h.activate(demo::NEW_FLOW_ID).await;
    let r = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::NEW_FLOW_ID)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.detail().contains("No source tables"));
    let r = h
        .post_empty(&h.e(&format!(
            "/rivers/{}/run?run_sub_rivers=maybe",
            demo::ORDERS_FLOW_ID
        )))
        .await;
    assert_eq!(r.first_error()["type"], "bool_parsing");
}

#[tokio::test]
async fn listing_runs_requires_a_valid_time_window() {
    let h = Harness::start().await;
    let base = h.e(&format!("/rivers/{}/runs", demo::ORDERS_FLOW_ID));
    let r = h.get(&base).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = r.json()["detail"].clone();
    assert_eq!(detail[0]["loc"], json!(["query", "start_time"]));
    assert_eq!(detail[0]["type"], "missing");
    assert_eq!(detail[1]["loc"], json!(["query", "end_time"]));
    let r = h
        .get(&format!(
            "{base}?start_time=yesterday&end_time=2100-01-01T00:00:00"
        ))
        .await;
    assert_eq!(r.first_error()["loc"], json!(["query", "start_time"]));
    let r = h.get(&format!("{base}?{WINDOW}&sort_order=up")).await;
    assert_eq!(r.first_error()["type"], "enum");
    let r = h.get(&format!("{base}?{WINDOW}&sort_by=rows")).await;
    assert_eq!(r.first_error()["loc"], json!(["query", "sort_by"]));
    for bad in ["0", "201", "x"] {
        let r = h
            .get(&format!("{base}?{WINDOW}&items_per_page={bad}"))
            .await;
        assert_eq!(
            r.first_error()["loc"],
            json!(["query", "items_per_page"]),
            "{bad}"
        );
    }
    let ok = h
        .get(&format!("{base}?{WINDOW}&items_per_page=200"))
        .await
        .json();
    assert_eq!(ok["total_items"], 9);
    assert_eq!(ok["river_cross_id"], demo::ORDERS_FLOW_ID);
    let zoned = h
        .get(&format!(
            "{base}?start_time=2000-01-01T00:00:00Z&end_time=2100-01-01T00:00:00.000000"
        ))
        .await;
    assert_eq!(zoned.status, StatusCode::OK);
}

#[tokio::test]
async fn runs_filter_by_group_and_target_and_read_by_group_id() {
    let h = Harness::start().await;
    let base = h.e(&format!("/rivers/{}/runs", demo::ORDERS_FLOW_ID));
    let group = h
        .get(&format!(
            "{base}?{WINDOW}&run_group_id={}",
            demo::ORDERS_PARTIAL_RUN_GROUP_ID
        ))
        .await
        .json();
    assert_eq!(group["total_items"], 3);
    let failed = group["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["status"] == "failed")
        .expect("a failed run");
    assert_eq!(failed["run_id"], demo::ORDERS_FAILED_RUN_ID);
    assert!(
        failed["error_description"]
            .as_str()
            .expect("described")
            .contains("order_items")
    );
    let by_target = h
        .get(&format!("{base}?{WINDOW}&target_name=customers"))
        .await
        .json();
    assert_eq!(by_target["total_items"], 3);

    let by_group = h
        .get(&h.e(&format!(
            "/rivers/{}/runs/{}",
            demo::ORDERS_FLOW_ID,
            demo::ORDERS_LAST_RUN_GROUP_ID
        )))
        .await;
    assert_eq!(by_group.status, StatusCode::OK);
    let by_group = by_group.json();
    assert_eq!(by_group["run_group_id"], demo::ORDERS_LAST_RUN_GROUP_ID);
    assert_eq!(by_group["status"], "succeeded");
    let partial = h
        .get(&h.e(&format!(
            "/rivers/{}/runs/{}",
            demo::ORDERS_FLOW_ID,
            demo::ORDERS_PARTIAL_RUN_GROUP_ID
        )))
        .await
        .json();
    assert_eq!(partial["status"], "failed");
    let unknown = h
        .get(&h.e(&format!(
            "/rivers/{}/runs/{}",
            demo::ORDERS_FLOW_ID,
            "f".repeat(32)
        )))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_new_run_polled_by_its_group_id_finishes() {
    let h = Harness::start().await;
    let r = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)))
        .await
        .json();
    let group = r["run_group_id"].as_str().expect("group");
    assert_eq!(r["runs"].as_array().expect("runs").len(), 3);
    let done = h.poll_run(demo::ORDERS_FLOW_ID, group).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["run_group_id"], group);
    for run in r["runs"].as_array().expect("runs") {
        let one = h
            .get(&h.e(&format!(
                "/rivers/{}/runs/{}",
                demo::ORDERS_FLOW_ID,
                run["run_id"].as_str().expect("id")
            )))
            .await
            .json();
        assert_eq!(one["status"], "succeeded");
    }
}

#[tokio::test]
async fn selecting_broken_events_makes_its_run_fail_with_error_logs() {
    let h = Harness::start().await;
    let id = h
        .create_flow(&flow_body("breaks", &["orders", demo::BROKEN_TABLE]), true)
        .await;
    h.activate(&id).await;
    let r = h
        .post_empty(&h.e(&format!("/rivers/{id}/run")))
        .await
        .json();
    let runs = r["runs"].as_array().expect("runs");
    let broken = runs[1]["run_id"].as_str().expect("id");
    let done = h.poll_run(&id, broken).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["target_name"], demo::BROKEN_TABLE);
    assert!(
        done["error_description"]
            .as_str()
            .expect("described")
            .contains("sales.broken_events")
    );
    let ok = h
        .poll_run(&id, runs[0]["run_id"].as_str().expect("id"))
        .await;
    assert_eq!(ok["status"], "succeeded");
    assert!(ok["error_description"].is_null());
    let logs = h
        .get(&h.e(&format!("/rivers/{id}/runs/{broken}/logs")))
        .await
        .text;
    assert!(logs.contains(",ERROR,"), "{logs}");
    assert!(logs.contains("Run finished with status failed"));
}

#[tokio::test]
async fn logs_are_empty_for_sources_without_logs_and_404_for_unknown_runs() {
    let h = Harness::start().await;
    let r = h
        .get(&h.e(&format!(
            "/rivers/{}/runs/{}/logs",
            demo::REPORT_FLOW_ID,
            demo::REPORT_RUN_ID
        )))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.is_empty());
    let r = h
        .get(&h.e(&format!(
            "/rivers/{}/runs/{}/logs",
            demo::ORDERS_FLOW_ID,
            "0".repeat(32)
        )))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pending_run_can_be_canceled() {
    let h = Harness::start().await;
    let r = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)))
        .await
        .json();
    let group = r["run_group_id"].as_str().expect("group");
    let c = h
        .post(
            &h.e(&format!("/rivers/{}/cancel_run", demo::ORDERS_FLOW_ID)),
            &json!({"run_group_id": group}),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    let run = h
        .get(&h.e(&format!(
            "/rivers/{}/runs/{}",
            demo::ORDERS_FLOW_ID,
            r["runs"][0]["run_id"].as_str().expect("id")
        )))
        .await
        .json();
    assert_eq!(run["status"], "canceled");
    assert!(run["end_date_utc"].is_string());
}
