//! Where a dataset lives, as a user names it (`--destination`, `BDI_LOAD_DESTINATION`):
//! `duckdb:PATH` (or a path ending in `.duckdb`) for a file on this machine, or
//! `postgres://user:password@host:port/database` (`postgresql://` too) for a database a team
//! shares. A location is shown without its password, whatever the form it was given in.

use std::path::PathBuf;

use crate::destination::{Destination, DestinationError};
use crate::query::{ColumnInfo, DatasetInfo, QueryError, QueryLimits, QueryResult};

/// A destination, named. Its `Debug` never shows a password; its serialized form (only ever sent
/// to a worker through a pipe, see [`crate::sql_worker`]) holds the URL whole.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Location {
    /// A DuckDB file.
    DuckDb(PathBuf),
    /// A PostgreSQL database, by its connection URL (which may hold a password).
    Postgres(String),
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A location that cannot be read, with what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LocationError(pub String);

impl Location {
    /// The default of a pipeline: `<pipeline>.duckdb` in the working directory.
    pub fn default_for(pipeline: &str) -> Self {
        Self::DuckDb(PathBuf::from(format!("{pipeline}.duckdb")))
    }

    /// Reads `duckdb:PATH`, `duckdb:///abs/path`, `PATH.duckdb` or `postgres[ql]://...`.
    pub fn parse(s: &str) -> Result<Self, LocationError> {
        let t = s.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            let url = url::Url::parse(t).map_err(|e| {
                LocationError(format!(
                    "{} is not a valid PostgreSQL URL ({e}): write postgres://user:password@host:5432/database",
                    Self::Postgres(t.to_owned()).describe()
                ))
            })?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(LocationError(
                    "the PostgreSQL URL names no host: write postgres://user:password@host:5432/database".to_owned(),
                ));
            }
            return Ok(Self::Postgres(t.to_owned()));
        }
        if let Some(path) = t.strip_prefix("duckdb:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.trim().is_empty() {
                return Err(LocationError(
                    "duckdb: names no file: write duckdb:PATH, e.g. duckdb:/data/history.duckdb"
                        .to_owned(),
                ));
            }
            return Ok(Self::DuckDb(PathBuf::from(path)));
        }
        if std::path::Path::new(t)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("duckdb"))
        {
            return Ok(Self::DuckDb(PathBuf::from(t)));
        }
        Err(LocationError(format!(
            "unknown destination {}: use duckdb:PATH (e.g. duckdb:/data/flow.duckdb) or postgres://user:password@host:5432/database",
            bdi_domain::error::quote(&Self::Postgres(t.to_owned()).describe())
        )))
    }

    /// The destination's kind, as summaries name it (`duckdb`, `postgres`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DuckDb(_) => "duckdb",
            Self::Postgres(_) => "postgres",
        }
    }

    /// How messages show it: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::DuckDb(path) => {
                let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                format!("duckdb:{}", absolute.display())
            }
            Self::Postgres(url) => redact(url),
        }
    }

    /// Opens it for a load (a DuckDB file is created when missing; one another process holds
    /// is waited for, see [`crate::destination::duckdb::DuckDb::open`]). Blocking: call it
    /// where blocking is allowed.
    pub fn open(&self) -> Result<Box<dyn Destination>, DestinationError> {
        #[cfg(feature = "duckdb")]
        let mut busy = crate::destination::duckdb::lock_waiter();
        #[cfg(not(feature = "duckdb"))]
        let mut busy = || false;
        self.open_with(&mut busy)
    }

    /// [`Location::open`], calling `busy` each time a DuckDB file is held by another process:
    /// it waits and returns `true` to try again, or `false` to give up (with an error that says
    /// the file is in use).
    pub fn open_with(
        &self,
        busy: &mut dyn FnMut() -> bool,
    ) -> Result<Box<dyn Destination>, DestinationError> {
        let _ = &busy;
        match self {
            #[cfg(feature = "duckdb")]
            Self::DuckDb(path) => Ok(Box::new(crate::destination::duckdb::DuckDb::open_with(
                path, busy,
            )?)),
            #[cfg(feature = "postgres")]
            Self::Postgres(url) => Ok(Box::new(crate::destination::postgres::Postgres::connect(
                url,
            )?)),
            #[allow(
                unreachable_patterns,
                reason = "reached when a destination is not built in"
            )]
            other => Err(not_built(other)),
        }
    }

    /// Runs `f` on the dataset opened read-only, on tokio's blocking pool (a database client
    /// blocks, and PostgreSQL's must also be dropped off the async threads), and closes it there.
    /// The error is the opening's (or a reading thread that stopped); `f`'s own result comes
    /// back whole.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Reader) -> T + Send + 'static,
    ) -> Result<T, DestinationError> {
        let location = self.clone();
        tokio::task::spawn_blocking(move || location.open_read_only().map(|mut r| f(&mut r)))
            .await
            .map_err(|e| DestinationError::Open(format!("reading the dataset stopped: {e}")))?
    }

    /// Opens it to read: queries cannot change it. Blocking.
    pub fn open_read_only(&self) -> Result<Reader, DestinationError> {
        match self {
            #[cfg(feature = "duckdb")]
            Self::DuckDb(path) => Ok(Reader(Engine::DuckDb(
                crate::destination::duckdb::DuckDb::open_read_only(path)?,
            ))),
            #[cfg(feature = "postgres")]
            Self::Postgres(url) => Ok(Reader(Engine::Postgres(
                crate::destination::postgres::Postgres::connect_read_only(url)?,
            ))),
            #[allow(
                unreachable_patterns,
                reason = "reached when a destination is not built in"
            )]
            other => Err(not_built(other)),
        }
    }
}

