//! The generated CLI reference must match the committed `docs/cli.md`.

use std::path::PathBuf;

#[test]
fn generated_docs_are_fresh() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md");
    let generated = bdi_cli::docs::cli_reference();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == generated {
        return;
    }
    if std::env::var_os("BDI_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("docs/cli.md is writable");
        return;
    }
    panic!("docs/cli.md is stale: run `cargo xtask codegen` and commit the result");
}

#[test]
fn the_reference_documents_every_command_and_exit_code() {
    let doc = bdi_cli::docs::cli_reference();
    for cmd in [
        "bdi flows apply",
        "bdi flows tables set",
        "bdi runs logs",
        "bdi activity group",
        "bdi configure",
        "bdi sandbox",
    ] {
        assert!(doc.contains(&format!("## `{cmd}`")), "{cmd} is missing");
    }
    for code in 0..=6 {
        assert!(
            doc.contains(&format!("| {code} | ")),
            "exit code {code} is missing"
        );
    }
}

#[test]
fn the_command_tree_is_consistent() {
    bdi_cli::command().debug_assert();
}
