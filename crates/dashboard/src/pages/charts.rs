//! The charts page: each chart's query run, drawn, and shown with its SQL and its numbers.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bdi_load::query::QueryResult;
use maud::{Markup, html};
use serde_json::Value;

use super::{Nav, PAGE_LIMITS, layout, result_table, sql_href, table_names, unreadable};
use crate::App;
use crate::charts::{Chart, Shape, charts};
use crate::svg::{self, BarRow, Stacked};

/// A chart's result, or why it has none.
enum Drawn {
    Result(QueryResult),
    MissingTables(Vec<&'static str>),
    Failed(String),
}

pub(super) async fn charts_page(State(app): State<Arc<App>>) -> Response {
    let dataset = app.dashboard.dataset.clone();
    let list = charts(app.dashboard.kind);
    let read = app
        .read(move |r| {
            let tables = table_names(r, &dataset)?;
            Ok(list
                .iter()
                .map(|c| {
                    let missing: Vec<&'static str> = c
                        .tables
                        .iter()
                        .copied()
                        .filter(|t| !tables.iter().any(|name| name == t))
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
        crate::Kind::BoomiFlow => "bdi load flow",
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
