//! Benchmark of flows as code at scale: `bdi flows pull` and `bdi flows plan` of an environment
//! with 500 data flows more than the demo's, against the sandbox over loopback, with the time
//! each takes, the requests it sends (by kind) and the most it had in flight at once. Not a timed
//! test: it prints a Markdown table, and beside it the requests the Terraform provider's
//! documented workflow sends for the same environment (a read per resource, on every plan).
//! Run with `cargo bench -p bdi-cli --bench flows_as_code`; `BENCH_FLOWS` sets the number added
//! (default 500).

#![allow(clippy::print_stdout, reason = "the benchmark's table is its output")]

use std::process::Command;
use std::time::{Duration, Instant};

use bdi_sandbox::{Sandbox, SandboxConfig};

/// The sandbox's delay before each answer.
const LATENCY: Duration = Duration::from_millis(5);

/// What one command cost.
struct Cost {
    wall: Duration,
    lists: usize,
    reads: usize,
    others: usize,
    in_flight: usize,
}

fn main() {
    let added: usize = std::env::var("BENCH_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the sandbox");
    let sandbox = rt
        .block_on(Sandbox::start(SandboxConfig::default()))
        .expect("the sandbox starts");
    let control = sandbox.control();
    control.add_data_flows(added);
    let dir = tempfile::tempdir().expect("a directory");
    let state = tempfile::tempdir().expect("a state directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    let cfg = sandbox.config();
    let bdi = |args: &[&str]| -> Cost {
        control.reset();
        // Each answer takes a few milliseconds, as a remote API's would: what a bounded
        // concurrency overlaps.
        control.set_latency(LATENCY);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bdi"));
        cmd.env("DATA_INTEGRATION_API_URL", sandbox.base_url())
            .env("DATA_INTEGRATION_API_TOKEN", &cfg.token)
            .env("DATA_INTEGRATION_ACCOUNT_ID", &cfg.account_id)
            .env("DATA_INTEGRATION_ENVIRONMENT_ID", &cfg.environment_id)
            .env("BDI_STATE_DIR", state.path())
            .env("BDI_CONFIG", "/nonexistent/bdi-config.toml")
            .env("NO_COLOR", "1")
            .args(args);
        let started = Instant::now();
        let out = cmd.output().expect("bdi runs");
        let wall = started.elapsed();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all = control.request_count("", "");
        let lists = control.request_count("GET", "/rivers?");
        let reads = control.request_count("GET", "/rivers/");
        Cost {
            wall,
            lists,
            reads,
            others: all - lists - reads,
            in_flight: control.max_in_flight(),
        }
    };
    let pull = bdi(&["flows", "pull", "--dir", d]);
    let plan = bdi(&["flows", "plan", "--dir", d]);
    let flows = std::fs::read_dir(dir.path().join("flows"))
        .expect("the documents")
        .count();
    println!(
        "Flows as code on the sandbox: {flows} data flows ({added} added to the demo's), one environment, {} ms per answer\n",
        LATENCY.as_millis()
    );
    println!(
        "| command | time | flow listings | flow reads | other requests | total | most at once |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, c) in [("bdi flows pull", &pull), ("bdi flows plan", &plan)] {
        println!(
            "| `{name}` | {:.2} s | {} | {} | {} | {} | {} |",
            c.wall.as_secs_f64(),
            c.lists,
            c.reads,
            c.others,
            c.lists + c.reads + c.others,
            c.in_flight
        );
    }
    let connections = 2;
    println!(
        "\nThe Terraform provider's documented workflow for the same flows: {flows} `import {{}}` blocks written by hand (an id each, from the console), then every `terraform plan` refreshes each resource with one read: {} reads for the flows and the {connections} connections they use, and a flow's properties are never read back, so a change made in the console does not show.",
        flows + connections
    );
    rt.block_on(sandbox.shutdown());
}
