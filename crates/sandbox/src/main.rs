//! `bdi-sandbox`: run the emulator on a loopback port.

fn main() {}
