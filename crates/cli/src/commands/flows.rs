//! `bdi flows ...`: list, get, create, update, patch, delete, activate, disable, run, tables,
//! export and apply.

use bdi_domain::models::{
    DataFlow, DataFlowQuery, DataFlowSummary, FlowStatus, Operation, PageQuery,
};
use bdi_domain::service::{NewDataFlow, RunOptions, RunStage};
use bdi_domain::{DataFlowId, Service, ToggleState};
use serde_json::{Map, Value, json};

use super::{Ctx, connection_id, flow_id, read_doc};
use crate::cli::{
    FlowApplyArgs, FlowCreateArgs, FlowExportArgs, FlowListArgs, FlowPatchArgs, FlowRunArgs,
    FlowUpdateArgs, FlowWaitArgs, FlowsCommand, TablesCommand, TablesSetArgs,
};
use crate::errors::{CliError, Doing};
use crate::exit::ExitStatus;
use crate::flowdoc::{self, Change};
use crate::output::{Fields, Format, Table, View, cell, json_text, to_value, yaml_text};

pub(crate) async fn run(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    cmd: FlowsCommand,
) -> Result<ExitStatus, CliError> {
    match cmd {
        FlowsCommand::List(a) => list(ctx, svc, a).await,
        FlowsCommand::Get(a) => {
            let id = flow_id(&a.flow)?;
            let flow = svc.backend().get_data_flow(&ctx.env, &id).await?;
            show_flow(ctx, &flow)?;
            Ok(ExitStatus::Success)
        }
        FlowsCommand::Create(a) => create(ctx, svc, a).await,
        FlowsCommand::Update(a) => update(ctx, svc, a).await,
        FlowsCommand::Patch(a) => patch(ctx, svc, a).await,
        FlowsCommand::Delete(a) => {
            let id = flow_id(&a.flow)?;
            svc.delete_data_flow(&ctx.env, &id)
                .await
                .map_err(|e| CliError::domain(e, &Doing::DeleteFlow(id.to_string())))?;
            ctx.emit(
                &json!({"deleted": true, "data_flow_id": id.to_string()}),
                View::Text(String::new()),
            )?;
            ctx.note(&format!("deleted data flow {id}"))?;
            Ok(ExitStatus::Success)
        }
        FlowsCommand::Activate(a) => toggle(ctx, svc, a, true).await,
        FlowsCommand::Disable(a) => toggle(ctx, svc, a, false).await,
        FlowsCommand::Run(a) => run_flow(ctx, svc, a).await,
        FlowsCommand::Tables(TablesCommand::Set(a)) => set_tables(ctx, svc, a).await,
        FlowsCommand::Export(a) => export(ctx, svc, a).await,
        FlowsCommand::Apply(a) => apply(ctx, svc, a).await,
        FlowsCommand::Pull(a) => super::flows_code::pull(ctx, svc, a).await,
        FlowsCommand::Plan(a) => super::flows_code::plan(ctx, svc, a).await,
        FlowsCommand::Promote(a) => super::flows_code::promote(ctx, svc, a).await,
    }
}

