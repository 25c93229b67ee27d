//! Help, version, usage errors and completions: what a user sees before any request.

use bdi_domain::MockBackend;

use crate::support::bdi;

#[tokio::test]
async fn top_level_help() {
    insta::assert_snapshot!(bdi(&["--help"], MockBackend::new()).await);
}

#[tokio::test]
async fn flows_help() {
    insta::assert_snapshot!(bdi(&["flows", "--help"], MockBackend::new()).await);
}

#[tokio::test]
async fn run_help() {
    insta::assert_snapshot!(bdi(&["flows", "run", "--help"], MockBackend::new()).await);
}

#[tokio::test]
async fn a_missing_command_is_a_usage_error() {
    let out = bdi(&[], MockBackend::new()).await;
    assert!(out.starts_with("exit_code: 2\n"), "{out}");
    assert!(out.contains("Usage: bdi [OPTIONS] <COMMAND>"), "{out}");
}

#[tokio::test]
async fn an_unknown_flag_is_a_usage_error() {
    insta::assert_snapshot!(bdi(&["flows", "list", "--colour"], MockBackend::new()).await, @r"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: unexpected argument '--colour' found

    Usage: bdi flows list [OPTIONS]

    For more information, try '--help'.
    ");
}

#[tokio::test]
async fn a_malformed_id_is_refused_before_any_request() {
    // The mock has no expectations: any backend call would panic.
    insta::assert_snapshot!(bdi(&["flows", "get", "not-an-id"], MockBackend::new()).await, @r"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: invalid data_flow_id: `not-an-id` is not a valid data flow id: expected 24 hexadecimal characters

    hint: ids are 24 hexadecimal characters (32 for runs): `bdi flows list`, `bdi connections list` and `bdi runs list FLOW` show valid ids
    ");
}

#[tokio::test]
async fn an_empty_environment_id_is_refused_not_taken_for_the_default() {
    // Before, `-e ""` fell through to the default environment, even for a delete.
    for empty in ["", "  "] {
        let out = bdi(
            &[
                "connections",
                "delete",
                "5f88aaaaaaaaaaaaaaaaaaaa",
                "--environment-id",
                empty,
            ],
            MockBackend::new(),
        )
        .await;
        insta::allow_duplicates! {
            insta::assert_snapshot!(out, @r"
            exit_code: 2
            ----- stdout -----

            ----- stderr -----
            error: invalid environment_id: is empty; an empty id does not select the default environment

            hint: leave out --environment-id to use the default environment; `bdi environments list` shows the ids
            ");
        }
    }
}

#[tokio::test]
async fn a_huge_input_is_quoted_short() {
    let huge = "x".repeat(1 << 20);
    let out = bdi(&["flows", "get", &huge], MockBackend::new()).await;
    assert!(out.len() < 1000, "{} bytes", out.len());
    assert!(
        out.contains("…` (1048576 characters) is not a valid data flow id"),
        "{out}"
    );
    let out = bdi(
        &["runs", "list", "507f191e810c19729de860ea", "--since", &huge],
        MockBackend::new(),
    )
    .await;
    assert!(out.len() < 1000, "{} bytes", out.len());
    assert!(out.contains("(1048576 characters)"), "{out}");
}

#[tokio::test]
async fn version() {
    let out = bdi(&["--version"], MockBackend::new()).await;
    assert_eq!(
        out,
        format!(
            "exit_code: 0\n----- stdout -----\nbdi {}\n----- stderr -----\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[tokio::test]
async fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = bdi(&["completions", shell], MockBackend::new()).await;
        assert!(out.starts_with("exit_code: 0\n"), "{out}");
        assert!(
            out.contains("flows") && out.contains("activate"),
            "{shell}: {out}"
        );
    }
}

#[tokio::test]
async fn load_history_help_names_every_history_resource() {
    let help = bdi(&["load", "history", "--help"], MockBackend::new()).await;
    let names = bdi_load::history::HistoryResource::names();
    assert!(
        help.contains(&format!("Resources: {names}\n")),
        "the help's list is the resources' own: {names}\n{help}"
    );
}
