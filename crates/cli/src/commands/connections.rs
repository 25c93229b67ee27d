//! `bdi connections ...`: list, get, create, update, delete.

use bdi_domain::Service;
use bdi_domain::models::Connection;
use serde_json::{Value, json};

use super::{Ctx, connection_id, read_doc};
use crate::cli::ConnectionsCommand;
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Fields, Table, View, cell, to_value};

fn connection_fields(c: &Connection) -> Fields {
    let mut f = Fields::new();
    f.add("id", c.cross_id.clone())
        .add("name", c.connection_name.clone());
    f.opt("type", c.connection_type.clone());
    f.opt("type id", c.connection_type_id.clone());
    for (k, v) in &c.extra {
        if !v.is_object() && !v.is_array() && !v.is_null() {
            f.add(k.replace('_', " "), cell(Some(v)));
        }
    }
    f
}

fn show(ctx: &mut Ctx<'_>, c: &Connection) -> Result<(), CliError> {
    ctx.emit(&to_value(c), View::Fields(connection_fields(c)))
}

pub(crate) async fn run(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    cmd: ConnectionsCommand,
) -> Result<ExitStatus, CliError> {
    match cmd {
        ConnectionsCommand::List => {
            let sweep = svc.list_all_connections(&ctx.env, 100).await?;
            let mut table = Table::new(["ID", "NAME", "TYPE"]);
            for c in &sweep.items {
                table.row([
                    c.cross_id.clone(),
                    c.connection_name.clone(),
                    c.type_slug()
                        .or_else(|| c.connection_type.clone())
                        .unwrap_or_default(),
                ]);
            }
            let data = Value::Array(sweep.items.iter().map(to_value).collect());
            ctx.emit(
                &data,
                View::Table {
                    table,
                    empty: "no connections found",
                },
            )?;
            if !sweep.incomplete_pages.is_empty() {
                let pages: Vec<String> = sweep
                    .incomplete_pages
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                ctx.warn(&format!(
                    "pages {} could not be read (the platform failed on them); the list is incomplete",
                    pages.join(", ")
                ))?;
            }
        }
        ConnectionsCommand::Get(a) => {
            let id = connection_id(&a.connection)?;
            let c = svc.backend().get_connection(&ctx.env, &id).await?;
            show(ctx, &c)?;
        }
        ConnectionsCommand::Create(a) => {
            let doc = read_doc(ctx, &a.file)?;
            let c = svc.backend().create_connection(&ctx.env, &doc).await?;
            show(ctx, &c)?;
            ctx.note(&format!("created connection {}", c.cross_id))?;
        }
        ConnectionsCommand::Update(a) => {
            let id = connection_id(&a.connection)?;
            let doc = read_doc(ctx, &a.file)?;
            let c = svc
                .update_connection(&ctx.env, &id, &Value::Object(doc), a.allow_credential_reset)
                .await?;
            show(ctx, &c)?;
            ctx.note(&format!("updated connection {id}"))?;
        }
        ConnectionsCommand::Delete(a) => {
            let id = connection_id(&a.connection)?;
            svc.backend().delete_connection(&ctx.env, &id).await?;
            ctx.emit(
                &json!({"deleted": true, "connection_id": id.to_string()}),
                View::Text(String::new()),
            )?;
            ctx.note(&format!("deleted connection {id}"))?;
        }
    }
    Ok(ExitStatus::Success)
}