fn date(v: Option<&bdi_domain::models::Timestamp>) -> String {
    v.map(|t| t.0.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

async fn list(ctx: &mut Ctx<'_>, svc: &Service, a: FlowListArgs) -> Result<ExitStatus, CliError> {
    let mut query = DataFlowQuery {
        page: PageQuery::new(a.page, a.per_page),
        name: a.name,
        ..Default::default()
    };
    match a.status.as_deref() {
        Some("active") => query.river_status.push(FlowStatus::Active),
        Some("disabled") => query.river_status.push(FlowStatus::Disabled),
        _ => {}
    }
    let page = svc.backend().list_data_flows(&ctx.env, &query).await?;
    let has_next = page.has_next(a.per_page);
    let mut table = Table::new(["ID", "NAME", "TYPE", "STATUS", "SOURCE", "GROUP", "UPDATED"]);
    for f in &page.items {
        table.row([
            f.river_cross_id.clone(),
            f.name.clone(),
            f.river_type.clone().unwrap_or_default(),
            ctx.out_style
                .status(f.river_status.as_deref().unwrap_or_default()),
            f.datasource_id.clone().unwrap_or_default(),
            f.group_name.clone().unwrap_or_default(),
            date(f.last_updated_at.as_ref()),
        ]);
    }
    let data = Value::Array(page.items.iter().map(to_value::<DataFlowSummary>).collect());
    ctx.emit(
        &data,
        View::Table {
            table,
            empty: "no data flows found",
        },
    )?;
    if has_next {
        ctx.note(&format!(
            "page {} shows {} of {} data flows; the next page: --page {}",
            page.page,
            page.items.len(),
            page.total_items,
            page.page + 1
        ))?;
    }
    Ok(ExitStatus::Success)
}

/// The number of selected tables in `properties.schemas`, and the first few names.
fn selected_tables(flow: &DataFlow) -> Vec<String> {
    let mut out = Vec::new();
    for schema in flow
        .properties
        .get("schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let sname = schema
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for t in schema
            .get("tables")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let d = t.get("details").unwrap_or(t);
            if d.get("is_selected").and_then(Value::as_bool) == Some(true) {
                let name = d.get("name").and_then(Value::as_str).unwrap_or_default();
                out.push(if sname.is_empty() {
                    name.to_owned()
                } else {
                    format!("{sname}.{name}")
                });
            }
        }
    }
    out
}

fn flow_fields(ctx: &Ctx<'_>, flow: &DataFlow) -> Fields {
    let p = |ptr: &str| {
        flow.properties
            .pointer(ptr)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut f = Fields::new();
    f.add("id", flow.cross_id.clone())
        .add("name", flow.name.clone())
        .add("type", flow.flow_type.clone());
    f.opt("status", flow.status().map(|s| ctx.out_style.status(s)));
    f.opt(
        "description",
        flow.metadata.get("description").and_then(Value::as_str),
    );
    let join = |a: Option<String>, b: Option<String>| match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a} (connection {b})")),
        (a, _) => a,
    };
    f.opt(
        "source",
        join(p("/source/name"), p("/source/connection_id")),
    );
    f.opt(
        "target",
        join(p("/target/name"), p("/target/connection_id")),
    );
    let place: Vec<String> = [
        "/target/database_name",
        "/target/dataset_id",
        "/target/schema_name",
    ]
    .iter()
    .filter_map(|k| p(k))
    .collect();
    if !place.is_empty() {
        f.add("target schema", place.join("."));
    }
    f.opt("loading method", p("/target/loading_method"));
    let tables = selected_tables(flow);
    if !tables.is_empty() {
        let mut shown = tables
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if tables.len() > 5 {
            shown.push_str(&format!(", and {} more", tables.len() - 5));
        }
        f.add("tables", format!("{} selected: {shown}", tables.len()));
    } else if flow.flow_type == "source_to_target" {
        f.add("tables", "none selected");
    }
    if let Some(s) = flow
        .extra
        .get("schedulers")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
    {
        let cron = cell(s.get("cron_expression"));
        let on = s
            .get("is_enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        f.add(
            "schedule",
            format!("{cron} ({})", if on { "enabled" } else { "disabled" }),
        );
    }
    f.opt(
        "group",
        flow.extra.get("group_name").and_then(Value::as_str),
    );
    f
}

fn show_flow(ctx: &mut Ctx<'_>, flow: &DataFlow) -> Result<(), CliError> {
    let fields = flow_fields(ctx, flow);
    ctx.emit(&Value::Object(flow.to_document()), View::Fields(fields))
}

