//! Integration tests of `bdi-mcp`: every tool through a real MCP client (rmcp over an in-process
//! duplex pipe) against `MockBackend`, the agent-facing contract snapshot, and end-to-end runs of
//! the binary against the sandbox.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test harness: panics are the failure report"
)]

mod support;

mod bounded_results;
mod concurrency;
mod confirm;
mod contract;
mod e2e;
mod history;
mod hostile;
mod log_redaction;
mod oversized_input;
mod tool_calls;
mod tool_errors;
mod waits;

/// Makes this test binary a worker for the SQL surfaces' queries (`bdi_load::sql_worker`): a
/// query run in a test starts this binary again to run this one test, which answers it and exits.
/// Run on its own, it returns at once.
#[test]
fn bdi_sql_worker() {
    bdi_load::sql_worker::serve_if_asked();
}
