//! Client-side throttling of run triggers, mirroring the platform's limits (`docs/upstream-api.md` 3.4): a data
//! flow may run at most 2 times a minute, and a user may start at most 15 runs a minute.
//!
//! Refusing locally gives a precise message ("next run allowed in 41 s") instead of an upstream
//! 429, and an upstream 429 feeds [`RunLimiter::penalize`] so that the next attempt waits too.
//!
//! **Atomic decisions.** [`RunLimiter::acquire`] checks the windows and reserves the slot in one
//! step, so no number of concurrent callers can get more slots than the limits allow. A caller
//! whose trigger then proves that no run started (a 4xx answer, a 429) gives the slot back with
//! [`RunLimiter::release`]; a trigger that may have started a run keeps it. Every implementation
//! (in memory here, a file shared by processes in the CLI, a shared store for replicas) keeps this
//! contract; [`SlidingWindows`] is the decision logic they share, with explicit times.
//!
//! **Waiting.** [`RunGate`] adds the callers who asked to wait for the throttle: they queue per
//! data flow, first come first served, and each gives up at once when the wait would outlast its
//! deadline.
//!
//! **Clock.** The in-memory limiter reads tokio's clock, so tests pause and advance it; the
//! sliding windows take milliseconds from whatever epoch their owner picks.

use std::collections::{HashMap, VecDeque};
use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::ids::DataFlowId;

/// The limits, per sliding window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Runs of one data flow per window (2 upstream).
    pub per_flow: u32,
    /// Runs started by one user per window (15 upstream).
    pub per_user: u32,
    /// The sliding window (60 s upstream).
    pub window: Duration,
    /// How long to hold back after an upstream 429 without `Retry-After`.
    pub default_penalty: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            per_flow: 2,
            per_user: 15,
            window: Duration::from_secs(60),
            default_penalty: Duration::from_secs(30),
        }
    }
}

/// Which limit refused a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// The data flow's own limit (2 a minute).
    Flow,
    /// The user's limit across data flows (15 a minute).
    User,
    /// The platform answered 429 and the flow is held back for its `Retry-After`.
    Upstream,
}

impl Limit {
    /// A stable label (`data_flow`, `user`, `upstream`), for metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Flow => "data_flow",
            Self::User => "user",
            Self::Upstream => "upstream",
        }
    }
}

/// A run may not start now: how long to wait, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The time until a slot frees up.
    pub wait: Duration,
    /// The limit that refused (the one with the longest wait when several do).
    pub limit: Limit,
    /// A sentence that names the limit and ends with "next run allowed in N s".
    pub reason: String,
}

impl Refusal {
    /// The platform answered 429: runs of `flow` are held back for `wait`.
    pub fn upstream(flow: &DataFlowId, wait: Duration) -> Self {
        Self {
            wait,
            limit: Limit::Upstream,
            reason: format!(
                "the platform refused a run of data flow {flow} as too frequent (429); next run allowed in {} s",
                ceil_secs(wait)
            ),
        }
    }

    /// `flow` ran `runs` times in the window, which is its limit: the next slot frees in `wait`.
    pub fn flow(flow: &DataFlowId, runs: usize, limits: &ThrottleLimits, wait: Duration) -> Self {
        Self {
            wait,
            limit: Limit::Flow,
            reason: format!(
                "data flow {flow} was run {} in the last {} s (the limit is {}); next run allowed in {} s",
                times(runs),
                limits.window.as_secs(),
                limits.per_flow,
                ceil_secs(wait)
            ),
        }
    }

    /// `user` started `runs` runs in the window, which is the limit: the next slot frees in
    /// `wait`.
    pub fn user(user: &str, runs: usize, limits: &ThrottleLimits, wait: Duration) -> Self {
        Self {
            wait,
            limit: Limit::User,
            reason: format!(
                "user {user} started {runs} runs in the last {} s (the limit is {}); next run allowed in {} s",
                limits.window.as_secs(),
                limits.per_user,
                ceil_secs(wait)
            ),
        }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::RateLimited {
            retry_after: Some(r.wait),
            limit: r.limit,
            message: r.reason,
        }
    }
}

/// Why [`RunLimiter::acquire`] gave no slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The limits refuse a run now.
    Refused(Refusal),
    /// The store the limiter shares with other replicas cannot be reached: no decision, so no
    /// run (never a decision taken alone, which could exceed the platform's limits).
    Unavailable(String),
}

impl Denied {
    /// The refusal, when the limits refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(r) => Some(r),
            Self::Unavailable(_) => None,
        }
    }
}

impl From<Refusal> for Denied {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<Denied> for Error {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Refused(r) => r.into(),
            Denied::Unavailable(m) => Error::Unavailable(m),
        }
    }
}

/// A slot taken by [`RunLimiter::acquire`]: it counts against both limits until the window has
/// passed, unless it is given back with [`RunLimiter::release`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The data flow.
    pub flow: DataFlowId,
    /// The user (throttle key).
    pub user: String,
    /// Unique within the limiter that issued it.
    pub id: u64,
}

