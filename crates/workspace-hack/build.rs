//! Empty: a build script makes cargo resolve the `[build-dependencies]` hakari writes, which
//! give the build scripts' and proc-macros' dependencies (DuckDB's build script among them) one
//! set of features in every build.

fn main() {}
