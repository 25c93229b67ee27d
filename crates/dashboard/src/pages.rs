//! The pages, as maud templates over what the dataset's reader returns: the overview, a table,
//! the charts and the SQL box (with its CSV download), and the two files the pages link to.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bdi_load::location::Reader;
use bdi_load::query::{DatasetInfo, QueryError, QueryLimits, QueryResult, check_read_only};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use serde_json::Value;

use crate::charts::{Chart, Shape, charts};
use crate::svg::{self, BarRow, Stacked};
use crate::{App, DashboardError};

/// A query typed in the SQL box, and a chart's: 1,000 rows, 4 MB, 10 s.
pub(crate) const PAGE_LIMITS: QueryLimits = QueryLimits {
    max_rows: 1_000,
    max_bytes: 4 * 1024 * 1024,
    timeout: Duration::from_secs(10),
};

/// A CSV download: 100,000 rows, 64 MB, 60 s.
pub(crate) const CSV_LIMITS: QueryLimits = QueryLimits {
    max_rows: 100_000,
    max_bytes: 64 * 1024 * 1024,
    timeout: Duration::from_secs(60),
};

/// The pages' own queries (the columns of every table, the rows of each load).
const META_LIMITS: QueryLimits = QueryLimits {
    max_rows: 100_000,
    max_bytes: 32 * 1024 * 1024,
    timeout: Duration::from_secs(10),
};

/// Rows a table's page shows.
const PREVIEW_ROWS: usize = 100;

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(overview))
        .route("/tables/{name}", get(table))
        .route("/charts", get(charts_page))
        .route("/sql", get(sql_page))
        .route("/sql.csv", get(sql_csv))
        .route("/assets/style.css", get(stylesheet))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .fallback(not_found)
}

/// Which page the navigation marks as current.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nav {
    Overview,
    Charts,
    Sql,
    None,
}

fn layout(app: &App, title: &str, nav: Nav, body: Markup) -> Markup {
    let d = &app.dashboard;
    let item = |target: Nav, href: &str, text: &str| {
        html! {
            @if nav == target { a href=(href) aria-current="page" { (text) } } @else { a href=(href) { (text) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (d.dataset) " · bdi" }
                link rel="stylesheet" href="/assets/style.css";
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
            }
            body {
                header.top {
                    a.brand href="/" { "bdi" }
                    span.where {
                        (d.kind.title()) " · dataset " code { (d.dataset) } " in " code { (d.location.describe()) }
                    }
                    nav {
                        (item(Nav::Overview, "/", "Overview"))
                        (item(Nav::Charts, "/charts", "Charts"))
                        (item(Nav::Sql, "/sql", "SQL"))
                    }
                }
                main { (body) }
                footer { "Read-only view of pipeline " code { (d.pipeline) } ", served by " code { "bdi load show" } " on loopback." }
            }
        }
    }
}

/// A page that says what went wrong and what to do.
fn error_page(app: &App, status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        h1 { (title) }
        p.error role="alert" { (message) }
        p { a href="/" { "Back to the overview" } }
    };
    (status, layout(app, title, Nav::None, body)).into_response()
}

fn unreadable(app: &App, e: &DashboardError) -> Response {
    error_page(
        app,
        StatusCode::SERVICE_UNAVAILABLE,
        "The dataset cannot be read",
        &format!("{e}. Reload the page to try again."),
    )
}

/// `'text'` as an SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `name` as an SQL identifier.
fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The SQL box with `sql` in it.
fn sql_href(sql: &str) -> String {
    format!(
        "/sql?q={}",
        url::form_urlencoded::byte_serialize(sql.as_bytes()).collect::<String>()
    )
}

/// A column of a table, from `information_schema.columns`.
struct Column {
    name: String,
    data_type: String,
    nullable: bool,
}

