//! The emulated account: environments with their data, the virtual clock, id generation, the
//! run throttle window and the fault-injection rules.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use tokio::sync::watch;

use crate::SandboxConfig;
use crate::boomi_flow::{BoomiFlowData, BoomiFlowState};
use crate::error::ApiError;
use crate::model::Env;

/// How many polls an operation or run takes to finish unless set otherwise.
pub(crate) const DEFAULT_STEPS: u32 = 2;

/// Everything behind one router.
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    inner: Mutex<Inner>,
    faults: Mutex<Faults>,
    boomi_flow: Mutex<BoomiFlowState>,
    /// How many requests have arrived, for `Control::requests_reached` to wait on.
    pub(crate) arrivals: watch::Sender<u64>,
    /// Requests being answered now, and the most seen at once (`Control::max_in_flight`).
    pub(crate) in_flight: std::sync::atomic::AtomicUsize,
    pub(crate) max_in_flight: std::sync::atomic::AtomicUsize,
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let sys = Sys {
            offset: TimeDelta::zero(),
            steps: DEFAULT_STEPS,
            latency: Duration::ZERO,
            token_runs: VecDeque::new(),
            rng: StdRng::from_os_rng(),
            counter: 0,
        };
        let mut inner = Inner {
            sys,
            envs: Vec::new(),
        };
        crate::seed::seed(&mut inner, &config);
        let flow = BoomiFlowState::new(&config.boomi_flow);
        Shared {
            config,
            inner: Mutex::new(inner),
            faults: Mutex::new(Faults::default()),
            boomi_flow: Mutex::new(flow),
            arrivals: watch::Sender::new(0),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            max_in_flight: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The Boomi Flow API's mutable state (states, the audit event count).
    pub(crate) fn boomi_flow(&self) -> MutexGuard<'_, BoomiFlowState> {
        self.boomi_flow
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The Boomi Flow data's virtual now: its fixed epoch plus the clock's offset (`advance_clock`).
    pub(crate) fn boomi_flow_now(&self) -> DateTime<Utc> {
        crate::boomi_flow::flow_epoch() + self.lock().sys.offset
    }

    /// The Boomi Flow API's immutable generated data.
    pub(crate) fn boomi_flow_data(&self) -> Arc<BoomiFlowData> {
        Arc::clone(&self.boomi_flow().data)
    }
}

/// The mutable state.
pub(crate) struct Inner {
    pub(crate) sys: Sys,
    pub(crate) envs: Vec<Env>,
}

impl Inner {
    /// Resolves `{account_id}/{environment_id}` for the token: 403 outside its scope.
    pub(crate) fn scope(
        &mut self,
        config: &SandboxConfig,
        account_id: &str,
        environment_id: &str,
    ) -> Result<(&mut Sys, &mut Env), ApiError> {
        if account_id != config.account_id {
            return Err(ApiError::forbidden(
                "the token is not authorized to access this account",
            ));
        }
        let env = self
            .envs
            .iter_mut()
            .find(|e| e.id == environment_id)
            .ok_or_else(|| {
                ApiError::forbidden("the token is not authorized to access this environment")
            })?;
        Ok((&mut self.sys, env))
    }
}

/// Clock, ids and global counters.
pub(crate) struct Sys {
    pub(crate) offset: TimeDelta,
    /// Polls an operation or run takes to finish (captured when it is created).
    pub(crate) steps: u32,
    pub(crate) latency: Duration,
    /// Run starts in the last 60 s, for the per-token throttle.
    pub(crate) token_runs: VecDeque<DateTime<Utc>>,
    rng: StdRng,
    counter: u32,
}

impl Sys {
    /// The virtual clock: real now plus the offset set by `advance_clock`.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// A new ObjectId-like 24-hex id: seconds, random, counter.
    pub(crate) fn object_id(&mut self) -> String {
        self.counter = self.counter.wrapping_add(1);
        let secs = u32::try_from(self.now().timestamp()).unwrap_or(u32::MAX);
        let random = self.rng.next_u64() & 0xff_ffff_ffff;
        format!("{secs:08x}{random:010x}{:06x}", self.counter & 0xff_ffff)
    }

    /// A new 32-hex UUID4-like id (run ids, run group ids).
    pub(crate) fn uuid_hex(&mut self) -> String {
        let a = self.rng.next_u64();
        let b = self.rng.next_u64();
        // Version 4 and RFC 4122 variant bits, as `uuid.uuid4().hex` would have.
        let a = (a & !0xf000) | 0x4000;
        let b = (b & !(0xc000_0000_0000_0000)) | 0x8000_0000_0000_0000;
        format!("{a:016x}{b:016x}")
    }
}

/// One fault-injection rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) method: String,
    pub(crate) path_contains: String,
    pub(crate) kind: RuleKind,
    pub(crate) remaining: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum RuleKind {
    Fail(u16),
    RateLimit(Option<u64>),
    Drop,
}

/// A page that keeps failing.
#[derive(Debug, Clone)]
pub(crate) struct PageFault {
    pub(crate) path_contains: String,
    pub(crate) page: u32,
    pub(crate) status: u16,
}

/// Fault rules and the request log.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) rules: Vec<Rule>,
    pub(crate) pages: Vec<PageFault>,
    /// `(METHOD, path?query)` of every request received.
    pub(crate) requests: Vec<(String, String)>,
}

/// Whether a rule's method and path pattern match a request.
pub(crate) fn matches(rule_method: &str, pattern: &str, method: &str, target: &str) -> bool {
    (rule_method.is_empty() || rule_method == "*" || rule_method.eq_ignore_ascii_case(method))
        && target.contains(pattern)
}
