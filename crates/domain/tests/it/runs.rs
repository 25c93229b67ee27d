//! Run triggers: throttling, 429 penalties, ambiguous failures reconciled without a second POST,
//! and waiting for the run.

use std::sync::Arc;
use std::time::Duration;

use bdi_domain::models::{Page, Run, RunStatus, RunTriggered};
use bdi_domain::{
    Env, Error, InMemoryLimiter, Limit, MockBackend, NextStep, PollPolicy, RunLimiter, RunOptions,
    ThrottleLimits, WaitOptions, Waited,
};
use serde_json::json;
use tokio::time::Instant;

use crate::support::*;

fn triggered() -> RunTriggered {
    serde_json::from_value(json!({
        "runs": [{"run_id": RUN, "status": "pending"}], "river_cross_id": FLOW, "run_group_id": GROUP
    }))
    .expect("trigger answer")
}

fn no_wait() -> RunOptions {
    RunOptions::default()
}

fn with_wait() -> RunOptions {
    RunOptions {
        wait: Some(WaitOptions {
            policy: Some(PollPolicy {
                jitter: 0.0,
                ..PollPolicy::default()
            }),
            ..WaitOptions::default()
        }),
        ..RunOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_returns_at_once_with_its_run_id() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow()
        .withf(|_, _, sub| !*sub)
        .times(1)
        .returning(|_, _, _| Ok(triggered()));
    let out = service(mock)
        .run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect("triggered");
    assert_eq!(out.run_id.as_deref(), Some(RUN));
    assert!(out.waited.is_none() && out.run.is_none() && !out.reconciled);
}

#[tokio::test(start_paused = true)]
async fn a_run_without_runs_reports_the_group() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().times(1).returning(|_, _, _| {
        Ok(serde_json::from_value(json!({"runs": [], "run_group_id": GROUP})).expect("answer"))
    });
    let out = service(mock)
        .run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect("triggered");
    assert_eq!(out.run_id.as_deref(), Some(GROUP));
}

