//! `bdi activity summary|flow|groups|group` against the mock.

use bdi_domain::MockBackend;
use bdi_domain::models::Page;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn summary_with_flows() {
    let mut mock = MockBackend::new();
    mock.expect_activities_statistics().returning(|_, q| {
        assert_eq!(q.search.as_deref(), Some("orders"));
        Ok(json!({"total_rpu": 12.5, "runs": {"succeeded": 40, "failed": 2}}))
    });
    mock.expect_activities().returning(|_, q| {
        assert_eq!(q.page.map(|p| p.items_per_page), Some(100));
        Ok(Page::single(vec![
            json!({"river_id": FLOW, "river_name": "orders to snowflake", "rpu": 12.5}),
        ]))
    });
    let args = [
        "activity",
        "summary",
        "--start",
        "2026-05-01",
        "--end",
        "2026-05-25",
        "--search",
        "orders",
        "--flows",
    ];
    insta::assert_snapshot!(bdi(&args, mock).await, @r"
    exit_code: 0
    ----- stdout -----
    statistics:
      total_rpu: 12.5
      runs:
        succeeded: 40
        failed: 2
    data_flows:
    - river_id: 65a1b2c3d4e5f60718293a4b
      river_name: orders to snowflake
      rpu: 12.5
    total_data_flows: 1
    ----- stderr -----
    ");
}

#[tokio::test]
async fn flow_statistics_and_targets() {
    let mut mock = MockBackend::new();
    mock.expect_data_flow_statistics().returning(|_, _, q| {
        assert_eq!(q.status, vec!["failed".to_owned()]);
        Ok(json!({"rpu": 3.0}))
    });
    mock.expect_data_flow_targets()
        .returning(|_, _, _| Ok(json!([{"target_name": "ORDERS", "status": "failed"}])));
    let out = bdi(
        &["activity", "flow", FLOW, "--status", "failed", "-o", "json"],
        mock,
    )
    .await;
    insta::assert_snapshot!(out, @r#"
    exit_code: 0
    ----- stdout -----
    {
      "statistics": {
        "rpu": 3.0
      },
      "targets": [
        {
          "target_name": "ORDERS",
          "status": "failed"
        }
      ]
    }
    ----- stderr -----
    "#);
}

#[tokio::test]
async fn groups_as_a_table_and_one_group() {
    let mut mock = MockBackend::new();
    mock.expect_data_flow_run_groups().returning(|_, _, _| {
        Ok(Page::single(vec![
            json!({"run_group_id": GROUP, "status": "succeeded", "rpu": 1.5, "tables": {"ORDERS": "succeeded"}}),
            json!({"run_group_id": "1f4e8b1c2d3a4b5c6d7e8f9a0b1c2d3e", "status": "failed", "rpu": 0.2}),
        ]))
    });
    insta::assert_snapshot!(bdi(&["activity", "groups", FLOW], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    RUN_GROUP_ID                      STATUS     RPU
    0f4e8b1c2d3a4b5c6d7e8f9a0b1c2d3e  succeeded  1.5
    1f4e8b1c2d3a4b5c6d7e8f9a0b1c2d3e  failed     0.2
    ----- stderr -----
    ");
    let mut mock = MockBackend::new();
    mock.expect_data_flow_run_group().returning(|_, _, g| {
        assert_eq!(g.as_str(), GROUP);
        Ok(json!({"run_group_id": GROUP, "succeeded": 2, "failed": 0}))
    });
    insta::assert_snapshot!(bdi(&["activity", "group", FLOW, GROUP], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    run_group_id: 0f4e8b1c2d3a4b5c6d7e8f9a0b1c2d3e
    succeeded: 2
    failed: 0
    ----- stderr -----
    ");
}
