//! Other people's SQL in a process of its own: the SQL surfaces (`query_history`, the
//! dashboard's SQL box and its CSV, `bdi load query`) run each query in a short-lived worker
//! process, so that a query that crashes the engine or runs away with memory costs that query,
//! never the server and its other clients.
//!
//! - **The worker** is the serving program itself, started again with [`WORKER_ENV`] set: its
//!   `main` calls [`serve_if_asked`] first, which reads one request on stdin, caps the process's
//!   memory (`RLIMIT_DATA`, and no core file), opens the dataset read-only for that one query
//!   ([`crate::destination::duckdb::DuckDb::open_for_queries`]: DuckDB's own memory limit, one
//!   thread, the configuration locked), runs it with rows streamed and cut at the limits, writes
//!   the answer on stdout and exits. A fresh process per query: nothing one query does (a temp
//!   table, a setting, a leak) is seen by the next.
//! - **[`SqlWorkers`]**, in the server, bounds how many run at once ([`SqlWorkers::SLOTS`]; a
//!   query waits for a slot within its own time limit), kills a worker that outlives the time
//!   limit (or a caller that goes away: the child is killed when the call is dropped), and turns
//!   a worker that died into [`QueryError::Stopped`], which names the signal.
//!
//! A test binary is a worker too when it holds a test named [`HARNESS_TEST`] that calls
//! [`serve_if_asked`]: workers are started with the arguments that select that test
//! ([`HARNESS_ARGS`]), which a real binary ignores because it answers before reading its
//! arguments.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::Semaphore;

use crate::location::Location;
use crate::query::{QueryError, QueryLimits, QueryResult, check_read_only};

/// Set in a worker's environment: a process started with it answers one query and exits.
pub const WORKER_ENV: &str = "BDI_SQL_WORKER";

/// The name of the test that makes a test binary a worker.
pub const HARNESS_TEST: &str = "bdi_sql_worker";

/// The arguments a worker is started with: they select [`HARNESS_TEST`] in a test binary, and a
/// real binary never reads them.
pub const HARNESS_ARGS: [&str; 5] = [
    HARNESS_TEST,
    "--exact",
    "--nocapture",
    "--test-threads=1",
    "-q",
];

/// What precedes the answer on the worker's stdout (a test binary prints its own lines too).
const MARK: &str = "bdi-sql-worker-answer ";

/// Time a worker gets beyond the query's own limit to start, open the dataset and answer.
const GRACE: Duration = Duration::from_secs(5);

/// The largest request a worker reads (the SQL and the location).
const MAX_REQUEST: u64 = 16 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Request {
    /// The dataset's location (with a PostgreSQL password, if any: it goes through a pipe only).
    location: Location,
    dataset: String,
    sql: String,
    max_rows: usize,
    max_bytes: usize,
    timeout_ms: u64,
    memory_mb: u64,
}

#[derive(Serialize, Deserialize)]
enum Answer {
    Rows(QueryResult),
    Error(QueryError),
}

/// In a process started as a worker (with [`WORKER_ENV`] set), answers the one query on stdin and
/// exits; anywhere else, returns at once. Call it first thing in `main`.
pub fn serve_if_asked() {
    if std::env::var_os(WORKER_ENV).is_none() {
        return;
    }
    let code = match serve() {
        Ok(()) => 0,
        Err(e) => {
            // The parent reads stdout only; this line is for a person running the worker by hand.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "bdi: the SQL worker could not answer: {e}"
            );
            3
        }
    };
    std::process::exit(code);
}

