//! The pages, as maud templates over what the dataset's reader returns: the layout every page
//! shares and the small files the pages link to here; the overview and a table's page
//! (`dataset.rs`), the charts (`charts.rs`), the SQL box and its CSV (`sql.rs`).

mod charts;
mod dataset;
mod sql;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bdi_load::query::{QueryLimits, QueryResult};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use crate::{App, DashboardError};

/// A query typed in the SQL box, and a chart's: 1,000 rows, 4 MB, 10 s.
pub(crate) const PAGE_LIMITS: QueryLimits = QueryLimits {
    max_rows: 1_000,
    max_bytes: 4 * 1024 * 1024,
    timeout: Duration::from_secs(10),
};

/// A CSV download: 100,000 rows, 16 MB, 60 s.
pub(crate) const CSV_LIMITS: QueryLimits = QueryLimits {
    max_rows: 100_000,
    max_bytes: 16 * 1024 * 1024,
    timeout: Duration::from_secs(60),
};

/// The pages' own queries (the columns of every table, the rows of each load).
pub(crate) const META_LIMITS: QueryLimits = QueryLimits {
    max_rows: 100_000,
    max_bytes: 32 * 1024 * 1024,
    timeout: Duration::from_secs(10),
};

/// Rows a table's page shows.
pub(crate) const PREVIEW_ROWS: usize = 100;

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(dataset::overview))
        .route("/tables/{name}", get(dataset::table))
        .route("/charts", get(charts::charts_page))
        .route("/sql", get(sql::sql_page))
        .route("/sql.csv", get(sql::sql_csv))
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

pub(crate) use bdi_load::destination::quote as ident;

/// The data tables of `dataset` (not the loader's own), by name: read from the catalog, which
/// costs nothing however large the tables (the overview's row counts do cost, and only the
/// overview shows them).
pub(crate) fn table_names(
    r: &mut bdi_load::location::Reader,
    dataset: &str,
) -> Result<Vec<String>, DashboardError> {
    r.tables(dataset)
        .map_err(|e| DashboardError::Unreadable(format!("listing the tables: {e}")))
}

/// The SQL box with `sql` in it.
fn sql_href(sql: &str) -> String {
    format!(
        "/sql?q={}",
        url::form_urlencoded::byte_serialize(sql.as_bytes()).collect::<String>()
    )
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

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/style.css"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml")],
        include_str!("../assets/favicon.svg"),
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