async fn create(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: FlowCreateArgs,
) -> Result<ExitStatus, CliError> {
    let flow = if let Some(path) = &a.file {
        let doc = read_doc(ctx, path)?;
        svc.create_data_flow(&ctx.env, doc).await?
    } else {
        let target_settings = match &a.target_settings {
            None => None,
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => Some(m),
                _ => {
                    return Err(CliError::usage(
                        "invalid --target-settings: expected a JSON object",
                        Some(r#"for example --target-settings '{"database_name":"DB","schema_name":"PUBLIC"}'"#.to_owned()),
                    ));
                }
            },
        };
        let required = |v: Option<String>| v.unwrap_or_default();
        let spec = NewDataFlow {
            name: required(a.name),
            source_name: required(a.source),
            source_connection_id: connection_id(&required(a.source_connection))?,
            target_name: required(a.target),
            target_connection_id: connection_id(&required(a.target_connection))?,
            loading_method: a.loading_method,
            target_settings,
            description: a.description,
        };
        svc.create_source_to_target(&ctx.env, spec).await?
    };
    show_flow(ctx, &flow)?;
    let id = &flow.cross_id;
    let next = if flow.flow_type == "source_to_target" {
        format!(
            "select its tables with `bdi flows tables set {id} TABLE...`, then `bdi flows activate {id} --wait`"
        )
    } else {
        format!("activate it with `bdi flows activate {id} --wait`")
    };
    ctx.note(&format!("created data flow {id}; next: {next}"))?;
    Ok(ExitStatus::Success)
}

async fn update(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: FlowUpdateArgs,
) -> Result<ExitStatus, CliError> {
    let id = flow_id(&a.flow)?;
    let doc = read_doc(ctx, &a.file)?;
    let flow = svc
        .update_data_flow(&ctx.env, &id, doc)
        .await
        .map_err(|e| CliError::domain(e, &Doing::ChangeFlow(id.to_string())))?;
    show_flow(ctx, &flow)?;
    ctx.note(&format!("updated data flow {id}"))?;
    Ok(ExitStatus::Success)
}

async fn patch(ctx: &mut Ctx<'_>, svc: &Service, a: FlowPatchArgs) -> Result<ExitStatus, CliError> {
    let id = flow_id(&a.flow)?;
    let patch = match (&a.patch, &a.file) {
        (_, Some(path)) => read_doc(ctx, path)?,
        (Some(text), None) => flowdoc::parse_document(text, true, "the patch").map_err(|e| {
            CliError::usage(
                e,
                Some(
                    r#"give a JSON object, e.g. '{"metadata":{"description":"nightly"}}'"#
                        .to_owned(),
                ),
            )
        })?,
        (None, None) => {
            return Err(CliError::usage(
                "give the patch as JSON or with --file",
                None,
            ));
        }
    };
    let flow = svc
        .patch_data_flow(&ctx.env, &id, &Value::Object(patch))
        .await
        .map_err(|e| CliError::domain(e, &Doing::ChangeFlow(id.to_string())))?;
    show_flow(ctx, &flow)?;
    ctx.note(&format!("patched data flow {id}"))?;
    Ok(ExitStatus::Success)
}

fn operation_value(op: &Operation) -> Value {
    to_value(op)
}

