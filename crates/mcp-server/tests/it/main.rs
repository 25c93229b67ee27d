//! Integration tests of `bdi-mcp`: every tool through a real MCP client (rmcp over an in-process
//! duplex pipe) against `MockBackend`, the agent-facing contract snapshot, and end-to-end runs of
//! the binary against the sandbox.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test harness: panics are the failure report"
)]

mod support;

mod concurrency;
mod contract;
mod e2e;
mod history;
mod log_redaction;
mod oversized_input;
mod tool_calls;
mod tool_errors;
mod waits;
