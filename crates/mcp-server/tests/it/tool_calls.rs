//! Each tool against `MockBackend`: the arguments reach the backend as they should, and results
//! are shaped as promised.

use bdi_domain::models::{FlowStatus, Toggle};
use bdi_domain::{Env, EnvironmentId, MockBackend};
use mockall::predicate::*;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn list_data_flows_filters_by_name_and_pages() {
    let mut mock = MockBackend::new();
    mock.expect_list_data_flows()
        .withf(|env, q| {
            *env == Env::Default && q.name.as_deref() == Some("orders") && q.page.page == 2 && q.page.items_per_page == 5
                && q.river_status == [FlowStatus::Active]
        })
        .times(1)
        .returning(|_, _| {
            Ok(page(json!([{"river_cross_id": FLOW, "name": "orders", "river_status": "active", "river_type": "source_to_target",
                "datasource_id": "mysql", "is_api_v2": true, "river_schedulers": ["0 * * * *"], "group_name": "g", "last_user_name_modified": "x"}]), 2, 11, true))
        });
    let c = client(mock).await;
    let r = call(
        &c,
        "list_data_flows",
        json!({"name": "orders", "status": "active", "page": 2, "items_per_page": 5}),
    )
    .await;
    insta::assert_json_snapshot!("list_data_flows_result", ok(&r));
}

#[tokio::test]
async fn environment_id_overrides_the_default() {
    let mut mock = MockBackend::new();
    mock.expect_list_variables()
        .withf(|env| *env == Env::Id(EnvironmentId::parse(ENV2).unwrap()))
        .times(1)
        .returning(|_| {
            Ok([("DAYS_AGO".to_owned(), "3".to_owned())]
                .into_iter()
                .collect())
        });
    let c = client(mock).await;
    let r = call(&c, "list_variables", json!({"environment_id": ENV2})).await;
    assert_eq!(ok(&r), json!({"variables": {"DAYS_AGO": "3"}, "count": 1}));
}

#[tokio::test]
async fn get_run_accepts_a_run_group_id_and_says_what_next() {
    let mut mock = MockBackend::new();
    mock.expect_get_run()
        .withf(|_, f, r| f.as_str() == FLOW && r.as_str() == GROUP)
        .times(1)
        .returning(|_, _, _| Ok(run("failed")));
    let c = client(mock).await;
    let r = call(
        &c,
        "get_run",
        json!({"data_flow_id": FLOW, "run_id": GROUP}),
    )
    .await;
    insta::assert_json_snapshot!("get_run_result", ok(&r));
}

#[tokio::test]
async fn get_run_logs_tails_and_filters() {
    let mut mock = MockBackend::new();
    let log = "timestamp,level,message\n".to_owned()
        + &(1..=300)
            .map(|i| format!("{i},INFO,line {i}"))
            .collect::<Vec<_>>()
            .join("\n")
        + "\n301,ERROR,table broken_events: access denied\n";
    mock.expect_get_run_logs()
        .times(2)
        .returning(move |_, _, _| Ok(log.clone()));
    let c = client(mock).await;
    let r = ok(&call(
        &c,
        "get_run_logs",
        json!({"data_flow_id": FLOW, "run_id": RUN}),
    )
    .await);
    assert_eq!(
        (
            r["total_lines"].as_u64(),
            r["returned_lines"].as_u64(),
            r["truncated"]["omitted_lines"].as_u64()
        ),
        (Some(301), Some(200), Some(101))
    );
    assert!(
        r["truncated"]["reason"]
            .as_str()
            .unwrap()
            .contains("tail_lines=200")
            && r["truncated"]["next"]
                .as_str()
                .unwrap()
                .contains("tail_lines"),
        "{r}"
    );
    assert!(
        r["csv"]
            .as_str()
            .unwrap()
            .starts_with("timestamp,level,message\n102,INFO")
    );
    let r = ok(&call(
        &c,
        "get_run_logs",
        json!({"data_flow_id": FLOW, "run_id": RUN, "errors_only": true}),
    )
    .await);
    assert_eq!(
        r["csv"],
        "timestamp,level,message\n301,ERROR,table broken_events: access denied"
    );
}

#[tokio::test]
async fn empty_logs_explain_why() {
    let mut mock = MockBackend::new();
    mock.expect_get_run_logs()
        .returning(|_, _, _| Ok(String::new()));
    let c = client(mock).await;
    let r = ok(&call(
        &c,
        "get_run_logs",
        json!({"data_flow_id": FLOW, "run_id": RUN}),
    )
    .await);
    assert!(r["note"].as_str().unwrap().contains("may keep no logs"));
}

