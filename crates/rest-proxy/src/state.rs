//! The gateway's shared state: the upstream backend (metered), the run limiter shared by every
//! key, the keys, the account it fronts, metrics, the audit log and its limits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bdi_domain::{
    AccountId, Backend, InMemoryLimiter, Locks, PollPolicy, ResourceLocks, RunLimiter, Service,
    ThrottleLimits,
};
use tokio_util::sync::CancellationToken;

use crate::audit::Audit;
use crate::error::{ApiError, ApiResult};
use crate::keys::KeyStore;
use crate::metered::MeteredBackend;
use crate::metrics::Metrics;
use crate::readiness::Readiness;

/// Tunables of the HTTP layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// The deadline of an ordinary request (pass-through calls, with the client's retries).
    pub request_timeout: Duration,
    /// The largest `timeout_seconds` a waiting route accepts.
    pub max_wait: Duration,
    /// The `timeout_seconds` of a waiting route that names none.
    pub default_wait: Duration,
    /// The largest request body, in bytes.
    pub body_limit: usize,
    /// The polling of waits (its deadline is replaced by each request's `timeout_seconds`).
    pub poll: PollPolicy,
    /// How long a `/readyz` answer is reused before the upstream is asked again.
    pub readiness_ttl: Duration,
    /// How long `/readyz` waits for the upstream before answering 503.
    pub readiness_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(120),
            max_wait: Duration::from_secs(600),
            default_wait: Duration::from_secs(60),
            body_limit: 2 * 1024 * 1024,
            poll: PollPolicy::default(),
            readiness_ttl: Duration::from_secs(5),
            readiness_timeout: Duration::from_secs(2),
        }
    }
}

/// What the gateway is built from.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// The upstream (an `HttpBackend`, the sandbox's, or a mock).
    pub backend: Arc<dyn Backend>,
    /// The account the upstream credentials hold; `{account}` in v1 paths must be this one.
    pub account: AccountId,
    /// The gateway keys.
    pub keys: KeyStore,
    /// The run limiter; `None` builds an in-memory one with the platform's limits.
    pub limiter: Option<Arc<dyn RunLimiter>>,
    /// The locks of read-modify-write; `None` keeps them in this process.
    pub locks: Option<Arc<dyn Locks>>,
    /// The Redis that replicas share (their limiter and locks), checked by `/readyz`.
    pub redis: Option<bdi_redis::Store>,
    /// The audit sink.
    pub audit: Audit,
    /// HTTP tunables.
    pub limits: Limits,
    /// The gateway's public base URL (`--public-url`): page links are built under it; without
    /// one they are paths relative to the gateway's root. Never taken from a request.
    pub public_url: Option<url::Url>,
}

impl GatewayConfig {
    /// A configuration with default limits, an in-memory limiter and the tracing audit log.
    pub fn new(backend: Arc<dyn Backend>, account: AccountId, keys: KeyStore) -> Self {
        Self {
            backend,
            account,
            keys,
            limiter: None,
            locks: None,
            redis: None,
            audit: Audit::default(),
            limits: Limits::default(),
            public_url: None,
        }
    }
}

#[derive(Debug)]
struct Inner {
    backend: Arc<dyn Backend>,
    limiter: Arc<dyn RunLimiter>,
    account: AccountId,
    keys: KeyStore,
    metrics: Arc<Metrics>,
    audit: Audit,
    limits: Limits,
    public_url: Option<url::Url>,
    readiness: Readiness,
    redis: Option<bdi_redis::Store>,
    service: Service,
    runners: Mutex<HashMap<String, Service>>,
    waits: CancellationToken,
}

/// The state every handler receives; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Builds the state; the backend is wrapped so that every upstream call is metered.
    pub fn new(config: GatewayConfig) -> Self {
        let metrics = Arc::new(Metrics::default());
        let backend: Arc<dyn Backend> =
            Arc::new(MeteredBackend::new(config.backend, Arc::clone(&metrics)));
        let limiter = config
            .limiter
            .unwrap_or_else(|| Arc::new(InMemoryLimiter::new(ThrottleLimits::default())));
        let locks = config
            .locks
            .unwrap_or_else(|| Arc::new(ResourceLocks::new()));
        Self(Arc::new(Inner {
            backend: Arc::clone(&backend),
            limiter: Arc::clone(&limiter),
            account: config.account,
            keys: config.keys,
            metrics,
            audit: config.audit,
            limits: config.limits,
            public_url: config.public_url,
            readiness: Readiness::default(),
            redis: config.redis,
            service: Service::new(Arc::clone(&backend))
                .with_limiter(Arc::clone(&limiter))
                .with_locks(locks),
            runners: Mutex::new(HashMap::new()),
            waits: CancellationToken::new(),
        }))
    }

    /// The Redis that replicas share, if any.
    pub fn redis(&self) -> Option<&bdi_redis::Store> {
        self.0.redis.as_ref()
    }

    /// The metered backend.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.0.backend
    }

    /// The run limiter shared by every key.
    pub fn limiter(&self) -> &Arc<dyn RunLimiter> {
        &self.0.limiter
    }

    /// A token for one wait: cancelled when the gateway shuts down.
    pub fn wait_token(&self) -> CancellationToken {
        self.0.waits.child_token()
    }

    /// Cancels every wait in progress (shutdown); they answer with where the work stood.
    pub fn cancel_waits(&self) {
        self.0.waits.cancel();
    }

    /// The keys.
    pub fn keys(&self) -> &KeyStore {
        &self.0.keys
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.0.metrics
    }

    /// The audit log.
    pub fn audit(&self) -> &Audit {
        &self.0.audit
    }

    /// The HTTP tunables.
    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    /// The cached readiness check.
    pub fn readiness(&self) -> &Readiness {
        &self.0.readiness
    }

    /// The public base URL of page links, if configured.
    pub fn public_url(&self) -> Option<&url::Url> {
        self.0.public_url.as_ref()
    }

    /// The account the gateway fronts.
    pub fn account(&self) -> &AccountId {
        &self.0.account
    }

    /// 404, like the upstream, unless `raw` is the configured account.
    pub fn check_account(&self, raw: &str) -> ApiResult<()> {
        if raw.trim().eq_ignore_ascii_case(self.0.account.as_str()) {
            Ok(())
        } else {
            Err(ApiError::not_found(format!(
                "account {raw} not found: this gateway serves one account"
            )))
        }
    }

    /// The domain service shared by every key: one set of read-modify-write locks and one
    /// catalog cache for all.
    pub fn service(&self) -> &Service {
        &self.0.service
    }

    /// The domain service that runs data flows for the key `name`: its runs count against that
    /// key's limit (the service's user key is the key's name), and every key's runner shares the
    /// one limiter, so the per-flow limit spans all keys.
    pub fn runner(&self, name: &str) -> Service {
        let mut runners = self
            .0
            .runners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        runners
            .entry(name.to_owned())
            .or_insert_with(|| {
                // The same limiter and waiting queues for every key.
                self.0.service.for_user(name)
            })
            .clone()
    }
}
