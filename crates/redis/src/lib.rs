//! Run limits and resource locks shared by the replicas of bdi's servers (`bdi-gateway`,
//! `bdi-mcp --http`), in Redis: with three replicas behind a load balancer, the platform's limits
//! (2 runs a minute per data flow, 15 per user) still hold for all of them together, and two
//! read-modify-writes of one data flow arriving at two replicas still take turns.
//!
//! - [`RedisLimiter`] is a [`RunLimiter`]: each decision is one Lua script (check and record in
//!   one step, on the server's clock), so replicas never decide on stale counts and their clocks
//!   do not matter.
//! - [`RedisLocks`] is a [`Locks`]: a lease (`SET NX PX`) with a fencing token from a counter,
//!   renewed while held, released by its holder only; a replica that dies holding it blocks the
//!   others for one lease at most, and [`Held::check`] refuses a write under a lease that has
//!   expired (a stalled holder cannot overwrite the work of the next one).
//!
//! Redis unreachable is never papered over: a decision or a lock fails with
//! [`Error::Unavailable`] (nothing is sent upstream) and the connection manager reconnects by
//! itself, so the servers recover without a restart when Redis is back.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bdi_domain::{
    DataFlowId, Denied, Error, Held, Locks, Refusal, Reservation, RunLimiter, ThrottleLimits,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

