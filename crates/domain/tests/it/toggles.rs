//! activate and disable, with and without waiting; timeouts and cancellation of the wait.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bdi_domain::models::{OperationStatus, Toggle};
use bdi_domain::{
    CancellationToken, Env, Error, MockBackend, NextStep, PollPolicy, Progress, ProgressFn,
    WaitOptions, Waited, explain_operation,
};
use tokio::time::Instant;

use crate::support::*;

fn started(status: &str) -> Toggle {
    Toggle::Started {
        operation: Box::new(op(status)),
    }
}

fn quick(deadline: u64) -> WaitOptions {
    WaitOptions {
        policy: Some(PollPolicy {
            jitter: 0.0,
            deadline: Duration::from_secs(deadline),
            ..PollPolicy::default()
        }),
        ..WaitOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn activate_waits_until_done_with_progress() {
    let mut mock = MockBackend::new();
    mock.expect_activate_data_flow()
        .times(1)
        .returning(|_, _| Ok(started("W")));
    let mut next = sequence(vec![op("W"), op("R"), op("D")]);
    mock.expect_get_operation()
        .times(3)
        .returning(move |_, _| Ok(next()));
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = reports.clone();
    let progress: ProgressFn = Arc::new(move |p| sink.lock().expect("lock").push(p));
    let wait = WaitOptions {
        progress: Some(progress),
        ..quick(600)
    };
    let out = service(mock)
        .activate(&Env::Default, &flow_id(), Some(wait))
        .await
        .expect("activated");
    let Some(Waited::Finished(op)) = &out.waited else {
        panic!("{out:?}")
    };
    assert_eq!(op.status, OperationStatus::Done);
    assert_eq!(out.advice(), None);
    let statuses: Vec<String> = reports
        .lock()
        .expect("lock")
        .iter()
        .map(|p| p.status.clone())
        .collect();
    assert_eq!(statuses, ["waiting", "running"]);
}

#[tokio::test(start_paused = true)]
async fn activation_ending_in_error_is_an_outcome_with_advice() {
    let mut mock = MockBackend::new();
    mock.expect_activate_data_flow()
        .times(1)
        .returning(|_, _| Ok(started("R")));
    mock.expect_get_operation().times(1).returning(|_, _| {
        Ok(op_failed(
            "RVR-ACTIVATE-500: failed to initialise the fire-service task entry",
        ))
    });
    let out = service(mock)
        .activate(&Env::Default, &flow_id(), Some(quick(600)))
        .await
        .expect("an outcome");
    let final_op = out.final_operation().expect("final");
    assert_eq!(final_op.status, OperationStatus::Error);
    assert_eq!(out.advice(), Some(NextStep::SaveThenActivate));
}

#[tokio::test(start_paused = true)]
async fn activate_without_waiting_or_when_already_active_polls_nothing() {
    let cases = [
        (started("W"), Some(quick(600)), false),
        (started("W"), None, false),
        (Toggle::AlreadyInState, Some(quick(600)), false),
        (started("D"), Some(quick(600)), true),
    ];
    for (toggle, wait, finished) in cases {
        let mut mock = MockBackend::new();
        let t = toggle.clone();
        mock.expect_activate_data_flow()
            .times(1)
            .returning(move |_, _| Ok(t.clone()));
        let polls = usize::from(
            wait.is_some()
                && matches!(&toggle, Toggle::Started { operation } if !operation.status.is_terminal()),
        );
        mock.expect_get_operation()
            .times(polls)
            .returning(|_, _| Ok(op("D")));
        let had_wait = wait.is_some();
        let out = service(mock)
            .activate(&Env::Default, &flow_id(), wait)
            .await
            .expect("ok");
        assert_eq!(out.toggle, toggle);
        match (&out.waited, had_wait, &toggle) {
            (None, false, _) | (None, true, Toggle::AlreadyInState) => {}
            (Some(Waited::Finished(_)), true, Toggle::Started { .. }) => {}
            other => panic!("{other:?}"),
        }
        if finished {
            assert!(out.final_operation().is_some());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_outlasts_its_deadline_times_out() {
    let mut mock = MockBackend::new();
    mock.expect_activate_data_flow()
        .times(1)
        .returning(|_, _| Ok(started("W")));
    mock.expect_get_operation().returning(|_, _| Ok(op("R")));
    let start = Instant::now();
    let out = service(mock)
        .activate(&Env::Default, &flow_id(), Some(quick(30)))
        .await
        .expect("ok");
    match out.waited {
        Some(Waited::TimedOut {
            last: Some(last),
            elapsed,
        }) => {
            assert_eq!(last.status, OperationStatus::Running);
            assert_eq!(elapsed, Duration::from_secs(30));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_wait_returns_the_last_state() {
    let mut mock = MockBackend::new();
    mock.expect_disable_data_flow()
        .times(1)
        .returning(|_, _| Ok(started("W")));
    mock.expect_get_operation().returning(|_, _| Ok(op("R")));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(7)).await;
        trigger.cancel();
    });
    let wait = WaitOptions {
        cancel,
        ..quick(600)
    };
    let out = service(mock)
        .disable(&Env::Default, &flow_id(), Some(wait))
        .await
        .expect("ok");
    assert!(
        matches!(&out.waited, Some(Waited::Cancelled { last: Some(o) }) if o.status == OperationStatus::Running),
        "{out:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn disable_waits_and_upstream_errors_surface() {
    let mut mock = MockBackend::new();
    mock.expect_disable_data_flow()
        .times(1)
        .returning(|_, _| Ok(started("W")));
    mock.expect_get_operation()
        .times(1)
        .returning(|_, _| Ok(op("D")));
    let out = service(mock)
        .disable(&Env::Default, &flow_id(), Some(quick(600)))
        .await
        .expect("ok");
    assert!(matches!(out.waited, Some(Waited::Finished(_))));

    let mut mock = MockBackend::new();
    mock.expect_disable_data_flow().times(1).returning(|_, _| {
        Err(Error::Validation {
            status: 400,
            message: "disable_river is not supported for logic river types".into(),
            detail: vec![],
        })
    });
    let err = service(mock)
        .disable(&Env::Default, &flow_id(), None)
        .await
        .expect_err("400");
    assert!(err.to_string().contains("logic river"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn wait_for_operation_stops_on_a_fatal_error() {
    let mut mock = MockBackend::new();
    mock.expect_get_operation()
        .times(1)
        .returning(|_, _| Err(nf("operation")));
    let err = service(mock)
        .wait_for_operation(&Env::Default, &op_id(), quick(600))
        .await
        .expect_err("404");
    assert!(matches!(err, Error::NotFound { .. }));
}

#[test]
fn explain_operation_gives_next_steps() {
    let cases = [
        ("RVR-ACTIVATE-500", NextStep::SaveThenActivate),
        (
            "Could not connect to host db.example.com:3306",
            NextStep::CheckConnections,
        ),
        ("ORA-12547: TNS lost contact", NextStep::CheckConnections),
        (
            "Please schedule a CDC data flow before enabling",
            NextStep::SetCdcSchedulers,
        ),
        ("something odd", NextStep::ReadOperationError),
    ];
    for (message, want) in cases {
        assert_eq!(
            explain_operation(&op_failed(message)),
            Some(want),
            "{message}"
        );
    }
    assert_eq!(explain_operation(&op("D")), None);
    assert_eq!(explain_operation(&op("R")), None);
}

#[test]
fn an_activation_reads_the_same_way_in_every_front_end() {
    use bdi_domain::ToggleState;
    use bdi_domain::service::Activation;
    let started = |o: bdi_domain::models::Operation| Toggle::Started {
        operation: Box::new(o),
    };
    let state = |toggle, waited| Activation { toggle, waited }.state();

    assert_eq!(
        state(Toggle::AlreadyInState, None),
        ToggleState::AlreadyInState
    );
    assert!(matches!(
        state(started(op("R")), None),
        ToggleState::Started(_)
    ));
    // An operation already over when the call returned needs no wait: it ended.
    assert!(matches!(
        state(started(op("D")), None),
        ToggleState::Done(_)
    ));
    assert!(matches!(
        state(started(op_failed("RVR-ACTIVATE-500")), None),
        ToggleState::Failed {
            next: Some(NextStep::SaveThenActivate),
            ..
        }
    ));
    assert!(matches!(
        state(started(op("R")), Some(Waited::Finished(op("D")))),
        ToggleState::Done(_)
    ));
    let timed_out = state(
        started(op("W")),
        Some(Waited::TimedOut {
            last: Some(op("R")),
            elapsed: Duration::from_secs(30),
        }),
    );
    assert!(timed_out.is_pending() && !timed_out.is_done());
    assert_eq!(
        timed_out.operation().map(|o| o.status.as_str().to_owned()),
        Some("R".to_owned()),
        "the operation as last seen"
    );
    assert!(matches!(
        state(started(op("W")), Some(Waited::Cancelled { last: None })),
        ToggleState::Cancelled(o) if o.status.as_str() == "W"
    ));
}
