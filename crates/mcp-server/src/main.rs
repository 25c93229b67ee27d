//! Binary shim for `bdi-mcp`: logging to stderr (stdout belongs to the protocol), then
//! [`bdi_mcp_server::app::run`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
    match runtime.block_on(bdi_mcp_server::app::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
