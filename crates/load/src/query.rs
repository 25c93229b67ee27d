//! Read-only SQL on a dataset, for people (`bdi load query`) and for agents (`query_history`):
//! the guard that refuses anything but one `SELECT` or `WITH` query before it reaches the engine,
//! the limits a result is held to (rows, bytes, time), and the shapes every destination returns.
//!
//! The guard is the first line only, there for its clear messages: the engine's own parser
//! decides what one statement is (DuckDB's `query(...)`, PostgreSQL's extended protocol), the
//! engine runs it read-only (DuckDB opened read-only with no access to files, PostgreSQL in a
//! `READ ONLY` transaction, as a role that may only read and with no function that acts on the
//! server), and the SQL surfaces run it in a worker process of its own ([`crate::sql_worker`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::state::PipelineState;

/// What a query may return and how long it may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryLimits {
    /// Rows returned at most; more are cut (and the result says so).
    pub max_rows: usize,
    /// Bytes returned at most, counted as the JSON text of the values plus what a value takes in
    /// memory ([`VALUE_BYTES`] each), so that the bound holds for memory too; more rows are cut
    /// (and the result says so).
    pub max_bytes: usize,
    /// The statement is cancelled after this long.
    pub timeout: Duration,
}

impl QueryLimits {
    /// For agents: 200 rows, 64 KB, 10 s.
    pub const AGENT: Self = Self {
        max_rows: 200,
        max_bytes: 64 * 1024,
        timeout: Duration::from_secs(10),
    };

    /// For a person at a terminal: 10,000 rows, 16 MB, 5 minutes.
    pub const TERMINAL: Self = Self {
        max_rows: 10_000,
        max_bytes: 16 * 1024 * 1024,
        timeout: Duration::from_secs(300),
    };
}

/// The result of a query: column names and rows of JSON values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, a value per column.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Why rows are missing when the result was cut (`null` when it is whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<String>,
}

/// Who a CSV file is for: what [`QueryResult::to_csv`] does with a text that a spreadsheet would
/// read as a formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvFor {
    /// Another program (`bdi load query -o csv` into a pipe or a file that a script reads): every
    /// value exactly as stored, so that what is written reads back the same.
    Programs,
    /// A person who opens the file in a spreadsheet (the dashboard's download): a text cell that
    /// begins with `=`, `+`, `-`, `@`, a tab or a carriage return, column names included, gets a
    /// leading `'`, so that the spreadsheet shows it as text instead of running it as a formula
    /// (CSV injection: OWASP's advice). Numbers are never changed: `-5`, as a number or a text,
    /// stays a number.
    Spreadsheets,
}

impl QueryResult {
    /// The result as CSV (RFC 4180 quoting, `\n` line ends): a header of the column names, then
    /// a line per row; null is an empty field, text as is (unless `audience` is
    /// [`CsvFor::Spreadsheets`] and it could run as a formula), other values as JSON writes them.
    pub fn to_csv(&self, audience: CsvFor) -> String {
        fn quoted(text: String) -> String {
            if text.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text
            }
        }
        let text = |text: &str| {
            // A plain number (`-5`, `+1.5e3`) stays as it is: a spreadsheet reads it as a
            // number, never as a formula.
            if audience == CsvFor::Spreadsheets
                && text.starts_with(['=', '+', '-', '@', '\t', '\r'])
                && text.parse::<f64>().is_err()
            {
                quoted(format!("'{text}"))
            } else {
                quoted(text.to_owned())
            }
        };
        let field = |v: &serde_json::Value| match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => text(s),
            // Numbers and booleans are not formulas; arrays and objects open with `[` or `{`.
            other => quoted(other.to_string()),
        };
        let mut out = self
            .columns
            .iter()
            .map(|c| text(c))
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for row in &self.rows {
            out.push_str(&row.iter().map(field).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }
}

/// What a value of a result takes in memory beyond its JSON text (a `serde_json::Value` is 32
/// bytes), counted against [`QueryLimits::max_bytes`].
pub const VALUE_BYTES: usize = 24;

