//! Three gateway replicas in front of one sandbox, sharing one Redis (`BDI_TEST_REDIS_URL`):
//! each has its own state and its own connections, as three processes would. Twenty concurrent
//! patches of one data flow spread over them all survive; twenty concurrent runs reach the
//! upstream twice; with Redis unreachable, runs and changes get a 503 and plain reads still work,
//! and `/readyz` says why.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bdi_domain::ThrottleLimits;
use bdi_redis::testing::Cable;
use bdi_redis::{LeasePolicy, RedisLimiter, RedisLocks, Store};
use bdi_rest_proxy::AppState;
use bdi_rest_proxy::scopes::Scope;
use bdi_rest_proxy::serve::RunningGateway;
use bdi_sandbox::{Sandbox, SandboxConfig, demo};
use serde_json::{Value, json};

const KEY: &str = "bdig_replica_key";

/// The test server's URL; its absence fails the test (a skipped test would pass unseen).
fn redis_url() -> String {
    std::env::var("BDI_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_REDIS_URL is not set: these tests need a Redis server; run them with \
             `cargo xtask with-redis -- cargo nextest run --workspace -E 'package(bdi-rest-proxy)'` \
             (cargo xtask ci starts one too)"
        )
    })
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A replica in front of `sandbox`, coordinating through Redis at `url` under `prefix`.
async fn replica(sandbox: &Sandbox, url: &str, prefix: &str) -> RunningGateway {
    let store = Store::new(url, prefix).unwrap();
    let mut config = crate::support::sandbox_gateway(sandbox, "etl", KEY);
    config.limiter = Some(Arc::new(RedisLimiter::new(
        store.clone(),
        ThrottleLimits::default(),
    )));
    config.locks = Some(Arc::new(RedisLocks::new(
        store.clone(),
        LeasePolicy::default(),
    )));
    config.redis = Some(store);
    RunningGateway::start("127.0.0.1:0".parse().unwrap(), AppState::new(config))
        .await
        .unwrap()
}

fn prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bdi-test:{test}:{nanos}:")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_keep_every_patch_and_the_run_limit() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // Each upstream call takes a moment, so unserialised writers would interleave.
    sandbox.control().set_latency(Duration::from_millis(2));
    let (url, p) = (redis_url(), prefix("replicas"));
    let replicas = [
        replica(&sandbox, &url, &p).await,
        replica(&sandbox, &url, &p).await,
        replica(&sandbox, &url, &p).await,
    ];
    let env = sandbox.config().environment_id.clone();
    let client = http();

    let patches = (0..20).map(|i| {
        let url = format!(
            "{}/bdi/v1/environments/{env}/data_flows/{}",
            replicas[i % 3].base_url(),
            demo::NEW_FLOW_ID
        );
        let client = client.clone();
        tokio::spawn(async move {
            let resp = client
                .patch(&url)
                .bearer_auth(KEY)
                .header("content-type", "application/merge-patch+json")
                .body(json!({"settings": {format!("replica_key_{i:02}"): i}}).to_string())
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        })
    });
    for (i, r) in futures::future::join_all(patches)
        .await
        .into_iter()
        .enumerate()
    {
        let (status, body) = r.unwrap();
        assert_eq!(status, 200, "patch {i}: {body}");
    }
    let account = sandbox.config().account_id.clone();
    let got: Value = client
        .get(format!(
            "{}/v1/accounts/{account}/environments/{env}/rivers/{}",
            replicas[0].base_url(),
            demo::NEW_FLOW_ID
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for i in 0..20 {
        assert_eq!(
            got["settings"][format!("replica_key_{i:02}")],
            json!(i),
            "patch {i} was lost: {}",
            got["settings"]
        );
    }

    let runs = (0..20).map(|i| {
        let url = format!(
            "{}/bdi/v1/environments/{env}/data_flows/{}/run?wait=false",
            replicas[i % 3].base_url(),
            demo::ORDERS_FLOW_ID
        );
        let client = client.clone();
        tokio::spawn(async move {
            let resp = client.post(&url).bearer_auth(KEY).send().await.unwrap();
            resp.status().as_u16()
        })
    });
    let statuses: Vec<u16> = futures::future::join_all(runs)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        2,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 429),
        "{statuses:?}"
    );
    let path = format!("/rivers/{}/run", demo::ORDERS_FLOW_ID);
    assert_eq!(sandbox.control().request_count("POST", &path), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_runs_and_changes_get_503_and_reads_still_work() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // A loopback port nothing listens on: Redis is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gw = replica(&sandbox, &format!("redis://127.0.0.1:{port}/0"), "bdi:").await;
    let env = sandbox.config().environment_id.clone();
    let client = http();
    let base = format!("{}/bdi/v1/environments/{env}/data_flows", gw.base_url());

    let run = client
        .post(format!("{base}/{}/run?wait=false", demo::ORDERS_FLOW_ID))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(run.status().as_u16(), 503);
    let body: Value = run.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("Redis"),
        "{body}"
    );

    let patch = client
        .patch(format!("{base}/{}", demo::NEW_FLOW_ID))
        .bearer_auth(KEY)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"name": "never written"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status().as_u16(), 503);

    let account = sandbox.config().account_id.clone();
    let list = client
        .get(format!(
            "{}/v1/accounts/{account}/environments/{env}/rivers",
            gw.base_url()
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status().as_u16(), 200, "plain reads need no Redis");

    let ready = client
        .get(format!("{}/readyz", gw.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let body: Value = ready.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{port}")),
        "{body}"
    );
    // Nothing reached the upstream's writes.
    assert_eq!(
        sandbox
            .control()
            .request_count("POST", &format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)),
        0
    );
    assert_eq!(
        sandbox
            .control()
            .request_count("PUT", &format!("/rivers/{}", demo::NEW_FLOW_ID)),
        0
    );
}

