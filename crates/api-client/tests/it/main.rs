//! Contract tests: `HttpBackend` against the real sandbox over loopback HTTP, one module per
//! area, covering every `Backend` method and the traps of the contract's section 12.

mod activities;
mod catalog;
mod flows;
mod pagination;
mod resilience;
mod runs;
mod support;