/// Builds a [`QueryResult`] row by row under [`QueryLimits`].
#[derive(Debug)]
pub struct Collector {
    limits: QueryLimits,
    bytes: usize,
    result: QueryResult,
}

impl Collector {
    /// An empty result with these columns.
    pub fn new(columns: Vec<String>, limits: QueryLimits) -> Self {
        let bytes = columns.iter().map(|c| c.len() + 3).sum();
        Self {
            limits,
            bytes,
            result: QueryResult {
                columns,
                ..QueryResult::default()
            },
        }
    }

    /// Adds a row; `false` when the result is full (the row was not added and the result says
    /// it was cut): stop reading.
    pub fn push(&mut self, row: Vec<serde_json::Value>) -> bool {
        if self.result.rows.len() >= self.limits.max_rows {
            self.result.truncated = Some(format!(
                "cut at {} rows: more rows match; aggregate, filter or add LIMIT",
                self.limits.max_rows
            ));
            return false;
        }
        let size: usize = row
            .iter()
            .map(|v| serde_json::to_string(v).map_or(4, |s| s.len()) + VALUE_BYTES)
            .sum::<usize>()
            + 2;
        if self.bytes + size > self.limits.max_bytes {
            self.result.truncated = Some(format!(
                "cut at {} rows to stay under {} KB: select fewer or narrower columns, aggregate, or add LIMIT",
                self.result.rows.len(),
                self.limits.max_bytes / 1024
            ));
            return false;
        }
        self.bytes += size;
        self.result.rows.push(row);
        true
    }

    /// The result.
    pub fn finish(self) -> QueryResult {
        self.result
    }
}

/// A table of a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    /// Its name.
    pub name: String,
    /// The table it hangs from, for a child table (from the schema the last load recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Its rows.
    pub rows: i64,
    /// Its columns.
    pub columns: i64,
}

/// A column of a table, as `information_schema.columns` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    /// Its table.
    pub table: String,
    /// Its name.
    pub name: String,
    /// Its type, as the engine names it (`VARCHAR`, `timestamp with time zone`).
    pub data_type: String,
    /// Whether it may hold null.
    pub nullable: bool,
}

/// A complete load.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoadInfo {
    /// The load id.
    pub load_id: String,
    /// 0 when complete.
    pub status: i64,
    /// When it was committed (ISO 8601).
    pub inserted_at: String,
}

/// What `bdi load info` shows of a dataset.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DatasetInfo {
    /// The data tables with their row counts.
    pub tables: Vec<TableInfo>,
    /// The most recent loads, newest first.
    pub loads: Vec<LoadInfo>,
    /// The pipeline's incremental state.
    pub state: PipelineState,
}

/// Why a query was refused before it reached the engine.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, serde::Deserialize)]
#[error("{0}")]
pub struct Refused(pub String);

/// Why a query gave no result. It crosses a worker's pipe whole (see [`crate::sql_worker`]),
/// so an engine's error is its message.
#[derive(Debug, thiserror::Error, Serialize, serde::Deserialize)]
pub enum QueryError {
    /// Refused before it reached the engine.
    #[error("{0}")]
    Refused(Refused),
    /// The engine cancelled it at the time limit.
    #[error("the query ran longer than {} s and was cancelled: aggregate, filter on a time column, or add LIMIT", .0.as_secs())]
    TimedOut(Duration),
    /// The engine refused or failed it (its own message).
    #[error("{0}")]
    Failed(String),
    /// The dataset does not exist (nothing was loaded into it yet): each front end says how to
    /// load it in its own words.
    #[error("there is no dataset {0} here: nothing was loaded into it yet")]
    NoDataset(String),
    /// As many queries as may run at once were running for the whole time limit.
    #[error("{0} queries are running here already, the most at once: try again in a moment")]
    Busy(usize),
    /// The process that ran it died (see [`crate::sql_worker`]); the message names how.
    #[error("{0}")]
    Stopped(String),
    /// A load is writing the dataset (a DuckDB file takes one writer and no reader meanwhile).
    #[error("{0} is being written by a load right now")]
    Held(String),
    /// The database role may do more than read (the message says what): the SQL surfaces refuse
    /// to run other people's SQL as it.
    #[error("{0}")]
    Privileged(String),
    /// The dataset cannot be opened or reached.
    #[error("{0}")]
    Unavailable(String),
}