fn serve() -> std::io::Result<()> {
    use std::io::{Read as _, Write as _};
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_REQUEST)
        .read_to_end(&mut input)?;
    let request: Request = serde_json::from_slice(&input).map_err(std::io::Error::other)?;
    limit_memory(request.memory_mb)?;
    let answer = answer(&request);
    let mut out = std::io::stdout().lock();
    out.write_all(MARK.as_bytes())?;
    serde_json::to_writer(&mut out, &answer).map_err(std::io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Caps the worker's data memory (heap and private mappings: `RLIMIT_DATA`) at `mb`, and turns
/// core files off: a query that needs more fails, or ends the worker, but nothing else.
fn limit_memory(mb: u64) -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let bytes = mb.saturating_mul(1024 * 1024);
    let cap = |n| Rlimit {
        current: Some(n),
        maximum: Some(n),
    };
    setrlimit(Resource::Core, cap(0))?;
    setrlimit(Resource::Data, cap(bytes))?;
    Ok(())
}

fn answer(r: &Request) -> Answer {
    let limits = QueryLimits {
        max_rows: r.max_rows,
        max_bytes: r.max_bytes,
        timeout: Duration::from_millis(r.timeout_ms),
    };
    let outcome = match &r.location {
        #[cfg(feature = "duckdb")]
        Location::DuckDb(path) => crate::destination::duckdb::DuckDb::open_for_queries(
            path,
            &r.dataset,
            duckdb_memory(r.memory_mb),
        )
        .and_then(|db| db.run(&r.sql, &limits)),
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => crate::destination::postgres::Postgres::connect_reader(url)
            .and_then(|mut db| db.query(&r.dataset, &r.sql, &limits)),
        #[allow(
            unreachable_patterns,
            reason = "reached when a destination is not built in"
        )]
        other => Err(QueryError::Failed(format!(
            "this build of bdi has no {} destination",
            other.kind()
        ))),
    };
    match outcome {
        Ok(rows) => Answer::Rows(rows),
        Err(e) => Answer::Error(e),
    }
}

/// DuckDB's own limit inside a worker of `mb`: half of it, leaving the rest to the result being
/// built, the program and DuckDB's allocations outside its buffer manager.
#[cfg(feature = "duckdb")]
fn duckdb_memory(mb: u64) -> u64 {
    (mb / 2).max(16)
}

/// Runs queries in worker processes, a bounded number at once.
#[derive(Debug)]
pub struct SqlWorkers {
    slots: Semaphore,
    size: usize,
    memory_mb: u64,
}

impl Default for SqlWorkers {
    fn default() -> Self {
        Self::new(Self::SLOTS, Self::MEMORY_MB)
    }
}

impl SqlWorkers {
    /// Queries that run at once by default; more wait for a slot within their time limit.
    pub const SLOTS: usize = 2;
    /// The memory a worker may use by default (MB): DuckDB gets half for its buffers.
    pub const MEMORY_MB: u64 = 160;

    /// `slots` workers at most at once, each capped at `memory_mb`.
    pub fn new(slots: usize, memory_mb: u64) -> Self {
        Self {
            slots: Semaphore::new(slots.max(1)),
            size: slots.max(1),
            memory_mb,
        }
    }

