//! `bdi-mcp`: an MCP server (rmcp) that gives AI agents every tool of the vendor's Boomi Data
//! Integration MCP server, and more, over stdio or Streamable HTTP.
//!
//! **Boundary:** tools call the domain `Service` (or `Backend` for plain reads); this crate never
//! speaks HTTP to the platform itself. It translates domain errors into tool errors at its edge.

pub mod app;
pub mod bounded;
pub mod confirm;
pub mod descriptions;
pub mod docs;
pub mod errors;
pub mod guide;
pub mod history;
pub mod limits;
pub mod logging;
pub mod output;
pub mod params;
pub mod schema;
pub mod server;
pub mod toolset;

pub use server::{Backing, BdiMcp, ServerOptions};
pub use toolset::ToolSelection;
