//! Binary shim for `bdi`: everything lives in the library, so tests run it in process.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Started as a worker for one query of a SQL surface: answer it and exit.
    bdi_load::sql_worker::serve_if_asked();
    bdi_cli::main(std::env::args_os())
}
