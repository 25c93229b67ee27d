//! Command execution: the shared context, backend resolution, and dispatch to one module per
//! command group. Every command parses its arguments into domain types first, then calls the
//! `Service` (or its backend), then renders.

mod activity;
mod connections;
mod environments;
mod flows;
mod flows_code;
pub(crate) mod load;
mod local;
mod operations;
mod runs;
mod variables;

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Duration;

use bdi_domain::error::quote;
use bdi_domain::models::Timestamp;
use bdi_domain::poll::PollPolicy;
use bdi_domain::service::WaitOptions;
use bdi_domain::{Backend, ConnectionId, DataFlowId, Env, Error, RunId, Service, ServiceConfig};
use chrono::Utc;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::Io;
use crate::cli::{Cli, Command, WaitArgs, WindowArgs};
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{self, Format, Style, View};
use crate::progress::{CtrlC, Spinner};
use bdi_api_client::profile::{self, Overrides};

/// What a command works with.
pub(crate) struct Ctx<'a> {
    pub(crate) out: &'a mut dyn Write,
    pub(crate) err: &'a mut dyn Write,
    pub(crate) stdin: &'a mut dyn BufRead,
    pub(crate) vars: &'a dyn Fn(&str) -> Option<String>,
    pub(crate) format: Format,
    pub(crate) out_style: Style,
    pub(crate) err_style: Style,
    pub(crate) spinners: bool,
    pub(crate) stdin_terminal: bool,
    pub(crate) cancel: CancellationToken,
    pub(crate) ctrl_c: bool,
    pub(crate) poll_interval: Option<Duration>,
    pub(crate) env: Env,
    pub(crate) global: GlobalView,
}

/// The global flags a command may need again.
#[derive(Clone, Debug, Default)]
pub(crate) struct GlobalView {
    pub(crate) profile: Option<String>,
    pub(crate) overrides: Overrides,
}

fn io_error(e: &std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError {
            message: String::new(),
            detail: Vec::new(),
            hint: None,
            status: ExitStatus::Success,
        }
    } else {
        CliError::local(format!("could not write the output: {e}"))
    }
}

impl Ctx<'_> {
    /// Writes the data on stdout.
    pub(crate) fn emit(&mut self, data: &Value, view: View) -> Result<(), CliError> {
        output::emit(self.out, self.err, self.format, self.out_style, data, view)
            .map_err(|e| io_error(&e))
    }

    /// A note on stderr.
    pub(crate) fn note(&mut self, text: &str) -> Result<(), CliError> {
        writeln!(self.err, "{text}").map_err(|e| io_error(&e))
    }

    /// A warning on stderr.
    pub(crate) fn warn(&mut self, text: &str) -> Result<(), CliError> {
        writeln!(self.err, "{} {text}", self.err_style.warning("warning:"))
            .map_err(|e| io_error(&e))
    }

    /// A failure reported on stderr while the command still printed its data.
    pub(crate) fn report(&mut self, e: &CliError) -> Result<(), CliError> {
        e.write(self.err, self.err_style).map_err(|e| io_error(&e))
    }

    /// The wait options of `--wait`, with a spinner labelled `label`; `None` without `--wait`.
    pub(crate) fn wait_options(
        &self,
        args: &WaitArgs,
        label: &str,
    ) -> Option<(WaitOptions, Spinner)> {
        if !args.wait {
            return None;
        }
        let mut policy = PollPolicy::default();
        if let Some(t) = args.timeout {
            policy.deadline = Duration::from_secs(t);
        }
        if let Some(interval) = self.poll_interval {
            policy = fast_policy(policy, interval);
        }
        let spinner = Spinner::new(self.spinners, label);
        let opts = WaitOptions {
            policy: Some(policy),
            cancel: self.cancel.clone(),
            progress: Some(spinner.callback()),
        };
        Some((opts, spinner))
    }

    /// Listens for Ctrl-C while a wait runs (the real binary only).
    pub(crate) fn ctrl_c_guard(&self) -> CtrlC {
        CtrlC::listen(self.ctrl_c, &self.cancel)
    }
}

