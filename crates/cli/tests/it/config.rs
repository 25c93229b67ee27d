//! `bdi configure` and the configuration precedence, in process with a temporary config file.

use tokio_util::sync::CancellationToken;

use crate::support::bdi_with;

#[tokio::test]
async fn configure_writes_a_private_profile_and_lists_it_masked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let p = path.to_str().unwrap().to_owned();
    let vars = [("BDI_CONFIG", p.as_str())];
    let out = bdi_with(
        &[
            "configure",
            "--profile",
            "prod",
            "--api-url",
            "eu",
            "--account-id",
            "5f1e2d3c4b5a69788796a5b4",
        ],
        None,
        &vars,
        "secret-token-0123456789abcd\n",
        CancellationToken::new(),
    )
    .await;
    let out = out.replace(&p, "[CONFIG]");
    insta::assert_snapshot!(out, @r"
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    saved profile `prod` to [CONFIG] (token ****abcd)
    ");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("[profiles.prod]") && text.contains("secret-token-0123456789abcd"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // An empty token keeps the stored one; other fields change.
    let out = bdi_with(
        &["configure", "--profile", "prod", "--api-url", "au"],
        None,
        &vars,
        "\n",
        CancellationToken::new(),
    )
    .await;
    assert!(out.starts_with("exit_code: 0"), "{out}");

    let out = bdi_with(
        &["configure", "--list"],
        None,
        &vars,
        "",
        CancellationToken::new(),
    )
    .await;
    let out = out.replace(&p, "[CONFIG]");
    insta::assert_snapshot!(out, @r"
    exit_code: 0
    ----- stdout -----
    PROFILE  API URL  ACCOUNT                   ENVIRONMENT  TOKEN
    prod     au       5f1e2d3c4b5a69788796a5b4               ****abcd
    ----- stderr -----
    config file: [CONFIG]
    ");
    let json = bdi_with(
        &["configure", "--list", "-o", "json"],
        None,
        &vars,
        "",
        CancellationToken::new(),
    )
    .await;
    assert!(!json.contains("secret-token"), "{json}");
}

#[tokio::test]
async fn configure_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml").to_str().unwrap().to_owned();
    let out = bdi_with(
        &["configure"],
        None,
        &[("BDI_CONFIG", p.as_str())],
        "",
        CancellationToken::new(),
    )
    .await;
    insta::assert_snapshot!(out, @r"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: no API token given

    hint: pipe the token on stdin, e.g. `printenv BDI_TOKEN | bdi configure --account-id ID`; mint one in the console under Settings > API Tokens
    ");
}

#[tokio::test]
async fn an_unknown_profile_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml").to_str().unwrap().to_owned();
    let out = bdi_with(
        &["flows", "list", "--profile", "nope"],
        None,
        &[("BDI_CONFIG", p.as_str())],
        "",
        CancellationToken::new(),
    )
    .await;
    let out = out.replace(&p, "[CONFIG]");
    insta::assert_snapshot!(out, @r"
    exit_code: 3
    ----- stdout -----

    ----- stderr -----
    error: profile `nope` not found in [CONFIG]

    hint: list the profiles with `bdi configure --list`, or create one with `bdi configure --profile NAME`
    ");
}

#[tokio::test]
async fn no_configuration_says_how_to_configure() {
    let out = bdi_with(&["flows", "list"], None, &[], "", CancellationToken::new()).await;
    assert!(out.starts_with("exit_code: 3\n"), "{out}");
    assert!(out.contains("hint: run `bdi configure`"), "{out}");
}

#[tokio::test]
async fn sandbox_prints_how_to_reach_it_until_cancelled() {
    let cancel = CancellationToken::new();
    cancel.cancel();
    let out = bdi_with(&["sandbox"], None, &[], "", cancel).await;
    let port = out
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap()
        .to_owned();
    insta::assert_snapshot!(out.replace(&port, "[PORT]"), @r"
    exit_code: 0
    ----- stdout -----
    export DATA_INTEGRATION_API_URL=http://127.0.0.1:[PORT]
    export DATA_INTEGRATION_API_TOKEN=bdi-sandbox-token
    export DATA_INTEGRATION_ACCOUNT_ID=5f1e2d3c4b5a69788796a5b4
    export DATA_INTEGRATION_ENVIRONMENT_ID=6a7b8c9d0e1f2a3b4c5d6e7f
    export BOOMI_FLOW_API_URL=http://127.0.0.1:[PORT]/api
    export BOOMI_FLOW_API_KEY=bdisandboxflowkey000000000000001
    export BOOMI_FLOW_TENANT_ID=7f3e2a10-5b4c-4d8e-9f01-a2b3c4d5e6f7
    ----- stderr -----
    sandbox with demo data at http://127.0.0.1:[PORT]; in another shell, `eval` the lines above (or use --sandbox on any command); Ctrl-C stops it
    sandbox stopped
    ");
}
