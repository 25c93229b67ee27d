//! `bdi load flow|info|query`: a thin adapter over `bdi-load`. It resolves the configuration
//! and the destination, checks every name before any request, shows progress on stderr (one
//! line per resource, on a terminal only), and prints a summary that reads like dlt's.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bdi_api_client::{FlowClient, FlowConfig};
use bdi_load::destination::duckdb::DuckDb;
use bdi_load::flow::{DEFAULT_RESOURCES, FlowSource, RESOURCES, resource};
use bdi_load::query::{QueryError, QueryLimits, QueryResult};
use bdi_load::{LoadError, LoadOptions, LoadReport, Progress, Resource, WriteDisposition};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use super::Ctx;
use crate::cli::{LoadCommand, LoadFlowArgs, LoadQueryArgs, LoadTargetArgs};
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Fields, Format, Table, View, csv_field, to_value};

/// `bdi load ...`.
pub(crate) async fn run(
    ctx: &mut Ctx<'_>,
    cmd: LoadCommand,
    sandbox: bool,
) -> Result<ExitStatus, CliError> {
    match cmd {
        LoadCommand::Flow(a) => flow(ctx, a, sandbox).await,
        LoadCommand::Info(a) => info(ctx, &a),
        LoadCommand::Query(a) => query(ctx, &a),
    }
}

/// The DuckDB file of `--destination duckdb:PATH`, else `<pipeline>.duckdb` here.
pub(crate) fn destination_path(target: &LoadTargetArgs) -> Result<PathBuf, CliError> {
    let Some(d) = &target.destination else {
        return Ok(PathBuf::from(format!("{}.duckdb", target.pipeline)));
    };
    let path = d
        .strip_prefix("duckdb:")
        .map(|p| p.strip_prefix("//").unwrap_or(p))
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| {
            CliError::usage(
                format!("unknown destination {d:?}"),
                Some("use --destination duckdb:PATH, e.g. duckdb:/data/flow.duckdb".to_owned()),
            )
        })?;
    Ok(PathBuf::from(path))
}

fn check_names(target: &LoadTargetArgs) -> Result<(), CliError> {
    for (what, value) in [("pipeline", &target.pipeline), ("dataset", &target.dataset)] {
        let ok = !value.is_empty()
            && value.len() <= 100
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(CliError::usage(
                format!("invalid --{what} {}", bdi_domain::error::quote(value)),
                Some(format!("a {what} name is 1 to 100 letters, digits, _ or -")),
            ));
        }
    }
    Ok(())
}

/// The resources to load, with their dispositions; every name is checked before any request.
pub(crate) fn resources(a: &LoadFlowArgs) -> Result<Vec<Resource>, CliError> {
    let valid = RESOURCES.join(", ");
    let names: Vec<String> = if a.resources.is_empty() {
        DEFAULT_RESOURCES.iter().map(|s| (*s).to_owned()).collect()
    } else {
        a.resources
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let unknown: Vec<&String> = names.iter().filter(|n| resource(n).is_none()).collect();
    if !unknown.is_empty() || names.is_empty() {
        let list: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(CliError::usage(
            format!("unknown resource(s): {}", list.join(", ")),
            Some(format!(
                "--resources takes a comma-separated list of: {valid}"
            )),
        ));
    }
    let mut out: Vec<Resource> = Vec::new();
    // In the source's order, each once.
    for name in RESOURCES {
        if names.iter().any(|n| n == name)
            && let Some(r) = resource(name)
        {
            out.push(r);
        }
    }
    for spec in &a.write_disposition {
        let (name, how) = spec.split_once('=').ok_or_else(|| {
            CliError::usage(
                format!("invalid --write-disposition {spec:?}"),
                Some("write it RES=append|replace|merge, e.g. users=merge".to_owned()),
            )
        })?;
        let how = WriteDisposition::parse(how).ok_or_else(|| {
            CliError::usage(
                format!("invalid write disposition {how:?} for {name}"),
                Some("use append, replace or merge".to_owned()),
            )
        })?;
        let r = out
            .iter_mut()
            .find(|r| r.name == name.trim())
            .ok_or_else(|| {
                CliError::usage(
                    format!("--write-disposition names {name:?}, which is not being loaded"),
                    Some(format!("name one of the loaded resources: {valid}")),
                )
            })?;
        r.write_disposition = how;
    }
    Ok(out)
}

/// The Flow client's configuration: flags, then the variables, then the profile.
fn flow_config(ctx: &Ctx<'_>, a: &LoadFlowArgs) -> Result<FlowConfig, CliError> {
    let flags = bdi_api_client::profile::FlowOverrides {
        api_url: a.flow_api_url.clone(),
        tenant_id: a.tenant_id.clone(),
    };
    let resolved = bdi_api_client::profile::resolve_with_flow(
        &ctx.global.overrides,
        &flags,
        ctx.global.profile.as_deref(),
        ctx.vars,
    )
    .map_err(|e| {
        CliError::config(
            e.to_string(),
            "list the profiles with `bdi configure --list`, or set BOOMI_FLOW_API_KEY",
        )
    })?;
    FlowConfig::from_lookup(|name| resolved.get(name)).map_err(|e| {
        CliError::config(
            e.to_string(),
            "set BOOMI_FLOW_API_KEY (and BOOMI_FLOW_TENANT_ID), or save them with `bdi configure --flow`; try `bdi --sandbox load flow` first",
        )
    })
}

fn load_error(e: LoadError) -> CliError {
    match e {
        LoadError::Source { resource, error } => {
            let mut err = CliError::domain(error, &crate::errors::Doing::Other);
            err.message = format!("{resource}: {}", err.message);
            err.detail
                .push("nothing of this load was kept: the dataset is as it was before".to_owned());
            err
        }
        LoadError::Destination(e) => {
            let mut err = CliError::local(e.to_string());
            err.hint =
                Some("nothing of this load was kept: the dataset is as it was before".to_owned());
            err
        }
        LoadError::Aborted(m) => CliError::local(m),
    }
}

/// One progress line per resource.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<Vec<(String, ProgressBar)>>,
}

