//! Failures: malformed input is refused before any upstream request, and upstream failures come
//! back as tool errors that say what to call next.

use bdi_domain::{Error, MockBackend, StateConflict};
use bdi_mcp_server::{Backing, ServerOptions};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn malformed_ids_times_and_enums_never_reach_the_backend() {
    // A mock with no expectations panics if called: every case below must stop before it.
    let c = client(MockBackend::new()).await;
    let cases = [
        (
            "get_data_flow",
            json!({"data_flow_id": "not-an-id"}),
            "invalid data_flow_id",
        ),
        (
            "get_run",
            json!({"data_flow_id": FLOW, "run_id": FLOW}),
            "invalid run_id",
        ),
        (
            "get_operation",
            json!({"operation_id": "123"}),
            "invalid operation_id",
        ),
        (
            "list_variables",
            json!({"environment_id": "prod"}),
            "invalid environment_id",
        ),
        (
            "list_runs",
            json!({"data_flow_id": FLOW, "start_time": "last week", "end_time": "2026-11-20T00:00:00"}),
            "invalid start_time",
        ),
        (
            "list_runs",
            json!({"data_flow_id": FLOW, "start_time": "2026-11-20", "end_time": "2026-11-01"}),
            "must be after start_time",
        ),
        (
            "list_runs",
            json!({"data_flow_id": FLOW, "start_time": "2026-11-01", "end_time": "2026-11-20", "items_per_page": 500}),
            "between 1 and 200",
        ),
        (
            "list_runs",
            json!({"data_flow_id": FLOW, "start_time": "2026-11-01", "end_time": "2026-11-20", "status": "exploded"}),
            "not a run status",
        ),
        (
            "list_data_flows",
            json!({"status": "paused"}),
            "use active or disabled",
        ),
        (
            "create_data_flow",
            json!({"name": "x", "source_name": "mysql", "source_connection_id": "mysql prod", "target_name": "snowflake", "target_connection_id": CONN}),
            "use a connection_id from list_connections",
        ),
    ];
    for (tool, args, want) in cases {
        let e = err(&call(&c, tool, args).await);
        assert!(e.contains(want), "{tool}: {e}");
    }
}

#[tokio::test]
async fn oauth_connections_are_refused_with_the_vendor_message() {
    let c = client(MockBackend::new()).await;
    let e = err(&call(
        &c,
        "create_connection",
        json!({"body": {"connection_name": "crm", "connection_type": "salesforce"}}),
    )
    .await);
    assert!(
        e.contains(
            "This connection uses OAuth: please create it in the Boomi Data Integration console"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn upstream_state_errors_carry_the_next_step() {
    let mut mock = MockBackend::new();
    mock.expect_run_data_flow().times(1).returning(|_, _, _| {
        Err(Error::State {
            conflict: StateConflict::NotActive,
            message: "The data flow is not active. Activate it before running".into(),
        })
    });
    let c = client(mock).await;
    let e = err(&call(&c, "run_data_flow", json!({"data_flow_id": FLOW})).await);
    insta::assert_snapshot!(e, @r"
    error: The data flow is not active. Activate it before running
    hint: activate the data flow first (activate_data_flow with wait=true), then run it
    ");
}

#[tokio::test]
async fn a_missing_configuration_is_reported_by_the_first_call() {
    let c = client_with(
        Backing::Misconfigured("DATA_INTEGRATION_API_TOKEN is not set".into()),
        ServerOptions::default(),
    )
    .await;
    assert!(
        !c.list_all_tools().await.unwrap().is_empty(),
        "tools are listed even when unconfigured"
    );
    let e = err(&call(&c, "list_data_flows", json!({})).await);
    assert!(e.contains("DATA_INTEGRATION_API_TOKEN is not set"), "{e}");
    assert!(e.contains("--sandbox"), "{e}");
}

#[tokio::test]
async fn wrong_argument_types_are_tool_errors() {
    let c = client(MockBackend::new()).await;
    let e = err(&call(&c, "get_data_flow", json!({"data_flow_id": 5})).await);
    assert!(e.contains("invalid type"), "{e}");
}

#[tokio::test]
async fn an_empty_environment_id_is_refused_not_taken_for_the_default() {
    // Before, "" meant the default environment, even for delete_connection.
    let c = client(MockBackend::new()).await;
    let cases = [
        (
            "delete_connection",
            json!({"connection_id": CONN, "environment_id": ""}),
        ),
        (
            "delete_data_flow",
            json!({"data_flow_id": FLOW, "environment_id": "  "}),
        ),
        ("list_variables", json!({"environment_id": "\t"})),
        ("list_connections", json!({"environment_id": ""})),
    ];
    for (tool, args) in cases {
        let e = err(&call(&c, tool, args).await);
        assert_eq!(
            e,
            "error: invalid environment_id: is empty; an empty id does not select the default environment\n\
             hint: omit environment_id to use the default environment, or give a 24-hex id from list_environments",
            "{tool}"
        );
    }
}
