//! Binary shim for `bdi`: everything lives in the library, so tests run it in process.

use std::process::ExitCode;

fn main() -> ExitCode {
    bdi_cli::main(std::env::args_os())
}
