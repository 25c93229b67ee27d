//! The loader against dlt, on the same emulator data:
//!
//! - `dlt-parity`: dlt's `rest_api` pipeline (`xtask/dlt_flow.py`) and `bdi load flow` load every
//!   resource from one `bdi-sandbox`; `xtask/dlt_parity.py` compares table names, column names and
//!   types, and row counts, and fails on any difference. Part of `cargo xtask ci`.
//! - `bench-load`: 50,000 audit events plus flows and users, loaded by `bdi load flow` (release)
//!   and by dlt (default, and with parquet files) in the same run, end to end with process start,
//!   wall time and peak RSS (`xtask/measure.py`), into DuckDB and into a throwaway PostgreSQL
//!   (bdi's binary COPY, dlt's postgres destination); the tables go to stdout and
//!   `<target>/bench-load/results.md`.
//!
//! - `bench-show`: `bdi load show` against dlt's dashboard (`dlt pipeline NAME show`) on the
//!   bench-load data, each loaded by its own tool: time until the server answers, time until
//!   headless Chromium shows the tables, memory of the server's processes.
//!
//! dlt (PyPI `dlt[duckdb,parquet]`, pinned) is installed once in a venv under the tools directory;
//! its dashboard's extras in another.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{KillOnDrop, cargo, run, target_dir};

/// The dlt release the loader is compared with.
const DLT: &str = "dlt[duckdb,parquet]==1.31.0";
/// dlt's PostgreSQL driver, for the benchmark into PostgreSQL.
const PSYCOPG2: &str = "psycopg2-binary==2.9.10";

/// The Flow API key and tenant the xtask gives its sandbox.
const KEY: &str = "xtaskflowkey00000000000000000001";
const TENANT: &str = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

/// Every resource of the source.
const ALL: &str =
    "flows,flow,flow_active,graph_flow,runtimes,users,api_keys,states,audit_search,translations";

/// Builds `bdi` and `bdi-sandbox` in release, as the benchmarks run them; returns where they are.
fn build_release(root: &Path) -> anyhow::Result<PathBuf> {
    run(
        "build bdi and bdi-sandbox (release)",
        cargo().args([
            "build",
            "--release",
            "--locked",
            "-p",
            "bdi-cli",
            "--bin",
            "bdi",
            "-p",
            "bdi-sandbox",
            "--bin",
            "bdi-sandbox",
        ]),
    )?;
    Ok(target_dir(root).join("release"))
}

/// The venv's Python, with dlt installed.
fn dlt_python(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = crate::python_tool(root, "dlt-1.31", "dlt", DLT, "dlt")?;
    Ok(venv.join("bin").join("python"))
}

/// A fresh work directory under the target directory.
fn work_dir(root: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let work = target_dir(root).join(name);
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    Ok(work)
}

