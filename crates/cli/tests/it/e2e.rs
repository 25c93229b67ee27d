//! The real `bdi` binary against a sandbox started in the test: what a user types, end to end.
//! Waits poll every few milliseconds (`BDI_POLL_INTERVAL_MS`); the sandbox advances by polls.

use std::path::Path;
use std::process::Command;

use bdi_sandbox::demo;
use bdi_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

/// A sandbox served by its own runtime while the test thread runs the binary.
struct Served {
    rt: tokio::runtime::Runtime,
    sandbox: Option<Sandbox>,
    /// The run limits of this sandbox's `bdi` processes (never the user's own state).
    state: tempfile::TempDir,
}

impl Served {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the sandbox");
        let sandbox = rt
            .block_on(Sandbox::start(SandboxConfig::default()))
            .expect("the sandbox starts");
        Self {
            rt,
            sandbox: Some(sandbox),
            state: tempfile::tempdir().expect("a state directory"),
        }
    }

    fn bdi(&self, args: &[&str]) -> Outcome {
        run(self.command(), args)
    }

    /// `bdi` configured for the sandbox through the `DATA_INTEGRATION_*` variables.
    fn command(&self) -> Command {
        let sb = self.sandbox.as_ref().expect("running until dropped");
        let cfg = sb.config();
        let mut cmd = base_command();
        cmd.env("DATA_INTEGRATION_API_URL", sb.base_url())
            .env("DATA_INTEGRATION_API_TOKEN", &cfg.token)
            .env("DATA_INTEGRATION_ACCOUNT_ID", &cfg.account_id)
            .env("DATA_INTEGRATION_ENVIRONMENT_ID", &cfg.environment_id)
            .env("BDI_STATE_DIR", self.state.path());
        cmd
    }

    fn control(&self) -> bdi_sandbox::Control {
        self.sandbox
            .as_ref()
            .expect("running until dropped")
            .control()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            self.rt.block_on(sb.shutdown());
        }
    }
}

fn base_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bdi"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("DATA_INTEGRATION_") || k.starts_with("BDI_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("BDI_CONFIG", "/nonexistent/bdi-config.toml")
        .env("BDI_POLL_INTERVAL_MS", "5")
        .env("NO_COLOR", "1");
    cmd
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

fn run(mut cmd: Command, args: &[&str]) -> Outcome {
    let out = cmd.args(args).output().expect("the bdi binary runs");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn list_and_inspect_the_demo_account() {
    let s = Served::start();
    let flows = s.bdi(&["flows", "list", "-o", "json"]).ok().json();
    let ids: Vec<&str> = flows
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["river_cross_id"].as_str())
        .collect();
    assert!(ids.contains(&demo::ORDERS_FLOW_ID), "{ids:?}");
    let table = s.bdi(&["flows", "list"]).ok();
    assert!(table.stdout.starts_with("ID "), "{}", table.stdout);
    let conns = s.bdi(&["connections", "list", "-o", "json"]).ok().json();
    assert_eq!(
        conns.as_array().unwrap().len(),
        demo::DEMO_CONNECTION_COUNT,
        "every page is swept"
    );
    let envs = s.bdi(&["environments", "list"]).ok();
    assert!(
        envs.stdout.contains(demo::SECOND_ENVIRONMENT_ID),
        "{}",
        envs.stdout
    );
    let got = s.bdi(&["flows", "get", demo::ORDERS_FLOW_ID]).ok();
    assert!(
        got.stdout.contains("tables:") && got.stdout.contains("sales.orders"),
        "{}",
        got.stdout
    );
    let logs = s
        .bdi(&[
            "runs",
            "logs",
            demo::ORDERS_FLOW_ID,
            demo::ORDERS_FAILED_RUN_ID,
            "--errors-only",
        ])
        .ok();
    assert!(logs.stdout.contains("ERROR"), "{}", logs.stdout);
}

#[test]
fn create_select_tables_activate_run_and_read_the_logs() {
    let s = Served::start();
    let created = s
        .bdi(&[
            "flows",
            "create",
            "-o",
            "json",
            "--name",
            "e2e orders",
            "--source",
            "mysql",
            "--source-connection",
            demo::MYSQL_CONNECTION_ID,
            "--target",
            "snowflake",
            "--target-connection",
            demo::SNOWFLAKE_CONNECTION_ID,
            "--target-settings",
            r#"{"database_name":"ANALYTICS","schema_name":"PUBLIC"}"#,
        ])
        .ok();
    let id = created.json()["cross_id"].as_str().unwrap().to_owned();
    assert!(
        created
            .stderr
            .contains(&format!("bdi flows tables set {id}")),
        "{}",
        created.stderr
    );

    let tables = s
        .bdi(&[
            "flows",
            "tables",
            "set",
            &id,
            "sales.orders",
            "sales.customers",
        ])
        .ok();
    assert!(
        tables.stdout.contains("sales   orders") || tables.stdout.contains("orders"),
        "{}",
        tables.stdout
    );

    let activated = s
        .bdi(&["flows", "activate", &id, "--wait", "-o", "json"])
        .ok();
    assert_eq!(activated.json()["done"], true, "{}", activated.stdout);

    let ran = s.bdi(&["flows", "run", &id, "--wait", "-o", "json"]).ok();
    let ran = ran.json();
    assert_eq!(ran["finished"], true);
    assert!(
        ran["status"].as_str().unwrap().contains("succeeded"),
        "{ran}"
    );
    let run_id = ran["run_id"]
        .as_str()
        .or(ran["run_group_id"].as_str())
        .unwrap()
        .to_owned();

    let logs = s.bdi(&["runs", "logs", &id, &run_id]).ok();
    assert!(logs.stdout.lines().count() > 1, "{}", logs.stdout);
    let listed = s
        .bdi(&["runs", "list", &id, "--since", "1h", "-o", "json"])
        .ok();
    assert!(
        !listed.json().as_array().unwrap().is_empty(),
        "{}\n{}",
        listed.stdout,
        listed.stderr
    );
}

#[test]
fn a_failed_run_exits_with_code_4() {
    let s = Served::start();
    let created = s
        .bdi(&[
            "flows",
            "create",
            "-o",
            "json",
            "--name",
            "e2e broken",
            "--source",
            "mysql",
            "--source-connection",
            demo::MYSQL_CONNECTION_ID,
            "--target",
            "snowflake",
            "--target-connection",
            demo::SNOWFLAKE_CONNECTION_ID,
            "--target-settings",
            r#"{"database_name":"ANALYTICS","schema_name":"PUBLIC"}"#,
        ])
        .ok();
    let id = created.json()["cross_id"].as_str().unwrap().to_owned();
    let id = id.as_str();
    s.bdi(&[
        "flows",
        "tables",
        "set",
        id,
        &format!("sales.{}", demo::BROKEN_TABLE),
    ])
    .ok();
    s.bdi(&["flows", "activate", id, "--wait"]).ok();
    let ran = s.bdi(&["flows", "run", id, "--wait"]);
    assert_eq!(
        ran.code, 4,
        "stdout: {}\nstderr: {}",
        ran.stdout, ran.stderr
    );
    assert!(
        ran.stderr.contains("error: run ")
            && ran
                .stderr
                .contains("hint: read the failure with `bdi runs logs"),
        "{}",
        ran.stderr
    );
}

#[test]
fn an_activation_ending_in_error_exits_with_code_4() {
    let s = Served::start();
    let out = s.bdi(&["flows", "activate", demo::UNREACHABLE_FLOW_ID, "--wait"]);
    assert_eq!(
        out.code, 4,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains("activation of data flow"),
        "{}",
        out.stderr
    );
}

