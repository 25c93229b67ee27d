//! Binary shim for the `bdi-rest-proxy` front end.

fn main() {}