/// A poll policy that polls every `interval` (tests of the real binary).
fn fast_policy(policy: PollPolicy, interval: Duration) -> PollPolicy {
    PollPolicy {
        initial: interval,
        max_interval: interval,
        factor: 1.0,
        jitter: 0.0,
        ..policy
    }
}

/// Parses a data flow id.
pub(crate) fn flow_id(s: &str) -> Result<DataFlowId, CliError> {
    DataFlowId::parse(s).map_err(CliError::from)
}

/// Parses a connection id.
pub(crate) fn connection_id(s: &str) -> Result<ConnectionId, CliError> {
    ConnectionId::parse(s).map_err(CliError::from)
}

/// Parses a run id.
pub(crate) fn run_id(s: &str) -> Result<RunId, CliError> {
    RunId::parse(s).map_err(CliError::from)
}

/// Parses `30s`, `15m`, `12h`, `7d` (a bare number is hours).
pub(crate) fn parse_duration(s: &str) -> Result<chrono::Duration, CliError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        CliError::usage(
            format!(
                "invalid --since {}: use a number and a unit, e.g. 30m, 12h, 7d",
                quote(s)
            ),
            None,
        )
    };
    let n: i64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "" | "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        "w" => chrono::Duration::try_weeks(n),
        _ => None,
    };
    d.filter(|d| *d > chrono::Duration::zero()).ok_or_else(bad)
}

/// The window of `--since` or `--start`/`--end`.
pub(crate) fn window(args: &WindowArgs) -> Result<(Timestamp, Timestamp), CliError> {
    let end = match &args.end {
        Some(e) => Timestamp::parse_for("--end", e)?,
        // The API takes whole seconds: round up so that a run started this second is inside.
        None => Timestamp(Utc::now() + chrono::Duration::seconds(1)),
    };
    let start = match &args.start {
        Some(s) => Timestamp::parse_for("--start", s)?,
        None => Timestamp(end.0 - parse_duration(&args.since)?),
    };
    Ok(Timestamp::check_window(("--start", start), ("--end", end))?)
}

/// Checks and canonicalizes a run status filter.
pub(crate) fn run_status(value: Option<&str>) -> Result<Option<String>, CliError> {
    Ok(value
        .map(|v| bdi_domain::models::RunStatus::parse_filter("--status", v))
        .transpose()?
        .map(|s| s.as_str().to_owned()))
}

/// Reads a document file (`-` for stdin) as a usage error when it cannot be read.
pub(crate) fn read_doc(
    ctx: &mut Ctx<'_>,
    path: &std::path::Path,
) -> Result<bdi_domain::Document, CliError> {
    crate::flowdoc::read_document(path, ctx.stdin).map_err(|e| CliError::usage(e, None))
}

/// Runs a parsed command line.
pub(crate) async fn execute(cli: Cli, io: Io<'_>, backend: Option<Arc<dyn Backend>>) -> ExitStatus {
    let no_color = (io.vars)("NO_COLOR");
    let poll_interval = cli
        .global
        .poll_interval_ms
        .or_else(|| (io.vars)("BDI_POLL_INTERVAL_MS").and_then(|v| v.trim().parse().ok()))
        .map(|ms| Duration::from_millis(ms.max(1)));
    let err_style = Style::detect(io.stderr_terminal, no_color.as_deref());
    let mut ctx = Ctx {
        out: io.out,
        err: io.err,
        stdin: io.stdin,
        vars: io.vars,
        format: cli.global.output.unwrap_or_default(),
        out_style: Style::detect(io.stdout_terminal, no_color.as_deref()),
        err_style,
        spinners: io.stderr_terminal,
        stdin_terminal: io.stdin_terminal,
        cancel: io.cancel,
        ctrl_c: io.ctrl_c,
        poll_interval,
        env: Env::Default,
        global: GlobalView {
            profile: cli.global.profile.clone(),
            overrides: Overrides {
                api_url: cli.global.api_url.clone(),
                account_id: cli.global.account_id.clone(),
                environment_id: cli.global.environment_id.clone(),
            },
        },
    };
    let result = dispatch(&mut ctx, cli, backend).await;
    let status = match result {
        Ok(status) => status,
        Err(e) => {
            if !e.message.is_empty() {
                let _ = e.write(ctx.err, err_style);
            }
            e.status
        }
    };
    let _ = ctx.out.flush();
    let _ = ctx.err.flush();
    status
}

