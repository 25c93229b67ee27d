//! Benchmark of the gateway's added latency and throughput over loopback, against the sandbox,
//! compared in the same run with calling the sandbox directly. Not a timed test: it prints a
//! Markdown table. Run with `cargo bench -p bdi-rest-proxy`; `BENCH_REQUESTS` and
//! `BENCH_CONCURRENCY` override the sizes (defaults 2000 and 16).
//!
//! With a Redis (`cargo xtask with-redis -- cargo bench -p bdi-rest-proxy`, which sets
//! `BDI_TEST_REDIS_URL`), it also times the coordination of replicas: a run-limit decision and a
//! lock taken and checked, in Redis next to in process.

#![allow(clippy::print_stdout, reason = "the benchmark's table is its output")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bdi_api_client::{ClientConfig, HttpBackend};
use bdi_domain::{AccountId, EnvironmentId};
use bdi_rest_proxy::keys::{ApiKey, KeyStore, digest};
use bdi_rest_proxy::scopes::Scope;
use bdi_rest_proxy::serve::RunningGateway;
use bdi_rest_proxy::{AppState, GatewayConfig};
use bdi_sandbox::{Sandbox, SandboxConfig, demo};

const KEY: &str = "bdig_bench_key";

struct Stats {
    p50: Duration,
    p90: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let total: Duration = samples.iter().sum();
    Stats {
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        mean: total / u32::try_from(samples.len()).expect("sample count fits in u32"),
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn get_ok(client: &reqwest::Client, url: &str, token: &str) {
    let r = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("the request is sent");
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.bytes().await.expect("the body is read");
}

async fn sequential(client: &reqwest::Client, url: &str, token: &str, n: usize) -> Stats {
    for _ in 0..n / 10 {
        get_ok(client, url, token).await;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        get_ok(client, url, token).await;
        samples.push(t.elapsed());
    }
    stats(samples)
}

async fn throughput(client: &reqwest::Client, url: &str, token: &str, n: usize, c: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(c);
    for w in 0..c {
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        let share = n / c + usize::from(w < n % c);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                get_ok(&client, &url, &token).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("a worker finished");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env_usize("BENCH_REQUESTS", 2000);
    let c = env_usize("BENCH_CONCURRENCY", 16);
    let _ = rustls::crypto::ring::default_provider().install_default();

    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts");
    let sc = sandbox.config().clone();
    let account = AccountId::parse(&sc.account_id).expect("the sandbox's account id is valid");
    let env =
        EnvironmentId::parse(&sc.environment_id).expect("the sandbox's environment id is valid");
    let upstream = HttpBackend::new(
        ClientConfig::new(&sandbox.base_url(), &sc.token, account.clone())
            .expect("the upstream configuration is valid")
            .with_default_environment(Some(env.clone())),
    )
    .expect("the upstream client builds");
    let keys = KeyStore::new([ApiKey::new("bench", digest(KEY), Scope::ALL, None)]);
    let state = AppState::new(GatewayConfig::new(
        Arc::new(upstream),
        account.clone(),
        keys,
    ));
    let gw = RunningGateway::start("127.0.0.1:0".parse().expect("a valid address"), state)
        .await
        .expect("the gateway starts");

    let path = format!(
        "/v1/accounts/{account}/environments/{env}/rivers/{}",
        demo::ORDERS_FLOW_ID
    );
    let direct = format!("{}{path}", sandbox.base_url());
    let via = format!("{}{path}", gw.base_url());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(c)
        .build()
        .expect("the bench client builds");

    let d = sequential(&client, &direct, &sc.token, n).await;
    let g = sequential(&client, &via, KEY, n).await;
    let d_rps = throughput(&client, &direct, &sc.token, n, c).await;
    let g_rps = throughput(&client, &via, KEY, n, c).await;

    println!(
        "GET {{E}}/rivers/{{flow}} over loopback, {n} sequential requests, then {n} at concurrency {c}\n"
    );
    println!("| path | p50 ms | p90 ms | p99 ms | mean ms | throughput req/s |");
    println!("| --- | --- | --- | --- | --- | --- |");
    println!(
        "| sandbox directly | {} | {} | {} | {} | {d_rps:.0} |",
        ms(d.p50),
        ms(d.p90),
        ms(d.p99),
        ms(d.mean)
    );
    println!(
        "| through the gateway | {} | {} | {} | {} | {g_rps:.0} |",
        ms(g.p50),
        ms(g.p90),
        ms(g.p99),
        ms(g.mean)
    );
    println!(
        "\nadded latency: p50 {} ms, mean {} ms; throughput ratio {:.2}",
        ms(g.p50.saturating_sub(d.p50)),
        ms(g.mean.saturating_sub(d.mean)),
        g_rps / d_rps
    );

    gw.shutdown().await.expect("the gateway drains");
    sandbox.shutdown().await;

    match std::env::var("BDI_TEST_REDIS_URL") {
        Ok(url) => coordination(&url, n).await,
        Err(_) => println!(
            "\n(no BDI_TEST_REDIS_URL: run `cargo xtask with-redis -- cargo bench -p bdi-rest-proxy` to time the Redis coordination too)"
        ),
    }
}

/// One decision or lock, timed `n` times after `n / 10` unmeasured ones.
async fn timed<F, Fut>(n: usize, mut one: F) -> Stats
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..n / 10 {
        one(i).await;
    }
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        one(i).await;
        samples.push(started.elapsed());
    }
    stats(samples)
}

/// The cost of coordinating replicas: a run-limit decision and a lock, in Redis and in process.
async fn coordination(url: &str, n: usize) {
    use bdi_domain::{
        DataFlowId, InMemoryLimiter, Locks, ResourceLocks, RunLimiter, ThrottleLimits,
    };
    use bdi_redis::{LeasePolicy, RedisLimiter, RedisLocks, Store};

    // Limits no decision reaches: every acquire is granted, so each is a full check and record.
    let limits = ThrottleLimits {
        per_flow: u32::MAX,
        per_user: u32::MAX,
        ..ThrottleLimits::default()
    };
    let prefix = format!("bdi-bench:{}:", std::process::id());
    let store = Store::new(url, &prefix).expect("a Redis URL");
    let redis = RedisLimiter::new(store.clone(), limits.clone());
    let memory = InMemoryLimiter::new(limits);
    let flow = DataFlowId::parse(demo::ORDERS_FLOW_ID).expect("a valid id");
    let in_process = timed(n, |_| async {
        let _ = memory.acquire(&flow, "bench").await.expect("granted");
    })
    .await;
    let in_redis = timed(n, |_| async {
        let _ = redis.acquire(&flow, "bench").await.expect("granted");
    })
    .await;
    let local_locks = ResourceLocks::new();
    let redis_locks = RedisLocks::new(store, LeasePolicy::default());
    let lock_local = timed(n, |i| {
        let locks = &local_locks;
        async move {
            let held = Locks::lock(locks, &format!("data_flow:{i}"))
                .await
                .expect("locked");
            held.check().await.expect("held");
        }
    })
    .await;
    let lock_redis = timed(n, |i| {
        let locks = &redis_locks;
        async move {
            let held = locks.lock(&format!("data_flow:{i}")).await.expect("locked");
            held.check().await.expect("held");
        }
    })
    .await;
    println!("\nCoordination of replicas, {n} sequential operations each (Redis on loopback)\n");
    let us = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1e6);
    println!("| operation | p50 µs | p90 µs | p99 µs | mean µs |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, s) in [
        ("run-limit decision, in process", &in_process),
        ("run-limit decision, in Redis (one Lua script)", &in_redis),
        ("lock and fencing check, in process", &lock_local),
        ("lock and fencing check, in Redis", &lock_redis),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} |",
            us(s.p50),
            us(s.p90),
            us(s.p99),
            us(s.mean)
        );
    }
}
