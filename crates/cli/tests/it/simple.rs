//! `bdi environments`, `bdi variables` and `bdi operations` against the mock.

use std::collections::BTreeMap;

use bdi_domain::{Env, MockBackend};

use crate::support::*;

#[tokio::test]
async fn environments_list() {
    let mut mock = MockBackend::new();
    mock.expect_list_environments().returning(|_, deleted| {
        assert!(!deleted);
        Ok(environments())
    });
    insta::assert_snapshot!(bdi(&["environments", "list"], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    ID                        NAME        DEFAULT  DESCRIPTION
    6a7b8c9d0e1f2a3b4c5d6e7f  Production  yes      live
    6a7b8c9d0e1f2a3b4c5d6e70  Staging
    ----- stderr -----
    ");
}

#[tokio::test]
async fn variables_list_in_every_format() {
    let vars = || -> BTreeMap<String, String> {
        [
            ("START_DATE".to_owned(), "2026-01-01".to_owned()),
            ("MODE".to_owned(), "full".to_owned()),
        ]
        .into()
    };
    let mut mock = MockBackend::new();
    mock.expect_list_variables().times(3).returning(move |env| {
        assert_eq!(env, &Env::Id(ENV.parse().unwrap()));
        Ok(vars())
    });
    let mock = std::sync::Arc::new(mock);
    let run = |format: &'static str| {
        let mock = mock.clone();
        async move {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let status = bdi_cli::run(
                ["bdi", "variables", "list", "-e", ENV, "-o", format],
                &mut out,
                &mut err,
                mock,
            )
            .await;
            render(status, &out, &err)
        }
    };
    insta::assert_snapshot!(run("table").await, @r"
    exit_code: 0
    ----- stdout -----
    NAME        VALUE
    MODE        full
    START_DATE  2026-01-01
    ----- stderr -----
    ");
    insta::assert_snapshot!(run("json").await, @r#"
    exit_code: 0
    ----- stdout -----
    {
      "MODE": "full",
      "START_DATE": "2026-01-01"
    }
    ----- stderr -----
    "#);
    insta::assert_snapshot!(run("yaml").await, @r"
    exit_code: 0
    ----- stdout -----
    MODE: full
    START_DATE: 2026-01-01
    ----- stderr -----
    ");
}

#[tokio::test]
async fn variables_set_needs_name_value_pairs() {
    insta::assert_snapshot!(bdi(&["variables", "set", "NOPE"], MockBackend::new()).await, @r"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: invalid variable `NOPE`: expected NAME=VALUE

    hint: for example `bdi variables set START_DATE=2026-01-01`
    ");
}

#[tokio::test]
async fn operations_get() {
    let mut mock = MockBackend::new();
    mock.expect_get_operation()
        .returning(|_, _| Ok(operation("E", Some("source connection unreachable"))));
    insta::assert_snapshot!(bdi(&["operations", "get", OP], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    operation:  66aa00bb11cc22dd33ee44ff
    type:       activate_river
    status:     E (error)
    updated:    2026-05-25T02:00:00.000Z
    error:      source connection unreachable
    ----- stderr -----
    ");
}

#[tokio::test]
async fn a_rejected_token_is_an_api_error() {
    let mut mock = MockBackend::new();
    mock.expect_list_environments().returning(|_, _| {
        Err(bdi_domain::Error::Unauthorized {
            message: "Invalid token".into(),
        })
    });
    insta::assert_snapshot!(bdi(&["environments", "list"], mock).await, @r"
    exit_code: 3
    ----- stdout -----

    ----- stderr -----
    error: authentication failed: Invalid token

    hint: check the API token (Settings > API Tokens in the console, then `bdi configure`); it may be expired or deleted
    ");
}

#[tokio::test]
async fn variables_set_upserts_the_pairs() {
    let mut mock = MockBackend::new();
    mock.expect_upsert_variables()
        .times(1)
        .returning(|_, vars| {
            assert_eq!(
                vars.get("START_DATE").map(String::as_str),
                Some("2026-01-01")
            );
            assert_eq!(vars.get("QUERY").map(String::as_str), Some("a=b"));
            Ok(())
        });
    insta::assert_snapshot!(bdi(&["variables", "set", "START_DATE=2026-01-01", "QUERY=a=b", "-o", "json"], mock).await, @r#"
    exit_code: 0
    ----- stdout -----
    {
      "updated": true,
      "count": 2
    }
    ----- stderr -----
    set 2 variables
    "#);
}
