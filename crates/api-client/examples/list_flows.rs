//! Lists the data flows of the default environment.
//!
//! With `DATA_INTEGRATION_API_TOKEN` and `DATA_INTEGRATION_ACCOUNT_ID` set it reads your account
//! (read only); without them it starts the embedded sandbox and reads its demo data:
//!
//! ```sh
//! cargo run -p bdi-api-client --features sandbox --example list_flows
//! ```

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example prints what it does"
)]

use bdi_api_client::{EmbeddedSandbox, HttpBackend};
use bdi_domain::models::DataFlowQuery;
use bdi_domain::{Backend, Env};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Your account when it is configured, else the sandbox (kept alive until the end).
    let (backend, _sandbox) = if std::env::var_os("DATA_INTEGRATION_API_TOKEN").is_some() {
        (HttpBackend::from_env()?, None)
    } else {
        let sandbox = EmbeddedSandbox::start().await?;
        eprintln!("no DATA_INTEGRATION_API_TOKEN: reading the embedded sandbox");
        (HttpBackend::new(sandbox.client_config()?)?, Some(sandbox))
    };

    let page = backend
        .list_data_flows(&Env::Default, &DataFlowQuery::default())
        .await?;
    for flow in &page.items {
        println!(
            "{}  {:<9}  {}",
            flow.river_cross_id,
            flow.river_status.as_deref().unwrap_or("-"),
            flow.name
        );
    }
    println!("{} of {} data flows", page.items.len(), page.total_items);
    Ok(())
}
