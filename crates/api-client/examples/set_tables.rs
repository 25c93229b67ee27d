//! Selects a data flow's source tables by name: the names are matched against the source
//! connection's catalog (case-insensitively, `schema.table` when a name is in several schemas),
//! and nothing is written unless every name matches.
//!
//! ```sh
//! cargo run -p bdi-api-client --features sandbox --example set_tables                               # the sandbox
//! cargo run -p bdi-api-client --features sandbox --example set_tables -- FLOW_ID orders customers   # your account
//! ```

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example prints what it does"
)]

use std::sync::Arc;

use bdi_api_client::{EmbeddedSandbox, HttpBackend};
use bdi_domain::{DataFlowId, Env, Service};

/// The sandbox's demo data flow, which reads from its MySQL demo connection.
const DEMO_FLOW: &str = "65c1d2e3f4a5b6c7d8e9f001";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (backend, _sandbox, flow, names) =
        if std::env::var_os("DATA_INTEGRATION_API_TOKEN").is_some() {
            let (flow, names) = args
                .split_first()
                .ok_or("name the data flow and its tables: set_tables FLOW_ID TABLE...")?;
            (HttpBackend::from_env()?, None, flow.clone(), names.to_vec())
        } else {
            let sandbox = EmbeddedSandbox::start().await?;
            eprintln!("no DATA_INTEGRATION_API_TOKEN: selecting tables of the sandbox's demo flow");
            let names = ["sales.orders", "ORDER_ITEMS", "crm.customers"].map(str::to_owned);
            let backend = HttpBackend::new(sandbox.client_config()?)?;
            (backend, Some(sandbox), DEMO_FLOW.to_owned(), names.to_vec())
        };
    let service = Service::new(Arc::new(backend));

    // `None`: read from the data flow's own source connection.
    let set = service
        .set_source_tables(&Env::Default, &DataFlowId::parse(&flow)?, None, &names)
        .await?;
    for table in &set.tables {
        println!("selected {}.{}", table.schema, table.table);
    }
    Ok(())
}
