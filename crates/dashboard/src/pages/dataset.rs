//! The overview (tables, columns and types, row counts, loads with the rows each wrote, the
//! incremental state) and a table's page (its columns and first rows).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bdi_load::location::Reader;
use bdi_load::query::{ColumnInfo, DatasetInfo};
use maud::html;
use serde_json::Value;

use super::{
    META_LIMITS, Nav, PAGE_LIMITS, PREVIEW_ROWS, error_page, ident, layout, result_table, sql_href,
    table_names, unreadable,
};
use crate::charts::charts;
use crate::svg;
use crate::{App, DashboardError};

/// The columns of the dataset's tables (or of one), by table.
fn columns(
    r: &mut Reader,
    dataset: &str,
    table: Option<&str>,
) -> Result<BTreeMap<String, Vec<ColumnInfo>>, DashboardError> {
    let mut out: BTreeMap<String, Vec<ColumnInfo>> = BTreeMap::new();
    for c in r
        .columns(dataset, table)
        .map_err(|e| DashboardError::Unreadable(format!("reading the columns: {e}")))?
    {
        out.entry(c.table.clone()).or_default().push(c);
    }
    Ok(out)
}

/// Rows written per load and table, for the loads `info` lists.
fn rows_per_load(
    r: &mut Reader,
    dataset: &str,
    info: &DatasetInfo,
    columns: &BTreeMap<String, Vec<ColumnInfo>>,
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
    // Values go in as parameters, never into the SQL: the load ids first (`$1`...), then a
    // table's name per part.
    let mut params: Vec<&str> = info.loads.iter().map(|l| l.load_id.as_str()).collect();
    let ids = (1..=params.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    // A top-level table names its load in `_dlt_load_id`; a child table has
    // its top-level row's, through `_dlt_root_id` or up its parents' `_dlt_parent_id`.
    let mut parts: Vec<String> = Vec::new();
    for t in &info.tables {
        let name = &t.name;
        let part = (|| {
            let named = format!("CAST(${} AS VARCHAR)", params.len() + 1);
            if has(name, "_dlt_load_id") {
                return Some(format!(
                    "SELECT _dlt_load_id AS load_id, {named} AS table_name, count(*) AS row_count FROM {} \
                     WHERE _dlt_load_id IN ({ids}) GROUP BY _dlt_load_id",
                    ident(name)
                ));
            }
            // The tree is the one the loads recorded (`_bdi_schema`), never guessed from names.
            let parent = |table: &str| -> Option<String> {
                info.tables
                    .iter()
                    .find(|t| t.name == table)
                    .and_then(|t| t.parent.clone())
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
                (
                    format!("JOIN {} t1 ON t0._dlt_root_id = t1._dlt_id", ident(&root)),
                    1,
                )
            } else {
                let joins = chain[1..]
                    .iter()
                    .enumerate()
                    .map(|(i, up)| {
                        format!(
                            "JOIN {} t{} ON t{i}._dlt_parent_id = t{}._dlt_id",
                            ident(up),
                            i + 1,
                            i + 1
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                (joins, chain.len() - 1)
            };
            Some(format!(
                "SELECT t{top}._dlt_load_id AS load_id, {named} AS table_name, count(*) AS row_count \
                 FROM {} t0 {joins} WHERE t{top}._dlt_load_id IN ({ids}) GROUP BY t{top}._dlt_load_id",
                ident(name)
            ))
        })();
        if let Some(part) = part {
            parts.push(part);
            params.push(name);
        }
    }
    if parts.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT load_id, table_name, row_count FROM ({}) AS per_table ORDER BY load_id, table_name",
        parts.join(" UNION ALL ")
    );
    let result = r
        .query_params(dataset, &sql, &params, &META_LIMITS)
        .map_err(|e| DashboardError::Unreadable(format!("counting the rows of each load: {e}")))?;
    for row in result.rows {
        let load = svg::label(&row[0]);
        let n = svg::number(&row[2]).unwrap_or(0.0) as i64;
        out.entry(load).or_default().push((svg::label(&row[1]), n));
    }
    Ok(out)
}

pub(super) async fn overview(State(app): State<Arc<App>>) -> Response {
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

pub(super) async fn table(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    let dataset = app.dashboard.dataset.clone();
    let wanted = name.clone();
    let read = app
        .read(move |r| {
            if !table_names(r, &dataset)?.contains(&wanted) {
                return Ok(None);
            }
            let columns = columns(r, &dataset, Some(&wanted))?.remove(&wanted);
            let counted = r
                .query(
                    &dataset,
                    &format!("SELECT count(*) FROM {}", ident(&wanted)),
                    &META_LIMITS,
                )
                .map_err(|e| DashboardError::Unreadable(e.to_string()))?;
            let t = bdi_load::query::TableInfo {
                parent: None,
                rows: counted
                    .rows
                    .first()
                    .and_then(|row| row.first())
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                columns: columns.as_ref().map_or(0, |c| c.len() as i64),
                name: wanted,
            };
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
