//! Bearer check (401), account and environment scope (403), and path strictness (404).

use bdi_sandbox::{DEFAULT_ACCOUNT_ID, SandboxConfig, demo};
use reqwest::{Method, StatusCode};

use crate::support::Harness;

#[tokio::test]
async fn missing_or_wrong_token_is_401_with_a_detail() {
    let h = Harness::start().await;
    let url = h.e("/rivers");
    let none = h.send(Method::GET, &url, None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(!none.detail().is_empty());
    let wrong = h.send(Method::GET, &url, None, Some("not-the-token")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        !wrong.text.contains("not-the-token"),
        "the token is never echoed"
    );
    let ok = h.get(&url).await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn a_configured_token_replaces_the_default() {
    let config = SandboxConfig {
        token: "custom".to_owned(),
        ..SandboxConfig::default()
    };
    let mut h = Harness::with(config).await;
    assert_eq!(
        h.get(&h.e("/rivers")).await.status,
        StatusCode::UNAUTHORIZED
    );
    h.token = "custom".to_owned();
    assert_eq!(h.get(&h.e("/rivers")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn other_accounts_and_unknown_environments_are_403() {
    let h = Harness::start().await;
    let other_account = h.url("/v1/accounts/aaaaaaaaaaaaaaaaaaaaaaaa/environments");
    assert_eq!(h.get(&other_account).await.status, StatusCode::FORBIDDEN);
    let unknown_env = h.url(&format!(
        "/v1/accounts/{DEFAULT_ACCOUNT_ID}/environments/bbbbbbbbbbbbbbbbbbbbbbbb/rivers"
    ));
    let r = h.get(&unknown_env).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.detail().contains("environment"));
    let second = h.url(&format!(
        "/v1/accounts/{DEFAULT_ACCOUNT_ID}/environments/{}/rivers",
        demo::SECOND_ENVIRONMENT_ID
    ));
    let r = h.get(&second).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json()["items"][0]["river_cross_id"],
        demo::SECOND_ENV_FLOW_ID
    );
}

#[tokio::test]
async fn a_double_slash_path_is_404() {
    let h = Harness::start().await;
    let url = format!(
        "{}/{}",
        h.sandbox.base_url(),
        h.e("/rivers").trim_start_matches(&h.sandbox.base_url())
    );
    assert!(url.contains("//v1/"));
    let r = h.get(&url).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.detail(), "Not Found");
    let patch = h
        .send(Method::PATCH, &h.e("/rivers"), None, Some(&h.token))
        .await;
    assert_eq!(patch.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(patch.detail(), "Method Not Allowed");
}

#[tokio::test]
async fn the_empty_sandbox_has_one_empty_environment() {
    let h = Harness::with(SandboxConfig {
        demo_data: false,
        ..SandboxConfig::default()
    })
    .await;
    let envs = h
        .get(&h.url(&format!("/v1/accounts/{DEFAULT_ACCOUNT_ID}/environments")))
        .await
        .json();
    assert_eq!(envs["total_items"], 1);
    assert_eq!(envs["items"][0]["is_default"], true);
    assert_eq!(h.get(&h.e("/rivers")).await.json()["total_items"], 0);
    assert_eq!(h.get(&h.e("/connections")).await.json()["total_items"], 0);
}

#[tokio::test]
async fn shutdown_is_prompt_and_frees_the_port() {
    let h = Harness::start().await;
    assert_eq!(h.get(&h.e("/variables")).await.status, StatusCode::OK);
    let addr = h.sandbox.addr();
    let started = std::time::Instant::now();
    h.sandbox.shutdown().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
}
