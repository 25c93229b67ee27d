//! A faithful local emulator of the Boomi Data Integration API v1 (placeholder).
