//! The gateway's own routes: run and wait, activate and wait (bounded by `timeout_seconds`),
//! source tables by name, merge-patch, every connection in one call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bdi_domain::MockBackend;
use bdi_domain::models::{Operation, OperationStatus, Page, Toggle};
use serde_json::json;

use crate::support::*;

#[tokio::test(start_paused = true)]
async fn run_waits_for_the_run_to_finish() {
    let mut m = MockBackend::new();
    m.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Ok(triggered()));
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    m.expect_get_run().returning(move |_, _, id| {
        assert_eq!(id.as_str(), RUN);
        let n = p.fetch_add(1, Ordering::SeqCst);
        Ok(run(if n < 2 { "running" } else { "succeeded" }))
    });
    let h = harness(m);
    let r = call(
        &h.app,
        Method::POST,
        &b(&format!("/data_flows/{FLOW}/run")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["outcome"], "finished");
    assert_eq!(body["succeeded"], true);
    assert_eq!(body["run_id"], RUN);
    assert_eq!(body["run"]["status"], "succeeded");
    assert_eq!(body["run_group_id"], GROUP);
    assert!(polls.load(Ordering::SeqCst) >= 3);
}

#[tokio::test(start_paused = true)]
async fn a_wait_is_bounded_by_timeout_seconds() {
    let mut m = MockBackend::new();
    m.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Ok(triggered()));
    m.expect_get_run().returning(|_, _, _| Ok(run("running")));
    let h = harness(m);
    let r = call(
        &h.app,
        Method::POST,
        &b(&format!("/data_flows/{FLOW}/run?timeout_seconds=3")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json()["outcome"], "timed_out");
    assert_eq!(r.json()["run"]["status"], "running");
    assert_eq!(r.json()["succeeded"], serde_json::Value::Null);

    for bad in ["0", "601", "soon"] {
        let r = call(
            &h.app,
            Method::POST,
            &b(&format!("/data_flows/{FLOW}/run?timeout_seconds={bad}")),
            Some(ADMIN),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn run_without_wait_answers_202_at_once() {
    let mut m = MockBackend::new();
    m.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Ok(triggered()));
    let h = harness(m);
    let r = call(
        &h.app,
        Method::POST,
        &b(&format!("/data_flows/{FLOW}/run?wait=false")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json()["outcome"], "not_waited");
    assert_eq!(r.json()["triggered"]["runs"][0]["run_id"], RUN);
}

fn op(status: &str) -> Operation {
    operation(status)
}

#[tokio::test(start_paused = true)]
async fn activate_waits_for_the_operation() {
    let mut m = MockBackend::new();
    m.expect_activate_data_flow().returning(|_, _| {
        Ok(Toggle::Started {
            operation: Box::new(op("W")),
        })
    });
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    m.expect_get_operation().returning(move |_, _| {
        Ok(op(if p.fetch_add(1, Ordering::SeqCst) == 0 {
            "R"
        } else {
            "D"
        }))
    });
    let h = harness(m);
    let r = call(
        &h.app,
        Method::POST,
        &b(&format!("/data_flows/{FLOW}/activate?timeout_seconds=30")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["outcome"], "finished");
    assert_eq!(r.json()["succeeded"], true);
    assert_eq!(r.json()["operation"]["status"], "D");
}

#[tokio::test(start_paused = true)]
async fn a_failed_activation_says_what_to_do() {
    let mut m = MockBackend::new();
    m.expect_activate_data_flow().returning(|_, _| {
        Ok(Toggle::Started {
            operation: Box::new(op("W")),
        })
    });
    m.expect_get_operation().returning(|_, _| Ok(op("E")));
    m.expect_disable_data_flow()
        .returning(|_, _| Ok(Toggle::AlreadyInState));
    let h = harness(m);
    let r = call(
        &h.app,
        Method::POST,
        &b(&format!("/data_flows/{FLOW}/activate")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["succeeded"], false);
    assert_eq!(body["operation"]["error_message"], "RVR-ACTIVATE-500");
    assert!(body["advice"].is_string(), "{body}");
    let r = call(
        &h.app,
        Method::POST,
        &b(&format!("/data_flows/{FLOW}/disable")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["outcome"].clone()),
        (StatusCode::OK, json!("already_in_state"))
    );
}

#[tokio::test(start_paused = true)]
async fn source_tables_are_set_by_name() {
    let mut m = MockBackend::new();
    m.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("disabled")));
    m.expect_start_discovery().returning(|_, req| {
        assert_eq!(req.connection_id.as_str(), CONN);
        assert_eq!(req.datasource_id, "mysql");
        let mut o = operation("D");
        o.result = Some(json!({"shop": {"Customers": {"columns": [{"name": "id", "type": "int"}]}, "orders": {"columns": []}}}));
        o.status = OperationStatus::Done;
        Ok(o)
    });
    m.expect_update_data_flow().returning(|_, _, body| {
        let schemas = body["properties"]["schemas"].to_string();
        assert!(schemas.contains("Customers"), "{schemas}");
        Ok(flow_doc("disabled"))
    });
    let h = harness(m);
    let r = call(
        &h.app,
        Method::PUT,
        &b(&format!("/data_flows/{FLOW}/source_tables")),
        Some(ADMIN),
        Some(json!({"tables": ["customers"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["tables"][0]["table"], "Customers");
    assert_eq!(r.json()["data_flow"]["cross_id"], FLOW);

    let r = call(
        &h.app,
        Method::PUT,
        &b(&format!("/data_flows/{FLOW}/source_tables")),
        Some(ADMIN),
        Some(json!({"tables": ["nope_table"]})),
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.text());

    let r = call(
        &h.app,
        Method::PUT,
        &b(&format!("/data_flows/{FLOW}/source_tables")),
        Some(ADMIN),
        Some(json!({"table": ["x"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn merge_patch_reads_merges_and_writes() {
    let mut m = MockBackend::new();
    m.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("disabled")));
    m.expect_update_data_flow()
        .times(1)
        .returning(|_, _, body| {
            assert_eq!(body["name"], "renamed");
            assert_eq!(
                body["properties"]["source"]["connection_id"], CONN,
                "untouched fields stay"
            );
            let mut f = flow_doc("disabled");
            f.name = "renamed".into();
            Ok(f)
        });
    let h = harness(m);
    let path = b(&format!("/data_flows/{FLOW}"));
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(&path)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::CONTENT_TYPE, "application/merge-patch+json")
        .body(Body::from(
            json!({"name": "renamed", "settings": {"timeout": null}}).to_string(),
        ))
        .unwrap();
    let r = send(&h.app, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], "renamed");

    let req = Request::builder()
        .method(Method::PATCH)
        .uri(&path)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("name=x"))
        .unwrap();
    let r = send(&h.app, req).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    insta::assert_json_snapshot!("patch_wrong_media_type", r.json());
}

#[tokio::test]
async fn every_connection_in_one_call() {
    let mut m = MockBackend::new();
    m.expect_list_connections().returning(|_, p| {
        let items = (0..p.items_per_page.min(3))
            .map(|i| serde_json::from_value(json!({"cross_id": format!("64b0c0a1e4b0a1c2d3e4f5{:02}", p.page * 10 + i), "connection_name": format!("c{}-{i}", p.page)})).unwrap())
            .collect();
        let mut page = Page::single(items);
        page.page = p.page;
        page.total_items = 7;
        page.next_page = (p.page < 3).then(|| format!("page={}", p.page + 1));
        Ok(page)
    });
    let h = harness(m);
    let r = get(&h.app, &b("/connections?items_per_page=3"), ADMIN).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["pages"], 3);
    assert_eq!(body["total_items"], 7);
    assert_eq!(body["items"].as_array().unwrap().len(), 9);
    assert_eq!(body["incomplete_pages"], json!([]));
}
