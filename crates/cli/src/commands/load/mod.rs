//! `bdi load flow|history|info|query|show`: a thin adapter over `bdi-load`. It resolves the
//! configuration and the destination (`duckdb:PATH` or `postgres://...`), checks every name
//! before any request, shows progress on stderr (one line per resource, on a terminal only), and
//! prints a summary that reads like dlt's.

mod show;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bdi_api_client::{BoomiFlowClient, BoomiFlowConfig};
use bdi_domain::{EnvironmentId, Scope, Service};
use bdi_load::boomi_flow::{BoomiFlowSource, DEFAULT_RESOURCES, RESOURCES, resource};
use bdi_load::history::{self, HistoryOptions, HistoryResource, HistorySource, PlanError, Skipped};
use bdi_load::location::{Location, Reader};
use bdi_load::query::{CsvFor, QueryError, QueryLimits};
use bdi_load::{
    Destination, LoadError, LoadOptions, LoadReport, Progress, Resource, Source, SourceError,
    WriteDisposition,
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use super::Ctx;
use crate::cli::{
    LoadBoomiFlowArgs, LoadCommand, LoadHistoryArgs, LoadQueryArgs, LoadReadArgs, LoadTargetArgs,
};
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Fields, Format, Table, View, to_value};

/// `bdi load ...` but `history`, which needs the account (see [`history`]).
pub(crate) async fn run(
    ctx: &mut Ctx<'_>,
    cmd: LoadCommand,
    sandbox: bool,
) -> Result<ExitStatus, CliError> {
    match cmd {
        LoadCommand::Flow(a) => flow(ctx, a, sandbox).await,
        LoadCommand::History(_) => Err(CliError::local("bdi load history needs the account")),
        LoadCommand::Info(a) => info(ctx, &a).await,
        LoadCommand::Query(a) => query(ctx, &a).await,
        LoadCommand::Show(a) => show::show(ctx, &a, sandbox).await,
    }
}

/// Which defaults a dataset takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Boomi Flow: `boomi_flow_pipeline`, `boomi_flow_data`.
    BoomiFlow,
    /// The run history: `data_integration_pipeline`, `data_integration`.
    History,
}

/// A dataset, resolved.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) pipeline: String,
    pub(crate) dataset: String,
    pub(crate) location: Location,
}

/// The pipeline, dataset and destination of the flags, then `BDI_LOAD_DESTINATION`, then the
/// defaults of `kind`; every name checked.
pub(crate) fn target(ctx: &Ctx<'_>, t: &LoadTargetArgs, kind: Kind) -> Result<Target, CliError> {
    let (pipeline, dataset) = match kind {
        Kind::BoomiFlow => ("boomi_flow_pipeline", "boomi_flow_data"),
        Kind::History => (history::PIPELINE, history::DATASET),
    };
    let pipeline = t.pipeline.clone().unwrap_or_else(|| pipeline.to_owned());
    let dataset = t.dataset.clone().unwrap_or_else(|| dataset.to_owned());
    for (what, value) in [("pipeline", &pipeline), ("dataset", &dataset)] {
        let ok = !value.is_empty()
            && value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(CliError::usage(
                format!("invalid --{what} {}", bdi_domain::error::quote(value)),
                Some(format!("a {what} name is 1 to 63 letters, digits, _ or -")),
            ));
        }
    }
    let named = t
        .destination
        .clone()
        .or_else(|| (ctx.vars)("BDI_LOAD_DESTINATION").filter(|v| !v.trim().is_empty()));
    let location = match named {
        Some(d) => Location::parse(&d).map_err(|e| {
            CliError::usage(
                format!("invalid --destination: {e}"),
                Some("e.g. --destination duckdb:/data/flow.duckdb".to_owned()),
            )
        })?,
        None => Location::default_for(&pipeline),
    };
    Ok(Target {
        pipeline,
        dataset,
        location,
    })
}

