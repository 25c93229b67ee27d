//! Integration tests of the loading engine: whole loads through the pipeline into DuckDB files,
//! with a scripted source, and from the Boomi Flow emulator into PostgreSQL and DuckDB alike.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test harness: panics are the failure report"
)]

mod boomi_flow;
#[cfg(feature = "duckdb")]
mod history;
#[cfg(feature = "duckdb")]
mod pipeline;
#[cfg(all(feature = "duckdb", feature = "postgres"))]
mod postgres;
