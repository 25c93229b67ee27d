//! The gateway's scopes: the domain's [`Scope`] (`docs/upstream-api.md`, the `[S0]` tags), parsed
//! leniently so that `data_flow:write`, `river:write` and `rivers:write` mean the same scope. The
//! gateway's keys hold them; the history source names the same type for what its reads need.

pub use bdi_domain::Scope;
