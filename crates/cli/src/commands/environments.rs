//! `bdi environments list`: every environment of the account.

use bdi_domain::Service;
use serde_json::Value;

use super::Ctx;
use crate::cli::EnvironmentsCommand;
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Table, View, to_value};

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
