//! Run limits with concurrent callers: ten `run_data_flow` calls at once through one server on
//! the sandbox start two runs, and the other eight are refused at once with the time to wait,
//! before any request; a run the platform refuses is handed back at once and never repeated.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bdi_api_client::{ClientConfig, HttpBackend};
use bdi_domain::{AccountId, EnvironmentId, Service};
use bdi_mcp_server::{Backing, ServerOptions};
use bdi_sandbox::{Sandbox, SandboxConfig, demo};
use serde_json::json;

use crate::support::{call, client_with, text};

/// An HTTP backend on the sandbox with the production retry policy.
fn backend(sandbox: &Sandbox) -> Arc<HttpBackend> {
    let sc = sandbox.config();
    Arc::new(
        HttpBackend::new(
            ClientConfig::new(
                &sandbox.base_url(),
                &sc.token,
                AccountId::parse(&sc.account_id).unwrap(),
            )
            .unwrap()
            .with_default_environment(Some(EnvironmentId::parse(&sc.environment_id).unwrap())),
        )
        .unwrap(),
    )
}

fn run_path() -> String {
    format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_runs_start_two_and_the_rest_are_refused_at_once() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = client_with(
        Backing::Ready(Service::new(backend(&sandbox))),
        ServerOptions::default(),
    )
    .await;

    let calls = (0..10).map(|_| {
        let client = &client;
        async move {
            let started = Instant::now();
            let r = call(
                client,
                "run_data_flow",
                json!({"data_flow_id": demo::ORDERS_FLOW_ID}),
            )
            .await;
            (r, started.elapsed())
        }
    });
    let results = futures::future::join_all(calls).await;
    let posts_at_answer = sandbox.control().request_count("POST", &run_path());

    let started = results
        .iter()
        .filter(|(r, _)| r.is_error != Some(true))
        .count();
    assert_eq!(started, 2);
    for (r, took) in results.iter().filter(|(r, _)| r.is_error == Some(true)) {
        let message = text(r);
        assert!(
            message.contains("(the limit is 2); next run allowed in"),
            "{message}"
        );
        assert!(message.contains("hint: wait"), "{message}");
        assert!(*took < Duration::from_secs(1), "refused at once: {took:?}");
    }
    assert_eq!(posts_at_answer, 2, "refused before any request");
    // Nothing is left in flight to reach the upstream later.
    tokio::task::yield_now().await;
    assert_eq!(sandbox.control().request_count("POST", &run_path()), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_the_platform_refuses_is_handed_back_at_once() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // Another client used the flow's two runs of the minute.
    let other = Service::new(backend(&sandbox));
    for _ in 0..2 {
        other
            .run(
                &bdi_domain::Env::Default,
                &bdi_domain::DataFlowId::parse(demo::ORDERS_FLOW_ID).unwrap(),
                bdi_domain::RunOptions::default(),
            )
            .await
            .unwrap();
    }
    let client = client_with(
        Backing::Ready(Service::new(backend(&sandbox))),
        ServerOptions::default(),
    )
    .await;

    let started = Instant::now();
    let r = call(
        &client,
        "run_data_flow",
        json!({"data_flow_id": demo::ORDERS_FLOW_ID}),
    )
    .await;

    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let message = text(&r);
    assert_eq!(r.is_error, Some(true), "{message}");
    assert!(message.contains("2 times per minute"), "{message}");
    assert_eq!(
        sandbox.control().request_count("POST", &run_path()),
        3,
        "the refused trigger was sent once"
    );
}