async fn dispatch(
    ctx: &mut Ctx<'_>,
    cli: Cli,
    backend: Option<Arc<dyn Backend>>,
) -> Result<ExitStatus, CliError> {
    if let Some(id) = &cli.global.environment_id {
        // An empty `--environment-id ""` is refused: it must not mean the default environment.
        ctx.env = Env::parse(Some(id)).map_err(CliError::from)?;
    }
    let command = match cli.command {
        Command::Completions(a) => return local::completions(ctx, a.shell),
        Command::Configure(a) => return local::configure(ctx, &a),
        Command::Sandbox(a) => return local::sandbox(ctx, &a).await,
        Command::Load(c) if !matches!(c, crate::cli::LoadCommand::History(_)) => {
            return load::run(ctx, c, cli.global.sandbox).await;
        }
        other => other,
    };
    let history = match &command {
        Command::Load(crate::cli::LoadCommand::History(a)) => Some(load::history_plan(ctx, a)?),
        _ => None,
    };
    let (backend, sandbox, account) = match backend {
        Some(b) => (b, None, None),
        None if cli.global.sandbox => {
            // The sandbox advances by polls, not by time: poll it quickly.
            ctx.poll_interval = ctx.poll_interval.or(Some(Duration::from_millis(200)));
            let (b, sb) = local::sandbox_backend().await?;
            (b, Some(sb), None)
        }
        None => {
            let (b, account) = configured_backend(ctx)?;
            (b, None, Some(account))
        }
    };
    let svc = match (account, crate::limits::state_file(ctx.vars)) {
        // A real account: every bdi process of the user shares the run limits, counted per
        // account, and the read-modify-write locks (each --sandbox invocation has a sandbox,
        // and so limits, of its own).
        (Some(account), Some(path)) => {
            let config = ServiceConfig {
                user_key: format!("account:{account}"),
                ..ServiceConfig::default()
            };
            let locks = crate::locks::FileLocks::new(
                path.parent()
                    .map_or_else(|| std::path::PathBuf::from("locks"), |d| d.join("locks")),
            );
            let limiter = crate::limits::FileLimiter::new(path, config.limits.clone());
            Service::with_config(backend, config)
                .with_limiter(Arc::new(limiter))
                .with_locks(Arc::new(locks))
        }
        _ => Service::new(backend),
    };
    let result = match command {
        Command::Flows(c) => flows::run(ctx, &svc, c).await,
        Command::Runs(c) => runs::run(ctx, &svc, c).await,
        Command::Connections(c) => connections::run(ctx, &svc, c).await,
        Command::Environments(c) => environments::environments(ctx, &svc, c).await,
        Command::Variables(c) => variables::variables(ctx, &svc, c).await,
        Command::Operations(c) => operations::operations(ctx, &svc, c).await,
        Command::Activity(c) => activity::run(ctx, &svc, c).await,
        Command::Load(crate::cli::LoadCommand::History(_)) => match history {
            Some(plan) => load::history(ctx, &svc, plan).await,
            None => Ok(ExitStatus::Success),
        },
        Command::Completions(_)
        | Command::Configure(_)
        | Command::Sandbox(_)
        | Command::Load(_) => Ok(ExitStatus::Success),
    };
    if let Some(sb) = sandbox {
        sb.shutdown().await;
    }
    result
}

/// The HTTP backend of the configuration (flags, then variables, then the profile), and its
/// account.
fn configured_backend(ctx: &Ctx<'_>) -> Result<(Arc<dyn Backend>, String), CliError> {
    let resolved = profile::resolve(&ctx.global.overrides, ctx.global.profile.as_deref(), ctx.vars).map_err(|e| {
        CliError::config(e.to_string(), "list the profiles with `bdi configure --list`, or create one with `bdi configure --profile NAME`")
    })?;
    let lookup = move |name: &str| resolved.get(name);
    let backend = bdi_api_client::ClientConfig::from_lookup(lookup)
        .and_then(bdi_api_client::HttpBackend::new)
        .map_err(|e: Error| CliError::from(e))?;
    let account = backend.account_id().to_string();
    Ok((Arc::new(backend), account))
}
