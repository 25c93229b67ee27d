//! `patch_data_flow` and `update_data_flow` against the strict sandbox: RFC 7396 deep merge (objects
//! merge, lists and scalars replace, null removes), immutable `type` and `run_type` refused before
//! any PUT, and the server-managed fields of the read shape stripped so that the PUT is accepted.

use bdi_domain::{Backend, Error};
use bdi_sandbox::demo::{NEW_FLOW_ID, ORDERS_FLOW_ID};
use serde_json::json;

use crate::support::{env, flow, flow_path, start, stored};

#[tokio::test]
async fn a_patch_keeps_untouched_keys_and_the_selected_tables() {
    let h = start().await;
    let before = stored(&h.service, ORDERS_FLOW_ID).await;
    let patch = json!({
        "name": "Orders v2",
        "settings": {"notification": {"failure": {"email": "ops@example.com"}}},
    });

    let saved = h
        .service
        .patch_data_flow(&env(), &flow(ORDERS_FLOW_ID), &patch)
        .await
        .expect("the patch is saved");

    assert_eq!(saved.name, "Orders v2");
    let after = stored(&h.service, ORDERS_FLOW_ID).await;
    assert_eq!(after.name, "Orders v2");
    let failure = &after.settings["notification"]["failure"];
    assert_eq!(failure["email"], "ops@example.com");
    assert_eq!(failure["is_enabled"], true, "a sibling key survives");
    assert_eq!(
        after.settings["notification"]["warning"],
        before.settings["notification"]["warning"]
    );
    assert_eq!(after.properties["schemas"], before.properties["schemas"]);
    assert_eq!(after.properties["source"], before.properties["source"]);
    assert_eq!(after.properties["target"], before.properties["target"]);
    assert_eq!(
        after.metadata["description"],
        before.metadata["description"]
    );
    assert_eq!(after.extra["schedulers"], before.extra["schedulers"]);
    assert_eq!(after.extra["group_id"], before.extra["group_id"]);
    assert_eq!(after.status(), Some("active"));
    let selected: Vec<&str> = after.properties["schemas"][0]["tables"]
        .as_array()
        .expect("the sales tables")
        .iter()
        .filter(|t| t["details"]["is_selected"] == true)
        .filter_map(|t| t["details"]["name"].as_str())
        .collect();
    assert_eq!(selected, ["orders", "customers", "order_items"]);
}

#[tokio::test]
async fn lists_are_replaced_whole_and_null_removes_a_key() {
    let h = start().await;
    let before = stored(&h.service, ORDERS_FLOW_ID).await;
    assert_eq!(
        before.extra["schedulers"],
        json!([{"cron_expression": "0 * * * *", "is_enabled": true}])
    );
    let patch = json!({
        "schedulers": [{"cron_expression": "30 2 * * *"}],
        "properties": {
            "target": {"schema_name": null},
            "schemas": [{"name": "sales", "tables": [
                {"run_type_and_datasource": "multi_tables", "details": {"name": "orders", "is_selected": true}},
            ]}],
        },
    });

    h.service
        .patch_data_flow(&env(), &flow(ORDERS_FLOW_ID), &patch)
        .await
        .expect("the patch is saved");

    let after = stored(&h.service, ORDERS_FLOW_ID).await;
    // Merged element by element, the old item's `is_enabled: true` would have survived.
    assert_eq!(
        after.extra["schedulers"],
        json!([{"cron_expression": "30 2 * * *", "is_enabled": false}])
    );
    let schemas = after.properties["schemas"]
        .as_array()
        .expect("schemas is a list");
    assert_eq!(schemas.len(), 1);
    let tables = schemas[0]["tables"].as_array().expect("tables is a list");
    assert_eq!(tables.len(), 1, "the other three tables are gone");
    assert_eq!(tables[0]["details"]["name"], "orders");
    let target = after.properties["target"]
        .as_object()
        .expect("target is an object");
    assert!(!target.contains_key("schema_name"), "{target:?}");
    assert_eq!(target["database_name"], "ANALYTICS");
    assert_eq!(target["loading_method"], "merge");
}

