//! Binary shim for the `bdi-mcp-server` front end.

fn main() {}
