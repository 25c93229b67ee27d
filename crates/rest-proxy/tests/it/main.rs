//! Integration tests of the gateway: in-process router tests against a `MockBackend`, and
//! end-to-end tests over real HTTP against the sandbox.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside `#[test]` functions unwrap too: a failure there is a failed test"
)]

mod access;
mod concurrency;
mod e2e;
mod errors;
mod higher;
mod openapi;
mod ops;
mod passthrough;
mod redirects;
mod replicas;
mod slow;
mod support;
