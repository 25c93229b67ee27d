//! `bdi runs ...`: list, get and logs.

use bdi_domain::Service;
use bdi_domain::models::{PageQuery, Run, RunQuery};
use serde_json::{Value, json};

use super::{Ctx, flow_id, run_id, run_status, window};
use crate::cli::{RunListArgs, RunLogsArgs, RunsCommand};
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Fields, Table, View, to_value};

pub(crate) async fn run(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    cmd: RunsCommand,
) -> Result<ExitStatus, CliError> {
    match cmd {
        RunsCommand::List(a) => list(ctx, svc, a).await,
        RunsCommand::Get(a) => {
            let flow = flow_id(&a.flow)?;
            let rid = run_id(&a.run)?;
            let r = svc.backend().get_run(&ctx.env, &flow, &rid).await?;
            let fields = run_fields(ctx, &r);
            ctx.emit(&to_value(&r), View::Fields(fields))?;
            if !r.status.is_terminal() {
                ctx.note("the run is still going; check again in a minute")?;
            } else if !r.status.is_success() {
                ctx.note(&format!(
                    "read the failure with `bdi runs logs {flow} {} --errors-only`",
                    r.run_id
                ))?;
            }
            Ok(ExitStatus::Success)
        }
        RunsCommand::Logs(a) => logs(ctx, svc, a).await,
    }
}

fn time(t: Option<&bdi_domain::models::Timestamp>) -> String {
    t.map(|t| t.0.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn run_fields(ctx: &Ctx<'_>, r: &Run) -> Fields {
    let mut f = Fields::new();
    f.add("run", r.run_id.clone());
    f.opt("run group", Some(r.run_group_id.clone()));
    f.opt("data flow", Some(r.river_cross_id.clone()));
    f.add("status", ctx.out_style.status(r.status.as_str()));
    f.opt("source", r.source_name.clone());
    f.opt("target", r.target_name.clone());
    f.opt("started", Some(time(r.start_date_utc.as_ref())));
    f.opt("ended", Some(time(r.end_date_utc.as_ref())));
    f.opt("duration", r.duration_secs().map(|s| format!("{s:.1} s")));
    if r.rpu > 0.0 || r.units > 0.0 {
        f.add("rpu", format!("{}", r.rpu.max(r.units)));
    }
    f.opt("error", r.error_description.clone());
    f
}

async fn list(ctx: &mut Ctx<'_>, svc: &Service, a: RunListArgs) -> Result<ExitStatus, CliError> {
    let flow = flow_id(&a.flow)?;
    let (start, end) = window(&a.window)?;
    let status = run_status(a.status.as_deref())?;
    let mut query = RunQuery::window(start, end);
    query.page = PageQuery::new(a.page, a.per_page);
    query.target_name = a.target;
    query.run_group_id = a.run_group.as_deref().map(run_id).transpose()?;
    let page = svc.backend().list_runs(&ctx.env, &flow, &query).await?;
    let has_next = page.has_next(a.per_page);
    let (page_no, total) = (page.page, page.total_items);
    let mut runs = page.items;
    if let Some(s) = &status {
        runs.retain(|r| r.status.as_str() == s);
    }
    let mut table = Table::new([
        "RUN", "STATUS", "TARGET", "STARTED", "DURATION", "RPU", "ERROR",
    ]);
    for r in &runs {
        table.row([
            r.run_id.clone(),
            ctx.out_style.status(r.status.as_str()),
            r.target_name.clone().unwrap_or_default(),
            time(r.start_date_utc.as_ref()),
            r.duration_secs()
                .map(|s| format!("{s:.0}s"))
                .unwrap_or_default(),
            format!("{}", r.rpu.max(r.units)),
            short(r.error_description.as_deref().unwrap_or_default(), 60),
        ]);
    }
    let data = Value::Array(runs.iter().map(to_value).collect());
    ctx.emit(
        &data,
        View::Table {
            table,
            empty: "no runs in this window",
        },
    )?;
    if has_next {
        ctx.note(&format!(
            "page {page_no} of {total} runs; the next page: --page {}",
            page_no + 1
        ))?;
    }
    Ok(ExitStatus::Success)
}

async fn logs(ctx: &mut Ctx<'_>, svc: &Service, a: RunLogsArgs) -> Result<ExitStatus, CliError> {
    let flow = flow_id(&a.run.flow)?;
    let rid = run_id(&a.run.run)?;
    let text = svc.backend().get_run_logs(&ctx.env, &flow, &rid).await?;
    let sel = bdi_domain::logs::select(&text, a.tail, a.errors_only);
    let (total, kept) = (sel.total, sel.kept);
    let csv = if sel.csv.is_empty() {
        sel.csv
    } else {
        sel.csv + "\n"
    };
    let data = json!({"run_id": rid.to_string(), "total_lines": total, "returned_lines": kept, "csv": csv});
    ctx.emit(&data, View::Text(csv.clone()))?;
    if total == 0 {
        ctx.note("the log is empty: the source may keep no logs, or the run is older than the retention (about 2 weeks)")?;
    } else if kept < total {
        ctx.note(&format!("showing {kept} of {total} lines"))?;
    }
    Ok(ExitStatus::Success)
}