#[test]
fn export_then_apply_round_trips() {
    let s = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orders.yaml");
    let f = file.to_str().unwrap();
    s.bdi(&["flows", "export", demo::ORDERS_FLOW_ID, "--to", f])
        .ok();
    let text = std::fs::read_to_string(&file).unwrap();
    for server_field in [
        "cross_id",
        "account_id",
        "environment_name",
        "group_name",
        "created_at",
        "river_status",
    ] {
        assert!(!text.contains(server_field), "{server_field} in:\n{text}");
    }

    let same = s.bdi(&["flows", "apply", "-f", f, "--dry-run"]).ok();
    assert!(same.stderr.contains("already matches"), "{}", same.stderr);

    edit_description(&file, "exported and applied by bdi");
    let dry = s.bdi(&["flows", "apply", "-f", f, "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("~ metadata.description:")
            || dry.stdout.contains("+ metadata.description:"),
        "{}",
        dry.stdout
    );
    let before = s
        .bdi(&["flows", "get", demo::ORDERS_FLOW_ID, "-o", "json"])
        .ok()
        .json();
    assert_ne!(
        before["metadata"]["description"], "exported and applied by bdi",
        "--dry-run changed nothing"
    );

    // The demo flow is active: apply reports the platform's refusal or updates it; either way the
    // error names the next step.
    let applied = s.bdi(&["flows", "apply", "-f", f]);
    if applied.code == 0 {
        let after = s
            .bdi(&["flows", "get", demo::ORDERS_FLOW_ID, "-o", "json"])
            .ok()
            .json();
        assert_eq!(
            after["metadata"]["description"],
            "exported and applied by bdi"
        );
        let again = s.bdi(&["flows", "apply", "-f", f]).ok();
        assert!(again.stderr.contains("already matches"), "{}", again.stderr);
    } else {
        assert!(applied.stderr.contains("hint:"), "{}", applied.stderr);
    }

    // A document whose name matches no data flow creates one.
    let new_file = dir.path().join("copy.json");
    let mut doc: Value = serde_norway::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    doc["name"] = Value::from("orders copy");
    std::fs::write(&new_file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let created = s
        .bdi(&[
            "flows",
            "apply",
            "-f",
            new_file.to_str().unwrap(),
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(created["action"], "created", "{created}");
}

fn edit_description(file: &Path, text: &str) {
    let text_before = std::fs::read_to_string(file).expect("the exported file is readable");
    let mut doc: Value = serde_norway::from_str(&text_before).expect("the export is YAML");
    doc["metadata"]["description"] = Value::from(text);
    let yaml = serde_norway::to_string(&doc).expect("a document encodes");
    std::fs::write(file, yaml).expect("the file is writable");
}

#[test]
fn sandbox_flag_needs_no_account() {
    let out = run(
        base_command(),
        &["--sandbox", "flows", "get", demo::ORDERS_FLOW_ID],
    )
    .ok();
    assert!(out.stdout.contains(demo::ORDERS_FLOW_ID), "{}", out.stdout);
    let none = run(base_command(), &["flows", "list"]);
    assert_eq!(none.code, 3, "{}", none.stderr);
    assert!(none.stderr.contains("--sandbox"), "{}", none.stderr);
}

/// Starts `n` `bdi flows run` processes at once, sharing one state directory, and waits for all.
fn run_concurrently(s: &Served, state: &Path, flow: &str, n: usize) -> Vec<Outcome> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            let mut cmd = s.command();
            cmd.env("BDI_STATE_DIR", state)
                .args(["flows", "run", flow])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("bdi starts")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("bdi ends");
            Outcome {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .collect()
}

#[test]
fn runs_from_many_processes_at_once_stay_within_the_flow_limit() {
    let s = Served::start();
    let state = tempfile::tempdir().unwrap();
    let path = format!("/rivers/{}/run", demo::ORDERS_FLOW_ID);

    let outcomes = run_concurrently(&s, state.path(), demo::ORDERS_FLOW_ID, 8);

    let started = outcomes.iter().filter(|o| o.code == 0).count();
    assert_eq!(started, 2, "two runs a minute per flow");
    for o in outcomes.iter().filter(|o| o.code != 0) {
        assert_eq!(o.code, 5, "throttled: {}", o.stderr);
        assert!(
            o.stderr.contains("(the limit is 2); next run allowed in"),
            "{}",
            o.stderr
        );
        assert!(o.stderr.contains("hint:"), "{}", o.stderr);
    }
    assert_eq!(
        s.control().request_count("POST", &path),
        2,
        "refused before any request"
    );
    let state_file = state.path().join("run-limits.json");
    assert!(
        state_file.exists(),
        "the limits are kept in the state directory"
    );
}

#[test]
fn a_run_the_platform_refuses_is_handed_back_at_once_and_not_repeated() {
    let s = Served::start();
    let path = format!("/rivers/{}/run", demo::ORDERS_FLOW_ID);
    // Another client (its own state) used the flow's two runs of the minute.
    let other = tempfile::tempdir().unwrap();
    let first = run_concurrently(&s, other.path(), demo::ORDERS_FLOW_ID, 2);
    assert!(first.iter().all(|o| o.code == 0));

    let mine = tempfile::tempdir().unwrap();
    let refused = run_concurrently(&s, mine.path(), demo::ORDERS_FLOW_ID, 1);

    assert_eq!(refused[0].code, 5, "{}", refused[0].stderr);
    assert!(
        refused[0].stderr.contains("2 times per minute"),
        "the platform's own message: {}",
        refused[0].stderr
    );
    assert_eq!(
        s.control().request_count("POST", &path),
        3,
        "the refused trigger was sent once, never retried"
    );
    // The refusal is remembered: the next attempt is refused before any request.
    let again = run_concurrently(&s, mine.path(), demo::ORDERS_FLOW_ID, 1);
    assert_eq!(again[0].code, 5);
    assert!(again[0].stderr.contains("(429)"), "{}", again[0].stderr);
    assert_eq!(s.control().request_count("POST", &path), 3);
}

/// `bdi load flow` for the sandbox's Boomi Flow API, audit events only, 50 a page.
fn load_audit(s: &Served, dest: &str) -> Command {
    let sb = s.sandbox.as_ref().expect("running until dropped");
    let flow = &sb.config().boomi_flow;
    let mut cmd = base_command();
    cmd.env("BOOMI_FLOW_API_URL", sb.boomi_flow_base_url())
        .env("BOOMI_FLOW_API_KEY", &flow.api_key)
        .env("BOOMI_FLOW_TENANT_ID", &flow.tenant_id)
        .args([
            "load",
            "flow",
            "--resources",
            "audit_search",
            "--page-size",
            "50",
        ])
        .args(["--destination", dest, "-o", "json"]);
    cmd
}

fn audit_rows(path: &Path) -> (i64, i64) {
    let db = bdi_load::destination::duckdb::DuckDb::open_read_only(path).expect("the file opens");
    let q = db
        .query(
            "boomi_flow_data",
            "SELECT count(*), count(DISTINCT id) FROM audit_search",
            &bdi_load::query::QueryLimits::TERMINAL,
        )
        .expect("the query runs");
    let n = |i: usize| q.rows[0][i].as_i64().expect("a count");
    (n(0), n(1))
}

#[test]
fn a_load_killed_midway_keeps_the_previous_one_and_the_next_loads_exactly_what_is_missing() {
    let s = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flow.duckdb");
    let dest = format!("duckdb:{}", file.display());
    let first = run(load_audit(&s, &dest), &[]).ok();
    assert_eq!(
        first.json()["resources"][0]["rows"].as_u64(),
        Some(200),
        "{}",
        first.stdout
    );

    // The source grows by 800 events; the third page of the next load keeps failing, so the
    // client is retrying it (the load half done) when the process is killed.
    let control = s.control();
    control.add_audit_events(800);
    control.fail_page("audit/1/search", 3, 503);
    let mut child = load_audit(&s, &dest)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let retried = s.rt.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(60),
            control.requests_reached("GET", "page=3", 2),
        )
        .await
    });
    assert!(retried.is_ok(), "the third page was asked twice");
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());

    assert_eq!(
        audit_rows(&file),
        (200, 200),
        "the killed load left nothing"
    );

    control.reset();
    let next = run(load_audit(&s, &dest), &[]).ok();
    assert_eq!(
        next.json()["resources"][0]["rows"].as_u64(),
        Some(800),
        "{}",
        next.stdout
    );
    assert_eq!(audit_rows(&file), (1000, 1000), "no duplicate, no gap");

    let again = run(load_audit(&s, &dest), &[]).ok();
    assert_eq!(
        again.json()["resources"][0]["rows"].as_u64(),
        Some(0),
        "nothing new: nothing loaded"
    );
}

