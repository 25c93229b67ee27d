//! Unit tests of cleaning, parsing and diffing documents.

use serde_json::json;

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn clean_drops_server_fields_and_nulls() {
    let doc = obj(json!({
        "cross_id": "5f", "account_id": "a", "environment_id": "e", "environment_name": "Prod",
        "group_name": "g", "group_id": "gid", "is_api_v2": true,
        "properties": {"source": {"name": "postgres", "connection_id": null}, "additional_target_settings": {}},
        "metadata": {"description": "d", "river_status": "active", "created_at": "t", "created_by": "u",
                     "last_updated_at": "t", "last_updated_by": "u", "current_version_id": "v", "is_deleted": false},
        "name": "orders", "type": "source_to_target", "schedulers": [], "settings": null,
    }));
    insta::assert_json_snapshot!(clean(&doc), @r#"
    {
      "name": "orders",
      "type": "source_to_target",
      "group_id": "gid",
      "metadata": {
        "description": "d"
      },
      "properties": {
        "source": {
          "name": "postgres"
        }
      },
      "schedulers": []
    }
    "#);
    assert_eq!(document_id(&doc).as_deref(), Some("5f"));
    assert_eq!(document_id(&clean(&doc)), None);
}

#[test]
fn diff_lists_changed_paths() {
    let a = json!({"name": "a", "metadata": {"description": "old"}, "schedulers": [], "properties": {"schemas": [{"name": "s", "tables": [1]}]}, "gone": 1});
    let b = json!({"name": "a", "metadata": {"description": "new"}, "schedulers": [{"cron_expression": "0 * * * *"}], "properties": {"schemas": [{"name": "t", "tables": [1]}]}, "extra": true});
    let lines: Vec<String> = diff(&a, &b).iter().map(Change::line).collect();
    insta::assert_snapshot!(lines.join("\n"), @r#"
    ~ metadata.description: "old" -> "new"
    ~ schedulers: [] -> [{"cron_expression":"0 * * * *"}]
    ~ properties.schemas[0].name: "s" -> "t"
    - gone: 1
    + extra: true
    "#);
    assert!(diff(&a, &a).is_empty());
}

#[test]
fn documents_parse_from_json_and_yaml() {
    assert_eq!(
        parse_document("name: x\ntype: logic\n", false, "f").unwrap(),
        obj(json!({"name": "x", "type": "logic"}))
    );
    assert_eq!(
        parse_document(r#"{"name": "x"}"#, false, "f").unwrap(),
        obj(json!({"name": "x"}))
    );
    assert_eq!(
        parse_document("[1]", true, "f.json").unwrap_err(),
        "f.json must hold an object, not a list"
    );
    assert!(
        parse_document("{", true, "f.json")
            .unwrap_err()
            .starts_with("f.json is not valid JSON")
    );
}
