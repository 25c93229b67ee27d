//! Run limits with concurrent callers over real HTTP on 127.0.0.1: twenty run requests at once
//! through one gateway in front of the sandbox start two runs, and the other eighteen get a 429
//! with `Retry-After` at once, before the upstream is touched; the pass-through route holds the
//! same limit; a run the platform refuses is answered 429 at once and never repeated.

use std::time::{Duration, Instant};

use bdi_rest_proxy::AppState;
use bdi_rest_proxy::serve::RunningGateway;
use bdi_sandbox::{Sandbox, SandboxConfig, demo};

const KEY: &str = "bdig_concurrency_key";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A gateway in front of `sandbox`, its upstream client with the production retry policy.
async fn gateway(sandbox: &Sandbox) -> RunningGateway {
    let state = AppState::new(crate::support::sandbox_gateway(sandbox, "etl", KEY));
    RunningGateway::start("127.0.0.1:0".parse().unwrap(), state)
        .await
        .unwrap()
}

/// Sends `n` POSTs to `url` at once; each answer's status, `Retry-After`, body and latency.
async fn post_at_once(url: &str, n: usize) -> Vec<(u16, Option<u64>, String, Duration)> {
    let client = http();
    let requests: Vec<_> = (0..n)
        .map(|_| {
            let client = client.clone();
            let url = url.to_owned();
            tokio::spawn(async move {
                let started = Instant::now();
                let resp = client.post(&url).bearer_auth(KEY).send().await.unwrap();
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                let body = resp.text().await.unwrap();
                (status, retry_after, body, started.elapsed())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for r in requests {
        answers.push(r.await.unwrap());
    }
    answers
}

fn assert_two_started_and_the_rest_refused_at_once(
    answers: &[(u16, Option<u64>, String, Duration)],
    started_status: u16,
) {
    let started = answers.iter().filter(|a| a.0 == started_status).count();
    assert_eq!(started, 2, "{answers:?}");
    for (status, retry_after, body, took) in answers.iter().filter(|a| a.0 != started_status) {
        assert_eq!(*status, 429, "{body}");
        let secs = retry_after.expect("Retry-After on every refusal");
        assert!((55..=60).contains(&secs), "{secs}");
        assert!(
            body.contains("(the limit is 2); next run allowed in"),
            "{body}"
        );
        assert!(*took < Duration::from_secs(1), "refused at once: {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_runs_start_two_and_the_rest_get_429_at_once() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let gw = gateway(&sandbox).await;
    let env = &sandbox.config().environment_id;
    let url = format!(
        "{}/bdi/v1/environments/{env}/data_flows/{}/run?wait=false",
        gw.base_url(),
        demo::ORDERS_FLOW_ID
    );
    let path = format!("/rivers/{}/run", demo::ORDERS_FLOW_ID);

    let answers = post_at_once(&url, 20).await;

    assert_two_started_and_the_rest_refused_at_once(&answers, 202);
    assert_eq!(sandbox.control().request_count("POST", &path), 2);
    tokio::task::yield_now().await;
    assert_eq!(
        sandbox.control().request_count("POST", &path),
        2,
        "nothing reaches the upstream after the answers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pass_through_run_route_holds_the_same_limit() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let gw = gateway(&sandbox).await;
    let sc = sandbox.config();
    let url = format!(
        "{}/v1/accounts/{}/environments/{}/rivers/{}/run",
        gw.base_url(),
        sc.account_id,
        sc.environment_id,
        demo::REPORT_FLOW_ID
    );
    let path = format!("/rivers/{}/run", demo::REPORT_FLOW_ID);

    let answers = post_at_once(&url, 10).await;

    assert_two_started_and_the_rest_refused_at_once(&answers, 202);
    assert_eq!(sandbox.control().request_count("POST", &path), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_the_platform_refuses_is_answered_429_at_once_and_not_repeated() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let env = sandbox.config().environment_id.clone();
    let path = format!("/rivers/{}/run", demo::ORDERS_FLOW_ID);
    // Another gateway (its own limiter) used the flow's two runs of the minute.
    let other = gateway(&sandbox).await;
    let url = |gw: &RunningGateway| {
        format!(
            "{}/bdi/v1/environments/{env}/data_flows/{}/run?wait=false",
            gw.base_url(),
            demo::ORDERS_FLOW_ID
        )
    };
    let first = post_at_once(&url(&other), 2).await;
    assert!(first.iter().all(|a| a.0 == 202), "{first:?}");

    let gw = gateway(&sandbox).await;
    let answers = post_at_once(&url(&gw), 1).await;

    let (status, retry_after, body, took) = &answers[0];
    assert_eq!(*status, 429, "{body}");
    assert!(retry_after.is_some());
    assert!(body.contains("2 times per minute"), "{body}");
    assert!(*took < Duration::from_secs(1), "{took:?}");
    assert_eq!(
        sandbox.control().request_count("POST", &path),
        3,
        "the refused trigger was sent once"
    );
}
