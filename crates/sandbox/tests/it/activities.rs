//! The Activities API, derived from the stored runs.

use bdi_sandbox::demo;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Harness, WINDOW};

#[tokio::test]
async fn time_window_is_required_except_for_the_run_group_detail() {
    let h = Harness::start().await;
    for path in [
        "/activities_statistics".to_owned(),
        "/activities".to_owned(),
        format!("/rivers/{}/activities_statistics", demo::ORDERS_FLOW_ID),
        format!("/rivers/{}/activities_targets", demo::ORDERS_FLOW_ID),
        format!("/rivers/{}/activities_run_groups", demo::ORDERS_FLOW_ID),
        format!("/rivers/{}/activities_sub_rivers", demo::ORDERS_FLOW_ID),
    ] {
        let r = h.get(&h.e(&path)).await;
        assert_eq!(
            r.first_error()["loc"],
            json!(["query", "start_time"]),
            "{path}"
        );
        assert_eq!(
            h.get(&h.e(&format!("{path}?{WINDOW}"))).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let detail = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_run_groups/{}",
            demo::ORDERS_FLOW_ID,
            demo::ORDERS_PARTIAL_RUN_GROUP_ID
        )))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    let detail = detail.json();
    assert_eq!(detail["status"], "partially succeeded");
    assert_eq!(detail["succeeded"], 2);
    assert_eq!(detail["failed"], 1);
    assert_eq!(detail["running"], 0);
}

#[tokio::test]
async fn statistics_and_run_groups_agree_with_the_runs() {
    let h = Harness::start().await;
    let stats = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_statistics?{WINDOW}",
            demo::ORDERS_FLOW_ID
        )))
        .await
        .json();
    assert_eq!(stats["total_runs"], 9);
    assert_eq!(stats["succeeded"], 8);
    assert_eq!(stats["failed"], 1);
    let env_stats = h
        .get(&h.e(&format!("/activities_statistics?{WINDOW}&status=failed")))
        .await
        .json();
    assert_eq!(env_stats["total_runs"], 1);
    // Both spellings filter the same way.
    let a = h
        .get(&h.e(&format!("/activities_statistics?{WINDOW}&status=succeed")))
        .await
        .json();
    let b = h
        .get(&h.e(&format!("/activities_statistics?{WINDOW}&status=succeeded")))
        .await
        .json();
    assert_eq!(a["total_runs"], b["total_runs"]);
    assert_eq!(
        h.get(&h.e(&format!("/activities_statistics?{WINDOW}&status=great")))
            .await
            .first_error()["type"],
        "enum"
    );

    let groups = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_run_groups?{WINDOW}",
            demo::ORDERS_FLOW_ID
        )))
        .await
        .json();
    assert_eq!(groups["total_items"], 3);
    let first = &groups["items"][0];
    assert_eq!(
        first["run_group_id"],
        demo::ORDERS_LAST_RUN_GROUP_ID,
        "latest first"
    );
    for key in [
        "run_group_id",
        "status",
        "rpu",
        "max_duration_in_milliseconds",
        "run_date_epoch_milliseconds",
        "run_date_utc",
        "trigger",
    ] {
        assert!(first.get(key).is_some(), "{key}");
    }
    let partial = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_run_groups?{WINDOW}&status=partially%20succeed",
            demo::ORDERS_FLOW_ID
        )))
        .await
        .json();
    assert_eq!(partial["total_items"], 1);
    let small = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_run_groups?{WINDOW}&items_per_page=1",
            demo::ORDERS_FLOW_ID
        )))
        .await
        .json();
    assert!(
        small["next_page"]
            .as_str()
            .expect("next")
            .contains("start_time=")
    );
    let bad = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_run_groups?{WINDOW}&items_per_page=201",
            demo::ORDERS_FLOW_ID
        )))
        .await;
    assert_eq!(bad.first_error()["loc"], json!(["query", "items_per_page"]));

    let targets = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_targets?{WINDOW}&sort_by=table_name&sort_order=asc",
            demo::ORDERS_FLOW_ID
        )))
        .await
        .json();
    let names: Vec<&str> = targets["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["target_name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["customers", "order_items", "orders"]);

    let per_river = h.get(&h.e(&format!("/activities?{WINDOW}"))).await.json();
    assert_eq!(
        per_river["total_items"], 2,
        "the orders and report flows have runs"
    );
    let subs = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_sub_rivers?{WINDOW}",
            demo::ORDERS_FLOW_ID
        )))
        .await
        .json();
    assert_eq!(subs["items"], json!([]));
}

#[tokio::test]
async fn a_new_run_group_shows_up_running_then_finished() {
    let h = Harness::start().await;
    let r = h
        .post_empty(&h.e(&format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)))
        .await
        .json();
    let group = r["run_group_id"].as_str().expect("group");
    let url = h.e(&format!(
        "/rivers/{}/activities_run_groups/{group}",
        demo::ORDERS_FLOW_ID
    ));
    let first = h.get(&url).await.json();
    assert_eq!(first["status"], "running");
    assert_eq!(first["running"], 3);
    assert!(first["run_end_date_utc"].is_null());
    let second = h.get(&url).await.json();
    assert_eq!(second["status"], "succeeded");
    assert_eq!(second["succeeded"], 3);
    assert_eq!(second["trigger"], "api");
    let missing = h
        .get(&h.e(&format!(
            "/rivers/{}/activities_run_groups/{}",
            demo::ORDERS_FLOW_ID,
            "e".repeat(32)
        )))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
