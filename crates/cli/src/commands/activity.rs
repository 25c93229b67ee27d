//! `bdi activity ...`: reports over the Activities endpoints (summary, flow, groups, group).

use bdi_domain::Service;
use bdi_domain::models::{ActivityQuery, PageQuery};
use serde_json::{Value, json};

use super::{Ctx, flow_id, run_id, run_status, window};
use crate::cli::ActivityCommand;
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Table, View, cell};

/// A table of the scalar fields of JSON objects of unknown shape (the first seven keys seen).
fn generic_table(items: &[Value]) -> Table {
    let mut keys: Vec<String> = Vec::new();
    for item in items {
        for (k, v) in item.as_object().into_iter().flatten() {
            if !v.is_object() && !v.is_array() && !keys.contains(k) && keys.len() < 7 {
                keys.push(k.clone());
            }
        }
    }
    let mut table = Table::new(keys.iter().map(|k| k.to_ascii_uppercase()));
    for item in items {
        table.row(keys.iter().map(|k| cell(item.get(k))));
    }
    table
}

pub(crate) async fn run(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    cmd: ActivityCommand,
) -> Result<ExitStatus, CliError> {
    let backend = svc.backend();
    match cmd {
        ActivityCommand::Summary(a) => {
            let (start, end) = window(&a.window)?;
            let query = ActivityQuery {
                start_time: Some(start),
                end_time: Some(end),
                search: a.search,
                ..Default::default()
            };
            let statistics = backend.activities_statistics(&ctx.env, &query).await?;
            let data = if a.flows {
                let q = ActivityQuery {
                    page: Some(PageQuery::new(1, 100)),
                    ..query
                };
                let page = backend.activities(&ctx.env, &q).await?;
                json!({"statistics": statistics, "data_flows": page.items, "total_data_flows": page.total_items})
            } else {
                json!({"statistics": statistics})
            };
            ctx.emit(&data, View::Yaml)?;
        }
        ActivityCommand::Flow(a) => {
            let flow = flow_id(&a.flow)?;
            let (start, end) = window(&a.window)?;
            let status = run_status(a.status.as_deref())?;
            let query = ActivityQuery {
                start_time: Some(start),
                end_time: Some(end),
                status: status.into_iter().collect(),
                ..Default::default()
            };
            let statistics = backend
                .data_flow_statistics(&ctx.env, &flow, &query)
                .await?;
            let targets = backend.data_flow_targets(&ctx.env, &flow, &query).await?;
            ctx.emit(
                &json!({"statistics": statistics, "targets": targets}),
                View::Yaml,
            )?;
        }
        ActivityCommand::Groups(a) => {
            let flow = flow_id(&a.flow)?;
            let (start, end) = window(&a.window)?;
            let status = run_status(a.status.as_deref())?;
            let query = ActivityQuery {
                start_time: Some(start),
                end_time: Some(end),
                status: status.into_iter().collect(),
                page: Some(PageQuery::new(a.page, 50)),
                ..Default::default()
            };
            let page = backend
                .data_flow_run_groups(&ctx.env, &flow, &query)
                .await?;
            let has_next = page.has_next(50);
            let table = generic_table(&page.items);
            ctx.emit(
                &Value::Array(page.items),
                View::Table {
                    table,
                    empty: "no run groups in this window",
                },
            )?;
            if has_next {
                ctx.note(&format!(
                    "page {} of {} run groups; the next page: --page {}",
                    page.page,
                    page.total_items,
                    page.page + 1
                ))?;
            }
        }
        ActivityCommand::Group(a) => {
            let flow = flow_id(&a.flow)?;
            let group = run_id(&a.group)?;
            let v = backend.data_flow_run_group(&ctx.env, &flow, &group).await?;
            ctx.emit(&v, View::Yaml)?;
        }
    }
    Ok(ExitStatus::Success)
}
