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
mod load;
mod runs;
mod simple;
mod support;
mod waits;