/// How long a request to Redis may take before it counts as unreachable.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A connection to the Redis that replicas share, opened lazily and re-opened after failures.
#[derive(Clone)]
pub struct Store {
    manager: ConnectionManager,
    /// `host:port` for messages (never the URL: it may hold a password).
    server: Arc<str>,
    prefix: Arc<str>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A Redis URL that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

impl Store {
    /// A store at `url` (`redis://[:password@]host:port[/db]`), its keys under `prefix`
    /// (`bdi:`). Nothing is sent yet: an unreachable server shows at the first decision, and
    /// the connection is re-established whenever it is needed again.
    pub fn new(url: &str, prefix: &str) -> Result<Self, UrlError> {
        let parsed = url::Url::parse(url).map_err(|e| {
            UrlError(format!(
                "not a Redis URL ({e}): write redis://host:6379 (or rediss:// for TLS)"
            ))
        })?;
        let server = format!(
            "{}:{}",
            parsed.host_str().unwrap_or("?"),
            parsed.port().unwrap_or(6379)
        );
        let client = Client::open(url).map_err(|e| {
            UrlError(format!(
                "the Redis URL for {server} cannot be used: {}",
                e.to_string().replace(url, "<url>")
            ))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| UrlError(format!("the Redis client for {server} cannot start: {e}")))?;
        Ok(Self {
            manager,
            server: server.into(),
            prefix: prefix.into(),
        })
    }

    /// `host:port`, for messages and health checks.
    pub fn server(&self) -> &str {
        &self.server
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut k = self.prefix.to_string();
        k.push_str(&parts.join(":"));
        k
    }

    fn unavailable(&self, e: &redis::RedisError) -> Error {
        Error::Unavailable(format!(
            "Redis at {} cannot be reached ({})",
            self.server,
            e.kind_name()
        ))
    }

    /// `PING`: whether the store answers now (for readiness checks).
    pub async fn ping(&self) -> Result<(), Error> {
        let mut c = self.manager.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map(drop)
            .map_err(|e| self.unavailable(&e))
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[u64],
    ) -> Result<T, Error> {
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(*k);
        }
        for a in args {
            inv.arg(*a);
        }
        let mut c = self.manager.clone();
        inv.invoke_async(&mut c)
            .await
            .map_err(|e| self.unavailable(&e))
    }
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for redis::RedisError {
    /// The error's kind and message, never the URL.
    fn kind_name(&self) -> String {
        match self.detail() {
            Some(d) => format!("{:?}: {d}", self.kind()),
            None => format!("{:?}", self.kind()),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Check and record a run in one step. KEYS: the flow's slots, the user's slots, the flow's
/// penalty, the id counter. ARGV: window, per-flow limit, per-user limit (milliseconds, counts).
/// Returns `{1, id}` or `{0, kind, wait_ms, count}` (kind 1 flow, 2 user, 3 penalty).
const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local best_wait, best_kind, best_count = -1, 0, 0
local penalty = tonumber(redis.call('GET', KEYS[3]) or '0')
if penalty > now then
  best_wait, best_kind = penalty - now, 3
end
local function full(key, limit, kind)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local slot = redis.call('ZREVRANGE', key, limit - 1, limit - 1, 'WITHSCORES')
    local wait = tonumber(slot[2]) + window - now
    if wait < 1 then wait = 1 end
    if wait > best_wait then
      best_wait, best_kind, best_count = wait, kind, n
    end
  end
end
full(KEYS[1], tonumber(ARGV[2]), 1)
full(KEYS[2], tonumber(ARGV[3]), 2)
if best_kind ~= 0 then
  return {0, best_kind, best_wait, best_count}
end
local id = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[1], now, id)
redis.call('ZADD', KEYS[2], now, id)
redis.call('PEXPIRE', KEYS[1], window)
redis.call('PEXPIRE', KEYS[2], window)
return {1, id}
";

/// Gives a slot back. KEYS: the flow's and the user's slots. ARGV: the id.
const RELEASE: &str = r"
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
";

/// Holds a flow back, never shortening a penalty. KEYS: the penalty. ARGV: the wait (ms).
const PENALIZE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > current then
  redis.call('SET', KEYS[1], untl, 'PX', tonumber(ARGV[1]))
end
return 1
";

/// The platform's run limits, decided in Redis for every replica at once.
#[derive(Debug)]
pub struct RedisLimiter {
    store: Store,
    limits: ThrottleLimits,
    acquire: Script,
    release: Script,
    penalize: Script,
}

impl RedisLimiter {
    /// A limiter with these limits in `store`.
    pub fn new(store: Store, limits: ThrottleLimits) -> Self {
        Self {
            store,
            limits,
            acquire: Script::new(ACQUIRE),
            release: Script::new(RELEASE),
            penalize: Script::new(PENALIZE),
        }
    }

    fn keys(&self, flow: &DataFlowId, user: &str) -> [String; 2] {
        [
            self.store.key(&["runs", "flow", flow.as_str()]),
            self.store.key(&["runs", "user", user]),
        ]
    }
}

#[async_trait]
impl RunLimiter for RedisLimiter {
    async fn acquire(&self, flow: &DataFlowId, user: &str) -> Result<Reservation, Denied> {
        let [flow_key, user_key] = self.keys(flow, user);
        let penalty = self.store.key(&["runs", "penalty", flow.as_str()]);
        let counter = self.store.key(&["runs", "seq"]);
        let answer: Vec<u64> = self
            .store
            .run(
                &self.acquire,
                &[&flow_key, &user_key, &penalty, &counter],
                &[
                    millis(self.limits.window),
                    u64::from(self.limits.per_flow),
                    u64::from(self.limits.per_user),
                ],
            )
            .await
            .map_err(|e| Denied::Unavailable(e.to_string()))?;
        match answer.as_slice() {
            [1, id, ..] => Ok(Reservation {
                flow: flow.clone(),
                user: user.to_owned(),
                id: *id,
            }),
            [0, kind, wait, count, ..] => {
                let wait = Duration::from_millis(*wait);
                let count = usize::try_from(*count).unwrap_or(usize::MAX);
                Err(Denied::Refused(match kind {
                    1 => Refusal::flow(flow, count, &self.limits, wait),
                    2 => Refusal::user(user, count, &self.limits, wait),
                    _ => Refusal::upstream(flow, wait),
                }))
            }
            other => Err(Denied::Unavailable(format!(
                "Redis at {} answered the run limiter with {other:?}",
                self.store.server()
            ))),
        }
    }

    async fn release(&self, reservation: &Reservation) {
        let [flow_key, user_key] = self.keys(&reservation.flow, &reservation.user);
        if let Err(e) = self
            .store
            .run::<i64>(&self.release, &[&flow_key, &user_key], &[reservation.id])
            .await
        {
            // The slot stays counted until the window passes: the safe side.
            tracing::warn!(error = %e, "a run slot could not be given back");
        }
    }

    async fn penalize(&self, flow: &DataFlowId, _user: &str, wait: Duration) {
        let key = self.store.key(&["runs", "penalty", flow.as_str()]);
        if let Err(e) = self
            .store
            .run::<i64>(&self.penalize, &[&key], &[millis(wait).max(1)])
            .await
        {
            // The platform's own 429 still stops the next run.
            tracing::warn!(error = %e, "a 429 penalty could not be recorded");
        }
    }
}

/// Takes a lease when free. KEYS: the lock, the fencing counter. ARGV: the lease (ms).
/// Returns the fencing token, or 0 when the lock is held.
const LOCK: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', tonumber(ARGV[1]))
return token
";

/// The lease's time left if `token` still holds it, else -2. KEYS: the lock. ARGV: the token.
const CHECK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PTTL', KEYS[1])
end
return -2
";

/// Extends the lease if `token` still holds it. KEYS: the lock. ARGV: the token, the lease (ms).
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
";

/// Releases the lease if `token` still holds it. KEYS: the lock. ARGV: the token.
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// How long a lock may go unrenewed before others may take it, and how it is waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeasePolicy {
    /// The lease: a holder that stops renewing (a dead replica) blocks others this long at most.
    pub lease: Duration,
    /// A write needs at least this much of the lease left ([`Held::check`]).
    pub margin: Duration,
    /// Time between two attempts of a waiter.
    pub poll: Duration,
    /// A waiter gives up after this long (the holder's work may be long, a discovery say).
    pub wait: Duration,
}

impl Default for LeasePolicy {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(15),
            margin: Duration::from_millis(500),
            poll: Duration::from_millis(25),
            wait: Duration::from_secs(300),
        }
    }
}

/// Locks of read-modify-write, shared by every replica through leases in Redis.
#[derive(Clone, Debug)]
pub struct RedisLocks {
    store: Store,
    policy: LeasePolicy,
    scripts: Arc<LockScripts>,
}

#[derive(Debug)]
struct LockScripts {
    lock: Script,
    check: Script,
    renew: Script,
    unlock: Script,
}

impl RedisLocks {
    /// Locks in `store` with this lease policy.
    pub fn new(store: Store, policy: LeasePolicy) -> Self {
        Self {
            store,
            policy,
            scripts: Arc::new(LockScripts {
                lock: Script::new(LOCK),
                check: Script::new(CHECK),
                renew: Script::new(RENEW),
                unlock: Script::new(UNLOCK),
            }),
        }
    }
}

/// A lease held in Redis: renewed in the background while it lives, released when dropped.
pub struct Lease {
    key: String,
    token: u64,
    locks: RedisLocks,
    renewal: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("key", &self.key)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// The fencing token: larger for every later holder of any lock of the store.
    pub fn token(&self) -> u64 {
        self.token
    }
}

impl RedisLocks {
    /// Waits for the lease of `key` (at most [`LeasePolicy::wait`]) and holds it, renewed, until
    /// the [`Lease`] is dropped.
    pub async fn lease(&self, key: &str) -> Result<Lease, Error> {
        let lock_key = self.store.key(&["lock", key]);
        // One counter for every lock of the store: tokens only grow, and no key is left behind
        // per resource.
        let fence = self.store.key(&["lock-fence"]);
        let lease = millis(self.policy.lease);
        let deadline = tokio::time::Instant::now() + self.policy.wait;
        loop {
            let token: u64 = self
                .store
                .run(&self.scripts.lock, &[&lock_key, &fence], &[lease])
                .await?;
            if token > 0 {
                let locks = self.clone();
                let (renew_key, every) = (lock_key.clone(), self.policy.lease / 3);
                let renewal = tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        let renewed: Result<i64, Error> = locks
                            .store
                            .run(&locks.scripts.renew, &[&renew_key], &[token, lease])
                            .await;
                        match renewed {
                            Ok(1) => {}
                            Ok(_) => return,
                            Err(e) => {
                                tracing::warn!(error = %e, key = %renew_key, "a lease could not be renewed");
                            }
                        }
                    }
                });
                return Ok(Lease {
                    key: lock_key,
                    token,
                    locks: self.clone(),
                    renewal,
                });
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Unavailable(format!(
                    "{key} stayed locked by another caller for {} s; nothing was changed: try again",
                    self.policy.wait.as_secs()
                )));
            }
            tokio::time::sleep(self.policy.poll).await;
        }
    }
}

#[async_trait]
impl Locks for RedisLocks {
    async fn lock(&self, key: &str) -> Result<Box<dyn Held>, Error> {
        Ok(Box::new(self.lease(key).await?))
    }
}

#[async_trait]
impl Held for Lease {
    async fn check(&self) -> Result<(), Error> {
        let left: i64 = self
            .locks
            .store
            .run(&self.locks.scripts.check, &[&self.key], &[self.token])
            .await?;
        let margin = i64::try_from(millis(self.locks.policy.margin)).unwrap_or(i64::MAX);
        if left >= margin {
            Ok(())
        } else {
            Err(Error::Unavailable(format!(
                "the lock on {} expired before the write (its holder stalled past the lease); nothing was written: try again",
                self.key
            )))
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewal.abort();
        let (locks, key, token) = (self.locks.clone(), self.key.clone(), self.token);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let released: Result<i64, Error> = locks
                    .store
                    .run(&locks.scripts.unlock, &[&key], &[token])
                    .await;
                if let Err(e) = released {
                    // The lease expires by itself.
                    tracing::warn!(error = %e, key = %key, "a lease could not be released");
                }
            });
        }
    }
}

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
