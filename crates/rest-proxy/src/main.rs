//! Binary shim of `bdi-gateway`: parses the command line and runs [`bdi_rest_proxy::cli::main`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let text_logs = std::env::args().any(|a| a == "--text-logs");
    bdi_rest_proxy::cli::init_logging(text_logs);
    let mut stdout = std::io::stdout();
    match bdi_rest_proxy::cli::main(std::env::args_os(), &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(clap_error) = e.downcast_ref::<clap::Error>() {
                let _ = clap_error.print();
                return if clap_error.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            #[allow(
                clippy::print_stderr,
                reason = "a failure to start is reported on stderr, before logging exists"
            )]
            {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}