    /// Runs one read-only query in `dataset` at `location` in a worker process, held to
    /// `limits`: refused by [`check_read_only`] before any process starts; [`QueryError::Busy`]
    /// when no slot frees within the time limit; [`QueryError::Stopped`] when the worker dies.
    pub async fn query(
        &self,
        location: &Location,
        dataset: &str,
        sql: &str,
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        check_read_only(sql).map_err(QueryError::Refused)?;
        let started = Instant::now();
        let _slot = tokio::time::timeout(limits.timeout, self.slots.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(QueryError::Busy(self.size))?;
        let left = limits.timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(QueryError::TimedOut(limits.timeout));
        }
        let request = Request {
            location: location.clone(),
            dataset: dataset.to_owned(),
            sql: sql.to_owned(),
            max_rows: limits.max_rows,
            max_bytes: limits.max_bytes,
            timeout_ms: u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
            memory_mb: self.memory_mb,
        };
        let body = serde_json::to_vec(&request)
            .map_err(|e| QueryError::Failed(format!("the query could not be sent: {e}")))?;
        // `/proc/self/exe` starts this very program even when its file was replaced or removed
        // since it started (an upgrade while a server runs).
        let program = match std::path::Path::new("/proc/self/exe") {
            p if p.exists() => p.to_owned(),
            _ => std::env::current_exe().map_err(|e| {
                QueryError::Failed(format!("the program that runs queries was not found: {e}"))
            })?,
        };
        let mut child = tokio::process::Command::new(program)
            .args(HARNESS_ARGS)
            .env(WORKER_ENV, "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                QueryError::Failed(format!("the process that runs queries did not start: {e}"))
            })?;
        // The answer holds at most `max_bytes` of rows as JSON, and a little around them.
        let cap = u64::try_from(limits.max_bytes)
            .unwrap_or(u64::MAX)
            .saturating_mul(2)
            .saturating_add(1024 * 1024);
        let exchange = async {
            let mut stdin = child.stdin.take().ok_or_else(piped)?;
            stdin.write_all(&body).await?;
            drop(stdin);
            let mut out = Vec::new();
            child
                .stdout
                .take()
                .ok_or_else(piped)?
                .take(cap)
                .read_to_end(&mut out)
                .await?;
            if out.len() as u64 >= cap {
                child.start_kill()?;
            }
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, out))
        };
        let (status, out) = match tokio::time::timeout(left + GRACE, exchange).await {
            Err(_) => {
                let _ = child.start_kill();
                return Err(QueryError::TimedOut(limits.timeout));
            }
            Ok(Err(e)) => {
                return Err(QueryError::Failed(format!(
                    "the process that runs queries could not be reached: {e}"
                )));
            }
            Ok(Ok(v)) => v,
        };
        match read_answer(&out) {
            Some(Answer::Rows(rows)) => Ok(rows),
            Some(Answer::Error(QueryError::TimedOut(_))) => {
                Err(QueryError::TimedOut(limits.timeout))
            }
            Some(Answer::Error(e)) => Err(e),
            None => Err(QueryError::Stopped(stopped(status, self.memory_mb))),
        }
    }
}

fn piped() -> std::io::Error {
    std::io::Error::other("a pipe to the worker is missing")
}

fn read_answer(out: &[u8]) -> Option<Answer> {
    let text = std::str::from_utf8(out).ok()?;
    let at = text.rfind(MARK)?;
    serde_json::from_str(text[at + MARK.len()..].lines().next()?).ok()
}

