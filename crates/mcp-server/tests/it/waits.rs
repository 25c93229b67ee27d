//! Long waits: progress notifications when the client asked for them, a clear result when the
//! budget runs out, and a stop (with no response) when the client cancels. Time is paused: no
//! test sleeps for real.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bdi_domain::models::Toggle;
use bdi_domain::{MockBackend, Service};
use bdi_mcp_server::{Backing, BdiMcp, ServerOptions};
use rmcp::model::{
    CallToolRequestParams, ClientRequest, ProgressNotificationParam, Request, ServerResult,
};
use rmcp::service::{NotificationContext, PeerRequestOptions};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;

use crate::support::*;

#[derive(Clone, Default)]
struct ProgressClient {
    seen: Arc<Mutex<Vec<f64>>>,
}

impl ClientHandler for ProgressClient {
    async fn on_progress(&self, p: ProgressNotificationParam, _: NotificationContext<RoleClient>) {
        self.seen.lock().unwrap().push(p.progress);
    }
}

fn activating_mock(polls_until_done: usize, counter: Arc<AtomicUsize>) -> MockBackend {
    let mut mock = MockBackend::new();
    mock.expect_activate_data_flow().times(1).returning(|_, _| {
        Ok(Toggle::Started {
            operation: Box::new(operation("W")),
        })
    });
    mock.expect_get_operation().returning(move |_, _| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(operation(if n >= polls_until_done {
            "D"
        } else if n > 1 {
            "R"
        } else {
            "W"
        }))
    });
    mock
}

async fn progress_client(
    mock: MockBackend,
) -> rmcp::service::RunningService<RoleClient, ProgressClient> {
    let server = BdiMcp::new(
        Backing::Ready(Service::new(Arc::new(mock))),
        ServerOptions::default(),
    )
    .unwrap();
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(r) = server.serve(s).await {
            let _ = r.waiting().await;
        }
    });
    ProgressClient::default().serve(c).await.unwrap()
}

fn call_request(name: &'static str, args: serde_json::Value) -> ClientRequest {
    ClientRequest::CallToolRequest(Request::new(
        CallToolRequestParams::new(name).with_arguments(args.as_object().cloned().unwrap()),
    ))
}

#[tokio::test(start_paused = true)]
async fn activate_wait_sends_progress_and_returns_the_final_operation() {
    let counter = Arc::new(AtomicUsize::new(0));
    let client = progress_client(activating_mock(4, counter.clone())).await;
    let handle = client
        .send_cancellable_request(
            call_request(
                "activate_data_flow",
                json!({"data_flow_id": FLOW, "wait": true}),
            ),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let ServerResult::CallToolResult(r) = handle.await_response().await.unwrap() else {
        panic!("not a tool result")
    };
    let v = ok(&r);
    assert_eq!(v["activated"], true, "{v}");
    assert_eq!(v["operation"]["status"], "D");
    assert_eq!(counter.load(Ordering::SeqCst), 4);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let seen = client.service().seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no progress notification");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "progress must increase: {seen:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_runs_out_says_the_work_continues_upstream() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().times(1).returning(|_, _, _| {
        Ok(serde_json::from_value(json!({"runs": [{"run_id": RUN, "status": "pending"}], "river_cross_id": FLOW, "run_group_id": GROUP})).unwrap())
    });
    mock.expect_get_run()
        .returning(|_, _, _| Ok(run("running")));
    let c = client(mock).await;
    let r = ok(&call(
        &c,
        "run_data_flow",
        json!({"data_flow_id": FLOW, "wait": true, "wait_timeout_seconds": 30}),
    )
    .await);
    assert_eq!(r["finished"], false);
    assert_eq!(r["status"], "running");
    let msg = r["message"].as_str().unwrap();
    assert!(
        msg.contains("still running after")
            && msg.contains("continues upstream")
            && msg.contains(RUN),
        "{msg}"
    );
}

#[tokio::test(start_paused = true)]
async fn run_wait_returns_the_final_run_with_the_failure() {
    let polls = Arc::new(AtomicUsize::new(0));
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().times(1).returning(|_, _, _| {
        Ok(serde_json::from_value(json!({"runs": [{"run_id": RUN, "status": "pending"}], "river_cross_id": FLOW, "run_group_id": GROUP})).unwrap())
    });
    let p = polls.clone();
    mock.expect_get_run().returning(move |_, _, _| {
        Ok(run(if p.fetch_add(1, Ordering::SeqCst) < 2 {
            "running"
        } else {
            "failed"
        }))
    });
    let c = client(mock).await;
    let r = ok(&call(
        &c,
        "run_data_flow",
        json!({"data_flow_id": FLOW, "wait": true}),
    )
    .await);
    assert_eq!(
        (r["finished"].as_bool(), r["status"].as_str()),
        (Some(true), Some("failed"))
    );
    assert_eq!(
        r["run"]["error_description"],
        "table broken_events: access denied"
    );
    assert!(
        r["message"].as_str().unwrap().contains("get_run_logs"),
        "{}",
        r["message"]
    );
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_wait_stops_polling_and_sends_no_result() {
    let counter = Arc::new(AtomicUsize::new(0));
    let client = progress_client(activating_mock(usize::MAX, counter.clone())).await;
    let handle = client
        .send_cancellable_request(
            call_request(
                "activate_data_flow",
                json!({"data_flow_id": FLOW, "wait": true}),
            ),
            PeerRequestOptions::with_timeout(Duration::from_secs(20)),
        )
        .await
        .unwrap();
    // The client gives up after 20 s and sends notifications/cancelled.
    let res = handle.await_response().await;
    assert!(
        matches!(res, Err(rmcp::service::ServiceError::Timeout { .. })),
        "{res:?}"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after_cancel = counter.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(
        counter.load(Ordering::SeqCst),
        after_cancel,
        "the server kept polling after the cancel"
    );
}
