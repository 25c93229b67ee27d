//! Logs at TRACE never show a secret a tool was given: rmcp's message dumps are dropped, and the
//! server's own log of each call redacts secret fields.

use bdi_domain::MockBackend;
use bdi_mcp_server::logging;
use serde_json::json;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::support::*;

const PASSWORD: &str = "hunter2-Pa55word";
const PRIVATE_KEY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC";
const API_KEY: &str = "ak-9f8e7d6c5b4a";

/// Runs one create_connection call with secrets under the subscriber `make` builds around a
/// log writer, and returns what was logged.
async fn logs_of_a_create_connection_call(make: impl FnOnce(Captured) -> Dispatch) -> String {
    let captured = Captured::default();
    let dispatch = make(captured.clone());
    // The test runtime has one thread, so every task of the client and the server logs here.
    let _guard = tracing::dispatcher::set_default(&dispatch);
    let mut mock = MockBackend::new();
    mock.expect_create_connection().times(1).returning(|_, _| {
        Ok(serde_json::from_value(json!({
            "cross_id": CONN, "connection_name": "pg", "connection_type": "postgres"
        }))
        .unwrap())
    });
    let c = client(mock).await;
    let r = call(
        &c,
        "create_connection",
        json!({"body": {
            "connection_name": "pg", "connection_type": "postgres", "host": "db.internal",
            "username": "etl", "password": PASSWORD,
            "ssl": {"Private-Key": PRIVATE_KEY}, "options": [{"apiKey": API_KEY}]
        }}),
    )
    .await;
    ok(&r);
    c.cancel().await.unwrap();
    captured.text()
}

#[tokio::test]
async fn trace_logs_of_create_connection_never_show_the_password() {
    let logs = logs_of_a_create_connection_call(|w| {
        Dispatch::new(tracing_subscriber::registry().with(logging::layer(Some("trace"), w)))
    })
    .await;
    assert!(logs.contains("tool call"), "the call is logged: {logs}");
    assert!(logs.contains("create_connection"), "{logs}");
    assert!(
        logs.contains("db.internal"),
        "non-secret fields stay: {logs}"
    );
    assert!(logs.contains("<redacted>"), "{logs}");
    for secret in [PASSWORD, PRIVATE_KEY, API_KEY] {
        assert!(!logs.contains(secret), "{secret} was logged:\n{logs}");
    }
}

#[tokio::test]
async fn without_the_guard_rmcp_would_log_the_password() {
    // The control experiment: a plain TRACE subscriber shows what the guard removes, so the
    // test above cannot pass by capturing nothing.
    let logs = logs_of_a_create_connection_call(|w| {
        Dispatch::new(
            tracing_subscriber::fmt()
                .with_writer(w)
                .with_ansi(false)
                .with_env_filter("trace")
                .finish(),
        )
    })
    .await;
    assert!(
        logs.contains(PASSWORD),
        "rmcp no longer dumps requests:\n{logs}"
    );
}
