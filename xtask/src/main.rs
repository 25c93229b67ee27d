//! Project automation, in the cargo-xtask style.

fn main() {}
