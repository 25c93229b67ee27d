//! The readiness check behind `GET /readyz`: the upstream answers a cheap list call with the
//! account's token. It needs no key, so it must not let anyone drive upstream calls or hold a
//! connection for the upstream's latency: its result is cached for [`Limits::readiness_ttl`],
//! concurrent callers share the one check in flight, and a check that takes longer than
//! [`Limits::readiness_timeout`] counts as not ready.
//!
//! [`Limits::readiness_ttl`]: crate::state::Limits::readiness_ttl
//! [`Limits::readiness_timeout`]: crate::state::Limits::readiness_timeout

use std::time::Duration;

use axum::http::StatusCode;
use bdi_domain::Backend;
use bdi_domain::models::PageQuery;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::ApiError;

/// The last readiness result and when it was known.
#[derive(Debug, Default)]
pub struct Readiness {
    last: Mutex<Option<(Instant, Result<(), ApiError>)>>,
}

impl Readiness {
    /// Whether the upstream is reachable: the cached answer when it is younger than `ttl`, else
    /// one `GET /v1/accounts/{account}/environments?items_per_page=1` bounded by `timeout` (the
    /// callers that arrive meanwhile wait for it and share its answer).
    pub async fn check(
        &self,
        backend: &dyn Backend,
        ttl: Duration,
        timeout: Duration,
    ) -> Result<(), ApiError> {
        let mut last = self.last.lock().await;
        if let Some((at, result)) = last.as_ref()
            && at.elapsed() < ttl
        {
            return result.clone();
        }
        let call = backend.list_environments(PageQuery::new(1, 1), false);
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                let mut err = ApiError::from(e);
                err.status = StatusCode::SERVICE_UNAVAILABLE;
                err.body.error.message =
                    format!("the platform is not reachable: {}", err.body.error.message);
                Err(err)
            }
            Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!("the platform did not answer within {}", shown(timeout)),
            )
            .with_hint("check the platform's status and the gateway's network path to it")),
        };
        *last = Some((Instant::now(), result.clone()));
        result
    }
}

fn shown(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