/// Decides whether a run may start, atomically, and learns from 429s received.
///
/// Implementations must make `acquire` atomic: between its check and its record no other caller
/// (task, thread, process or replica, whatever the implementation shares) may decide.
#[async_trait]
pub trait RunLimiter: Send + Sync + Debug {
    /// Reserves a slot for `user` to run `flow` now, or says how long to wait (or that no
    /// decision can be made).
    async fn acquire(&self, flow: &DataFlowId, user: &str) -> Result<Reservation, Denied>;

    /// Gives back a slot whose trigger proved that no run started.
    async fn release(&self, reservation: &Reservation);

    /// Holds back runs of `flow` for `wait` (after an upstream 429).
    async fn penalize(&self, flow: &DataFlowId, user: &str, wait: Duration);
}

/// Whole seconds, rounded up, for messages.
pub fn ceil_secs(d: Duration) -> u64 {
    let s = d.as_secs();
    if d.subsec_nanos() > 0 { s + 1 } else { s }
}

fn times(n: usize) -> String {
    match n {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

/// One recorded run start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Slot {
    /// Milliseconds since the owner's epoch.
    at: u64,
    id: u64,
}

/// The decision logic every limiter shares: sliding windows per data flow and per user, and
/// penalties per data flow, over explicit times in milliseconds since an epoch of the owner's
/// choosing (tokio's clock in memory, the Unix epoch in a file). Serializable, so a limiter can
/// keep it in a file or a store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlidingWindows {
    flows: HashMap<String, VecDeque<Slot>>,
    users: HashMap<String, VecDeque<Slot>>,
    penalties: HashMap<String, u64>,
    next_id: u64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn prune(q: &mut VecDeque<Slot>, now: u64, window: u64) {
    while q
        .front()
        .is_some_and(|s| now.saturating_sub(s.at) >= window)
    {
        q.pop_front();
    }
}

impl SlidingWindows {
    /// Drops expired entries everywhere (keeps the maps from growing without bound).
    fn sweep(&mut self, now: u64, window: u64) {
        for q in self.flows.values_mut().chain(self.users.values_mut()) {
            prune(q, now, window);
        }
        self.flows.retain(|_, q| !q.is_empty());
        self.users.retain(|_, q| !q.is_empty());
        self.penalties.retain(|_, until| *until > now);
    }

    /// The refusal, if any, for `user` running `flow` at `now`.
    fn refusal(
        &self,
        limits: &ThrottleLimits,
        flow: &DataFlowId,
        user: &str,
        now: u64,
    ) -> Option<Refusal> {
        let window = millis(limits.window);
        let mut refusals: Vec<Refusal> = Vec::new();
        if let Some(until) = self.penalties.get(flow.as_str()) {
            refusals.push(Refusal::upstream(flow, Duration::from_millis(until - now)));
        }
        let full = |q: &VecDeque<Slot>, limit: u32| -> Option<Duration> {
            let limit = limit as usize;
            if q.len() < limit {
                return None;
            }
            // The slot that must leave the window before one is free.
            let oldest = q.iter().rev().nth(limit.saturating_sub(1))?;
            Some(Duration::from_millis(
                (oldest.at + window).saturating_sub(now),
            ))
        };
        if let Some(q) = self.flows.get(flow.as_str())
            && let Some(wait) = full(q, limits.per_flow)
        {
            refusals.push(Refusal::flow(flow, q.len(), limits, wait));
        }
        if let Some(q) = self.users.get(user)
            && let Some(wait) = full(q, limits.per_user)
        {
            refusals.push(Refusal::user(user, q.len(), limits, wait));
        }
        refusals.into_iter().max_by_key(|r| r.wait)
    }

    /// Checks and records in one step: a slot for `user` to run `flow` at `now` (milliseconds).
    pub fn acquire(
        &mut self,
        limits: &ThrottleLimits,
        flow: &DataFlowId,
        user: &str,
        now: u64,
    ) -> Result<Reservation, Refusal> {
        self.sweep(now, millis(limits.window));
        if let Some(refusal) = self.refusal(limits, flow, user, now) {
            return Err(refusal);
        }
        self.next_id += 1;
        let slot = Slot {
            at: now,
            id: self.next_id,
        };
        self.flows
            .entry(flow.to_string())
            .or_default()
            .push_back(slot);
        self.users
            .entry(user.to_owned())
            .or_default()
            .push_back(slot);
        Ok(Reservation {
            flow: flow.clone(),
            user: user.to_owned(),
            id: slot.id,
        })
    }

    /// Removes a reservation's slot (if it is still in the window).
    pub fn release(&mut self, reservation: &Reservation) {
        let id = reservation.id;
        if let Some(q) = self.flows.get_mut(reservation.flow.as_str()) {
            q.retain(|s| s.id != id);
        }
        if let Some(q) = self.users.get_mut(&reservation.user) {
            q.retain(|s| s.id != id);
        }
    }

    /// Holds back runs of `flow` until `until` (milliseconds), never shortening a penalty.
    pub fn penalize(&mut self, flow: &DataFlowId, until: u64) {
        let slot = self.penalties.entry(flow.to_string()).or_insert(until);
        *slot = (*slot).max(until);
    }

    /// Runs of `flow` counted in the window at `now`.
    pub fn flow_count(&self, flow: &DataFlowId, now: u64, window: Duration) -> usize {
        let window = millis(window);
        self.flows.get(flow.as_str()).map_or(0, |q| {
            q.iter()
                .filter(|s| now.saturating_sub(s.at) < window)
                .count()
        })
    }
}

/// A [`RunLimiter`] in process memory, on tokio's clock.
pub struct InMemoryLimiter {
    limits: ThrottleLimits,
    epoch: Instant,
    state: Mutex<SlidingWindows>,
}

impl Debug for InMemoryLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for InMemoryLimiter {
    fn default() -> Self {
        Self::new(ThrottleLimits::default())
    }
}

impl InMemoryLimiter {
    /// A limiter with these limits.
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            epoch: Instant::now(),
            state: Mutex::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &ThrottleLimits {
        &self.limits
    }

    fn now(&self) -> u64 {
        millis(Instant::now().saturating_duration_since(self.epoch))
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut SlidingWindows) -> R) -> R {
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Runs of `flow` in the current window (for tests and diagnostics).
    pub fn flow_count(&self, flow: &DataFlowId) -> usize {
        let now = self.now();
        self.with_state(|w| w.flow_count(flow, now, self.limits.window))
    }
}

#[async_trait]
impl RunLimiter for InMemoryLimiter {
    async fn acquire(&self, flow: &DataFlowId, user: &str) -> Result<Reservation, Denied> {
        let now = self.now();
        self.with_state(|w| w.acquire(&self.limits, flow, user, now))
            .map_err(Denied::Refused)
    }

    async fn release(&self, reservation: &Reservation) {
        self.with_state(|w| w.release(reservation));
    }

    async fn penalize(&self, flow: &DataFlowId, _user: &str, wait: Duration) {
        let until = self.now().saturating_add(millis(wait));
        self.with_state(|w| w.penalize(flow, until));
    }
}

/// A run limiter and the callers queued for it, shared by every service of a process.
pub struct RunGate {
    limiter: Arc<dyn RunLimiter>,
    queues: Mutex<HashMap<DataFlowId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Debug for RunGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunGate")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl RunGate {
    /// A gate over this limiter.
    pub fn new(limiter: Arc<dyn RunLimiter>) -> Self {
        Self {
            limiter,
            queues: Mutex::default(),
        }
    }

    /// The limiter.
    pub fn limiter(&self) -> &Arc<dyn RunLimiter> {
        &self.limiter
    }

    /// A slot now, or the refusal at once.
    pub async fn acquire(&self, flow: &DataFlowId, user: &str) -> Result<Reservation, Error> {
        Ok(self.limiter.acquire(flow, user).await?)
    }

    /// A slot as soon as one frees up: callers queue per data flow in arrival order, and each
    /// gives up at once with a rate-limit error when the wait would end after `deadline`.
    pub async fn acquire_waiting(
        &self,
        flow: &DataFlowId,
        user: &str,
        cancel: &CancellationToken,
        deadline: Instant,
    ) -> Result<Reservation, Error> {
        let queue = self.queue(flow);
        let cancelled = || {
            Error::Cancelled(format!(
                "waiting for the run throttle of data flow {flow}; no run was triggered"
            ))
        };
        let _turn = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(cancelled()),
            turn = queue.lock() => turn,
            () = tokio::time::sleep_until(deadline) => {
                return Err(Error::RateLimited {
                    retry_after: None,
                    limit: Limit::Flow,
                    message: format!(
                        "other callers were still waiting to run data flow {flow} when this call's deadline came; no run was triggered"
                    ),
                });
            }
        };
        loop {
            let refusal = match self.limiter.acquire(flow, user).await {
                Ok(reservation) => return Ok(reservation),
                Err(Denied::Refused(refusal)) => refusal,
                Err(Denied::Unavailable(m)) => return Err(Error::Unavailable(m)),
            };
            let now = Instant::now();
            if now + refusal.wait > deadline {
                let left = deadline.saturating_duration_since(now);
                return Err(Error::RateLimited {
                    retry_after: Some(refusal.wait),
                    limit: refusal.limit,
                    message: format!(
                        "{}; that is after this call's deadline ({} s left), so no run was triggered",
                        refusal.reason,
                        left.as_secs()
                    ),
                });
            }
            tracing::info!(data_flow = %flow, "{}; waiting", refusal.reason);
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(cancelled()),
                () = tokio::time::sleep(refusal.wait) => {}
            }
        }
    }

    /// The queue of `flow`, dropping the queues nobody holds.
    fn queue(&self, flow: &DataFlowId) -> Arc<tokio::sync::Mutex<()>> {
        let mut queues = self
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        queues.retain(|_, q| Arc::strong_count(q) > 1);
        Arc::clone(queues.entry(flow.clone()).or_default())
    }
}

#[cfg(test)]
mod tests;