async fn toggle(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: FlowWaitArgs,
    activate: bool,
) -> Result<ExitStatus, CliError> {
    let id = flow_id(&a.flow)?;
    let (verb, state) = if activate {
        ("activation", "active")
    } else {
        ("disable", "disabled")
    };
    let doing = Doing::Toggle(id.to_string());
    let wait = ctx.wait_options(&a.wait, if activate { "activating" } else { "disabling" });
    let (opts, spinner) = match wait {
        Some((o, s)) => (Some(o), Some(s)),
        None => (None, None),
    };
    let guard = ctx.ctrl_c_guard();
    let outcome = if activate {
        svc.activate(&ctx.env, &id, opts).await
    } else {
        svc.disable(&ctx.env, &id, opts).await
    };
    drop(guard);
    if let Some(s) = spinner {
        s.finish();
    }
    let activation = outcome.map_err(|e| CliError::domain(e, &doing))?;
    let advice = activation
        .advice()
        .map(|a| crate::errors::words(&a, &doing));
    let toggle = activation.state();
    let (done, status, message) = match &toggle {
        ToggleState::AlreadyInState => (
            true,
            ExitStatus::Success,
            format!("data flow {id} was already {state}"),
        ),
        ToggleState::Done(_) => (
            true,
            ExitStatus::Success,
            format!("data flow {id} is {state}"),
        ),
        ToggleState::Failed { operation, .. } => (
            false,
            ExitStatus::RunFailed,
            format!(
                "{verb} of data flow {id} failed: {}",
                operation.error_message.as_deref().unwrap_or("no message")
            ),
        ),
        ToggleState::Started(op) => (
            false,
            ExitStatus::Success,
            format!(
                "{verb} started (operation {}); follow it with `bdi operations get {}` or use --wait",
                op.operation_id, op.operation_id
            ),
        ),
        ToggleState::TimedOut { operation, elapsed } => (
            false,
            ExitStatus::WaitIncomplete,
            format!(
                "{verb} still in progress after {} s; it continues upstream: check it with `bdi operations get {}`",
                elapsed.as_secs(),
                operation.operation_id
            ),
        ),
        ToggleState::Cancelled(op) => (
            false,
            ExitStatus::WaitIncomplete,
            format!(
                "wait cancelled; the {verb} continues upstream: check it with `bdi operations get {}`",
                op.operation_id
            ),
        ),
    };
    let operation = toggle.operation().cloned();
    let already = operation.is_none();
    let data = json!({
        "data_flow_id": id.to_string(),
        "state": state,
        "done": done,
        "already": already,
        "operation": operation.as_ref().map(operation_value),
        "message": message,
    });
    let mut fields = Fields::new();
    let state_text = if done {
        ctx.out_style.status(state)
    } else if status == ExitStatus::RunFailed {
        format!("not {state}")
    } else {
        format!("{state} (pending)")
    };
    fields
        .add("data flow", id.to_string())
        .add("state", state_text);
    if let Some(op) = &operation {
        fields.add("operation", op.operation_id.clone());
        fields.add(
            "operation status",
            ctx.out_style.status(op.status.describe()),
        );
        fields.opt("error", op.error_message.clone());
    }
    ctx.emit(&data, View::Fields(fields))?;
    if status == ExitStatus::RunFailed {
        let hint = advice.or_else(|| {
            operation.as_ref().map(|op| {
                format!(
                    "check that the source and target connections are reachable; details: `bdi operations get {}`",
                    op.operation_id
                )
            })
        });
        ctx.report(&CliError {
            message,
            detail: Vec::new(),
            hint,
            status,
        })?;
    } else {
        ctx.note(&message)?;
    }
    Ok(status)
}

async fn run_flow(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: FlowRunArgs,
) -> Result<ExitStatus, CliError> {
    let id = flow_id(&a.flow)?;
    let doing = Doing::Run(id.to_string());
    let wait = ctx.wait_options(&a.wait, "running");
    let (wait, spinner) = match wait {
        Some((o, s)) => (Some(o), Some(s)),
        None => (None, None),
    };
    let opts = RunOptions {
        run_sub_rivers: a.sub_flows,
        wait,
        wait_for_throttle: a.wait_for_throttle,
    };
    let guard = ctx.ctrl_c_guard();
    let outcome = svc.run(&ctx.env, &id, opts).await;
    drop(guard);
    if let Some(s) = spinner {
        s.finish();
    }
    let outcome = outcome.map_err(|e| CliError::domain(e, &doing))?;
    let group = outcome.triggered.run_group_id.clone();
    let run_id = outcome.run_id.clone();
    let shown_id = run_id.clone().unwrap_or_else(|| group.clone());
    let follow = format!("`bdi runs get {id} {shown_id}`");
    let messages: Vec<String> = outcome
        .triggered
        .runs
        .iter()
        .filter_map(|r| r.message.clone())
        .collect();
    let state = outcome.state();
    let status = state.status.as_str().to_owned();
    let finished = state.is_finished();
    let (exit, message) = match &state.stage {
        RunStage::Started => (
            ExitStatus::Success,
            format!("run started; follow it with {follow}, or use --wait next time"),
        ),
        RunStage::Succeeded => {
            let took = state
                .run
                .as_ref()
                .and_then(bdi_domain::models::Run::duration_secs)
                .map(|s| format!(" in {s:.0} s"))
                .unwrap_or_default();
            (ExitStatus::Success, format!("run {status}{took}"))
        }
        RunStage::Failed => {
            let why = state
                .run
                .as_ref()
                .and_then(|r| r.error_description.clone())
                .filter(|s| !s.is_empty())
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            let rid = state.run.as_ref().map_or("", |r| r.run_id.as_str());
            (ExitStatus::RunFailed, format!("run {rid} {status}{why}"))
        }
        RunStage::TimedOut(elapsed) => (
            ExitStatus::WaitIncomplete,
            format!(
                "still {status} after {} s; the run continues upstream: follow it with {follow}",
                elapsed.as_secs()
            ),
        ),
        RunStage::Cancelled => (
            ExitStatus::WaitIncomplete,
            format!("wait cancelled; the run continues upstream: follow it with {follow}"),
        ),
    };
    let run = state.run;
    let data = json!({
        "data_flow_id": id.to_string(),
        "run_group_id": group,
        "run_id": run_id,
        "status": status,
        "finished": finished,
        "run": run.as_ref().map(to_value),
        "messages": messages,
        "reconciled": outcome.reconciled,
    });
    let mut fields = Fields::new();
    fields
        .add("data flow", id.to_string())
        .add("run group", group.clone());
    fields.opt("run", run_id.clone());
    fields.add("status", ctx.out_style.status(&status));
    if let Some(r) = &run {
        fields.opt("target", r.target_name.clone());
        fields.opt("duration", r.duration_secs().map(|s| format!("{s:.1} s")));
        fields.opt("error", r.error_description.clone());
    }
    for m in &messages {
        fields.add("message", m.clone());
    }
    ctx.emit(&data, View::Fields(fields))?;
    if outcome.reconciled {
        ctx.note("the trigger's answer was lost; the run was found among recent runs and was not started twice")?;
    }
    if exit == ExitStatus::RunFailed {
        let rid = run.as_ref().map_or(shown_id.clone(), |r| r.run_id.clone());
        let hint = Some(format!(
            "read the failure with `bdi runs logs {id} {rid} --errors-only`"
        ));
        ctx.report(&CliError {
            message,
            detail: Vec::new(),
            hint,
            status: exit,
        })?;
    } else {
        ctx.note(&message)?;
    }
    Ok(exit)
}