#[test]
fn a_database_file_held_by_another_process_is_named_and_left_alone() {
    let s = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("held.duckdb");
    let held = bdi_load::destination::duckdb::DuckDb::open(&file).unwrap();
    let mut cmd = load_audit(&s, &format!("duckdb:{}", file.display()));
    cmd.env("BDI_DUCKDB_LOCK_WAIT_MS", "300");
    let out = run(cmd, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("is held by another process; waiting up to 0 s"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("in use by another process"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("held.duckdb"), "{}", out.stderr);
    drop(held);
}

#[test]
fn a_load_waits_for_a_file_a_reader_holds_then_loads() {
    use std::io::BufRead;

    let s = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("read.duckdb");
    drop(bdi_load::destination::duckdb::DuckDb::open(&file).unwrap());
    // This process reads the file (as a dashboard page or a query does): DuckDB locks it
    // against a writer in another process.
    let reader = bdi_load::destination::duckdb::DuckDb::open_read_only(&file).unwrap();
    let mut cmd = load_audit(&s, &format!("duckdb:{}", file.display()));
    let mut child = cmd
        .env("BDI_DUCKDB_LOCK_WAIT_MS", "120000")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The load says it waits; then the reader is done, and the load goes on.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("is held by another process") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the load ended without waiting"
        );
    }
    assert!(
        line.contains("read.duckdb") && line.contains("waiting up to 120 s"),
        "{line}"
    );
    drop(reader);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let (rows, distinct) = audit_rows(&file);
    assert!(rows > 0 && rows == distinct, "{rows} rows, {distinct} ids");
}

/// `GET path` on a dashboard with `Host: host`: the status line and the body.
fn http_get(addr: &str, path: &str, host: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("the dashboard listens");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .expect("the answer is read");
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn the_dashboard_serves_a_loaded_dataset_on_loopback_opens_the_browser_and_stops_on_ctrl_c() {
    use std::io::BufRead;
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("flow.duckdb").display());
    run(
        base_command(),
        &["--sandbox", "load", "flow", "--destination", &dest],
    )
    .ok();

    // A browser that notes what it was asked to open, in a pipe: the first `xdg-open` on PATH.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let opened = dir.path().join("opened");
    assert!(
        Command::new("mkfifo")
            .arg(&opened)
            .status()
            .unwrap()
            .success()
    );
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" > {}\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut child = base_command()
        .args(["load", "show", "--destination", &dest, "--open"])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "loopback only: {url}");
    assert!(line.contains("flow.duckdb"), "{line}");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    let (status, body) = http_get(&addr, "/", &addr);
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("<h1>Overview</h1>"), "{body}");
    let (status, _) = http_get(&addr, "/charts", &format!("localhost:{}", &addr[10..]));
    assert!(status.contains("200"), "{status}");
    let (status, body) = http_get(&addr, "/", "rebound.example");
    assert!(
        status.contains("421"),
        "another host name is refused: {status}"
    );
    assert!(body.contains(&url), "{body}");

    // The browser was asked to open the URL: reading the pipe waits for its note.
    let asked = std::fs::read_to_string(&opened).unwrap();
    assert_eq!(asked.trim(), url, "xdg-open was asked for the dashboard");

    // Ctrl-C stops it, cleanly.
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "the port is closed"
    );
}

