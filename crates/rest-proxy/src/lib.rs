//! Placeholder for the `bdi-rest-proxy` front end; its own issue fills it in.
