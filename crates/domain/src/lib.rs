//! The domain of bdi: the [`Backend`] trait every front end talks through, the typed models of
//! Boomi Data Integration's resources, the one [`Error`] enum, and the logic that makes the tools
//! good (deep merge, table matching, polling, throttling, safe read-modify-write).
//!
//! **Invariant:** this crate does no I/O of its own: no HTTP client, no sockets, no files. It
//! reaches the platform only through a [`Backend`], and time only through tokio's clock (which
//! tests pause).

pub mod backend;
pub mod error;
pub mod ids;
pub mod locks;
pub mod logs;
pub mod matching;
pub mod merge;
pub mod models;
pub mod next_step;
pub mod poll;
pub mod service;
pub mod throttle;

#[cfg(feature = "mock")]
pub use backend::MockBackend;
pub use backend::{Backend, Document, Env};
pub use error::{Error, Result, StateConflict, ValidationDetail};
pub use ids::{AccountId, ConnectionId, DataFlowId, EnvironmentId, OperationId, RunId};
pub use locks::ResourceLocks;
pub use matching::{Catalog, MatchError, QualifiedTable};
pub use next_step::NextStep;
pub use poll::{PollPolicy, Progress, ProgressFn, Waited};
pub use service::{
    Activation, ConnectionSweep, NewDataFlow, RunOptions, RunOutcome, RunStage, RunState, Service,
    ServiceConfig, TablesSet, ToggleState, WaitOptions, explain_operation,
};
pub use throttle::{
    InMemoryLimiter, Limit, Refusal, Reservation, RunGate, RunLimiter, SlidingWindows,
    ThrottleLimits,
};
pub use tokio_util::sync::CancellationToken;
