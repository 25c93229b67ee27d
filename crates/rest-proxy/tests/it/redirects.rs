//! The gateway's upstream client never follows a redirect to another host: an upstream that
//! answers reads and writes with a redirect elsewhere gets an error back to the caller, and the
//! other host receives nothing (not the upstream token, not a write's body).

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use bdi_api_client::{ClientConfig, HttpBackend, RetryPolicy};
use bdi_domain::{AccountId, EnvironmentId};
use bdi_rest_proxy::keys::{ApiKey, KeyStore, digest};
use bdi_rest_proxy::scopes::Scope;
use bdi_rest_proxy::serve::RunningGateway;
use bdi_rest_proxy::{AppState, GatewayConfig};

use crate::support::{ACCOUNT, ENV};

const KEY: &str = "bdig_redirect_key";
const TOKEN: &str = "upstream-token-0123456789";

async fn listen(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_redirect_to_another_host_reaches_nothing_there() {
    let stolen: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = stolen.clone();
    let thief = listen(axum::Router::new().fallback(move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(format!("{headers:?}"));
            "{}"
        }
    }))
    .await;
    let to = thief.clone();
    let upstream = listen(axum::Router::new().fallback(move || {
        let to = to.clone();
        async move {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [("location", format!("{to}/v1/collect"))],
            )
                .into_response()
        }
    }))
    .await;

    let account = AccountId::parse(ACCOUNT).unwrap();
    let backend = HttpBackend::new(
        ClientConfig::new(&upstream, TOKEN, account.clone())
            .unwrap()
            .with_default_environment(Some(EnvironmentId::parse(ENV).unwrap()))
            .with_retry(RetryPolicy::none()),
    )
    .unwrap();
    let keys = KeyStore::new([ApiKey::new("svc", digest(KEY), Scope::ALL, None)]);
    let state = AppState::new(GatewayConfig::new(Arc::new(backend), account, keys));
    let gw = RunningGateway::start("127.0.0.1:0".parse().unwrap(), state)
        .await
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = format!("{}/v1/accounts/{ACCOUNT}/environments/{ENV}", gw.base_url());
    let read = http
        .get(format!("{base}/rivers"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let write = http
        .post(format!("{base}/rivers"))
        .bearer_auth(KEY)
        .json(&serde_json::json!({"river": {"name": "x"}}))
        .send()
        .await
        .unwrap();
    for answer in [read, write] {
        let status = answer.status();
        let body = answer.text().await.unwrap();
        assert!(status.is_server_error(), "{status}: {body}");
        assert!(!body.contains(TOKEN), "{body}");
    }
    assert!(
        stolen.lock().unwrap().is_empty(),
        "the other host got no request"
    );
}
