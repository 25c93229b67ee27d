//! The test-facing control handle: fault injection, latency, the virtual clock, the poll count an
//! operation or run takes, and request counting. All methods are synchronous. The control API
//! (`/_sandbox/...`, `routes/control.rs`) offers the same over HTTP.
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

    /// Drops every fault rule, page fault and recorded request, and restores no latency and the
    /// default steps (2). Data and the virtual clock are kept.
    pub fn reset(&self) {
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

    /// How many GET polls an operation or run created from now on takes to finish (default 2:
    /// W/pending, then R/running on the first poll, then terminal on the second); 0 finishes at once.
    pub fn set_steps(&self, polls: u32) {
        self.shared.lock().sys.steps = polls;
    }
}
