//! `bdi-gateway`: an internal REST gateway in front of Boomi Data Integration.
//!
//! It holds the upstream credentials so that internal services hold only a gateway key
//! ([`keys`]), each with scopes ([`scopes`]) and optionally a list of environments. It serves the
//! upstream's own v1 paths ([`routes::v1`]), so that an existing client changes only its base URL,
//! plus the domain's higher-level operations ([`routes::bdi`]). Every route goes through the
//! domain (`bdi_domain::Service` over a `Backend`), so the client's retries, pagination and the
//! run throttle apply; run limits are enforced per key and per data flow across keys before the
//! upstream is touched.
//!
//! [`app::app`] builds the whole router (tests drive it with `oneshot`); [`serve`] serves it with
//! graceful shutdown; [`cli`] is the command line. Errors leave as one JSON shape ([`error`]);
//! writes are audited ([`audit`]); `/metrics` exposes Prometheus counters ([`metrics`]); the
//! OpenAPI document is generated from the route table ([`openapi`]).
//!
//! **Invariant:** no secret leaves: the upstream token stays in the backend, keys are stored as
//! SHA-256 digests and compared in constant time, and neither appears in logs, audit lines or
//! error bodies.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod error;
pub mod keys;
pub mod layers;
pub mod metered;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod readiness;
pub mod routes;
pub mod scopes;
pub mod serve;
pub mod state;

pub use app::app;
pub use state::{AppState, GatewayConfig, Limits};
