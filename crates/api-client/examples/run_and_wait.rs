//! Runs a data flow and waits for the run to end, printing progress as it goes.
//!
//! ```sh
//! cargo run -p bdi-api-client --features sandbox --example run_and_wait            # the sandbox's demo flow
//! cargo run -p bdi-api-client --features sandbox --example run_and_wait -- FLOW_ID # your account's flow
//! ```
//!
//! A run is a write: with your account configured, it runs the data flow you name. The service
//! applies the platform's run limits (2 a minute per data flow) before it triggers anything, and
//! never triggers twice: a failure that leaves the run uncertain comes back as such.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example prints what it does"
)]

use std::sync::Arc;
use std::time::Duration;

use bdi_api_client::{EmbeddedSandbox, HttpBackend};
use bdi_domain::{
    DataFlowId, Env, PollPolicy, Progress, RunOptions, RunStage, Service, WaitOptions,
};

/// The sandbox's demo data flow (MySQL to Snowflake, active, with tables).
const DEMO_FLOW: &str = "65c1d2e3f4a5b6c7d8e9f001";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let named = std::env::args().nth(1);
    let (backend, _sandbox, flow) = if std::env::var_os("DATA_INTEGRATION_API_TOKEN").is_some() {
        let flow = named.ok_or("name the data flow to run: run_and_wait FLOW_ID")?;
        (HttpBackend::from_env()?, None, flow)
    } else {
        let sandbox = EmbeddedSandbox::start().await?;
        eprintln!("no DATA_INTEGRATION_API_TOKEN: running the embedded sandbox's demo flow");
        let backend = HttpBackend::new(sandbox.client_config()?)?;
        (
            backend,
            Some(sandbox),
            named.unwrap_or_else(|| DEMO_FLOW.to_owned()),
        )
    };
    let service = Service::new(Arc::new(backend));

    let wait = WaitOptions {
        // Check every second, for at most ten minutes.
        policy: Some(PollPolicy {
            initial: Duration::from_secs(1),
            factor: 1.0,
            max_interval: Duration::from_secs(1),
            jitter: 0.0,
            deadline: Duration::from_secs(600),
        }),
        progress: Some(Arc::new(|p: Progress| {
            eprintln!("[{:>4.0} s] {}", p.elapsed.as_secs_f64(), p.message);
        })),
        ..WaitOptions::default()
    };
    let options = RunOptions {
        run_sub_rivers: false,
        wait: Some(wait),
        wait_for_throttle: false,
    };
    let outcome = service
        .run(&Env::Default, &DataFlowId::parse(&flow)?, options)
        .await?;
    let state = outcome.state();
    match state.stage {
        RunStage::Succeeded => println!("run {} succeeded", outcome.run_id.unwrap_or_default()),
        RunStage::Failed => {
            let why = state
                .run
                .and_then(|r| r.error_description)
                .unwrap_or_default();
            println!("run ended {}: {why}", state.status);
            std::process::exit(1);
        }
        other => println!(
            "the run goes on upstream ({other:?}); its status: {}",
            state.status
        ),
    }
    Ok(())
}
