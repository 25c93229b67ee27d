//! Waits against the sandbox, whose operations and runs advance by polls: activation reaching `D`
//! or ending in `E` with advice, runs ending `succeeded` or `failed`, a deadline shorter than the
//! work, cancellation, progress reports, and transient 5xx answers while polling.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bdi_domain::models::{OperationStatus, RunStatus};
use bdi_domain::{
    Backend, CancellationToken, Error, NewDataFlow, Progress, ProgressFn, RunId, RunOptions,
    StateConflict, WaitOptions, Waited,
};
use bdi_sandbox::demo::{
    BROKEN_TABLE, MYSQL_CONNECTION_ID, NEW_FLOW_ID, ORDERS_FLOW_ID, SNOWFLAKE_CONNECTION_ID,
    UNREACHABLE_FLOW_ID,
};
use serde_json::json;

use crate::support::{
    RETRIES, connection, env, fast_poll, flow, flow_path, start, stored, strings,
};

/// A progress callback that records every report.
fn recorder() -> (ProgressFn, Arc<Mutex<Vec<Progress>>>) {
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = seen.clone();
    let f: ProgressFn = Arc::new(move |p| sink.lock().expect("not poisoned").push(p));
    (f, seen)
}

fn wait_with(progress: Option<ProgressFn>) -> WaitOptions {
    WaitOptions {
        progress,
        ..WaitOptions::default()
    }
}

fn steps(seen: &Mutex<Vec<Progress>>) -> Vec<u32> {
    seen.lock()
        .expect("not poisoned")
        .iter()
        .map(|p| p.step)
        .collect()
}

#[tokio::test]
async fn activation_with_wait_reaches_done_and_reports_increasing_steps() {
    let h = start().await;
    h.control().set_steps(5);
    let (progress, seen) = recorder();

    let activation = h
        .service
        .activate(&env(), &flow(NEW_FLOW_ID), Some(wait_with(Some(progress))))
        .await
        .expect("the activation is followed");

    let op = activation
        .final_operation()
        .expect("the wait reached the end");
    assert_eq!(op.status, OperationStatus::Done);
    assert_eq!(activation.advice(), None);
    assert_eq!(
        stored(&h.service, NEW_FLOW_ID).await.status(),
        Some("active")
    );
    let steps = steps(&seen);
    assert_eq!(steps, [1, 2, 3, 4], "one report per check before the last");
    let reports = seen.lock().expect("not poisoned");
    assert!(reports.windows(2).all(|w| w[0].elapsed <= w[1].elapsed));
    assert!(
        reports.iter().all(|p| p.message.starts_with("still ")),
        "{reports:?}"
    );
}

#[tokio::test]
async fn an_unreachable_connection_ends_the_activation_in_error_with_advice() {
    let h = start().await;

    let activation = h
        .service
        .activate(
            &env(),
            &flow(UNREACHABLE_FLOW_ID),
            Some(WaitOptions::default()),
        )
        .await
        .expect("an operation ending in E is an outcome, not an error");

    let op = activation.final_operation().expect("the wait ended");
    assert_eq!(op.status, OperationStatus::Error);
    let message = op.error_message.as_deref().unwrap_or_default();
    assert!(message.contains("RVR-CONN-504"), "{message}");
    assert_eq!(
        activation.advice(),
        Some(bdi_domain::NextStep::CheckConnections),
        "advice for an operation in E"
    );
    assert_eq!(
        stored(&h.service, UNREACHABLE_FLOW_ID).await.status(),
        Some("disabled")
    );
}

