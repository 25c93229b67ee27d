//! `bdi environments list`, `bdi variables list|set` and `bdi operations get`.

use bdi_domain::{OperationId, Service};
use serde_json::{Value, json};

use super::Ctx;
use crate::cli::{EnvironmentsCommand, OperationsCommand, VariablesCommand};
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Fields, Table, View, cell, to_value};

pub(crate) async fn environments(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    cmd: EnvironmentsCommand,
) -> Result<ExitStatus, CliError> {
    let EnvironmentsCommand::List(a) = cmd;
    let items = svc.list_all_environments(a.include_deleted).await?;
    let mut table = Table::new(["ID", "NAME", "DEFAULT", "DESCRIPTION"]);
    for e in &items {
        let mut name = e.environment_name.clone();
        if e.is_deleted {
            name.push_str(" (deleted)");
        }
        table.row([
            e.cross_id.clone(),
            name,
            if e.is_default { "yes" } else { "" }.to_owned(),
            e.description.clone().unwrap_or_default(),
        ]);
    }
    let data = Value::Array(items.iter().map(to_value).collect());
    ctx.emit(
        &data,
        View::Table {
            table,
            empty: "no environments found",
        },
    )?;
    Ok(ExitStatus::Success)
}

pub(crate) async fn variables(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    cmd: VariablesCommand,
) -> Result<ExitStatus, CliError> {
    match cmd {
        VariablesCommand::List => {
            let vars = svc.backend().list_variables(&ctx.env).await?;
            let mut table = Table::new(["NAME", "VALUE"]);
            for (k, v) in &vars {
                table.row([k.clone(), v.clone()]);
            }
            ctx.emit(
                &to_value(&vars),
                View::Table {
                    table,
                    empty: "no variables set",
                },
            )?;
        }
        VariablesCommand::Set(a) => {
            let mut pairs = Vec::new();
            for p in &a.pairs {
                let Some((k, v)) = p.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
                    return Err(CliError::usage(
                        format!(
                            "invalid variable {}: expected NAME=VALUE",
                            bdi_domain::error::quote(p)
                        ),
                        Some("for example `bdi variables set START_DATE=2026-01-01`".to_owned()),
                    ));
                };
                pairs.push((k.trim().to_owned(), v.to_owned()));
            }
            let count = svc.upsert_variables(&ctx.env, pairs).await?;
            ctx.emit(
                &json!({"updated": true, "count": count}),
                View::Text(String::new()),
            )?;
            ctx.note(&format!("set {count} variables"))?;
        }
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn operations(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    cmd: OperationsCommand,
) -> Result<ExitStatus, CliError> {
    let OperationsCommand::Get(a) = cmd;
    let id = OperationId::parse(&a.operation).map_err(CliError::from)?;
    let op = svc.backend().get_operation(&ctx.env, &id).await?;
    let mut f = Fields::new();
    f.add("operation", op.operation_id.clone());
    f.opt("type", op.operation_type.clone());
    f.add(
        "status",
        format!(
            "{} ({})",
            ctx.out_style.status(op.status.as_str()),
            op.status.describe()
        ),
    );
    f.opt("updated", op.last_update_date.map(|t| t.to_string()));
    f.opt("run", op.run_id.clone());
    f.opt("error", op.error_message.clone());
    if let Some(r) = &op.result {
        let text = cell(Some(r));
        let shown = if text.chars().count() > 200 {
            format!(
                "{}… (-o json shows all)",
                text.chars().take(200).collect::<String>()
            )
        } else {
            text
        };
        f.opt("result", Some(shown));
    }
    ctx.emit(&to_value(&op), View::Fields(f))?;
    if !op.status.is_terminal() {
        ctx.note("the operation is still in progress; check again in a few seconds")?;
    }
    Ok(ExitStatus::Success)
}