impl Bars {
    fn new(visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(Vec::new()),
        }
    }

    fn on(&self, p: &Progress) {
        let mut bars = self
            .bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match p {
            Progress::Started(name) => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                let style =
                    ProgressStyle::with_template("{spinner} {prefix:<14} {msg} [{elapsed}]")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner());
                bar.set_style(style);
                bar.set_prefix(name.clone());
                bar.set_message("reading");
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.push((name.clone(), bar));
            }
            Progress::Page {
                resource,
                pages,
                rows,
            } => {
                if let Some((_, bar)) = bars.iter().find(|(n, _)| n == resource) {
                    bar.set_message(format!("{pages} pages, {rows} rows"));
                }
            }
            Progress::Finished(r) => {
                if let Some((_, bar)) = bars.iter().find(|(n, _)| *n == r.name) {
                    bar.finish_with_message(format!(
                        "{} pages, {} rows ({} child rows{})",
                        r.pages,
                        r.rows,
                        r.child_rows,
                        if r.skipped > 0 {
                            format!(", {} already loaded", r.skipped)
                        } else {
                            String::new()
                        }
                    ));
                }
            }
        }
    }
}

async fn flow(ctx: &mut Ctx<'_>, a: LoadFlowArgs, sandbox: bool) -> Result<ExitStatus, CliError> {
    check_names(&a.target)?;
    let path = destination_path(&a.target)?;
    let resources = resources(&a)?;
    let sandbox = if sandbox {
        Some(bdi_api_client::EmbeddedSandbox::start().await?)
    } else {
        None
    };
    let mut config = match &sandbox {
        Some(embedded) => embedded
            .flow_config()
            .map_err(|e| CliError::local(e.to_string()))?,
        None => flow_config(ctx, &a)?,
    };
    config.page_size = a.page_size;
    let client = FlowClient::new(config).map_err(CliError::from)?;
    let dest = DuckDb::open(&path).map_err(|e| load_error(LoadError::Destination(e)))?;
    let options = LoadOptions {
        pipeline: a.target.pipeline.clone(),
        dataset: a.target.dataset.clone(),
        resources,
        full_refresh: a.full_refresh,
    };
    let bars = Arc::new(Bars::new(ctx.spinners));
    let progress_bars = Arc::clone(&bars);
    let progress: bdi_load::pipeline::ProgressFn = Arc::new(move |p| progress_bars.on(p));
    let source = Arc::new(FlowSource::new(client));
    let guard = ctx.ctrl_c_guard();
    let cancel = ctx.cancel.clone();
    let outcome = tokio::select! {
        r = bdi_load::load(source, Box::new(dest), options, Some(progress)) => Some(r),
        () = cancel.cancelled() => None,
    };
    drop(guard);
    let _ = bars.multi.clear();
    if let Some(sb) = sandbox {
        sb.shutdown().await;
    }
    let report = match outcome {
        Some(r) => r.map_err(load_error)?,
        None => {
            return Err(CliError::local(
                "interrupted: nothing of this load was kept; the dataset is as it was before",
            ));
        }
    };
    summary(ctx, &report, &path)
}

fn summary(
    ctx: &mut Ctx<'_>,
    r: &LoadReport,
    path: &std::path::Path,
) -> Result<ExitStatus, CliError> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let data = json!({
        "pipeline": r.pipeline,
        "load_id": r.load_id,
        "dataset": r.dataset,
        "destination": format!("duckdb:{}", absolute.display()),
        "seconds": r.seconds,
        "rows": r.total_rows(),
        "resources": to_value(&r.resources),
        "tables": r.tables.iter().map(|(t, n)| json!({"table": t, "rows": n})).collect::<Vec<_>>(),
        "schema_version_hash": r.schema_version_hash,
    });
    let mut text = format!(
        "Pipeline {} load step completed in {:.2} seconds\n\
         1 load package(s) were loaded to destination duckdb and into dataset {}\n\
         The duckdb destination used duckdb://{} location to store data\n\
         Load package {} is LOADED and contains no failed jobs\n\n",
        r.pipeline,
        r.seconds,
        r.dataset,
        absolute.display(),
        r.load_id
    );
    let mut table = Table::new([
        "RESOURCE",
        "WRITE",
        "PAGES",
        "ROWS",
        "CHILD ROWS",
        "ALREADY LOADED",
    ]);
    for res in &r.resources {
        table.row([
            res.name.clone(),
            res.write_disposition.clone(),
            res.pages.to_string(),
            res.rows.to_string(),
            res.child_rows.to_string(),
            res.skipped.to_string(),
        ]);
    }
    let mut rendered = Vec::new();
    let _ = table.write(&mut rendered, ctx.out_style);
    text.push_str(&String::from_utf8_lossy(&rendered));
    ctx.emit(&data, View::Text(text))?;
    Ok(ExitStatus::Success)
}

