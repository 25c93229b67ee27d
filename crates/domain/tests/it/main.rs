//! Integration tests of the domain's `Service` against the mock backend (feature `mock`), with
//! tokio's paused clock. The crate's invariants are checked with the others in `xtask/src/tidy.rs`.

mod connections;
mod data_flows;
mod runs;
mod support;
mod tables;
mod toggles;
