//! Contract tests: `HttpBackend` against the real sandbox over loopback HTTP, one module per
//! area, covering every `Backend` method and the traps of `docs/upstream-api.md` section 12; and
//! `FlowClient` against a loopback server written from the Boomi Flow contract (`flow`).

mod activities;
mod catalog;
mod flow;
mod flow_envelopes;
mod flows;
mod pagination;
mod resilience;
mod runs;
mod support;