#[tokio::test]
async fn a_flow_created_flat_is_saved_once_and_activates_but_a_raw_create_needs_a_save() {
    let h = start().await;
    let created = h
        .service
        .create_source_to_target(
            &env(),
            NewDataFlow {
                name: "e2e activation".to_owned(),
                source_name: "mysql".to_owned(),
                source_connection_id: connection(MYSQL_CONNECTION_ID),
                target_name: "snowflake".to_owned(),
                target_connection_id: connection(SNOWFLAKE_CONNECTION_ID),
                loading_method: None,
                target_settings: None,
                description: None,
            },
        )
        .await
        .expect("created");
    let id = flow(&created.cross_id);
    assert_eq!(created.properties["target"]["loading_method"], "append");
    let activation = h
        .service
        .activate(&env(), &id, Some(WaitOptions::default()))
        .await
        .expect("followed");
    assert_eq!(
        activation.final_operation().map(|o| &o.status),
        Some(&OperationStatus::Done)
    );

    // Created by a bare POST (no save): activation fails with RVR-ACTIVATE-500 (trap 13).
    let mut body = created.to_document();
    body.insert("name".to_owned(), json!("e2e raw create"));
    let raw = h
        .service
        .create_data_flow(&env(), body)
        .await
        .expect("created");
    let raw_id = flow(&raw.cross_id);
    let activation = h
        .service
        .activate(&env(), &raw_id, Some(WaitOptions::default()))
        .await
        .expect("followed");
    let op = activation.final_operation().expect("ended");
    assert_eq!(op.status, OperationStatus::Error);
    assert_eq!(
        activation.advice(),
        Some(bdi_domain::NextStep::SaveThenActivate)
    );
    // The remedy the advice gives works.
    h.service
        .patch_data_flow(&env(), &raw_id, &json!({}))
        .await
        .expect("saved");
    let activation = h
        .service
        .activate(&env(), &raw_id, Some(WaitOptions::default()))
        .await
        .expect("followed");
    assert_eq!(
        activation.final_operation().map(|o| &o.status),
        Some(&OperationStatus::Done)
    );
}

#[tokio::test]
async fn a_run_with_wait_ends_succeeded() {
    let h = start().await;
    let id = flow(ORDERS_FLOW_ID);

    let outcome = h
        .service
        .run(
            &env(),
            &id,
            RunOptions {
                wait: Some(WaitOptions::default()),
                ..RunOptions::default()
            },
        )
        .await
        .expect("the run is triggered and followed");

    assert!(!outcome.reconciled);
    assert_eq!(
        outcome.triggered.runs.len(),
        3,
        "one run per selected table"
    );
    let run = outcome.run.expect("the final run");
    assert_eq!(run.status, RunStatus::Succeeded);
    assert!(matches!(outcome.waited, Some(Waited::Finished(_))));
    assert_eq!(
        run.run_id, outcome.triggered.run_group_id,
        "the group is followed"
    );

    // Waiting on a single table's run, by its id, also ends at once now.
    let table_run = RunId::parse(&outcome.triggered.runs[0].run_id).expect("a run id");
    let waited = h
        .service
        .wait_for_run(&env(), &id, &table_run, WaitOptions::default())
        .await
        .expect("the run reads");
    let done = waited.finished().expect("already terminal");
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!(done.run_id, table_run.as_str());
}

#[tokio::test]
async fn a_run_selecting_the_broken_table_ends_failed_with_its_error() {
    let h = start().await;
    let id = flow(ORDERS_FLOW_ID);
    h.service
        .set_source_tables(
            &env(),
            &id,
            Some(&connection(MYSQL_CONNECTION_ID)),
            &strings(&["orders", BROKEN_TABLE]),
        )
        .await
        .expect("both tables exist");

    let outcome = h
        .service
        .run(
            &env(),
            &id,
            RunOptions {
                wait: Some(WaitOptions::default()),
                ..RunOptions::default()
            },
        )
        .await
        .expect("a failed run is an outcome, not an error");

    let run = outcome.run.expect("the final run");
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error_description.as_deref().unwrap_or_default();
    assert!(error.contains("sales.broken_events"), "{error}");
}