async fn set_tables(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: TablesSetArgs,
) -> Result<ExitStatus, CliError> {
    let id = flow_id(&a.flow)?;
    let doing = Doing::ChangeFlow(id.to_string());
    let conn = a.connection.as_deref().map(connection_id).transpose()?;
    let set = svc
        .set_source_tables(&ctx.env, &id, conn.as_ref(), &a.tables)
        .await
        .map_err(|e| CliError::domain(e, &doing))?;
    let names: Vec<String> = set
        .tables
        .iter()
        .map(|t| format!("{}.{}", t.schema, t.table))
        .collect();
    let mut table = Table::new(["SCHEMA", "TABLE"]);
    for t in &set.tables {
        table.row([t.schema.clone(), t.table.clone()]);
    }
    let data = json!({"data_flow_id": id.to_string(), "count": names.len(), "tables": names});
    ctx.emit(
        &data,
        View::Table {
            table,
            empty: "no tables selected",
        },
    )?;
    let next = if set.flow.is_active() {
        format!("run it with `bdi flows run {id} --wait`")
    } else {
        format!(
            "activate it with `bdi flows activate {id} --wait`, then `bdi flows run {id} --wait`"
        )
    };
    ctx.note(&format!(
        "selected {} tables; next: {next}",
        set.tables.len()
    ))?;
    Ok(ExitStatus::Success)
}

fn wants_json(ctx: &Ctx<'_>, path: Option<&std::path::Path>) -> bool {
    match path.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("yaml" | "yml") => false,
        _ => ctx.format == Format::Json,
    }
}