/// Starts `bdi-sandbox` on a free loopback port; returns it and the Flow API's base URL.
fn start_sandbox(
    binary: &Path,
    extra: &[&str],
    log: &Path,
) -> anyhow::Result<(KillOnDrop, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(binary)
        .args(["--addr", &addr, "--flow-key", KEY, "--flow-tenant", TENANT])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .context("could not start bdi-sandbox")?;
    let mut server = KillOnDrop(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        if let Some(status) = server.0.try_wait()? {
            bail!("bdi-sandbox exited ({status}); see {}", log.display());
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("bdi-sandbox did not listen on {addr} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((server, format!("http://{addr}/api")))
}

/// `bdi load flow` configured for the sandbox, with no profile and its own state directory.
fn bdi_load(bdi: &Path, base: &str, work: &Path) -> Command {
    let mut cmd = Command::new(bdi);
    cmd.current_dir(work)
        .env("BOOMI_FLOW_API_URL", base)
        .env("BOOMI_FLOW_API_KEY", KEY)
        .env("BOOMI_FLOW_TENANT_ID", TENANT)
        .env("BDI_CONFIG", work.join("no-config.toml"))
        .env("BDI_STATE_DIR", work.join("state"))
        .env("NO_COLOR", "1")
        .args(["load", "flow"]);
    cmd
}

/// dlt's pipeline and `bdi load flow` load the same sandbox data; the datasets must agree.
pub(crate) fn parity(root: &Path) -> anyhow::Result<()> {
    let python = dlt_python(root)?;
    crate::build_bins("build bdi and bdi-sandbox", &[crate::CLI, crate::SANDBOX])?;
    let bin = target_dir(root).join("debug");
    let work = work_dir(root, "dlt-parity")?;
    let (_sandbox, base) = start_sandbox(&bin.join("bdi-sandbox"), &[], &work.join("sandbox.log"))?;
    let xtask = root.join("xtask");
    run(
        "dlt rest_api pipeline",
        Command::new(&python)
            .arg(xtask.join("dlt_flow.py"))
            .args([base.as_str(), KEY, TENANT])
            .arg(work.join("dlt-pipelines"))
            .arg(work.join("dlt.duckdb"))
            .arg(ALL)
            .stdout(Stdio::null()),
    )?;
    run(
        "bdi load flow",
        bdi_load(&bin.join("bdi"), &base, &work)
            .args(["--resources", ALL, "--destination"])
            .arg(format!("duckdb:{}", work.join("bdi.duckdb").display()))
            .stdout(Stdio::null()),
    )?;
    run(
        "compare the datasets",
        Command::new(&python)
            .arg(xtask.join("dlt_parity.py"))
            .arg(work.join("dlt.duckdb"))
            .arg(work.join("bdi.duckdb"))
            .arg("boomi_flow_data"),
    )
}

/// One measured run: `xtask/measure.py` prints `{"seconds": .., "max_rss_mb": ..}`.
fn measure(
    python: &Path,
    root: &Path,
    cmd: &[String],
    cwd: &Path,
    envs: &[(&str, String)],
) -> anyhow::Result<(f64, f64)> {
    let out = Command::new(python)
        .arg(root.join("xtask").join("measure.py"))
        .args(cmd)
        .current_dir(cwd)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stderr(Stdio::inherit())
        .output()
        .context("could not run measure.py")?;
    if !out.status.success() {
        bail!("{} failed ({})", cmd.join(" "), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok((
        number_after(&text, "\"seconds\":"),
        number_after(&text, "\"max_rss_mb\":"),
    ))
}

/// The number that follows `key` in measure.py's one line of JSON (NaN when absent).
fn number_after(text: &str, key: &str) -> f64 {
    text.split_once(key)
        .map(|(_, rest)| {
            rest.trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
                .collect::<String>()
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The benchmark: 50,000 audit events, 200 flows, 50 users; bdi (release) and dlt side by side.
pub(crate) fn bench(root: &Path) -> anyhow::Result<()> {
    let python = dlt_python(root)?;
    let bin = build_release(root)?;
    let work = work_dir(root, "bench-load")?;
    let events = std::env::var("BDI_BENCH_EVENTS").unwrap_or_else(|_| "50000".to_owned());
    let (_sandbox, base) = start_sandbox(
        &bin.join("bdi-sandbox"),
        &[
            "--flow-audit-events",
            &events,
            "--flow-flows",
            "200",
            "--flow-users",
            "50",
        ],
        &work.join("sandbox.log"),
    )?;
    let resources = "flows,users,audit_search";
    let rows: f64 = events.parse().unwrap_or(50_000.0);
    let mut table = vec![
        "| tool | wall (s) | audit rows/s | peak RSS (MB) |".to_owned(),
        "|---|---|---|---|".to_owned(),
    ];
    let mut results = Vec::new();
    // bdi first: a full load, then a second run with nothing new.
    let bdi = bin.join("bdi");
    let bdi_cmd = |file: &str| -> Vec<String> {
        let cmd = bdi_load(&bdi, &base, &work);
        let mut v: Vec<String> = vec![cmd.get_program().to_string_lossy().into_owned()];
        v.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
        v.extend([
            "--resources".to_owned(),
            resources.to_owned(),
            "--destination".to_owned(),
            format!("duckdb:{}", work.join(file).display()),
            // The page size dlt_flow.py asks of the audit log.
            "--page-size".to_owned(),
            "1000".to_owned(),
            "-o".to_owned(),
            "json".to_owned(),
        ]);
        v
    };
    let envs = [
        ("BOOMI_FLOW_API_URL", base.clone()),
        ("BOOMI_FLOW_API_KEY", KEY.to_owned()),
        ("BOOMI_FLOW_TENANT_ID", TENANT.to_owned()),
        (
            "BDI_CONFIG",
            work.join("no-config.toml").display().to_string(),
        ),
        ("BDI_STATE_DIR", work.join("state").display().to_string()),
    ];
    let (s, rss) = measure(&python, root, &bdi_cmd("bdi.duckdb"), &work, &envs)?;
    results.push(("bdi load flow", s, rss));
    let (s2, rss2) = measure(&python, root, &bdi_cmd("bdi.duckdb"), &work, &envs)?;
    let xtask = root.join("xtask");
    for (label, format) in [
        ("dlt 1.31 (parquet)", "parquet"),
        ("dlt 1.31 (jsonl)", "jsonl"),
        ("dlt 1.31 (default)", "insert_values"),
    ] {
        let file = work.join(format!("dlt-{format}.duckdb"));
        let cmd: Vec<String> = vec![
            python.display().to_string(),
            xtask.join("dlt_flow.py").display().to_string(),
            base.clone(),
            KEY.to_owned(),
            TENANT.to_owned(),
            work.join(format!("dlt-{format}")).display().to_string(),
            file.display().to_string(),
            resources.to_owned(),
            format.to_owned(),
        ];
        let (s, rss) = measure(&python, root, &cmd, &work, &[])?;
        results.push((label, s, rss));
    }
    for (label, s, rss) in &results {
        table.push(format!("| {label} | {s:.2} | {:.0} | {rss:.0} |", rows / s));
    }
    table.push(format!(
        "| bdi load flow, second run (nothing new) | {s2:.2} | 0 new rows | {rss2:.0} |"
    ));

    // The same load into a local PostgreSQL (a throwaway server): bdi's binary COPY against
    // dlt's postgres destination (psycopg2), each into a dataset of its own.
    let server = crate::postgres::TestServer::start()?;
    let pip = python.with_file_name("pip");
    let has_psycopg2 = Command::new(&python)
        .args(["-c", "import psycopg2"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_psycopg2 {
        run(
            "install psycopg2-binary (dlt's postgres driver)",
            Command::new(&pip).args(["install", "--quiet", PSYCOPG2]),
        )?;
    }
    let mut pg = vec![
        "| tool, into PostgreSQL 15 | wall (s) | audit rows/s | peak RSS (MB) |".to_owned(),
        "|---|---|---|---|".to_owned(),
    ];
    let mut bdi_pg = bdi_cmd("unused.duckdb");
    let at = bdi_pg
        .iter()
        .position(|a| a == "--destination")
        .context("the bdi command names its destination")?;
    bdi_pg[at + 1].clone_from(&server.url);
    bdi_pg.extend(["--dataset".to_owned(), "bdi_flow_data".to_owned()]);
    let (s, rss) = measure(&python, root, &bdi_pg, &work, &envs)?;
    pg.push(format!(
        "| bdi load flow | {s:.2} | {:.0} | {rss:.0} |",
        rows / s
    ));
    let bdi_pg_seconds = s;
    let (s, rss) = measure(&python, root, &bdi_pg, &work, &envs)?;
    pg.push(format!(
        "| bdi load flow, second run (nothing new) | {s:.2} | 0 new rows | {rss:.0} |"
    ));
    let mut dlt_pg_seconds = f64::NAN;
    for (label, format) in [
        ("dlt 1.31 (csv, COPY)", "csv"),
        ("dlt 1.31 (default)", "insert_values"),
    ] {
        let cmd: Vec<String> = vec![
            python.display().to_string(),
            xtask.join("dlt_flow.py").display().to_string(),
            base.clone(),
            KEY.to_owned(),
            TENANT.to_owned(),
            work.join(format!("dlt-pg-{format}")).display().to_string(),
            server.url.clone(),
            resources.to_owned(),
            format.to_owned(),
            format!("dlt_{format}_data"),
        ];
        let (s, rss) = measure(&python, root, &cmd, &work, &[])?;
        if dlt_pg_seconds.is_nan() {
            dlt_pg_seconds = s;
        }
        pg.push(format!("| {label} | {s:.2} | {:.0} | {rss:.0} |", rows / s));
    }
    drop(server);
    let dlt_parquet = results
        .iter()
        .find(|r| r.0.contains("parquet"))
        .map_or(f64::NAN, |r| r.1);
    let text = format!(
        "{}\n\nbdi is {:.1}x faster than dlt with parquet ({} audit events, 200 flows, 50 users, loopback).\n\n{}\n\nInto PostgreSQL, bdi is {:.1}x faster than dlt's fastest (csv).\n",
        table.join("\n"),
        dlt_parquet / results[0].1,
        events,
        pg.join("\n"),
        dlt_pg_seconds / bdi_pg_seconds,
    );
    #[allow(clippy::print_stdout, reason = "the benchmark's table is its output")]
    {
        println!("{text}");
    }
    std::fs::write(work.join("results.md"), &text)?;
    Ok(())
}

/// What `bench-show` installs beside dlt for its dashboard (`dlt pipeline NAME show`): dlt's
/// hub extra and the marimo app it runs, with the libraries the app reads the dataset through.
const DLT_DASHBOARD: &[&str] = &[
    "dlt[hub,duckdb]==1.31.0",
    "marimo==0.25.2",
    "pyarrow==26.0.1",
    "ibis-framework[duckdb]==12.0.0",
];

/// Memory of a process group now: the sum of its processes' resident sets, in MB (Linux /proc).
fn group_rss_mb(pgid: u32) -> f64 {
    let mut kb = 0u64;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: the fields after the command's closing parenthesis.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if rest.split_whitespace().nth(2) != Some(pgid.to_string().as_str()) {
            continue;
        }
        if let Ok(status) = std::fs::read_to_string(path.join("status")) {
            kb += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    kb as f64 / 1024.0
}

/// A server in a process group of its own, killed whole on drop (dlt's dashboard runs marimo
/// as a child process).
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

/// `bench-show`: `bdi load show` against dlt's dashboard (`dlt pipeline NAME show`, marimo) on
/// the same data (the bench-load data set, loaded by each tool): from start until the server
/// answers, from opening the page in headless Chromium until the dataset's tables are on it,
/// and the memory of the server's processes then.
pub(crate) fn bench_show(root: &Path) -> anyhow::Result<()> {
    let python = dlt_python(root)?;
    let show_venv = crate::tools_dir(root)?.join("dlt-show-1.31");
    let show_python = show_venv.join("bin").join("python");
    if !show_venv.join("bin").join("marimo").exists() {
        run(
            "install dlt's dashboard (venv)",
            Command::new("python3").args(["-m", "venv"]).arg(&show_venv),
        )?;
        run(
            "install dlt's dashboard (pip)",
            Command::new(show_venv.join("bin").join("pip"))
                .args(["install", "--quiet"])
                .args(DLT_DASHBOARD),
        )?;
    }
    let (browser_dir, node, chromium) = crate::browser::prepare(root)?;
    let bin = build_release(root)?;
    let work = work_dir(root, "bench-show")?;
    let (sandbox, base) = start_sandbox(
        &bin.join("bdi-sandbox"),
        &[
            "--flow-audit-events",
            "50000",
            "--flow-flows",
            "200",
            "--flow-users",
            "50",
        ],
        &work.join("sandbox.log"),
    )?;
    let resources = "flows,users,audit_search,states";
    let bdi_file = work.join("bdi.duckdb");
    run(
        "bdi load flow",
        bdi_load(&bin.join("bdi"), &base, &work).args([
            "--resources",
            resources,
            "--destination",
            &format!("duckdb:{}", bdi_file.display()),
        ]),
    )?;
    let pipelines = work.join("dlt-pipelines");
    run(
        "dlt pipeline",
        Command::new(&python)
            .arg(root.join("xtask").join("dlt_flow.py"))
            .args([base.as_str(), KEY, TENANT])
            .arg(&pipelines)
            .arg(work.join("dlt.duckdb"))
            .args([resources, "parquet"]),
    )?;
    drop(sandbox);

    let free_port = || -> anyhow::Result<u16> {
        Ok(std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port())
    };
    let mut rows = Vec::new();
    for tool in ["bdi load show", "dlt pipeline show"] {
        let port = free_port()?;
        let mut cmd = if tool == "bdi load show" {
            let mut c = Command::new(bin.join("bdi"));
            c.args(["load", "show", "--port", &port.to_string(), "--destination"])
                .arg(format!("duckdb:{}", bdi_file.display()));
            c
        } else {
            // What `dlt pipeline boomi_flow_pipeline show` runs, on a port of ours and without
            // opening a browser.
            let mut c = Command::new(&show_python);
            c.arg("-c")
                .arg(format!(
                    "from dlt._workspace.helpers.dashboard.runner import run_dashboard; \
                     run_dashboard('boomi_flow_pipeline', pipelines_dir={:?}, port={port}, host='127.0.0.1', headless=True)",
                    pipelines.display().to_string()
                ))
                .env("PATH", format!("{}:{}", show_venv.join("bin").display(), std::env::var("PATH").unwrap_or_default()));
            c
        };
        use std::os::unix::process::CommandExt as _;
        let started = Instant::now();
        let server = Group(
            cmd.current_dir(&work)
                .process_group(0)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(
                    work.join(format!("{}.log", tool.replace(' ', "-"))),
                )?)
                .spawn()
                .with_context(|| format!("starting {tool}"))?,
        );
        let url = format!("http://127.0.0.1:{port}/");
        loop {
            let answered = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut s| {
                use std::io::{Read, Write};
                let _ = write!(
                    s,
                    "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                );
                let mut head = [0u8; 12];
                s.read_exact(&mut head).is_ok() && head.ends_with(b"200")
            });
            if answered {
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("{tool} did not answer on {url} within 120 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let ready = started.elapsed().as_secs_f64();
        let out = Command::new(&node)
            .arg(browser_dir.join("ready.mjs"))
            .args(["--url", &url, "--text", "audit_search", "--screenshot"])
            .arg(work.join(format!("{}.png", tool.replace(' ', "-"))))
            .arg("--chromium")
            .arg(&chromium)
            .stderr(Stdio::inherit())
            .output()
            .context("running ready.mjs")?;
        if !out.status.success() {
            bail!("{tool}: the page never showed the tables ({})", out.status);
        }
        let visible = number_after(&String::from_utf8_lossy(&out.stdout), "\"visible_ms\":");
        let rss = group_rss_mb(server.0.id());
        drop(server);
        rows.push((tool, ready, visible, rss));
    }
    let mut table = vec![
        "| dashboard | server answers (s) | tables on the page (s) | server memory (MB) |"
            .to_owned(),
        "|---|---|---|---|".to_owned(),
    ];
    for (tool, ready, visible, rss) in &rows {
        table.push(format!(
            "| {tool} | {ready:.2} | {:.2} | {rss:.0} |",
            visible / 1000.0
        ));
    }
    let text = format!(
        "Dashboards of one Flow dataset (50,000 audit events, 200 flows, 50 users, states), release build, \
         headless Chromium on this machine; memory is the resident set of the server's processes once \
         the page shows the tables.\n\n{}\n",
        table.join("\n")
    );
    eprintln!("\n{text}");
    std::fs::write(work.join("results.md"), &text)?;
    Ok(())
}
