//! End-to-end tests of the domain: the `Service` over a real `HttpBackend`, talking to an
//! in-process sandbox over loopback HTTP. The same behaviours are tested against `MockBackend` in
//! `crates/domain/tests/it`; here they meet the strict emulator, one module per behaviour.

/// Connection sweeps and secret-preserving connection updates.
mod connections;
/// Deep merge of data flow patches, immutable fields and the stripping of server-managed fields.
mod merge_patch;
/// Concurrent read-modify-write on one data flow through one `Service`.
mod read_modify_write;
/// A run is never triggered twice: lost responses are reconciled, failed triggers are explained.
mod run_trigger_safety;
mod support;
/// Source table selection against the discovered catalog.
mod table_matching;
/// The local run throttle and upstream 429s.
mod throttle;
/// Environment variable upserts.
mod variables;
/// Waits for operations and runs: outcomes, deadlines, cancellation, progress, transient errors.
mod waits;
