//! Connections: display name vs slug, secrets never returned, PUT clears what is not re-sent.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use bdi_sandbox::demo;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::Harness;

#[tokio::test]
async fn list_items_carry_display_name_and_slug() {
    let h = Harness::start().await;
    let page = h.get(&h.e("/connections")).await.json();
    assert_eq!(page["total_items"], demo::DEMO_CONNECTION_COUNT);
    assert_eq!(page["current_page_size"], 20);
    let mysql = &page["items"][0];
    assert_eq!(mysql["cross_id"], demo::MYSQL_CONNECTION_ID);
    assert_eq!(mysql["_id"], demo::MYSQL_CONNECTION_ID);
    assert_eq!(mysql["connection_type"], "MySQL");
    assert_eq!(mysql["connection_type_id"], "mysql");
}

#[tokio::test]
async fn detail_hides_secrets_and_a_put_without_password_clears_it() {
    let h = Harness::start().await;
    let url = h.e(&format!("/connections/{}", demo::POSTGRES_CONNECTION_ID));
    let detail = h.get(&url).await;
    assert!(!detail.text.contains("sandbox-secret"));
    let detail = detail.json();
    assert_eq!(detail["password_exists"], true);
    assert!(detail.get("password").is_none());

    // Read-modify-write without the secret: the stored password is wiped (trap 15).
    let body = json!({"connection_name": "App Postgres", "connection_type": "postgres", "host": "db.example.com", "port": 5432});
    let put = h.put(&url, &body).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.json()["password_exists"], false);
    assert_eq!(h.get(&url).await.json()["host"], "db.example.com");

    let with_secret =
        json!({"connection_name": "App Postgres", "connection_type": "postgres", "password": "pw"});
    assert_eq!(
        h.put(&url, &with_secret).await.json()["password_exists"],
        true
    );
}

#[tokio::test]
async fn create_drops_unknown_params_and_delete_answers_null() {
    let h = Harness::start().await;
    let body = json!({"connection_name": "New MySQL", "connection_type": "mysql", "host": "h", "password": "p", "made_up": 1});
    let r = h.post(&h.e("/connections"), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.json();
    assert!(created.get("made_up").is_none());
    assert_eq!(created["connection_type"], "MySQL");
    assert_eq!(created["password_exists"], true);
    let id = created["cross_id"].as_str().expect("id");
    let del = h.delete(&h.e(&format!("/connections/{id}"))).await;
    assert_eq!(del.status, StatusCode::OK);
    assert_eq!(del.text, "null");
    assert_eq!(
        h.get(&h.e(&format!("/connections/{id}"))).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn connection_writes_validate_their_body() {
    let h = Harness::start().await;
    let r = h
        .post(&h.e("/connections"), &json!({"connection_type": "mysql"}))
        .await;
    assert_eq!(r.first_error()["loc"], json!(["body", "connection_name"]));
    let r = h
        .post(
            &h.e("/connections"),
            &json!({"connection_name": "x", "connection_type": "mysql", "_id": "y"}),
        )
        .await;
    assert_eq!(r.first_error()["type"], "extra_forbidden");
    let r = h
        .post(
            &h.e("/connections"),
            &json!({"connection_name": "x", "connection_type": "teleport"}),
        )
        .await;
    assert_eq!(r.first_error()["type"], "enum");
}

#[tokio::test]
async fn variables_merge_and_reject_bad_keys() {
    let h = Harness::start().await;
    let url = h.e("/variables");
    let before = h.get(&url).await.json();
    assert_eq!(before["variables"]["days_ago"], "1");
    let r = h
        .put(
            &url,
            &json!({"variables": {"new_key": "v", "days_ago": "3"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let merged = r.json();
    assert_eq!(merged["variables"]["new_key"], "v");
    assert_eq!(merged["variables"]["days_ago"], "3");
    assert_eq!(
        merged["variables"]["aws_file_zone"], "s3://sandbox-file-zone",
        "keys not sent stay"
    );
    for bad in ["a.b", "$x"] {
        let r = h.put(&url, &json!({"variables": {bad: "v"}})).await;
        assert_eq!(r.first_error()["loc"], json!(["body", "variables", bad]));
    }
    let del = h.delete(&format!("{url}?variable_key=new_key")).await;
    assert_eq!(del.status, StatusCode::OK);
    assert!(
        h.get(&url).await.json()["variables"]
            .get("new_key")
            .is_none()
    );
}
