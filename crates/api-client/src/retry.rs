//! Retry policy: bounded exponential backoff with jitter for idempotent requests, `Retry-After`
//! honoured on their 429s, and a POST never sent twice: a POST that may have run (5xx, transport
//! error) or that was refused (429) comes back to the caller at once, because a trigger repeated
//! later, behind the caller's back, is exactly what the platform's limits are there to stop.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};

/// How failed requests are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// The first backoff delay; it doubles on every retry.
    pub base: Duration,
    /// The longest backoff delay.
    pub cap: Duration,
    /// The wait after a 429 without a usable `Retry-After`.
    pub default_429_wait: Duration,
    /// The longest wait after a 429, whatever `Retry-After` says.
    pub max_429_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            default_429_wait: Duration::from_secs(10),
            max_429_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The upper bound of the backoff before retry number `attempt` (0-based): `base * 2^attempt`,
    /// capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The backoff before retry number `attempt` (0-based): "equal jitter", a uniform draw in
    /// `[ceiling/2, ceiling]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let spread = u64::try_from(ceiling.saturating_sub(half).as_micros()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            rand::rngs::StdRng::from_os_rng().random_range(0..=spread)
        };
        half + Duration::from_micros(jitter)
    }

    /// The wait after a 429: the server's `Retry-After` when given, else the default, never more
    /// than `max_429_wait`.
    pub fn rate_limit_wait(&self, retry_after: Option<Duration>) -> Duration {
        retry_after
            .unwrap_or(self.default_429_wait)
            .min(self.max_429_wait)
    }
}

/// Parses a `Retry-After` value: delay seconds (`"120"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, measured from `now`; a past date means no wait).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// An error the retry loop may try again: a transport failure that is not final.
pub(crate) trait Transient: std::fmt::Display {
    /// True when trying again later may succeed.
    fn is_transient(&self) -> bool;
}

impl Transient for bdi_domain::Error {
    fn is_transient(&self) -> bool {
        bdi_domain::Error::is_transient(self)
    }
}

/// What one attempt produced, as the retry loop sees it; `E` is the client's error type.
#[derive(Debug)]
pub(crate) enum Attempt<R, E = bdi_domain::Error> {
    /// A response arrived with this status; `retry_after` is its parsed `Retry-After`.
    Response {
        /// HTTP status.
        status: u16,
        /// Parsed `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// The response itself.
        response: R,
    },
    /// No response: connection failure, reset or timeout.
    Transport(E),
}

/// Runs `send` until it yields a response that is not worth retrying, or the retries run out, and
/// returns the last response (the caller classifies non-2xx statuses) or the last transport error.
///
/// Only `idempotent` requests (GET, PUT, DELETE) are ever retried:
/// - 429: after `Retry-After` (or the default wait);
/// - 5xx and transport errors: with jittered backoff.
///
/// A POST is sent once: after a 5xx or a transport error it may have taken effect, and after a
/// 429 the caller decides (the domain's run limiter holds the flow back for the `Retry-After`).
pub(crate) async fn run<R, E, F, Fut>(
    policy: &RetryPolicy,
    idempotent: bool,
    send: F,
) -> Result<R, E>
where
    E: Transient,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<R, E>>,
{
    run_with(policy, idempotent, false, send).await
}

/// Like [`run`]; with `honour_503`, a 503 that carries a `Retry-After` is waited out like a 429
/// (capped by `max_429_wait`) instead of backing off (the Boomi Flow API's "slow down" rule); a
/// 503 without one backs off like any 5xx.
pub(crate) async fn run_with<R, E, F, Fut>(
    policy: &RetryPolicy,
    idempotent: bool,
    honour_503: bool,
    mut send: F,
) -> Result<R, E>
where
    E: Transient,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<R, E>>,
{
    let mut attempt = 0u32;
    loop {
        let outcome = send(attempt).await;
        let can_retry = attempt < policy.max_retries;
        let wait = match outcome {
            Attempt::Response {
                status: 429,
                retry_after,
                response,
            } => {
                if !(can_retry && idempotent) {
                    return Ok(response);
                }
                let wait = policy.rate_limit_wait(retry_after);
                tracing::debug!(
                    attempt,
                    wait_ms = wait.as_millis(),
                    "rate limited (429), retrying"
                );
                wait
            }
            Attempt::Response {
                status,
                retry_after,
                response,
            } if status >= 500 => {
                if !(can_retry && idempotent) {
                    return Ok(response);
                }
                let wait = match retry_after {
                    Some(after) if honour_503 && status == 503 => {
                        policy.rate_limit_wait(Some(after))
                    }
                    _ => policy.backoff(attempt),
                };
                tracing::debug!(
                    attempt,
                    status,
                    wait_ms = wait.as_millis(),
                    "server error, retrying"
                );
                wait
            }
            Attempt::Response { response, .. } => return Ok(response),
            Attempt::Transport(e) => {
                // A failure that is not transient (a redirect elsewhere, refused) is final.
                if !(can_retry && idempotent && e.is_transient()) {
                    return Err(e);
                }
                let wait = policy.backoff(attempt);
                tracing::debug!(attempt, error = %e, wait_ms = wait.as_millis(), "transport error, retrying");
                wait
            }
        };
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests;
