//! Placeholder for the `bdi-cli` front end; its own issue fills it in.