#[tokio::test]
async fn a_deadline_shorter_than_the_work_gives_timed_out_with_the_last_state() {
    let h = start().await;
    h.control().set_steps(10_000);

    let outcome = h
        .service
        .run(
            &env(),
            &flow(ORDERS_FLOW_ID),
            RunOptions {
                wait: Some(WaitOptions {
                    policy: Some(fast_poll().with_deadline(Duration::from_millis(250))),
                    ..WaitOptions::default()
                }),
                ..RunOptions::default()
            },
        )
        .await
        .expect("a timeout is an outcome, not an error");

    match outcome.waited {
        Some(Waited::TimedOut { last, elapsed }) => {
            assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
            let last = last.expect("at least one check succeeded");
            assert_eq!(last.status, RunStatus::Running);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(outcome.run.map(|r| r.status), Some(RunStatus::Running));
}

#[tokio::test]
async fn a_cancelled_token_ends_the_wait_as_cancelled() {
    let h = start().await;
    h.control().set_steps(10_000);
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let sink = seen.clone();
    let progress: ProgressFn = Arc::new(move |p: Progress| {
        sink.lock().expect("not poisoned").push(p.step);
        if p.step == 3 {
            token.cancel();
        }
    });

    let activation = h
        .service
        .activate(
            &env(),
            &flow(NEW_FLOW_ID),
            Some(WaitOptions {
                cancel,
                progress: Some(progress),
                ..WaitOptions::default()
            }),
        )
        .await
        .expect("a cancellation is an outcome, not an error");

    match &activation.waited {
        Some(Waited::Cancelled { last }) => {
            let last = last.as_ref().expect("checks succeeded before");
            assert_eq!(last.status, OperationStatus::Running);
        }
        other => panic!("expected a cancellation, got {other:?}"),
    }
    assert_eq!(*seen.lock().expect("not poisoned"), [1, 2, 3]);

    // A token cancelled before the wait stops it before any check.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let before = h.control().request_count("GET", "/operations/");
    let activation = h
        .service
        .activate(
            &env(),
            &flow(ORDERS_FLOW_ID),
            Some(WaitOptions {
                cancel,
                ..WaitOptions::default()
            }),
        )
        .await
        .expect("already active: nothing to wait for");
    assert!(activation.waited.is_none(), "{activation:?}");
    let activation = h
        .service
        .disable(
            &env(),
            &flow(ORDERS_FLOW_ID),
            Some(WaitOptions {
                cancel: {
                    let c = CancellationToken::new();
                    c.cancel();
                    c
                },
                ..WaitOptions::default()
            }),
        )
        .await
        .expect("the disable starts");
    assert_eq!(
        activation.waited,
        Some(Waited::Cancelled { last: None }),
        "no check was made"
    );
    assert_eq!(h.control().request_count("GET", "/operations/"), before);
}

#[tokio::test]
async fn transient_5xx_while_polling_do_not_end_the_wait() {
    let h = start().await;
    // Two whole checks fail (each after the client's own retries), then polling goes on.
    h.control()
        .fail_next("GET", "/operations/", 503, 2 * (RETRIES + 1));
    let (progress, seen) = recorder();

    let activation = h
        .service
        .activate(&env(), &flow(NEW_FLOW_ID), Some(wait_with(Some(progress))))
        .await
        .expect("transient failures are retried until the deadline");

    assert_eq!(
        activation.final_operation().map(|o| &o.status),
        Some(&OperationStatus::Done)
    );
    let reports = seen.lock().expect("not poisoned");
    let statuses: Vec<&str> = reports.iter().map(|p| p.status.as_str()).collect();
    assert_eq!(statuses, ["error", "error", "running"]);
    assert!(
        reports[0].message.contains("check failed") && reports[0].message.contains("503"),
        "{}",
        reports[0].message
    );
    assert_eq!(
        h.control().request_count("GET", "/operations/"),
        2 * (RETRIES as usize + 1) + 2
    );
}

#[tokio::test]
async fn an_active_flow_is_not_deleted_until_disabled() {
    let h = start().await;
    let control = h.control();
    let id = flow(ORDERS_FLOW_ID);

    let err = h
        .service
        .delete_data_flow(&env(), &id)
        .await
        .expect_err("the flow is active");
    assert!(
        matches!(
            &err,
            Error::State {
                conflict: StateConflict::ActiveFlow,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        control.request_count("DELETE", &flow_path(ORDERS_FLOW_ID)),
        0
    );

    let disabled = h
        .service
        .disable(&env(), &id, Some(WaitOptions::default()))
        .await
        .expect("followed");
    assert_eq!(
        disabled.final_operation().map(|o| &o.status),
        Some(&OperationStatus::Done)
    );
    h.service
        .delete_data_flow(&env(), &id)
        .await
        .expect("a disabled flow is deleted");
    let gone = h
        .backend
        .get_data_flow(&env(), &id)
        .await
        .expect_err("deleted");
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
}