/// What a worker that gave no answer tells the caller.
fn stopped(status: std::process::ExitStatus, memory_mb: u64) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    let how = match (status.signal(), status.code()) {
        (Some(signal), _) => format!(
            "it ended on signal {signal}{}",
            match signal {
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                7 => " (SIGBUS)",
                _ => "",
            }
        ),
        (None, Some(code)) => format!("it exited with status {code} and no answer"),
        (None, None) => "it ended with no answer".to_owned(),
    };
    format!(
        "the query stopped the process that ran it ({how}): the engine failed on it, or it needed more than the {memory_mb} MB a query may use. Nothing else was affected; change the query (aggregate, filter, add LIMIT, or leave out the function that fails)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset() -> (tempfile::TempDir, Location) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.duckdb");
        crate::testing::duckdb_dataset(&path, "d");
        (dir, Location::DuckDb(path))
    }

    async fn count(workers: &SqlWorkers, location: &Location) -> serde_json::Value {
        let r = workers
            .query(
                location,
                "d",
                "SELECT count(*) AS n FROM runs",
                &QueryLimits::AGENT,
            )
            .await
            .unwrap();
        r.rows[0][0].clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_query_that_aborts_the_engine_costs_that_query_only() {
        let (_dir, location) = dataset();
        let workers = SqlWorkers::default();
        let crash = "SELECT CASE WHEN (SELECT count(*) FROM enable_logging(storage = 'file', \
                     storage_path = '/tmp/bdi-worker-test')) = 0 THEN error('boom') END";
        let e = workers
            .query(&location, "d", crash, &QueryLimits::AGENT)
            .await
            .expect_err("no rows from a query that fails the engine");
        assert!(
            matches!(e, QueryError::Stopped(_) | QueryError::Failed(_)),
            "{e:?}"
        );
        // This process, and the next query, are fine.
        assert_eq!(count(&workers, &location).await, 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn duckdb_decides_what_one_statement_is() {
        let (_dir, location) = dataset();
        let workers = SqlWorkers::default();
        for sql in [
            "SELECT 1 --\r; SET threads = 64; SELECT 1",
            "SELECT 1 --\r; CREATE TEMP TABLE t AS SELECT 1; SELECT * FROM t",
            "SELECT 1 --\r; CHECKPOINT; SELECT 2",
        ] {
            // The guard reads a comment to the end of the text ...
            assert_eq!(check_read_only(sql), Ok(()), "{sql:?}");
            // ... DuckDB's parser reads three statements, and nothing runs.
            let e = workers
                .query(&location, "d", sql, &QueryLimits::AGENT)
                .await
                .expect_err(sql);
            let QueryError::Refused(r) = e else {
                panic!("{sql:?}: {e:?}")
            };
            assert!(r.0.contains("one SELECT statement"), "{r}");
        }
        // A setting cannot be changed from inside a query either: the configuration is locked.
        let e = workers
            .query(
                &location,
                "d",
                "SELECT * FROM duckdb_settings() WHERE name = 'threads' AND value = '1'",
                &QueryLimits::AGENT,
            )
            .await;
        assert!(
            e.is_ok() || matches!(e, Err(QueryError::Failed(_))),
            "{e:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_callers_share_the_slots_and_all_get_answers() {
        let (_dir, location) = dataset();
        let workers = std::sync::Arc::new(SqlWorkers::new(2, SqlWorkers::MEMORY_MB));
        let calls = (0..6).map(|i| {
            let (workers, location) = (workers.clone(), location.clone());
            tokio::spawn(async move {
                let sql = if i % 2 == 0 {
                    "SELECT count(*) FROM range(200000000)".to_owned()
                } else {
                    "SELECT count(*) FROM runs".to_owned()
                };
                workers
                    .query(&location, "d", &sql, &QueryLimits::AGENT)
                    .await
            })
        });
        for call in futures::future::join_all(calls).await {
            let r = call.unwrap().unwrap();
            assert_eq!(r.rows.len(), 1);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_result_is_cut_without_being_built() {
        let (_dir, location) = dataset();
        let workers = SqlWorkers::default();
        let r = workers
            .query(
                &location,
                "d",
                "SELECT * FROM range(300000000)",
                &QueryLimits::AGENT,
            )
            .await
            .unwrap();
        assert_eq!(r.rows.len(), QueryLimits::AGENT.max_rows);
        assert!(r.truncated.unwrap().contains("cut at 200 rows"));
    }

    #[test]
    fn an_answer_is_found_after_what_a_test_harness_prints() {
        let answer = Answer::Error(QueryError::Failed("no".into()));
        let text = format!(
            "\nrunning 1 test\n{MARK}{}\n",
            serde_json::to_string(&answer).unwrap()
        );
        assert!(
            matches!(read_answer(text.as_bytes()), Some(Answer::Error(QueryError::Failed(m))) if m == "no")
        );
        assert!(read_answer(b"running 1 test\n").is_none());
        assert!(read_answer(format!("{MARK}{{\"Rows\":").as_bytes()).is_none());
    }

    #[test]
    fn a_dead_worker_is_named_by_its_signal() {
        use std::os::unix::process::ExitStatusExt as _;
        let m = stopped(std::process::ExitStatus::from_raw(6), 160);
        assert!(m.contains("signal 6 (SIGABRT)"), "{m}");
        assert!(m.contains("160 MB"), "{m}");
        let m = stopped(std::process::ExitStatus::from_raw(3 << 8), 160);
        assert!(m.contains("status 3"), "{m}");
    }
}
