//! Binary shim for `bdi-mcp`: logging to stderr (stdout belongs to the protocol), then
//! [`bdi_mcp_server::app::run`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Started as a worker for one `query_history` query: answer it and exit.
    bdi_load::sql_worker::serve_if_asked();
    bdi_mcp_server::logging::init();
    let args = bdi_mcp_server::app::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(bdi_mcp_server::app::run(args));
    // Stopped by a signal, the stdio transport may still be in a blocking read of stdin, which
    // nothing can cancel; everything else has ended inside `run`, so the runtime is left behind
    // rather than waited for.
    runtime.shutdown_background();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
