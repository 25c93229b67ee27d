//! `--wait` on activate and run: final objects on stdout, the outcome in the exit code
//! (0 success, 4 failed, 5 throttled, 6 timed out or cancelled). Time is paused: polls are instant.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bdi_domain::models::Toggle;
use bdi_domain::{Error, MockBackend};
use tokio_util::sync::CancellationToken;

use crate::support::*;

fn started() -> Toggle {
    Toggle::Started {
        operation: Box::new(operation("W", None)),
    }
}

/// A mock whose operation is W, then R, then `last`.
fn activating(last: &'static str, error: Option<&'static str>) -> MockBackend {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    mock.expect_activate_data_flow()
        .times(1)
        .returning(|_, _| Ok(started()));
    let polls = Arc::new(AtomicUsize::new(0));
    mock.expect_get_operation().returning(move |_, _| {
        Ok(match polls.fetch_add(1, Ordering::SeqCst) {
            0 => operation("R", None),
            _ => operation(last, error),
        })
    });
    mock
}

#[tokio::test(start_paused = true)]
async fn activate_wait_ends_active() {
    insta::assert_snapshot!(bdi(&["flows", "activate", FLOW, "--wait"], activating("D", None)).await, @r"
    exit_code: 0
    ----- stdout -----
    data flow:         65a1b2c3d4e5f60718293a4b
    state:             active
    operation:         66aa00bb11cc22dd33ee44ff
    operation status:  done
    ----- stderr -----
    data flow 65a1b2c3d4e5f60718293a4b is active
    ");
}

#[tokio::test(start_paused = true)]
async fn activate_wait_ending_in_error_exits_4() {
    let out = bdi(
        &["flows", "activate", FLOW, "--wait"],
        activating("E", Some("source connection unreachable")),
    )
    .await;
    insta::assert_snapshot!(out, @r"
    exit_code: 4
    ----- stdout -----
    data flow:         65a1b2c3d4e5f60718293a4b
    state:             not active
    operation:         66aa00bb11cc22dd33ee44ff
    operation status:  error
    error:             source connection unreachable
    ----- stderr -----
    error: activation of data flow 65a1b2c3d4e5f60718293a4b failed: source connection unreachable

    hint: a source or target connection could not be reached or refused its credentials: check the connections the data flow uses (`bdi connections list`; test them in the console), then activate again
    ");
}

#[tokio::test(start_paused = true)]
async fn activate_of_an_active_flow_is_a_no_op() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(active_flow()));
    mock.expect_activate_data_flow()
        .returning(|_, _| Ok(Toggle::AlreadyInState));
    insta::assert_snapshot!(bdi(&["flows", "activate", FLOW, "-o", "json"], mock).await, @r#"
    exit_code: 0
    ----- stdout -----
    {
      "data_flow_id": "65a1b2c3d4e5f60718293a4b",
      "state": "active",
      "done": true,
      "already": true,
      "operation": null,
      "message": "data flow 65a1b2c3d4e5f60718293a4b was already active"
    }
    ----- stderr -----
    data flow 65a1b2c3d4e5f60718293a4b was already active
    "#);
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_stops_waiting_and_says_the_work_goes_on() {
    let cancel = CancellationToken::new();
    cancel.cancel();
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    mock.expect_activate_data_flow()
        .returning(|_, _| Ok(started()));
    mock.expect_get_operation()
        .returning(|_, _| Ok(operation("R", None)));
    let out = bdi_with(
        &["flows", "activate", FLOW, "--wait"],
        Some(mock),
        &[],
        "",
        cancel,
    )
    .await;
    insta::assert_snapshot!(out, @r"
    exit_code: 6
    ----- stdout -----
    data flow:         65a1b2c3d4e5f60718293a4b
    state:             active (pending)
    operation:         66aa00bb11cc22dd33ee44ff
    operation status:  waiting
    ----- stderr -----
    wait cancelled; the activation continues upstream: check it with `bdi operations get 66aa00bb11cc22dd33ee44ff`
    ");
}

fn running_then(last: &'static str, error: Option<&'static str>) -> MockBackend {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(active_flow()));
    mock.expect_run_data_flow().times(1).returning(|_, _, sub| {
        assert!(!sub);
        Ok(triggered())
    });
    let polls = Arc::new(AtomicUsize::new(0));
    mock.expect_get_run().returning(move |_, _, _| {
        Ok(match polls.fetch_add(1, Ordering::SeqCst) {
            0 => run("running", None),
            _ => run(last, error),
        })
    });
    mock
}

#[tokio::test(start_paused = true)]
async fn run_wait_succeeds() {
    insta::assert_snapshot!(bdi(&["flows", "run", FLOW, "--wait"], running_then("succeeded", None)).await, @r"
    exit_code: 0
    ----- stdout -----
    data flow:  65a1b2c3d4e5f60718293a4b
    run group:  0f4e8b1c2d3a4b5c6d7e8f9a0b1c2d3e
    run:        5658a1c9ea724ee59f048cbb5a6f734a
    status:     succeeded
    target:     ORDERS
    duration:   90.0 s
    ----- stderr -----
    run succeeded in 90 s
    ");
}

#[tokio::test(start_paused = true)]
async fn run_wait_failing_exits_4_and_points_at_the_logs() {
    let out = bdi(
        &["flows", "run", FLOW, "--wait", "-o", "json"],
        running_then("failed", Some("table orders: access denied")),
    )
    .await;
    insta::assert_snapshot!(out);
}

#[tokio::test(start_paused = true)]
async fn run_without_wait_returns_at_once() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(active_flow()));
    mock.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Ok(triggered()));
    mock.expect_get_run()
        .returning(|_, _, _| Ok(run("pending", None)));
    let out = bdi(&["flows", "run", FLOW], mock).await;
    assert!(out.starts_with("exit_code: 0\n"), "{out}");
    assert!(out.contains("run started; follow it with `bdi runs get 65a1b2c3d4e5f60718293a4b 5658a1c9ea724ee59f048cbb5a6f734a`"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn a_throttled_run_exits_5() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(active_flow()));
    mock.expect_run_data_flow().returning(|_, _, _| {
        Err(Error::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(41)),
            message: "data flow was run twice in the last minute".into(),
            limit: bdi_domain::Limit::Upstream,
        })
    });
    mock.expect_list_runs()
        .returning(|_, _, _| Ok(bdi_domain::models::Page::single(vec![])));
    insta::assert_snapshot!(bdi(&["flows", "run", FLOW], mock).await, @r"
    exit_code: 5
    ----- stdout -----

    ----- stderr -----
    error: rate limited: data flow was run twice in the last minute

    hint: wait 41 s before trying again
    ");
}

#[tokio::test(start_paused = true)]
async fn run_wait_timing_out_exits_6() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(active_flow()));
    mock.expect_run_data_flow()
        .returning(|_, _, _| Ok(triggered()));
    mock.expect_get_run()
        .returning(|_, _, _| Ok(run("running", None)));
    let out = bdi(&["flows", "run", FLOW, "--wait", "--timeout", "30"], mock).await;
    assert!(out.starts_with("exit_code: 6\n"), "{out}");
    assert!(
        out.contains("the run continues upstream: follow it with `bdi runs get"),
        "{out}"
    );
}
