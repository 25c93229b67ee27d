//! `bdi operations get`: an asynchronous operation's status.

use bdi_domain::{OperationId, Service};

use super::Ctx;
use crate::cli::OperationsCommand;
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Fields, View, cell, to_value};

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