impl QueryError {
    /// What the caller does next, as data each front end words its own way.
    pub fn next_step(&self) -> Option<crate::destination::DatasetStep> {
        use crate::destination::DatasetStep as S;
        Some(match self {
            Self::Refused(_) => S::FixQuery,
            Self::TimedOut(_) | Self::Stopped(_) => S::NarrowQuery,
            Self::Failed(_) => return None,
            Self::NoDataset(_) => S::LoadFirst,
            Self::Busy(_) => S::RetrySoon,
            Self::Held(_) => S::WaitForHolder,
            Self::Privileged(_) => S::UseReaderRole,
            Self::Unavailable(_) => S::CheckDestination,
        })
    }
}

impl From<crate::destination::DestinationError> for QueryError {
    /// The dataset's error when opening it to query: a missing file is no dataset, a writer
    /// holding it is `Held`, anything else is `Unavailable`.
    fn from(e: crate::destination::DestinationError) -> Self {
        use crate::destination::DestinationError as D;
        match e {
            D::NoFile(file) => Self::NoDataset(file),
            D::Held { target, .. } => Self::Held(target),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// Words that start or contain a statement that writes, or reaches outside the dataset.
const WRITES: &[Keyword] = &[
    Keyword::INSERT,
    Keyword::UPDATE,
    Keyword::DELETE,
    Keyword::MERGE,
    Keyword::CREATE,
    Keyword::DROP,
    Keyword::ALTER,
    Keyword::TRUNCATE,
    Keyword::COPY,
    Keyword::ATTACH,
    Keyword::DETACH,
    Keyword::INSTALL,
    Keyword::GRANT,
    Keyword::REVOKE,
    Keyword::CALL,
    Keyword::PRAGMA,
    Keyword::VACUUM,
    Keyword::EXPORT,
];

/// Refuses anything but one read-only query: a single `SELECT` or `WITH` statement (a trailing
/// `;` is allowed), with no word that writes (`INSERT`, `DELETE`, `COPY`, `ATTACH`, ... even
/// inside a `WITH`). Comments and string literals are read as such, so `'; DROP'` inside a
/// string is harmless and `/* ; */` does not split a statement.
pub fn check_read_only(sql: &str) -> Result<(), Refused> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| Refused(format!("the SQL cannot be read: {e}")))?;
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let end = tokens
        .iter()
        .rposition(|t| *t != Token::SemiColon)
        .map_or(0, |i| i + 1);
    let body = &tokens[..end];
    let first = body.iter().find(|t| **t != Token::LParen);
    let Some(first) = first else {
        return Err(Refused(
            "the query is empty: write one SELECT (or WITH ... SELECT) statement".to_owned(),
        ));
    };
    if body.contains(&Token::SemiColon) {
        return Err(Refused(
            "one statement at a time: send each SELECT on its own".to_owned(),
        ));
    }
    let starts_well = matches!(first, Token::Word(w) if w.quote_style.is_none()
        && matches!(w.keyword, Keyword::SELECT | Keyword::WITH));
    if !starts_well {
        return Err(Refused(format!(
            "only a SELECT (or WITH ... SELECT) query may run here, not {}: the dataset is read-only",
            first.to_string().to_uppercase()
        )));
    }
    if let Some(Token::Word(w)) = body.iter().find(
        |t| matches!(t, Token::Word(w) if w.quote_style.is_none() && WRITES.contains(&w.keyword)),
    ) {
        return Err(Refused(format!(
            "{} is not allowed: the dataset is read-only, only SELECT queries run here (a column with that name must be written in double quotes)",
            w.value.to_uppercase()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_for_spreadsheets_turns_formulas_into_text_and_leaves_numbers() {
        use serde_json::{Value, json};
        let result = QueryResult {
            columns: vec!["=cmd".into(), "n".into(), "t".into()],
            rows: vec![
                vec![
                    json!("=HYPERLINK(\"http://evil.example\",\"x\")"),
                    json!(-5),
                    json!("a=b"),
                ],
                vec![json!("+1+2"), json!(1.5), json!("-2+3")],
                vec![json!("@SUM(A1:A9)"), json!("-5"), json!("\t=1")],
                vec![json!("\r=1"), Value::Null, json!("plain")],
            ],
            truncated: None,
        };
        assert_eq!(
            result.to_csv(CsvFor::Spreadsheets),
            "'=cmd,n,t\n\
             \"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",-5,a=b\n\
             '+1+2,1.5,'-2+3\n\
             '@SUM(A1:A9),-5,'\t=1\n\
             \"'\r=1\",,plain\n"
        );
        // For programs, every value exactly as stored.
        assert_eq!(
            result.to_csv(CsvFor::Programs),
            "=cmd,n,t\n\
             \"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",-5,a=b\n\
             +1+2,1.5,-2+3\n\
             @SUM(A1:A9),-5,\t=1\n\
             \"\r=1\",,plain\n"
        );
    }

    #[test]
    fn one_select_or_with_passes() {
        for sql in [
            "select count(*) from runs",
            "SELECT 1;",
            "  -- a comment\n WITH x AS (SELECT 1 AS a) SELECT a FROM x ;; ",
            "(SELECT 1) UNION ALL (SELECT 2)",
            "select 'a; DROP TABLE runs' as s, \"delete\" from t /* ; delete */",
            "select status, count(*) from runs group by all order by 2 desc limit 5",
        ] {
            assert_eq!(check_read_only(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for (sql, says) in [
            ("", "empty"),
            ("  ; ", "empty"),
            ("-- nothing", "empty"),
            ("DELETE FROM runs", "not DELETE"),
            ("select 1; delete from runs", "one statement"),
            ("select 1; select 2", "one statement"),
            ("insert into runs values (1)", "not INSERT"),
            (
                "WITH d AS (DELETE FROM runs RETURNING *) SELECT * FROM d",
                "DELETE is not allowed",
            ),
            ("ATTACH 'x.db' AS x", "not ATTACH"),
            ("select * from t; ATTACH 'x'", "one statement"),
            ("COPY runs TO '/tmp/x.csv'", "not COPY"),
            ("SET search_path = x", "not SET"),
            ("PRAGMA version", "not PRAGMA"),
            ("select 'unterminated", "cannot be read"),
            ("\"select\" 1", "not"),
        ] {
            let e = check_read_only(sql).expect_err(sql).0;
            assert!(e.contains(says), "{sql}: {e}");
        }
    }

    #[test]
    fn a_result_is_cut_at_the_row_and_byte_limits_and_says_so() {
        let limits = QueryLimits {
            max_rows: 3,
            max_bytes: 1 << 20,
            timeout: Duration::from_secs(1),
        };
        let mut c = Collector::new(vec!["a".into()], limits);
        for i in 0..3 {
            assert!(c.push(vec![i.into()]));
        }
        assert!(!c.push(vec![9.into()]));
        let r = c.finish();
        assert_eq!(r.rows.len(), 3);
        assert!(r.truncated.unwrap().contains("cut at 3 rows"));

        let limits = QueryLimits {
            max_bytes: 100,
            ..limits
        };
        let mut c = Collector::new(vec!["a".into()], limits);
        assert!(c.push(vec!["x".repeat(40).into()]));
        assert!(!c.push(vec!["y".repeat(60).into()]));
        let r = c.finish();
        assert_eq!(r.rows.len(), 1);
        assert!(r.truncated.unwrap().contains("to stay under"));
    }
}
