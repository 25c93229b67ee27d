//! Pagination: absolute next/previous URLs that keep the other query parameters, page ranges,
//! and the environments list.

use bdi_sandbox::{DEFAULT_ACCOUNT_ID, DEFAULT_ENVIRONMENT_ID, demo};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::Harness;

#[tokio::test]
async fn next_page_is_an_absolute_url_keeping_the_query() {
    let h = Harness::start().await;
    let first = h.get(&h.e("/connections?items_per_page=20")).await.json();
    assert!(first["previous_page"].is_null());
    assert_eq!(first["page"], 1);
    assert_eq!(first["account_id"], DEFAULT_ACCOUNT_ID);
    assert_eq!(first["environment_id"], DEFAULT_ENVIRONMENT_ID);
    let next = first["next_page"].as_str().expect("more pages");
    assert!(next.starts_with(&h.sandbox.base_url()), "{next}");
    assert!(
        next.contains("items_per_page=20") && next.contains("page=2"),
        "{next}"
    );

    let second = h.get(next).await.json();
    assert_eq!(second["page"], 2);
    assert_eq!(second["current_page_size"], 20);
    let third = h
        .get(second["next_page"].as_str().expect("third page"))
        .await
        .json();
    assert_eq!(third["current_page_size"], demo::DEMO_CONNECTION_COUNT - 40);
    assert!(third["next_page"].is_null());
    assert!(
        third["previous_page"]
            .as_str()
            .expect("previous")
            .contains("page=2")
    );
    // Past the end: an empty page, not an error.
    let past = h.get(&h.e("/connections?page=9")).await.json();
    assert_eq!(past["items"], json!([]));
}

#[tokio::test]
async fn page_parameters_are_range_checked() {
    let h = Harness::start().await;
    let r = h.get(&h.e("/connections?page=0")).await;
    let err = r.first_error();
    assert_eq!(err["type"], "greater_than_equal");
    assert_eq!(err["loc"], json!(["query", "page"]));
    let r = h.get(&h.e("/connections?items_per_page=501")).await;
    assert_eq!(r.first_error()["type"], "less_than_equal");
    assert_eq!(
        h.get(&h.e("/connections?items_per_page=500")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn environments_are_listed_with_their_fields() {
    let h = Harness::start().await;
    let r = h
        .get(&h.url(&format!("/v1/accounts/{DEFAULT_ACCOUNT_ID}/environments")))
        .await
        .json();
    assert_eq!(r["total_items"], 2);
    assert!(r.get("environment_id").is_none());
    let prod = &r["items"][0];
    assert_eq!(prod["_id"], DEFAULT_ENVIRONMENT_ID);
    assert_eq!(prod["cross_id"], DEFAULT_ENVIRONMENT_ID);
    assert_eq!(prod["is_default"], true);
    assert_eq!(prod["is_deleted"], false);
    assert_eq!(prod["variables"]["days_ago"], "1");
    assert_eq!(r["items"][1]["_id"], demo::SECOND_ENVIRONMENT_ID);
    let paged = h
        .get(&h.url(&format!(
            "/v1/accounts/{DEFAULT_ACCOUNT_ID}/environments?items_per_page=1"
        )))
        .await
        .json();
    assert!(
        paged["next_page"]
            .as_str()
            .expect("next")
            .contains("items_per_page=1")
    );
}
