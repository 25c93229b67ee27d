//! Client-side throttling of run triggers, mirroring the platform's limits (contract 3.4): a data
//! flow may run at most 2 times a minute, and a user may start at most 15 runs a minute.
//!
//! Refusing locally gives a precise message ("next run allowed in 41 s") instead of an upstream
//! 429, and an upstream 429 feeds [`RunLimiter::penalize`] so that the next attempt waits too.
//!
//! **Clock.** Every method takes `now` as a `tokio::time::Instant`, so the caller owns the clock:
//! production passes `Instant::now()`, tests pass instants under tokio's paused time.
//!
//! **Sharing.** [`RunLimiter`] is a trait object so that a gateway serving many callers can back
//! it with a shared store. Its methods are synchronous and must not block: a store that needs
//! network I/O keeps a local view and synchronises it in the background.

use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

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

/// Whether a run may start now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Go,
    /// Wait this long; the reason says which limit was hit.
    Wait(Duration, String),
}

/// Decides whether a run may start, and learns from runs started and 429s received.
pub trait RunLimiter: Send + Sync + Debug {
    /// Whether `user` may run `flow` at `now`. Does not record anything.
    fn check(&self, flow: &DataFlowId, user: &str, now: Instant) -> Decision;

    /// Records a run that started at `now`.
    fn record(&self, flow: &DataFlowId, user: &str, now: Instant);

    /// Holds back runs of `flow` until `until` (after an upstream 429).
    fn penalize(&self, flow: &DataFlowId, user: &str, until: Instant);
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

#[derive(Debug, Default)]
struct Windows {
    flows: HashMap<DataFlowId, VecDeque<Instant>>,
    users: HashMap<String, VecDeque<Instant>>,
    penalties: HashMap<DataFlowId, Instant>,
}

fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while let Some(first) = q.front() {
        if now.saturating_duration_since(*first) >= window {
            q.pop_front();
        } else {
            break;
        }
    }
}

impl Windows {
    /// Drops expired entries everywhere (keeps the maps from growing without bound).
    fn sweep(&mut self, now: Instant, window: Duration) {
        for q in self.flows.values_mut().chain(self.users.values_mut()) {
            prune(q, now, window);
        }
        self.flows.retain(|_, q| !q.is_empty());
        self.users.retain(|_, q| !q.is_empty());
        self.penalties.retain(|_, until| *until > now);
    }
}

/// A [`RunLimiter`] in process memory, with sliding windows.
#[derive(Debug, Default)]
pub struct InMemoryLimiter {
    limits: ThrottleLimits,
    state: Mutex<Windows>,
}

impl InMemoryLimiter {
    /// A limiter with these limits.
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            state: Mutex::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &ThrottleLimits {
        &self.limits
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut Windows) -> R) -> R {
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

impl RunLimiter for InMemoryLimiter {
    fn check(&self, flow: &DataFlowId, user: &str, now: Instant) -> Decision {
        let limits = &self.limits;
        self.with_state(|w| {
            w.sweep(now, limits.window);
            let mut waits: Vec<(Duration, String)> = Vec::new();
            if let Some(until) = w.penalties.get(flow) {
                let d = *until - now;
                waits.push((
                    d,
                    format!(
                        "the platform refused a run of data flow {flow} as too frequent (429); next run allowed in {} s",
                        ceil_secs(d)
                    ),
                ));
            }
            if let Some(q) = w.flows.get(flow)
                && q.len() >= limits.per_flow as usize
                && let Some(oldest) = q.iter().rev().nth(limits.per_flow.saturating_sub(1) as usize)
            {
                let d = (*oldest + limits.window) - now;
                waits.push((
                    d,
                    format!(
                        "data flow {flow} was run {} in the last {} s (the limit is {}); next run allowed in {} s",
                        times(q.len()),
                        limits.window.as_secs(),
                        limits.per_flow,
                        ceil_secs(d)
                    ),
                ));
            }
            if let Some(q) = w.users.get(user)
                && q.len() >= limits.per_user as usize
                && let Some(oldest) = q.iter().rev().nth(limits.per_user.saturating_sub(1) as usize)
            {
                let d = (*oldest + limits.window) - now;
                waits.push((
                    d,
                    format!(
                        "user {user} started {} runs in the last {} s (the limit is {}); next run allowed in {} s",
                        q.len(),
                        limits.window.as_secs(),
                        limits.per_user,
                        ceil_secs(d)
                    ),
                ));
            }
            match waits.into_iter().max_by_key(|(d, _)| *d) {
                Some((d, reason)) => Decision::Wait(d, reason),
                None => Decision::Go,
            }
        })
    }

    fn record(&self, flow: &DataFlowId, user: &str, now: Instant) {
        let window = self.limits.window;
        self.with_state(|w| {
            let q = w.flows.entry(flow.clone()).or_default();
            prune(q, now, window);
            q.push_back(now);
            let q = w.users.entry(user.to_owned()).or_default();
            prune(q, now, window);
            q.push_back(now);
        });
    }

    fn penalize(&self, flow: &DataFlowId, _user: &str, until: Instant) {
        self.with_state(|w| {
            let slot = w.penalties.entry(flow.clone()).or_insert(until);
            if *slot < until {
                *slot = until;
            }
        });
    }
}

#[cfg(test)]
mod tests;
