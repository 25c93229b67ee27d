//! Integration tests for the sandbox, over real HTTP on 127.0.0.1.

mod activities;
mod auth;
mod boomi_flow;
mod connections;
mod control_api;
mod discovery;
mod faults;
mod lifecycle;
mod listing;
mod rivers;
mod runs;
mod support;
