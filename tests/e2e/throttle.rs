//! The run throttle against the sandbox's own (2 per flow, 15 per token, per minute): the local
//! limiter refuses before any POST with the seconds to wait, both clocks moving on lets runs
//! through again, and an upstream 429 becomes `RateLimited` and holds the flow back.
//!
//! The tests that move the local limiter's clock run with tokio's clock paused and a hopping
//! service (see `support`); the sandbox's clock moves with `Control::advance_clock`.

use std::time::Duration;

use bdi_domain::{Error, RunOptions, Service, ServiceConfig, ThrottleLimits, WaitOptions};
use bdi_sandbox::demo::{CDC_FLOW_ID, ORDERS_FLOW_ID, REPORT_FLOW_ID};
use tokio::time::Instant;

use crate::support::{env, fast_poll, flow, run_path, service_config, start};

fn rate_limited(err: Error) -> (Duration, String) {
    match err {
        Error::RateLimited {
            retry_after: Some(d),
            message,
            ..
        } => (d, message),
        other => panic!("expected a rate limit with a delay, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_third_run_within_a_minute_is_refused_before_any_post() {
    let h = start().await;
    let control = h.control();
    let svc = h.hopping_service();
    let id = flow(ORDERS_FLOW_ID);
    let posts = || control.request_count("POST", &run_path(ORDERS_FLOW_ID));

    for _ in 0..2 {
        svc.run(&env(), &id, RunOptions::default())
            .await
            .expect("two runs a minute are allowed");
    }
    let (delay, message) = rate_limited(
        svc.run(&env(), &id, RunOptions::default())
            .await
            .expect_err("the third run is held back"),
    );
    assert_eq!(delay, Duration::from_secs(60));
    assert!(
        message.contains(&format!(
            "data flow {ORDERS_FLOW_ID} was run twice in the last 60 s (the limit is 2); next run allowed in 60 s"
        )),
        "{message}"
    );
    assert_eq!(posts(), 2, "refused locally: no POST was sent");

    tokio::time::advance(Duration::from_secs(45)).await;
    let (delay, message) = rate_limited(
        svc.run(&env(), &id, RunOptions::default())
            .await
            .expect_err("still within the window"),
    );
    assert_eq!(delay, Duration::from_secs(15));
    assert!(message.ends_with("next run allowed in 15 s"), "{message}");
    assert_eq!(posts(), 2);

    // Both windows move on: the local one (tokio's clock) and the sandbox's (its virtual clock).
    tokio::time::advance(Duration::from_secs(16)).await;
    control.advance_clock(Duration::from_secs(61));
    let outcome = svc
        .run(&env(), &id, RunOptions::default())
        .await
        .expect("a new minute, a new run");
    assert!(outcome.run_id.is_some());
    assert_eq!(posts(), 3);
}

#[tokio::test(start_paused = true)]
async fn waiting_for_the_throttle_sleeps_then_triggers_once() {
    let h = start().await;
    let control = h.control();
    let svc = h.hopping_service();
    let id = flow(ORDERS_FLOW_ID);
    for _ in 0..2 {
        svc.run(&env(), &id, RunOptions::default())
            .await
            .expect("allowed");
    }
    // The sandbox's window has passed, the local one has not: the service waits it out.
    control.advance_clock(Duration::from_secs(61));
    let started = Instant::now();

    let outcome = svc
        .run(
            &env(),
            &id,
            RunOptions {
                wait_for_throttle: true,
                wait: Some(WaitOptions {
                    policy: Some(fast_poll().with_deadline(Duration::from_secs(120))),
                    ..WaitOptions::default()
                }),
                ..RunOptions::default()
            },
        )
        .await
        .expect("triggered after the wait");

    assert!(outcome.run_id.is_some());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(60) && waited < Duration::from_secs(61),
        "{waited:?}"
    );
    assert_eq!(control.request_count("POST", &run_path(ORDERS_FLOW_ID)), 3);
}

#[tokio::test]
async fn the_per_user_limit_counts_runs_across_flows() {
    let h = start().await;
    let control = h.control();
    let svc = Service::with_config(
        h.backend.clone(),
        ServiceConfig {
            limits: ThrottleLimits {
                per_user: 2,
                ..ThrottleLimits::default()
            },
            user_key: "e2e-user".to_owned(),
            ..service_config()
        },
    );
    for id in [ORDERS_FLOW_ID, REPORT_FLOW_ID] {
        svc.run(&env(), &flow(id), RunOptions::default())
            .await
            .expect("allowed");
    }

    let (delay, message) = rate_limited(
        svc.run(&env(), &flow(CDC_FLOW_ID), RunOptions::default())
            .await
            .expect_err("the user's limit is reached"),
    );

    assert!(delay > Duration::from_secs(55), "{delay:?}");
    assert!(
        message.contains("user e2e-user started 2 runs in the last 60 s (the limit is 2)"),
        "{message}"
    );
    assert_eq!(control.request_count("POST", &run_path(CDC_FLOW_ID)), 0);
}

#[tokio::test]
async fn an_upstream_429_with_retry_after_becomes_rate_limited_and_holds_the_flow_back() {
    let h = start().await;
    let control = h.control();
    let id = flow(ORDERS_FLOW_ID);
    let path = run_path(ORDERS_FLOW_ID);
    // The platform refuses the next trigger.
    control.rate_limit_next("POST", &path, Some(7), 1);

    let (delay, message) = rate_limited(
        h.service
            .run(&env(), &id, RunOptions::default())
            .await
            .expect_err("the platform refused the run"),
    );
    assert_eq!(delay, Duration::from_secs(7), "Retry-After is kept");
    assert!(message.contains("Too many requests"), "{message}");
    let posts = control.request_count("POST", &path);
    assert_eq!(
        posts, 1,
        "a refused trigger is never repeated behind the caller's back"
    );

    // The flow is now held back locally for the Retry-After.
    let (delay, message) = rate_limited(
        h.service
            .run(&env(), &id, RunOptions::default())
            .await
            .expect_err("penalized"),
    );
    assert!(delay <= Duration::from_secs(7), "{delay:?}");
    assert!(
        message.contains("refused a run") && message.ends_with("next run allowed in 7 s"),
        "{message}"
    );
    assert_eq!(control.request_count("POST", &path), posts);

    // Another service has no penalty, and the platform accepts the run now.
    h.fresh_service()
        .run(&env(), &id, RunOptions::default())
        .await
        .expect("accepted");
    assert_eq!(control.request_count("POST", &path), posts + 1);
}

#[tokio::test]
async fn the_sandbox_throttle_seen_by_a_service_without_history_penalizes_the_flow() {
    let h = start().await;
    let control = h.control();
    let id = flow(ORDERS_FLOW_ID);
    let path = run_path(ORDERS_FLOW_ID);
    for _ in 0..2 {
        h.fresh_service()
            .run(&env(), &id, RunOptions::default())
            .await
            .expect("allowed upstream");
    }
    let svc = h.fresh_service();

    let (delay, message) = rate_limited(
        svc.run(&env(), &id, RunOptions::default())
            .await
            .expect_err("the sandbox refuses a third run"),
    );

    // No Retry-After: the default penalty applies.
    assert_eq!(delay, ThrottleLimits::default().default_penalty);
    assert!(message.contains("at most 2 times per minute"), "{message}");
    let posts = control.request_count("POST", &path);
    assert_eq!(posts, 3, "the refused trigger was sent once");
    let (_, message) = rate_limited(
        svc.run(&env(), &id, RunOptions::default())
            .await
            .expect_err("penalized locally"),
    );
    assert!(message.contains("(429)"), "{message}");
    assert_eq!(control.request_count("POST", &path), posts);
}
