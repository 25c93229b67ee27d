//! Configuration of the CLI: the shared profile file and precedence rules of
//! `bdi_api_client::profile` (flags, then `DATA_INTEGRATION_*` variables, then a profile), so the
//! CLI, the MCP server and the gateway read the same configuration.

pub use bdi_api_client::profile::*;