async fn export(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: FlowExportArgs,
) -> Result<ExitStatus, CliError> {
    let id = flow_id(&a.flow)?;
    let flow = svc.backend().get_data_flow(&ctx.env, &id).await?;
    let doc = Value::Object(flowdoc::clean(&flow.to_document()));
    let text = if wants_json(ctx, a.to.as_deref()) {
        json_text(&doc)
    } else {
        yaml_text(&doc)
    };
    match &a.to {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| CliError::local(format!("could not write {}: {e}", path.display())))?;
            ctx.note(&format!(
                "wrote data flow {id} ({}) to {}",
                flow.name,
                path.display()
            ))?;
        }
        None => {
            ctx.out
                .write_all(text.as_bytes())
                .map_err(|e| CliError::local(format!("could not write the output: {e}")))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// The data flow a document targets: its id, else the one data flow with its name.
async fn find_target(
    ctx: &Ctx<'_>,
    svc: &Service,
    doc: &Map<String, Value>,
) -> Result<Option<DataFlowId>, CliError> {
    if let Some(id) = flowdoc::document_id(doc) {
        return Ok(Some(flow_id(&id)?));
    }
    let name = doc
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            CliError::usage(
                "the document has no name",
                Some(
                    "add `name: ...`, or export a data flow with `bdi flows export FLOW`"
                        .to_owned(),
                ),
            )
        })?;
    let env = &ctx.env;
    let found: Vec<String> = bdi_domain::paging::sweep(500, 20, |page| async move {
        let query = DataFlowQuery {
            page,
            name: Some(name.to_owned()),
            ..Default::default()
        };
        svc.backend().list_data_flows(env, &query).await
    })
    .await?
    .into_iter()
    .filter(|f| f.name == name)
    .map(|f| f.river_cross_id)
    .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(flow_id(one)?)),
        many => Err(CliError::usage(
            format!(
                "{} data flows are named {}: {}",
                many.len(),
                bdi_domain::error::quote(name),
                many.join(", ")
            ),
            Some("add `cross_id: ID` to the document to say which one to update".to_owned()),
        )),
    }
}

async fn apply(ctx: &mut Ctx<'_>, svc: &Service, a: FlowApplyArgs) -> Result<ExitStatus, CliError> {
    let file = match (&a.dir, &a.file) {
        (Some(dir), _) => return super::flows_code::apply(ctx, svc, dir, &a).await,
        (None, Some(file)) => file.clone(),
        (None, None) => {
            return Err(CliError::usage(
                "bdi flows apply needs -f FILE or --dir DIR",
                None,
            ));
        }
    };
    let doc = read_doc(ctx, &file)?;
    let target = find_target(ctx, svc, &doc).await?;
    let desired = flowdoc::clean(&doc);
    let name = desired
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let (action, id, changes) = match target {
        Some(id) => {
            let current = svc.backend().get_data_flow(&ctx.env, &id).await?;
            let current = flowdoc::clean(&current.to_document());
            let changes = flowdoc::diff(&Value::Object(current), &Value::Object(desired.clone()));
            if changes.is_empty() {
                ("unchanged", id.to_string(), changes)
            } else if a.dry_run {
                ("would update", id.to_string(), changes)
            } else {
                svc.update_data_flow(&ctx.env, &id, desired)
                    .await
                    .map_err(|e| CliError::domain(e, &Doing::ChangeFlow(id.to_string())))?;
                ("updated", id.to_string(), changes)
            }
        }
        None => {
            let changes =
                flowdoc::diff(&Value::Object(Map::new()), &Value::Object(desired.clone()));
            if a.dry_run {
                ("would create", String::new(), changes)
            } else {
                let flow = svc.create_data_flow(&ctx.env, desired).await?;
                ("created", flow.cross_id, changes)
            }
        }
    };
    let lines: Vec<String> = changes.iter().map(Change::line).collect();
    let data = json!({
        "action": action,
        "data_flow_id": (!id.is_empty()).then_some(id.clone()),
        "name": name,
        "dry_run": a.dry_run,
        "changes": changes,
    });
    let text = if action == "unchanged" {
        String::new()
    } else {
        lines.join("\n")
    };
    ctx.emit(&data, View::Text(text))?;
    let what = if id.is_empty() {
        format!("data flow `{name}`")
    } else {
        format!("data flow {id} (`{name}`)")
    };
    let summary = match action {
        "unchanged" => format!("{what} already matches {}", file.display()),
        "would update" | "would create" => {
            format!(
                "{action} {what}: {} changes; nothing was changed (--dry-run)",
                changes.len()
            )
        }
        _ => format!("{action} {what}: {} changes", changes.len()),
    };
    ctx.note(&summary)?;
    Ok(ExitStatus::Success)
}
