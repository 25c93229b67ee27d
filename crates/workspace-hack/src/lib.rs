//! Nothing to use: this crate only depends on the workspace's shared dependencies with the union
//! of the features any build asks for (`cargo hakari generate`), so that every build of every
//! package compiles each of them once. See `.config/hakari.toml` and `docs/build.md`.