/// The columns of the dataset's tables (or of one), by table.
fn columns(
    r: &mut Reader,
    dataset: &str,
    table: Option<&str>,
) -> Result<BTreeMap<String, Vec<Column>>, DashboardError> {
    let only = table.map_or(String::new(), |t| {
        format!(" AND table_name = {}", literal(t))
    });
    let sql = format!(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns \
         WHERE table_schema = {}{only} ORDER BY table_name, ordinal_position",
        literal(dataset)
    );
    let result = r
        .query(dataset, &sql, &META_LIMITS)
        .map_err(|e| DashboardError::Unreadable(format!("reading the columns: {e}")))?;
    let mut out: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for row in result.rows {
        let text = |i: usize| svg::label(row.get(i).unwrap_or(&Value::Null));
        out.entry(text(0)).or_default().push(Column {
            name: text(1),
            data_type: text(2),
            nullable: text(3).eq_ignore_ascii_case("yes"),
        });
    }
    Ok(out)
}

/// Rows written per load and table, for the loads `info` lists.
fn rows_per_load(
    r: &mut Reader,
    dataset: &str,
    info: &DatasetInfo,
    columns: &BTreeMap<String, Vec<Column>>,
) -> Result<BTreeMap<String, Vec<(String, i64)>>, DashboardError> {
    let has = |table: &str, column: &str| {
        columns
            .get(table)
            .is_some_and(|c| c.iter().any(|c| c.name == column))
    };
    let mut out: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    if info.loads.is_empty() {
        return Ok(out);
    }
    let ids = info
        .loads
        .iter()
        .map(|l| literal(&l.load_id))
        .collect::<Vec<_>>()
        .join(", ");
    // A top-level table names its load in `_dlt_load_id`; a child table (`parent__child`) has
    // its top-level row's, through `_dlt_root_id` or up its parents' `_dlt_parent_id`.
    let parts: Vec<String> = info
        .tables
        .iter()
        .filter_map(|t| {
            let name = &t.name;
            if has(name, "_dlt_load_id") {
                return Some(format!(
                    "SELECT _dlt_load_id AS load_id, {} AS table_name, count(*) AS row_count FROM {} \
                     WHERE _dlt_load_id IN ({ids}) GROUP BY _dlt_load_id",
                    literal(name),
                    ident(name)
                ));
            }
            // The parent of `a__b__c` is the longest of `a__b`, `a` that is a table.
            let parent = |table: &str| -> Option<String> {
                let mut cut = table.len();
                while let Some(i) = table[..cut].rfind("__") {
                    if columns.contains_key(&table[..i]) {
                        return Some(table[..i].to_owned());
                    }
                    cut = i;
                }
                None
            };
            let mut chain = vec![name.clone()];
            while !has(chain.last()?, "_dlt_load_id") {
                let up = parent(chain.last()?)?;
                chain.push(up);
                if chain.len() > 16 {
                    return None;
                }
            }
            let root = chain.last()?.clone();
            // Straight to the root when the child names it, else up the parents.
            let (joins, top) = if has(name, "_dlt_root_id") && has(&root, "_dlt_id") {
                (format!("JOIN {} t1 ON t0._dlt_root_id = t1._dlt_id", ident(&root)), 1)
            } else {
                let joins = chain[1..]
                    .iter()
                    .enumerate()
                    .map(|(i, up)| {
                        format!("JOIN {} t{} ON t{i}._dlt_parent_id = t{}._dlt_id", ident(up), i + 1, i + 1)
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                (joins, chain.len() - 1)
            };
            Some(format!(
                "SELECT t{top}._dlt_load_id AS load_id, {} AS table_name, count(*) AS row_count \
                 FROM {} t0 {joins} WHERE t{top}._dlt_load_id IN ({ids}) GROUP BY t{top}._dlt_load_id",
                literal(name),
                ident(name)
            ))
        })
        .collect();
    if parts.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT load_id, table_name, row_count FROM ({}) AS per_table ORDER BY load_id, table_name",
        parts.join(" UNION ALL ")
    );
    let result = r
        .query(dataset, &sql, &META_LIMITS)
        .map_err(|e| DashboardError::Unreadable(format!("counting the rows of each load: {e}")))?;
    for row in result.rows {
        let load = svg::label(&row[0]);
        let n = svg::number(&row[2]).unwrap_or(0.0) as i64;
        out.entry(load).or_default().push((svg::label(&row[1]), n));
    }
    Ok(out)
}

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A result as an HTML table.
fn result_table(r: &QueryResult) -> Markup {
    html! {
        div.scroll {
            table.result {
                thead { tr { @for c in &r.columns { th scope="col" { (c) } } } }
                tbody {
                    @for row in &r.rows {
                        tr {
                            @for v in row {
                                @match v {
                                    Value::Null => td.null { "null" },
                                    Value::Number(_) => td.num { (v.to_string()) },
                                    Value::String(s) => td { (s) },
                                    other => td { (other.to_string()) },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn overview(State(app): State<Arc<App>>) -> Response {
    let (dataset, pipeline) = (
        app.dashboard.dataset.clone(),
        app.dashboard.pipeline.clone(),
    );
    let read = app
        .read(move |r| {
            let info = r
                .info(&dataset, &pipeline)
                .map_err(|e| DashboardError::Unreadable(e.to_string()))?;
            let columns = columns(r, &dataset, None)?;
            // The rows of each load scan the tables: on a very large dataset that may pass the
            // time limit, and the overview shows the rest rather than nothing.
            let per_load = rows_per_load(r, &dataset, &info, &columns);
            Ok((info, columns, per_load))
        })
        .await;
    let (info, columns, per_load) = match read {
        Ok(v) => v,
        Err(e) => return unreadable(&app, &e),
    };
    let (per_load, uncounted) = match per_load {
        Ok(counts) => (counts, None),
        Err(e) => (BTreeMap::new(), Some(e.to_string())),
    };
    let total: i64 = info.tables.iter().map(|t| t.rows).sum();
    let body = html! {
        h1 { "Overview" }
        dl.cards {
            div { dt { "Tables" } dd { (info.tables.len()) } }
            div { dt { "Rows" } dd { (total) } }
            div { dt { "Last load" } dd { (info.loads.first().map_or("none", |l| l.inserted_at.as_str())) } }
            div { dt { "Charts" } dd { a href="/charts" { (charts(app.dashboard.kind).len()) } } }
        }
        section #tables {
            h2 { "Tables" }
            table.result {
                thead { tr { th scope="col" { "Table" } th.num scope="col" { "Rows" } th.num scope="col" { "Columns" } th scope="col" { "Columns and types" } } }
                tbody {
                    @for t in &info.tables {
                        tr {
                            td { a href=(format!("/tables/{}", url::form_urlencoded::byte_serialize(t.name.as_bytes()).collect::<String>())) { (t.name) } }
                            td.num { (t.rows) }
                            td.num { (t.columns) }
                            td {
                                details {
                                    summary { "show" }
                                    ul.columns {
                                        @for c in columns.get(&t.name).map_or(&[][..], Vec::as_slice) {
                                            li { code { (c.name) } " " span.type { (c.data_type) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #loads {
            h2 { "Loads" }
            p.about { "The most recent loads (" code { "_dlt_loads" } "), newest first; status 0 is a complete load. Rows are those each load wrote that are still in the tables (a child table's rows counted with the load of their top-level row)." }
            @if let Some(why) = &uncounted { p.note { "The rows of each load are not shown: " (why) } }
            @if info.loads.is_empty() {
                p.empty { "No load yet." }
            } @else {
                table.result {
                    thead { tr { th scope="col" { "Load id" } th scope="col" { "Status" } th scope="col" { "Committed at" } th.num scope="col" { "Rows" } th scope="col" { "By table" } } }
                    tbody {
                        @for l in &info.loads {
                            @let tables = per_load.get(&l.load_id).map_or(&[][..], Vec::as_slice);
                            tr {
                                td { code { (l.load_id) } }
                                td { (l.status) @if l.status == 0 { " (complete)" } }
                                td { (l.inserted_at) }
                                td.num { (tables.iter().map(|(_, n)| n).sum::<i64>()) }
                                td.wrap { (tables.iter().map(|(t, n)| format!("{t} {n}")).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            }
        }
        section #state {
            h2 { "Incremental state" }
            p.about { "Where the next load of pipeline " code { (app.dashboard.pipeline) } " starts, per resource (" code { "_bdi_state" } ")." }
            @if info.state.resources.is_empty() {
                p.empty { "No incremental resource has been loaded." }
            } @else {
                table.result {
                    thead { tr { th scope="col" { "Resource" } th scope="col" { "Cursor" } th scope="col" { "Last value" } th.num scope="col" { "Rows at that value" } } }
                    tbody {
                        @for (name, s) in &info.state.resources {
                            tr {
                                td { (name) }
                                td { code { (s.cursor) } }
                                td { (s.last_value.as_deref().unwrap_or("none")) }
                                td.num { (s.ids_at_last_value.len()) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(&app, "Overview", Nav::Overview, body).into_response()
}

async fn table(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    let (dataset, pipeline) = (
        app.dashboard.dataset.clone(),
        app.dashboard.pipeline.clone(),
    );
    let wanted = name.clone();
    let read = app
        .read(move |r| {
            let info = r
                .info(&dataset, &pipeline)
                .map_err(|e| DashboardError::Unreadable(e.to_string()))?;
            let Some(t) = info.tables.into_iter().find(|t| t.name == wanted) else {
                return Ok(None);
            };
            let columns = columns(r, &dataset, Some(&t.name))?.remove(&t.name);
            let sql = format!("SELECT * FROM {} LIMIT {PREVIEW_ROWS}", ident(&t.name));
            let rows = r
                .query(&dataset, &sql, &PAGE_LIMITS)
                .map_err(|e| DashboardError::Unreadable(e.to_string()))?;
            Ok(Some((t, columns.unwrap_or_default(), rows)))
        })
        .await;
    let (t, columns, rows) = match read {
        Ok(Some(v)) => v,
        Ok(None) => {
            return error_page(
                &app,
                StatusCode::NOT_FOUND,
                "No such table",
                &format!(
                    "dataset {} has no table {name}: the overview lists its tables",
                    app.dashboard.dataset
                ),
            );
        }
        Err(e) => return unreadable(&app, &e),
    };
    let query = format!("SELECT * FROM {} LIMIT {PREVIEW_ROWS}", t.name);
    let body = html! {
        h1 { "Table " code { (t.name) } }
        p.about { (t.rows) " rows, " (t.columns) " columns. " a href=(sql_href(&query)) { "Query this table" } }
        h2 { "Columns" }
        table.result {
            thead { tr { th scope="col" { "Column" } th scope="col" { "Type" } th scope="col" { "Nullable" } } }
            tbody {
                @for c in &columns {
                    tr { td { code { (c.name) } } td { (c.data_type) } td { @if c.nullable { "yes" } @else { "no" } } }
                }
            }
        }
        h2 { "First rows" }
        @if rows.rows.len() < usize::try_from(t.rows).unwrap_or(0) {
            p.about { "The first " (rows.rows.len()) " of " (t.rows) " rows." }
        }
        (result_table(&rows))
    };
    layout(&app, &t.name, Nav::None, body).into_response()
}

/// A chart's result, or why it has none.
enum Drawn {
    Result(QueryResult),
    MissingTables(Vec<&'static str>),
    Failed(String),
}

async fn charts_page(State(app): State<Arc<App>>) -> Response {
    let (dataset, pipeline) = (
        app.dashboard.dataset.clone(),
        app.dashboard.pipeline.clone(),
    );
    let list = charts(app.dashboard.kind);
    let read = app
        .read(move |r| {
            let info = r
                .info(&dataset, &pipeline)
                .map_err(|e| DashboardError::Unreadable(e.to_string()))?;
            Ok(list
                .iter()
                .map(|c| {
                    let missing: Vec<&'static str> = c
                        .tables
                        .iter()
                        .copied()
                        .filter(|t| !info.tables.iter().any(|i| i.name == *t))
                        .collect();
                    if !missing.is_empty() {
                        return Drawn::MissingTables(missing);
                    }
                    match r.query(&dataset, c.sql, &PAGE_LIMITS) {
                        Ok(result) => Drawn::Result(result),
                        Err(e) => Drawn::Failed(e.to_string()),
                    }
                })
                .collect::<Vec<_>>())
        })
        .await;
    let drawn = match read {
        Ok(v) => v,
        Err(e) => return unreadable(&app, &e),
    };
    let body = html! {
        h1 { "Charts" }
        p.about { "Each chart is one query; open " em { "SQL" } " under it to read it or run it in the SQL box, and " em { "Numbers" } " for its result as a table." }
        nav.toc { @for c in list { a href=(format!("#chart-{}", c.id)) { (c.title) } } }
        @for (chart, d) in list.iter().zip(&drawn) {
            (figure(&app, chart, d))
        }
    };
    layout(&app, "Charts", Nav::Charts, body).into_response()
}

fn figure(app: &App, chart: &Chart, drawn: &Drawn) -> Markup {
    let how = match app.dashboard.kind {
        crate::Kind::Flow => "bdi load flow",
        crate::Kind::History => "bdi load history",
    };
    html! {
        figure.chart id=(format!("chart-{}", chart.id)) {
            figcaption { h2 { (chart.title) } p.about { (chart.about) } }
            @match drawn {
                Drawn::MissingTables(missing) => p.empty {
                    "The dataset has no table " (missing.join(", ")) ": load it with " code { (how) } "."
                },
                Drawn::Failed(e) => p.error role="alert" { "The chart's query failed: " (e) },
                Drawn::Result(r) if r.rows.is_empty() => p.empty { "No rows in this window." },
                Drawn::Result(r) => {
                    (draw(chart, r))
                    @if let Some(cut) = &r.truncated { p.note { (cut) } }
                },
            }
            details.sql {
                summary { "SQL" }
                pre { code { (chart.sql) } }
                a.button href=(sql_href(chart.sql)) data-run-sql=(chart.id) { "Run in the SQL box" }
            }
            @if let Drawn::Result(r) = drawn {
                details.numbers { summary { "Numbers" } (result_table(r)) }
            }
        }
    }
}

fn draw(chart: &Chart, r: &QueryResult) -> Markup {
    match chart.shape {
        Shape::Stacked { unit } => {
            let rows: Vec<Stacked> = r
                .rows
                .iter()
                .filter(|row| row.len() >= 3)
                .map(|row| Stacked {
                    x: row[0].clone(),
                    series: row[1].clone(),
                    value: row[2].clone(),
                })
                .collect();
            svg::stacked_columns(chart.id, &rows, unit)
        }
        Shape::Bars { series, unit, note } => {
            let at = |name: &str| r.columns.iter().position(|c| c == name);
            let indexes: Vec<Option<usize>> = series.iter().map(|s| at(s)).collect();
            let rows: Vec<BarRow> = r
                .rows
                .iter()
                .map(|row| BarRow {
                    label: row.first().cloned().unwrap_or(Value::Null),
                    values: indexes
                        .iter()
                        .map(|i| i.and_then(|i| row.get(i)).cloned().unwrap_or(Value::Null))
                        .collect(),
                    note: note.map(|template| {
                        let mut text = template.to_owned();
                        for (i, c) in r.columns.iter().enumerate() {
                            text = text.replace(
                                &format!("{{{c}}}"),
                                &svg::label(row.get(i).unwrap_or(&Value::Null)),
                            );
                        }
                        text
                    }),
                })
                .collect();
            let names: Vec<String> = series.iter().map(|s| (*s).to_owned()).collect();
            svg::bars(chart.id, &names, &rows, unit)
        }
    }
}

#[derive(Debug, Deserialize)]
struct SqlParams {
    #[serde(default)]
    q: String,
}

/// What the SQL box shows under the form.
enum Outcome {
    Nothing,
    Refused(String),
    Failed(String),
    Rows(QueryResult, Duration),
}

async fn sql_page(State(app): State<Arc<App>>, Query(p): Query<SqlParams>) -> Response {
    let sql = p.q.trim().to_owned();
    let (dataset, pipeline) = (
        app.dashboard.dataset.clone(),
        app.dashboard.pipeline.clone(),
    );
    let to_run = sql.clone();
    let read = app
        .read(move |r| {
            let tables = r
                .info(&dataset, &pipeline)
                .map(|i| i.tables.into_iter().map(|t| t.name).collect::<Vec<_>>())
                .unwrap_or_default();
            if to_run.is_empty() {
                return Ok((tables, Outcome::Nothing));
            }
            if let Err(refused) = check_read_only(&to_run) {
                return Ok((tables, Outcome::Refused(refused.0)));
            }
            let started = Instant::now();
            let outcome = match r.query(&dataset, &to_run, &PAGE_LIMITS) {
                Ok(result) => Outcome::Rows(result, started.elapsed()),
                Err(QueryError::Refused(refused)) => Outcome::Refused(refused.0),
                Err(e) => Outcome::Failed(e.to_string()),
            };
            Ok((tables, outcome))
        })
        .await;
    let (tables, outcome) = match read {
        Ok(v) => v,
        Err(e) => return unreadable(&app, &e),
    };
    let placeholder = tables.first().map_or_else(
        || "SELECT 1".to_owned(),
        |t| format!("SELECT * FROM {t} LIMIT 10"),
    );
    let body = html! {
        h1 { "SQL" }
        p.about {
            "One " code { "SELECT" } " (or " code { "WITH ... SELECT" } ") on dataset " code { (app.dashboard.dataset) }
            ", read-only: anything else is refused before it reaches the engine. At most "
            (thousands(PAGE_LIMITS.max_rows)) " rows and " (PAGE_LIMITS.timeout.as_secs()) " s here; the CSV holds up to "
            (thousands(CSV_LIMITS.max_rows)) " rows. Unqualified table names are the dataset's."
        }
        form.sql method="get" action="/sql" {
            label for="q" { "Query" }
            textarea #q name="q" rows="7" spellcheck="false" placeholder=(placeholder) { (sql) }
            button type="submit" { "Run" }
        }
        @if !tables.is_empty() {
            p.tables { "Tables: " @for (i, t) in tables.iter().enumerate() { @if i > 0 { ", " } a href=(sql_href(&format!("SELECT * FROM {t} LIMIT 100"))) { (t) } } }
        }
        @match &outcome {
            Outcome::Nothing => {},
            Outcome::Refused(m) => p.error.refused role="alert" { "Refused: " (m) },
            Outcome::Failed(m) => p.error role="alert" { "The query failed: " (m) },
            Outcome::Rows(r, took) => {
                p.status {
                    (r.rows.len()) " rows in " (format!("{:.0}", took.as_secs_f64() * 1000.0)) " ms. "
                    a.button href=(format!("/sql.csv?q={}", url::form_urlencoded::byte_serialize(sql.as_bytes()).collect::<String>())) download=(format!("{}.csv", app.dashboard.dataset)) { "Download CSV" }
                }
                @if let Some(cut) = &r.truncated { p.note { (cut) } }
                (result_table(r))
            },
        }
    };
    layout(&app, "SQL", Nav::Sql, body).into_response()
}

async fn sql_csv(State(app): State<Arc<App>>, Query(p): Query<SqlParams>) -> Response {
    let sql = p.q.trim().to_owned();
    if sql.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "no query: /sql.csv?q=SELECT ... runs one SELECT and returns its rows as CSV\n",
        )
            .into_response();
    }
    if let Err(refused) = check_read_only(&sql) {
        return (StatusCode::BAD_REQUEST, format!("refused: {refused}\n")).into_response();
    }
    let dataset = app.dashboard.dataset.clone();
    let read = app
        .read(move |r| Ok(r.query(&dataset, &sql, &CSV_LIMITS)))
        .await;
    match read {
        Ok(Ok(result)) => {
            let mut response = (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{}.csv\"", app.dashboard.dataset),
                    ),
                ],
                result.to_csv(),
            )
                .into_response();
            if let Some(cut) = &result.truncated
                && let Ok(v) = cut.parse()
            {
                response.headers_mut().insert("x-bdi-truncated", v);
            }
            response
        }
        Ok(Err(e)) => (StatusCode::BAD_REQUEST, format!("the query failed: {e}\n")).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/style.css"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml")],
        include_str!("assets/favicon.svg"),
    )
        .into_response()
}

async fn not_found(State(app): State<Arc<App>>) -> Response {
    error_page(
        &app,
        StatusCode::NOT_FOUND,
        "No such page",
        "this dashboard has an overview, the tables, the charts and the SQL box",
    )
}
