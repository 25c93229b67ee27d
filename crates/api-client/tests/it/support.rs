//! The harness: a fresh sandbox per test and an `HttpBackend` on it with a retry policy whose
//! waits are a few milliseconds, so no test sleeps for real.

use std::time::Duration;

use bdi_api_client::{ClientConfig, HttpBackend, RetryPolicy};
use bdi_domain::models::Timestamp;
use bdi_domain::{AccountId, ConnectionId, DataFlowId, Env, EnvironmentId, OperationId, RunId};
use bdi_sandbox::{Control, Sandbox, SandboxConfig};

/// Retries as in production, but with millisecond waits.
pub(crate) fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(4),
        default_429_wait: Duration::from_millis(1),
        max_429_wait: Duration::from_millis(5),
    }
}

/// A running sandbox and a backend pointed at it.
pub(crate) struct Harness {
    pub(crate) sandbox: Sandbox,
    pub(crate) backend: HttpBackend,
}

impl Harness {
    pub(crate) fn control(&self) -> Control {
        self.sandbox.control()
    }

    /// A client configuration for this sandbox (`base` overrides the base URL).
    pub(crate) fn config(&self, base: Option<&str>) -> ClientConfig {
        let sb = self.sandbox.config();
        let base = base.map_or_else(|| self.sandbox.base_url(), str::to_owned);
        ClientConfig::new(
            &base,
            &sb.token,
            AccountId::parse(&sb.account_id).expect("sandbox account id is valid"),
        )
        .expect("valid configuration")
        .with_default_environment(Some(
            EnvironmentId::parse(&sb.environment_id).expect("sandbox environment id is valid"),
        ))
        .with_retry(fast_policy())
    }

    /// Another backend on the same sandbox.
    pub(crate) fn backend_with(&self, config: ClientConfig) -> HttpBackend {
        HttpBackend::new(config).expect("backend builds")
    }
}

/// Starts a sandbox with the demo data.
pub(crate) async fn start() -> Harness {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let base = sandbox.base_url();
    let sb = sandbox.config();
    let config = ClientConfig::new(
        &base,
        &sb.token,
        AccountId::parse(&sb.account_id).expect("sandbox account id is valid"),
    )
    .expect("valid configuration")
    .with_default_environment(Some(
        EnvironmentId::parse(&sb.environment_id).expect("sandbox environment id is valid"),
    ))
    .with_retry(fast_policy());
    let backend = HttpBackend::new(config).expect("backend builds");
    Harness { sandbox, backend }
}

/// The default environment.
pub(crate) fn env() -> Env {
    Env::Default
}

pub(crate) fn flow(id: &str) -> DataFlowId {
    DataFlowId::parse(id).expect("valid data flow id")
}

pub(crate) fn run(id: &str) -> RunId {
    RunId::parse(id).expect("valid run id")
}

pub(crate) fn connection(id: &str) -> ConnectionId {
    ConnectionId::parse(id).expect("valid connection id")
}

pub(crate) fn operation(id: &str) -> OperationId {
    OperationId::parse(id).expect("valid operation id")
}

/// A window covering the last `days` days up to one hour from now.
pub(crate) fn last_days(days: i64) -> (Timestamp, Timestamp) {
    let now = chrono::Utc::now();
    (
        Timestamp(now - chrono::TimeDelta::days(days)),
        Timestamp(now + chrono::TimeDelta::hours(1)),
    )
}

/// A window covering the last `minutes` minutes up to one hour from now (it excludes the demo
/// runs, the latest of which is two hours old).
pub(crate) fn last_minutes(minutes: i64) -> (Timestamp, Timestamp) {
    let now = chrono::Utc::now();
    (
        Timestamp(now - chrono::TimeDelta::minutes(minutes)),
        Timestamp(now + chrono::TimeDelta::hours(1)),
    )
}
