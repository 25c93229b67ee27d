//! Test support for the crates whose tests run SQL surfaces (feature `testing`): the hostile-query
//! corpus every surface is held to ([`hostile`], from `testing/hostile.sql`), and small datasets
//! to run it on, in DuckDB ([`duckdb_dataset`]) and PostgreSQL ([`postgres_dataset`], with a
//! read-only role of its own, as `docs/load.md` tells a team to create).

use std::path::Path;

/// Which engines a case runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// DuckDB.
    DuckDb,
    /// PostgreSQL.
    Postgres,
}

/// What a surface must do with a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Return rows.
    Rows,
    /// Refuse it before it runs (the guard, the engine's parser, the role or the function check).
    Refused,
    /// Not return rows: refused, failed in the engine, or the worker died.
    NotRows,
    /// Anything, as long as the surface answers afterwards.
    Any,
}

/// A hostile query and what a surface must do with it.
#[derive(Clone, Debug)]
pub struct Case {
    /// The SQL, with `\r` and `\n` made real.
    pub sql: String,
    /// The expected outcome.
    pub expect: Expect,
}

/// The query every surface must still answer after each case, and its answer.
pub const STILL_ANSWERS: (&str, i64) = ("SELECT count(*) AS n FROM runs", 3);

/// The corpus's cases for `engine`.
pub fn hostile(engine: Engine) -> Vec<Case> {
    include_str!("testing/hostile.sql")
        .lines()
        .filter(|l| !l.starts_with("--") && !l.trim().is_empty())
        .filter_map(|line| {
            let mut parts = line.splitn(3, " | ");
            let (engines, expect, sql) = (parts.next()?, parts.next()?, parts.next()?);
            let runs_here = match engines {
                "both" => true,
                "duckdb" => engine == Engine::DuckDb,
                "postgres" => engine == Engine::Postgres,
                other => panic!("hostile.sql: unknown engine {other}"),
            };
            let expect = match expect {
                "rows" => Expect::Rows,
                "refused" => Expect::Refused,
                "not-rows" => Expect::NotRows,
                "any" => Expect::Any,
                other => panic!("hostile.sql: unknown expectation {other}"),
            };
            runs_here.then(|| Case {
                sql: sql.replace("\\r", "\r").replace("\\n", "\n"),
                expect,
            })
        })
        .collect()
}

/// Creates `dataset` in the DuckDB file at `path` with a table `runs` of 3 rows.
#[cfg(feature = "duckdb")]
pub fn duckdb_dataset(path: &Path, dataset: &str) {
    let db = crate::destination::duckdb::DuckDb::open(path).expect("open the DuckDB file");
    db.connection()
        .execute_batch(&dataset_sql(dataset))
        .expect("create the dataset");
}

fn dataset_sql(dataset: &str) -> String {
    let schema = crate::destination::quote(dataset);
    format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.runs (id BIGINT, status TEXT); \
         INSERT INTO {schema}.runs VALUES (1, 'SUCCEEDED'), (2, 'FAILED'), (3, '=1+1');"
    )
}

/// Creates `dataset` on the PostgreSQL server at `admin_url` with a table `runs` of 3 rows, and a
/// role that may only read it ([`postgres_reader`]); returns a URL that connects as that role.
#[cfg(feature = "postgres")]
pub fn postgres_dataset(admin_url: &str, dataset: &str) -> String {
    let schema = crate::destination::quote(dataset);
    admin(
        admin_url,
        &format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; {}",
            dataset_sql(dataset)
        ),
    );
    postgres_reader(admin_url, dataset)
}

/// A role `<dataset>_reader` that may only read `dataset` (the `CREATE ROLE` and `GRANT`s of
/// `docs/load.md`, "A role for reading"), created by the admin at `admin_url` when missing;
/// returns a URL that connects as that role.
#[cfg(feature = "postgres")]
pub fn postgres_reader(admin_url: &str, dataset: &str) -> String {
    let role = format!("{dataset}_reader");
    let (schema, quoted) = (
        crate::destination::quote(dataset),
        crate::destination::quote(&role),
    );
    admin(
        admin_url,
        &format!(
            "{} GRANT USAGE ON SCHEMA {schema} TO {quoted}; \
             GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {quoted};",
            create_role(&quoted)
        ),
    );
    as_role(admin_url, &role)
}

/// A role `role` that may create schemas in the database (a loader, not a superuser), created by
/// the admin at `admin_url` when missing; returns a URL that connects as that role.
#[cfg(feature = "postgres")]
pub fn postgres_loader(admin_url: &str, role: &str) -> String {
    let quoted = crate::destination::quote(role);
    admin(
        admin_url,
        &format!(
            "{} DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO {}', current_database()); END $$;",
            create_role(&quoted),
            quoted.replace('\'', "''")
        ),
    );
    as_role(admin_url, role)
}

const PASSWORD: &str = "role-password";

#[cfg(feature = "postgres")]
fn create_role(quoted: &str) -> String {
    format!(
        "DO $$ BEGIN CREATE ROLE {quoted} LOGIN PASSWORD '{PASSWORD}'; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
    )
}

/// Runs `sql` as the admin at `admin_url` (statements separated by `;`).
#[cfg(feature = "postgres")]
pub fn admin(admin_url: &str, sql: &str) {
    crate::destination::postgres::Postgres::connect(admin_url)
        .expect("connect as the test server's admin")
        .execute_for_tests(sql)
        .expect("set the server up");
}

#[cfg(feature = "postgres")]
fn as_role(admin_url: &str, role: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("the admin URL");
    url.set_username(role).expect("a user name");
    url.set_password(Some(PASSWORD)).expect("a password");
    url.to_string()
}

/// The peak memory (resident set) of a process and every process it started, sampled every
/// few milliseconds by a thread of its own until [`PeakMemory::stop`]: how the SQL surfaces'
/// memory bound (the server and its query workers together) is measured. Linux (`/proc`) only.
#[derive(Debug)]
pub struct PeakMemory {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl PeakMemory {
    /// Starts sampling `pid` and its descendants.
    pub fn watch(pid: u32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(tree_rss(pid));
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            peak
        });
        Self { stop, thread }
    }

    /// Stops sampling; the peak, in bytes.
    pub fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().expect("the sampling thread")
    }
}

/// The resident memory of `pid` and its descendants now, in bytes.
fn tree_rss(pid: u32) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            // After the command name in parentheses: state, then the parent's pid.
            let ppid = stat[stat.rfind(')')? + 2..]
                .split(' ')
                .nth(1)?
                .parse()
                .ok()?;
            Some((p, ppid))
        })
        .collect();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.iter()
        .filter_map(|p| {
            let statm = std::fs::read_to_string(format!("/proc/{p}/statm")).ok()?;
            statm.split(' ').nth(1)?.parse::<u64>().ok()
        })
        .sum::<u64>()
        * 4096
}
