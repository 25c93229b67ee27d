//! Integration tests of the domain's `Service` against the mock backend (feature `mock`), with
//! tokio's paused clock, plus the tidy checks of the crate's invariants.

mod connections;
mod data_flows;
mod runs;
mod support;
mod tables;
mod tidy;
mod toggles;
