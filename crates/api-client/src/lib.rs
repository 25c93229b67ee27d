//! Typed async client for the Boomi Data Integration API v1 (placeholder).