#[tokio::test]
async fn a_change_of_run_type_or_type_is_refused_before_any_put() {
    let h = start().await;
    let control = h.control();
    let id = flow(NEW_FLOW_ID);

    let err = h
        .service
        .patch_data_flow(
            &env(),
            &id,
            &json!({"properties": {"source": {"run_type": "predefined_report"}}}),
        )
        .await
        .expect_err("run_type is fixed at creation");
    match &err {
        Error::InvalidInput { field, message } => {
            assert_eq!(field, "properties.source.run_type");
            assert!(message.contains("multi_tables"), "{message}");
            assert!(message.contains("predefined_report"), "{message}");
            assert!(message.contains("delete the data flow"), "{message}");
        }
        other => panic!("expected invalid input, got {other:?}"),
    }

    let err = h
        .service
        .patch_data_flow(&env(), &id, &json!({"type": "logic"}))
        .await
        .expect_err("type is fixed at creation");
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "type"),
        "{err:?}"
    );

    let mut body = stored(&h.service, NEW_FLOW_ID).await.to_document();
    body.insert("type".to_owned(), json!("actions"));
    let err = h
        .service
        .update_data_flow(&env(), &id, body)
        .await
        .expect_err("a full replace may not change type either");
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "type"),
        "{err:?}"
    );

    assert_eq!(control.request_count("PUT", &flow_path(NEW_FLOW_ID)), 0);
    let after = stored(&h.service, NEW_FLOW_ID).await;
    assert_eq!(after.flow_type, "source_to_target");
    assert_eq!(after.properties["source"]["run_type"], "multi_tables");
}

#[tokio::test]
async fn server_managed_fields_are_stripped_so_the_strict_sandbox_accepts_the_put() {
    let h = start().await;
    let control = h.control();
    let id = flow(NEW_FLOW_ID);
    let read = stored(&h.service, NEW_FLOW_ID).await.to_document();
    for key in ["cross_id", "account_id", "environment_name", "group_name"] {
        assert!(read.contains_key(key), "the read shape carries {key}");
    }

    // The read shape as is: the strict sandbox refuses it, as the real API does.
    let err = h
        .backend
        .update_data_flow(&env(), &id, &read)
        .await
        .expect_err("a raw read shape is refused");
    match &err {
        Error::Validation { status, detail, .. } => {
            assert_eq!(status, &422);
            assert!(
                detail.iter().any(|d| d.kind == "extra_forbidden"),
                "{detail:?}"
            );
        }
        other => panic!("expected a 422, got {other:?}"),
    }

    // Through the service: an empty patch, then a patch naming forbidden fields.
    h.service
        .patch_data_flow(&env(), &id, &json!({}))
        .await
        .expect("an empty patch saves the flow unchanged");
    h.service
        .patch_data_flow(
            &env(),
            &id,
            &json!({"cross_id": "000000000000000000000000", "group_name": "Elsewhere", "name": "Renamed"}),
        )
        .await
        .expect("forbidden fields are stripped from the write");
    let full = stored(&h.service, NEW_FLOW_ID).await.to_document();
    h.service
        .update_data_flow(&env(), &id, full)
        .await
        .expect("a full read shape passed to update_data_flow is stripped too");

    assert_eq!(control.request_count("PUT", &flow_path(NEW_FLOW_ID)), 4);
    let after = stored(&h.service, NEW_FLOW_ID).await;
    assert_eq!(after.cross_id, NEW_FLOW_ID);
    assert_eq!(after.name, "Renamed");
    assert_eq!(after.extra["group_name"], "Default group");
}

#[tokio::test]
async fn a_patch_that_is_not_an_object_is_refused_before_any_request() {
    let h = start().await;
    let control = h.control();
    let err = h
        .service
        .patch_data_flow(&env(), &flow(NEW_FLOW_ID), &json!(["name", "x"]))
        .await
        .expect_err("a list is not a patch");
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "patch"),
        "{err:?}"
    );
    assert_eq!(control.request_count("*", &flow_path(NEW_FLOW_ID)), 0);
}