#[test]
fn the_dashboard_of_a_missing_dataset_or_a_taken_port_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let none = format!("duckdb:{}", dir.path().join("none.duckdb").display());
    let out = run(base_command(), &["load", "show", "--destination", &none]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("hint: load Boomi Flow first (`bdi load flow`, or `bdi --sandbox load flow`"),
        "{}",
        out.stderr
    );
    let out = run(
        base_command(),
        &["load", "show", "--history", "--destination", &none],
    );
    assert!(
        out.stderr.contains("`bdi --sandbox load history`"),
        "{}",
        out.stderr
    );

    let dest = format!("duckdb:{}", dir.path().join("flow.duckdb").display());
    run(
        base_command(),
        &[
            "--sandbox",
            "load",
            "flow",
            "--resources",
            "flows",
            "--destination",
            &dest,
        ],
    )
    .ok();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(
        base_command(),
        &["load", "show", "--destination", &dest, "--port", &port],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: choose another port with --port"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_dashboard_of_the_sandbox_needs_no_load_and_leaves_nothing_after_sigterm() {
    use std::io::BufRead;

    let mut child = base_command()
        .args(["--sandbox", "load", "show", "--history"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "Dashboard of dataset data_integration in duckdb:/tmp/bdi-show-sandbox-PID/... at URL"
    let words: Vec<&str> = line.split_whitespace().collect();
    let file = words
        .iter()
        .find_map(|w| w.strip_prefix("duckdb:"))
        .unwrap_or_else(|| panic!("no file in {line:?}"));
    let scratch = Path::new(file).parent().unwrap().to_owned();
    assert!(scratch.exists());
    let url = words.iter().find(|w| w.starts_with("http://")).unwrap();
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let (status, body) = http_get(addr, "/charts", addr);
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("data-chart=\"runs_per_day\""), "{body}");

    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("the sandbox's demo data"), "{stderr}");
    assert!(!scratch.exists(), "the scratch file is removed at stop");

    let out = run(
        base_command(),
        &[
            "--sandbox",
            "load",
            "show",
            "--destination",
            "duckdb:x.duckdb",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("--sandbox shows the sandbox's demo data"),
        "{}",
        out.stderr
    );
}

/// The memory bound of the SQL surfaces, measured on the real `bdi`: the dashboard's SQL box and
/// CSV with three heavy queries at once (a result far larger than a page, rows of a megabyte, a
/// CSV of 500 MB cut at its limit), then `bdi load query` alone, each process sampled together
/// with the workers it starts: under 512 MB at every sample, and the overview answers meanwhile.
#[test]
fn heavy_queries_keep_the_dashboard_and_load_query_under_512_mb() {
    use std::io::BufRead;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heavy.duckdb");
    bdi_load::testing::duckdb_dataset(&path, "d");
    let dest = format!("duckdb:{}", path.display());
    let mut child = base_command()
        .args(["load", "show", "--destination", &dest, "--dataset", "d"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    let encode =
        |sql: &str| url::form_urlencoded::byte_serialize(sql.as_bytes()).collect::<String>();
    let peak = bdi_load::testing::PeakMemory::watch(child.id());
    std::thread::scope(|s| {
        let heavy: Vec<_> = [
            format!("/sql?q={}", encode("SELECT * FROM range(300000000)")),
            format!(
                "/sql?q={}",
                encode("SELECT repeat('y', 1000000) FROM range(5000)")
            ),
            format!(
                "/sql.csv?q={}",
                encode("SELECT repeat('z', 100000) FROM range(5000)")
            ),
        ]
        .into_iter()
        .map(|path| {
            let addr = addr.clone();
            s.spawn(move || http_get(&addr, &path, &addr))
        })
        .collect();
        let (status, body) = http_get(&addr, "/", &addr);
        assert!(status.contains("200"), "{status} {body}");
        for h in heavy {
            let (status, body) = h.join().unwrap();
            assert!(!status.is_empty() && !body.is_empty(), "{status}");
        }
    });
    let dashboard = peak.stop();
    let (status, _) = http_get(&addr, "/tables/runs", &addr);
    assert!(
        status.contains("200"),
        "the dashboard still answers: {status}"
    );
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    child.wait().unwrap();

    let query = base_command()
        .args([
            "load",
            "query",
            "SELECT repeat('y', 1000000) AS y FROM range(5000)",
            "--destination",
            &dest,
            "--dataset",
            "d",
            "-o",
            "csv",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let peak = bdi_load::testing::PeakMemory::watch(query.id());
    let mut query = query;
    query.wait().unwrap();
    let cli = peak.stop();
    for (what, peak) in [("bdi load show", dashboard), ("bdi load query", cli)] {
        assert!(
            peak < 512 * 1024 * 1024,
            "{what} and its workers peaked at {} MB",
            peak / (1024 * 1024)
        );
    }
}

/// Two, then four `bdi load flow` processes at once into one DuckDB file: the file has one
/// writer, the others wait for it (a note says so), and each reads the state the one before it
/// committed: every load ends well and no row is stored twice.
#[test]
fn loads_at_once_into_one_duckdb_file_never_store_a_row_twice() {
    for n in [2, 4] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flow.duckdb");
        let dest = format!("duckdb:{}", path.display());
        let loads: Vec<_> = (0..n)
            .map(|_| {
                let mut cmd = base_command();
                cmd.args([
                    "--sandbox",
                    "load",
                    "flow",
                    "--resources",
                    "audit_search,flows",
                    "--destination",
                    &dest,
                ])
                .env("BDI_LOAD_LOCK_WAIT_MS", "120000")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for load in loads {
            let out = load.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let counts = run(
            base_command(),
            &[
                "load",
                "query",
                "SELECT (SELECT count(*) FROM audit_search) AS a, (SELECT count(DISTINCT id) FROM audit_search) AS b, \
                 (SELECT count(*) FROM flows) AS c, (SELECT count(DISTINCT id__id) FROM flows) AS d, \
                 (SELECT count(*) FROM _dlt_loads) AS loads",
                "--destination",
                &dest,
                "-o",
                "csv",
            ],
        )
        .ok();
        let line = counts.stdout.lines().nth(1).unwrap().to_owned();
        let v: Vec<u64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        assert_eq!(v[0], v[1], "{n} loads: {line}");
        assert_eq!(v[2], v[3], "{n} loads: {line}");
        assert_eq!(
            v[0],
            bdi_sandbox::boomi_flow::demo::DEFAULT_AUDIT_EVENTS,
            "{n} loads: {line}"
        );
        assert_eq!(v[4], n, "every load committed: {line}");
    }
}

/// `BDI_LOG` turns `bdi`'s logs on (stderr), as in `bdi-mcp`; no key reaches them.
#[test]
fn bdi_log_shows_the_requests_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("duckdb:{}", dir.path().join("log.duckdb").display());
    let mut cmd = base_command();
    cmd.env("BDI_LOG", "debug");
    let out = run(
        cmd,
        &[
            "--sandbox",
            "load",
            "flow",
            "--resources",
            "flows",
            "--destination",
            &dest,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("Boomi Flow request"), "{}", out.stderr);
    assert!(
        !out.stderr
            .contains(bdi_sandbox::boomi_flow::demo::BOOMI_FLOW_API_KEY),
        "{}",
        out.stderr
    );
    let quiet = run(
        base_command(),
        &[
            "--sandbox",
            "load",
            "flow",
            "--resources",
            "flows",
            "--destination",
            &dest,
        ],
    );
    assert!(!quiet.stderr.contains("flow request"), "{}", quiet.stderr);
}

/// `bdi flows pull` then `bdi flows plan` in environment `env` (None: the default one).
fn in_env(s: &Served, env: Option<&str>, args: &[&str]) -> Outcome {
    let mut cmd = s.command();
    if let Some(env) = env {
        cmd.env("DATA_INTEGRATION_ENVIRONMENT_ID", env);
    }
    run(cmd, args)
}

#[test]
fn a_pulled_environment_plans_no_change_and_shows_drift_and_renames() {
    let s = Served::start();
    for env in [None, Some(demo::SECOND_ENVIRONMENT_ID)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let pulled = in_env(&s, env, &["flows", "pull", "--dir", d, "-o", "json"]).ok();
        let flows = pulled.json()["flows"].as_array().unwrap().clone();
        assert!(!flows.is_empty(), "{env:?}: {}", pulled.stderr);
        let identity = std::fs::read_to_string(dir.path().join("bdi-identity.yaml")).unwrap();
        for f in &flows {
            let file = f["file"].as_str().unwrap();
            assert!(dir.path().join(file).exists(), "{file}");
            assert!(identity.contains(f["id"].as_str().unwrap()), "{identity}");
        }

        // Pulled, then planned: nothing to do, for every data flow.
        let plan = in_env(&s, env, &["flows", "plan", "--dir", d, "-o", "json"]);
        assert_eq!(plan.code, 0, "{env:?}: {}\n{}", plan.stdout, plan.stderr);
        let planned = plan.json();
        assert_eq!(planned["changes"], serde_json::json!([]), "{env:?}");
        let pulled = pulled.json();
        let everything = flows.len() as u64
            + pulled["connections"].as_u64().unwrap()
            + pulled["variables"].as_u64().unwrap();
        assert_eq!(planned["unchanged"].as_u64(), Some(everything));
        assert!(pulled["connections"].as_u64().unwrap() >= 2, "{pulled}");

        // The connections are documents without their secrets, each secret named with the
        // environment variable an apply reads it from.
        let secrets = pulled["secrets"].as_array().unwrap();
        assert!(!secrets.is_empty(), "{pulled}");
        for secret in secrets {
            let text =
                std::fs::read_to_string(dir.path().join(secret["file"].as_str().unwrap())).unwrap();
            assert!(text.contains(secret["env"].as_str().unwrap()), "{text}");
            assert!(!text.contains("sandbox-secret"), "{text}");
        }
        let variables = std::fs::read_to_string(dir.path().join("variables.yaml")).unwrap();
        assert!(variables.contains("days_ago:"), "{variables}");

        // A change made upstream (the console) is drift, naming the field. The description is
        // set and pulled first, so the document names it.
        let first = &flows[0];
        let id = first["id"].as_str().unwrap();
        let file = dir.path().join(first["file"].as_str().unwrap());
        let describe = |text: &str| {
            let patch = serde_json::json!({"metadata": {"description": text}}).to_string();
            in_env(&s, env, &["flows", "patch", id, &patch]).ok();
        };
        describe("as pulled");
        in_env(&s, env, &["flows", "pull", "--dir", d]).ok();
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .contains("as pulled")
        );
        let plan = in_env(&s, env, &["flows", "plan", "--dir", d]);
        assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
        describe("changed in the console");
        let plan = in_env(&s, env, &["flows", "plan", "--dir", d, "-o", "json"]);
        assert_eq!(plan.code, 7, "{}\n{}", plan.stdout, plan.stderr);
        let change = &plan.json()["changes"][0];
        assert_eq!(change["action"], "update");
        assert_eq!(change["id"], id);
        assert_eq!(change["fields"][0]["path"], "metadata.description");
        assert_eq!(change["fields"][0]["before"], "changed in the console");
        assert_eq!(change["fields"][0]["after"], "as pulled");

        // Pulled again: the file stays where it is, and takes the change.
        in_env(&s, env, &["flows", "pull", "--dir", d]).ok();
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .contains("changed in the console")
        );
        let plan = in_env(&s, env, &["flows", "plan", "--dir", d]);
        assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);

        // A rename in the file renames the flow it is, by its id.
        let name = first["name"].as_str().unwrap();
        let renamed = std::fs::read_to_string(&file).unwrap().replacen(
            &format!("name: {name}"),
            "name: renamed in git",
            1,
        );
        std::fs::write(&file, renamed).unwrap();
        let plan = in_env(&s, env, &["flows", "plan", "--dir", d, "-o", "json"]);
        assert_eq!(plan.code, 7, "{}\n{}", plan.stdout, plan.stderr);
        let change = &plan.json()["changes"][0];
        assert_eq!(change["action"], "rename", "{change}");
        assert_eq!(change["id"], id);
        assert_eq!(change["name"], "renamed in git");
        let text = in_env(&s, env, &["flows", "plan", "--dir", d]);
        assert!(
            text.stdout
                .contains(&format!("~ rename renamed in git ({id})")),
            "{}",
            text.stdout
        );
        assert!(
            text.stderr
                .contains("0 to create, 0 to update, 1 to rename"),
            "{}",
            text.stderr
        );
    }
}

/// Replaces the first `from` in `file` with `to`.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("the document reads");
    assert!(text.contains(from), "{from:?} in {text}");
    std::fs::write(file, text.replacen(from, to, 1)).expect("the document writes");
}

#[test]
fn apply_carries_out_the_plan_and_a_second_plan_is_empty() {
    let s = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let pulled = s
        .bdi(&["flows", "pull", "--dir", d, "-o", "json"])
        .ok()
        .json();
    let first = pulled["flows"][0].clone();
    let id = first["id"].as_str().unwrap().to_owned();
    let file = dir.path().join(first["file"].as_str().unwrap());
    let name = first["name"].as_str().unwrap().to_owned();

    // A file edit, and a new document (a copy under another name).
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = if text.contains("description:") {
        text.replacen("description:", "description: edited in git #", 1)
    } else {
        text.replacen(
            &format!("name: {name}\n"),
            &format!("name: {name}\nmetadata:\n  description: edited in git\n"),
            1,
        )
    };
    std::fs::write(&file, &edited).unwrap();
    let copy = dir.path().join("flows/a-copy.yaml");
    std::fs::write(
        &copy,
        edited.replacen(&format!("name: {name}"), "name: a copy made in git", 1),
    )
    .unwrap();
    let plan = s.bdi(&["flows", "plan", "--dir", d]);
    assert_eq!(plan.code, 7, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("1 to create, 1 to update"),
        "{}",
        plan.stderr
    );

    // No terminal to confirm on: refused, nothing sent.
    let refused = s.bdi(&["flows", "apply", "--dir", d]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(
        s.bdi(&["flows", "plan", "--dir", d]).code,
        7,
        "nothing was applied"
    );

    let applied = s
        .bdi(&["flows", "apply", "--dir", d, "--yes", "-o", "json"])
        .ok();
    let done = applied.json();
    assert_eq!(done["applied"].as_array().unwrap().len(), 2, "{done}");
    let identity = std::fs::read_to_string(dir.path().join("bdi-identity.yaml")).unwrap();
    assert!(
        identity.contains("flows/a-copy.yaml"),
        "the created flow is recorded: {identity}"
    );
    let flow = s.bdi(&["flows", "get", &id, "-o", "json"]).ok().json();
    assert!(
        flow.to_string().contains("edited in git"),
        "the edit is upstream: {flow}"
    );

    // A second plan shows nothing to do, the created flow included.
    let plan = s.bdi(&["flows", "plan", "--dir", d, "-o", "json"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert_eq!(plan.json()["changes"], serde_json::json!([]));
    // And applying again changes nothing.
    let again = s.bdi(&["flows", "apply", "--dir", d, "--yes"]).ok();
    assert!(again.stderr.contains("already matches"), "{}", again.stderr);
}

#[test]
fn two_applies_at_once_on_one_flow_lose_neither_change() {
    let s = Served::start();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (da, db) = (a.path().to_str().unwrap(), b.path().to_str().unwrap());
    let pulled = s
        .bdi(&["flows", "pull", "--dir", da, "-o", "json"])
        .ok()
        .json();
    s.bdi(&["flows", "pull", "--dir", db]).ok();
    let first = &pulled["flows"][0];
    let id = first["id"].as_str().unwrap();
    let name = first["name"].as_str().unwrap();
    let file = first["file"].as_str().unwrap();
    // One renames the flow, the other sets its run timeout.
    edit(
        &a.path().join(file),
        &format!("name: {name}"),
        "name: renamed by a",
    );
    let doc = std::fs::read_to_string(b.path().join(file)).unwrap();
    let with_settings = if doc.contains("settings:") {
        doc.replacen("settings:", "settings:\n  run_timeout_seconds: 4321", 1)
    } else {
        format!("{doc}settings:\n  run_timeout_seconds: 4321\n")
    };
    std::fs::write(b.path().join(file), with_settings).unwrap();
    let children: Vec<_> = [da, db]
        .iter()
        .map(|d| {
            let mut cmd = s.command();
            cmd.args(["flows", "apply", "--dir", d, "--yes"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("bdi starts")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let flow = s.bdi(&["flows", "get", id, "-o", "json"]).ok().json();
    let text = flow.to_string();
    assert!(text.contains("renamed by a"), "a's rename is kept: {text}");
    assert!(text.contains("4321"), "b's timeout is kept: {text}");
}

#[test]
fn bad_documents_are_refused_with_every_problem_before_any_write() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    s.bdi(&["flows", "pull", "--dir", d]).ok();
    let flows = dir.path().join("flows");
    std::fs::write(
        flows.join("zz-bad.yaml"),
        "name: bad one\ntype: source_to_target\ndescription: top level\nproperties:\n  source:\n    connection_id: 64b0c0a1e4b0a1c2d3e4f5ff\n",
    )
    .expect("writes");
    std::fs::write(flows.join("zz-worse.yaml"), "name: bad one\ntype: 3\n").expect("writes");
    std::fs::write(
        flows.join("zz-vars.yaml"),
        "name: names a variable\ntype: logic\nproperties:\n  query: select {no_such_variable}\n",
    )
    .expect("writes");
    std::fs::write(
        dir.path().join("connections/zz-bad.yaml"),
        "name: bad connection\ntype: mysql\nparameters:\n  password: hunter2\n",
    )
    .expect("writes");
    let vars = dir.path().join("variables.yaml");
    let text = std::fs::read_to_string(&vars).expect("variables.yaml");
    std::fs::write(&vars, format!("{text}  bad.name: x\n")).expect("writes");
    let before = writes(&s);
    for args in [
        vec!["flows", "plan", "--dir", d],
        vec!["flows", "apply", "--dir", d, "--yes"],
    ] {
        let out = s.bdi(&args);
        assert_eq!(out.code, 2, "{}", out.stderr);
        for wanted in [
            "flows/zz-bad.yaml: description: unknown key (a description belongs in metadata.description)",
            "flows/zz-bad.yaml: properties.source.connection_id: the environment has no connection 64b0c0a1e4b0a1c2d3e4f5ff",
            "flows/zz-worse.yaml: type: must be a string, not a number",
            r#"flows/zz-worse.yaml: name: the name "bad one" is also the name in flows/zz-bad.yaml"#,
            "connections/zz-bad.yaml: parameters.password: looks like a secret: move it out of the file",
            "variables.yaml: variables.bad.name: a variable name holds letters, digits and _ only",
            "flows/zz-vars.yaml: properties.query: names the variable {no_such_variable}",
            "nothing was sent",
        ] {
            assert!(out.stderr.contains(wanted), "{wanted}\n{}", out.stderr);
        }
        assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    }
    assert_eq!(writes(&s), before, "the sandbox received no write");
    let listed = s.bdi(&["flows", "list", "-o", "json"]).ok().json();
    assert!(
        !listed.to_string().contains("bad one"),
        "nothing was created"
    );
}

#[test]
fn promote_maps_connections_by_name_refuses_a_missing_one_and_creates_once() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    in_env(
        &s,
        Some(demo::SECOND_ENVIRONMENT_ID),
        &["flows", "pull", "--dir", d],
    )
    .ok();
    let named = |name: &str| {
        let flows = s.bdi(&["flows", "list", "-o", "json"]).ok().json();
        flows
            .as_array()
            .expect("a list")
            .iter()
            .filter(|f| f["name"] == name)
            .cloned()
            .collect::<Vec<_>>()
    };
    let before = s.bdi(&["flows", "list", "-o", "json"]).ok().json();

    // Production has no "Staging MySQL": refused before any write, naming it.
    let refused = s.bdi(&[
        "flows",
        "promote",
        "--dir",
        d,
        "--to",
        "Production",
        "--yes",
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("properties.source.connection_id: the target environment has no connection named `Staging MySQL`"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        s.bdi(&["flows", "list", "-o", "json"]).ok().json(),
        before,
        "nothing was written"
    );

    // A mapping file names it; Snowflake maps by its name.
    let map = dir.path().join("map.yaml");
    std::fs::write(&map, "connections:\n  Staging MySQL: Orders MySQL\n").expect("writes");
    let m = map.to_str().expect("a UTF-8 path");
    for round in 0..2 {
        let out = s.bdi(&[
            "flows",
            "promote",
            "--dir",
            d,
            "--to",
            "Production",
            "--map",
            m,
            "--yes",
        ]);
        assert_eq!(out.code, 0, "round {round}: {}\n{}", out.stdout, out.stderr);
        if round == 1 {
            assert!(out.stderr.contains("already matches"), "{}", out.stderr);
        }
    }
    let promoted = named("Staging orders copy");
    assert_eq!(promoted.len(), 1, "one flow per document: {promoted:?}");
    let id = promoted[0]["river_cross_id"].as_str().expect("an id");
    let flow = s.bdi(&["flows", "get", id, "-o", "json"]).ok().json();
    let text = flow.to_string();
    assert!(
        text.contains(demo::MYSQL_CONNECTION_ID),
        "mapped by the file: {text}"
    );
    assert!(
        text.contains(demo::SNOWFLAKE_CONNECTION_ID),
        "mapped by name: {text}"
    );
    let identity = std::fs::read_to_string(dir.path().join("bdi-identity.yaml")).expect("reads");
    assert!(
        identity.contains(id),
        "recorded under Production: {identity}"
    );
    // The source environment is untouched, and planning it still shows nothing to do.
    let plan = in_env(
        &s,
        Some(demo::SECOND_ENVIRONMENT_ID),
        &["flows", "plan", "--dir", d],
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

#[test]
fn the_plan_reads_well_as_text_and_as_json() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    in_env(
        &s,
        Some(demo::SECOND_ENVIRONMENT_ID),
        &["flows", "pull", "--dir", d],
    )
    .ok();
    let file = dir.path().join("flows/staging-orders-copy.yaml");
    edit(
        &file,
        "name: Staging orders copy",
        "name: Staging orders (renamed)",
    );
    std::fs::write(
        dir.path().join("flows/new-logic.yaml"),
        "name: new logic\ntype: logic\nproperties:\n  properties_type: logic\n  logic_steps:\n  - step: 1\n",
    )
    .expect("writes");
    // A variable and a connection changed in git too; the secret variable's value never shows.
    let vars = dir.path().join("variables.yaml");
    let text = std::fs::read_to_string(&vars).expect("variables.yaml");
    std::fs::write(
        &vars,
        text.replace("days_ago: '7'", "days_ago: '8'\n  new_schema: STAGING_2"),
    )
    .expect("writes");
    edit(
        &dir.path().join("connections/warehouse-snowflake.yaml"),
        "database: demo_database",
        "database: STAGING_DW",
    );
    let text = in_env(
        &s,
        Some(demo::SECOND_ENVIRONMENT_ID),
        &["flows", "plan", "--dir", d],
    );
    let json = in_env(
        &s,
        Some(demo::SECOND_ENVIRONMENT_ID),
        &["flows", "plan", "--dir", d, "-o", "json"],
    );
    assert_eq!((text.code, json.code), (7, 7), "{}", text.stderr);
    insta::assert_snapshot!(
        format!("{}----- stderr -----\n{}", text.stdout, text.stderr),
        @r#"
    ~ update variable days_ago [variables.yaml]
        value: "7" -> "8"
    + create variable new_schema [variables.yaml]
        value: (none) -> "STAGING_2"
    ~ update connection Warehouse Snowflake (64b0c0a1e4b0a1c2d3e4f5a2) [connections/warehouse-snowflake.yaml]
        parameters.database: "demo_database" -> "STAGING_DW"
    + create new logic [flows/new-logic.yaml]
        name: (none) -> "new logic"
        type: (none) -> "logic"
        properties: (none) -> {"properties_type":"logic","logic_steps":[{"step":1}]}
    ~ rename Staging orders (renamed) (65c1d2e3f4a5b6c7d8e9f008) [flows/staging-orders-copy.yaml]
        name: "Staging orders copy" -> "Staging orders (renamed)"
    ----- stderr -----
    2 to create, 2 to update, 1 to rename, 0 to delete, 0 upstream only, 2 unchanged
    "#
    );
    insta::assert_json_snapshot!(json.json(), @r#"
    {
      "environment": {
        "id": "6a7b8c9d0e1f2a3b4c5d6e80",
        "name": "Staging"
      },
      "changes": [
        {
          "resource": "variable",
          "action": "update",
          "name": "days_ago",
          "id": null,
          "file": "variables.yaml",
          "fields": [
            {
              "path": "value",
              "before": "7",
              "after": "8"
            }
          ]
        },
        {
          "resource": "variable",
          "action": "create",
          "name": "new_schema",
          "id": null,
          "file": "variables.yaml",
          "fields": [
            {
              "path": "value",
              "before": null,
              "after": "STAGING_2"
            }
          ]
        },
        {
          "resource": "connection",
          "action": "update",
          "name": "Warehouse Snowflake",
          "id": "64b0c0a1e4b0a1c2d3e4f5a2",
          "file": "connections/warehouse-snowflake.yaml",
          "fields": [
            {
              "path": "parameters.database",
              "before": "demo_database",
              "after": "STAGING_DW"
            }
          ]
        },
        {
          "resource": "data_flow",
          "action": "create",
          "name": "new logic",
          "id": null,
          "file": "flows/new-logic.yaml",
          "fields": [
            {
              "path": "name",
              "before": null,
              "after": "new logic"
            },
            {
              "path": "type",
              "before": null,
              "after": "logic"
            },
            {
              "path": "properties",
              "before": null,
              "after": {
                "properties_type": "logic",
                "logic_steps": [
                  {
                    "step": 1
                  }
                ]
              }
            }
          ]
        },
        {
          "resource": "data_flow",
          "action": "rename",
          "name": "Staging orders (renamed)",
          "id": "65c1d2e3f4a5b6c7d8e9f008",
          "file": "flows/staging-orders-copy.yaml",
          "fields": [
            {
              "path": "name",
              "before": "Staging orders copy",
              "after": "Staging orders (renamed)"
            }
          ]
        }
      ],
      "upstream_only": [],
      "unchanged": 2
    }
    "#);
    // The record names the environment the flows are in.
    let identity = std::fs::read_to_string(dir.path().join("bdi-identity.yaml")).expect("reads");
    assert!(
        identity.contains(&format!("pulled_from: {}", demo::SECOND_ENVIRONMENT_ID))
            && identity.contains("name: Staging")
            && !identity.contains("Production"),
        "{identity}"
    );
}

/// The writes the sandbox received: every POST, PUT, PATCH and DELETE under the account.
fn writes(s: &Served) -> usize {
    let c = s.control();
    ["POST", "PUT", "PATCH", "DELETE"]
        .iter()
        .map(|m| c.request_count(m, "/v1/accounts/"))
        .sum()
}

#[test]
fn connections_and_variables_apply_with_their_secrets_from_the_environment() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    s.bdi(&["flows", "pull", "--dir", d]).ok();
    let mysql = dir.path().join("connections/orders-mysql.yaml");
    let text = std::fs::read_to_string(&mysql).expect("the data flows use Orders MySQL");
    assert!(
        text.contains("password:\n    env: BDI_SECRET_ORDERS_MYSQL_PASSWORD"),
        "{text}"
    );
    edit(&mysql, "database: demo_database", "database: orders_v2");
    std::fs::write(
        dir.path().join("connections/reporting-postgres.yaml"),
        "name: Reporting Postgres\ntype: postgres\nparameters:\n  host: reporting.internal\n  port: 5432\nsecrets:\n  password:\n    env: REPORTING_PG_PASSWORD\n",
    )
    .expect("writes");
    let vars = dir.path().join("variables.yaml");
    let text = std::fs::read_to_string(&vars).expect("variables.yaml");
    std::fs::write(
        &vars,
        text.replace(
            "days_ago: '1'",
            "days_ago: '2'\n  api_token:\n    env: API_TOKEN_VALUE",
        ),
    )
    .expect("writes");

    // Planning needs no secret but the value of a variable to create; applying needs every
    // secret it sends. Each missing one is named, and nothing is sent.
    let before = writes(&s);
    let refused = s.bdi(&["flows", "apply", "--dir", d, "--yes"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "variables.yaml: variables.api_token: set the environment variable API_TOKEN_VALUE"
        ),
        "{}",
        refused.stderr
    );
    let mut cmd = s.command();
    cmd.env("API_TOKEN_VALUE", "tok-3141");
    let refused = run(cmd, &["flows", "apply", "--dir", d, "--yes"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    for wanted in [
        "connections/orders-mysql.yaml: secrets.password: set the environment variable BDI_SECRET_ORDERS_MYSQL_PASSWORD",
        "connections/reporting-postgres.yaml: secrets.password: set the environment variable REPORTING_PG_PASSWORD",
    ] {
        assert!(
            refused.stderr.contains(wanted),
            "{wanted}\n{}",
            refused.stderr
        );
    }
    assert_eq!(writes(&s), before, "nothing was sent");

    let with_secrets = || {
        let mut cmd = s.command();
        cmd.env("API_TOKEN_VALUE", "tok-3141")
            .env("BDI_SECRET_ORDERS_MYSQL_PASSWORD", "my-pw-2718")
            .env("REPORTING_PG_PASSWORD", "pg-pw-1618");
        cmd
    };
    let plan = run(with_secrets(), &["flows", "plan", "--dir", d]);
    assert_eq!(plan.code, 7, "{}", plan.stderr);
    for wanted in [
        "~ update variable days_ago [variables.yaml]\n    value: \"1\" -> \"2\"",
        "+ create variable api_token [variables.yaml]\n    value: (none) -> \"(from API_TOKEN_VALUE)\"",
        "parameters.database: \"demo_database\" -> \"orders_v2\"",
        "+ create connection Reporting Postgres [connections/reporting-postgres.yaml]",
    ] {
        assert!(plan.stdout.contains(wanted), "{wanted}\n{}", plan.stdout);
    }
    let applied = run(
        with_secrets(),
        &["flows", "apply", "--dir", d, "--yes", "-o", "json"],
    );
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    for out in [&plan.stdout, &plan.stderr, &applied.stdout, &applied.stderr] {
        for secret in ["tok-3141", "my-pw-2718", "pg-pw-1618"] {
            assert!(!out.contains(secret), "a secret is never shown: {out}");
        }
    }
    let plan = run(with_secrets(), &["flows", "plan", "--dir", d]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    // Without the secrets, planning still works: a secret is never compared.
    let mut cmd = s.command();
    cmd.env("API_TOKEN_VALUE", "tok-3141");
    assert_eq!(run(cmd, &["flows", "plan", "--dir", d]).code, 0);

    let variables = s.bdi(&["variables", "list", "-o", "json"]).ok().json();
    assert_eq!(variables["days_ago"], "2");
    assert_eq!(variables["api_token"], "tok-3141");
    let identity = std::fs::read_to_string(dir.path().join("bdi-identity.yaml")).expect("reads");
    let created = identity
        .lines()
        .find(|l| l.contains("connections/reporting-postgres.yaml"))
        .and_then(|l| l.split(": ").nth(1))
        .expect("the created connection is recorded")
        .to_owned();
    for id in [demo::MYSQL_CONNECTION_ID, created.as_str()] {
        let c = s.bdi(&["connections", "get", id, "-o", "json"]).ok().json();
        assert_eq!(c["password_exists"], true, "the secret was sent: {c}");
    }
    let c = s
        .bdi(&[
            "connections",
            "get",
            demo::MYSQL_CONNECTION_ID,
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(c["database"], "orders_v2");
}

#[test]
fn a_variable_no_environment_has_is_refused_and_promotion_maps_groups_by_name() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    in_env(
        &s,
        Some(demo::SECOND_ENVIRONMENT_ID),
        &["flows", "pull", "--dir", d],
    )
    .ok();
    let file = dir.path().join("flows/staging-orders-copy.yaml");
    edit(
        &file,
        "description: 'Demo data flow: Staging orders copy'",
        "description: 'last {days_ago} days into {target_schema}, run {run_id}, {not_a_variable_anywhere}'",
    );
    let before = writes(&s);
    let plan = in_env(
        &s,
        Some(demo::SECOND_ENVIRONMENT_ID),
        &["flows", "plan", "--dir", d],
    );
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(
        plan.stderr.contains("flows/staging-orders-copy.yaml: metadata.description: names the variable {not_a_variable_anywhere}, which the environment does not have"),
        "{}",
        plan.stderr
    );
    let map = dir.path().join("map.yaml");
    std::fs::write(&map, "connections:\n  Staging MySQL: Orders MySQL\n").expect("writes");
    let m = map.to_str().expect("a UTF-8 path");
    let promote = [
        "flows",
        "promote",
        "--dir",
        d,
        "--to",
        "Production",
        "--map",
        m,
        "--yes",
    ];
    let refused = s.bdi(&promote);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("names the variable {not_a_variable_anywhere}, which the target environment does not have"),
        "{}",
        refused.stderr
    );
    assert_eq!(writes(&s), before, "nothing was sent");

    // Named by both environments: promoted, its group mapped by name to Production's own.
    edit(&file, ", {not_a_variable_anywhere}", "");
    let out = s.bdi(&promote);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let flows = s.bdi(&["flows", "list", "-o", "json"]).ok().json();
    let promoted = flows
        .as_array()
        .expect("a list")
        .iter()
        .find(|f| f["name"] == "Staging orders copy")
        .expect("promoted")
        .clone();
    let id = promoted["river_cross_id"].as_str().expect("an id");
    let flow = s.bdi(&["flows", "get", id, "-o", "json"]).ok().json();
    assert_eq!(flow["group_id"], demo::DEFAULT_GROUP_ID, "{flow}");
    let identity = std::fs::read_to_string(dir.path().join("bdi-identity.yaml")).expect("reads");
    assert!(identity.contains("Default group:"), "{identity}");
}

#[test]
fn a_connection_document_of_every_demo_connection_type_plans_no_change() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    s.bdi(&["flows", "pull", "--dir", d]).ok();
    let listed = s.bdi(&["connections", "list", "-o", "json"]).ok().json();
    let pulled = std::fs::read_to_string(dir.path().join("bdi-identity.yaml")).expect("reads");
    let mut types = std::collections::BTreeMap::new();
    // Of each type, a connection the pull did not write already.
    for c in listed.as_array().expect("a list") {
        if pulled.contains(c["cross_id"].as_str().expect("an id")) {
            continue;
        }
        types
            .entry(c["connection_type_id"].as_str().expect("a slug").to_owned())
            .or_insert_with(|| c["cross_id"].as_str().expect("an id").to_owned());
    }
    // With the ones pulled, every type of the demo is covered.
    let written: String = std::fs::read_dir(dir.path().join("connections"))
        .expect("connections/")
        .map(|e| std::fs::read_to_string(e.expect("an entry").path()).expect("reads"))
        .collect();
    let every: std::collections::BTreeSet<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|c| c["connection_type_id"].as_str())
        .collect();
    assert_eq!(every.len(), 13, "{every:?}");
    for slug in every {
        assert!(
            types.contains_key(slug) || written.contains(&format!("type: {slug}\n")),
            "{slug}"
        );
    }
    // Each written as a pull writes a connection: what the platform shows, less what it manages,
    // its secrets named.
    let managed = [
        "cross_id",
        "_id",
        "account_id",
        "environment_id",
        "connection_name",
        "connection_type",
        "connection_type_id",
        "is_test_connection",
        "connection_update_by",
        "connection_update_time",
    ];
    for (slug, id) in &types {
        let c = s.bdi(&["connections", "get", id, "-o", "json"]).ok().json();
        let fields = c.as_object().expect("an object");
        let parameters: serde_json::Map<String, Value> = fields
            .iter()
            .filter(|(k, v)| {
                !managed.contains(&k.as_str()) && !k.ends_with("_exists") && !v.is_null()
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let secrets: serde_json::Map<String, Value> = fields
            .iter()
            .filter(|(k, v)| k.ends_with("_exists") && **v == Value::Bool(true))
            .map(|(k, _)| {
                let field = k.trim_end_matches("_exists");
                (
                    field.to_owned(),
                    serde_json::json!({"env": format!("SECRET_{}", field.to_uppercase())}),
                )
            })
            .collect();
        let doc = serde_json::json!({
            "name": c["connection_name"], "type": slug, "parameters": parameters, "secrets": secrets,
        });
        std::fs::write(
            dir.path().join(format!("connections/every-{slug}.yaml")),
            doc.to_string(),
        )
        .expect("writes");
    }
    let plan = s.bdi(&["flows", "plan", "--dir", d, "-o", "json"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert_eq!(plan.json()["changes"], serde_json::json!([]));
}

#[test]
fn a_token_that_may_not_read_variables_still_pulls_and_plans_the_data_flows() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    s.control().fail_next("GET", "/variables", 403, 2);
    let pulled = s.bdi(&["flows", "pull", "--dir", d]);
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert!(
        pulled.stderr.contains("scope variables:list"),
        "{}",
        pulled.stderr
    );
    assert!(!dir.path().join("variables.yaml").exists());
    let plan = s.bdi(&["flows", "plan", "--dir", d]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    // With variables.yaml there, a plan that cannot compare it says so.
    std::fs::write(
        dir.path().join("variables.yaml"),
        "variables:\n  days_ago: '1'\n",
    )
    .expect("writes");
    s.control().fail_next("GET", "/variables", 403, 1);
    let plan = s.bdi(&["flows", "plan", "--dir", d]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(
        plan.stderr
            .contains("variables.yaml: the token may not read the environment's variables"),
        "{}",
        plan.stderr
    );
}

#[test]
fn a_record_from_before_connection_documents_is_pulled_into_files() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    // Last release's record named connections by name.
    std::fs::write(
        dir.path().join("bdi-identity.yaml"),
        format!(
            "environments:\n  {}:\n    flows: {{}}\n    connections:\n      Orders MySQL: {}\n",
            bdi_sandbox::DEFAULT_ENVIRONMENT_ID,
            demo::MYSQL_CONNECTION_ID
        ),
    )
    .expect("writes");
    s.bdi(&["flows", "pull", "--dir", d]).ok();
    assert!(!dir.path().join("Orders MySQL").exists());
    let identity = std::fs::read_to_string(dir.path().join("bdi-identity.yaml")).expect("reads");
    assert!(
        identity.contains(&format!(
            "connections/orders-mysql.yaml: {}",
            demo::MYSQL_CONNECTION_ID
        )),
        "{identity}"
    );
    assert!(!identity.contains("Orders MySQL:"), "{identity}");
}

#[test]
fn documents_of_one_environment_are_never_applied_to_another_but_promoted() {
    let s = Served::start();
    let dir = tempfile::tempdir().expect("a directory");
    let d = dir.path().to_str().expect("a UTF-8 path");
    in_env(
        &s,
        Some(demo::SECOND_ENVIRONMENT_ID),
        &["flows", "pull", "--dir", d],
    )
    .ok();
    let before = writes(&s);
    // Production is the configured environment: Staging's documents are not its own.
    for args in [
        vec!["flows", "plan", "--dir", d],
        vec!["flows", "apply", "--dir", d, "--yes"],
    ] {
        let out = s.bdi(&args);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr
                .contains("holds the documents of environment Staging")
                && out.stderr.contains("bdi flows promote --dir")
                && out.stderr.contains("--to Production"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(writes(&s), before, "nothing was sent");
}
