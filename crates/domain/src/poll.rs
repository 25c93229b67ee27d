//! One poller for asynchronous operations and runs: exponential backoff with jitter, a deadline,
//! cancellation and progress reports.
//!
//! Time comes only from tokio's clock (`tokio::time`), so tests run with paused time. A failed
//! fetch does not end the wait unless it is fatal ([`is_fatal`]: not found, unauthorized,
//! forbidden, or a local configuration or input error); transient failures are retried until the
//! deadline, as the platform's own clients do (`docs/upstream-api.md` section 12, trap 20).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{Error, Result};

/// How often and how long to poll.
#[derive(Clone, Debug, PartialEq)]
pub struct PollPolicy {
    /// The first delay.
    pub initial: Duration,
    /// The growth factor of successive delays (1.0 keeps them constant).
    pub factor: f64,
    /// The largest delay.
    pub max_interval: Duration,
    /// Relative jitter in 0..1: each delay is scaled by a random factor in `1 ± jitter`.
    pub jitter: f64,
    /// The whole wait's budget.
    pub deadline: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            factor: 1.5,
            max_interval: Duration::from_secs(15),
            jitter: 0.1,
            deadline: Duration::from_secs(600),
        }
    }
}

impl PollPolicy {
    /// The nominal delays (before jitter): `initial`, then multiplied by `factor`, capped at
    /// `max_interval`. Endless; the deadline ends a wait.
    pub fn delays(&self) -> Delays {
        Delays {
            next: self.initial.min(self.max_interval),
            factor: if self.factor.is_finite() && self.factor >= 1.0 {
                self.factor
            } else {
                1.0
            },
            max: self.max_interval,
        }
    }

    /// A policy with another deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
}

/// The iterator of [`PollPolicy::delays`].
#[derive(Clone, Debug)]
pub struct Delays {
    next: Duration,
    factor: f64,
    max: Duration,
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let d = self.next;
        self.next = self.next.mul_f64(self.factor).min(self.max);
        Some(d)
    }
}

/// Scales `delay` by `1 + jitter * (2 * unit - 1)`, where `unit` is in 0..1 (a random draw).
pub fn apply_jitter(delay: Duration, jitter: f64, unit: f64) -> Duration {
    let j = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let u = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.5
    };
    delay.mul_f64(1.0 + j * (2.0 * u - 1.0))
}

/// How a wait ended. Timing out and being cancelled are outcomes, not errors: the work goes on
/// upstream, and the caller reports where it stood.
#[derive(Clone, Debug, PartialEq)]
pub enum Waited<T> {
    /// The work reached a terminal state.
    Finished(T),
    /// The deadline passed first.
    TimedOut {
        /// The last state seen, if any fetch succeeded.
        last: Option<T>,
        /// How long the wait lasted.
        elapsed: Duration,
    },
    /// The caller cancelled the wait.
    Cancelled {
        /// The last state seen, if any fetch succeeded.
        last: Option<T>,
    },
}

impl<T> Waited<T> {
    /// The final state, when the work finished.
    pub fn finished(&self) -> Option<&T> {
        match self {
            Self::Finished(t) => Some(t),
            _ => None,
        }
    }

    /// The latest state known: the final one, or the last one seen.
    pub fn latest(&self) -> Option<&T> {
        match self {
            Self::Finished(t) => Some(t),
            Self::TimedOut { last, .. } | Self::Cancelled { last } => last.as_ref(),
        }
    }

    /// Consumes the outcome into its latest state.
    pub fn into_latest(self) -> Option<T> {
        match self {
            Self::Finished(t) => Some(t),
            Self::TimedOut { last, .. } | Self::Cancelled { last } => last,
        }
    }

    /// Maps the state.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Waited<U> {
        match self {
            Self::Finished(t) => Waited::Finished(f(t)),
            Self::TimedOut { last, elapsed } => Waited::TimedOut {
                last: last.map(f),
                elapsed,
            },
            Self::Cancelled { last } => Waited::Cancelled { last: last.map(f) },
        }
    }
}

/// One progress report, sent after every check that did not finish the wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// 1 for the first check.
    pub step: u32,
    /// Time since the wait began.
    pub elapsed: Duration,
    /// The short status (`running`, `R`, `error`).
    pub status: String,
    /// A sentence for people.
    pub message: String,
}

/// Receives progress reports; must not block.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Errors that end a wait at once: retrying cannot fix them.
pub fn is_fatal(e: &Error) -> bool {
    matches!(
        e,
        Error::NotFound { .. }
            | Error::Unauthorized { .. }
            | Error::Forbidden { .. }
            | Error::Config(_)
            | Error::InvalidInput { .. }
    )
}

/// Calls `fetch` until `is_done` holds, the deadline passes, the token is cancelled, or a fatal
/// error occurs (returned as `Err`). The first fetch happens at once; a final fetch happens at the
/// deadline. `describe` gives the short status shown in progress reports.
pub async fn poll<T, F, Fut>(
    policy: &PollPolicy,
    cancel: &CancellationToken,
    progress: Option<&ProgressFn>,
    mut fetch: F,
    is_done: impl Fn(&T) -> bool,
    describe: impl Fn(&T) -> String,
) -> Result<Waited<T>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = Instant::now();
    let deadline = start + policy.deadline;
    let mut delays = policy.delays();
    let mut last: Option<T> = None;
    let mut step: u32 = 0;
    let mut rng = StdRng::try_from_os_rng().unwrap_or_else(|_| StdRng::seed_from_u64(0x5eed));
    loop {
        if cancel.is_cancelled() {
            return Ok(Waited::Cancelled { last });
        }
        step = step.saturating_add(1);
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(Waited::Cancelled { last }),
            r = tokio::time::timeout_at(deadline.max(Instant::now()), fetch()) => r,
        };
        let (status, detail) = match outcome {
            Err(_elapsed) => {
                return Ok(Waited::TimedOut {
                    last,
                    elapsed: start.elapsed(),
                });
            }
            Ok(Ok(value)) => {
                if is_done(&value) {
                    return Ok(Waited::Finished(value));
                }
                let status = describe(&value);
                last = Some(value);
                (status.clone(), format!("still {status}"))
            }
            Ok(Err(e)) if is_fatal(&e) => return Err(e),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "transient failure while polling; retrying");
                ("error".to_owned(), format!("check failed ({e}); retrying"))
            }
        };
        let now = Instant::now();
        if now >= deadline {
            return Ok(Waited::TimedOut {
                last,
                elapsed: now - start,
            });
        }
        let nominal = delays.next().unwrap_or(policy.max_interval);
        let unit: f64 = rng.random();
        let delay = apply_jitter(nominal, policy.jitter, unit).min(deadline - now);
        if let Some(report) = progress {
            let elapsed = now - start;
            report(Progress {
                step,
                elapsed,
                status,
                message: format!(
                    "{detail} after {} s; next check in {} s",
                    elapsed.as_secs(),
                    delay.as_secs_f64().ceil() as u64
                ),
            });
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(Waited::Cancelled { last }),
            () = tokio::time::sleep(delay) => {}
        }
    }
}

#[cfg(test)]
mod tests;
