//! `bdi variables list|set`: the environment's variables.

use bdi_domain::Service;
use serde_json::json;

use super::Ctx;
use crate::cli::VariablesCommand;
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Table, View, to_value};

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
