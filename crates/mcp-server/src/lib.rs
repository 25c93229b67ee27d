//! Placeholder for the `bdi-mcp-server` front end; its own issue fills it in.
