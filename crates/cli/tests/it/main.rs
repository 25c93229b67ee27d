//! Integration tests of `bdi`: every command in process against a `MockBackend` (snapshots of
//! exit code, stdout and stderr together), and the real binary against the sandbox.

mod activity;
mod config;
mod connections;
mod docs;
mod e2e;
mod flows;
mod flows_as_code;
mod help;
mod hostile;
mod load;
mod runs;
mod simple;
mod support;
mod waits;

/// Makes this test binary a worker for the SQL surfaces' queries (`bdi_load::sql_worker`): a
/// query run in a test starts this binary again to run this one test, which answers it and exits.
/// Run on its own, it returns at once.
#[test]
fn bdi_sql_worker() {
    bdi_load::sql_worker::serve_if_asked();
}
