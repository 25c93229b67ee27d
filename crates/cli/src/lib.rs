//! `bdi`, the command line of Boomi Data Integration: data flows, runs, connections,
//! environments, variables, operations and activity reports, all through the domain `Service`.
//!
//! **Boundary:** this crate parses flags, resolves configuration and renders results; it never
//! talks HTTP itself. [`run`] executes one command line against any `Backend` (tests pass a
//! `MockBackend`), with stdout and stderr as `&mut dyn Write`; [`main`] is what the binary calls.
//! stdout carries data only; progress, notes and errors go to stderr.

pub mod cli;
mod commands;
pub mod docs;
pub mod errors;
pub mod exit;
pub mod flowdoc;
mod limits;
mod locks;
pub mod output;
mod progress;

use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use bdi_domain::Backend;
use clap::{CommandFactory, Parser};
use tokio_util::sync::CancellationToken;

pub use crate::cli::Cli;
pub use crate::exit::ExitStatus;

/// The world one command line sees: its streams, its environment variables, its terminals, and
/// how a wait is cancelled.
pub struct Io<'a> {
    /// Data.
    pub out: &'a mut dyn Write,
    /// Progress, notes, warnings and errors.
    pub err: &'a mut dyn Write,
    /// Input (documents given as `-`, the token of `bdi configure`).
    pub stdin: &'a mut dyn BufRead,
    /// Environment variables.
    pub vars: &'a dyn Fn(&str) -> Option<String>,
    /// Whether stdout is a terminal (colour).
    pub stdout_terminal: bool,
    /// Whether stderr is a terminal (colour, spinners).
    pub stderr_terminal: bool,
    /// Whether stdin is a terminal: `bdi configure` then reads the token without echo.
    pub stdin_terminal: bool,
    /// Cancelling it stops a `--wait` (the work continues upstream) and a running `bdi sandbox`.
    pub cancel: CancellationToken,
    /// Whether Ctrl-C cancels `cancel` (the real binary only).
    pub ctrl_c: bool,
}

impl fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Io")
            .field("stdout_terminal", &self.stdout_terminal)
            .field("stderr_terminal", &self.stderr_terminal)
            .field("ctrl_c", &self.ctrl_c)
            .finish_non_exhaustive()
    }
}

/// Runs one command line against `backend`, with no environment variables, no stdin and no
/// terminal: the entry point of in-process tests.
pub async fn run<I, T>(
    args: I,
    out: &mut dyn Write,
    err: &mut dyn Write,
    backend: Arc<dyn Backend>,
) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut stdin = io::empty();
    let io = Io {
        out,
        err,
        stdin: &mut stdin,
        vars: &|_| None,
        stdout_terminal: false,
        stderr_terminal: false,
        stdin_terminal: false,
        cancel: CancellationToken::new(),
        ctrl_c: false,
    };
    run_with(args, io, Some(backend)).await
}

/// Runs one command line in `io`. With `backend`, every command uses it; without, the backend
/// comes from `--sandbox` or from the configuration (flags, variables, profile).
pub async fn run_with<I, T>(args: I, io: Io<'_>, backend: Option<Arc<dyn Backend>>) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let color =
                output::Style::detect(io.stderr_terminal, (io.vars)("NO_COLOR").as_deref()).color;
            let text = if color {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            return if e.use_stderr() {
                let _ = io.err.write_all(text.as_bytes());
                ExitStatus::Usage
            } else {
                let _ = io.out.write_all(text.as_bytes());
                ExitStatus::Success
            };
        }
    };
    commands::execute(cli, io, backend).await
}

/// The clap command tree (for completions and the generated reference).
pub fn command() -> clap::Command {
    Cli::command()
}

/// What the `bdi` binary runs: a runtime, the real streams and environment, Ctrl-C.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "error: could not start the async runtime: {e}"
            );
            return ExitStatus::Failure.into();
        }
    };
    let (mut out, mut err) = (io::stdout().lock(), io::stderr());
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let vars = |name: &str| std::env::var(name).ok();
    let io = Io {
        stdout_terminal: io::stdout().is_terminal(),
        stderr_terminal: io::stderr().is_terminal(),
        stdin_terminal: io::stdin().is_terminal(),
        out: &mut out,
        err: &mut err,
        stdin: &mut stdin,
        vars: &vars,
        cancel: CancellationToken::new(),
        ctrl_c: true,
    };
    let status = runtime.block_on(run_with(args, io, None));
    let _ = out.flush();
    status.into()
}
