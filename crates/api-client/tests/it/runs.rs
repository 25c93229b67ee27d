//! Runs: trigger, get by run id and by run group id, list in a window, logs (CSV and empty), the
//! run status spellings, and the 400s a run can meet (not active, no tables).

use std::time::Duration;

use bdi_domain::models::{RunQuery, RunStatus, Toggle};
use bdi_domain::{Backend, Error, RunId, StateConflict};
use bdi_sandbox::demo;

use crate::support::{env, flow, last_days, last_minutes, operation, run, start};

#[tokio::test]
async fn run_then_follow_by_run_id_and_by_run_group_id() {
    let h = start().await;
    let id = flow(demo::ORDERS_FLOW_ID);
    let triggered = h
        .backend
        .run_data_flow(&env(), &id, false)
        .await
        .expect("run");
    assert_eq!(triggered.river_cross_id, demo::ORDERS_FLOW_ID);
    assert_eq!(triggered.run_group_id.len(), 32);
    assert_eq!(triggered.runs.len(), 3, "one run per selected table");
    assert!(triggered.runs.iter().all(|r| !r.status.is_terminal()));

    let first = RunId::parse(&triggered.runs[0].run_id).expect("32-hex run id");
    let group = RunId::parse(&triggered.run_group_id).expect("32-hex run group id");

    let by_run = h
        .backend
        .get_run(&env(), &id, &first)
        .await
        .expect("get by run id");
    assert_eq!(by_run.run_id, first.as_str());
    assert_eq!(by_run.run_group_id, group.as_str());

    // Trap 1: the path also takes the run group id.
    let by_group = h
        .backend
        .get_run(&env(), &id, &group)
        .await
        .expect("get by run group id");
    assert_eq!(by_group.run_group_id, group.as_str());

    let mut status = by_run.status;
    for _ in 0..10 {
        if status.is_terminal() {
            break;
        }
        status = h
            .backend
            .get_run(&env(), &id, &first)
            .await
            .expect("poll")
            .status;
    }
    assert_eq!(status, RunStatus::Succeeded, "the enum spelling decodes");

    let (start_time, end_time) = last_days(1);
    let mut query = RunQuery::window(start_time, end_time);
    query.run_group_id = Some(group.clone());
    let page = h
        .backend
        .list_runs(&env(), &id, &query)
        .await
        .expect("list the group's runs");
    assert_eq!(page.items.len(), 3);
    assert!(page.items.iter().all(|r| r.run_group_id == group.as_str()));
}

#[tokio::test]
async fn past_runs_in_a_window_with_every_status() {
    let h = start().await;
    let id = flow(demo::ORDERS_FLOW_ID);
    let (start_time, end_time) = last_days(7);
    let page = h
        .backend
        .list_runs(&env(), &id, &RunQuery::window(start_time, end_time))
        .await
        .expect("list");
    assert_eq!(page.items.len(), 9, "three past run groups of three tables");
    assert!(page.items.iter().any(|r| r.status == RunStatus::Failed));
    assert!(page.items.iter().all(|r| r.status.is_terminal()));
    assert!(
        page.items
            .iter()
            .all(|r| r.end_date_utc.is_some() && r.duration_secs().is_some())
    );

    let failed = h
        .backend
        .get_run(&env(), &id, &run(demo::ORDERS_FAILED_RUN_ID))
        .await
        .expect("get");
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error_description.is_some());

    // A window that excludes every run.
    let (start_time, _) = last_days(30);
    let end_time = bdi_domain::models::Timestamp(start_time.0 + chrono::TimeDelta::days(1));
    let empty = h
        .backend
        .list_runs(&env(), &id, &RunQuery::window(start_time, end_time))
        .await
        .expect("list");
    assert!(empty.items.is_empty());
    assert_eq!(empty.next_page, None);
}

#[tokio::test]
async fn logs_are_csv_text_or_empty() {
    let h = start().await;
    let logs = h
        .backend
        .get_run_logs(
            &env(),
            &flow(demo::ORDERS_FLOW_ID),
            &run(demo::ORDERS_LAST_RUN_ID),
        )
        .await
        .expect("logs");
    assert!(logs.lines().count() >= 2, "a header and lines: {logs:?}");
    assert!(logs.contains(','), "{logs:?}");

    let empty = h
        .backend
        .get_run_logs(
            &env(),
            &flow(demo::REPORT_FLOW_ID),
            &run(demo::REPORT_RUN_ID),
        )
        .await
        .expect("an empty body is not an error");
    assert!(empty.trim().is_empty(), "{empty:?}");
}

#[tokio::test]
async fn a_disabled_flow_or_one_without_tables_cannot_run() {
    let h = start().await;
    let id = flow(demo::NEW_FLOW_ID);
    let err = h
        .backend
        .run_data_flow(&env(), &id, false)
        .await
        .expect_err("disabled");
    assert!(
        matches!(
            err,
            Error::State {
                conflict: StateConflict::NotActive,
                ..
            }
        ),
        "{err:?}"
    );

    h.control().set_steps(0);
    let toggle = h
        .backend
        .activate_data_flow(&env(), &id)
        .await
        .expect("activate");
    if let Toggle::Started { operation: op } = toggle {
        let done = h
            .backend
            .get_operation(&env(), &operation(&op.operation_id))
            .await
            .expect("poll");
        assert!(done.status.is_terminal(), "{done:?}");
    }
    let err = h
        .backend
        .run_data_flow(&env(), &id, false)
        .await
        .expect_err("no tables");
    assert!(
        matches!(
            err,
            Error::State {
                conflict: StateConflict::NoTables,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_run_throttle_is_reported_with_retry_after() {
    let h = start().await;
    let id = flow(demo::ORDERS_FLOW_ID);
    for _ in 0..2 {
        h.backend
            .run_data_flow(&env(), &id, false)
            .await
            .expect("two runs a minute are allowed");
    }
    let err = h
        .backend
        .run_data_flow(&env(), &id, false)
        .await
        .expect_err("a third run in the minute is refused");
    let Error::RateLimited { message, .. } = &err else {
        panic!("expected RateLimited, got {err:?}");
    };
    assert!(message.contains("2 times per minute"), "{message}");
    assert!(matches!(
        err.next_step(),
        Some(bdi_domain::NextStep::RetryAfter(_))
    ));
    // The refused trigger was sent once and handed back, not retried, and it never started:
    // only the two accepted triggers exist.
    assert_eq!(h.control().request_count("POST", "/run"), 3);
    let (start_time, end_time) = last_minutes(30);
    let page = h
        .backend
        .list_runs(&env(), &id, &RunQuery::window(start_time, end_time))
        .await
        .expect("list");
    assert_eq!(page.items.len(), 6, "two triggers of three tables");

    h.control().advance_clock(Duration::from_secs(61));
    h.backend
        .run_data_flow(&env(), &id, false)
        .await
        .expect("a new minute");
}

#[tokio::test]
async fn an_out_of_range_page_size_is_a_422() {
    let h = start().await;
    let (start_time, end_time) = last_days(1);
    let mut query = RunQuery::window(start_time, end_time);
    query.page = bdi_domain::models::PageQuery::new(1, 500);
    let err = h
        .backend
        .list_runs(&env(), &flow(demo::ORDERS_FLOW_ID), &query)
        .await
        .expect_err("runs take at most 200 per page");
    let Error::Validation { status, detail, .. } = &err else {
        panic!("expected a validation error, got {err:?}");
    };
    assert_eq!(*status, 422);
    assert!(
        detail
            .iter()
            .any(|d| d.to_string().starts_with("query.items_per_page")),
        "{detail:?}"
    );
}
