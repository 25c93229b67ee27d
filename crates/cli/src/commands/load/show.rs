//! `bdi load show`: the dashboard of a dataset (`bdi-dashboard`), served on loopback until
//! Ctrl-C or SIGTERM; with `--sandbox`, of the sandbox's demo data loaded into a scratch file.

use std::sync::Arc;
use std::time::Duration;

use bdi_api_client::BoomiFlowClient;
use bdi_domain::Service;
use bdi_load::boomi_flow::{BoomiFlowSource, DEFAULT_RESOURCES, resource};
use bdi_load::history::{self, HistoryOptions, HistorySource};
use bdi_load::location::Location;
use serde_json::json;

use super::{Ctx, Target, read_target, run_load};
use crate::cli::LoadShowArgs;
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::View;

/// `bdi --sandbox load show`: the sandbox's demo data loaded into a scratch DuckDB file (removed
/// at exit), so that the dashboard can be tried with no account and no load first.
async fn sandbox_dataset(
    ctx: &mut Ctx<'_>,
    target: &mut Target,
    history: bool,
) -> Result<tempfile::TempDir, CliError> {
    let scratch = tempfile::Builder::new()
        .prefix("bdi-show-sandbox-")
        .tempdir()
        .map_err(|e| super::super::io_error(&e))?;
    target.location = Location::DuckDb(scratch.path().join(format!("{}.duckdb", target.pipeline)));
    let embedded = bdi_api_client::EmbeddedSandbox::start().await?;
    let loaded = if history {
        let backend = bdi_api_client::HttpBackend::new(embedded.client_config()?)?;
        let now = chrono::Utc::now();
        let source = HistorySource::new(
            Service::new(Arc::new(backend)),
            HistoryOptions {
                since: now - chrono::TimeDelta::days(14),
                now,
                environments: Vec::new(),
            },
        );
        let resources = history::HistoryResource::ALL
            .iter()
            .map(|r| r.spec(Duration::from_secs(2 * 86_400)))
            .collect();
        run_load(
            ctx,
            Arc::new(source),
            target,
            resources,
            true,
            &crate::errors::Doing::Other,
        )
        .await
    } else {
        let config = embedded
            .boomi_flow_config()
            .map_err(|e| CliError::local(e.to_string()))?;
        let client = BoomiFlowClient::new(config).map_err(CliError::from)?;
        let resources = DEFAULT_RESOURCES
            .iter()
            .filter_map(|r| resource(r))
            .collect();
        run_load(
            ctx,
            Arc::new(BoomiFlowSource::new(client)),
            target,
            resources,
            true,
            &crate::errors::Doing::Other,
        )
        .await
    };
    embedded.shutdown().await;
    let report = loaded?;
    let rows: u64 = report.resources.iter().map(|r| r.rows + r.child_rows).sum();
    ctx.note(&format!(
        "the sandbox's demo data ({rows} rows) is in a scratch file, removed at exit"
    ))?;
    Ok(scratch)
}

/// `bdi load show`: checks the dataset can be read, then serves its dashboard on loopback until
/// Ctrl-C. With `--sandbox`, the dataset is the sandbox's demo data.
pub(super) async fn show(
    ctx: &mut Ctx<'_>,
    a: &LoadShowArgs,
    sandbox: bool,
) -> Result<ExitStatus, CliError> {
    let mut target = read_target(ctx, &a.read)?;
    let _scratch = if sandbox {
        if a.read.target.destination.is_some() {
            return Err(CliError::usage(
                "--sandbox shows the sandbox's demo data, and --destination names another dataset",
                Some("leave out --sandbox to show the dataset at --destination, or --destination to try the dashboard on demo data".to_owned()),
            ));
        }
        Some(sandbox_dataset(ctx, &mut target, a.read.history).await?)
    } else {
        None
    };
    let target = target;
    let dashboard = bdi_dashboard::Dashboard {
        location: target.location.clone(),
        dataset: target.dataset.clone(),
        pipeline: target.pipeline.clone(),
        kind: if a.read.history {
            bdi_dashboard::Kind::History
        } else {
            bdi_dashboard::Kind::BoomiFlow
        },
    };
    let info = dashboard.check().await.map_err(|e| {
        let mut err = CliError::local(e.to_string());
        err.hint = Some(if a.read.history {
            "load the run history first (`bdi load history`, or `bdi --sandbox load history` to try it), or name the dataset with --destination, --dataset and --pipeline".to_owned()
        } else {
            "load Boomi Flow first (`bdi load flow`, or `bdi --sandbox load flow` to try it), or name the dataset with --destination, --dataset and --pipeline; add --history for the run history".to_owned()
        });
        err
    })?;
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, a.port))
        .await
        .map_err(|e| {
            let mut err = CliError::local(format!("cannot listen on 127.0.0.1:{}: {e}", a.port));
            err.hint =
                Some("choose another port with --port, or leave it out for a free one".to_owned());
            err
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| super::super::io_error(&e))?;
    // Ctrl-C, or SIGTERM (a service manager's stop): either way the server ends its pages and
    // the scratch file of --sandbox is removed. Both are listened for before the URL is out.
    let guard = ctx.ctrl_c_guard();
    let terminated = terminated();
    let url = format!("http://{addr}/");
    let data = json!({
        "url": url,
        "dataset": target.dataset,
        "destination": target.location.describe(),
        "pipeline": target.pipeline,
        "tables": info.tables.len(),
    });
    ctx.emit(
        &data,
        View::Text(format!(
            "Dashboard of dataset {} in {} at {url}\n",
            target.dataset,
            target.location.describe()
        )),
    )?;
    let _ = ctx.out.flush();
    if a.open
        && let Err(e) = open::that_detached(&url)
    {
        ctx.note(&format!(
            "could not open a browser ({e}): open {url} yourself"
        ))?;
    }
    ctx.note("read-only, on loopback only; Ctrl-C stops it")?;
    let stop = ctx.cancel.clone();
    let served = bdi_dashboard::serve(listener, dashboard, async move {
        tokio::select! {
            () = stop.cancelled() => {}
            () = terminated => {}
        }
    })
    .await;
    drop(guard);
    served.map_err(|e| CliError::local(format!("the dashboard stopped: {e}")))?;
    Ok(ExitStatus::Success)
}

/// Resolves on SIGTERM (never elsewhere than on Unix); the handler is in place when this returns.
fn terminated() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            term.recv().await;
            return;
        }
        std::future::pending::<()>().await;
    }
}
