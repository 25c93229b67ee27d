//! Hostile sizes: an oversized argument is refused before any upstream request, and the error
//! quotes none of it (it would land whole in the agent's context).

use bdi_domain::MockBackend;
use serde_json::json;

use crate::support::*;

const TEN_MB: usize = 10 * 1024 * 1024;

#[tokio::test]
async fn a_10_mb_id_or_name_filter_is_refused_short_and_never_sent() {
    // A mock with no expectations panics if called: the calls below must stop before it.
    let c = client(MockBackend::new()).await;
    let huge = "a".repeat(TEN_MB);
    let cases = [
        (
            "get_data_flow",
            json!({"data_flow_id": huge}),
            "invalid data_flow_id: too long: 10485760 characters where at most 64 are accepted",
        ),
        (
            "list_data_flows",
            json!({"name": huge}),
            "invalid name: too long: 10485760 characters where at most 1000 are accepted",
        ),
        (
            // A value of the wrong type is refused before rmcp's parse error could quote it.
            "update_data_flow",
            json!({"data_flow_id": FLOW, "body": huge}),
            "invalid body: too long: 10485760 characters where at most 1000 are accepted",
        ),
    ];
    for (tool, args, want) in cases {
        let e = err(&call(&c, tool, args).await);
        assert!(e.len() < 500, "{tool}: {} bytes of error", e.len());
        assert!(e.starts_with(&format!("error: {want}")), "{tool}: {e}");
    }
}

#[tokio::test]
async fn invalid_input_within_the_limits_is_quoted_short() {
    let c = client(MockBackend::new()).await;
    let long = "z".repeat(999);
    let cases = [
        (
            "get_data_flow",
            json!({"data_flow_id": "x".repeat(60)}),
            "is not a valid data flow id",
        ),
        (
            "list_runs",
            json!({"data_flow_id": FLOW, "start_time": long, "end_time": "2026-11-20"}),
            "…` (999 characters) is not a valid time",
        ),
        (
            "list_runs",
            json!({"data_flow_id": FLOW, "start_time": "2026-11-01", "end_time": "2026-11-20", "status": long}),
            "…` (999 characters) is not a run status",
        ),
        (
            "list_data_flows",
            json!({"status": long}),
            "…` (999 characters) is not a status",
        ),
        (
            "create_data_flow",
            json!({"name": "x", "source_name": "mysql", "source_connection_id": "c".repeat(60), "target_name": "snowflake", "target_connection_id": CONN}),
            "is not a connection id",
        ),
    ];
    for (tool, args, want) in cases {
        let e = err(&call(&c, tool, args).await);
        assert!(e.len() < 600, "{tool}: {} bytes of error: {e}", e.len());
        assert!(e.contains(want), "{tool}: {e}");
    }
}

#[tokio::test]
async fn a_mistyped_argument_is_not_echoed_whole() {
    // serde quotes a string given where a boolean belongs; the text within the limits is cut.
    let c = client(MockBackend::new()).await;
    let e = err(&call(
        &c,
        "activate_data_flow",
        json!({"data_flow_id": FLOW, "wait": "w".repeat(900)}),
    )
    .await);
    assert!(e.len() < 400, "{} bytes: {e}", e.len());
    assert!(
        e.starts_with("failed to deserialize parameters: invalid type: string"),
        "{e}"
    );
    assert!(e.ends_with(" characters)"), "{e}");
}
