//! Against a real Redis (`BDI_TEST_REDIS_URL`, set by `cargo xtask with-redis`,
//! `with-services` and `ci`), with several stores standing for several replicas: the limits hold
//! for all of them together, read-modify-writes take turns, a dead holder blocks others for one
//! lease at most, a stalled holder cannot write, and an unreachable Redis refuses rather than
//! decides alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bdi_domain::{DataFlowId, Denied, Held, Limit, Locks, RunLimiter, ThrottleLimits};

use super::*;
use crate::testing::Cable;

/// The test server's URL; its absence fails the test (a skipped test would pass unseen).
fn url() -> String {
    std::env::var("BDI_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_REDIS_URL is not set: these tests need a Redis server; run them with \
             `cargo xtask with-redis -- cargo nextest run --workspace -E 'package(bdi-redis)'` \
             (cargo xtask ci starts one too)"
        )
    })
}

/// A prefix of its own for each test: tests share the server.
fn prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bdi-test:{test}:{nanos}:")
}

/// `n` stores on one prefix: `n` replicas, each with its own connection.
fn replicas(n: usize, prefix: &str) -> Vec<Store> {
    (0..n)
        .map(|_| Store::new(&url(), prefix).expect("a valid URL"))
        .collect()
}

fn flow(s: &str) -> DataFlowId {
    DataFlowId::parse(s).expect("a valid id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_runs_over_three_replicas_get_exactly_two_slots() {
    let p = prefix("limits");
    let limiters: Vec<Arc<RedisLimiter>> = replicas(3, &p)
        .into_iter()
        .map(|s| Arc::new(RedisLimiter::new(s, ThrottleLimits::default())))
        .collect();
    let f = flow("65c1d2e3f4a5b6c7d8e9f001");
    let calls = (0..20).map(|i| {
        let (l, f) = (Arc::clone(&limiters[i % 3]), f.clone());
        tokio::spawn(async move { l.acquire(&f, "acct").await })
    });
    let results: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("the task ran"))
        .collect();
    let granted: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(granted.len(), 2, "{results:?}");
    for denied in results.iter().filter_map(|r| r.as_ref().err()) {
        let refusal = denied
            .refusal()
            .expect("refused by the limits, not unreachable");
        assert_eq!(refusal.limit, Limit::Flow);
        assert!(refusal.wait > Duration::from_secs(55), "{refusal:?}");
        assert!(refusal.reason.contains("(the limit is 2)"), "{refusal:?}");
    }

    // A slot given back by one replica is free for another.
    limiters[0].release(granted[0]).await;
    limiters[2]
        .acquire(&f, "acct")
        .await
        .expect("the released slot");
    limiters[1]
        .acquire(&f, "acct")
        .await
        .expect_err("full again");

    // A 429 recorded by one replica holds the flow back on every replica.
    let other = flow("65c1d2e3f4a5b6c7d8e9f002");
    limiters[0]
        .penalize(&other, "acct", Duration::from_secs(30))
        .await;
    let denied = limiters[2]
        .acquire(&other, "acct")
        .await
        .expect_err("held back");
    let refusal = denied.refusal().expect("refused");
    assert_eq!(refusal.limit, Limit::Upstream);
    assert!(refusal.reason.contains("(429)"), "{refusal:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_user_limit_holds_across_flows_and_replicas() {
    let p = prefix("user");
    let limits = ThrottleLimits {
        per_user: 3,
        ..ThrottleLimits::default()
    };
    let limiters: Vec<RedisLimiter> = replicas(2, &p)
        .into_iter()
        .map(|s| RedisLimiter::new(s, limits.clone()))
        .collect();
    let flows = [
        "65c1d2e3f4a5b6c7d8e9f001",
        "65c1d2e3f4a5b6c7d8e9f002",
        "65c1d2e3f4a5b6c7d8e9f003",
        "65c1d2e3f4a5b6c7d8e9f004",
    ];
    for (i, f) in flows.iter().take(3).enumerate() {
        limiters[i % 2]
            .acquire(&flow(f), "alice")
            .await
            .expect("under the user limit");
    }
    let denied = limiters[1]
        .acquire(&flow(flows[3]), "alice")
        .await
        .expect_err("the user's fourth run");
    assert_eq!(denied.refusal().expect("refused").limit, Limit::User);
    limiters[0]
        .acquire(&flow(flows[3]), "bob")
        .await
        .expect("another user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_read_modify_writes_over_three_replicas_lose_nothing() {
    let p = prefix("locks");
    let locks: Vec<RedisLocks> = replicas(3, &p)
        .into_iter()
        .map(|s| RedisLocks::new(s, LeasePolicy::default()))
        .collect();
    // A value that a read, a pause and a write would lose updates of without the lock.
    let value = Arc::new(AtomicU64::new(0));
    let tasks = (0..20).map(|i| {
        let (l, v) = (locks[i % 3].clone(), Arc::clone(&value));
        tokio::spawn(async move {
            let held = l
                .lock("data_flow:65c1d2e3f4a5b6c7d8e9f001")
                .await
                .expect("locked");
            let read = v.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            held.check().await.expect("still held");
            v.store(read + 1, Ordering::SeqCst);
        })
    });
    for t in futures::future::join_all(tasks).await {
        t.expect("the task ran");
    }
    assert_eq!(value.load(Ordering::SeqCst), 20, "every update survived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_holder_blocks_others_for_one_lease_and_cannot_write_after() {
    let p = prefix("lease");
    let policy = LeasePolicy {
        lease: Duration::from_millis(600),
        margin: Duration::from_millis(100),
        ..LeasePolicy::default()
    };
    let [a, b]: [RedisLocks; 2] = replicas(2, &p)
        .into_iter()
        .map(|s| RedisLocks::new(s, policy))
        .collect::<Vec<_>>()
        .try_into()
        .expect("two");
    let held = a.lease("connection:x").await.expect("locked");
    // The holder stalls: its renewals stop (as when its replica dies or hangs).
    held.renewal.abort();
    let started = Instant::now();
    let next = b.lease("connection:x").await.expect("the lease expires");
    let waited = started.elapsed();
    assert!(
        waited <= Duration::from_millis(900),
        "others waited {waited:?}, more than one lease"
    );
    assert!(next.token() > held.token(), "fencing tokens grow");
    // The stalled holder wakes up: its write is refused.
    let e = held.check().await.expect_err("a stale holder cannot write");
    assert!(e.to_string().contains("expired"), "{e}");
    next.check().await.expect("the new holder can");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lease_is_renewed_while_its_holder_works() {
    let p = prefix("renew");
    let policy = LeasePolicy {
        lease: Duration::from_millis(300),
        margin: Duration::from_millis(50),
        ..LeasePolicy::default()
    };
    let locks = RedisLocks::new(replicas(1, &p).remove(0), policy);
    let held = locks.lock("k").await.expect("locked");
    // Longer than three leases: the renewals keep it.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    held.check().await.expect("still held after three leases");
    drop(held);
    tokio::time::timeout(Duration::from_secs(1), locks.lock("k"))
        .await
        .expect("released on drop, not by expiry")
        .expect("locked again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_refuses_at_once_and_never_decides_alone() {
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let store = Store::new(&format!("redis://:s3cret@127.0.0.1:{port}/0"), "bdi:").expect("a URL");
    let started = Instant::now();
    let denied = RedisLimiter::new(store.clone(), ThrottleLimits::default())
        .acquire(&flow("65c1d2e3f4a5b6c7d8e9f001"), "u")
        .await
        .expect_err("no decision");
    let Denied::Unavailable(m) = &denied else {
        panic!("refused as if decided: {denied:?}");
    };
    assert!(m.contains(&format!("127.0.0.1:{port}")), "{m}");
    assert!(!m.contains("s3cret"), "{m}");
    let e = RedisLocks::new(store.clone(), LeasePolicy::default())
        .lock("k")
        .await
        .expect_err("no lock");
    assert!(matches!(e, Error::Unavailable(_)), "{e}");
    store.ping().await.expect_err("down");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_bad_url_says_how_to_write_one_without_echoing_it() {
    let e = Store::new("http://:s3cret@host", "bdi:").expect_err("not redis");
    assert!(!e.0.contains("s3cret"), "{e}");
    let e = Store::new("not a url", "bdi:").expect_err("not a url");
    assert!(e.0.contains("redis://host:6379"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_come_back_without_a_restart_when_redis_does() {
    let mut cable = Cable::new(&url()).await;
    let store = Store::new(&cable.url(), &prefix("recover")).expect("a URL");
    let limiter = RedisLimiter::new(store.clone(), ThrottleLimits::default());
    let f = flow("65c1d2e3f4a5b6c7d8e9f001");
    limiter.acquire(&f, "u").await.expect("Redis is up");

    cable.cut();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let denied = limiter.acquire(&f, "u").await.expect_err("Redis is down");
    assert!(matches!(denied, Denied::Unavailable(_)), "{denied:?}");
    store.ping().await.expect_err("down");

    cable.plug().await;
    // The same store, the same limiter: the connection manager reconnects by itself.
    let mut back = false;
    for _ in 0..50 {
        if limiter.acquire(&f, "u").await.is_ok() {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the limiter never came back");
    store.ping().await.expect("up again");
    cable.cut();
}