#[tokio::test]
async fn list_runs_sends_the_window_and_filters() {
    let mut mock = MockBackend::new();
    mock.expect_list_runs()
        .withf(|_, f, q| {
            f.as_str() == FLOW
                && q.start_time.to_query() == "2026-11-01T00:00:00"
                && q.end_time.to_query() == "2026-11-20T12:30:00"
                && q.run_group_id.as_ref().map(bdi_domain::RunId::as_str) == Some(GROUP)
                && q.page.items_per_page == 20
        })
        .times(1)
        .returning(|_, _, _| {
            Ok(page(
                json!([
                    serde_json::to_value(run("succeeded")).unwrap(),
                    serde_json::to_value(run("failed")).unwrap()
                ]),
                1,
                2,
                false,
            ))
        });
    let c = client(mock).await;
    let r = ok(&call(&c, "list_runs", json!({"data_flow_id": FLOW, "start_time": "2026-11-01T00:00:00", "end_time": "2026-11-20T12:30:00Z", "run_group_id": GROUP, "status": "failed"})).await);
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(r["items"][0]["status"], "failed");
    assert_eq!(r["has_next"], false);
}

#[tokio::test]
async fn delete_data_flow_refuses_an_active_flow_without_deleting() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc(FLOW, "active")));
    mock.expect_delete_data_flow().times(0);
    let c = client(mock).await;
    let e = err(&call(&c, "delete_data_flow", json!({"data_flow_id": FLOW})).await);
    assert!(e.contains("disable_data_flow"), "{e}");
}

#[tokio::test]
async fn delete_data_flow_returns_the_vendor_shape() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc(FLOW, "disabled")));
    mock.expect_delete_data_flow()
        .withf(|_, f| f.as_str() == FLOW)
        .times(1)
        .returning(|_, _| Ok(()));
    let c = client(mock).await;
    assert_eq!(
        ok(&call(&c, "delete_data_flow", json!({"data_flow_id": FLOW})).await),
        json!({"deleted": true, "data_flow_id": FLOW})
    );
}

#[tokio::test]
async fn patch_data_flow_merges_and_puts_the_whole_document() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc(FLOW, "disabled")));
    mock.expect_update_data_flow()
        .withf(|_, f, body| {
            f.as_str() == FLOW
                && body["name"] == "orders v2"
                && body["properties"]["target"]["schema_name"] == "PUBLIC"
                && body["properties"]["target"]["loading_method"] == "append"
                && !body.contains_key("cross_id")
                && !body.contains_key("account_id")
                && !body.contains_key("group_name")
        })
        .times(1)
        .returning(|_, _, body| {
            let mut doc = serde_json::Value::Object(body.clone());
            doc["cross_id"] = json!(FLOW);
            Ok(serde_json::from_value(doc).unwrap())
        });
    let c = client(mock).await;
    let r = ok(&call(&c, "patch_data_flow", json!({"data_flow_id": FLOW, "patch": {"name": "orders v2", "properties": {"target": {"schema_name": "PUBLIC"}}}})).await);
    assert_eq!(r["name"], "orders v2");
}

#[tokio::test]
async fn disable_returns_the_vendor_shape() {
    let mut mock = MockBackend::new();
    mock.expect_disable_data_flow()
        .times(1)
        .returning(|_, _| Ok(Toggle::AlreadyInState));
    mock.expect_get_operation().times(0);
    let c = client(mock).await;
    let r = ok(&call(&c, "disable_data_flow", json!({"data_flow_id": FLOW})).await);
    assert_eq!(r["disabled"], true);
    assert_eq!(r["data_flow_id"], FLOW);
}

#[tokio::test]
async fn run_without_wait_returns_at_once_with_the_ids() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().withf(|_, f, sub| f.as_str() == FLOW && !sub).times(1).returning(|_, _, _| {
        Ok(serde_json::from_value(json!({"runs": [{"run_id": RUN, "status": "pending"}], "river_cross_id": FLOW, "run_group_id": GROUP})).unwrap())
    });
    mock.expect_get_run().times(0);
    let c = client(mock).await;
    let r = ok(&call(&c, "run_data_flow", json!({"data_flow_id": FLOW})).await);
    assert_eq!(
        (
            r["run_group_id"].as_str(),
            r["run_id"].as_str(),
            r["status"].as_str(),
            r["finished"].as_bool()
        ),
        (Some(GROUP), Some(RUN), Some("pending"), Some(false))
    );
    assert!(
        r["message"].as_str().unwrap().contains("get_run("),
        "{}",
        r["message"]
    );
}

