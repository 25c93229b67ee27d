//! Contract tests: `HttpBackend` against the real sandbox over loopback HTTP, one module per
//! area, covering every `Backend` method and the traps of `docs/upstream-api.md` section 12; and
//! `BoomiFlowClient` against a loopback server written from the Boomi Flow contract (`boomi_flow`).

mod activities;
mod boomi_flow;
mod boomi_flow_envelopes;
mod catalog;
mod flows;
mod pagination;
mod resilience;
mod runs;
mod support;
