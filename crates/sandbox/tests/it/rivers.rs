//! Data-flow writes and reads: pydantic-style 422s, the update-only rules, legacy flows, listing.

use bdi_sandbox::{SandboxConfig, demo};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Harness, flow_body};

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body.as_object_mut()
        .expect("object")
        .insert(key.to_owned(), value);
    body
}

#[tokio::test]
async fn forbidden_and_unknown_top_level_keys_are_extra_forbidden() {
    let h = Harness::start().await;
    for key in [
        "title",
        "id",
        "_id",
        "description",
        "cross_id",
        "account_id",
        "environment_name",
        "group_name",
    ] {
        let body = with(flow_body("x", &[]), key, json!("v"));
        let r = h.post(&h.e("/rivers"), &body).await;
        let err = r.first_error();
        assert_eq!(err["type"], "extra_forbidden", "{key}");
        assert_eq!(err["loc"], json!(["body", key]));
        assert_eq!(err["msg"], "Extra inputs are not permitted");
        assert_eq!(err["input"], "v");
        // The same on PUT.
        let r = h
            .put(&h.e(&format!("/rivers/{}", demo::NEW_FLOW_ID)), &body)
            .await;
        assert_eq!(r.first_error()["type"], "extra_forbidden");
    }
}

#[tokio::test]
async fn the_strictness_switch_accepts_the_deployment_fields() {
    let h = Harness::with(SandboxConfig {
        strict: false,
        ..SandboxConfig::default()
    })
    .await;
    let body = with(flow_body("x", &[]), "cross_id", json!(demo::NEW_FLOW_ID));
    assert_eq!(
        h.post(&h.e("/rivers"), &body).await.status,
        StatusCode::CREATED
    );
    let body = with(flow_body("x", &[]), "title", json!("still forbidden"));
    assert_eq!(
        h.post(&h.e("/rivers"), &body).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn required_fields_are_reported_missing_all_at_once() {
    let h = Harness::start().await;
    let r = h
        .post(&h.e("/rivers"), &json!({"name": "only a name"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = r.json()["detail"].as_array().expect("list").clone();
    let missing: Vec<&Value> = detail.iter().map(|d| &d["loc"][1]).collect();
    assert_eq!(missing, vec!["type", "metadata", "settings", "properties"]);
    assert!(
        detail
            .iter()
            .all(|d| d["type"] == "missing" && d["msg"] == "Field required")
    );
    let r = h
        .put(&h.e(&format!("/rivers/{}", demo::NEW_FLOW_ID)), &json!({}))
        .await;
    assert_eq!(r.json()["detail"].as_array().expect("list").len(), 5);
    let not_json = h
        .send(reqwest::Method::POST, &h.e("/rivers"), None, Some(&h.token))
        .await;
    assert_eq!(not_json.first_error()["loc"], json!(["body"]));
}

#[tokio::test]
async fn table_details_are_strict() {
    let h = Harness::start().await;
    let mut body = flow_body("x", &["orders"]);
    body["properties"]["schemas"][0]["tables"][0]["details"]["extract_method"] = json!("increment");
    let err = h.post(&h.e("/rivers"), &body).await.first_error();
    assert_eq!(err["type"], "enum");
    assert_eq!(err["input"], "increment");
    assert_eq!(
        err["loc"].as_array().expect("loc").last(),
        Some(&json!("extract_method"))
    );

    let mut body = flow_body("x", &["orders"]);
    body["properties"]["schemas"][0]["tables"][0]["details"]["columns"] = json!([]);
    let err = h.post(&h.e("/rivers"), &body).await.first_error();
    assert_eq!(err["type"], "extra_forbidden");
    assert_eq!(
        err["loc"].as_array().expect("loc").last(),
        Some(&json!("columns"))
    );

    let mut body = flow_body("x", &["orders"]);
    body["properties"]["schemas"][0]["tables"][0]["details"]["extract_method"] =
        json!("incremental");
    body["properties"]["schemas"][0]["tables"][0]["details"]["incremental_field"] =
        json!("updated_at");
    assert_eq!(
        h.post(&h.e("/rivers"), &body).await.status,
        StatusCode::CREATED
    );

    let mut body = flow_body("x", &[]);
    body["properties"]["bogus"] = json!(1);
    assert_eq!(
        h.post(&h.e("/rivers"), &body).await.first_error()["type"],
        "extra_forbidden"
    );
    let mut body = flow_body("x", &[]);
    body["schedulers"] =
        json!([{"cron_expression": "0 * * * *"}, {"cron_expression": "5 * * * *"}]);
    assert_eq!(
        h.post(&h.e("/rivers"), &body).await.first_error()["type"],
        "too_long"
    );
}

#[tokio::test]
async fn run_type_cannot_change_on_update() {
    let h = Harness::start().await;
    let id = h.create_flow(&flow_body("x", &[]), true).await;
    let mut body = flow_body("x", &[]);
    body["properties"]["source"]["run_type"] = json!("regular");
    let err = h
        .put(&h.e(&format!("/rivers/{id}")), &body)
        .await
        .first_error();
    assert_eq!(
        err["msg"],
        "Cannot change run_type from 'multi_tables' to 'regular' during UPDATE. Delete and recreate the river."
    );
}

#[tokio::test]
async fn an_active_cdc_flow_locks_its_properties() {
    let h = Harness::start().await;
    let url = h.e(&format!("/rivers/{}", demo::CDC_FLOW_ID));
    let current = h.get(&url).await.json();
    let mut body = json!({});
    for key in [
        "name",
        "type",
        "kind",
        "metadata",
        "settings",
        "properties",
        "schedulers",
        "group_id",
    ] {
        body[key] = current[key].clone();
    }
    body["properties"]["target"]["schema_name"] = json!("CHANGED");
    let r = h.put(&url, &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.detail()
            .contains("can not update properties for an active data flow")
    );
    assert!(r.detail().contains("Please disable the data flow"));
    // An ordinary active flow can be PUT.
    let orders = h
        .get(&h.e(&format!("/rivers/{}", demo::ORDERS_FLOW_ID)))
        .await
        .json();
    let mut body = json!({});
    for key in ["name", "type", "metadata", "settings", "properties"] {
        body[key] = orders[key].clone();
    }
    body["name"] = json!("Renamed");
    let r = h
        .put(&h.e(&format!("/rivers/{}", demo::ORDERS_FLOW_ID)), &body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json()["schedulers"][0]["cron_expression"],
        "0 * * * *",
        "an omitted schedulers key is left alone"
    );
}

#[tokio::test]
async fn legacy_flows_answer_400_and_unknown_flows_404() {
    let h = Harness::start().await;
    let r = h
        .get(&h.e(&format!("/rivers/{}", demo::LEGACY_FLOW_ID)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.detail().contains("created in the UI"));
    let r = h.get(&h.e("/rivers/ffffffffffffffffffffffff")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_list_uses_the_list_shape_and_filters() {
    let h = Harness::start().await;
    let all = h.get(&h.e("/rivers?items_per_page=100")).await.json();
    let items = all["items"].as_array().expect("items");
    assert_eq!(all["total_items"], 7);
    let legacy = items
        .iter()
        .find(|i| i["river_cross_id"] == demo::LEGACY_FLOW_ID)
        .expect("legacy listed");
    assert_eq!(legacy["is_api_v2"], false);
    assert!(
        legacy.get("cross_id").is_none(),
        "the list says river_cross_id"
    );

    let by_name = h.get(&h.e("/rivers?name=ORDERS")).await.json();
    assert_eq!(by_name["total_items"], 1);
    assert_eq!(by_name["items"][0]["river_cross_id"], demo::ORDERS_FLOW_ID);

    let disabled = h.get(&h.e("/rivers?river_status=disabled")).await.json();
    assert!(
        disabled["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["river_status"] == "disabled")
    );
    let both = h
        .get(&h.e("/rivers?river_status=disabled&river_status=active"))
        .await
        .json();
    assert_eq!(both["total_items"], 7);

    let sorted = h
        .get(&h.e("/rivers?sort_by=river_name&sort_order=asc"))
        .await
        .json();
    let names: Vec<String> = sorted["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_lowercase())
        .collect();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(names, expected);

    let bad = h.get(&h.e("/rivers?sort_by=bogus")).await;
    assert_eq!(bad.first_error()["loc"], json!(["query", "sort_by"]));
    let bad = h.get(&h.e("/rivers?river_status=paused")).await;
    assert_eq!(bad.first_error()["type"], "enum");
}
