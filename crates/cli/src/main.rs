//! Binary shim for `bdi`: everything lives in the library, so tests run it in process.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Started as a worker for one query of a SQL surface: answer it and exit.
    bdi_load::sql_worker::serve_if_asked();
    init_logging();
    bdi_cli::main(std::env::args_os())
}

/// Logs to stderr when `BDI_LOG` is set (`tracing`'s filter syntax, e.g. `debug` or
/// `bdi_api_client=debug`), as `bdi-mcp` does; unset, `bdi` logs nothing. The events name
/// requests by path: no token, key or password is ever a field of one.
fn init_logging() {
    let Some(filter) = std::env::var("BDI_LOG")
        .ok()
        .filter(|f| !f.trim().is_empty())
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