#[tokio::test(start_paused = true)]
async fn the_throttle_refuses_a_third_run_within_a_minute_with_exact_seconds() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow()
        .times(2)
        .returning(|_, _, _| Ok(triggered()));
    let svc = service(mock);
    svc.run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect("first");
    tokio::time::sleep(Duration::from_secs(10)).await;
    svc.run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect("second");
    tokio::time::sleep(Duration::from_secs(9)).await;
    match svc.run(&Env::Default, &flow_id(), no_wait()).await {
        Err(Error::RateLimited {
            retry_after,
            message,
            limit,
        }) => {
            assert_eq!(limit, Limit::Flow, "the data flow's own limit");
            assert_eq!(retry_after, Some(Duration::from_secs(41)));
            assert_eq!(
                message,
                format!(
                    "data flow {FLOW} was run twice in the last 60 s (the limit is 2); next run allowed in 41 s"
                )
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn waiting_for_the_throttle_sleeps_then_runs() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow()
        .times(3)
        .returning(|_, _, _| Ok(triggered()));
    let svc = service(mock);
    svc.run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect("first");
    svc.run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect("second");
    let start = Instant::now();
    let opts = RunOptions {
        wait_for_throttle: true,
        ..RunOptions::default()
    };
    svc.run(&Env::Default, &flow_id(), opts)
        .await
        .expect("third, after waiting");
    assert_eq!(start.elapsed(), Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn an_upstream_429_penalizes_the_flow() {
    let limiter = Arc::new(InMemoryLimiter::new(ThrottleLimits::default()));
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().times(1).returning(|_, _, _| {
        Err(Error::RateLimited {
            retry_after: Some(Duration::from_secs(12)),
            message: "too many runs".into(),
            limit: bdi_domain::Limit::Upstream,
        })
    });
    let svc = service(mock).with_limiter(limiter.clone());
    let err = svc
        .run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect_err("429");
    assert!(
        matches!(&err, Error::RateLimited { retry_after: Some(d), limit: Limit::Upstream, .. } if *d == Duration::from_secs(12)),
        "{err:?}"
    );
    let denied = limiter
        .acquire(&flow_id(), "default")
        .await
        .expect_err("should be penalized");
    let refusal = denied.refusal().expect("refused by the limits");
    assert_eq!(refusal.wait, Duration::from_secs(12));
    assert_eq!(refusal.limit, Limit::Upstream);
    assert_eq!(
        limiter.flow_count(&flow_id()),
        0,
        "the refused run's slot was given back"
    );
    // The next attempt is refused locally: the mock allows one POST only.
    let err = svc
        .run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect_err("local refusal");
    assert!(
        err.to_string().contains("(429); next run allowed in 12 s"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_without_retry_after_uses_the_default_penalty() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().times(1).returning(|_, _, _| {
        Err(Error::RateLimited {
            retry_after: None,
            message: "slow down".into(),
            limit: bdi_domain::Limit::Upstream,
        })
    });
    let err = service(mock)
        .run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect_err("429");
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(30))
    );
}

fn run_started_now(id: &str, status: &str) -> Run {
    let mut r = run(id, status);
    r.start_date_utc = Some(bdi_domain::models::Timestamp(chrono::Utc::now()));
    r
}

#[tokio::test(start_paused = true)]
async fn an_ambiguous_trigger_failure_is_reconciled_without_a_second_post() {
    let ambiguous = [
        Error::Transport("connection reset".into()),
        Error::Upstream {
            status: 502,
            body: "bad gateway".into(),
        },
    ];
    for e in ambiguous {
        let mut mock = MockBackend::new();
        let err = std::sync::Mutex::new(Some(e));
        mock.expect_run_data_flow()
            .times(1)
            .returning(move |_, _, _| Err(err.lock().expect("lock").take().expect("called once")));
        let mut pages = sequence(vec![
            Page::single(vec![]),
            Page::single(vec![run_started_now(RUN, "running")]),
        ]);
        mock.expect_list_runs()
            .withf(|_, flow, q| flow.as_str() == FLOW && q.start_time < q.end_time)
            .times(2)
            .returning(move |_, _, _| Ok(pages()));
        let out = service(mock)
            .run(&Env::Default, &flow_id(), no_wait())
            .await
            .expect("reconciled");
        assert!(out.reconciled);
        assert_eq!(out.run_id.as_deref(), Some(RUN));
        assert_eq!(out.triggered.run_group_id, GROUP);
    }
}

#[tokio::test(start_paused = true)]
async fn an_unreconciled_failure_says_the_run_may_have_started() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().times(1).returning(|_, _, _| {
        Err(Error::Upstream {
            status: 504,
            body: "gateway timeout".into(),
        })
    });
    let mut old = run(RUN, "succeeded");
    old.start_date_utc = Some(bdi_domain::models::Timestamp(
        chrono::Utc::now() - chrono::Duration::minutes(3),
    ));
    let page = Page::single(vec![old]);
    mock.expect_list_runs()
        .times(3)
        .returning(move |_, _, _| Ok(page.clone()));
    let err = service(mock)
        .run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect_err("unknown");
    let Error::RunUncertain {
        data_flow,
        since,
        cause,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        matches!(**cause, Error::Upstream { status: 504, .. }),
        "{cause:?}"
    );
    assert_eq!(data_flow, &flow_id().to_string());
    assert!(
        err.to_string().ends_with("may or may not have started"),
        "{err}"
    );
    assert!(!err.is_transient(), "never retried blindly");
    assert_eq!(
        err.next_step(),
        Some(NextStep::CheckRunsSince {
            data_flow: data_flow.clone(),
            since: since.clone(),
        })
    );
}

#[tokio::test(start_paused = true)]
async fn a_clear_refusal_is_not_reconciled() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().times(1).returning(|_, _, _| {
        Err(Error::Validation {
            status: 400,
            message: "river is not active".into(),
            detail: vec![],
        })
    });
    mock.expect_list_runs().never();
    let err = service(mock)
        .run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect_err("400");
    assert!(matches!(err, Error::Validation { status: 400, .. }));
}

#[tokio::test(start_paused = true)]
async fn a_run_waited_for_ends_with_its_final_state() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Ok(triggered()));
    let mut states = sequence(vec![
        run(RUN, "pending"),
        run(RUN, "running"),
        run(RUN, "succeeded"),
    ]);
    mock.expect_get_run()
        .withf(|_, _, id| id.as_str() == RUN)
        .times(3)
        .returning(move |_, _, _| Ok(states()));
    let out = service(mock)
        .run(&Env::Default, &flow_id(), with_wait())
        .await
        .expect("ran");
    assert!(matches!(&out.waited, Some(Waited::Finished(r)) if r.status == RunStatus::Succeeded));
    assert_eq!(out.run.map(|r| r.status), Some(RunStatus::Succeeded));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_run_id_falls_back_to_the_group() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Ok(triggered()));
    mock.expect_get_run()
        .withf(|_, _, id| id.as_str() == RUN)
        .times(1)
        .returning(|_, _, _| Err(nf("run")));
    let mut states = sequence(vec![run(GROUP, "running"), run(GROUP, "failed")]);
    mock.expect_get_run()
        .withf(|_, _, id| id.as_str() == GROUP)
        .times(2)
        .returning(move |_, _, _| Ok(states()));
    let out = service(mock)
        .run(&Env::Default, &flow_id(), with_wait())
        .await
        .expect("ran");
    assert!(matches!(&out.waited, Some(Waited::Finished(r)) if r.status == RunStatus::Failed));
}