/// A `bdi-gateway` process in front of `sandbox`, sharing Redis at `redis`; killed on drop.
struct Process {
    child: std::process::Child,
    base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn process(sandbox: &Sandbox, keys: &std::path::Path, redis: &str, lease_ms: u64) -> Process {
    let sc = sandbox.config();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_bdi-gateway"))
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .arg("--keys")
        .arg(keys)
        .args(["--api-url", &sandbox.base_url()])
        .args(["--account-id", &sc.account_id])
        .args(["--environment-id", &sc.environment_id])
        .args(["--redis", redis])
        .env("DATA_INTEGRATION_API_TOKEN", &sc.token)
        .env("BDI_CONFIG", keys.with_file_name("no-config.toml"))
        .env("BDI_LOCK_LEASE_MS", lease_ms.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let p = Process {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = http();
    for _ in 0..200 {
        if client
            .get(format!("{}/healthz", p.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("bdi-gateway did not start on {}", p.base);
}

/// A Redis database of its own on the shared server, emptied: the processes use the `bdi:`
/// prefix, so no other test's keys may be there.
fn own_database(url: &str, db: u8) -> String {
    let host = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    std::io::Write::write_all(&mut s, format!("SELECT {db}\r\nFLUSHDB\r\n").as_bytes()).unwrap();
    // Both answers (+OK twice) before any gateway starts.
    let mut answers = Vec::new();
    while !answers.ends_with(b"+OK\r\n+OK\r\n") {
        let mut buf = [0u8; 64];
        let n = std::io::Read::read(&mut s, &mut buf).unwrap();
        assert!(n > 0, "Redis closed the connection");
        answers.extend_from_slice(&buf[..n]);
    }
    format!("redis://{host}/{db}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_share_one_redis_and_a_killed_holder_blocks_no_one_past_its_lease() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let redis = own_database(&redis_url(), 5);
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.toml");
    let key = bdi_rest_proxy::keys::add_key(
        &keys,
        &bdi_rest_proxy::keys::NewKey {
            name: "etl".into(),
            scopes: Scope::ALL.to_vec(),
            environments: Vec::new(),
        },
    )
    .unwrap();
    let lease_ms = 1_000;
    let mut gateways = vec![
        process(&sandbox, &keys, &redis, lease_ms).await,
        process(&sandbox, &keys, &redis, lease_ms).await,
        process(&sandbox, &keys, &redis, lease_ms).await,
    ];
    let env = sandbox.config().environment_id.clone();
    let client = http();
    let patch = |base: &str, field: &str, i: usize| {
        client
            .patch(format!(
                "{base}/bdi/v1/environments/{env}/data_flows/{}",
                demo::NEW_FLOW_ID
            ))
            .bearer_auth(&key)
            .header("content-type", "application/merge-patch+json")
            .body(json!({"settings": {field: i}}).to_string())
            .send()
    };

    sandbox.control().set_latency(Duration::from_millis(2));
    let patches = (0..20).map(|i| patch(&gateways[i % 3].base, &format!("process_key_{i:02}"), i));
    for r in futures::future::join_all(patches).await {
        assert_eq!(r.unwrap().status().as_u16(), 200);
    }
    let runs = (0..20).map(|i| {
        client
            .post(format!(
                "{}/bdi/v1/environments/{env}/data_flows/{}/run?wait=false",
                gateways[i % 3].base,
                demo::ORDERS_FLOW_ID
            ))
            .bearer_auth(&key)
            .send()
    });
    let started = futures::future::join_all(runs)
        .await
        .into_iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.status().as_u16() == 202))
        .count();
    assert_eq!(started, 2);
    assert_eq!(
        sandbox
            .control()
            .request_count("POST", &format!("/rivers/{}/run", demo::ORDERS_FLOW_ID)),
        2,
        "the upstream saw two triggers in the minute"
    );

    // The first replica takes the lock and stalls in a slow upstream; then it is killed.
    sandbox.control().set_latency(Duration::from_secs(3));
    let stalled = tokio::spawn(patch(&gateways[0].base, "killed_key", 1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(gateways.remove(0));
    drop(stalled);
    sandbox.control().set_latency(Duration::ZERO);
    let waited = std::time::Instant::now();
    let after = patch(&gateways[0].base, "after_key", 2).await.unwrap();
    assert_eq!(after.status().as_u16(), 200);
    assert!(
        waited.elapsed() < Duration::from_millis(lease_ms + 1_500),
        "the others waited {:?}",
        waited.elapsed()
    );

    let account = sandbox.config().account_id.clone();
    let got: Value = client
        .get(format!(
            "{}/v1/accounts/{account}/environments/{env}/rivers/{}",
            gateways[1].base,
            demo::NEW_FLOW_ID
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for i in 0..20 {
        assert_eq!(got["settings"][format!("process_key_{i:02}")], json!(i));
    }
    assert_eq!(got["settings"]["after_key"], json!(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_recovers_without_a_restart_when_redis_comes_back() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let mut cable = Cable::new(&redis_url()).await;
    let gw = replica(&sandbox, &cable.url(), &prefix("recover")).await;
    let client = http();
    let ready = |client: reqwest::Client, url: String| async move {
        client.get(url).send().await.unwrap().status().as_u16()
    };
    let readyz = format!("{}/readyz", gw.base_url());
    assert_eq!(ready(client.clone(), readyz.clone()).await, 200);

    cable.cut();
    assert_eq!(ready(client.clone(), readyz.clone()).await, 503);
    let env = sandbox.config().environment_id.clone();
    let run_url = format!(
        "{}/bdi/v1/environments/{env}/data_flows/{}/run?wait=false",
        gw.base_url(),
        demo::ORDERS_FLOW_ID
    );
    let refused = client.post(&run_url).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 503);

    // Redis is back: the same process answers again (readiness is cached a few seconds).
    cable.plug().await;
    let mut status = 0;
    for _ in 0..100 {
        status = client
            .post(&run_url)
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 202, "the run goes through once Redis is back");
    cable.cut();
}
