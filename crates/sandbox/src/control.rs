//! The test-facing control handle: fault injection, latency, the virtual clock, the poll count an
//! operation or run takes, request counting, the growth of an account (data flows, connections, a
//! run's log) and the Boomi Flow API's growth (new audit events and states). All methods are synchronous but [`Control::requests_reached`], which awaits a
//! request count without sleeping. The control API (`/_sandbox/...`, `routes/control.rs`) offers
//! the Data Integration controls over HTTP.
//!
//! Matching: `method` is compared case-insensitively (`""` or `"*"` match any method) and
//! `path_contains` is a substring of the request's path and query (`/v1/...?page=2`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;

use crate::state::{self, PageFault, Rule, RuleKind, Shared};

/// A cheap, cloneable handle on a running sandbox.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Control").finish_non_exhaustive()
    }
}

impl Control {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Control { shared }
    }

    fn push(&self, method: &str, path_contains: &str, kind: RuleKind, times: u32) {
        if times == 0 {
            return;
        }
        self.shared.faults().rules.push(Rule {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            kind,
            remaining: times,
        });
    }

    /// The next `times` matching requests answer `status` with `{"detail": "..."}` unhandled.
    pub fn fail_next(&self, method: &str, path_contains: &str, status: u16, times: u32) {
        self.push(method, path_contains, RuleKind::Fail(status), times);
    }

    /// The next `times` matching requests answer 429, with `Retry-After` when given.
    pub fn rate_limit_next(
        &self,
        method: &str,
        path_contains: &str,
        retry_after_secs: Option<u64>,
        times: u32,
    ) {
        self.push(
            method,
            path_contains,
            RuleKind::RateLimit(retry_after_secs),
            times,
        );
    }

    /// The next `times` matching requests are handled (state changes) but their response is
    /// lost: the client gets a 502 from "the gateway" instead.
    pub fn drop_next(&self, method: &str, path_contains: &str, times: u32) {
        self.push(method, path_contains, RuleKind::Drop, times);
    }

    /// Adds a delay before every request is handled.
    pub fn set_latency(&self, d: Duration) {
        self.shared.lock().sys.latency = d;
    }

    /// Page `page` of matching list requests keeps answering `status` (a request without a
    /// `page` parameter is page 1).
    pub fn fail_page(&self, path_contains: &str, page: u32, status: u16) {
        self.shared.faults().pages.push(PageFault {
            path_contains: path_contains.to_owned(),
            page,
            status,
        });
    }

    /// Moves the virtual clock forward (throttle windows, run and operation timestamps).
    pub fn advance_clock(&self, d: Duration) {
        let delta = TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        let mut inner = self.shared.lock();
        inner.sys.offset = inner
            .sys
            .offset
            .checked_add(&delta)
            .unwrap_or(TimeDelta::MAX);
    }

    /// How many requests received so far matched.
    pub fn request_count(&self, method: &str, path_contains: &str) -> usize {
        self.shared
            .faults()
            .requests
            .iter()
            .filter(|(m, target)| state::matches(method, path_contains, m, target))
            .count()
    }

    /// The most requests the sandbox was answering at once (control requests excluded), since
    /// it started or since [`Control::reset`]: what a client's concurrency bound is checked by.
    pub fn max_in_flight(&self) -> usize {
        self.shared
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Drops every fault rule, page fault and recorded request, and restores no latency and the
    /// default steps (2). Data and the virtual clock are kept.
    pub fn reset(&self) {
        self.shared
            .max_in_flight
            .store(0, std::sync::atomic::Ordering::SeqCst);
        {
            let mut faults = self.shared.faults();
            faults.rules.clear();
            faults.pages.clear();
            faults.requests.clear();
        }
        let mut inner = self.shared.lock();
        inner.sys.latency = Duration::ZERO;
        inner.sys.steps = state::DEFAULT_STEPS;
    }

    /// Resolves once `n` requests matching `method` and `path_contains` have arrived (counted on
    /// arrival, before they are answered or failed by an injected fault). It never sleeps: it
    /// wakes on each new request. Wrap it in a timeout if the requests may never come.
    pub async fn requests_reached(&self, method: &str, path_contains: &str, n: usize) {
        let mut arrivals = self.shared.arrivals.subscribe();
        loop {
            if self.request_count(method, path_contains) >= n {
                return;
            }
            if arrivals.changed().await.is_err() {
                return;
            }
        }
    }

    /// Adds `n` data flows to the default environment (`Bulk flow 0001`, ...: MySQL to
    /// Snowflake, a few tables, a schedule), for benchmarks of a large environment; returns
    /// their ids.
    pub fn add_data_flows(&self, n: usize) -> Vec<String> {
        crate::seed::add_data_flows(&mut self.shared.lock(), None, n)
    }

    /// Adds `n` connections to the default environment (`Bulk connection 0001`, ...), for tests
    /// of a large environment; returns their ids.
    pub fn add_connections(&self, n: usize) -> Vec<String> {
        crate::seed::add_connections(&mut self.shared.lock(), n)
    }

    /// Gives the log of run `run_id` (in any environment) `lines` more lines of progress, for
    /// tests of a long log; false when no run has that id.
    pub fn lengthen_log(&self, run_id: &str, lines: usize) -> bool {
        let mut inner = self.shared.lock();
        let run = inner
            .envs
            .iter_mut()
            .flat_map(|e| e.runs.iter_mut())
            .find(|r| r.run_id == run_id);
        match run {
            Some(r) => {
                r.extra_log_lines += lines;
                true
            }
            None => false,
        }
    }

    /// The Boomi Flow audit source grows by `n` events after the current last one (each later than
    /// every earlier event, on the same timeline).
    pub fn add_audit_events(&self, n: u64) {
        let mut flow = self.shared.boomi_flow();
        flow.audit_events = flow.audit_events.saturating_add(n);
    }

    /// How many audit events the Boomi Flow source holds now.
    pub fn audit_event_count(&self) -> u64 {
        self.shared.boomi_flow().audit_events
    }

    /// Adds `n` Boomi Flow states, created and modified at the virtual clock's now (each at least one
    /// second after the latest `dateModified`, so an incremental `from` sees them).
    pub fn add_states(&self, n: usize) {
        let now = self.shared.boomi_flow_now();
        self.shared.boomi_flow().add_states(n, now);
    }

    /// Sets a Boomi Flow state's `dateModified` to the virtual clock's now (at least one second after
    /// the latest one); false when no state has that id.
    pub fn touch_state(&self, id: &str) -> bool {
        let now = self.shared.boomi_flow_now();
        self.shared.boomi_flow().touch_state(id, now)
    }

    /// How many GET polls an operation or run created from now on takes to finish (default 2:
    /// W/pending, then R/running on the first poll, then terminal on the second); 0 finishes at once.
    pub fn set_steps(&self, polls: u32) {
        self.shared.lock().sys.steps = polls;
    }
}