#[tokio::test(start_paused = true)]
async fn wait_for_run_polls_until_terminal_and_unknown_statuses_end_it() {
    let mut mock = MockBackend::new();
    let mut states = sequence(vec![run(RUN, "running"), run(RUN, "exploded")]);
    mock.expect_get_run()
        .times(2)
        .returning(move |_, _, _| Ok(states()));
    let wait = WaitOptions {
        policy: Some(PollPolicy {
            jitter: 0.0,
            ..PollPolicy::default()
        }),
        ..WaitOptions::default()
    };
    let out = service(mock)
        .wait_for_run(&Env::Default, &flow_id(), &run_id(RUN), wait)
        .await
        .expect("waited");
    assert!(
        matches!(out, Waited::Finished(r) if r.status == RunStatus::Unknown("exploded".into()))
    );
}

#[tokio::test(start_paused = true)]
async fn a_wait_failing_after_the_trigger_says_the_run_was_triggered() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Ok(triggered()));
    mock.expect_get_run()
        .times(2)
        .returning(|_, _, _| Err(nf("run")));
    let err = service(mock)
        .run(&Env::Default, &flow_id(), with_wait())
        .await
        .expect_err("404");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "the run was triggered, run group {GROUP}: do not trigger it again"
        )),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrent callers.

