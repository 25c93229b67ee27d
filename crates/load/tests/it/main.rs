//! Integration tests of the loading engine: whole loads through the pipeline into DuckDB files,
//! with a scripted source.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test harness: panics are the failure report"
)]

mod flow;
#[cfg(feature = "duckdb")]
mod history;
#[cfg(feature = "duckdb")]
mod pipeline;
