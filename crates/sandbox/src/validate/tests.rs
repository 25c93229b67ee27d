//! Unit tests for the data-flow write validation and enrichment.

use serde_json::{Map, Value, json};

use super::river_write;

fn body(v: Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}

fn minimal() -> Value {
    json!({
        "name": "n", "type": "source_to_target", "metadata": {}, "settings": {},
        "properties": {"properties_type": "source_to_target", "source": {"name": "mysql"}, "target": {"name": "snowflake"},
            "schemas": [{"name": "s", "tables": [{"run_type_and_datasource": "multi_tables", "details": {"name": "t"}}]}]},
    })
}

#[test]
fn enrichment_fills_server_defaults_but_keeps_the_raw_properties() {
    let w = river_write(&body(minimal()), true).expect("valid");
    let details = &w.properties["schemas"][0]["tables"][0]["details"];
    assert_eq!(
        details["is_selected"], false,
        "is_selected defaults to false"
    );
    assert_eq!(details["target_table"], "t");
    assert_eq!(w.properties["source"]["run_type"], "multi_tables");
    assert!(w.raw_properties["source"].get("run_type").is_none());
    assert_eq!(w.kind, "main_river");
    assert!(
        w.schedulers.is_none(),
        "an omitted schedulers key stays omitted"
    );
    assert_eq!(w.settings["notification"]["failure"]["is_enabled"], false);
}

#[test]
fn the_properties_discriminator_is_required_and_checked() {
    let mut v = minimal();
    v["properties"]
        .as_object_mut()
        .expect("object")
        .remove("properties_type");
    let Err(crate::error::ApiError::Validation(items)) = river_write(&body(v), true) else {
        panic!("expected a 422");
    };
    assert_eq!(items[0]["type"], "union_tag_not_found");
    let mut v = minimal();
    v["properties"]["properties_type"] = json!("magic");
    let Err(crate::error::ApiError::Validation(items)) = river_write(&body(v), true) else {
        panic!("expected a 422");
    };
    assert_eq!(items[0]["type"], "union_tag_invalid");
}

#[test]
fn incremental_settings_need_the_incremental_method() {
    let mut v = minimal();
    v["properties"]["schemas"][0]["tables"][0]["details"] =
        json!({"name": "t", "extract_method": "all", "incremental_field": "updated_at"});
    assert!(river_write(&body(v), true).is_err());
    let mut v = minimal();
    v["properties"]["schemas"][0]["tables"][0]["details"] =
        json!({"name": "t", "extract_method": "incremental", "date_range": {}, "epoch": {}});
    assert!(river_write(&body(v), true).is_err());
}

#[test]
fn logic_flows_need_at_least_one_step_and_get_step_ids() {
    let mut v = minimal();
    v["type"] = json!("logic");
    v["properties"] = json!({"properties_type": "logic", "logic_steps": []});
    assert!(river_write(&body(v.clone()), true).is_err());
    v["properties"]["logic_steps"] = json!([{"step_name": "a"}]);
    let w = river_write(&body(v), true).expect("valid");
    assert_eq!(
        w.properties["logic_steps"][0]["step_id"]
            .as_str()
            .map(str::len),
        Some(24)
    );
}
