//! Discovery through `POST pull_requests` + operations: the fixture catalog and its traps.

use bdi_sandbox::demo;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::Harness;

fn request(datasource: &str, connection: &str, inputs: Value) -> Value {
    let mut inputs = inputs;
    inputs["connection_id"] = json!(connection);
    json!({"task_type": "source", "datasource_id": datasource, "task": "get_db_metadata", "pull_request_inputs": inputs})
}

async fn discover(h: &Harness, body: &Value) -> Value {
    let r = h.post(&h.e("/pull_requests"), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let op = r.json();
    assert_eq!(op["status"], "W");
    assert!(op["result"].is_null());
    h.poll_op(op["operation_id"].as_str().expect("id")).await
}

#[tokio::test]
async fn the_mysql_catalog_has_the_awkward_names_and_column_variants() {
    let h = Harness::start().await;
    let op = discover(&h, &request("mysql", demo::MYSQL_CONNECTION_ID, json!({}))).await;
    assert_eq!(op["status"], "D");
    let cat = &op["result"];
    assert!(cat["sales"]["customers"]["columns"].is_array());
    assert!(
        cat["crm"]["customers"]["columns"].is_array(),
        "customers is in two schemas"
    );
    assert!(
        cat["crm"]["Accounts"].is_object() && cat["billing"]["accounts"].is_object(),
        "names differing by case"
    );
    assert!(cat["Analytics"]["Events"].is_object(), "mixed-case schema");
    assert_eq!(cat["sales"]["orders"]["columns"][0]["name"], "order_id");
    assert_eq!(cat["sales"]["orders"]["columns"][0]["is_key"], true);
    assert_eq!(
        cat["crm"]["customers"]["columns"][0]["column_name"],
        "customer_id"
    );
    assert_eq!(
        cat["crm"]["customers"]["columns"][0]["is_primary_key"],
        true
    );
    assert!(cat["crm"]["customers"]["columns"][0]["data_type"].is_string());
    assert!(
        cat["Analytics"]["Events"]["fields"].is_array(),
        "columns under `fields`"
    );
}

#[tokio::test]
async fn schema_and_table_filters_narrow_the_result() {
    let h = Harness::start().await;
    let op = discover(
        &h,
        &request(
            "mysql",
            demo::MYSQL_CONNECTION_ID,
            json!({"schemas": ["crm"], "table_name": "customers"}),
        ),
    )
    .await;
    let cat = op["result"].as_object().expect("catalog");
    assert_eq!(cat.len(), 1);
    assert_eq!(cat["crm"].as_object().expect("tables").len(), 1);
    // BigQuery ignores the schemas filter and only populates the requested table.
    let op = discover(
        &h,
        &request(
            "bigquery",
            demo::BIGQUERY_CONNECTION_ID,
            json!({"schemas": ["analytics"], "table_name": "sessions"}),
        ),
    )
    .await;
    let cat = &op["result"];
    assert!(cat["marketing"].is_object());
    assert_eq!(cat["marketing"]["campaigns"]["columns"], json!([]));
    assert_eq!(
        cat["analytics"]["sessions"]["columns"][0]["mode"],
        "REQUIRED"
    );
}

#[tokio::test]
async fn discovery_errors_have_the_upstream_statuses() {
    let h = Harness::start().await;
    let r = h
        .post(
            &h.e("/pull_requests"),
            &request("postgres", demo::MYSQL_CONNECTION_ID, json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.detail(),
        "The connection does not match to the provided connection_type"
    );
    let mut bad_task = request("mysql", demo::MYSQL_CONNECTION_ID, json!({}));
    bad_task["task"] = json!("get_everything");
    assert_eq!(
        h.post(&h.e("/pull_requests"), &bad_task)
            .await
            .first_error()["loc"],
        json!(["body", "task"])
    );
    let mut target = request("mysql", demo::MYSQL_CONNECTION_ID, json!({}));
    target["task_type"] = json!("target");
    let err = h.post(&h.e("/pull_requests"), &target).await.first_error();
    assert!(
        err["msg"]
            .as_str()
            .expect("msg")
            .contains("did not match any key in the pull-translate mapping")
    );
    let op = discover(
        &h,
        &request("oracle", demo::UNREACHABLE_CONNECTION_ID, json!({})),
    )
    .await;
    assert_eq!(op["status"], "E");
    assert!(
        op["error_message"]
            .as_str()
            .expect("message")
            .contains("ORA-12547")
    );
}
