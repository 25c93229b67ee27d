//! The SQL box (one read-only query, its result as a table) and the same result as CSV.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bdi_load::query::{CsvFor, QueryError, QueryResult};
use maud::html;
use serde::Deserialize;

use super::{
    CSV_LIMITS, Nav, PAGE_LIMITS, layout, result_table, sql_href, table_names, thousands,
    unreadable,
};
use crate::App;

#[derive(Debug, Deserialize)]
pub(super) struct SqlParams {
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

pub(super) async fn sql_page(State(app): State<Arc<App>>, Query(p): Query<SqlParams>) -> Response {
    let sql = p.q.trim().to_owned();
    let dataset = app.dashboard.dataset.clone();
    let tables = match app
        .read(move |r| Ok(table_names(r, &dataset).unwrap_or_default()))
        .await
    {
        Ok(v) => v,
        Err(e) => return unreadable(&app, &e),
    };
    let outcome = if sql.is_empty() {
        Outcome::Nothing
    } else {
        let started = Instant::now();
        match app
            .sql
            .query(
                &app.dashboard.location,
                &app.dashboard.dataset,
                &sql,
                &PAGE_LIMITS,
            )
            .await
        {
            Ok(result) => Outcome::Rows(result, started.elapsed()),
            Err(QueryError::Refused(refused)) => Outcome::Refused(refused.0),
            Err(e) => Outcome::Failed(e.to_string()),
        }
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

pub(super) async fn sql_csv(State(app): State<Arc<App>>, Query(p): Query<SqlParams>) -> Response {
    let sql = p.q.trim().to_owned();
    if sql.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "no query: /sql.csv?q=SELECT ... runs one SELECT and returns its rows as CSV\n",
        )
            .into_response();
    }
    let read = app
        .sql
        .query(
            &app.dashboard.location,
            &app.dashboard.dataset,
            &sql,
            &CSV_LIMITS,
        )
        .await;
    match read {
        Ok(result) => {
            let mut response = (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{}.csv\"", app.dashboard.dataset),
                    ),
                ],
                result.to_csv(CsvFor::Spreadsheets),
            )
                .into_response();
            if let Some(cut) = &result.truncated
                && let Ok(v) = cut.parse()
            {
                response.headers_mut().insert("x-bdi-truncated", v);
            }
            response
        }
        Err(QueryError::Refused(refused)) => {
            (StatusCode::BAD_REQUEST, format!("refused: {refused}\n")).into_response()
        }
        Err(e @ QueryError::Busy(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("the query failed: {e}\n")).into_response(),
    }
}