/// Opens the destination for a load, off the async threads (a database client may block). A
/// DuckDB file another process holds (a dashboard page, a query) is waited for, with a note.
async fn open(location: &Location) -> Result<Box<dyn Destination>, CliError> {
    let location = location.clone();
    tokio::task::spawn_blocking(move || {
        let mut wait = bdi_load::destination::duckdb::lock_waiter();
        let mut noted = false;
        location.open_with(&mut || {
            if !noted {
                noted = true;
                #[allow(
                    clippy::print_stderr,
                    reason = "a note while the blocking open waits; the command's writer is on the async side"
                )]
                {
                    eprintln!(
                        "note: {} is held by another process; waiting up to {} s for it",
                        location.describe(),
                        bdi_load::destination::lock_wait().as_secs()
                    );
                }
            }
            wait()
        })
    })
        .await
        .map_err(|e| CliError::local(format!("opening the destination stopped: {e}")))?
        .map_err(|e| load_error(LoadError::Destination(e), &crate::errors::Doing::Other))
}

/// Runs `f` on the dataset opened read-only, off the async threads.
async fn read<T: Send + 'static>(
    location: &Location,
    f: impl FnOnce(&mut Reader) -> Result<T, CliError> + Send + 'static,
) -> Result<T, CliError> {
    location.read(f).await.map_err(destination_error)?
}

/// A destination's error in `bdi`'s words: what to run next for the cases that have one.
pub(crate) fn destination_error(e: bdi_load::DestinationError) -> CliError {
    let mut err = CliError::local(e.to_string());
    err.hint = e.next_step().map(|step| dataset_step(step).to_owned());
    err
}

/// A loader's next step, as a `bdi load` user takes it.
pub(crate) fn dataset_step(step: bdi_load::DatasetStep) -> &'static str {
    use bdi_load::DatasetStep as S;
    match step {
        S::LoadFirst => {
            "load data first (`bdi load flow`, `bdi load history`), or name the file with --destination duckdb:PATH"
        }
        S::WaitForHolder => {
            "try again when the other process or load ends (BDI_LOAD_LOCK_WAIT_MS sets how long a load waits)"
        }
        S::FullRefresh => "load again with --full-refresh to start the pipeline from scratch",
        S::CheckDestination => {
            "check --destination (or BDI_LOAD_DESTINATION): duckdb:PATH, or postgres://user:password@host:5432/database with a server that answers"
        }
        S::ShortenNames => "choose a shorter --dataset or resource name",
        S::FixQuery => "send one read-only SELECT",
        S::NarrowQuery => "aggregate, filter on a time column, or add LIMIT",
        S::UseReaderRole => "connect as a read-only role (docs/load.md, \"A role for reading\")",
        S::RetrySoon => "try again in a moment",
    }
}

