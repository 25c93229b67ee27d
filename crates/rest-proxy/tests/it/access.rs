//! Access control: 401 without or with a bad key, 403 naming the missing scope, 403 outside the
//! key's environments, 404 for another account; refused calls never reach the upstream (the mock
//! has no expectation, so any call would panic) and refused writes are audited.

use axum::http::{Method, StatusCode};
use bdi_domain::MockBackend;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn no_key_is_401() {
    let h = harness(MockBackend::new());
    let r = call(&h.app, Method::GET, &e("/rivers"), None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("no_key", r.json());
}

#[tokio::test]
async fn a_bad_key_is_401() {
    let h = harness(MockBackend::new());
    let r = get(&h.app, &e("/rivers"), "not-a-key").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("bad_key", r.json());
    let basic = axum::http::Request::builder()
        .uri(e("/rivers"))
        .header("authorization", format!("Basic {ADMIN}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(send(&h.app, basic).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_missing_scope_is_403_naming_it() {
    let h = harness(MockBackend::new());
    let r = call(
        &h.app,
        Method::POST,
        &e("/rivers"),
        Some(READER),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("missing_scope", r.json());
    let r = call(
        &h.app,
        Method::POST,
        &e(&format!("/rivers/{FLOW}/run")),
        Some(READER),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`data flow:execute`")
    );
    let r = get(&h.app, &e("/connections"), READER).await;
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`connection:list`")
    );
}

#[tokio::test]
async fn an_environment_outside_the_key_is_403() {
    let h = harness(MockBackend::new());
    let r = get(&h.app, &e("/rivers"), OTHER).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("environment_not_allowed", r.json());
    let r = get(&h.app, &b("/connections"), OTHER).await;
    assert_eq!(r.json()["error"]["code"], "environment_not_allowed");
}

#[tokio::test]
async fn another_account_is_404_like_upstream() {
    let h = harness(MockBackend::new());
    let path = format!("/v1/accounts/aaaaaaaaaaaaaaaaaaaaaaaa/environments/{ENV}/rivers");
    let r = get(&h.app, &path, ADMIN).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_malformed_environment_is_400() {
    let h = harness(MockBackend::new());
    let r = get(
        &h.app,
        &format!("/v1/accounts/{ACCOUNT}/environments/nope/rivers"),
        ADMIN,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "invalid_input");
}

#[tokio::test]
async fn refused_and_accepted_writes_are_audited_without_secrets() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("disabled")));
    mock.expect_delete_data_flow()
        .times(1)
        .returning(|_, _| Ok(()));
    let h = harness(mock);
    let path = e(&format!("/rivers/{FLOW}"));
    let r = call(&h.app, Method::DELETE, &path, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = call(&h.app, Method::DELETE, &path, Some(READER), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = call(&h.app, Method::DELETE, &path, Some(ADMIN), None).await;
    assert_eq!(r.status, StatusCode::OK);
    // Reads are not audited.
    let r = get(&h.app, &path, ADMIN).await;
    assert_eq!(r.status, StatusCode::OK);

    let audit = h.audit();
    insta::assert_json_snapshot!("audit_delete", audit);
    let text = serde_json::to_string(&audit).unwrap();
    for secret in [ADMIN, READER] {
        assert!(!text.contains(secret), "{text}");
    }
}