fn not_built(location: &Location) -> DestinationError {
    DestinationError::Open(format!(
        "this build of bdi has no {} destination (cargo feature \"{}\")",
        location.kind(),
        location.kind()
    ))
}

/// A connection URL without its password (in the authority or as a `password=` parameter).
pub fn redact(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        // Not a URL: keep what comes before any `:...@`, never what is between.
        return match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let user_end = url[scheme + 3..at].find(':').map_or(at, |i| scheme + 3 + i);
                format!("{}{}", &url[..user_end], &url[at..])
            }
            _ => url.to_owned(),
        };
    };
    let _ = u.set_password(None);
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("password"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// A dataset opened to read: opaque, so that what it offers is reading (queries, columns,
/// `info`) and never the destinations' write methods. A DuckDB file is opened read-only; a
/// PostgreSQL session is read-only from the moment it connects.
pub struct Reader(pub(crate) Engine);

/// The engine behind a [`Reader`].
pub(crate) enum Engine {
    /// A DuckDB file, opened read-only.
    #[cfg(feature = "duckdb")]
    DuckDb(crate::destination::duckdb::DuckDb),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(crate::destination::postgres::Postgres),
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

impl Reader {
    /// Runs one read-only query in `dataset` (see [`crate::query`]).
    pub fn query(
        &mut self,
        dataset: &str,
        sql: &str,
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        match &mut self.0 {
            #[cfg(feature = "duckdb")]
            Engine::DuckDb(db) => db.query(dataset, sql, limits),
            #[cfg(feature = "postgres")]
            Engine::Postgres(db) => db.query(dataset, sql, limits),
        }
    }

    /// A read-only query the code wrote, with values bound to `$1`, `$2`, ... (as text; cast
    /// one that stands alone, `CAST($1 AS VARCHAR)`), never spliced into the SQL.
    pub fn query_params(
        &mut self,
        dataset: &str,
        sql: &str,
        params: &[&str],
        limits: &QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        match &mut self.0 {
            #[cfg(feature = "duckdb")]
            Engine::DuckDb(db) => db.query_params(dataset, sql, params, limits),
            #[cfg(feature = "postgres")]
            Engine::Postgres(db) => db.query_params(dataset, sql, params, limits),
        }
    }

    /// The columns of the dataset's tables (or of `table` only), in table and column order, with
    /// their types as the engine names them.
    pub fn columns(
        &mut self,
        dataset: &str,
        table: Option<&str>,
    ) -> Result<Vec<ColumnInfo>, QueryError> {
        match &mut self.0 {
            #[cfg(feature = "duckdb")]
            Engine::DuckDb(db) => crate::dataset::columns(db, dataset, table),
            #[cfg(feature = "postgres")]
            Engine::Postgres(db) => crate::dataset::columns(db, dataset, table),
        }
        .map_err(QueryError::from)
    }

    /// The dataset's tables (with their parents), recent loads and the pipeline's state.
    pub fn info(&mut self, dataset: &str, pipeline: &str) -> Result<DatasetInfo, DestinationError> {
        match &mut self.0 {
            #[cfg(feature = "duckdb")]
            Engine::DuckDb(db) => crate::dataset::info(db, dataset, pipeline),
            #[cfg(feature = "postgres")]
            Engine::Postgres(db) => crate::dataset::info(db, dataset, pipeline),
        }
    }

    /// The data tables of `dataset` (not the loader's own), by name.
    pub fn tables(&mut self, dataset: &str) -> Result<Vec<String>, DestinationError> {
        match &mut self.0 {
            #[cfg(feature = "duckdb")]
            Engine::DuckDb(db) => crate::dataset::tables(db, dataset),
            #[cfg(feature = "postgres")]
            Engine::Postgres(db) => crate::dataset::tables(db, dataset),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_never_show_a_password() {
        assert_eq!(
            Location::parse("duckdb:/data/h.duckdb").unwrap(),
            Location::DuckDb("/data/h.duckdb".into())
        );
        assert_eq!(
            Location::parse("duckdb:///data/h.db").unwrap(),
            Location::DuckDb("/data/h.db".into())
        );
        assert_eq!(
            Location::parse("local.duckdb").unwrap(),
            Location::DuckDb("local.duckdb".into())
        );
        let pg = Location::parse("postgres://bi:s3cret@db.internal:5432/warehouse?sslmode=require")
            .unwrap();
        assert_eq!(pg.kind(), "postgres");
        assert_eq!(
            pg.describe(),
            "postgres://bi@db.internal:5432/warehouse?sslmode=require"
        );
        assert!(!format!("{pg:?}").contains("s3cret"));
        assert_eq!(
            redact("postgresql://bi@h/db?password=s3cret&application_name=x"),
            "postgresql://bi@h/db?application_name=x"
        );
        assert_eq!(redact("postgres://bi:s3cret@[::1"), "postgres://bi@[::1");

        for bad in [
            "",
            "duckdb:",
            "mysql://u:s3cret@h/db",
            "postgres://u:s3cret@/db",
        ] {
            let e = Location::parse(bad).expect_err(bad).0;
            assert!(!e.contains("s3cret"), "{e}");
            assert!(e.contains("duckdb:") || e.contains("postgres://"), "{e}");
        }
    }
}

#[cfg(all(test, feature = "duckdb"))]
mod params_tests {
    use super::*;

    #[test]
    fn values_are_bound_never_spliced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.duckdb");
        let db = crate::destination::duckdb::DuckDb::open(&path).unwrap();
        db.connection()
            .execute_batch(r#"CREATE SCHEMA d; CREATE TABLE d."o'hara" (a BIGINT, "b'c" TEXT);"#)
            .unwrap();
        drop(db);
        let mut reader = Location::DuckDb(path).open_read_only().unwrap();
        let columns = reader.columns("d", Some("o'hara")).unwrap();
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b'c"]);
        let limits = QueryLimits::AGENT;
        let r = reader
            .query_params(
                "d",
                "SELECT CAST($1 AS VARCHAR) AS v",
                &["x'); DROP SCHEMA d; --"],
                &limits,
            )
            .unwrap();
        assert_eq!(r.rows[0][0], "x'); DROP SCHEMA d; --");
        assert_eq!(
            reader.columns("d", None).unwrap().len(),
            2,
            "nothing dropped"
        );
    }
}