fn info(ctx: &mut Ctx<'_>, a: &LoadTargetArgs) -> Result<ExitStatus, CliError> {
    check_names(a)?;
    let path = destination_path(a)?;
    let mut db = DuckDb::open_read_only(&path).map_err(|e| CliError::local(e.to_string()))?;
    let info = db
        .info(&a.dataset, &a.pipeline)
        .map_err(|e| CliError::local(e.to_string()))?;
    let data = to_value(&info);
    let mut text = String::new();
    let mut tables = Table::new(["TABLE", "ROWS", "COLUMNS"]);
    for t in &info.tables {
        tables.row([t.name.clone(), t.rows.to_string(), t.columns.to_string()]);
    }
    let mut loads = Table::new(["LOAD ID", "STATUS", "LOADED AT"]);
    for l in &info.loads {
        let status = if l.status == 0 {
            "complete"
        } else {
            "incomplete"
        };
        loads.row([l.load_id.clone(), status.to_owned(), l.inserted_at.clone()]);
    }
    let mut state = Fields::new();
    for (name, s) in &info.state.resources {
        state.add(
            name.clone(),
            format!(
                "{} > {} ({} ids at that value)",
                s.cursor,
                s.last_value.clone().unwrap_or_else(|| "-".to_owned()),
                s.ids_at_last_value.len()
            ),
        );
    }
    let mut buf = Vec::new();
    let _ = writeln!(buf, "Dataset {} in duckdb:{}\n", a.dataset, path.display());
    let _ = tables.write(&mut buf, ctx.out_style);
    let _ = writeln!(buf, "\nLast loads");
    let _ = loads.write(&mut buf, ctx.out_style);
    if !info.state.resources.is_empty() {
        let _ = writeln!(buf, "\nIncremental state of pipeline {}", a.pipeline);
        let _ = state.write(&mut buf, ctx.out_style);
    }
    text.push_str(&String::from_utf8_lossy(&buf));
    ctx.emit(&data, View::Text(text))?;
    Ok(ExitStatus::Success)
}

use std::io::Write as _;

fn query(ctx: &mut Ctx<'_>, a: &LoadQueryArgs) -> Result<ExitStatus, CliError> {
    check_names(&a.target)?;
    let path = destination_path(&a.target)?;
    let db = DuckDb::open_read_only(&path).map_err(|e| CliError::local(e.to_string()))?;
    let result = db
        .query(&a.target.dataset, &a.sql, &QueryLimits::TERMINAL)
        .map_err(|e| match e {
            QueryError::Refused(r) => CliError::usage(
                r.0,
                Some("bdi load query runs one SELECT on the loaded data".to_owned()),
            ),
            e => CliError::usage(
                format!("the query failed: {e}"),
                Some(format!(
                    "the dataset's tables ({}.<table>, or just <table>) are listed by `bdi load info`",
                    a.target.dataset
                )),
            ),
        })?;
    if let Some(cut) = &result.truncated {
        let _ = writeln!(ctx.err, "note: {cut}");
    }
    match ctx.format {
        Format::Csv => {
            let QueryResult { columns, rows, .. } = &result;
            let mut text = columns
                .iter()
                .map(|c| csv_field(&Value::String(c.clone())))
                .collect::<Vec<_>>()
                .join(",");
            text.push('\n');
            for row in rows {
                text.push_str(&row.iter().map(csv_field).collect::<Vec<_>>().join(","));
                text.push('\n');
            }
            ctx.out
                .write_all(text.as_bytes())
                .map_err(|e| super::io_error(&e))?;
        }
        Format::Json | Format::Yaml => {
            let objects: Vec<Value> = result
                .rows
                .iter()
                .map(|row| {
                    Value::Object(
                        result
                            .columns
                            .iter()
                            .cloned()
                            .zip(row.iter().cloned())
                            .collect(),
                    )
                })
                .collect();
            ctx.emit(&Value::Array(objects), View::Yaml)?;
        }
        Format::Table => {
            let mut table = Table::new(result.columns.iter().map(|c| c.to_uppercase()));
            for row in &result.rows {
                table.row(row.iter().map(|v| match v {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }));
            }
            ctx.emit(
                &Value::Null,
                View::Table {
                    table,
                    empty: "no rows",
                },
            )?;
        }
    }
    Ok(ExitStatus::Success)
}
