//! A run is triggered at most once. When the trigger's response is lost after the run started,
//! the service finds the run with list_runs instead of POSTing again; when the trigger failed
//! before anything started, the error says the run may or may not have started.

use std::collections::BTreeSet;
use std::time::Duration;

use bdi_domain::models::RunStatus;
use bdi_domain::{Error, RunOptions, WaitOptions};
use bdi_sandbox::demo::{NEW_FLOW_ID, ORDERS_FLOW_ID};
use tokio::time::Instant;

use crate::support::{env, flow, recent_runs, run_path, start};

const RUNS_LIST: &str = "/runs?";

#[tokio::test]
async fn a_lost_trigger_response_is_reconciled_without_a_second_post() {
    let h = start().await;
    let control = h.control();
    let path = run_path(ORDERS_FLOW_ID);
    // The sandbox starts the run, then the client gets a 502 from "the gateway".
    control.drop_next("POST", &path, 1);

    let outcome = h
        .service
        .run(
            &env(),
            &flow(ORDERS_FLOW_ID),
            RunOptions {
                wait: Some(WaitOptions::default()),
                ..RunOptions::default()
            },
        )
        .await
        .expect("the run is found with list_runs");

    assert!(outcome.reconciled);
    assert_eq!(control.request_count("POST", &path), 1, "never re-POSTed");
    assert_eq!(outcome.triggered.river_cross_id, ORDERS_FLOW_ID);
    assert_eq!(
        outcome.triggered.runs.len(),
        3,
        "the whole run group is found"
    );
    assert!(outcome.run_id.is_some());
    let run = outcome.run.expect("the reconciled run was followed");
    assert_eq!(run.status, RunStatus::Succeeded);

    let runs = recent_runs(&h.service, ORDERS_FLOW_ID).await;
    let groups: BTreeSet<&str> = runs.iter().map(|r| r.run_group_id.as_str()).collect();
    assert_eq!(
        groups.into_iter().collect::<Vec<_>>(),
        [outcome.triggered.run_group_id.as_str()],
        "exactly one run group was started"
    );
}

#[tokio::test(start_paused = true)]
async fn a_trigger_failing_before_anything_started_says_so_and_is_not_repeated() {
    let h = start().await;
    let control = h.control();
    let svc = h.hopping_service();
    let path = run_path(ORDERS_FLOW_ID);
    control.fail_next("POST", &path, 503, 1);
    let started = Instant::now();

    let err = svc
        .run(&env(), &flow(ORDERS_FLOW_ID), RunOptions::default())
        .await
        .expect_err("no run showed up");

    match &err {
        Error::RunUncertain {
            data_flow, cause, ..
        } => {
            assert!(
                matches!(**cause, Error::Upstream { status: 503, .. }),
                "{cause:?}"
            );
            assert_eq!(data_flow, ORDERS_FLOW_ID);
            assert!(
                err.to_string().contains("may or may not have started"),
                "{err}"
            );
            assert!(
                matches!(
                    err.next_step(),
                    Some(bdi_domain::NextStep::CheckRunsSince { .. })
                ),
                "look before triggering again"
            );
        }
        other => panic!("expected an uncertain run over the upstream 503, got {other:?}"),
    }
    assert_eq!(
        control.request_count("POST", &path),
        1,
        "a POST is never retried"
    );
    // Three looks at list_runs, with pauses between them (on the paused clock).
    assert_eq!(control.request_count("GET", RUNS_LIST), 3);
    assert!(started.elapsed() >= Duration::from_secs(7));
    assert!(recent_runs(&svc, ORDERS_FLOW_ID).await.is_empty());
}

#[tokio::test]
async fn a_refused_trigger_is_neither_reconciled_nor_repeated() {
    let h = start().await;
    let control = h.control();
    let path = run_path(NEW_FLOW_ID);

    let err = h
        .service
        .run(&env(), &flow(NEW_FLOW_ID), RunOptions::default())
        .await
        .expect_err("the flow is not active");

    assert!(
        matches!(
            &err,
            Error::State {
                conflict: bdi_domain::StateConflict::NotActive,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(control.request_count("POST", &path), 1);
    assert_eq!(
        control.request_count("GET", RUNS_LIST),
        0,
        "nothing to reconcile"
    );
}