#[tokio::test]
async fn list_connections_sweeps_pages_and_reports_incomplete_ones() {
    let conn = |n: usize| json!({"cross_id": format!("5f88{n:020x}"), "connection_name": format!("conn {n}"), "connection_type": "MySQL", "connection_type_id": "mysql"});
    let mut mock = MockBackend::new();
    mock.expect_list_connections().returning(move |_, p| {
        assert_eq!(p.items_per_page, 100);
        match p.page {
            1 => Ok(page(
                // A short first page: the listing stays within its budget (`bounded_results`).
                json!((0..30).map(conn).collect::<Vec<_>>()),
                1,
                201,
                true,
            )),
            2 => Err(bdi_domain::Error::Upstream {
                status: 500,
                body: "boom".into(),
            }),
            _ => Ok(page(json!([conn(200)]), 3, 201, false)),
        }
    });
    let c = client(mock).await;
    let r = ok(&call(&c, "list_connections", json!({})).await);
    assert_eq!(r["incomplete_pages"], json!([2]));
    assert_eq!(r["items"].as_array().unwrap().len(), 31);
    assert_eq!(
        r["items"][0],
        json!({"connection_id": "5f880000000000000000000000000000"[..24], "name": "conn 0", "type_id": "mysql", "type_name": "MySQL"})
    );
    assert_eq!(r["items"][30]["name"], "conn 200");
    assert_eq!(
        (r["total_items"].as_u64(), r["has_next"].as_bool()),
        (Some(201), Some(false))
    );
}

#[tokio::test]
async fn upsert_variables_turns_pairs_into_a_map() {
    let mut mock = MockBackend::new();
    mock.expect_upsert_variables()
        .withf(|_, v| {
            v.get("A").map(String::as_str) == Some("1")
                && v.get("B").map(String::as_str) == Some("two")
                && v.len() == 2
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let c = client(mock).await;
    let r = ok(&call(
        &c,
        "upsert_variables",
        json!({"variables": [{"name": "A", "value": "1"}, {"name": "B", "value": "two"}]}),
    )
    .await);
    assert_eq!(r, json!({"updated": true, "count": 2}));
}

#[tokio::test]
async fn get_operation_reports_a_failed_activation_with_a_next_step() {
    let mut mock = MockBackend::new();
    mock.expect_get_operation()
        .with(eq(Env::Default), always())
        .returning(|_, _| Ok(operation("E")));
    let c = client(mock).await;
    let r = ok(&call(&c, "get_operation", json!({"operation_id": OP})).await);
    assert_eq!(r["status"], "E");
    assert_eq!(r["finished"], true);
    assert!(r["next_step"].is_string(), "{r}");
}

#[tokio::test]
async fn delete_connection_returns_the_vendor_shape() {
    let mut mock = MockBackend::new();
    mock.expect_delete_connection()
        .withf(|_, id| id.as_str() == CONN)
        .times(1)
        .returning(|_, _| Ok(()));
    let c = client(mock).await;
    assert_eq!(
        ok(&call(&c, "delete_connection", json!({"connection_id": CONN})).await),
        json!({"deleted": true, "connection_id": CONN})
    );
}

#[tokio::test]
async fn activity_tools_reach_the_activities_endpoints() {
    let mut mock = MockBackend::new();
    mock.expect_data_flow_statistics()
        .times(1)
        .returning(|_, _, q| {
            assert!(q.start_time.is_some() && q.end_time.is_some());
            Ok(json!({"units": 12.5, "succeeded": 4, "failed": 1}))
        });
    mock.expect_data_flow_targets()
        .times(1)
        .returning(|_, _, _| Ok(json!({"items": [{"target_name": "ORDERS", "status": "failed"}]})));
    mock.expect_data_flow_run_group()
        .withf(|_, _, g| g.as_str() == GROUP)
        .times(1)
        .returning(|_, _, _| Ok(json!({"run_group_id": GROUP, "failed": 1})));
    let c = client(mock).await;
    let r = ok(&call(
        &c,
        "get_data_flow_activity",
        json!({"data_flow_id": FLOW, "start_time": "2026-11-01", "end_time": "2026-11-20"}),
    )
    .await);
    assert_eq!(r["statistics"]["units"], 12.5);
    assert_eq!(r["breakdown"]["items"][0]["status"], "failed");
    let r = ok(&call(
        &c,
        "get_run_group",
        json!({"data_flow_id": FLOW, "run_group_id": GROUP}),
    )
    .await);
    assert_eq!(r["failed"], 1);
}
