//! Binary shim for the `bdi-cli` front end.

fn main() {}