/// The resources to load, with their dispositions; every name is checked before any request.
pub(crate) fn resources(a: &LoadBoomiFlowArgs) -> Result<Vec<Resource>, CliError> {
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
        let list: Vec<String> = unknown
            .iter()
            .map(|s| bdi_domain::error::quote(s))
            .collect();
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

/// The Boomi Flow client's configuration: flags, then the variables, then the profile.
fn boomi_flow_config(ctx: &Ctx<'_>, a: &LoadBoomiFlowArgs) -> Result<BoomiFlowConfig, CliError> {
    let flags = bdi_api_client::profile::BoomiFlowOverrides {
        api_url: a.flow_api_url.clone(),
        tenant_id: a.tenant_id.clone(),
    };
    let resolved = bdi_api_client::profile::resolve_with_boomi_flow(
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
    BoomiFlowConfig::from_lookup(|name| resolved.get(name)).map_err(|e| CliError::boomi_flow(&e))
}

fn load_error(e: LoadError, doing: &crate::errors::Doing) -> CliError {
    match e {
        LoadError::Source { resource, error } => {
            // Each API's error by its type: a Boomi Flow 429 is the Boomi Flow API's limit, not
            // the Data Integration platform's.
            let mut err = match error {
                SourceError::BoomiFlow(e) => CliError::boomi_flow(&e),
                SourceError::DataIntegration(e) => CliError::domain(e, doing),
                unknown @ SourceError::UnknownResource { .. } => {
                    CliError::usage(unknown.to_string(), None)
                }
            };
            err.message = format!("{resource}: {}", err.message);
            err.detail
                .push("nothing of this load was kept: the dataset is as it was before".to_owned());
            err
        }
        LoadError::Destination(e) => {
            let mut err = destination_error(e);
            err.detail
                .push("nothing of this load was kept: the dataset is as it was before".to_owned());
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

async fn flow(
    ctx: &mut Ctx<'_>,
    a: LoadBoomiFlowArgs,
    sandbox: bool,
) -> Result<ExitStatus, CliError> {
    let target = target(ctx, &a.target, Kind::BoomiFlow)?;
    let resources = resources(&a)?;
    let sandbox = if sandbox {
        Some(bdi_api_client::EmbeddedSandbox::start().await?)
    } else {
        None
    };
    let mut config = match &sandbox {
        Some(embedded) => embedded
            .boomi_flow_config()
            .map_err(|e| CliError::local(e.to_string()))?,
        None => boomi_flow_config(ctx, &a)?,
    };
    config.page_size = a.page_size;
    let client = BoomiFlowClient::new(config).map_err(CliError::from)?;
    let source = Arc::new(BoomiFlowSource::new(client));
    let outcome = run_load(
        ctx,
        source,
        &target,
        resources,
        a.full_refresh,
        &crate::errors::Doing::Other,
    )
    .await;
    if let Some(sb) = sandbox {
        sb.shutdown().await;
    }
    let report = outcome?;
    summary(ctx, &report, &target, &[])
}

/// Loads `resources` of `source` into `target`, with progress on stderr; Ctrl-C keeps nothing.
async fn run_load(
    ctx: &mut Ctx<'_>,
    source: Arc<dyn Source>,
    target: &Target,
    resources: Vec<Resource>,
    full_refresh: bool,
    doing: &crate::errors::Doing,
) -> Result<LoadReport, CliError> {
    let dest = open(&target.location).await?;
    let options = LoadOptions {
        pipeline: target.pipeline.clone(),
        dataset: target.dataset.clone(),
        resources,
        full_refresh,
    };
    let bars = Arc::new(Bars::new(ctx.spinners));
    let progress_bars = Arc::clone(&bars);
    let progress: bdi_load::pipeline::ProgressFn = Arc::new(move |p| progress_bars.on(p));
    let guard = ctx.ctrl_c_guard();
    let cancel = ctx.cancel.clone();
    let outcome = tokio::select! {
        r = bdi_load::load(source, dest, options, Some(progress)) => Some(r),
        () = cancel.cancelled() => None,
    };
    drop(guard);
    let _ = bars.multi.clear();
    match outcome {
        Some(r) => r.map_err(|e| load_error(e, doing)),
        None => Err(CliError::local(
            "interrupted: nothing of this load was kept; the dataset is as it was before",
        )),
    }
}

/// The history resources to load; every name is checked before any request.
fn history_resources(a: &LoadHistoryArgs) -> Result<Vec<HistoryResource>, CliError> {
    HistoryResource::select(&a.resources).map_err(|e| {
        CliError::usage(
            format!("unknown resource(s): {}", e.quoted().join(", ")),
            Some(format!(
                "--resources takes a comma-separated list of: {}",
                HistoryResource::names()
            )),
        )
    })
}

/// `bdi load history`, checked: every input is read before the account is.
#[derive(Debug)]
pub(crate) struct HistoryPlan {
    target: Target,
    options: HistoryOptions,
    resources: Vec<HistoryResource>,
    lookback: Duration,
    full_refresh: bool,
}

/// Checks the arguments of `bdi load history` (before any configuration or request).
pub(crate) fn history_plan(ctx: &Ctx<'_>, a: &LoadHistoryArgs) -> Result<HistoryPlan, CliError> {
    let target = target(ctx, &a.target, Kind::History)?;
    let now = chrono::Utc::now();
    let since = history::parse_since(&a.since, now)
        .map_err(|e| CliError::usage(format!("invalid --since: {e}"), None))?;
    let lookback = history::parse_duration(&a.lookback).ok_or_else(|| {
        CliError::usage(
            format!(
                "invalid --lookback {}",
                bdi_domain::error::quote(&a.lookback)
            ),
            Some("write a duration: 2d, 36h, 1w".to_owned()),
        )
    })?;
    let resources = history_resources(a)?;
    let mut environments = a
        .environments
        .iter()
        .map(|e| EnvironmentId::parse(e.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    if environments.is_empty()
        && let Some(id) = ctx.env.id()
    {
        environments.push(id.clone());
    }
    Ok(HistoryPlan {
        target,
        options: HistoryOptions {
            since,
            now,
            environments,
        },
        resources,
        lookback,
        full_refresh: a.full_refresh,
    })
}

/// `bdi load history`.
pub(crate) async fn history(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    plan: HistoryPlan,
) -> Result<ExitStatus, CliError> {
    let HistoryPlan {
        target,
        options,
        resources,
        lookback,
        full_refresh,
    } = plan;
    let source = HistorySource::new(svc.clone(), options);
    let planned = source.plan(&resources).await;
    let skipped = match &planned {
        Ok(plan) => plan.skipped.as_slice(),
        Err(PlanError::NothingReadable { skipped }) => skipped.as_slice(),
        Err(PlanError::Check(_)) => &[],
    };
    for s in skipped {
        let _ = writeln!(
            ctx.err,
            "note: {} skipped: the token lacks the scope {} ({}); its table keeps what it held",
            s.resource, s.scope, s.message
        );
    }
    let plan = planned.map_err(|e| match e {
        PlanError::Check(e) => CliError::domain(e, &crate::errors::Doing::Other),
        e @ PlanError::NothingReadable { .. } => {
            let scopes: Vec<&str> = e.scopes_needed().into_iter().map(Scope::as_str).collect();
            CliError::config(
                "the token may read none of the history's resources",
                format!(
                    "give the token the scope(s) {}, or use another profile",
                    scopes.join(", ")
                ),
            )
        }
    })?;
    let report = run_load(
        ctx,
        Arc::new(source),
        &target,
        plan.specs(lookback),
        full_refresh,
        &crate::errors::Doing::Other,
    )
    .await?;
    summary(ctx, &report, &target, &plan.skipped)
}

fn summary(
    ctx: &mut Ctx<'_>,
    r: &LoadReport,
    target: &Target,
    skipped: &[Skipped],
) -> Result<ExitStatus, CliError> {
    // What the load went on with but a person should know (the JSON holds them per resource).
    for resource in &r.resources {
        for w in &resource.warnings {
            let _ = writeln!(ctx.err, "warning: {}: {w}", resource.name);
        }
    }
    let destination = target.location.describe();
    let kind = target.location.kind();
    let data = json!({
        "pipeline": r.pipeline,
        "load_id": r.load_id,
        "dataset": r.dataset,
        "destination": destination,
        "seconds": r.seconds,
        "rows": r.total_rows(),
        "resources": to_value(&r.resources),
        "skipped": to_value(&skipped),
        "tables": r.tables.iter().map(|(t, n)| json!({"table": t, "rows": n})).collect::<Vec<_>>(),
        "schema_version_hash": r.schema_version_hash,
    });
    let mut text = format!(
        "Pipeline {} load step completed in {:.2} seconds\n\
         1 load package(s) were loaded to destination {kind} and into dataset {}\n\
         The {kind} destination used {destination} location to store data\n\
         Load package {} is LOADED and contains no failed jobs\n\n",
        r.pipeline, r.seconds, r.dataset, r.load_id
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
    for s in skipped {
        table.row([
            s.resource.to_string(),
            format!("skipped: needs {}", s.scope),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
        ]);
    }
    let mut rendered = Vec::new();
    let _ = table.write(&mut rendered, ctx.out_style);
    text.push_str(&String::from_utf8_lossy(&rendered));
    ctx.emit(&data, View::Text(text))?;
    Ok(ExitStatus::Success)
}

fn read_target(ctx: &Ctx<'_>, a: &LoadReadArgs) -> Result<Target, CliError> {
    let kind = if a.history {
        Kind::History
    } else {
        Kind::BoomiFlow
    };
    target(ctx, &a.target, kind)
}

async fn info(ctx: &mut Ctx<'_>, a: &LoadReadArgs) -> Result<ExitStatus, CliError> {
    let target = read_target(ctx, a)?;
    let (dataset, pipeline) = (target.dataset.clone(), target.pipeline.clone());
    let info = read(&target.location, move |r| {
        r.info(&dataset, &pipeline).map_err(destination_error)
    })
    .await?;
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
    let _ = writeln!(
        buf,
        "Dataset {} in {}\n",
        target.dataset,
        target.location.describe()
    );
    let _ = tables.write(&mut buf, ctx.out_style);
    let _ = writeln!(buf, "\nLast loads");
    let _ = loads.write(&mut buf, ctx.out_style);
    if !info.state.resources.is_empty() {
        let _ = writeln!(buf, "\nIncremental state of pipeline {}", target.pipeline);
        let _ = state.write(&mut buf, ctx.out_style);
    }
    text.push_str(&String::from_utf8_lossy(&buf));
    ctx.emit(&data, View::Text(text))?;
    Ok(ExitStatus::Success)
}

use std::io::Write as _;

async fn query(ctx: &mut Ctx<'_>, a: &LoadQueryArgs) -> Result<ExitStatus, CliError> {
    let target = read_target(ctx, &a.read)?;
    bdi_load::query::check_read_only(&a.sql).map_err(|r| {
        CliError::usage(
            r.0,
            Some("bdi load query runs one SELECT on the loaded data".to_owned()),
        )
    })?;
    // In a worker process, as on every SQL surface: a query that crashes the engine or runs
    // away with memory ends with a message, not with this process.
    let result = bdi_load::sql_worker::SqlWorkers::new(
        1,
        bdi_load::sql_worker::SqlWorkers::MEMORY_MB,
    )
    .query(
        &target.location,
        &target.dataset,
        &a.sql,
        &QueryLimits::TERMINAL,
    )
    .await
    .map_err(|e| {
        let hint = match e.next_step() {
            Some(bdi_load::DatasetStep::FixQuery) => {
                "bdi load query runs one SELECT on the loaded data".to_owned()
            }
            Some(bdi_load::DatasetStep::LoadFirst) => {
                "load it first (`bdi load flow`, `bdi load history`), or name another with --dataset"
                    .to_owned()
            }
            Some(step) => dataset_step(step).to_owned(),
            None => format!(
                "the dataset's tables ({}.<table>, or just <table>) are listed by `bdi load info`",
                target.dataset
            ),
        };
        let message = match e {
            QueryError::Failed(_) | QueryError::Stopped(_) => format!("the query failed: {e}"),
            e => e.to_string(),
        };
        CliError::usage(message, Some(hint))
    })?;
    if let Some(cut) = &result.truncated {
        let _ = writeln!(ctx.err, "note: {cut}");
    }
    match ctx.format {
        Format::Csv => {
            ctx.out
                .write_all(result.to_csv(CsvFor::Programs).as_bytes())
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