/// A mock whose run trigger counts its calls and takes a moment, as a real POST does, so that
/// concurrent callers overlap while it is in flight.
fn counting_mock(calls: Arc<std::sync::atomic::AtomicUsize>) -> MockBackend {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().returning(move |_, _, _| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(triggered())
    });
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_runs_of_one_flow_reach_the_backend_at_most_twice_and_the_rest_are_refused_at_once()
 {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let svc = service(counting_mock(Arc::clone(&calls)));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let svc = svc.clone();
            tokio::spawn(async move { svc.run(&Env::Default, &flow_id(), no_wait()).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("no panic") {
            Ok(_) => ok += 1,
            Err(Error::RateLimited {
                retry_after: Some(d),
                message,
                ..
            }) => {
                assert!(
                    d > Duration::from_secs(55) && d <= Duration::from_secs(60),
                    "{d:?}"
                );
                assert!(message.contains("(the limit is 2)"), "{message}");
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 2);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_run_refused_by_the_platform_for_its_own_reasons_gives_its_slot_back() {
    let mut mock = MockBackend::new();
    let answers = std::sync::Mutex::new(vec![
        Ok(triggered()),
        Ok(triggered()),
        Err(Error::Validation {
            status: 400,
            message: "river is not active".into(),
            detail: vec![],
        }),
    ]);
    mock.expect_run_data_flow()
        .times(3)
        .returning(move |_, _, _| answers.lock().expect("lock").pop().expect("three answers"));
    let limiter = Arc::new(InMemoryLimiter::default());
    let svc = service(mock).with_limiter(limiter.clone());
    svc.run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect_err("400: no run started");
    assert_eq!(limiter.flow_count(&flow_id()), 0);
    for _ in 0..2 {
        svc.run(&Env::Default, &flow_id(), no_wait())
            .await
            .expect("both slots are free");
    }
    assert_eq!(limiter.flow_count(&flow_id()), 2);
}

#[tokio::test(start_paused = true)]
async fn an_ambiguous_failure_keeps_its_slot_since_a_run_may_have_started() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow()
        .times(1)
        .returning(|_, _, _| Err(Error::Transport("connection reset".into())));
    mock.expect_list_runs()
        .returning(|_, _, _| Ok(Page::single(vec![])));
    let limiter = Arc::new(InMemoryLimiter::default());
    let svc = service(mock).with_limiter(limiter.clone());
    svc.run(&Env::Default, &flow_id(), no_wait())
        .await
        .expect_err("may or may not have started");
    assert_eq!(limiter.flow_count(&flow_id()), 1, "the slot is kept");
}

#[tokio::test(start_paused = true)]
async fn waiting_for_the_throttle_spends_the_wait_budget_and_refuses_past_it() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let svc = service(counting_mock(Arc::clone(&calls)));
    for _ in 0..2 {
        svc.run(&Env::Default, &flow_id(), no_wait())
            .await
            .expect("allowed");
    }
    let budget = |secs: u64| RunOptions {
        wait_for_throttle: true,
        wait: Some(WaitOptions {
            policy: Some(PollPolicy::default().with_deadline(Duration::from_secs(secs))),
            ..WaitOptions::default()
        }),
        ..RunOptions::default()
    };
    let start = Instant::now();
    let err = svc
        .run(&Env::Default, &flow_id(), budget(30))
        .await
        .expect_err("the slot frees after 60 s, past the 30 s budget");
    assert_eq!(start.elapsed(), Duration::ZERO, "refused at once");
    assert!(
        matches!(&err, Error::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(60)),
        "{err:?}"
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn a_run_outcome_reads_the_same_way_in_every_front_end() {
    use bdi_domain::{RunStage, Waited};
    let triggered: RunTriggered = serde_json::from_value(json!({
        "runs": [{"run_id": RUN, "status": "running"}],
        "river_cross_id": FLOW,
        "run_group_id": GROUP
    }))
    .expect("a trigger");
    let outcome = |waited: Option<Waited<Run>>| bdi_domain::RunOutcome {
        triggered: triggered.clone(),
        run_id: Some(RUN.to_owned()),
        run: waited.as_ref().and_then(|w| w.latest().cloned()),
        waited,
        reconciled: false,
    };
    let started = outcome(None).state();
    assert_eq!(
        (started.stage, started.status, started.run),
        (RunStage::Started, RunStatus::Running, None),
        "not waited: the trigger's status"
    );
    let ok = outcome(Some(Waited::Finished(run(RUN, "succeeded")))).state();
    assert_eq!(ok.stage, RunStage::Succeeded);
    assert!(ok.is_finished() && ok.run.is_some());
    let failed = outcome(Some(Waited::Finished(run(RUN, "failed")))).state();
    assert_eq!(
        (failed.stage, failed.status),
        (RunStage::Failed, RunStatus::Failed)
    );
    let late = outcome(Some(Waited::TimedOut {
        last: None,
        elapsed: Duration::from_secs(90),
    }))
    .state();
    assert!(!late.is_finished());
    assert_eq!(
        (late.stage, late.status),
        (
            RunStage::TimedOut(Duration::from_secs(90)),
            RunStatus::Running
        ),
        "nothing fetched: the trigger's status"
    );
    let cancelled = outcome(Some(Waited::Cancelled {
        last: Some(run(RUN, "pending")),
    }))
    .state();
    assert_eq!(
        (cancelled.stage, cancelled.status),
        (RunStage::Cancelled, RunStatus::Pending)
    );
}
